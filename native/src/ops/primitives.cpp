// The C++ entry points of the primitives: pack attrs and go through dispatch.
#include "core/error.h"
#include "interp/rules.h"
#include "ops/ops.h"

namespace adjoint::ops {

#define ADJ_UNARY_FN_(fn, id) \
  Tensor fn(const Tensor& x) { return apply1(OpId::id, x); }
ADJ_UNARY_FN_(neg, Neg)
ADJ_UNARY_FN_(exp, Exp)
ADJ_UNARY_FN_(log, Log)
ADJ_UNARY_FN_(sin, Sin)
ADJ_UNARY_FN_(cos, Cos)
ADJ_UNARY_FN_(tanh, Tanh)
ADJ_UNARY_FN_(sigmoid, Sigmoid)
ADJ_UNARY_FN_(relu, Relu)
ADJ_UNARY_FN_(sqrt, Sqrt)
ADJ_UNARY_FN_(abs, Abs)
ADJ_UNARY_FN_(sign, Sign)
ADJ_UNARY_FN_(log1p, Log1p)
ADJ_UNARY_FN_(expm1, Expm1)
ADJ_UNARY_FN_(erf, Erf)
ADJ_UNARY_FN_(erfc, Erfc)
ADJ_UNARY_FN_(tan, Tan)
ADJ_UNARY_FN_(asin, Asin)
ADJ_UNARY_FN_(acos, Acos)
ADJ_UNARY_FN_(atan, Atan)
ADJ_UNARY_FN_(sinh, Sinh)
ADJ_UNARY_FN_(cosh, Cosh)
ADJ_UNARY_FN_(log2, Log2)
ADJ_UNARY_FN_(log10, Log10)
ADJ_UNARY_FN_(floor, Floor)
ADJ_UNARY_FN_(ceil, Ceil)
ADJ_UNARY_FN_(round, Round)
ADJ_UNARY_FN_(trunc, Trunc)
ADJ_UNARY_FN_(isnan, IsNan)
ADJ_UNARY_FN_(isinf, IsInf)
ADJ_UNARY_FN_(isfinite, IsFinite)
ADJ_UNARY_FN_(logical_not, LogicalNot)
ADJ_UNARY_FN_(contiguous, Contiguous)
#undef ADJ_UNARY_FN_

#define ADJ_BINARY_FN_(fn, id) \
  Tensor fn(const Tensor& a, const Tensor& b) { return apply2(OpId::id, a, b); }
ADJ_BINARY_FN_(add, Add)
ADJ_BINARY_FN_(sub, Sub)
ADJ_BINARY_FN_(mul, Mul)
ADJ_BINARY_FN_(div, Div)
ADJ_BINARY_FN_(pow, Pow)
ADJ_BINARY_FN_(maximum, Maximum)
ADJ_BINARY_FN_(minimum, Minimum)
ADJ_BINARY_FN_(atan2, Atan2)
ADJ_BINARY_FN_(fmod, Fmod)
ADJ_BINARY_FN_(remainder, Remainder)
ADJ_BINARY_FN_(logical_and, LogicalAnd)
ADJ_BINARY_FN_(logical_or, LogicalOr)
#undef ADJ_BINARY_FN_

Tensor compare(OpId op, const Tensor& a, const Tensor& b) {
  ADJ_CHECK(op >= OpId::Eq && op <= OpId::Ge, ErrorKind::Internal, "compare", "not a comparison");
  return apply2(op, a, b);
}

Tensor where(const Tensor& c, const Tensor& a, const Tensor& b) { return apply3(OpId::Where, c, a, b); }

Tensor to(const Tensor& x, DType dtype) {
  Attrs at;
  at.dtype = dtype;
  return apply1(OpId::Cast, x, at);
}

static Attrs dims_attrs(const Dims& d, bool flag = false) {
  Attrs at;
  at.ints = d;
  at.flag = flag;
  return at;
}

Tensor sum(const Tensor& x, const Dims& dims, bool keepdim) { return apply1(OpId::Sum, x, dims_attrs(dims, keepdim)); }
Tensor amax(const Tensor& x, const Dims& dims, bool keepdim) { return apply1(OpId::Amax, x, dims_attrs(dims, keepdim)); }
Tensor reshape(const Tensor& x, const Dims& shape) { return apply1(OpId::Reshape, x, dims_attrs(shape, false)); }
Tensor view(const Tensor& x, const Dims& shape) { return apply1(OpId::Reshape, x, dims_attrs(shape, true)); }
Tensor permute(const Tensor& x, const Dims& perm) { return apply1(OpId::Permute, x, dims_attrs(perm)); }
Tensor expand(const Tensor& x, const Dims& shape) { return apply1(OpId::Expand, x, dims_attrs(shape)); }
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  return apply1(OpId::Slice, x, dims_attrs(Dims{dim, start, end, step}));
}
Tensor select(const Tensor& x, int64_t dim, int64_t index) { return apply1(OpId::Select, x, dims_attrs(Dims{dim, index})); }
Tensor squeeze(const Tensor& x, const Dims& dims) { return apply1(OpId::Squeeze, x, dims_attrs(dims)); }
Tensor unsqueeze(const Tensor& x, int64_t dim) { return apply1(OpId::Unsqueeze, x, dims_attrs(Dims{dim})); }
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  return apply2(OpId::IndexSelect, x, index, dims_attrs(Dims{dim}));
}
Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  return apply(OpId::Cat, xs.data(), int(xs.size()), dims_attrs(Dims{dim}));
}

}  // namespace adjoint::ops

namespace adjoint::ops {

Tensor slice_backward(const Tensor& g, int64_t dim, int64_t start, int64_t end, int64_t step, int64_t size) {
  Attrs at;
  at.ints = Dims{dim, start, end, step, size};
  return apply1(OpId::SliceBackward, g, at);
}

Tensor index_add(const Tensor& g, int64_t dim, const Tensor& index, int64_t size) {
  Attrs at;
  at.ints = Dims{dim, size};
  return apply2(OpId::IndexAdd, g, index, at);
}

Tensor sum_to(const Tensor& g, const Dims& shape) {
  if (g.shape() == shape) return g;
  Dims dims;
  const int lead = g.ndim() - shape.n;
  for (int i = 0; i < g.ndim(); i++)
    if (i < lead || (shape[i - lead] == 1 && g.size(i) != 1)) dims.push_back(i);
  Tensor r = dims.empty() ? g : sum(g, dims, true);
  return reshape(r, shape);
}

}  // namespace adjoint::ops
