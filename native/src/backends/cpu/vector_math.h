// Vectorised elementwise kernels for contiguous float32/float64 buffers, with runtime ISA dispatch.
//
// The library is built for plain -march=x86-64, so wider vector units are reached here: the kernels
// in vector_math_kernels.inc are written once with GCC vector extensions and compiled three times
// in vector_math.cpp (generic = SSE2 on x86-64 / the baseline elsewhere, avx2+fma, avx512f on
// x86-64; neon on aarch64); the best one the CPU (and OS) supports is picked on first use.
// ADJOINT_VM_ISA=generic|avx2|avx512|neon in the environment caps the choice (for debugging and
// A/B runs; neon ranks above the x86 tables, which an aarch64 CPU never supports, and vice versa).
//
// Semantics match the scalar libm kernels in elementwise.cpp: NaN propagates, ±0/±inf behave as in
// IEEE libm, exp overflows to inf and underflows (through subnormals) to 0, log(0) = -inf,
// log(x<0) = NaN, sigmoid is the stable two-branch form. float32 transcendental results are within
// 2 ulp of the correctly rounded value over the whole domain (tests/test_vector_math.cpp); sin/cos
// reduce |x| <= 1e6 themselves and hand larger lanes to libm. In the generic table, float32
// log/sin/cos and float64 exp/sigmoid are the scalar libm loops (128-bit vectors measured slower on
// SSE2); the neon table, which has fused multiply-add, computes them with the vector kernels too.
//
// Every function takes n >= 0 elements; y may alias x exactly (in-place), not partially.
#pragma once
#include <cstdint>

namespace adjoint::cpu::vm {

// NOTE: the best table is the highest-numbered one the CPU supports (vector_math.cpp, choose()).
enum class Isa : int { Generic = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };
constexpr int kNumIsas = 4;

using UnaryF32 = void (*)(const float* x, float* y, int64_t n);
using UnaryF64 = void (*)(const double* x, double* y, int64_t n);
// o[k] = a[k*sa] op b[k*sb] with sa, sb in {0, 1} (0 broadcasts a scalar), not both 0.
using BinaryF32 = void (*)(const float* a, int64_t sa, const float* b, int64_t sb, float* o, int64_t n);
using BinaryF64 = void (*)(const double* a, int64_t sa, const double* b, int64_t sb, double* o, int64_t n);
// The same over `rows` rows: row r reads a + r*ra, b + r*rb and writes o + r*ro (element strides).
// Short rows (batched Jacobians: 31 floats) would otherwise pay an indirect call each.
using BinaryRowsF32 = void (*)(const float* a, int64_t sa, int64_t ra, const float* b, int64_t sb, int64_t rb, float* o, int64_t ro,
                               int64_t n, int64_t rows);
using BinaryRowsF64 = void (*)(const double* a, int64_t sa, int64_t ra, const double* b, int64_t sb, int64_t rb, double* o,
                               int64_t ro, int64_t n, int64_t rows);

// Sum of n contiguous values, accumulated in double.
using SumF32 = double (*)(const float* x, int64_t n);
using SumF64 = double (*)(const double* x, int64_t n);
// acc[k] += x[k] for n contiguous values, in double.
using AccumulateF32 = void (*)(double* acc, const float* x, int64_t n);
using AccumulateF64 = void (*)(double* acc, const double* x, int64_t n);
// o[k] = start + k for n int64 values.
using IotaI64 = void (*)(int64_t* o, int64_t start, int64_t n);
// Facts about n contiguous float32 (F32) or float64 values: bit 2 = all finite, bit 4 = all
// finite and nonzero (see all_finite_deep in interp/level.cpp).
using Facts = uint8_t (*)(const void* p, int64_t n);
// Small matrix-vector products, x and y contiguous: "rows" y[j] = sum_p a[j*lda + p] x[p] (a
// row-major [n, k]), "cols" y[j] = sum_p x[p] a[p*lda + j] (a row-major [k, n]); j < n.
using GemvF32 = void (*)(const float* a, int64_t lda, const float* x, float* y, int64_t n, int64_t k);
using GemvF64 = void (*)(const double* a, int64_t lda, const double* x, double* y, int64_t n, int64_t k);

// One ISA's kernels. float64 log/sin/cos have none: elementwise.cpp keeps libm for them.
struct Kernels {
  const char* name;
  UnaryF32 exp_f32, log_f32, sin_f32, cos_f32, tanh_f32, sigmoid_f32;
  UnaryF32 neg_f32, abs_f32, relu_f32, sqrt_f32;
  UnaryF64 exp_f64, tanh_f64, sigmoid_f64;
  UnaryF64 neg_f64, abs_f64, relu_f64, sqrt_f64;
  // relu_backward(g, x): g where x > 0, else 0 (NaN x: 0), relu's derivative in one pass
  BinaryF32 add_f32, sub_f32, mul_f32, div_f32, relu_backward_f32;
  BinaryF64 add_f64, sub_f64, mul_f64, div_f64, relu_backward_f64;
  BinaryRowsF32 add_rows_f32, sub_rows_f32, mul_rows_f32, div_rows_f32, relu_backward_rows_f32;
  BinaryRowsF64 add_rows_f64, sub_rows_f64, mul_rows_f64, div_rows_f64, relu_backward_rows_f64;
  SumF32 sum_f32;
  SumF64 sum_f64;
  AccumulateF32 accumulate_f32;
  AccumulateF64 accumulate_f64;
  IotaI64 iota_i64;
  Facts facts_f32, facts_f64;
  GemvF32 gemv_rows_f32, gemv_cols_f32;
  GemvF64 gemv_rows_f64, gemv_cols_f64;
};

bool isa_supported(Isa isa);       // compiled in and usable on this CPU/OS
const Kernels& kernels(Isa isa);   // a specific ISA's table (tests force targets with this); must be supported
const Kernels& active();           // the table the library uses: the best supported, capped by ADJOINT_VM_ISA
Isa active_isa();

// Convenience entry points through active().
inline void vexp_f32(const float* x, float* y, int64_t n) { active().exp_f32(x, y, n); }
inline void vlog_f32(const float* x, float* y, int64_t n) { active().log_f32(x, y, n); }
inline void vsin_f32(const float* x, float* y, int64_t n) { active().sin_f32(x, y, n); }
inline void vcos_f32(const float* x, float* y, int64_t n) { active().cos_f32(x, y, n); }
inline void vtanh_f32(const float* x, float* y, int64_t n) { active().tanh_f32(x, y, n); }
inline void vsigmoid_f32(const float* x, float* y, int64_t n) { active().sigmoid_f32(x, y, n); }
inline void vexp_f64(const double* x, double* y, int64_t n) { active().exp_f64(x, y, n); }
inline void vtanh_f64(const double* x, double* y, int64_t n) { active().tanh_f64(x, y, n); }
inline void vsigmoid_f64(const double* x, double* y, int64_t n) { active().sigmoid_f64(x, y, n); }

}  // namespace adjoint::cpu::vm
