// Reductions over a set of dims (empty = all), with keepdim.
#include "interp/rules.h"
#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace {

// NOTE: attrs.ints holds the dims to reduce (empty = every dim), attrs.flag is keepdim.
// Dims are normalised and must be distinct.
uint32_t reduced_mask(const char* op, int ndim, const Dims& dims) {
  uint32_t mask = 0;
  if (dims.empty()) return ndim == 0 ? 0 : (uint32_t(1) << ndim) - 1;
  for (int64_t d : dims) {
    int w = wrap_dim(d, ndim, op);
    if (ndim == 0) continue;
    ADJ_CHECK(!(mask & (1u << w)), ErrorKind::Argument, op, "dim " << w << " appears more than once in " << dims.str());
    mask |= 1u << w;
  }
  return mask;
}

// The shape of a reduction over `mask` of `shape`: reduced dims dropped, or kept as 1 (keepdim).
Dims reduced_shape(const Dims& shape, uint32_t mask, bool keepdim) {
  Dims out;
  for (int i = 0; i < shape.n; i++) {
    if (!(mask & (1u << i))) out.push_back(shape[i]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

// The checks of eval, on metadata: the reduced dims' mask.
template <OpId Op>
uint32_t check_reduce(const Dims& shape, DType dt, const Attrs& at) {
  const char* name = op_name(Op);
  uint32_t mask = reduced_mask(name, shape.n, at.ints);
  for (int i = 0; i < shape.n; i++)
    ADJ_CHECK(Op != OpId::Amax || !(mask & (1u << i)) || shape[i] > 0, ErrorKind::Argument, name,
              "cannot reduce over dim " << i << " of size 0 (shape " << shape.str() << "): the maximum or minimum of nothing is undefined");
  if (Op == OpId::Amax) ADJ_CHECK(dt != DType::Bool, ErrorKind::DType, name, "not defined for bool tensors");
  return mask;
}

// sum of bools counts them (int64), like torch.
template <OpId Op>
DType reduce_dtype(DType dt) { return (Op == OpId::Sum && dt == DType::Bool) ? DType::Int64 : dt; }

template <OpId Op>
Meta meta_reduce(const Meta* in, int, const Attrs& at) {
  const uint32_t mask = check_reduce<Op>(in[0].shape, in[0].dtype, at);
  return {reduced_shape(in[0].shape, mask, at.flag), reduce_dtype<Op>(in[0].dtype)};
}

template <OpId Op>
Tensor eval_reduce(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  const OpDef& d = op_def(Op);
  const char* name = d.name;
  const uint32_t mask = check_reduce<Op>(x.shape(), x.dtype(), at);
  DType odt = reduce_dtype<Op>(x.dtype());
  const Dims keep_shape = reduced_shape(x.shape(), mask, true);
  Tensor out = Tensor::empty(at.flag ? keep_shape : reduced_shape(x.shape(), mask, false), odt, x.device(), name);
  Dims vs = contiguous_strides(keep_shape);
  for (int i = 0; i < x.ndim(); i++)
    if (mask & (1u << i)) vs[i] = 0;
  Tensor out_view = Tensor::view_of(out, x.shape(), vs, 0);
  backend_of(x).reduce(*d.reduce_kernel, x, out_view, out);
  return out;
}

}  // namespace

namespace {
namespace O = ops;

// g (shaped like the reduction's output) brought back to x's shape: re-insert the reduced dims,
// then broadcast.
Tensor unreduce(const Tensor& g, const Tensor& x, const Attrs& at, const char* op) {
  Dims dims = rules::reduced_dims(at.ints, x.ndim(), op);
  Tensor r = g;
  if (!at.flag)
    for (int64_t d : dims) r = O::unsqueeze(r, d);  // ascending: each insert lands at its final place
  return O::expand(r, x.shape());
}

// amax spreads its derivative evenly over the tied maxima (like torch.amax).
Tensor amax_weights(const Tensor& x, const Tensor& out, const Attrs& at) {
  Tensor out_kd = at.flag ? out : unreduce(out, x, at, "amax");
  Tensor mask = O::to(O::compare(OpId::Eq, x, out_kd), x.dtype());
  return O::div(mask, O::sum(mask, rules::reduced_dims(at.ints, x.ndim(), "amax"), true));
}

Tensor jvp_sum(const Tensor*, const Tensor* t, int, const Tensor&, const Attrs& at) { return O::sum(t[0], at.ints, at.flag); }
void vjp_sum(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs& at, const bool*, Tensor* grads) {
  grads[0] = unreduce(g, p[0], at, "sum");
}
Tensor jvp_amax(const Tensor* p, const Tensor* t, int, const Tensor& out, const Attrs& at) {
  return O::sum(O::mul(t[0], amax_weights(p[0], out, at)), at.ints, at.flag);
}
void vjp_amax(const Tensor& g, const Tensor* p, int, const Tensor& out, const Attrs& at, const bool*, Tensor* grads) {
  grads[0] = O::mul(unreduce(g, p[0], at, "amax"), amax_weights(p[0], out, at));
}

template <OpId Op>
Tensor batch_reduce(const Tensor* v, const int*, int, const Attrs& at, int64_t) {
  Attrs a = at;
  a.ints = rules::shifted(rules::reduced_dims(at.ints, v[0].ndim() - 1, op_name(Op)), 1);
  // A 0-d example reduces to itself (an empty dim list would mean "all dims" to the primitive).
  if (a.ints.empty()) return Op == OpId::Sum && v[0].dtype() == DType::Bool ? O::to(v[0], DType::Int64) : v[0];
  return apply(Op, {v[0]}, a);
}

// A one-hot summed: each entry moves to its position in the reduced shape (while a multi-hot's
// entries do not pile up on too few positions).
Tensor onehot_sum(const OnehotCall& c) {
  const Tensor& x = c.in[c.oh];
  const uint32_t reduced = reduced_mask("sum", x.ndim(), c.at.ints);  // validates dims as eval does
  if (x.ndim() == 0) return x;
  const Dims out_shape = reduced_shape(c.shape(), reduced, c.at.flag);
  const int64_t per = onehot::entries(c.index[c.oh]);
  if (per > 1 && per * 4 > numel_of(out_shape)) return Tensor();
  return c.wrap(onehot::reduce_index(c.index[c.oh], c.shape(), out_shape, reduced, c.at.flag), c.scale[c.oh], out_shape);
}

// A row of this file: the family's shape rule, eval and batch rule around `kernel`, with the op's
// derivative rules.
template <OpId Op>
OpDef& reduction(OpDef* t, const char* name, const ReduceKernel& kernel, JvpRule jvp, VjpRule vjp) {
  OpDef& d = define_op(t, Op, name, 1);
  d.meta = meta_reduce<Op>;
  d.eval = eval_reduce<Op>;
  d.reduce_kernel = &kernel;
  d.jvp = jvp;
  d.vjp = vjp;
  d.batch = batch_reduce<Op>;
  return d;
}

}  // namespace

void register_reduce_ops(OpDef* t) {
  reduction<OpId::Sum>(t, "sum", kernels::sum, jvp_sum, vjp_sum).onehot = onehot_sum;
  reduction<OpId::Amax>(t, "amax", kernels::amax, jvp_amax, vjp_amax);
}

}  // namespace adjoint
