// Elementwise primitives: unary math, broadcasting binary math, comparisons, where, dtype cast.
#include "ops/op.h"
#include "ops/op_util.h"

namespace adjoint {
namespace {

bool needs_floating(OpId op) {
  return op != OpId::Neg && op != OpId::Abs && op != OpId::Sign && op != OpId::Relu;
}

template <OpId Op>
Tensor eval_unary(const Tensor* in, int, const Attrs&) {
  const Tensor& x = in[0];
  const char* name = op_name(Op);
  if (needs_floating(Op)) check_floating(name, x);
  ADJ_CHECK(x.dtype() != DType::Bool, ErrorKind::DType, name, "not defined for bool tensors");
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device(), name);
  backend_of(x).unary(Op, x, out);
  return out;
}

bool is_compare(OpId op) { return op >= OpId::Eq && op <= OpId::Ge; }

template <OpId Op>
Tensor eval_binary(const Tensor* in, int, const Attrs&) {
  const Tensor &a = in[0], &b = in[1];
  const char* name = op_name(Op);
  check_same_dtype(name, a, b);
  check_same_device(name, a, b);
  if (Op == OpId::Div || Op == OpId::Pow) check_floating(name, a);
  if (!is_compare(Op))
    ADJ_CHECK(a.dtype() != DType::Bool, ErrorKind::DType, name, "arithmetic is not defined for bool tensors");
  Dims shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, is_compare(Op) ? DType::Bool : a.dtype(), a.device(), name);
  backend_of(a).binary(Op, broadcast_view(a, shape), broadcast_view(b, shape), out);
  return out;
}

Tensor eval_where(const Tensor* in, int, const Attrs&) {
  const Tensor &c = in[0], &a = in[1], &b = in[2];
  ADJ_CHECK(c.dtype() == DType::Bool, ErrorKind::DType, "where",
            "condition must be a bool tensor, got " << dtype_name(c.dtype()) << " " << c.shape().str());
  check_same_dtype("where", a, b);
  check_same_device("where", a, b);
  check_same_device("where", c, a);
  Dims shape = broadcast_shapes(broadcast_shapes(c.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(shape, a.dtype(), a.device(), "where");
  backend_of(a).where(broadcast_view(c, shape), broadcast_view(a, shape), broadcast_view(b, shape), out);
  return out;
}

Tensor eval_cast(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  if (x.dtype() == at.dtype) return x;
  Tensor out = Tensor::empty(x.shape(), at.dtype, x.device(), "to");
  backend_of(x).copy(x, out);
  return out;
}

}  // namespace

void register_elementwise_ops(OpDef* t) {
#define ADJ_U_(id) t[int(OpId::id)].eval = eval_unary<OpId::id>;
  ADJ_U_(Neg) ADJ_U_(Exp) ADJ_U_(Log) ADJ_U_(Sin) ADJ_U_(Cos) ADJ_U_(Tanh)
  ADJ_U_(Sigmoid) ADJ_U_(Relu) ADJ_U_(Sqrt) ADJ_U_(Abs) ADJ_U_(Sign)
#undef ADJ_U_
#define ADJ_B_(id) t[int(OpId::id)].eval = eval_binary<OpId::id>;
  ADJ_B_(Add) ADJ_B_(Sub) ADJ_B_(Mul) ADJ_B_(Div) ADJ_B_(Pow)
  ADJ_B_(Eq) ADJ_B_(Ne) ADJ_B_(Lt) ADJ_B_(Le) ADJ_B_(Gt) ADJ_B_(Ge)
#undef ADJ_B_
  t[int(OpId::Where)].eval = eval_where;
  t[int(OpId::Cast)].eval = eval_cast;
}

}  // namespace adjoint
