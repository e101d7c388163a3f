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
// relu passes t where x > 0 (at 0 and at NaN the derivative is taken as 0, like torch's
// threshold_backward); one pass instead of a compare and a where.
Tensor relu_mask(const Tensor& t, const Tensor& x) { return O::where(O::compare(OpId::Gt, x, scalar_like(0, x)), t, scalar_like(0, t)); }
Tensor decompose_relu_backward(const Tensor* in, int, const Attrs&) { return relu_mask(in[0], in[1]); }

// erf'(x) = 2 / sqrt(pi) exp(-x^2)
Tensor erf_slope(const Tensor& x) { return O::mul(scalar_like(1.1283791670955126, x), O::exp(O::neg(O::mul(x, x)))); }
// 1 / sqrt(1 - x^2): asin' (and -acos')
Tensor asin_slope(const Tensor& x) { return O::div(scalar_like(1, x), O::sqrt(O::sub(scalar_like(1, x), O::mul(x, x)))); }

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
  ADJ_UNARY(Relu, "relu", relu, Numeric, apply2(OpId::ReluBackward, t, x));
  ADJ_UNARY(Sqrt, "sqrt", sqrt, Floating, O::mul(t, O::div(scalar_like(0.5, y), y)));
  ADJ_UNARY(Abs, "abs", abs, Numeric, O::mul(t, O::sign(x)));
  ADJ_UNARY(Sign, "sign", sign, Numeric, Tensor());  // zero almost everywhere (and at 0, like torch)
  ADJ_UNARY(Log1p, "log1p", log1p, Floating, O::div(t, O::add(x, scalar_like(1, x))));
  ADJ_UNARY(Expm1, "expm1", expm1, Floating, O::mul(t, O::add(y, scalar_like(1, y))));
  ADJ_UNARY(Erf, "erf", erf, Floating, O::mul(t, erf_slope(x)));
  ADJ_UNARY(Erfc, "erfc", erfc, Floating, O::neg(O::mul(t, erf_slope(x))));
  ADJ_UNARY(Tan, "tan", tan, Floating, O::mul(t, O::add(scalar_like(1, y), O::mul(y, y))));
  ADJ_UNARY(Asin, "asin", asin, Floating, O::mul(t, asin_slope(x)));
  ADJ_UNARY(Acos, "acos", acos, Floating, O::neg(O::mul(t, asin_slope(x))));
  ADJ_UNARY(Atan, "atan", atan, Floating, O::div(t, O::add(scalar_like(1, x), O::mul(x, x))));
  ADJ_UNARY(Sinh, "sinh", sinh, Floating, O::mul(t, O::cosh(x)));
  ADJ_UNARY(Cosh, "cosh", cosh, Floating, O::mul(t, O::sinh(x)));
  ADJ_UNARY(Log2, "log2", log2, Floating, O::div(t, O::mul(x, scalar_like(0.6931471805599453, x))));
  ADJ_UNARY(Log10, "log10", log10, Floating, O::div(t, O::mul(x, scalar_like(2.302585092994046, x))));
  // Piecewise constant: zero derivative everywhere (at the jumps too, like torch).
  ADJ_UNARY(Floor, "floor", floor, Numeric, Tensor());
  ADJ_UNARY(Ceil, "ceil", ceil, Numeric, Tensor());
  ADJ_UNARY(Round, "round", round, Numeric, Tensor());
  ADJ_UNARY(Trunc, "trunc", trunc, Numeric, Tensor());

  ADJ_PREDICATE(IsNan, "isnan", isnan);
  ADJ_PREDICATE(IsInf, "isinf", isinf);
  ADJ_PREDICATE(IsFinite, "isfinite", isfinite);
  ADJ_PREDICATE(LogicalNot, "logical_not", logical_not);

  ADJ_BINARY(TanhBackward, "tanh_backward", tanh_backward, None, kFused, Tensor(), Tensor()).decompose = decompose_tanh_backward;
  ADJ_BINARY(SigmoidBackward, "sigmoid_backward", sigmoid_backward, None, kFused, Tensor(), Tensor()).decompose =
      decompose_sigmoid_backward;
  ADJ_BINARY(ReluBackward, "relu_backward", relu_backward, None, kFused, Tensor(), Tensor()).decompose = decompose_relu_backward;
}

}  // namespace adjoint
