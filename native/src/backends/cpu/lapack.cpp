// CPU LAPACK kernels (see lapack.h). Row-major data meets column-major LAPACK through transposes
// that cost nothing: a row-major buffer read column-major is the transpose of the matrix, so each
// routine is called on the transposed problem where that is the same problem (symmetric input,
// det A = det A^T, getrs's 'T' mode).
#include "backends/cpu/lapack.h"

#include <cblas.h>
#include <lapack.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace adjoint::cpu::lapack {
namespace {

using lint = lapack_int;

// Routines by element type (f = float, d = double).
void getrf(lint n, float* a, lint* ipiv, lint* info) { LAPACK_sgetrf(&n, &n, a, &n, ipiv, info); }
void getrf(lint n, double* a, lint* ipiv, lint* info) { LAPACK_dgetrf(&n, &n, a, &n, ipiv, info); }
void getrs(char t, lint n, lint k, const float* a, const lint* ipiv, float* b, lint* info) {
  LAPACK_sgetrs(&t, &n, &k, a, &n, ipiv, b, &n, info);
}
void getrs(char t, lint n, lint k, const double* a, const lint* ipiv, double* b, lint* info) {
  LAPACK_dgetrs(&t, &n, &k, a, &n, ipiv, b, &n, info);
}
void potrf(char uplo, lint n, float* a, lint* info) { LAPACK_spotrf(&uplo, &n, a, &n, info); }
void potrf(char uplo, lint n, double* a, lint* info) { LAPACK_dpotrf(&uplo, &n, a, &n, info); }
void syevd(lint n, float* a, float* w, float* work, lint lwork, lint* iwork, lint liwork, lint* info) {
  char jobz = 'V', uplo = 'U';
  LAPACK_ssyevd(&jobz, &uplo, &n, a, &n, w, work, &lwork, iwork, &liwork, info);
}
void syevd(lint n, double* a, double* w, double* work, lint lwork, lint* iwork, lint liwork, lint* info) {
  char jobz = 'V', uplo = 'U';
  LAPACK_dsyevd(&jobz, &uplo, &n, a, &n, w, work, &lwork, iwork, &liwork, info);
}
void geqrf(lint m, lint n, float* a, float* tau, float* work, lint lwork, lint* info) { LAPACK_sgeqrf(&m, &n, a, &m, tau, work, &lwork, info); }
void geqrf(lint m, lint n, double* a, double* tau, double* work, lint lwork, lint* info) { LAPACK_dgeqrf(&m, &n, a, &m, tau, work, &lwork, info); }
void orgqr(lint m, lint k, float* a, const float* tau, float* work, lint lwork, lint* info) { LAPACK_sorgqr(&m, &k, &k, a, &m, tau, work, &lwork, info); }
void orgqr(lint m, lint k, double* a, const double* tau, double* work, lint lwork, lint* info) { LAPACK_dorgqr(&m, &k, &k, a, &m, tau, work, &lwork, info); }
void gesdd(bool full, lint m, lint n, float* a, float* s, float* u, float* vt, float* work, lint lwork, lint* iwork, lint* info) {
  char jobz = full ? 'A' : 'S';
  lint ldvt = full ? n : (m < n ? m : n);
  LAPACK_sgesdd(&jobz, &m, &n, a, &m, s, u, &m, vt, &ldvt, work, &lwork, iwork, info);
}
void gesdd(bool full, lint m, lint n, double* a, double* s, double* u, double* vt, double* work, lint lwork, lint* iwork, lint* info) {
  char jobz = full ? 'A' : 'S';
  lint ldvt = full ? n : (m < n ? m : n);
  LAPACK_dgesdd(&jobz, &m, &n, a, &m, s, u, &m, vt, &ldvt, work, &lwork, iwork, info);
}
void trsm(bool upper, lint n, lint k, const float* a, float* b) {
  cblas_strsm(CblasRowMajor, CblasLeft, upper ? CblasUpper : CblasLower, CblasNoTrans, CblasNonUnit, n, k, 1.0f, a, n, b, k);
}
void trsm(bool upper, lint n, lint k, const double* a, double* b) {
  cblas_dtrsm(CblasRowMajor, CblasLeft, upper ? CblasUpper : CblasLower, CblasNoTrans, CblasNonUnit, n, k, 1.0, a, n, b, k);
}

// Below this size a factorization runs on the calling thread only (as small gemms do in
// matmul.cpp): waking OpenBLAS's workers costs more than they save, and a batch of small matrices
// is the common case here.
constexpr int64_t kThreadedLapackN = 96;

struct ThreadsFor {
  int prev = 0;
  bool single;
  explicit ThreadsFor(int64_t n) : single(n < kThreadedLapackN) {
    if (single) prev = openblas_set_num_threads_local(1);
  }
  ~ThreadsFor() {
    if (single) openblas_set_num_threads_local(prev);
  }
};

int64_t batch_of(const Tensor& t, int64_t per) { return per == 0 ? 0 : t.numel() / per; }

template <class T>
Failure solve_t(const Tensor& a, const Tensor& b, const Tensor& x) {
  const int64_t n = a.size(a.ndim() - 1), k = b.size(b.ndim() - 1), nb = batch_of(x, n * k);
  Failure f;
  if (n == 0 || k == 0) return f;
  ThreadsFor threads(n);
  std::vector<T> lu(size_t(n * n)), rhs(size_t(n * k));
  std::vector<lint> ipiv(static_cast<size_t>(n));
  const T *pa = a.data<T>(), *pb = b.data<T>();
  T* px = x.data<T>();
  for (int64_t e = 0; e < nb; e++) {
    std::memcpy(lu.data(), pa + e * n * n, sizeof(T) * size_t(n * n));  // column-major: A^T
    lint info = 0;
    getrf(lint(n), lu.data(), ipiv.data(), &info);
    if (info > 0) return {e, info};
    const T* be = pb + e * n * k;
    for (int64_t i = 0; i < n; i++)  // B column-major
      for (int64_t j = 0; j < k; j++) rhs[size_t(i + j * n)] = be[i * k + j];
    getrs('T', lint(n), lint(k), lu.data(), ipiv.data(), rhs.data(), &info);  // (A^T)^T X = B
    T* xe = px + e * n * k;
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < k; j++) xe[i * k + j] = rhs[size_t(i + j * n)];
  }
  return f;
}

template <class T>
Failure cholesky_t(const Tensor& a, const Tensor& l) {
  const int64_t n = a.size(a.ndim() - 1), nb = batch_of(a, n * n);
  if (n == 0) return {};
  ThreadsFor threads(n);
  const T* pa = a.data<T>();
  T* pl = l.data<T>();
  std::memcpy(pl, pa, sizeof(T) * size_t(nb * n * n));
  for (int64_t e = 0; e < nb; e++) {
    T* le = pl + e * n * n;
    lint info = 0;
    potrf('U', lint(n), le, &info);  // U of A^T read column-major: L of A read row-major
    if (info > 0) return {e, info};
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = i + 1; j < n; j++) le[i * n + j] = T(0);
  }
  return {};
}

template <class T>
void solve_triangular_t(const Tensor& a, const Tensor& b, bool upper, const Tensor& x) {
  const int64_t n = a.size(a.ndim() - 1), k = b.size(b.ndim() - 1), nb = batch_of(x, n * k);
  if (n == 0 || k == 0) return;
  ThreadsFor threads(n);
  std::memcpy(x.data<T>(), b.data<T>(), sizeof(T) * size_t(nb * n * k));
  for (int64_t e = 0; e < nb; e++) trsm(upper, lint(n), lint(k), a.data<T>() + e * n * n, x.data<T>() + e * n * k);
}

template <class T>
void slogdet_t(const Tensor& a, const Tensor& out) {
  const int64_t n = a.size(a.ndim() - 1), nb = out.numel() / 2;
  ThreadsFor threads(n);
  std::vector<T> lu(size_t(n * n));
  std::vector<lint> ipiv(static_cast<size_t>(n));
  T* po = out.data<T>();
  for (int64_t e = 0; e < nb; e++) {
    double sign = 1, logabs = 0;
    if (n > 0) {
      std::memcpy(lu.data(), a.data<T>() + e * n * n, sizeof(T) * size_t(n * n));  // det A^T = det A
      lint info = 0;
      getrf(lint(n), lu.data(), ipiv.data(), &info);
      if (info > 0) {
        sign = 0, logabs = -std::numeric_limits<double>::infinity();
      } else {
        for (int64_t i = 0; i < n; i++) {
          const double d = double(lu[size_t(i * n + i)]);
          logabs += std::log(std::fabs(d));
          if (d < 0) sign = -sign;
          if (ipiv[size_t(i)] != lint(i + 1)) sign = -sign;
        }
      }
    }
    po[2 * e] = T(sign);
    po[2 * e + 1] = T(logabs);
  }
}

template <class T>
bool all_finite(const T* p, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (!std::isfinite(p[i])) return false;
  return true;
}

// Row-major [m, n] -> column-major (leading dim m), and back.
template <class T>
void to_column_major(const T* a, int64_t m, int64_t n, T* cm) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) cm[i + j * m] = a[i * n + j];
}
template <class T>
void from_column_major(const T* cm, int64_t m, int64_t n, T* a) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) a[i * n + j] = cm[i + j * m];
}

template <class T>
void qr_t(const Tensor& a, const Tensor& out) {
  const int64_t m = a.size(a.ndim() - 2), n = a.size(a.ndim() - 1), k = std::min(m, n);
  const int64_t per = m * k + k * n, nb = batch_of(out, per);
  if (per == 0) return;
  ThreadsFor threads(std::max(m, n));
  std::vector<T> cm(size_t(m * n)), tau(size_t(k > 0 ? k : 1));
  lint info = 0;
  T q1 = 0, q2 = 0;
  geqrf(lint(m), lint(n), cm.data(), tau.data(), &q1, -1, &info);  // workspace queries
  orgqr(lint(m), lint(k), cm.data(), tau.data(), &q2, -1, &info);
  std::vector<T> work(size_t(std::max<int64_t>({int64_t(q1), int64_t(q2), 1})));
  for (int64_t e = 0; e < nb; e++) {
    to_column_major(a.data<T>() + e * m * n, m, n, cm.data());
    geqrf(lint(m), lint(n), cm.data(), tau.data(), work.data(), lint(work.size()), &info);
    T* q = out.data<T>() + e * per;
    T* r = q + m * k;
    for (int64_t i = 0; i < k; i++)
      for (int64_t j = 0; j < n; j++) r[i * n + j] = j >= i ? cm[size_t(i + j * m)] : T(0);
    orgqr(lint(m), lint(k), cm.data(), tau.data(), work.data(), lint(work.size()), &info);
    from_column_major(cm.data(), m, k, q);
  }
}

template <class T>
Failure svd_t(const Tensor& a, bool full, const Tensor& out) {
  const int64_t m = a.size(a.ndim() - 2), n = a.size(a.ndim() - 1), k = std::min(m, n);
  const int64_t uc = full ? m : k, vr = full ? n : k;  // U [m, uc], Vh [vr, n]
  const int64_t per = m * uc + k + vr * n, nb = batch_of(out, per);
  if (per == 0) return {};
  if (k == 0) {
    // NOTE: an empty matrix ([0, n] or [m, 0]) with full_matrices: U or Vh is the identity, as in
    // torch. Not asked of ?gesdd: its leading dimension m = 0 is illegal (LAPACK prints to stderr
    // and leaves U and Vh unwritten).
    for (int64_t e = 0; e < nb; e++) {
      T* oe = out.data<T>() + e * per;
      std::fill(oe, oe + per, T(0));
      for (int64_t i = 0; i < uc; i++) oe[i * uc + i] = T(1);
      for (int64_t i = 0; i < vr; i++) oe[m * uc + i * n + i] = T(1);
    }
    return {};
  }
  ThreadsFor threads(std::max(m, n));
  std::vector<T> cm(size_t(m * n)), u(size_t(m * uc)), vt(size_t(vr * n));
  std::vector<lint> iwork(size_t(8 * k));
  lint info = 0;
  T q = 0;
  gesdd(full, lint(m), lint(n), cm.data(), nullptr, u.data(), vt.data(), &q, -1, iwork.data(), &info);  // workspace query
  std::vector<T> work(size_t(std::max<int64_t>(int64_t(q), 1)));
  for (int64_t e = 0; e < nb; e++) {
    const T* ae = a.data<T>() + e * m * n;
    if (!all_finite(ae, m * n)) return {e, kNonFinite};
    to_column_major(ae, m, n, cm.data());
    T* oe = out.data<T>() + e * per;
    gesdd(full, lint(m), lint(n), cm.data(), oe + m * uc, u.data(), vt.data(), work.data(), lint(work.size()), iwork.data(), &info);
    if (info > 0) return {e, info};
    from_column_major(u.data(), m, uc, oe);
    from_column_major(vt.data(), vr, n, oe + m * uc + k);
  }
  return {};
}

template <class T>
Failure eigh_t(const Tensor& a, const Tensor& out) {
  const int64_t n = a.size(a.ndim() - 1), nb = batch_of(a, n * n);
  if (n == 0) return {};
  ThreadsFor threads(n);
  std::vector<T> w(size_t(n * n));
  lint info = 0, liwork = -1;
  T lwork_q = 0;
  syevd(lint(n), w.data(), nullptr, &lwork_q, -1, &liwork, -1, &info);  // workspace query
  lint lwork = lint(lwork_q);
  std::vector<T> work(size_t(lwork > 1 ? lwork : 1));
  std::vector<lint> iwork(size_t(liwork > 1 ? liwork : 1));
  T* po = out.data<T>();
  for (int64_t e = 0; e < nb; e++) {
    const T* ae = a.data<T>() + e * n * n;
    for (int64_t i = 0; i < n; i++)  // the triangle read
      for (int64_t j = 0; j <= i; j++)
        if (!std::isfinite(ae[i * n + j])) return {e, kNonFinite};
    std::memcpy(w.data(), ae, sizeof(T) * size_t(n * n));  // 'U' of A^T = lower of A
    T* oe = po + e * (n + 1) * n;
    syevd(lint(n), w.data(), oe, work.data(), lwork, iwork.data(), lint(iwork.size()), &info);
    if (info > 0) return {e, info};
    for (int64_t i = 0; i < n; i++)  // eigenvectors: the columns of the column-major result
      for (int64_t j = 0; j < n; j++) oe[(1 + i) * n + j] = w[size_t(i + j * n)];
  }
  return {};
}

}  // namespace

void qr(const Tensor& a, const Tensor& out) {
  if (a.dtype() == DType::Float32) qr_t<float>(a, out);
  else qr_t<double>(a, out);
}
Failure svd(const Tensor& a, bool full, const Tensor& out) {
  return a.dtype() == DType::Float32 ? svd_t<float>(a, full, out) : svd_t<double>(a, full, out);
}

Failure solve(const Tensor& a, const Tensor& b, const Tensor& x) {
  return a.dtype() == DType::Float32 ? solve_t<float>(a, b, x) : solve_t<double>(a, b, x);
}
Failure cholesky(const Tensor& a, const Tensor& l) {
  return a.dtype() == DType::Float32 ? cholesky_t<float>(a, l) : cholesky_t<double>(a, l);
}
void solve_triangular(const Tensor& a, const Tensor& b, bool upper, const Tensor& x) {
  if (a.dtype() == DType::Float32) solve_triangular_t<float>(a, b, upper, x);
  else solve_triangular_t<double>(a, b, upper, x);
}
void slogdet(const Tensor& a, const Tensor& out) {
  if (a.dtype() == DType::Float32) slogdet_t<float>(a, out);
  else slogdet_t<double>(a, out);
}
Failure eigh(const Tensor& a, const Tensor& out) {
  return a.dtype() == DType::Float32 ? eigh_t<float>(a, out) : eigh_t<double>(a, out);
}

}  // namespace adjoint::cpu::lapack
