// Reductions over a set of dims (empty = all), with keepdim.
#include "ops/op.h"
#include "ops/op_util.h"

namespace adjoint {
namespace {

// NOTE: attrs.ints holds the dims to reduce (empty = every dim), attrs.flag is keepdim.
// Dims are normalised and must be distinct.
uint32_t reduced_mask(const char* op, const Tensor& x, const Dims& dims) {
  uint32_t mask = 0;
  if (dims.empty()) return x.ndim() == 0 ? 0 : (uint32_t(1) << x.ndim()) - 1;
  for (int64_t d : dims) {
    int w = wrap_dim(d, x.ndim(), op);
    if (x.ndim() == 0) continue;
    ADJ_CHECK(!(mask & (1u << w)), ErrorKind::Argument, op, "dim " << w << " appears more than once in " << dims.str());
    mask |= 1u << w;
  }
  return mask;
}

template <OpId Op>
Tensor eval_reduce(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  const char* name = op_name(Op);
  uint32_t mask = reduced_mask(name, x, at.ints);
  Dims keep_shape = x.shape(), out_shape;
  for (int i = 0; i < x.ndim(); i++) {
    if (mask & (1u << i)) {
      ADJ_CHECK(Op != OpId::Amax || x.size(i) > 0, ErrorKind::Argument, name,
                "cannot reduce over dim " << i << " of size 0 (shape " << x.shape().str() << "): amax of nothing is undefined");
      keep_shape[i] = 1;
    } else {
      out_shape.push_back(x.size(i));
    }
  }
  if (Op == OpId::Amax) ADJ_CHECK(x.dtype() != DType::Bool, ErrorKind::DType, name, "not defined for bool tensors");
  DType odt = (Op == OpId::Sum && x.dtype() == DType::Bool) ? DType::Int64 : x.dtype();
  Tensor out = Tensor::empty(at.flag ? keep_shape : out_shape, odt, x.device(), name);
  Dims vs = contiguous_strides(keep_shape);
  for (int i = 0; i < x.ndim(); i++)
    if (mask & (1u << i)) vs[i] = 0;
  Tensor out_view = Tensor::view_of(out, x.shape(), vs, 0);
  backend_of(x).reduce(Op, x, out_view, out);
  return out;
}

}  // namespace

void register_reduce_ops(OpDef* t) {
  t[int(OpId::Sum)].eval = eval_reduce<OpId::Sum>;
  t[int(OpId::Amax)].eval = eval_reduce<OpId::Amax>;
}

}  // namespace adjoint
