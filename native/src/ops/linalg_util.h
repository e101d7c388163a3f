// Helpers shared by the LAPACK-backed op families (linalg_solve.cpp, linalg_decomp.cpp): argument
// checks with torch's wording, dense copies for the kernels, the batch-element error prefix, and
// small matrix composites (transpose, triangles, diagonals) that their rules are written in.
#pragma once
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "ops/op_util.h"
#include "ops/ops.h"

namespace adjoint::linalg {

// A [..., n, n] floating matrix (or batch of them) on the CPU, n small enough for LAPACK's int.
inline void check_square(const char* op, const Tensor& a, const char* what = "A") {
  ADJ_CHECK(is_floating(a.dtype()), ErrorKind::DType, op,
            "expected " << what << " to be a float32 or float64 tensor, got " << dtype_name(a.dtype()) << " " << a.shape().str());
  ADJ_CHECK(a.ndim() >= 2, ErrorKind::Shape, op,
            what << " must have at least 2 dimensions ([..., n, n]), got " << a.shape().str());
  ADJ_CHECK(a.size(a.ndim() - 1) == a.size(a.ndim() - 2), ErrorKind::Shape, op,
            what << " must be batches of square matrices, got " << a.shape().str());
  ADJ_CHECK(a.size(a.ndim() - 1) <= INT_MAX, ErrorKind::Shape, op, "matrix size " << a.size(a.ndim() - 1) << " exceeds LAPACK's int range");
  ADJ_CHECK(a.device().type == DeviceType::CPU, ErrorKind::Unsupported, op, "runs on the CPU only, got a tensor on " << a.device().str());
}

// The leading (batch) dims of a [..., r, c] tensor.
inline Dims batch_dims(const Tensor& t) { return Dims::of(t.shape().data(), t.ndim() - 2); }

inline Dims with_matrix(Dims batch, int64_t r, int64_t c) {
  batch.push_back(r);
  batch.push_back(c);
  return batch;
}

// t broadcast to `shape` and laid out contiguously (row-major), as the LAPACK kernels take it.
inline Tensor dense(const Tensor& t, const Dims& shape, const char* op) {
  if (t.shape() == shape && t.is_contiguous()) return t;
  Tensor out = Tensor::empty(shape, t.dtype(), t.device(), op);
  backend_of(t).copy(broadcast_view(t, shape), out);
  return out;
}

// "(Batch element 3): " when the input has batch dims, as torch writes it; else nothing. Under
// vmap the index counts the vmapped dims too (they are leading batch dims of the kernel call).
inline std::string batch_prefix(const Dims& batch, int64_t element) {
  return batch.n > 0 ? "(Batch element " + std::to_string(element) + "): " : std::string();
}

// ---- composites the rules are written in (each reaches dispatch, so every transform sees it)

inline Tensor mT(const Tensor& x) { return ops::transpose(x, -1, -2); }

// A constant n x n mask of x's dtype: entry (i, j) = value(i, j).
template <class F>
Tensor matrix_constant(int64_t n, DType dt, F value) {
  std::vector<double> v(size_t(n * n));
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) v[size_t(i * n + j)] = value(i, j);
  Tensor t = ops::from_data(v.data(), Dims{n, n}, DType::Float64);
  return dt == DType::Float64 ? t : ops::to(t, dt);
}

inline int64_t last(const Tensor& x) { return x.size(x.ndim() - 1); }

// A constant n x n bool mask: entry (i, j) = pred(i, j).
template <class F>
Tensor matrix_mask(int64_t n, F pred) {
  std::vector<uint8_t> v(size_t(n * n));
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < n; j++) v[size_t(i * n + j)] = pred(i, j) ? 1 : 0;
  return ops::from_data(v.data(), Dims{n, n}, DType::Bool);
}

// The lower (upper) triangle of square matrices x, diagonal included; zeros elsewhere (where,
// not a product with a 0/1 mask: an Inf above the diagonal must not become NaN).
inline Tensor triangle(const Tensor& x, bool upper) {
  Tensor mask = matrix_mask(last(x), [&](int64_t i, int64_t j) { return upper ? j >= i : i >= j; });
  return ops::where(mask, x, ops::scalar(0, x.dtype(), x.device()));
}

// (x + x^T) / 2: the symmetric part, the tangent directions of an op that reads one triangle of a
// symmetric input (cholesky, eigh), so that jvp and vjp are adjoint on symmetric matrices.
inline Tensor sym(const Tensor& x) { return ops::mul(ops::add(x, mT(x)), ops::scalar(0.5, x.dtype(), x.device())); }

inline Tensor eye_like(const Tensor& x) { return ops::eye(last(x), last(x), x.dtype(), x.device()); }

// The diagonals of x [..., n, n] as [..., n].
inline Tensor diagonal(const Tensor& x) { return ops::sum(ops::mul(x, eye_like(x)), Dims{-1}, false); }

// Square matrices [..., n, n] with v [..., n] on their diagonals.
inline Tensor diag_embed(const Tensor& v) {
  return ops::mul(ops::unsqueeze(v, -1), ops::eye(last(v), last(v), v.dtype(), v.device()));
}

// ---- ops with several outputs (eigh, qr, svd) return one tensor with the parts flat, side by
// side, in the last dim; these take it apart and put it together.

// [..., r, c] -> [..., r c]
inline Tensor flat_matrix(const Tensor& x) {
  Dims s = batch_dims(x);
  s.push_back(x.size(x.ndim() - 2) * x.size(x.ndim() - 1));
  return ops::reshape(x, s);
}

// The part at [off, off + r c) of packed [..., len] as [..., r, c].
inline Tensor unpack_matrix(const Tensor& packed, int64_t off, int64_t r, int64_t c) {
  Dims s = Dims::of(packed.shape().data(), packed.ndim() - 1);
  s.push_back(r);
  s.push_back(c);
  return ops::reshape(ops::slice(packed, -1, off, off + r * c, 1), s);
}

// The part at [off, off + r) of packed [..., len] as [..., r].
inline Tensor unpack_vector(const Tensor& packed, int64_t off, int64_t r) { return ops::slice(packed, -1, off, off + r, 1); }

// x / d where d != 0, and 0 where d == 0, with no 0 / 0 in any derivative order (the value of an
// undefined derivative term that this library takes as zero; see the NOTE where it is used).
inline Tensor div_or_zero(const Tensor& x, const Tensor& d) {
  Tensor zero = ops::scalar(0, d.dtype(), d.device());
  Tensor is_zero = ops::compare(OpId::Eq, d, zero);
  return ops::where(is_zero, zero, ops::div(x, ops::where(is_zero, ops::scalar(1, d.dtype(), d.device()), d)));
}

}  // namespace adjoint::linalg
