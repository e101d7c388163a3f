// CPU matmul: OpenBLAS gemm on strided operands when their layout allows it, else a packed copy.
#include <cblas.h>

#include <algorithm>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/vector_math.h"
#include "core/error.h"

namespace adjoint::cpu {
namespace {

// Can a [rows, cols] matrix with element strides (sr, sc) be passed to row-major BLAS?
bool blas_layout(int64_t rows, int64_t cols, int64_t sr, int64_t sc, CBLAS_TRANSPOSE* trans, int64_t* ld) {
  if (rows <= 1) sr = cols > 0 ? cols : 1;  // the stride of a size-1 dim is free
  if (cols <= 1) sc = 1;
  if (sc == 1 && sr >= (cols > 1 ? cols : 1)) { *trans = CblasNoTrans; *ld = sr; return true; }
  if (sr == 1 && sc >= (rows > 1 ? rows : 1)) { *trans = CblasTrans; *ld = sc; return true; }
  return false;
}

// Below this many multiply-adds a gemm runs on the calling thread only: waking OpenBLAS's workers
// costs more than they save, and on a busy machine a call can wait a whole scheduler slice for them.
constexpr int64_t kThreadedGemmMacs = int64_t(1) << 24;

struct SingleThreadedBlas {
  int prev = 0;
  bool on;
  explicit SingleThreadedBlas(bool on) : on(on) {
    if (on) prev = openblas_set_num_threads_local(1);
  }
  ~SingleThreadedBlas() {
    if (on) openblas_set_num_threads_local(prev);
  }
};

template <class T>
void gemv(CBLAS_TRANSPOSE t, int64_t rows, int64_t cols, const T* a, int64_t lda, const T* x, int64_t incx, T* y, int64_t incy) {
  if constexpr (std::is_same<T, float>::value)
    cblas_sgemv(CblasRowMajor, t, int(rows), int(cols), 1.0f, a, int(lda), x, int(incx), 0.0f, y, int(incy));
  else
    cblas_dgemv(CblasRowMajor, t, int(rows), int(cols), 1.0, a, int(lda), x, int(incx), 0.0, y, int(incy));
}

// Up to this many multiply-adds a product with one row or one column runs in our vector kernels
// (vm::Kernels::gemv_*): OpenBLAS's gemv spends ~50 ns per call before the arithmetic (a buffer
// allocation under a lock, thread-count checks), more than a 16 x 16 product itself takes.
constexpr int64_t kSmallGemvMacs = 16384;

template <class T>
bool small_gemv(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda,
                const T* b, int64_t ldb, T* c, int64_t ldc) {
  if ((m != 1 && n != 1) || m * n * k > kSmallGemvMacs) return false;
  const vm::Kernels& K = vm::active();
  auto rows = [&](const T* mat, int64_t ld, const T* x, T* y, int64_t nn) {  // y[j] = sum_p mat[j*ld + p] x[p]
    if constexpr (std::is_same<T, float>::value) K.gemv_rows_f32(mat, ld, x, y, nn, k);
    else K.gemv_rows_f64(mat, ld, x, y, nn, k);
  };
  auto cols = [&](const T* mat, int64_t ld, const T* x, T* y, int64_t nn) {  // y[j] = sum_p x[p] mat[p*ld + j]
    if constexpr (std::is_same<T, float>::value) K.gemv_cols_f32(mat, ld, x, y, nn, k);
    else K.gemv_cols_f64(mat, ld, x, y, nn, k);
  };
  if (m == 1) {  // c[1, n] = a[1, k] b[k, n]
    if (ta != CblasNoTrans && k > 1 && lda != 1) return false;  // a's elements strided
    if (tb == CblasNoTrans) cols(b, ldb, a, c, n);
    else rows(b, ldb, a, c, n);
    return true;
  }
  // c[m, 1] = a[m, k] b[k, 1]
  if ((tb == CblasNoTrans && k > 1 && ldb != 1) || (m > 1 && ldc != 1)) return false;
  if (ta == CblasNoTrans) rows(a, lda, b, c, m);
  else cols(a, lda, b, c, m);
  return true;
}

template <class T>
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda,
          const T* b, int64_t ldb, T* c, int64_t ldc) {
  if (small_gemv<T>(ta, tb, m, n, k, a, lda, b, ldb, c, ldc)) return;
  SingleThreadedBlas guard(m * n * k < kThreadedGemmMacs);
  // NOTE: a vector operand goes to gemv: gemm would pack the whole matrix on every call, which
  // costs more than the product itself (per-example linear layers under vmap or in a loop).
  if (m == 1) {  // c[1, n] = a[1, k] b[k, n] = (b^T a)^T
    const int64_t inca = ta == CblasNoTrans ? 1 : lda;
    if (tb == CblasNoTrans) gemv<T>(CblasTrans, k, n, b, ldb, a, inca, c, 1);
    else gemv<T>(CblasNoTrans, n, k, b, ldb, a, inca, c, 1);
    return;
  }
  if (n == 1) {  // c[m, 1] = a[m, k] b[k, 1]
    const int64_t incb = tb == CblasNoTrans ? ldb : 1;
    if (ta == CblasNoTrans) gemv<T>(CblasNoTrans, m, k, a, lda, b, incb, c, ldc);
    else gemv<T>(CblasTrans, k, m, a, lda, b, incb, c, ldc);
    return;
  }
  if constexpr (std::is_same<T, float>::value)
    cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0f, a, int(lda), b, int(ldb), 0.0f, c, int(ldc));
  else
    cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0, a, int(lda), b, int(ldb), 0.0, c, int(ldc));
}

template <class T>
void naive(const T* a, int64_t sam, int64_t sak, const T* b, int64_t sbk, int64_t sbn, T* c, int64_t m, int64_t n, int64_t k) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      T acc = 0;
      for (int64_t p = 0; p < k; p++) acc += a[i * sam + p * sak] * b[p * sbk + j * sbn];
      c[i * n + j] = acc;
    }
}

}  // namespace

void CpuBackend::matmul(const Tensor& a0, const Tensor& b0, const Tensor& out) {
  const int nd = out.ndim();
  const int64_t m = out.size(nd - 2), n = out.size(nd - 1), k = a0.size(nd - 1);
  if (out.numel() == 0) return;
  if (k == 0) { fill(out, 0); return; }
  if (k == 1 && is_floating(out.dtype())) {
    // Outer products (per-sample weight gradients): a[..., m, 1] * b[..., 1, n] broadcast is the
    // same single product per element, written by the vectorised elementwise kernel (gemm's small
    // kernels measured ~2x slower at this pure write).
    Dims sa = a0.strides(), sb = b0.strides();
    sa[nd - 1] = 0;
    sb[nd - 2] = 0;
    kernels::mul.cpu(Tensor::view_of(a0, out.shape(), sa, a0.offset()), Tensor::view_of(b0, out.shape(), sb, b0.offset()), out);
    return;
  }
  visit_dtype(out.dtype(), [&](auto t) {
    using T = decltype(t);
    Tensor a = a0, b = b0;
    const int nb = nd - 2;
    int64_t batch = 1;
    for (int i = 0; i < nb; i++) batch *= out.size(i);
    if constexpr (std::is_floating_point<T>::value) {
      CBLAS_TRANSPOSE ta = CblasNoTrans, tb = CblasNoTrans;
      int64_t lda = 0, ldb = 0;
      // Pack operands BLAS cannot read in place.
      if (!blas_layout(m, k, a.strides()[nd - 2], a.strides()[nd - 1], &ta, &lda)) {
        Tensor c = Tensor::empty(a.shape(), a.dtype(), a.device(), "matmul");
        copy(a, c);
        a = c;
        blas_layout(m, k, a.strides()[nd - 2], a.strides()[nd - 1], &ta, &lda);
      }
      if (!blas_layout(k, n, b.strides()[nd - 2], b.strides()[nd - 1], &tb, &ldb)) {
        Tensor c = Tensor::empty(b.shape(), b.dtype(), b.device(), "matmul");
        copy(b, c);
        b = c;
        blas_layout(k, n, b.strides()[nd - 2], b.strides()[nd - 1], &tb, &ldb);
      }
      // A batch over a shared (stride-0) b with a row-major contiguous a folds into one gemm.
      bool b_shared = true, a_foldable = ta == CblasNoTrans && lda == k;
      int64_t expect = m * k;
      for (int i = nb - 1; i >= 0; i--) {
        if (out.size(i) == 1) continue;
        if (b.strides()[i] != 0) b_shared = false;
        if (a.strides()[i] != expect) a_foldable = false;
        expect *= out.size(i);
      }
      if (b_shared && a_foldable) {
        gemm<T>(ta, tb, batch * m, n, k, a.data<T>(), lda, b.data<T>(), ldb, out.data<T>(), n);
        return;
      }
      int64_t idx[kMaxDims] = {0};
      for (int64_t bi = 0; bi < batch; bi++) {
        int64_t oa = 0, ob = 0;
        for (int i = 0; i < nb; i++) { oa += idx[i] * a.strides()[i]; ob += idx[i] * b.strides()[i]; }
        gemm<T>(ta, tb, m, n, k, a.data<T>() + oa, lda, b.data<T>() + ob, ldb, out.data<T>() + bi * m * n, n);
        for (int i = nb - 1; i >= 0; i--) { if (++idx[i] < out.size(i)) break; idx[i] = 0; }
      }
    } else {
      int64_t idx[kMaxDims] = {0};
      for (int64_t bi = 0; bi < batch; bi++) {
        int64_t oa = 0, ob = 0;
        for (int i = 0; i < nb; i++) { oa += idx[i] * a.strides()[i]; ob += idx[i] * b.strides()[i]; }
        naive<T>(a.data<T>() + oa, a.strides()[nd - 2], a.strides()[nd - 1], b.data<T>() + ob, b.strides()[nd - 2],
                 b.strides()[nd - 1], out.data<T>() + bi * m * n, m, n, k);
        for (int i = nb - 1; i >= 0; i--) { if (++idx[i] < out.size(i)) break; idx[i] = 0; }
      }
    }
  });
}

// NOTE: the same BLAS call as matmul makes for the composite (x @ w.t(), then + b), with no views
// or temporaries: the numbers are the composite's, bit for bit (the bias is added after the
// product, as the composite's add does), except that a weight BLAS cannot read is packed once for
// all rows where matmul packs it per batch of x and calls gemm per batch.
void CpuBackend::linear(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& out, bool w_kn) {
  const int64_t n = w.size(w_kn ? 1 : 0), k = w.size(w_kn ? 0 : 1);
  const int64_t m = n > 0 ? out.numel() / n : 0;
  if (out.numel() == 0) return;
  // The [k, n] right factor's strides: w^T's, or w's own.
  const int64_t wr = w.strides()[w_kn ? 0 : 1], wc = w.strides()[w_kn ? 1 : 0];
  visit_dtype(out.dtype(), [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_floating_point<T>::value) {
      T* o = out.data<T>();
      if (k == 0) {
        std::fill(o, o + m * n, T(0));
      } else {
        // NOTE: the rows' stride is that of the innermost leading dim of size > 1, not simply the
        // second-to-last dim's (a size-1 dim may have any stride: [2, 1, k] as a transposed view).
        const int64_t sc = x.strides()[x.ndim() - 1], sr = x.merged_row_stride();
        CBLAS_TRANSPOSE ta = CblasNoTrans, tb = CblasNoTrans;
        int64_t lda = 0, ldb = 0;
        Tensor xpacked, wpacked;  // only when BLAS cannot read an operand in place
        const T* xp = x.data<T>();
        if (!blas_layout(m, k, sr, sc, &ta, &lda)) {
          xpacked = Tensor::empty(Dims{m, k}, x.dtype(), x.device(), "linear");
          copy(Tensor::view_of(x, Dims{m, k}, Dims{sr, sc}, x.offset()), xpacked);
          xp = xpacked.data<T>();
          blas_layout(m, k, k, 1, &ta, &lda);
        }
        const T* wp = w.data<T>();
        if (!blas_layout(k, n, wr, wc, &tb, &ldb)) {  // packed as [k, n], as matmul packs w^T
          wpacked = Tensor::empty(Dims{k, n}, w.dtype(), w.device(), "linear");
          copy(Tensor::view_of(w, Dims{k, n}, Dims{wr, wc}, w.offset()), wpacked);
          wp = wpacked.data<T>();
          blas_layout(k, n, n, 1, &tb, &ldb);
        }
        gemm<T>(ta, tb, m, n, k, xp, lda, wp, ldb, o, n);
      }
      if (b) {
        const T* bp = b->data<T>();
        const int64_t bs = b->strides()[0];
        for (int64_t i = 0; i < m; i++, o += n)
          for (int64_t j = 0; j < n; j++) o[j] += bp[j * bs];
      }
    }
  });
}

}  // namespace adjoint::cpu
