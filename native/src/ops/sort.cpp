// Positions of extremes and of the sorted order, and the composites that select by them:
//   argmax, argmin (primitives)   the first maximum / minimum along a dim (int64; a NaN wins)
//   argsort (primitive)           the first k positions in sorted order (stable; NaN largest)
//   max_dim, min_dim, sort, topk  the values at those positions (a gather) with the positions.
// The position primitives have no derivative (int64 results). The values are a gather of x at
// constant positions (ops/gather_scatter.cpp), so their derivative is the gather of the tangent and
// their gradient the scatter_add of g to the selected positions: for max(dim) / min(dim), torch's rule for reductions
// along a dim (one element per line, even at ties), unlike amax / amin, which share it evenly
// among ties.
#include "ops/along_dim.h"

namespace adjoint {
namespace {
namespace O = ops;

// NOTE: attrs: argmax / argmin ints = {dim}, flag = keepdim; argsort ints = {dim, k}, flag =
// descending. A 0-d tensor is one line of one element.
template <OpId Op>
Meta meta_position(const Meta* in, int, const Attrs& at) {
  const char* op = op_name(Op);
  const Meta& x = in[0];
  ADJ_CHECK(Op == OpId::Argsort || x.dtype != DType::Bool, ErrorKind::DType, op, "not defined for bool " << x.shape.str());
  along_dim::check_numeric(x, op);
  const int d = along_dim::checked_dim(x.shape, at.ints[0], op);
  const int64_t n = x.shape.n ? x.shape[d] : 1;
  Dims s = x.shape;
  if (Op == OpId::Argsort) {
    const int64_t k = at.ints[1];
    ADJ_CHECK(k >= 0 && k <= n && (x.shape.n > 0 || k == 1), ErrorKind::Argument, op,
              "k = " << k << " out of range for dim " << d << " of size " << n << " (shape " << x.shape.str() << ")");
    if (s.n) s[d] = k;
    return {s, DType::Int64};
  }
  ADJ_CHECK(n > 0, ErrorKind::Argument, op,
            "cannot reduce over dim " << d << " of size 0 (shape " << x.shape.str() << "): an empty line has no " << (Op == OpId::Argmax ? "maximum" : "minimum"));
  if (s.n) {
    if (at.flag) s[d] = 1;
    else s.erase(d);
  }
  return {s, DType::Int64};
}

template <OpId Op>
Tensor eval_position(const Tensor* in, int nin, const Attrs& at) {
  const Meta m{in[0].shape(), in[0].dtype()};
  const Meta out = meta_position<Op>(&m, nin, at);
  const int d = along_dim::checked_dim(in[0].shape(), at.ints[0], op_name(Op));
  const int64_t k = Op == OpId::Argsort ? at.ints[1] : 1;
  return along_dim::run(*op_def(Op).dim_kernel, in, 1, d, k, Op == OpId::Argsort && at.flag, out, op_name(Op));
}

// x's elements at positions `idx` along dim d (idx: x's shape but along d): a gather, whose rules
// give the tangent's gather and the gradient's scatter_add to the positions.
Tensor pick_along(const Tensor& x, int d, const Tensor& idx) { return O::gather(x, d, idx); }

// Positions are found on int64 values for a bool input (torch sorts and compares bools as 0 / 1).
Tensor numeric(const Tensor& x) { return x.dtype() == DType::Bool ? O::to(x, DType::Int64) : x; }

// A 0-d input is its own extreme and its own sorted order, at position 0.
std::pair<Tensor, Tensor> zero_d(const Tensor& x, int64_t dim, const char* op) {
  along_dim::checked_dim(x.shape(), dim, op);
  return {x, O::zeros(Dims{}, DType::Int64, x.device())};
}

std::pair<Tensor, Tensor> extreme(OpId arg, const Tensor& x, int64_t dim, bool keepdim, const char* op) {
  if (x.ndim() == 0) return zero_d(x, dim, op);
  const int d = along_dim::checked_dim(x.shape(), dim, op);
  Tensor idx = apply1(arg, numeric(x), along_dim::attrs(d, true));
  Tensor v = pick_along(x, d, idx);
  if (!keepdim) v = O::squeeze(v, Dims{d}), idx = O::squeeze(idx, Dims{d});
  return {v, idx};
}

// A row of this file: positions have no derivative (int64), so a shape rule, eval and batch rule.
template <OpId Op>
void position_op(OpDef* t, const char* name, const DimKernel& kernel) {
  OpDef& d = define_op(t, Op, name, 1);
  d.meta = meta_position<Op>;
  d.eval = eval_position<Op>;
  d.dim_kernel = &kernel;
  d.batch = along_dim::batch_rule_of<Op>;
  d.differentiable = false;
}

}  // namespace

void register_sort_ops(OpDef* t) {
  position_op<OpId::Argmax>(t, "argmax", kernels::argmax);
  position_op<OpId::Argmin>(t, "argmin", kernels::argmin);
  position_op<OpId::Argsort>(t, "argsort", kernels::argsort);
}

namespace ops {

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) { return apply1(OpId::Argmax, x, along_dim::attrs(dim, keepdim)); }
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) { return apply1(OpId::Argmin, x, along_dim::attrs(dim, keepdim)); }

// Over every element: the position in x flattened (row-major), 0-d.
static Tensor arg_all(OpId op, const Tensor& x, const char* name) {
  return as_op(name, [&] {
    ADJ_CHECK(x.numel() > 0, ErrorKind::Argument, name, "an empty tensor (shape " << x.shape().str() << ") has no extreme; give a dim");
    return apply1(op, reshape(x, Dims{-1}), along_dim::attrs(0, false));
  });
}
Tensor argmax(const Tensor& x) { return arg_all(OpId::Argmax, x, "argmax"); }
Tensor argmin(const Tensor& x) { return arg_all(OpId::Argmin, x, "argmin"); }

std::pair<Tensor, Tensor> max_dim(const Tensor& x, int64_t dim, bool keepdim) {
  std::pair<Tensor, Tensor> r;
  as_op("max", [&] { return (r = extreme(OpId::Argmax, x, dim, keepdim, "max")).first; });
  return r;
}
std::pair<Tensor, Tensor> min_dim(const Tensor& x, int64_t dim, bool keepdim) {
  std::pair<Tensor, Tensor> r;
  as_op("min", [&] { return (r = extreme(OpId::Argmin, x, dim, keepdim, "min")).first; });
  return r;
}

std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending) {
  std::pair<Tensor, Tensor> r;
  as_op("sort", [&] {
    if (x.ndim() == 0) return (r = zero_d(x, dim, "sort")).first;
    const int d = along_dim::checked_dim(x.shape(), dim, "sort");
    Attrs a = along_dim::attrs(d, descending);
    a.ints.push_back(x.size(d));
    Tensor idx = apply1(OpId::Argsort, numeric(x), a);
    r = {pick_along(x, d, idx), idx};
    return r.first;
  });
  return r;
}

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  std::pair<Tensor, Tensor> r;
  as_op("topk", [&] {
    const int d = along_dim::checked_dim(x.shape(), dim, "topk");
    const int64_t n = x.ndim() ? x.size(d) : 1;
    ADJ_CHECK(k >= 0 && k <= n, ErrorKind::Argument, "topk",
              "k = " << k << " out of range for dim " << d << " of size " << n << " (shape " << x.shape().str() << ")");
    if (x.ndim() == 0) return (r = zero_d(x, dim, "topk")).first;  // torch's, for k = 0 too
    Attrs a = along_dim::attrs(d, largest);
    a.ints.push_back(k);
    Tensor idx = apply1(OpId::Argsort, numeric(x), a);
    r = {pick_along(x, d, idx), idx};
    return r.first;
  });
  return r;
}

}  // namespace ops
}  // namespace adjoint
