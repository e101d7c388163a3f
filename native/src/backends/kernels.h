// The kernels that op definitions name (OpDef::kernels in ops/op.h). A kernel holds one function
// per backend kind; a backend runs its own slot and never switches on ops, so adding an op adds a
// kernel definition (backends/cpu/elementwise.cpp, reduce.cpp) and no case anywhere.
//
// NOTE: kernel contracts as in backend.h: `out` is fresh and contiguous unless said otherwise,
// inputs are views already broadcast to out's shape, dtypes checked by the op layer.
#pragma once

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

namespace kernels {

extern const UnaryKernel neg, exp, log, sin, cos, tanh, sigmoid, relu, sqrt, abs, sign;
extern const UnaryKernel log1p, expm1, erf, erfc, tan, asin, acos, atan, sinh, cosh, log2, log10;
extern const UnaryKernel floor, ceil, round, trunc;
extern const UnaryKernel isnan, isinf, isfinite, logical_not;  // bool results
extern const BinaryKernel add, sub, mul, div, pow, maximum, minimum, atan2, fmod, remainder;
extern const BinaryKernel eq, ne, lt, le, gt, ge, logical_and, logical_or;  // bool results
// g * tanh'(x) and g * sigmoid'(x) from the output y: x * (1 - y * y), x * (y * (1 - y)).
extern const BinaryKernel tanh_backward, sigmoid_backward;
extern const ReduceKernel sum, amax;

}  // namespace kernels
}  // namespace adjoint
