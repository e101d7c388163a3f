// The C++ functional API of the core: one function per op, primitive or composite.
// Primitives go through dispatch (interp/dispatch.h) so that transforms see them.
#pragma once
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

// --- linear algebra ---
Tensor matmul(const Tensor& a, const Tensor& b);            // 1-D, 2-D and batched, like torch.matmul
Tensor linear(const Tensor& x, const Tensor& w, const Tensor* b);  // x @ w^T + b

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
