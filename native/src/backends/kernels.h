// The kernels that op definitions name (OpDef::kernels in ops/op.h). A kernel holds one function
// per backend kind; a backend runs its own slot and never switches on ops, so adding an op adds a
// kernel definition (backends/cpu/elementwise.cpp, reduce.cpp) and no case anywhere.
//
// NOTE: kernel contracts as in backend.h: `out` is fresh and contiguous unless said otherwise,
// inputs are views already broadcast to out's shape, dtypes checked by the op layer.
#pragma once
#include <cstdint>

namespace adjoint {

class Tensor;

// A predicate (isnan, logical_not) writes bool.
struct UnaryKernel {
  void (*cpu)(const Tensor& x, const Tensor& out);
};
// a, b: out's shape (broadcast views). A comparison writes bool; so does a predicate (isnan).
struct BinaryKernel {
  void (*cpu)(const Tensor& a, const Tensor& b, const Tensor& out);
};
// out_view is `out` viewed with x's shape (stride 0 on the reduced dims).
struct ReduceKernel {
  void (*cpu)(const Tensor& x, const Tensor& out_view, const Tensor& out);
};

// The geometry of a 2-D convolution (NCHW): input [n, c, h, w], weight [o, c / groups, kh, kw],
// output [n, o, oh, ow] with oh = (h + 2 ph - dh (kh - 1) - 1) / sh + 1 (ow likewise).
struct ConvGeom {
  int64_t n, c, h, w, o, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, groups;
};
// The three products of a convolution, all bilinear: conv2d (a = x, b = weight, out = y), its
// input gradient (a = g, b = weight, out = x's shape: the transposed convolution) and its weight
// gradient (a = x, b = g, out = weight's shape). Inputs contiguous, out fresh and contiguous.
struct ConvKernel {
  void (*cpu)(const Tensor& a, const Tensor& b, const ConvGeom& g, const Tensor& out);
};
// conv2d with its bias added (bias [o], contiguous) as each image's output is made, while it is in
// cache: the separate broadcast add was a pass over the whole output (4.5% of W11's CNN).
struct ConvBiasKernel {
  void (*cpu)(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeom& g, const Tensor& out);
};

// Max pooling windows over the last two dims of contiguous [planes, h, w] values (any leading dims
// merged into planes): kh x kw windows every sh, sw elements, oh = (h - kh) / sh + 1.
struct PoolGeom {
  int64_t planes, h, w, kh, kw, sh, sw, oh, ow;
};
// Both find each window's maximum in `x` (torch's rule: the first maximum in row-major window
// order, a NaN wins) and move `v` through it: the gather takes v [planes, h, w] at those places
// into out [planes, oh, ow]; the scatter adds v [planes, oh, ow] there into zeros out [planes, h, w].
struct PoolKernel {
  void (*cpu)(const Tensor& v, const Tensor& x, const PoolGeom& g, const Tensor& out);
};

// Gather and scatter along `dim` (ops/gather_scatter.cpp), iterating over the int64 `index`: `x`
// and `out` have index's rank (a 0-d operand viewed as [1]). gather: out (fresh, index's shape)
// takes x at index along dim, x's other dims as index's; scatter / scatter_add: out (a fresh copy of
// self) gets src's element (src viewed with index's shape) written or added at index along dim, in
// index's row-major order. Returns false, with the offending value in *bad, at the first index
// outside [0, x.size(dim)) (gather) or [0, out.size(dim)) (scatter): no access is made there.
struct IndexedKernel {
  bool (*cpu)(const Tensor& index, const Tensor& x, int dim, const Tensor& out, int64_t* bad);
};

// Kernels along one dim (scans, products, arg-reductions, sorts): contiguous inputs viewed as
// [outer, n, inner] with the dim in the middle, out fresh and contiguous [outer, m, inner] (m: n for
// a scan, 1 for a reduction, k for the k first of a sort); `flag` is the op's (reverse, descending).
struct DimGeom {
  int64_t outer, n, inner, m;
  bool flag;
};
struct DimKernel {
  void (*cpu)(const Tensor* in, int nin, const DimGeom& g, const Tensor& out);
};

namespace kernels {

extern const UnaryKernel neg, exp, log, sin, cos, tanh, sigmoid, relu, sqrt, abs, sign;
extern const UnaryKernel log1p, expm1, erf, erfc, tan, asin, acos, atan, sinh, cosh, log2, log10;
extern const UnaryKernel floor, ceil, round, trunc;
extern const UnaryKernel isnan, isinf, isfinite, logical_not;  // bool results
extern const BinaryKernel add, sub, mul, div, pow, maximum, minimum, atan2, fmod, remainder;
extern const BinaryKernel eq, ne, lt, le, gt, ge, logical_and, logical_or;  // bool results
// g * tanh'(x) and g * sigmoid'(x) from the output y: x * (1 - y * y), x * (y * (1 - y)).
extern const BinaryKernel tanh_backward, sigmoid_backward, relu_backward;
extern const ReduceKernel sum, amax;
extern const ConvKernel conv2d, conv2d_input_grad, conv2d_weight_grad;
extern const ConvBiasKernel conv2d_bias;
extern const PoolKernel max_pool2d_gather, max_pool2d_scatter;
extern const IndexedKernel gather, scatter, scatter_add;
// Along one dim (backends/cpu/along_dim.cpp). Scans: cumsum (flag: from the end), cumprod,
// logcumsumexp, linear_scan (in = {a, b}: h_0 = b_0, h_k = b_k + a_k h_{k-1}; from the end when
// flag: h_{n-1} = b_{n-1}, h_k = b_k + a_{k+1} h_{k+1}; a_0 is never read). Reductions to m = 1:
// prod, argmax, argmin (int64, the first extreme, a NaN wins). argsort: the int64 positions of the m first in ascending (descending when flag) order, NaN
// largest, ties in index order (stable).
extern const DimKernel cumsum, cumprod, logcumsumexp, linear_scan, prod, argmax, argmin, argsort;

}  // namespace kernels
}  // namespace adjoint
