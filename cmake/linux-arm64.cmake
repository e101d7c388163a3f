# CMake toolchain for the linux-arm64 natives: cross-compiled on an x86-64 Debian machine with
# Debian's g++-aarch64-linux-gnu, the C++ tests run under qemu-user (Debian's qemu-user) with the
# cross toolchain's own glibc as the guest's root. build/linux-arm64/setup.sh installs both.
#
#   cmake -S native -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/linux-arm64.cmake -DOPENBLAS_DIR=...
#
# NOTE: the shipped library's baseline on aarch64 is the same as on x86-64 (glibc 2.17, the first
# glibc with aarch64 support, so every versioned symbol of an aarch64 glibc is GLIBC_2.17 or newer;
# native/compat/glibc_baseline.h binds to 2.17 there). The compiler's default target (armv8-a, with
# Advanced SIMD, which the AArch64 Linux ABI requires) is kept: no -march/-mcpu, as on x86-64.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(ADJOINT_CROSS_TRIPLE aarch64-linux-gnu CACHE STRING "target triple of the cross compiler")
set(CMAKE_C_COMPILER ${ADJOINT_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${ADJOINT_CROSS_TRIPLE}-g++)
# the guest root qemu reads ld-linux-aarch64.so.1, libc, libstdc++ from (the cross toolchain's)
set(ADJOINT_CROSS_SYSROOT /usr/${ADJOINT_CROSS_TRIPLE} CACHE PATH "the target's libraries, as qemu's -L")

# add_test() commands run through qemu: ctest works as on the build machine
find_program(ADJOINT_QEMU qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${ADJOINT_QEMU} -L ${ADJOINT_CROSS_SYSROOT})

# NOTE: OpenBLAS 0.3.31's cblas.h declares its half-precision routines with _Float16, which
# aarch64 g++ 12 does not know in C++ (only in C); __fp16 is the same IEEE binary16 storage type
# there. We call no half-precision routine: the definition only lets the header parse.
set(CMAKE_CXX_FLAGS_INIT "-D_Float16=__fp16")

# libraries and headers of the target only from the cross toolchain's root; programs from the host
set(CMAKE_FIND_ROOT_PATH ${ADJOINT_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
