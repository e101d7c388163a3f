// gather, scatter and scatter_add along a dim (torch's semantics), their rules, and the public
// index_add built on the index_add primitive (ops/indexing.cpp).
//
// gather(x, dim, index)[i][j][k]        = x[index[i][j][k]][j][k]          (dim 0; likewise others)
// scatter(self, dim, index, src)        = self with [index[i][j][k]][j][k] = src[i][j][k]
// scatter_add(self, dim, index, src)    = self with [index[i][j][k]][j][k] += src[i][j][k]
// index is int64 with the input's rank (a 0-d tensor counts as one dim of size 1, like torch),
// no larger than the input in the other dims (and than src in every dim); its values lie in
// [0, size of dim): checked by the kernel on every call, batched or not (IndexedKernel).
//
// NOTE: scatter with a repeated index writes one of the competing src elements (the last in
// index's row-major order here; torch leaves the order undefined). Its derivative w.r.t. src is
// then that of gather, which gives every competing element the gradient: exact only for an index
// without repeats along dim. scatter_add and gather have no such caveat.
#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace {

namespace O = ops;

// A 0-d shape counts as [1] in the shape rules (torch's ensure_nonempty_dim / _size).
Dims nonempty(const Dims& s) { return s.n ? s : Dims{1}; }

void check_index_dtype(const char* op, const Meta& index) {
  ADJ_CHECK(index.dtype == DType::Int64, ErrorKind::DType, op,
            "expected dtype int64 for index, got " << dtype_name(index.dtype) << " " << index.shape.str());
}

// torch's gather shape rule: index has x's rank and is no larger than x apart from dim.
Meta meta_gather(const Meta* in, int, const Attrs& at) {
  const Meta &x = in[0], &index = in[1];
  check_index_dtype("gather", index);
  const int d = wrap_dim(at.ints[0], x.shape.n, "gather");
  const Dims xs = nonempty(x.shape), is = nonempty(index.shape);
  ADJ_CHECK(xs.n == is.n, ErrorKind::Shape, "gather",
            "index tensor must have the same number of dimensions as input tensor: index " << index.shape.str() << ", input "
                                                                                          << x.shape.str());
  for (int i = 0; i < xs.n; i++)
    ADJ_CHECK(i == d || is[i] <= xs[i], ErrorKind::Shape, "gather",
              "size does not match at dimension " << i << ": expected index " << index.shape.str() << " to be smaller than self "
                                                  << x.shape.str() << " apart from dimension " << d);
  return {index.shape, x.dtype};
}

// torch's scatter shape rule: self, index and src of one rank; index no larger than src in every
// dim and than self apart from dim. An empty index skips the shape checks, as in torch.
template <bool Add>
Meta meta_scatter(const Meta* in, int, const Attrs& at) {
  const char* op = Add ? "scatter_add" : "scatter";
  const Meta &self = in[0], &index = in[1], &src = in[2];
  check_index_dtype(op, index);
  ADJ_CHECK(self.dtype == src.dtype, ErrorKind::DType, op,
            "expected self.dtype to be equal to src.dtype: self " << dtype_name(self.dtype) << " " << self.shape.str() << ", src "
                                                                  << dtype_name(src.dtype) << " " << src.shape.str());
  const int d = wrap_dim(at.ints[0], self.shape.n, op);
  if (numel_of(index.shape) == 0) return {self.shape, self.dtype};
  const Dims ss = nonempty(self.shape), is = nonempty(index.shape), rs = nonempty(src.shape);
  ADJ_CHECK(ss.n == is.n, ErrorKind::Shape, op,
            "index tensor must have the same number of dimensions as self tensor: index " << index.shape.str() << ", self "
                                                                                         << self.shape.str());
  ADJ_CHECK(rs.n == is.n, ErrorKind::Shape, op,
            "index tensor must have the same number of dimensions as src tensor: index " << index.shape.str() << ", src "
                                                                                        << src.shape.str());
  bool ok = true;
  for (int i = 0; i < is.n; i++) ok = ok && is[i] <= rs[i] && (i == d || is[i] <= ss[i]);
  ADJ_CHECK(ok, ErrorKind::Shape, op,
            "expected index " << index.shape.str() << " to be smaller than self " << self.shape.str() << " apart from dimension " << d
                              << " and to be smaller size than src " << src.shape.str());
  return {self.shape, self.dtype};
}

Meta meta_of(const Tensor& t) { return {t.shape(), t.dtype()}; }

// A 0-d tensor viewed as [1], the rank the kernels iterate.
Tensor nonempty_view(const Tensor& t) { return t.ndim() ? t : Tensor::view_of(t, Dims{1}, Dims{1}, t.offset()); }

// Runs a gather/scatter kernel; an index outside [0, size) becomes torch's error, naming the op.
void run_indexed(const char* op, const IndexedKernel& k, const Tensor& index, const Tensor& x, int d, const Tensor& out, int64_t size) {
  int64_t bad = 0;
  const bool ok = backend_of(out).indexed(k, nonempty_view(index), nonempty_view(x), d, nonempty_view(out), &bad);
  ADJ_CHECK(ok, ErrorKind::Index, op, "index " << bad << " is out of bounds for dimension " << d << " with size " << size);
}

Tensor eval_gather(const Tensor* in, int, const Attrs& at) {
  const Tensor &x = in[0], &index = in[1];
  const Meta metas[2] = {meta_of(x), meta_of(index)};
  meta_gather(metas, 2, at);
  check_same_device("gather", x, index);
  const int d = wrap_dim(at.ints[0], x.ndim(), "gather");
  Tensor out = Tensor::empty(index.shape(), x.dtype(), x.device(), "gather");
  if (out.numel() > 0) run_indexed("gather", kernels::gather, index, x, d, out, x.ndim() ? x.size(d) : 1);
  return out;
}

template <bool Add>
Tensor eval_scatter(const Tensor* in, int, const Attrs& at) {
  const char* op = Add ? "scatter_add" : "scatter";
  const Tensor &self = in[0], &index = in[1], &src = in[2];
  const Meta metas[3] = {meta_of(self), meta_of(index), meta_of(src)};
  meta_scatter<Add>(metas, 3, at);
  check_same_device(op, self, index);
  check_same_device(op, self, src);
  const int d = wrap_dim(at.ints[0], self.ndim(), op);
  Tensor out = Tensor::empty(self.shape(), self.dtype(), self.device(), op);
  backend_of(out).copy(self, out);
  if (index.numel() > 0)
    run_indexed(op, Add ? kernels::scatter_add : kernels::scatter, index, src, d, out, self.ndim() ? self.size(d) : 1);
  return out;
}

// ---------------------------------------------------------------- transform rules

Tensor or_zeros(const Tensor& t, const Tensor& primal) { return t.defined() ? t : O::zeros_like(primal); }

// The cotangent of src from gather(g, dim, index), which has index's shape: src's elements beyond
// index's extent take no part in the op, so their cotangent is zero (slice_backward pads).
Tensor fit_to_src(Tensor r, const Tensor& src) {
  if (r.ndim() != src.ndim()) r = O::reshape(r, src.ndim() ? Dims{1} : Dims{});  // 0-d vs [1]: one element
  for (int i = 0; i < src.ndim(); i++)
    if (r.size(i) != src.size(i)) r = O::slice_backward(r, i, 0, r.size(i), 1, src.size(i));
  return r;
}

Tensor jvp_gather(const Tensor* p, const Tensor* t, int, const Tensor&, const Attrs& at) {
  return O::gather(t[0], at.ints[0], p[1]);
}
void vjp_gather(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs& at, const bool*, Tensor* grads) {
  grads[0] = O::scatter_add(O::zeros_like(p[0]), at.ints[0], p[1], g);
}

// Both are linear in (self, src) jointly: the tangent is the op on the tangents.
Tensor jvp_scatter(const Tensor* p, const Tensor* t, int, const Tensor&, const Attrs& at) {
  return O::scatter(or_zeros(t[0], p[0]), at.ints[0], p[1], or_zeros(t[2], p[2]));
}
Tensor jvp_scatter_add(const Tensor* p, const Tensor* t, int, const Tensor&, const Attrs& at) {
  if (!t[2].defined()) return t[0];
  return O::scatter_add(or_zeros(t[0], p[0]), at.ints[0], p[1], t[2]);
}

// self's cotangent: g where nothing was scattered (scatter overwrote the rest), g itself for scatter_add.
template <bool Add>
void vjp_scatter(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs& at, const bool* need, Tensor* grads) {
  if (need[0]) grads[0] = Add ? g : O::scatter(g, at.ints[0], p[1], O::zeros_like(p[2]));
  if (need[2]) grads[2] = fit_to_src(O::gather(g, at.ints[0], p[1]), p[2]);
}

// NOTE: the batch rules fold vmap's batch into the op itself: every operand gets the batch as its
// dim 0 (an unbatched one as a stride-0 expanded view, no copy) and the op runs once along
// dim + 1. The batch dim is then one more dim where index matches the others in size, which the
// shape rule allows; per-example 0-d operands become [1] first (the rank torch gives them).
Tensor batched_operand(const Tensor& v, int bdim, int64_t batch) {
  Tensor m = rules::materialize(v, bdim, batch);
  return m.ndim() == 1 ? O::unsqueeze(m, 1) : m;  // a per-example 0-d value: [B] -> [B, 1]
}

Tensor batch_gather(const Tensor* v, const int* bd, int, const Attrs& at, int64_t batch) {
  const int d = wrap_dim(at.ints[0], rules::logical_rank(v[0], bd[0]), "gather");
  const bool index_0d = rules::logical_rank(v[1], bd[1]) == 0;
  Tensor r = O::gather(batched_operand(v[0], bd[0], batch), d + 1, batched_operand(v[1], bd[1], batch));
  return index_0d ? O::squeeze(r, Dims{1}) : r;
}

template <bool Add>
Tensor batch_scatter(const Tensor* v, const int* bd, int, const Attrs& at, int64_t batch) {
  const char* op = Add ? "scatter_add" : "scatter";
  const int rank = rules::logical_rank(v[0], bd[0]);
  const int d = wrap_dim(at.ints[0], rank, op);
  Tensor self = batched_operand(v[0], bd[0], batch), index = batched_operand(v[1], bd[1], batch);
  Tensor src = batched_operand(v[2], bd[2], batch);
  Tensor r = Add ? O::scatter_add(self, d + 1, index, src) : O::scatter(self, d + 1, index, src);
  return rank == 0 ? O::squeeze(r, Dims{1}) : r;
}

Attrs dim_attrs(int64_t dim) {
  Attrs a;
  a.ints = Dims{dim};
  return a;
}

}  // namespace

void register_gather_scatter_ops(OpDef* t) {
  OpDef& g = define_op(t, OpId::Gather, "gather", 2);
  g.meta = meta_gather;
  g.eval = eval_gather;
  g.jvp = jvp_gather;
  g.vjp = vjp_gather;
  g.batch = batch_gather;

  OpDef& s = define_op(t, OpId::Scatter, "scatter", 3);
  s.meta = meta_scatter<false>;
  s.eval = eval_scatter<false>;
  s.jvp = jvp_scatter;
  s.vjp = vjp_scatter<false>;
  s.batch = batch_scatter<false>;

  OpDef& sa = define_op(t, OpId::ScatterAdd, "scatter_add", 3);
  sa.meta = meta_scatter<true>;
  sa.eval = eval_scatter<true>;
  sa.jvp = jvp_scatter_add;
  sa.vjp = vjp_scatter<true>;
  sa.batch = batch_scatter<true>;
}

namespace ops {

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) { return apply2(OpId::Gather, x, index, dim_attrs(dim)); }
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return apply3(OpId::Scatter, self, index, src, dim_attrs(dim));
}
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, double value) {
  return as_op("scatter", [&] {
    check_scalar_fits("scatter", value, self.dtype());
    return scatter(self, dim, index, full(index.shape(), value, self.dtype(), self.device()));
  });
}
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return apply3(OpId::ScatterAdd, self, index, src, dim_attrs(dim));
}

// torch's index_add: self plus the index_add primitive's zeros with source's slabs added at index.
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source) {
  const char* op = "index_add";
  return as_op(op, [&] {
    ADJ_CHECK(index.dtype() == DType::Int64, ErrorKind::DType, op,
              "expected dtype int64 for index, got " << dtype_name(index.dtype()) << " " << index.shape().str());
    ADJ_CHECK(index.ndim() <= 1, ErrorKind::Shape, op, "index is supposed to be a vector, got shape " << index.shape().str());
    ADJ_CHECK(self.dtype() == source.dtype(), ErrorKind::DType, op,
              "self (" << dtype_name(self.dtype()) << " " << self.shape().str() << ") and source (" << dtype_name(source.dtype()) << " "
                       << source.shape().str() << ") must have the same dtype");
    const int d = wrap_dim(dim, self.ndim(), op);
    const Dims ss = nonempty(self.shape()), rs = nonempty(source.shape());
    bool ok = ss.n == rs.n;
    for (int i = 0; ok && i < ss.n; i++) ok = i == d || ss[i] == rs[i];
    ADJ_CHECK(ok, ErrorKind::Shape, op,
              "source shape " << source.shape().str() << " must match self shape " << self.shape().str() << " except in dim " << d);
    ADJ_CHECK(index.numel() == rs[d], ErrorKind::Shape, op,
              "number of indices (" << index.numel() << ") should be equal to source.size(dim) (" << rs[d] << "), for dim " << d);
    Tensor added = index_add(source.ndim() ? source : reshape(source, Dims{1}), d, index, ss[d]);
    return add(self, self.ndim() ? added : reshape(added, Dims{}));
  });
}

}  // namespace ops
}  // namespace adjoint
