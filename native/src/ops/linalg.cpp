// Matmul primitive: both operands of rank >= 2, batch dims broadcast. 1-D cases are composites.
#include "ops/op.h"
#include "ops/op_util.h"

namespace adjoint {
namespace {

Tensor eval_matmul(const Tensor* in, int, const Attrs&) {
  const Tensor &a = in[0], &b = in[1];
  check_same_dtype("matmul", a, b);
  check_same_device("matmul", a, b);
  ADJ_CHECK(a.dtype() != DType::Bool, ErrorKind::DType, "matmul", "not defined for bool tensors");
  ADJ_CHECK(a.ndim() >= 2 && b.ndim() >= 2, ErrorKind::Internal, "matmul", "primitive expects rank >= 2");
  const int64_t m = a.size(a.ndim() - 2), k = a.size(a.ndim() - 1), k2 = b.size(b.ndim() - 2), n = b.size(b.ndim() - 1);
  ADJ_CHECK(k == k2, ErrorKind::Shape, "matmul",
            "shapes " << a.shape().str() << " and " << b.shape().str() << " cannot be multiplied (" << k << " != " << k2 << ")");
  Dims ba = Dims::of(a.shape().data(), a.ndim() - 2), bb = Dims::of(b.shape().data(), b.ndim() - 2);
  Dims batch = broadcast_shapes(ba, bb, "matmul");
  Dims sa = batch, sb = batch, so = batch;
  sa.push_back(m); sa.push_back(k);
  sb.push_back(k); sb.push_back(n);
  so.push_back(m); so.push_back(n);
  Tensor out = Tensor::empty(so, a.dtype(), a.device(), "matmul");
  backend_of(a).matmul(broadcast_view(a, sa), broadcast_view(b, sb), out);
  return out;
}

}  // namespace

void register_linalg_ops(OpDef* t) { t[int(OpId::Matmul)].eval = eval_matmul; }

}  // namespace adjoint
