// The broadcasting binary primitives and the comparisons, one line each: name, kernel
// (backends/kernels.h), type promotion, flags (ops/elementwise.h), and the partial derivatives
// d y / d a and d y / d b as multipliers of the (co)tangent (undefined = 1).
#include "interp/rules.h"
#include "ops/elementwise.h"

namespace adjoint {
namespace {

namespace O = ops;
using rules::scalar_like;

// d/da a^b = b a^(b-1), and 0 where b == 0 (a^0 is constant; torch and JAX mask it too), with the
// base read as 1 there so that no derivative of the masked branch is 0 * 0^-1 (NaN e.g. in the
// third derivative of x^2 at x = 0).
Tensor pow_base_partial(const Tensor& a, const Tensor& b, const Tensor& y) {
  Tensor bz = O::compare(OpId::Eq, b, scalar_like(0, b));
  Tensor base = O::where(bz, scalar_like(1, a), a);
  return O::where(bz, scalar_like(0, y), O::mul(b, O::pow(base, O::sub(b, scalar_like(1, b)))));
}

// d/db a^b = a^b log a; taken as 0 where a == 0 (the limit for b > 0), like PyTorch. The log
// reads 1 there: a masked-off log(0) would still send 0 * inf = NaN into second derivatives.
Tensor pow_exponent_partial(const Tensor& a, const Tensor& y) {
  Tensor zero = O::compare(OpId::Eq, a, scalar_like(0, a));
  return O::where(zero, scalar_like(0, y), O::mul(y, O::log(O::where(zero, scalar_like(1, a), a))));
}

// maximum/minimum: the winner takes the (co)tangent, ties share it evenly (torch's convention), and
// a NaN input takes it (as in torch: neither loses). `loses` is the comparison that makes a lose.
Tensor tie_share(OpId loses, const Tensor& a, const Tensor& b, const Tensor& y) {
  return O::where(O::compare(loses, a, b), scalar_like(0, y),
                  O::where(O::compare(OpId::Eq, a, b), scalar_like(0.5, y), scalar_like(1, y)));
}

// atan2(a, b): d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2) (NaN at the origin, as in torch).
Tensor atan2_partial(const Tensor& num, const Tensor& a, const Tensor& b) {
  return O::div(num, O::add(O::mul(a, a), O::mul(b, b)));
}

// Structured batching (interp/onehot.h): a one-hot input stays one-hot.

// onehot * u, u * onehot, onehot / u with u unbatched: each entry scales by u at its position.
template <OpId Op>
Tensor onehot_scale(const OnehotCall& c) {
  if (c.n_oh != 1 || (Op == OpId::Div && c.oh != 0)) return Tensor();
  const Tensor &x = c.in[c.oh], &u = c.in[1 - c.oh];
  if (u.dtype() != x.dtype()) return Tensor();
  // u may add leading size-1 dims (a [1, n] cotangent times an [n] one-hot): the result has the
  // same elements in the same flat order, so each example keeps its positions.
  const Dims r = broadcast_shapes(c.shape(), u.shape(), op_name(Op));
  if (numel_of(r) != numel_of(c.shape())) return Tensor();
  if (!onehot::finite_operand(u, Op == OpId::Div)) return Tensor();
  Tensor g = onehot::gather(u, r, c.index[c.oh]);
  // 1 * g is g bit for bit (see eval_binary's NOTE): the basis's scale costs no pass.
  Tensor sc = Op == OpId::Mul ? (onehot::all_ones(c.scale[c.oh]) ? g : O::mul(c.scale[c.oh], g)) : O::div(c.scale[c.oh], g);
  return c.wrap(c.index[c.oh], onehot::mask_invalid(sc, c.index[c.oh]), r);
}

// Two one-hots with the same positions (cotangents accumulated in backward).
template <OpId Op>
Tensor onehot_accumulate(const OnehotCall& c) {
  if (c.n_oh != 2 || c.in[0].shape() != c.in[1].shape() || c.index[0].impl() != c.index[1].impl()) return Tensor();
  return c.wrap(c.index[0], Op == OpId::Add ? O::add(c.scale[0], c.scale[1]) : O::sub(c.scale[0], c.scale[1]), c.shape());
}

}  // namespace

void register_binary_ops(OpDef* table) {
  using namespace elementwise;  // the flags
  ADJ_BINARY(Add, "add", add, Binary, kBoolLogical, Tensor(), Tensor()).onehot = onehot_accumulate<OpId::Add>;
  ADJ_BINARY(Sub, "sub", sub, Binary, 0, Tensor(), scalar_like(-1, y)).onehot = onehot_accumulate<OpId::Sub>;
  ADJ_BINARY(Mul, "mul", mul, Binary, kBoolLogical | kRightOneIdentity | kLeftOneIdentity, b, a).onehot = onehot_scale<OpId::Mul>;
  ADJ_BINARY(Div, "div", div, TrueDiv, kRightOneIdentity, O::div(scalar_like(1, b), b), O::neg(O::div(y, b))).onehot =
      onehot_scale<OpId::Div>;
  ADJ_BINARY(Pow, "pow", pow, Binary, 0, pow_base_partial(a, b, y), pow_exponent_partial(a, y));
  // on bools (as in torch) maximum is or, minimum is and: the kernels' max and min of 0 and 1
  ADJ_BINARY(Maximum, "maximum", maximum, Binary, kBoolLogical, tie_share(OpId::Lt, a, b, y), tie_share(OpId::Gt, a, b, y));
  ADJ_BINARY(Minimum, "minimum", minimum, Binary, kBoolLogical, tie_share(OpId::Gt, a, b, y), tie_share(OpId::Lt, a, b, y));
  ADJ_BINARY(Atan2, "atan2", atan2, TrueDiv, 0, atan2_partial(b, a, b), atan2_partial(O::neg(a), a, b));
  // fmod(a, b) = a - trunc(a / b) b, remainder(a, b) = a - floor(a / b) b
  ADJ_BINARY(Fmod, "fmod", fmod, Binary, 0, Tensor(), O::neg(O::trunc(O::div(a, b))));
  ADJ_BINARY(Remainder, "remainder", remainder, Binary, 0, Tensor(), O::neg(O::floor(O::div(a, b))));

  ADJ_COMPARE(Eq, "eq", eq);
  ADJ_COMPARE(Ne, "ne", ne);
  ADJ_COMPARE(Lt, "lt", lt);
  ADJ_COMPARE(Le, "le", le);
  ADJ_COMPARE(Gt, "gt", gt);
  ADJ_COMPARE(Ge, "ge", ge);
  ADJ_COMPARE(LogicalAnd, "logical_and", logical_and);
  ADJ_COMPARE(LogicalOr, "logical_or", logical_or);
}

}  // namespace adjoint
