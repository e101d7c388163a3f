// The elementwise primitives outside the unary and binary families: where (three inputs, a bool
// condition) and the dtype cast; and the families' out-of-line promotion of concrete inputs.
#include "interp/rules.h"
#include "ops/elementwise.h"

namespace adjoint {
namespace elementwise {

[[gnu::noinline, gnu::cold]] Tensor eval_promoted(OpId op, const Tensor* in, int nin, const Attrs& at) {
  return apply_promoted(op_def(op), in, nin, at);
}

}  // namespace elementwise

namespace {

namespace O = ops;
using namespace elementwise;
using rules::scalar_like;

// ---------------------------------------------------------------- where(cond, a, b)

Meta meta_where(const Meta* in, int, const Attrs&) {
  ADJ_CHECK(in[0].dtype == DType::Bool, ErrorKind::DType, "where",
            "condition must be a bool tensor, got " << dtype_name(in[0].dtype) << " " << in[0].shape.str());
  DType dt = in[1].dtype;
  if (in[1].dtype != in[2].dtype) {
    const Operand o[2] = {operand_of_meta(in[1]), operand_of_meta(in[2])};
    dt = promoted_dtype(OpId::Where, o, 2);
  }
  return {broadcast_shapes(broadcast_shapes(in[0].shape, in[1].shape, "where"), in[2].shape, "where"), dt};
}

Tensor eval_where(const Tensor* in, int nin, const Attrs& at) {
  const Tensor &c = in[0], &a = in[1], &b = in[2];
  ADJ_CHECK(c.dtype() == DType::Bool, ErrorKind::DType, "where",
            "condition must be a bool tensor, got " << dtype_name(c.dtype()) << " " << c.shape().str());
  if (__builtin_expect(a.dtype() != b.dtype(), 0)) return eval_promoted(OpId::Where, in, nin, at);  // concrete: promoted here
  check_same_device("where", a, b);
  check_same_device("where", c, a);
  Dims shape = broadcast_shapes(broadcast_shapes(c.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty_elementwise(shape, a.dtype(), a.device(), "where", {&a, &b, &c});
  backend_of(a).where(kernel_view(c, shape), kernel_view(a, shape), kernel_view(b, shape), out);
  return out;
}

Tensor jvp_where(const Tensor* p, const Tensor* t, int, const Tensor& out, const Attrs&) {
  Tensor ta = t[1].defined() ? t[1] : scalar_like(0, out), tb = t[2].defined() ? t[2] : scalar_like(0, out);
  return expand_to(O::where(p[0], ta, tb), out.shape());
}

void vjp_where(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs&, const bool* need, Tensor* grads) {
  Tensor zero = scalar_like(0, g);
  if (need[1]) grads[1] = O::sum_to(O::where(p[0], g, zero), p[1].shape());
  if (need[2]) grads[2] = O::sum_to(O::where(p[0], zero, g), p[2].shape());
}

// where(cond, onehot, 0) / where(cond, 0, onehot) with cond unbatched: relu's rules use these.
Tensor onehot_where(const OnehotCall& c) {
  const int oh = c.oh;
  if (c.n_oh != 1 || oh == 0 || !onehot::is_zero_scalar(c.in[oh == 1 ? 2 : 1]) || c.in[0].dtype() != DType::Bool) return Tensor();
  if (broadcast_shapes(c.shape(), c.in[0].shape(), "where") != c.shape()) return Tensor();
  Tensor cond = onehot::gather(c.in[0], c.shape(), c.index[oh]);
  Tensor zero = O::scalar(0, c.in[oh].dtype(), c.in[oh].device());
  Tensor sc = oh == 1 ? O::where(cond, c.scale[oh], zero) : O::where(cond, zero, c.scale[oh]);
  return c.wrap(c.index[oh], onehot::mask_invalid(sc, c.index[oh]), c.shape());
}

// ---------------------------------------------------------------- to(dtype): attrs.dtype

Meta meta_cast(const Meta* in, int, const Attrs& at) { return {in[0].shape, at.dtype}; }

Tensor eval_cast(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  if (x.dtype() == at.dtype) return x;
  Tensor out = empty_elementwise(x.shape(), at.dtype, x.device(), "to", {&x});
  backend_of(x).copy(x, out);
  return out;
}

Tensor jvp_cast(const Tensor*, const Tensor* t, int, const Tensor& out, const Attrs& at) {
  return is_floating(at.dtype) ? O::to(t[0], at.dtype) : Tensor();
}

void vjp_cast(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs&, const bool*, Tensor* grads) {
  if (is_floating(p[0].dtype())) grads[0] = O::to(g, p[0].dtype());
}

Tensor onehot_cast(const OnehotCall& c) {
  if (!is_floating(c.at.dtype)) return Tensor();
  return c.wrap(c.index[c.oh], O::to(c.scale[c.oh], c.at.dtype), c.shape());
}

}  // namespace

void register_where_cast_ops(OpDef* t) {
  OpDef& w = define_op(t, OpId::Where, "where", 3);
  w.meta = meta_where;
  w.eval = eval_where;
  w.jvp = jvp_where;
  w.vjp = vjp_where;
  w.batch = batch_elementwise<OpId::Where>;
  w.onehot = onehot_where;
  w.promotion = Promotion::Where;  // the values a, b (ops/promotion.h)

  OpDef& c = define_op(t, OpId::Cast, "to", 1);
  c.meta = meta_cast;
  c.eval = eval_cast;
  c.jvp = jvp_cast;
  c.vjp = vjp_cast;
  c.batch = batch_elementwise<OpId::Cast>;
  c.onehot = onehot_cast;
}

}  // namespace adjoint
