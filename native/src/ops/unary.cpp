// The unary elementwise primitives, one line each: name, kernel (backends/kernels.h), the input
// dtypes it takes, and its derivative as the map of a (co)tangent t given input x and output y
// (ops/elementwise.h makes meta, eval, jvp, vjp and batching of it).
#include "interp/rules.h"
#include "ops/elementwise.h"

namespace adjoint {
namespace {

namespace O = ops;
using rules::scalar_like;

// Structured batching (interp/onehot.h): the negation of a one-hot value stays one-hot.
Tensor onehot_neg(const OnehotCall& c) { return c.wrap(c.index[c.oh], O::neg(c.scale[c.oh]), c.shape()); }

// tanh' and sigmoid' from the output y; `g * f'` runs as one fused kernel when nothing is traced
// (a plain backward pass), else as this same product (OpDef::decompose).
Tensor tanh_derivative(const Tensor& y) { return O::sub(scalar_like(1, y), O::mul(y, y)); }
Tensor sigmoid_derivative(const Tensor& y) { return O::mul(y, O::sub(scalar_like(1, y), y)); }
Tensor decompose_tanh_backward(const Tensor* in, int, const Attrs&) { return O::mul(in[0], tanh_derivative(in[1])); }
Tensor decompose_sigmoid_backward(const Tensor* in, int, const Attrs&) { return O::mul(in[0], sigmoid_derivative(in[1])); }

}  // namespace

void register_unary_ops(OpDef* table) {
  using elementwise::kFused;
  ADJ_UNARY(Neg, "neg", neg, Numeric, O::neg(t)).onehot = onehot_neg;
  ADJ_UNARY(Exp, "exp", exp, Floating, O::mul(t, y));
  ADJ_UNARY(Log, "log", log, Floating, O::mul(t, O::div(scalar_like(1, x), x)));
  ADJ_UNARY(Sin, "sin", sin, Floating, O::mul(t, O::cos(x)));
  ADJ_UNARY(Cos, "cos", cos, Floating, O::mul(t, O::neg(O::sin(x))));
  ADJ_UNARY(Tanh, "tanh", tanh, Floating, apply2(OpId::TanhBackward, t, y));
  ADJ_UNARY(Sigmoid, "sigmoid", sigmoid, Floating, apply2(OpId::SigmoidBackward, t, y));
  // At 0 the derivative is taken as 0, like torch: relu passes t where x > 0.
  ADJ_UNARY(Relu, "relu", relu, Numeric, O::where(O::compare(OpId::Gt, x, scalar_like(0, x)), t, scalar_like(0, t)));
  ADJ_UNARY(Sqrt, "sqrt", sqrt, Floating, O::mul(t, O::div(scalar_like(0.5, y), y)));
  ADJ_UNARY(Abs, "abs", abs, Numeric, O::mul(t, O::sign(x)));
  ADJ_UNARY(Sign, "sign", sign, Numeric, Tensor());  // zero almost everywhere (and at 0, like torch)

  ADJ_BINARY(TanhBackward, "tanh_backward", tanh_backward, None, kFused, Tensor(), Tensor()).decompose = decompose_tanh_backward;
  ADJ_BINARY(SigmoidBackward, "sigmoid_backward", sigmoid_backward, None, kFused, Tensor(), Tensor()).decompose =
      decompose_sigmoid_backward;
}

}  // namespace adjoint
