// Force-included (-include) into every translation unit of the shipped JNI library: the core and
// the JavaCPP glue. Binds our own calls to glibc functions to their oldest symbol versions.
//
// NOTE: the glibc baseline of the shipped library is 2.17 (manylinux2014, bytedeco's presets,
// RHEL 7); tests check it (ElfBaselineTest reads the shipped .so). glibc keeps every old version of
// a symbol whose ABI or semantics changed as a compatibility symbol, and a reference bound to that
// old version loads on every glibc since. The symbols below have a newer default version on the
// build machine (Debian 12, glibc 2.36) than 2.17:
//   - exp, log, pow, log2 (GLIBC_2.29): the new versions only dropped the SVID error handling (matherr,
//     _LIB_VERSION); the old ones are the same code behind a check of the result, and as fast
//     (1-2 % either way in a loop of calls; README "Packaging").
//   - expf, logf, powf, log2f (GLIBC_2.27): here the old versions are the pre-2.27 wrappers without
//     the FMA paths, 15-80 % slower per call (expf 1.73 -> 3.18 ns). Bound instead to
//     __expf_finite / __logf_finite / __powf_finite / __log2f_finite (GLIBC_2.15; aarch64 2.17), the entry points
//     without errno handling that every glibc since 2.15 keeps: since 2.27 they are the very same
//     functions as expf/logf/powf (same address in libm), before that the IEEE cores behind the
//     old wrappers. The values are identical; only errno is not set, which -fno-math-errno code
//     never reads.
//   - dlopen, dlsym, dlerror, dlclose, dladdr (GLIBC_2.34, when libdl moved into libc; the JavaCPP
//     glue calls them): the library also lists libdl.so.2 as NEEDED, where glibc < 2.34 defines
//     them (the dynamic loader matches a symbol by version name, not by file).
//   - pthread_key_create, pthread_getspecific, pthread_setspecific, pthread_mutex_trylock
//     (GLIBC_2.34, when libpthread moved into libc; the glue's callbacks and std::mutex::try_lock
//     call them): likewise, with libpthread.so.0 NEEDED. (pthread_once is glibc_shims.cpp's: it
//     defines that name, which a directive here would turn into a versioned definition.)
// Symbols that the static libstdc++ and libgcc pull in are bound in glibc_shims.cpp instead (their
// objects are compiled already, so a directive here cannot reach them).
// Every other glibc symbol we use has had its version since 2.17 or earlier; a new one that does
// not fails ElfBaselineTest, which names it.
#pragma once
#include <features.h>

#if defined(__GLIBC__) && defined(__linux__)
#if defined(__x86_64__)
#define ADJOINT_GLIBC_BASE "GLIBC_2.2.5"     // x86-64's first glibc version
#define ADJOINT_GLIBC_FINITE "GLIBC_2.15"   // the __*_finite math entry points
#elif defined(__aarch64__)
#define ADJOINT_GLIBC_BASE "GLIBC_2.17"      // aarch64's first glibc version
#define ADJOINT_GLIBC_FINITE "GLIBC_2.17"
#endif
#endif

#ifdef ADJOINT_GLIBC_BASE
#define ADJOINT_GLIBC_OLD_VERSION(name) __asm__(".symver " #name "," #name "@" ADJOINT_GLIBC_BASE);
ADJOINT_GLIBC_OLD_VERSION(exp)
ADJOINT_GLIBC_OLD_VERSION(log)
ADJOINT_GLIBC_OLD_VERSION(pow)
ADJOINT_GLIBC_OLD_VERSION(log2)
ADJOINT_GLIBC_OLD_VERSION(dlopen)
ADJOINT_GLIBC_OLD_VERSION(dlsym)
ADJOINT_GLIBC_OLD_VERSION(dlerror)
ADJOINT_GLIBC_OLD_VERSION(dlclose)
ADJOINT_GLIBC_OLD_VERSION(dladdr)
ADJOINT_GLIBC_OLD_VERSION(pthread_key_create)
ADJOINT_GLIBC_OLD_VERSION(pthread_getspecific)
ADJOINT_GLIBC_OLD_VERSION(pthread_setspecific)
ADJOINT_GLIBC_OLD_VERSION(pthread_mutex_trylock)
#define ADJOINT_GLIBC_FINITE_VERSION(name) __asm__(".symver " #name ",__" #name "_finite@" ADJOINT_GLIBC_FINITE);
ADJOINT_GLIBC_FINITE_VERSION(expf)
ADJOINT_GLIBC_FINITE_VERSION(logf)
ADJOINT_GLIBC_FINITE_VERSION(powf)
ADJOINT_GLIBC_FINITE_VERSION(log2f)
#undef ADJOINT_GLIBC_OLD_VERSION
#undef ADJOINT_GLIBC_FINITE_VERSION
#endif
