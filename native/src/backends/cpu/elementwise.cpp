// CPU elementwise kernels: the strided loops, and at the end each op's kernel (backends/kernels.h)
// as one line of scalar math plus its vectorised float32/float64 kernels from vector_math.h.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/select_bits.h"
#include "backends/cpu/stream_store.h"
#include "backends/cpu/strided_loop.h"
#include "backends/cpu/vector_math.h"
#include "core/error.h"

namespace adjoint::cpu {
namespace {

template <class T> using VecUnary = void (*)(const T*, T*, int64_t);
// The rows form of the vectorised binary kernel (see vm::BinaryRowsF32).
template <class T> using VecBinaryRows = void (*)(const T*, int64_t, int64_t, const T*, int64_t, int64_t, T*, int64_t, int64_t, int64_t);

template <class T, class Fn>
void unary_loop(const Tensor& x, const Tensor& out, Fn fn, VecUnary<T> vec) {
  Loop<2> loop(out.shape(), {&out, &x}, true);
  loop.run([&](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) __attribute__((always_inline)) {  // as binary_loop's
    T* o = reinterpret_cast<T*>(p[0]);
    const char* in = p[1];
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
      const T* i = reinterpret_cast<const T*>(in);
      if (vec) {
        vec(i, o, n);
        return;
      }
      for (int64_t k = 0; k < n; k++) o[k] = fn(i[k]);
    } else {
      for (int64_t k = 0; k < n; k++)
        *reinterpret_cast<T*>(p[0] + k * s[0]) = fn(*reinterpret_cast<const T*>(in + k * s[1]));
    }
  });
}

// Integer powers as torch computes them (aten's powi): exact, by squaring, wrapping around on
// overflow like its multiplication; a negative exponent gives 1 / x^-y truncated (0, or +-1 for a
// base of +-1). bool never gets here (the op layer refuses bool pow).
template <class T>
T power(T x, T y) {
  if constexpr (std::is_floating_point<T>::value) {
    return std::pow(x, y);
  } else {
    using U = std::make_unsigned_t<T>;  // wrapping multiplication without signed overflow
    if (y < 0) return x == 1 ? T(1) : x == T(-1) ? T((y & 1) ? -1 : 1) : T(0);
    U r = 1, b = U(x);
    for (U e = U(y); e; e >>= 1) {
      if (e & 1) r *= b;
      b *= b;
    }
    return T(r);
  }
}

// bool (uint8_t 0/1) + and * are logical or / and, as in torch (a sum of two trues stays 1).
template <class T>
T plus(T x, T y) {
  if constexpr (std::is_same<T, uint8_t>::value) return T(x | y);
  else return T(x + y);
}
template <class T>
T times(T x, T y) {
  if constexpr (std::is_same<T, uint8_t>::value) return T(x & y);
  else return T(x * y);
}

// fmod (C's, the sign of x) and remainder (Python's, the sign of y), as torch computes them.
// Integer division by zero has no value: an error, like torch's "ZeroDivisionError".
template <class T>
T check_divisor(T y, const char* op) {
  if constexpr (std::is_integral<T>::value)
    if (y == 0) throw Error(ErrorKind::Argument, op, "integer division by zero (ZeroDivisionError in torch)");
  return y;
}
// NOTE: x % -1 is 0 for every x, but INT64_MIN % -1 traps (SIGFPE: the quotient overflows) on
// x86-64, which would kill the JVM (torch 1.13 dies the same way); -1 never reaches `%`.
template <class T>
T int_mod(T x, T y, const char* op) {
  if constexpr (std::is_signed<T>::value)
    if (y == T(-1)) return T(0);
  return T(x % check_divisor(y, op));
}
template <class T>
T fmod_of(T x, T y) {
  if constexpr (std::is_floating_point<T>::value) return std::fmod(x, y);
  else return int_mod(x, y, "fmod");
}
template <class T>
T remainder_of(T x, T y) {
  if constexpr (std::is_floating_point<T>::value) {
    T m = std::fmod(x, y);
    return (m != 0 && (y < 0) != (m < 0)) ? m + y : m;
  } else {
    T m = int_mod(x, y, "remainder");
    return (m != 0 && (y < 0) != (m < 0)) ? T(m + y) : m;
  }
}

// floor, ceil, round, trunc: integers are their own (not through a double, which would round
// values beyond 2^53).
template <class T, class F>
T float_only(T x, F f) {
  if constexpr (std::is_floating_point<T>::value) return f(x);
  else return x;
}

// maximum/minimum propagate NaN and otherwise are std::max/std::min, like torch (a tie of -0.0
// and 0.0 gives the first operand).
template <class T>
T max_of(T x, T y) { return x != x ? x : (y != y ? y : (x < y ? y : x)); }
template <class T>
T min_of(T x, T y) { return x != x ? x : (y != y ? y : (y < x ? y : x)); }

// The vector kernel into an L1 staging block, streamed out (see stream_store.h). Not inlined: its
// staging buffer would otherwise enlarge the frame of every small inner-loop call.
template <class T>
[[gnu::noinline]] void binary_streamed(VecBinaryRows<T> vec, const T* x, int64_t sa, const T* y, int64_t sb, T* o, int64_t n) {
  constexpr int64_t kBlock = kStreamBlockBytes / int64_t(sizeof(T));
  alignas(64) T buf[kBlock];
  for (int64_t k = 0; k < n; k += kBlock) {
    const int64_t m = std::min(kBlock, n - k);
    vec(x + k * sa, sa, 0, y + k * sb, sb, 0, buf, 0, m, 1);
    stream_copy(o + k, buf, size_t(m) * sizeof(T));
  }
}

// `rows` rows of n (row r reads x + r*rx, y + r*ry and writes o + r*ro). When the output rows are
// back to back (ro == n) and short, whole blocks of rows go through one staging block: streamed row
// by row, rows of 32 floats (jacfwd(jacfwd)'s Hessian, laid out with the output dim innermost) cost
// a call, a partial-line head and tail each, and ran at a third of the memory speed.
template <class T>
[[gnu::noinline]] void binary_streamed_rows(VecBinaryRows<T> vec, const T* x, int64_t sa, int64_t rx, const T* y, int64_t sb,
                                            int64_t ry, T* o, int64_t ro, int64_t n, int64_t rows) {
  constexpr int64_t kBlock = kStreamBlockBytes / int64_t(sizeof(T));
  if (ro != n || n > kBlock / 2) {
    for (int64_t r = 0; r < rows; r++) binary_streamed(vec, x + r * rx, sa, y + r * ry, sb, o + r * ro, n);
    return;
  }
  alignas(64) T buf[kBlock];
  const int64_t per = kBlock / n;
  for (int64_t r = 0; r < rows; r += per) {
    const int64_t k = std::min(per, rows - r);
    vec(x + r * rx, sa, rx, y + r * ry, sb, ry, buf, n, n, k);
    stream_copy(o + r * ro, buf, size_t(k * n) * sizeof(T));
  }
}

// Integer division never gets here: true division of integers is promoted to a float dtype first.

template <class T, class O, class Fn>
void binary_loop(const Tensor& a, const Tensor& b, const Tensor& out, Fn fn, VecBinaryRows<T> vec = nullptr) {
  Loop<3> loop(out.shape(), {&out, &a, &b}, true);
  const int64_t out_bytes = out.numel() * int64_t(sizeof(O));
  const bool stream = out_bytes >= stream_threshold_bytes();
  // Rows that start at or past this byte offset of out are the cached tail (stream_store.h).
  const int64_t tail_from = out_bytes - std::min(out_bytes, stream_cached_tail_bytes());
  const char* out_base = static_cast<const char*>(out.raw_data());
  // NOTE: always inlined: run_rows calls it from several places, and with many kernels in this file
  // GCC's unit-growth limit stopped inlining it, an out-of-line call per run of rows (+1.3% of the
  // instructions of W5's vmap(jacrev), measured with callgrind).
  loop.run_rows([&](std::array<char*, 3> p, std::array<int64_t, 3> s, int64_t n, int64_t rows, std::array<int64_t, 3> rs)
                    __attribute__((always_inline)) {
    if constexpr (std::is_same<T, O>::value) {
      // Contiguous output rows; each input contiguous (stride 1) or a broadcast scalar (stride 0).
      const int64_t sa = s[1] == sizeof(T) ? 1 : (s[1] == 0 ? 0 : -1);
      const int64_t sb = s[2] == sizeof(T) ? 1 : (s[2] == 0 ? 0 : -1);
      if (vec && s[0] == sizeof(O) && sa >= 0 && sb >= 0 && (sa | sb)) {
        constexpr int64_t e = sizeof(T);  // byte strides of T tensors are whole elements
        int64_t streamed = 0;  // leading rows that go out with streaming stores
        if (stream && rs[0] > 0) {
          const int64_t off = p[0] - out_base;
          streamed = off >= tail_from ? 0 : std::min(rows, (tail_from - off + rs[0] - 1) / rs[0]);
        } else if (stream) {
          streamed = rows;
        }
        if (streamed > 0)
          binary_streamed_rows(vec, reinterpret_cast<const T*>(p[1]), sa, rs[1] / e, reinterpret_cast<const T*>(p[2]), sb, rs[2] / e,
                               reinterpret_cast<T*>(p[0]), rs[0] / e, n, streamed);
        if (streamed < rows)  // the rest with ordinary stores
          vec(reinterpret_cast<const T*>(p[1] + streamed * rs[1]), sa, rs[1] / e, reinterpret_cast<const T*>(p[2] + streamed * rs[2]),
              sb, rs[2] / e, reinterpret_cast<T*>(p[0] + streamed * rs[0]), rs[0] / e, n, rows - streamed);
        return;
      }
    }
    for (int64_t r = 0; r < rows; r++) {
      char* po = p[0] + r * rs[0];
      const char* pa = p[1] + r * rs[1];
      const char* pb = p[2] + r * rs[2];
      if (s[0] == sizeof(O) && s[1] == sizeof(T) && s[2] == sizeof(T)) {
        O* o = reinterpret_cast<O*>(po);
        const T* x = reinterpret_cast<const T*>(pa);
        const T* y = reinterpret_cast<const T*>(pb);
        for (int64_t k = 0; k < n; k++) o[k] = fn(x[k], y[k]);
      } else if (s[0] == sizeof(O) && s[1] == sizeof(T) && s[2] == 0) {
        O* o = reinterpret_cast<O*>(po);
        const T* x = reinterpret_cast<const T*>(pa);
        const T y = *reinterpret_cast<const T*>(pb);
        for (int64_t k = 0; k < n; k++) o[k] = fn(x[k], y);
      } else {
        for (int64_t k = 0; k < n; k++)
          *reinterpret_cast<O*>(po + k * s[0]) = fn(*reinterpret_cast<const T*>(pa + k * s[1]), *reinterpret_cast<const T*>(pb + k * s[2]));
      }
    }
  });
  if (stream) stream_fence();
}


// The vectorised kernel of vm::active() at member F32 or F64 for T (a null member: none, the
// scalar loop runs). float64 log/sin/cos have none: libm.
template <class T, class V32, class V64>
auto vector_kernel(V32 vm::Kernels::*f32, V64 vm::Kernels::*f64) {
  using R = std::conditional_t<std::is_same<T, double>::value, V64, V32>;
  if constexpr (std::is_same<T, float>::value) return f32 ? vm::active().*f32 : R(nullptr);
  else if constexpr (std::is_same<T, double>::value) return f64 ? vm::active().*f64 : R(nullptr);
  else return R(nullptr);
}

// NOTE: the kernels ops name (backends/kernels.h) are these templates instantiated per op's math
// (a struct with `template <class T> static R apply(T...)`), so the inner loops carry no
// per-element switch and the backend no per-op one.
template <class Math, vm::UnaryF32 vm::Kernels::*F32, vm::UnaryF64 vm::Kernels::*F64>
void unary_cpu(const Tensor& x, const Tensor& out) {
  visit_dtype(x.dtype(), [&](auto t) {
    using T = decltype(t);
    VecUnary<T> vec = nullptr;
    if constexpr (std::is_floating_point<T>::value) vec = vector_kernel<T>(F32, F64);
    unary_loop<T>(x, out, [](T v) { return T(Math::apply(v)); }, vec);
  });
}

template <class Math, vm::BinaryRowsF32 vm::Kernels::*F32, vm::BinaryRowsF64 vm::Kernels::*F64>
void binary_cpu(const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(a.dtype(), [&](auto t) {
    using T = decltype(t);
    VecBinaryRows<T> vec = nullptr;
    if constexpr (std::is_floating_point<T>::value) vec = vector_kernel<T>(F32, F64);
    binary_loop<T, T>(a, b, out, [](T x, T y) { return T(Math::apply(x, y)); }, vec);
  });
}

// Predicates (isnan, logical_not): T input, bool (uint8_t) output.
template <class Math>
void predicate_cpu(const Tensor& x, const Tensor& out) {
  visit_dtype(x.dtype(), [&](auto t) {
    using T = decltype(t);
    Loop<2> loop(out.shape(), {&out, &x}, true);
    loop.run([&](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
      for (int64_t k = 0; k < n; k++) *reinterpret_cast<uint8_t*>(p[0] + k * s[0]) = uint8_t(Math::apply(*reinterpret_cast<const T*>(p[1] + k * s[1])));
    });
  });
}

// Comparisons: T inputs, bool (uint8_t) output.
template <class Math>
void compare_cpu(const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(a.dtype(), [&](auto t) {
    using T = decltype(t);
    binary_loop<T, uint8_t>(a, b, out, [](T x, T y) { return uint8_t(Math::apply(x, y)); });
  });
}

}  // namespace

void CpuBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  visit_dtype(out.dtype(), [&](auto t) {
    using T = decltype(t);
    Loop<4> loop(out.shape(), {&out, &cond, &a, &b}, true);
    // NOTE: both values are loaded before the choice, so that the select compiles without a
    // branch: a condition such as relu's x > 0 is a coin flip per element, and a branch on it
    // mispredicted half the time (a quarter of a per-sample CNN gradient's time went there).
    loop.run([&](std::array<char*, 4> p, std::array<int64_t, 4> s, int64_t n) {
      constexpr int64_t es = sizeof(T);
      if (s[0] == es && s[1] == 1 && (s[2] == es || s[2] == 0) && (s[3] == es || s[3] == 0)) {
        T* o = reinterpret_cast<T*>(p[0]);
        const uint8_t* c = reinterpret_cast<const uint8_t*>(p[1]);
        const T *a = reinterpret_cast<const T*>(p[2]), *b = reinterpret_cast<const T*>(p[3]);
        // NOTE: one loop per stride pair (1: a tensor, 0: a broadcast value such as relu's 0), so
        // that each has constant strides and vectorises; a runtime stride kept it scalar.
        auto run = [&](auto sa, auto sb) {
          for (int64_t k = 0; k < n; k++) o[k] = select_bits(c[k] != 0, a[k * sa], b[k * sb]);
        };
        using One = std::integral_constant<int64_t, 1>;
        using Zero = std::integral_constant<int64_t, 0>;
        if (s[2] == es) s[3] == es ? run(One{}, One{}) : run(One{}, Zero{});
        else s[3] == es ? run(Zero{}, One{}) : run(Zero{}, Zero{});
        return;
      }
      for (int64_t k = 0; k < n; k++)
        *reinterpret_cast<T*>(p[0] + k * s[0]) = select_bits(*reinterpret_cast<const uint8_t*>(p[1] + k * s[1]) != 0,
                                                             *reinterpret_cast<const T*>(p[2] + k * s[2]),
                                                             *reinterpret_cast<const T*>(p[3] + k * s[3]));
    });
  });
}

namespace {

// A copy whose source is a transposed view (unit stride on the outer loop dim, dst unit stride
// on the inner one): walked in square tiles so both sides stay in cache. Returns false if the
// layout is not that.
template <class T>
bool transposed_copy(const Loop<2>& loop) {
  const int nd = loop.ndim;
  if (nd < 2 || nd > 3 || loop.empty) return false;
  const int64_t es = sizeof(T);
  const int r = nd - 2, c = nd - 1;  // rows, cols of the tiles
  if (loop.strides[0][c] != es || loop.strides[1][r] != es || loop.strides[1][c] == es) return false;
  const int64_t rows = loop.shape[r], cols = loop.shape[c], outer = nd == 3 ? loop.shape[0] : 1;
  const int64_t dr = loop.strides[0][r], sc = loop.strides[1][c];
  constexpr int64_t kTile = 32;
  for (int64_t o = 0; o < outer; o++) {
    char* d0 = loop.base[0] + (nd == 3 ? o * loop.strides[0][0] : 0);
    const char* s0 = loop.base[1] + (nd == 3 ? o * loop.strides[1][0] : 0);
    for (int64_t i0 = 0; i0 < rows; i0 += kTile)
      for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
        const int64_t i1 = std::min(rows, i0 + kTile), j1 = std::min(cols, j0 + kTile);
        for (int64_t i = i0; i < i1; i++) {
          T* d = reinterpret_cast<T*>(d0 + i * dr);
          const char* sr = s0 + i * es;
          for (int64_t j = j0; j < j1; j++) d[j] = *reinterpret_cast<const T*>(sr + j * sc);
        }
      }
  }
  return true;
}

}  // namespace

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  visit_dtype(dst.dtype(), [&](auto to) {
    using O = decltype(to);
    visit_dtype(src.dtype(), [&](auto from) {
      using I = decltype(from);
      Loop<2> loop(dst.shape(), {&dst, &src}, true);
      if constexpr (std::is_same<I, O>::value) {
        if (transposed_copy<O>(loop)) return;
      }
      loop.run([&](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
        constexpr bool same = std::is_same<I, O>::value;
        if (same && s[0] == int64_t(sizeof(O)) && s[1] == int64_t(sizeof(I))) {
          std::memcpy(p[0], p[1], size_t(n) * sizeof(O));  // unit-stride runs: cat, stack, gathers
          return;
        }
        if (s[0] == int64_t(sizeof(O)) && s[1] == int64_t(sizeof(I))) {
          O* o = reinterpret_cast<O*>(p[0]);
          const I* x = reinterpret_cast<const I*>(p[1]);
          for (int64_t k = 0; k < n; k++) o[k] = std::is_same<O, uint8_t>::value ? O(x[k] != I(0)) : O(x[k]);
          return;
        }
        for (int64_t k = 0; k < n; k++) {
          I v = *reinterpret_cast<const I*>(p[1] + k * s[1]);
          // bool is 0/1 whatever the source value was
          *reinterpret_cast<O*>(p[0] + k * s[0]) = std::is_same<O, uint8_t>::value ? O(v != I(0)) : O(v);
        }
      });
    });
  });
}

void CpuBackend::fill(const Tensor& dst, double value) {
  visit_dtype(dst.dtype(), [&](auto t) {
    using T = decltype(t);
    const T v = std::is_same<T, uint8_t>::value ? T(value != 0) : T(value);
    if (dst.is_contiguous()) {
      T* p = dst.data<T>();
      const int64_t n = dst.numel();
      if (value == 0 && !std::signbit(value)) std::memset(static_cast<void*>(p), 0, size_t(n) * sizeof(T));  // +0 is all zero bits
      else std::fill_n(p, n, v);
      return;
    }
    Loop<1> loop(dst.shape(), {&dst}, true);
    loop.run([&](std::array<char*, 1> p, std::array<int64_t, 1> s, int64_t n) {
      for (int64_t k = 0; k < n; k++) *reinterpret_cast<T*>(p[0] + k * s[0]) = v;
    });
  });
}

void CpuBackend::arange(const Tensor& out, double start, double step) {
  visit_dtype(out.dtype(), [&](auto t) {
    using T = decltype(t);
    T* o = out.data<T>();
    const int64_t n = out.numel();
    // start + i*step in double, like PyTorch, so long ranges do not drift. Integer ranges with
    // integral ends (index positions) are exact in integer arithmetic, which vectorises.
    if constexpr (std::is_integral_v<T>) {
      if (start == double(int64_t(start)) && step == double(int64_t(step)) && std::abs(start) < 0x1p53 &&
          std::abs(start + double(n) * step) < 0x1p53) {
        const int64_t s0 = int64_t(start), st = int64_t(step);
        if constexpr (std::is_same_v<T, int64_t>) {
          if (st == 1) return vm::active().iota_i64(o, s0, n);
        }
        if (st == 1)
          for (int64_t i = 0; i < n; i++) o[i] = T(s0 + i);  // no 64-bit vector multiply in SSE2
        else
          for (int64_t i = 0; i < n; i++) o[i] = T(s0 + i * st);
        return;
      }
    }
    for (int64_t i = 0; i < n; i++) o[i] = T(start + double(i) * step);
  });
}

}  // namespace adjoint::cpu

// Each op's kernel: its scalar math, once for every dtype, and its vectorised float32/float64
// kernels (vector_math.h; same semantics, runtime-dispatched to the widest ISA the CPU has).
namespace adjoint::kernels {
#define ADJ_UNARY_KERNEL_(name, f32, f64, expr)                    \
  namespace math {                                                 \
  struct name { template <class T> static T apply(T x) { return T(expr); } }; \
  }                                                                \
  const UnaryKernel name{cpu::unary_cpu<math::name, f32, f64>};
#define ADJ_BINARY_KERNEL_(name, f32, f64, expr)                   \
  namespace math {                                                 \
  struct name { template <class T> static T apply(T x, T y) { return T(expr); } }; \
  }                                                                \
  const BinaryKernel name{cpu::binary_cpu<math::name, f32, f64>};
#define ADJ_PREDICATE_KERNEL_(name, expr)                          \
  namespace math {                                                 \
  struct name { template <class T> static bool apply(T x) { return expr; } }; \
  }                                                                \
  const UnaryKernel name{cpu::predicate_cpu<math::name>};
#define ADJ_COMPARE_KERNEL_(name, expr)                            \
  namespace math {                                                 \
  struct name { template <class T> static bool apply(T x, T y) { return expr; } }; \
  }                                                                \
  const BinaryKernel name{cpu::compare_cpu<math::name>};

using V = cpu::vm::Kernels;
constexpr std::nullptr_t none = nullptr;

ADJ_UNARY_KERNEL_(neg, &V::neg_f32, &V::neg_f64, -x)
ADJ_UNARY_KERNEL_(exp, &V::exp_f32, &V::exp_f64, std::exp(x))
ADJ_UNARY_KERNEL_(log, &V::log_f32, none, std::log(x))
ADJ_UNARY_KERNEL_(sin, &V::sin_f32, none, std::sin(x))
ADJ_UNARY_KERNEL_(cos, &V::cos_f32, none, std::cos(x))
ADJ_UNARY_KERNEL_(tanh, &V::tanh_f32, &V::tanh_f64, std::tanh(x))
// stable in both tails: exp never overflows
ADJ_UNARY_KERNEL_(sigmoid, &V::sigmoid_f32, &V::sigmoid_f64, x >= T(0) ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x)))
ADJ_UNARY_KERNEL_(relu, &V::relu_f32, &V::relu_f64, x > T(0) ? x : (x != x ? x : T(0)))  // NaN propagates
ADJ_UNARY_KERNEL_(sqrt, &V::sqrt_f32, &V::sqrt_f64, std::sqrt(x))
ADJ_UNARY_KERNEL_(abs, &V::abs_f32, &V::abs_f64, std::abs(x))  // not x < 0 ? -x : x, which keeps -0.0
ADJ_UNARY_KERNEL_(sign, none, none, x > T(0) ? T(1) : (x < T(0) ? T(-1) : (x != x ? x : T(0))))
ADJ_UNARY_KERNEL_(log1p, none, none, std::log1p(x))
ADJ_UNARY_KERNEL_(expm1, none, none, std::expm1(x))
ADJ_UNARY_KERNEL_(erf, none, none, std::erf(x))
ADJ_UNARY_KERNEL_(erfc, none, none, std::erfc(x))
ADJ_UNARY_KERNEL_(tan, none, none, std::tan(x))
ADJ_UNARY_KERNEL_(asin, none, none, std::asin(x))
ADJ_UNARY_KERNEL_(acos, none, none, std::acos(x))
ADJ_UNARY_KERNEL_(atan, none, none, std::atan(x))
ADJ_UNARY_KERNEL_(sinh, none, none, std::sinh(x))
ADJ_UNARY_KERNEL_(cosh, none, none, std::cosh(x))
ADJ_UNARY_KERNEL_(log2, none, none, std::log2(x))
ADJ_UNARY_KERNEL_(log10, none, none, std::log10(x))
ADJ_UNARY_KERNEL_(floor, none, none, cpu::float_only(x, [](auto v) { return std::floor(v); }))
ADJ_UNARY_KERNEL_(ceil, none, none, cpu::float_only(x, [](auto v) { return std::ceil(v); }))
ADJ_UNARY_KERNEL_(round, none, none, cpu::float_only(x, [](auto v) { return std::nearbyint(v); }))  // halves to even, like torch
ADJ_UNARY_KERNEL_(trunc, none, none, cpu::float_only(x, [](auto v) { return std::trunc(v); }))

ADJ_PREDICATE_KERNEL_(isnan, x != x)
ADJ_PREDICATE_KERNEL_(isinf, std::is_floating_point<T>::value && (x == std::numeric_limits<T>::infinity() || x == -std::numeric_limits<T>::infinity()))
ADJ_PREDICATE_KERNEL_(isfinite, x == x && !(std::is_floating_point<T>::value && (x == std::numeric_limits<T>::infinity() || x == -std::numeric_limits<T>::infinity())))
ADJ_PREDICATE_KERNEL_(logical_not, x == T(0))

ADJ_BINARY_KERNEL_(add, &V::add_rows_f32, &V::add_rows_f64, cpu::plus(x, y))
ADJ_BINARY_KERNEL_(sub, &V::sub_rows_f32, &V::sub_rows_f64, x - y)
ADJ_BINARY_KERNEL_(mul, &V::mul_rows_f32, &V::mul_rows_f64, cpu::times(x, y))
ADJ_BINARY_KERNEL_(div, &V::div_rows_f32, &V::div_rows_f64, x / y)  // integers never get here: promoted to float first
ADJ_BINARY_KERNEL_(pow, none, none, cpu::power(x, y))
ADJ_BINARY_KERNEL_(maximum, none, none, cpu::max_of(x, y))
ADJ_BINARY_KERNEL_(minimum, none, none, cpu::min_of(x, y))
ADJ_BINARY_KERNEL_(atan2, none, none, std::atan2(x, y))
ADJ_BINARY_KERNEL_(fmod, none, none, cpu::fmod_of(x, y))
ADJ_BINARY_KERNEL_(remainder, none, none, cpu::remainder_of(x, y))
ADJ_BINARY_KERNEL_(tanh_backward, none, none, x * (T(1) - y * y))  // the composite's order of operations
ADJ_BINARY_KERNEL_(sigmoid_backward, none, none, x * (y * (T(1) - y)))
ADJ_BINARY_KERNEL_(relu_backward, &V::relu_backward_rows_f32, &V::relu_backward_rows_f64, y > T(0) ? x : T(0))  // g where the input > 0 (NaN: 0)

ADJ_COMPARE_KERNEL_(eq, x == y)
ADJ_COMPARE_KERNEL_(ne, x != y)
ADJ_COMPARE_KERNEL_(lt, x < y)
ADJ_COMPARE_KERNEL_(le, x <= y)
ADJ_COMPARE_KERNEL_(gt, x > y)
ADJ_COMPARE_KERNEL_(ge, x >= y)
ADJ_COMPARE_KERNEL_(logical_and, x != T(0) && y != T(0))
ADJ_COMPARE_KERNEL_(logical_or, x != T(0) || y != T(0))

#undef ADJ_UNARY_KERNEL_
#undef ADJ_BINARY_KERNEL_
#undef ADJ_COMPARE_KERNEL_
#undef ADJ_PREDICATE_KERNEL_

}  // namespace adjoint::kernels
