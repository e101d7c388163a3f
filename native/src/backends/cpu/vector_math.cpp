// Runtime ISA dispatch for the vector kernels: vector_math_kernels.inc is compiled once per target
// (generic, avx2+fma, avx512f under `#pragma GCC target` on x86-64; generic and neon on aarch64),
// and the best table the CPU supports is chosen on first use. See vector_math.h.
#include "backends/cpu/vector_math.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "core/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ADJ_VM_X86 1
#else
#define ADJ_VM_X86 0
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#include <sys/auxv.h>
#define ADJ_VM_NEON 1
#else
#define ADJ_VM_NEON 0
#endif

#define ADJ_VM_INLINE inline __attribute__((always_inline))

namespace adjoint::cpu::vm {

namespace generic {
#define ADJ_VM_BYTES 16
#define ADJ_VM_ISA 0
#define ADJ_VM_NAME "generic"
#include "backends/cpu/vector_math_kernels.inc"
#undef ADJ_VM_BYTES
#undef ADJ_VM_ISA
#undef ADJ_VM_NAME
}  // namespace generic

#if ADJ_VM_X86
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#define ADJ_VM_BYTES 32
#define ADJ_VM_ISA 1
#define ADJ_VM_NAME "avx2"
#include "backends/cpu/vector_math_kernels.inc"
#undef ADJ_VM_BYTES
#undef ADJ_VM_ISA
#undef ADJ_VM_NAME
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
namespace avx512 {
#define ADJ_VM_BYTES 64
#define ADJ_VM_ISA 2
#define ADJ_VM_NAME "avx512"
#include "backends/cpu/vector_math_kernels.inc"
#undef ADJ_VM_BYTES
#undef ADJ_VM_ISA
#undef ADJ_VM_NAME
}  // namespace avx512
#pragma GCC pop_options
#endif

#if ADJ_VM_NEON
// Advanced SIMD is part of the AArch64 baseline the whole library is compiled for (no target
// pragma needed); this table adds what the generic one leaves to scalar code or libm (see
// vector_math_kernels.inc, ADJ_VM_ISA == 3).
namespace neon {
#define ADJ_VM_BYTES 16
#define ADJ_VM_ISA 3
#define ADJ_VM_NAME "neon"
#include "backends/cpu/vector_math_kernels.inc"
#undef ADJ_VM_BYTES
#undef ADJ_VM_ISA
#undef ADJ_VM_NAME
}  // namespace neon
#endif

namespace {

bool cpu_has(Isa isa) {
  switch (isa) {
    case Isa::Generic: return true;
#if ADJ_VM_X86
    // __builtin_cpu_supports also checks that the OS saves the wider registers (XGETBV).
    case Isa::Avx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::Avx512:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if ADJ_VM_NEON
    // (the kernel reports it; a Linux AArch64 system without it cannot run the library anyway)
    case Isa::Neon: return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#endif
    default: return false;
  }
}

const Kernels* table_of(Isa isa) {
  switch (isa) {
#if ADJ_VM_X86
    case Isa::Avx512: return &avx512::kTable;
    case Isa::Avx2: return &avx2::kTable;
#endif
#if ADJ_VM_NEON
    case Isa::Neon: return &neon::kTable;
#endif
    default: return &generic::kTable;
  }
}

Isa choose() {
  int cap = kNumIsas - 1;
  if (const char* env = std::getenv("ADJOINT_VM_ISA")) {
    for (int i = 0; i < kNumIsas; i++)
      if (std::strcmp(env, table_of(Isa(i))->name) == 0 && cpu_has(Isa(i))) cap = i;
  }
  for (int i = cap; i > 0; i--)
    if (cpu_has(Isa(i))) return Isa(i);
  return Isa::Generic;
}

}  // namespace

bool isa_supported(Isa isa) { return cpu_has(isa); }

const Kernels& kernels(Isa isa) {
  if (!cpu_has(isa)) throw Error(ErrorKind::Internal, "vector_math", "ISA not supported on this CPU");
  return *table_of(isa);
}

Isa active_isa() {
  static const Isa isa = choose();
  return isa;
}

const Kernels& active() {
  static const Kernels* table = table_of(active_isa());
  return *table;
}

}  // namespace adjoint::cpu::vm
