// The C++ functional API of the core: one function per op, primitive or composite.
// Primitives go through dispatch (interp/dispatch.h) so that transforms see them.
#pragma once
#include <tuple>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "ops/op.h"

namespace adjoint {
class Generator;
}

namespace adjoint::ops {

// --- elementwise ---
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor compare(OpId op, const Tensor& a, const Tensor& b);  // Eq..Ge -> bool
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor to(const Tensor& x, DType dtype);

// --- reductions ---
Tensor sum(const Tensor& x, const Dims& dims, bool keepdim);  // empty dims = all
Tensor amax(const Tensor& x, const Dims& dims, bool keepdim);
Tensor mean(const Tensor& x, const Dims& dims, bool keepdim);
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim);
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// --- linear algebra ---
Tensor matmul(const Tensor& a, const Tensor& b);            // 1-D, 2-D and batched, like torch.matmul
Tensor linear(const Tensor& x, const Tensor& w, const Tensor* b);  // x @ w^T + b

// --- torch.linalg on LAPACK (ops/linalg_solve.cpp, ops/linalg_decomp.cpp): A is [..., n, n],
// batched over its leading dims (broadcast against B's); float32 and float64; CPU.
Tensor linalg_solve(const Tensor& a, const Tensor& b);  // B [..., n, k], or [n] / A.shape[:-1] (a vector)
Tensor linalg_solve_triangular(const Tensor& a, const Tensor& b, bool upper, bool left = true);
Tensor linalg_cholesky(const Tensor& a, bool upper = false);
Tensor linalg_inv(const Tensor& a);
Tensor linalg_det(const Tensor& a);
std::pair<Tensor, Tensor> linalg_slogdet(const Tensor& a);  // (sign, log|det|)
std::pair<Tensor, Tensor> linalg_eigh(const Tensor& a);     // (eigenvalues ascending, eigenvectors as columns)
Tensor linalg_eigvalsh(const Tensor& a);
// A [..., m, n] (any m, n) from here on
std::pair<Tensor, Tensor> linalg_qr(const Tensor& a);  // reduced: Q [..., m, k], R [..., k, n], k = min(m, n)
std::tuple<Tensor, Tensor, Tensor> linalg_svd(const Tensor& a, bool full_matrices);  // U, S (descending), Vh
Tensor linalg_svdvals(const Tensor& a);
Tensor linalg_pinv(const Tensor& a, double atol = 0, double rtol = -1);  // rtol < 0: torch's default
Tensor linalg_lstsq(const Tensor& a, const Tensor& b);  // full-rank A
Tensor linalg_vector_norm(const Tensor& x, double ord, const Dims& dims, bool keepdim);  // empty dims = all
Tensor linalg_matrix_norm(const Tensor& a, double ord, int kind, bool keepdim);  // kind: 0 ord, 1 "fro", 2 "nuc"

// --- views and data movement ---
Tensor reshape(const Tensor& x, const Dims& shape);  // one -1 allowed; copies only if it must
Tensor view(const Tensor& x, const Dims& shape);     // like reshape but never copies (error instead)
Tensor permute(const Tensor& x, const Dims& perm);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor movedim(const Tensor& x, int64_t src, int64_t dst);
Tensor expand(const Tensor& x, const Dims& shape);  // -1 keeps a size
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor squeeze(const Tensor& x, const Dims& dims);  // empty dims = all size-1 dims
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor contiguous(const Tensor& x);
Tensor detach(const Tensor& x);  // the same values with no derivative at any level (stop_gradient)
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);
// zeros of size `size` along dim with g placed at slice(dim, start, end, step): the adjoint of slice.
Tensor slice_backward(const Tensor& g, int64_t dim, int64_t start, int64_t end, int64_t step, int64_t size);
// zeros of size `size` along dim with the rows of g added at `index`: the adjoint of index_select.
Tensor index_add(const Tensor& g, int64_t dim, const Tensor& index, int64_t size);
// g summed over broadcast dims down to `shape` (the adjoint of broadcasting).
Tensor sum_to(const Tensor& g, const Dims& shape);

// --- creation ---
Tensor full(const Dims& shape, double value, DType dtype, Device device = {});
Tensor zeros(const Dims& shape, DType dtype, Device device = {});
Tensor ones(const Dims& shape, DType dtype, Device device = {});
Tensor scalar(double value, DType dtype, Device device = {});
Tensor zeros_like(const Tensor& t);  // concrete zeros with t's (per-example) shape and dtype
Tensor eye(int64_t n, int64_t m, DType dtype, Device device = {});
Tensor arange(double start, double end, double step, DType dtype, Device device = {});
Tensor randn(Generator& g, const Dims& shape, DType dtype, Device device = {});
Tensor rand(Generator& g, const Dims& shape, DType dtype, Device device = {});
Tensor from_data(const void* data, const Dims& shape, DType dtype, Device device = {});

// --- checks of values ---
// Throws (Index) naming `op`, the value and the class count unless every value `target` stands
// for (int64; behind any tracers) lies in [0, classes): the targets of a classification loss.
void check_class_targets(const Tensor& target, int64_t classes, const char* op);

}  // namespace adjoint::ops
