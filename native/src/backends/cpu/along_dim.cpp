// CPU kernels along one dim (kernels.h, DimKernel): scans, the product, arg-reductions and sorts.
// Inputs are contiguous [outer, n, inner]; a scan or reduction runs over the n rows of each outer
// block with `inner` running accumulators side by side (the inner loop is unit-stride), a sort
// gathers one line at a time.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "core/error.h"

namespace adjoint::cpu {
namespace {

// Float32 scans and products accumulate in double, like torch's CPU kernels (acc_type<float>), so
// float32 results are the float64 result rounded once.
template <class T> struct AccOf { using type = T; };
template <> struct AccOf<float> { using type = double; };

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point<T>::value) return v != v;
  return false;
}

// log(exp(x) + exp(acc)) as torch's _log_add_exp_helper: -inf with -inf stays -inf, NaN propagates.
template <class A>
A log_add_exp(A x, A acc) {
  A lo = std::isnan(acc) ? acc : std::min(x, acc);
  A hi = std::isnan(acc) ? acc : std::max(x, acc);
  if (lo != hi || std::isfinite(lo)) return hi + std::log1p(std::exp(lo - hi));
  return x;
}

// out[o, j, i] = acc after step(acc, j, o * n * inner + j * inner + i) over the rows j in scan
// order (reversed when `reverse`); `Write` false keeps only the last (a reduction to m = 1).
template <class T, bool Write, class Step>
void scan(const DimGeom& g, T* out, typename AccOf<T>::type init, bool reverse, Step step) {
  using A = typename AccOf<T>::type;
  if (g.inner == 1) {  // the dim is the last: one running value per line, no accumulator array
    for (int64_t o = 0; o < g.outer; o++) {
      const int64_t base = o * g.n;
      A acc = init;
      for (int64_t jj = 0; jj < g.n; jj++) {
        const int64_t j = reverse ? g.n - 1 - jj : jj;
        acc = step(acc, base + j);
        if constexpr (Write) out[base + j] = T(acc);
      }
      if constexpr (!Write) out[o] = T(acc);
    }
    return;
  }
  std::vector<A> acc(size_t(g.inner));
  for (int64_t o = 0; o < g.outer; o++) {
    std::fill(acc.begin(), acc.end(), init);
    for (int64_t jj = 0; jj < g.n; jj++) {
      const int64_t j = reverse ? g.n - 1 - jj : jj;
      const int64_t base = (o * g.n + j) * g.inner;
      for (int64_t i = 0; i < g.inner; i++) {
        acc[size_t(i)] = step(acc[size_t(i)], base + i);
        if constexpr (Write) out[base + i] = T(acc[size_t(i)]);
      }
    }
    if constexpr (!Write)
      for (int64_t i = 0; i < g.inner; i++) out[o * g.inner + i] = T(acc[size_t(i)]);
  }
}

template <class T>
void cumsum_kernel(const Tensor* in, const DimGeom& g, const Tensor& out) {
  using A = typename AccOf<T>::type;
  const T* x = in[0].data<T>();
  scan<T, true>(g, out.data<T>(), A(0), g.flag, [x](A acc, int64_t k) { return acc + A(x[k]); });
}

template <class T>
void cumprod_kernel(const Tensor* in, const DimGeom& g, const Tensor& out) {
  using A = typename AccOf<T>::type;
  const T* x = in[0].data<T>();
  scan<T, true>(g, out.data<T>(), A(1), false, [x](A acc, int64_t k) { return acc * A(x[k]); });
}

template <class T>
void prod_kernel(const Tensor* in, const DimGeom& g, const Tensor& out) {
  using A = typename AccOf<T>::type;
  const T* x = in[0].data<T>();
  if (g.inner > 1) return scan<T, false>(g, out.data<T>(), A(1), false, [x](A acc, int64_t k) { return acc * A(x[k]); });
  // A contiguous line: independent partial products let the loop pipeline (one running product is
  // a chain of dependent multiplies); the order of the factors changes only the last bits.
  T* o = out.data<T>();
  for (int64_t r = 0; r < g.outer; r++) {
    const T* l = x + r * g.n;
    A part[8] = {A(1), A(1), A(1), A(1), A(1), A(1), A(1), A(1)};
    int64_t k = 0;
    for (; k + 8 <= g.n; k += 8)
      for (int j = 0; j < 8; j++) part[j] *= A(l[k + j]);
    A p = ((part[0] * part[1]) * (part[2] * part[3])) * ((part[4] * part[5]) * (part[6] * part[7]));
    for (; k < g.n; k++) p *= A(l[k]);
    o[r] = T(p);
  }
}

template <class T>
void logcumsumexp_kernel(const Tensor* in, const DimGeom& g, const Tensor& out) {
  using A = typename AccOf<T>::type;
  const T* x = in[0].data<T>();
  scan<T, true>(g, out.data<T>(), -std::numeric_limits<A>::infinity(), false,
                [x](A acc, int64_t k) { return log_add_exp(A(x[k]), acc); });
}

// h_0 = b_0, h_k = b_k + a_k h_{k-1}; from the end: h_{n-1} = b_{n-1}, h_k = b_k + a_{k+1} h_{k+1}.
// a_0 is never read (so an infinite a_0 never meets the zero before the first element).
template <class T>
void linear_scan_kernel(const Tensor* in, const DimGeom& g, const Tensor& out) {
  using A = typename AccOf<T>::type;
  const T *a = in[0].data<T>(), *b = in[1].data<T>();
  T* h = out.data<T>();
  std::vector<A> acc(size_t(g.inner));
  for (int64_t o = 0; o < g.outer; o++)
    for (int64_t jj = 0; jj < g.n; jj++) {
      const int64_t j = g.flag ? g.n - 1 - jj : jj;
      const int64_t base = (o * g.n + j) * g.inner;
      // the coefficient between this row and the previous one in scan order
      const T* coef = a + (o * g.n + (g.flag ? j + 1 : j)) * g.inner;
      for (int64_t i = 0; i < g.inner; i++) {
        A& s = acc[size_t(i)];
        s = jj == 0 ? A(b[base + i]) : A(b[base + i]) + A(coef[i]) * s;
        h[base + i] = T(s);
      }
    }
}

// The position of the first maximum (Max) or minimum along each line; a NaN beats everything, the
// first NaN wins (torch's argmax and argmin: max and min propagate NaN).
template <class T, bool Max>
void arg_extreme_kernel(const Tensor* in, const DimGeom& g, const Tensor& out) {
  ADJ_CHECK(g.n > 0 || g.outer * g.inner == 0, ErrorKind::Internal, "argmax", "a line of no elements reached the kernel");
  const T* x = in[0].data<T>();
  int64_t* o = out.data<int64_t>();
  if (g.inner == 1) {  // contiguous lines
    for (int64_t b = 0; b < g.outer; b++) {
      const T* l = x + b * g.n;
      T m = l[0];
      int64_t at = 0;
      for (int64_t j = 1; j < g.n && !is_nan(m); j++)
        if (is_nan(l[j]) || (Max ? l[j] > m : l[j] < m)) m = l[j], at = j;
      o[b] = at;
    }
    return;
  }
  std::vector<T> best(size_t(g.inner));
  for (int64_t b = 0; b < g.outer; b++) {
    int64_t* ob = o + b * g.inner;
    const T* xb = x + b * g.n * g.inner;
    std::copy(xb, xb + g.inner, best.begin());
    std::fill(ob, ob + g.inner, int64_t(0));
    for (int64_t j = 1; j < g.n; j++)
      for (int64_t i = 0; i < g.inner; i++) {
        const T v = xb[j * g.inner + i];
        T& m = best[size_t(i)];
        if (is_nan(m)) continue;
        if (is_nan(v) || (Max ? v > m : v < m)) m = v, ob[i] = j;
      }
  }
}

// The first m positions of each line in sorted order: NaN after every number (ascending) or before
// (descending), equal values in index order, so that the result is the stable sort's.
template <class T>
void argsort_kernel(const Tensor* in, const DimGeom& g, const Tensor& out) {
  const T* x = in[0].data<T>();
  int64_t* o = out.data<int64_t>();
  std::vector<int64_t> idx(size_t(g.n));
  std::vector<T> line(size_t(g.n));
  const bool desc = g.flag;
  auto before = [&](int64_t p, int64_t q) {
    const T a = line[size_t(p)], b = line[size_t(q)];
    const bool na = is_nan(a), nb = is_nan(b);
    if (na != nb) return desc ? na : nb;
    if (!na && a != b) return desc ? a > b : a < b;
    return p < q;
  };
  for (int64_t b = 0; b < g.outer; b++)
    for (int64_t i = 0; i < g.inner; i++) {
      const T* xl = x + b * g.n * g.inner + i;
      for (int64_t j = 0; j < g.n; j++) line[size_t(j)] = xl[j * g.inner];
      std::iota(idx.begin(), idx.end(), int64_t(0));
      if (g.m < g.n) std::partial_sort(idx.begin(), idx.begin() + g.m, idx.end(), before);
      else std::sort(idx.begin(), idx.end(), before);
      int64_t* ol = o + b * g.m * g.inner + i;
      for (int64_t r = 0; r < g.m; r++) ol[r * g.inner] = idx[size_t(r)];
    }
}

// The kernels take floats and int64 (bool inputs are cast to int64 by the ops, like torch's).
template <class F>
void visit_numeric(const Tensor& x, const char* op, F&& f) {
  ADJ_CHECK(x.dtype() != DType::Bool, ErrorKind::Internal, op, "bool input reached the kernel");
  visit_dtype(x.dtype(), [&](auto t) {
    if constexpr (!std::is_same<decltype(t), uint8_t>::value) f(t);
  });
}

}  // namespace
}  // namespace adjoint::cpu

namespace adjoint::kernels {

#define ADJ_DIM_KERNEL_(name, body)                                                        \
  const DimKernel name{[](const Tensor* in, int, const DimGeom& g, const Tensor& out) {    \
    cpu::visit_numeric(in[0], #name, [&](auto t) { using T = decltype(t); body; });         \
  }};
ADJ_DIM_KERNEL_(cumsum, cpu::cumsum_kernel<T>(in, g, out))
ADJ_DIM_KERNEL_(cumprod, cpu::cumprod_kernel<T>(in, g, out))
ADJ_DIM_KERNEL_(prod, cpu::prod_kernel<T>(in, g, out))
ADJ_DIM_KERNEL_(argmax, (cpu::arg_extreme_kernel<T, true>(in, g, out)))
ADJ_DIM_KERNEL_(argmin, (cpu::arg_extreme_kernel<T, false>(in, g, out)))
ADJ_DIM_KERNEL_(argsort, cpu::argsort_kernel<T>(in, g, out))
ADJ_DIM_KERNEL_(linear_scan, cpu::linear_scan_kernel<T>(in, g, out))
#undef ADJ_DIM_KERNEL_

const DimKernel logcumsumexp{[](const Tensor* in, int, const DimGeom& g, const Tensor& out) {
  visit_floating(in[0].dtype(), [&](auto t) { cpu::logcumsumexp_kernel<decltype(t)>(in, g, out); });
}};

}  // namespace adjoint::kernels
