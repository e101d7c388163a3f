// The C++ functional API of the core: one function per op, primitive or composite.
// Primitives go through dispatch (interp/dispatch.h) so that transforms see them.
#pragma once
#include <string>
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
Tensor log1p(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor erfc(const Tensor& x);
Tensor tan(const Tensor& x);
Tensor asin(const Tensor& x);
Tensor acos(const Tensor& x);
Tensor atan(const Tensor& x);
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
Tensor log2(const Tensor& x);
Tensor log10(const Tensor& x);
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor round(const Tensor& x);  // halves to even
Tensor trunc(const Tensor& x);
Tensor isnan(const Tensor& x);  // bool results, any input dtype
Tensor isinf(const Tensor& x);
Tensor isfinite(const Tensor& x);
Tensor logical_not(const Tensor& x);
// Composites, exact in their parts: x * x, 1 / x (true division: integers give floats), 1 / sqrt(x).
Tensor square(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // NaN propagates; ties share the derivative
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor atan2(const Tensor& a, const Tensor& b);
Tensor fmod(const Tensor& a, const Tensor& b);       // the sign of a (C's fmod)
Tensor remainder(const Tensor& a, const Tensor& b);  // the sign of b (Python's %)
Tensor logical_and(const Tensor& a, const Tensor& b);  // bool results, any input dtypes
Tensor logical_or(const Tensor& a, const Tensor& b);
// min(max(x, lo), hi) with either bound absent (null), broadcasting: the derivative reaches x where
// lo <= x <= hi (at the bounds too), lo where x < lo, hi where the result is hi, like torch.
Tensor clamp(const Tensor& x, const Tensor* lo, const Tensor* hi);
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

// --- scans and products along one dim (ops/scan.cpp): bool counts as int64, like torch ---
Tensor cumsum(const Tensor& x, int64_t dim);
Tensor cumprod(const Tensor& x, int64_t dim);  // gradient without division: right with zeros
Tensor logcumsumexp(const Tensor& x, int64_t dim);  // floating; stable for large and -inf entries
Tensor prod(const Tensor& x, int64_t dim, bool keepdim);
Tensor prod(const Tensor& x);  // all elements, 0-d
// h_0 = b_0, h_k = b_k + a_k h_{k-1} along dim (a, b of one shape); reverse: h_{n-1} = b_{n-1},
// h_k = b_k + a_{k+1} h_{k+1}. a_0 is never read. The derivatives of the scans are written in it.
Tensor linear_scan(const Tensor& a, const Tensor& b, int64_t dim, bool reverse);

// --- positions of extremes and sorted order, and the values there (ops/sort.cpp) ---
// int64 positions: the first extreme along dim, a NaN counting as the extreme (torch's rule).
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim);
Tensor argmax(const Tensor& x);  // over every element (row-major position), 0-d
Tensor argmin(const Tensor& x);
// (values, indices): the gradient of values reaches the selected element only (torch's rule).
std::pair<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim);
std::pair<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim);
// Stable (ties in index order), NaN largest; topk: the k largest (smallest unless largest), sorted.
std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending);
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest);

// --- statistics and vector norms (ops/nn.cpp) ---
Tensor var(const Tensor& x, const Dims& dims, double correction, bool keepdim);  // empty dims = all
Tensor stddev(const Tensor& x, const Dims& dims, double correction, bool keepdim);
Tensor norm(const Tensor& x, double p, const Dims& dims, bool keepdim);  // p > 0 or INFINITY; 0 subgradient at 0

// --- neural-network functions, torch.nn.functional's (ops/nn.cpp); losses take the mean ---
Tensor gelu(const Tensor& x, bool tanh_approx);
Tensor silu(const Tensor& x);
Tensor softplus(const Tensor& x, double beta, double threshold);
Tensor elu(const Tensor& x, double alpha);
Tensor leaky_relu(const Tensor& x, double slope);
Tensor log_sigmoid(const Tensor& x);
Tensor mse_loss(const Tensor& input, const Tensor& target);
Tensor l1_loss(const Tensor& input, const Tensor& target);
Tensor huber_loss(const Tensor& input, const Tensor& target, double delta);
Tensor binary_cross_entropy(const Tensor& p, const Tensor& target);
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target);
Tensor one_hot(const Tensor& target, int64_t classes);  // int64 [..., classes]
Tensor normalize(const Tensor& x, double p, int64_t dim, double eps);
Tensor cosine_similarity(const Tensor& a, const Tensor& b, int64_t dim, double eps);
Tensor layer_norm(const Tensor& x, const Dims& normalized_shape, const Tensor* w, const Tensor* b, double eps);
Tensor group_norm(const Tensor& x, int64_t groups, const Tensor* w, const Tensor* b, double eps);
Tensor batch_norm(const Tensor& x, const Tensor* running_mean, const Tensor* running_var, const Tensor* w, const Tensor* b,
                  bool training, double eps);
Tensor dropout(Generator& g, const Tensor& x, double p, bool training);
Tensor embedding(const Tensor& indices, const Tensor& weight);

// --- shape, index and reduction composites, torch's names (ops/shape_composites.cpp) ---
Tensor amin(const Tensor& x, const Dims& dims, bool keepdim);  // empty dims = all
Tensor all(const Tensor& x);  // bool 0-d: every element nonzero
Tensor any(const Tensor& x);  // bool 0-d: some element nonzero
Tensor flip(const Tensor& x, const Dims& dims);
Tensor roll(const Tensor& x, int64_t shift, int64_t dim);
Tensor tril(const Tensor& x, int64_t k);  // the last two dims
Tensor triu(const Tensor& x, int64_t k);
Tensor diagonal(const Tensor& x, int64_t offset, int64_t dim1, int64_t dim2);  // the diagonal last
Tensor trace(const Tensor& x);
Tensor outer(const Tensor& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
Tensor repeat(const Tensor& x, const Dims& sizes);
Tensor diag(const Tensor& v, int64_t offset);  // vector -> matrix, matrix -> its diagonal
Tensor linspace(double start, double end, int64_t steps, DType dtype, Device device = {});

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
// --- convolution, pooling, padding (ops/conv.cpp, ops/pool.cpp) ---
// torch.nn.functional's conv2d / conv1d: x [N, C, H, W] or unbatched [C, H, W] (1-D: [N, C, L] or
// [C, L]), w [O, C / groups, kH, kW] ([O, C / groups, kL]), b [O] or null; stride, padding and
// dilation with one entry (every spatial dim) or one per spatial dim.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor* b, const Dims& stride, const Dims& padding, const Dims& dilation,
              int64_t groups);
Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor* b, const Dims& stride, const Dims& padding, const Dims& dilation,
              int64_t groups);
// [C, H, W] or [N, C, H, W]: square windows, no padding, torch's gradient at ties (one element).
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride);
Tensor avg_pool2d(const Tensor& x, int64_t kernel);  // stride = kernel
// Constant zero padding in torch's order (the last dim's before/after first); negative removes.
Tensor pad(const Tensor& x, const Dims& pads);

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
// --- gather and scatter along a dim, torch's (ops/gather_scatter.cpp) ---
// index int64 with the input's rank, no larger than it apart from dim (and than src everywhere);
// values in [0, size of dim), checked. scatter with a repeated index keeps one of the writes.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, double value);
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
// torch's index_add: self with source's slabs along dim added at the 1-D index (repeats add up).
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source);
// torch.einsum (ops/einsum.cpp): explicit or implicit output, '...', repeated subscripts
// (diagonals); operands contracted left to right with matmul.
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);

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
