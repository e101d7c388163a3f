// CPU reductions: accumulate x into a stride-0 view of an accumulator, then cast into out.
#include <cmath>
#include <limits>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/strided_loop.h"
#include "backends/cpu/vector_math.h"
#include "core/error.h"

namespace adjoint::cpu {
namespace {

// Sums of floats accumulate in double: float32 results are then correctly rounded for the
// sizes we meet (functorch accumulates float32 in float with cascade summation).
template <class T> struct AccOf { using type = T; };
template <> struct AccOf<float> { using type = double; };
template <> struct AccOf<uint8_t> { using type = int64_t; };

template <class T>
void sum_kernel(const Tensor& x, const Tensor& out_view, const Tensor& out) {
  using A = typename AccOf<T>::type;
  Tensor acc = Tensor::empty(out.shape(), dtype_of<A>(), out.device(), "sum");
  std::fill(acc.data<A>(), acc.data<A>() + acc.numel(), A(0));
  Tensor acc_view = Tensor::view_of(acc, x.shape(), out_view.strides(), 0);
  Loop<2> loop(x.shape(), {&acc_view, &x});
  loop.run([](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
    if (s[0] == 0 && s[1] == int64_t(sizeof(T))) {  // a contiguous run into one accumulator
      const T* x = reinterpret_cast<const T*>(p[1]);
      if constexpr (std::is_same<T, float>::value) {
        *reinterpret_cast<A*>(p[0]) += vm::active().sum_f32(x, n);
        return;
      } else if constexpr (std::is_same<T, double>::value) {
        *reinterpret_cast<A*>(p[0]) += vm::active().sum_f64(x, n);
        return;
      }
      // Integers: independent partial sums let the loop pipeline (a single running sum is one
      // long dependency chain).
      A part[8] = {A(0), A(0), A(0), A(0), A(0), A(0), A(0), A(0)};
      int64_t k = 0;
      for (; k + 8 <= n; k += 8)
        for (int j = 0; j < 8; j++) part[j] += A(x[k + j]);
      A a = *reinterpret_cast<A*>(p[0]);
      for (; k < n; k++) a += A(x[k]);
      *reinterpret_cast<A*>(p[0]) = a + (((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7])));
    } else if (s[0] == 0) {
      A a = *reinterpret_cast<A*>(p[0]);
      for (int64_t k = 0; k < n; k++) a += A(*reinterpret_cast<const T*>(p[1] + k * s[1]));
      *reinterpret_cast<A*>(p[0]) = a;
    } else if (s[0] == int64_t(sizeof(A)) && s[1] == int64_t(sizeof(T))) {
      A* acc = reinterpret_cast<A*>(p[0]);
      const T* x = reinterpret_cast<const T*>(p[1]);
      if constexpr (std::is_same<T, float>::value) vm::active().accumulate_f32(acc, x, n);  // a sum over a leading dim
      else if constexpr (std::is_same<T, double>::value) vm::active().accumulate_f64(acc, x, n);
      else for (int64_t k = 0; k < n; k++) acc[k] += A(x[k]);
    } else {
      for (int64_t k = 0; k < n; k++)
        *reinterpret_cast<A*>(p[0] + k * s[0]) += A(*reinterpret_cast<const T*>(p[1] + k * s[1]));
    }
  });
  const A* a = acc.data<A>();
  using O = std::conditional_t<std::is_same<T, uint8_t>::value, int64_t, T>;
  O* o = out.data<O>();
  for (int64_t i = 0, n = out.numel(); i < n; i++) o[i] = O(a[i]);
}

template <class T>
void amax_kernel(const Tensor& x, const Tensor& out_view, const Tensor& out) {
  T* o = out.data<T>();
  const T lowest = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
  std::fill(o, o + out.numel(), lowest);
  Loop<2> loop(x.shape(), {&out_view, &x});
  loop.run([](std::array<char*, 2> p, std::array<int64_t, 2> s, int64_t n) {
    for (int64_t k = 0; k < n; k++) {
      T& m = *reinterpret_cast<T*>(p[0] + k * s[0]);
      T v = *reinterpret_cast<const T*>(p[1] + k * s[1]);
      if (v > m || v != v) m = (m != m) ? m : v;  // NaN wins, like torch.amax
    }
  });
}

}  // namespace

// NOTE: the vector kernels return the bits as literals (vector_math.h): they must stay these.
static_assert(value_fact::kAllFinite == 2 && value_fact::kAllFiniteNonzero == 4, "vm facts kernels write bits 2 and 4");

uint8_t CpuBackend::value_facts(const Tensor& x) {
  ADJ_CHECK(x.dtype() == DType::Float32 || x.dtype() == DType::Float64, ErrorKind::Internal, "cpu.value_facts", "not a float tensor");
  const vm::Kernels& k = vm::active();
  return x.dtype() == DType::Float32 ? k.facts_f32(x.raw_data(), x.numel()) : k.facts_f64(x.raw_data(), x.numel());
}

}  // namespace adjoint::cpu

namespace adjoint::kernels {

const ReduceKernel sum{[](const Tensor& x, const Tensor& out_view, const Tensor& out) {
  visit_dtype(x.dtype(), [&](auto t) { cpu::sum_kernel<decltype(t)>(x, out_view, out); });
}};
const ReduceKernel amax{[](const Tensor& x, const Tensor& out_view, const Tensor& out) {
  visit_dtype(x.dtype(), [&](auto t) { cpu::amax_kernel<decltype(t)>(x, out_view, out); });
}};

}  // namespace adjoint::kernels
