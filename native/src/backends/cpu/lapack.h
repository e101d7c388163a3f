// LAPACK kernels on the CPU (OpenBLAS's LAPACK, in the same libopenblas.so.0 as its BLAS): one
// loop over the batch of matrices per call, so that a vmap'd call (whose batch dim the op folds
// into the leading dims) is still one kernel call. float32 and float64.
//
// NOTE: kernel contracts. Every tensor is contiguous and row-major, the inputs already broadcast
// to the batch of the output; `batch` is the product of the leading dims. Outputs are fresh. The
// kernels report failures (a singular or non-positive-definite matrix) as the first failing batch
// element and LAPACK's info for it; the op layer turns that into its error message.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace adjoint::cpu::lapack {

struct Failure {
  int64_t batch = -1;  // the first batch element that failed, or -1
  int64_t info = 0;    // LAPACK's info (> 0) for it, or kNonFinite
  bool failed() const { return batch >= 0; }
};
// The element held an Inf or NaN (eigh and svd refuse it, as torch does: LAPACK's iterations are
// not defined for it).
constexpr int64_t kNonFinite = -1;

// a [batch, n, n], b [batch, n, k] -> x [batch, n, k] = a^-1 b (LU with partial pivoting, ?gesv).
// info = i: U(i, i) is exactly zero (the matrix is singular).
Failure solve(const Tensor& a, const Tensor& b, const Tensor& x);

// a [batch, n, n] -> l [batch, n, n], lower with a = l l^T; only a's lower triangle is read
// (?potrf). info = i: the leading minor of order i is not positive-definite.
Failure cholesky(const Tensor& a, const Tensor& l);

// a [batch, n, n] triangular (only the triangle named by `upper` is read), b [batch, n, k]
// -> x = a^-1 b (?trsm; a zero on the diagonal gives Inf/NaN, as in torch).
void solve_triangular(const Tensor& a, const Tensor& b, bool upper, const Tensor& x);

// a [batch, n, n] -> out [batch, 2] = (sign of det a, log |det a|) by LU (?getrf); a singular
// matrix gives (0, -inf), as in torch.
void slogdet(const Tensor& a, const Tensor& out);

// a [batch, n, n] symmetric (only its lower triangle is read) -> out [batch, n + 1, n]: row 0 the
// eigenvalues in ascending order, rows 1..n the matrix whose columns are the eigenvectors
// (?syevd). info > 0: the algorithm did not converge.
Failure eigh(const Tensor& a, const Tensor& out);

// a [batch, m, n] -> out [batch, m k + k n] with k = min(m, n): the reduced QR factors Q [m, k]
// (orthonormal columns) then R [k, n] (upper triangular), each row-major (?geqrf, ?orgqr).
void qr(const Tensor& a, const Tensor& out);

// a [batch, m, n] -> out [batch, m k + k + k n]: the reduced SVD U [m, k], S [k] (descending),
// Vh [k, n], each row-major (?gesdd); with `full`, U [m, m] and Vh [n, n] (out [batch, m m + k +
// n n]). info > 0: the algorithm did not converge.
Failure svd(const Tensor& a, bool full, const Tensor& out);

}  // namespace adjoint::cpu::lapack
