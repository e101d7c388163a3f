// CPU max pooling (kernels::max_pool2d_gather, max_pool2d_scatter): each window's maximum found in
// place, by torch's rule, and v moved through it. The common window (2x2 every 2) runs a row of
// windows at a time in vector registers (pool_rows.inc, one copy per ISA); other windows are
// scanned one by one.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/select_bits.h"
#include "backends/cpu/vector_math.h"
#include "backends/kernels.h"

namespace adjoint::cpu {
namespace pool_rows {

// One ISA's row loops for the 2x2-every-2 window; each returns how many windows it did (a multiple
// of its vector width), the caller finishes the row.
struct Rows {
  int64_t (*max_f32)(const float* x0, const float* x1, float* o, int64_t ow);
  int64_t (*gather_f32)(const float* x0, const float* x1, const float* v0, const float* v1, float* o, int64_t ow);
  int64_t (*scatter_f32)(const float* x0, const float* x1, const float* g, float* o0, float* o1, int64_t ow);
  int64_t (*max_f64)(const double* x0, const double* x1, double* o, int64_t ow);
  int64_t (*gather_f64)(const double* x0, const double* x1, const double* v0, const double* v1, double* o, int64_t ow);
  int64_t (*scatter_f64)(const double* x0, const double* x1, const double* g, double* o0, double* o1, int64_t ow);
};

namespace generic {
#define ADJ_POOL_BYTES 16
#include "backends/cpu/pool_rows.inc"
#undef ADJ_POOL_BYTES
}  // namespace generic

#if defined(__x86_64__) || defined(__i386__)
#define ADJ_POOL_X86 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#define ADJ_POOL_BYTES 32
#include "backends/cpu/pool_rows.inc"
#undef ADJ_POOL_BYTES
}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
namespace avx512 {
#define ADJ_POOL_BYTES 64
#include "backends/cpu/pool_rows.inc"
#undef ADJ_POOL_BYTES
}  // namespace avx512
#pragma GCC pop_options
#else
#define ADJ_POOL_X86 0
#endif

const Rows& of(vm::Isa isa) {
#if ADJ_POOL_X86
  if (isa == vm::Isa::Avx512) return avx512::kRows;
  if (isa == vm::Isa::Avx2) return avx2::kRows;
#endif
  return generic::kRows;
}

// NOTE: the ISA is the vector kernels' choice (vm::active_isa: the best the CPU supports, capped by
// ADJOINT_VM_ISA), so one setting selects every runtime-dispatched loop.
const Rows& active() {
  static const Rows& rows = of(vm::active_isa());
  return rows;
}

}  // namespace pool_rows

namespace {

// Torch's rule for the running maximum m at index b of a window, seeing v at index i: v wins if
// larger, or if NaN (so the first maximum in row-major order wins ties, the last NaN wins).
// NOTE: written without branches on the values (bit selects): which element of a window is
// largest is a coin flip for real data, and a branch on it was mispredicted every other window.
template <class T>
inline void take_max(T v, int64_t i, T& m, int64_t& b) {
  const bool t = (v > m) | (v != v);  // v != v: NaN; `|`: no short-circuit branch
  m = select_bits(t, v, m);
  const int64_t k = -int64_t(t);
  b = (i & k) | (b & ~k);
}

// The index (in the plane) of window (oy, ox)'s maximum. A window of -inf gives its first element.
template <class T>
inline int64_t window_argmax(const T* x, const PoolGeom& g, int64_t oy, int64_t ox) {
  const int64_t first = oy * g.sh * g.w + ox * g.sw;
  T m = x[first];
  int64_t b = first;
  for (int64_t ky = 0; ky < g.kh; ky++)
    for (int64_t kx = ky == 0 ? 1 : 0; kx < g.kw; kx++) take_max(x[first + ky * g.w + kx], first + ky * g.w + kx, m, b);
  return b;
}

// The common window: 2x2, every 2.
bool two_by_two(const PoolGeom& g) { return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2; }

// NOTE: the 2x2 winner as two pairs, each pair's winner by torch's rule, then the second pair's
// winner against the first's: the same element as take_max's scan in row-major order (a tie goes
// to the earlier pair, a NaN in the later pair wins). pool_rows.inc computes exactly this, L
// windows at a time; this is its scalar form for a row's last windows. Returns the offset of the
// maximum from a (0, 1, w, w + 1 as 0..3: bit 1 the row, bit 0 the column).
template <class T>
inline int max_2x2(T a, T b, T c, T d) {
  const bool tb = (b > a) | (b != b), td = (d > c) | (d != d);
  const T m1 = select_bits(tb, b, a), m2 = select_bits(td, d, c);
  const bool t = (m2 > m1) | (m2 != m2);
  return t ? 2 + int(td) : int(tb);
}

// The row loops of one ISA for T.
struct RowsF32 {
  const pool_rows::Rows& r;
  int64_t max(const float* x0, const float* x1, float* o, int64_t ow) const { return r.max_f32(x0, x1, o, ow); }
  int64_t gather(const float* x0, const float* x1, const float* v0, const float* v1, float* o, int64_t ow) const {
    return r.gather_f32(x0, x1, v0, v1, o, ow);
  }
  int64_t scatter(const float* x0, const float* x1, const float* g, float* o0, float* o1, int64_t ow) const {
    return r.scatter_f32(x0, x1, g, o0, o1, ow);
  }
};
struct RowsF64 {
  const pool_rows::Rows& r;
  int64_t max(const double* x0, const double* x1, double* o, int64_t ow) const { return r.max_f64(x0, x1, o, ow); }
  int64_t gather(const double* x0, const double* x1, const double* v0, const double* v1, double* o, int64_t ow) const {
    return r.gather_f64(x0, x1, v0, v1, o, ow);
  }
  int64_t scatter(const double* x0, const double* x1, const double* g, double* o0, double* o1, int64_t ow) const {
    return r.scatter_f64(x0, x1, g, o0, o1, ow);
  }
};
template <class T>
using RowsOf = std::conditional_t<std::is_same<T, float>::value, RowsF32, RowsF64>;

// NOTE: max_pool2d(x) is gather(x, x): with v the same storage as x the values are the maxima
// themselves (one load per element instead of two).
template <class T>
void gather_2x2(const RowsOf<T>& rows, const T* v, const T* x, const PoolGeom& g, T* o) {
  const bool same = v == x;
  for (int64_t p = 0; p < g.planes; p++)
    for (int64_t oy = 0; oy < g.oh; oy++, o += g.ow) {
      const int64_t base = p * g.h * g.w + 2 * oy * g.w;
      const T *x0 = x + base, *x1 = x0 + g.w, *v0 = v + base, *v1 = v0 + g.w;
      int64_t i = same ? rows.max(x0, x1, o, g.ow) : rows.gather(x0, x1, v0, v1, o, g.ow);
      for (; i < g.ow; i++) {
        const int k = max_2x2(x0[2 * i], x0[2 * i + 1], x1[2 * i], x1[2 * i + 1]);
        o[i] = (k & 2 ? v1 : v0)[2 * i + (k & 1)];
      }
    }
}

// NOTE: the 2x2 windows every 2 tile the plane but for a last row (odd h) and column (odd w): the
// row loops write every element they cover (g at the maximum, zeros elsewhere), so only those
// uncovered edges are zero-filled, not the whole output first.
template <class T>
void scatter_2x2(const RowsOf<T>& rows, const T* v, const T* x, const PoolGeom& g, T* out) {
  const int64_t plane = g.h * g.w;
  for (int64_t p = 0; p < g.planes; p++, v += g.oh * g.ow) {
    T* op = out + p * plane;
    for (int64_t oy = 0; oy < g.oh; oy++) {
      const int64_t base = 2 * oy * g.w;
      const T *x0 = x + p * plane + base, *x1 = x0 + g.w, *gv = v + oy * g.ow;
      T *o0 = op + base, *o1 = o0 + g.w;
      int64_t i = rows.scatter(x0, x1, gv, o0, o1, g.ow);
      for (; i < g.ow; i++) {
        const int k = max_2x2(x0[2 * i], x0[2 * i + 1], x1[2 * i], x1[2 * i + 1]);
        o0[2 * i] = o0[2 * i + 1] = o1[2 * i] = o1[2 * i + 1] = T(0);
        (k & 2 ? o1 : o0)[2 * i + (k & 1)] = gv[i];
      }
      if (g.w > 2 * g.ow) o0[g.w - 1] = o1[g.w - 1] = T(0);  // odd width: the column no window covers
    }
    if (g.h > 2 * g.oh) std::fill(op + (g.h - 1) * g.w, op + plane, T(0));  // odd height: the last row
  }
}

// Window by window, any window (the reference the 2x2 rows are tested against).
template <class T>
void scan_gather(const T* v, const T* x, const PoolGeom& g, T* o) {
  const int64_t plane = g.h * g.w;
  for (int64_t p = 0; p < g.planes; p++) {
    const T *xp = x + p * plane, *vp = v + p * plane;
    for (int64_t oy = 0; oy < g.oh; oy++)
      for (int64_t ox = 0; ox < g.ow; ox++) *o++ = vp[window_argmax(xp, g, oy, ox)];
  }
}
template <class T>
void scan_scatter(const T* v, const T* x, const PoolGeom& g, T* o) {
  const int64_t plane = g.h * g.w;
  std::fill(o, o + g.planes * plane, T(0));
  for (int64_t p = 0; p < g.planes; p++) {
    const T* xp = x + p * plane;
    for (int64_t oy = 0; oy < g.oh; oy++)
      for (int64_t ox = 0; ox < g.ow; ox++) o[p * plane + window_argmax(xp, g, oy, ox)] += *v++;
  }
}

// `rows` null: the scan for every window.
template <class T>
void pool(bool scatter, const pool_rows::Rows* rows, const Tensor& v, const Tensor& x, const PoolGeom& g, const Tensor& out) {
  const T *vp = v.data<T>(), *xp = x.data<T>();
  T* o = out.data<T>();
  if (rows && two_by_two(g)) {
    const RowsOf<T> r{*rows};
    return scatter ? scatter_2x2(r, vp, xp, g, o) : gather_2x2(r, vp, xp, g, o);
  }
  return scatter ? scan_scatter(vp, xp, g, o) : scan_gather(vp, xp, g, o);
}

void pool_any(bool scatter, const pool_rows::Rows* rows, const Tensor& v, const Tensor& x, const PoolGeom& g, const Tensor& out) {
  // NOTE: the op layer admits float32 and float64 only (ops/pool.cpp).
  if (out.dtype() == DType::Float32) pool<float>(scatter, rows, v, x, g, out);
  else pool<double>(scatter, rows, v, x, g, out);
}

}  // namespace

void max_pool2d_with(vm::Isa isa, bool scatter, const Tensor& v, const Tensor& x, const PoolGeom& g, const Tensor& out) {
  pool_any(scatter, &pool_rows::of(isa), v, x, g, out);
}
void max_pool2d_scan(bool scatter, const Tensor& v, const Tensor& x, const PoolGeom& g, const Tensor& out) {
  pool_any(scatter, nullptr, v, x, g, out);
}

}  // namespace adjoint::cpu

namespace adjoint::kernels {

const PoolKernel max_pool2d_gather{[](const Tensor& v, const Tensor& x, const PoolGeom& g, const Tensor& out) {
  cpu::pool_any(false, &cpu::pool_rows::active(), v, x, g, out);
}};
const PoolKernel max_pool2d_scatter{[](const Tensor& v, const Tensor& x, const PoolGeom& g, const Tensor& out) {
  cpu::pool_any(true, &cpu::pool_rows::active(), v, x, g, out);
}};

}  // namespace adjoint::kernels
