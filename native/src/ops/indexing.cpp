// Data-gathering primitives: index_select and cat.
#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace {

// attrs.ints = {dim}; index: int64, 0-d or 1-D, every value in range.
// The first i with p[i] outside [0, size), or -1: a branch-free pass (an index of thousands of
// entries is checked on every gather), then the search only when something is wrong.
int64_t first_out_of_range(const int64_t* p, int64_t n, int64_t size) {
  bool bad = false;
  for (int64_t i = 0; i < n; i++) bad |= uint64_t(p[i]) >= uint64_t(size);  // negatives wrap to huge
  if (!bad) return -1;
  for (int64_t i = 0; i < n; i++)
    if (uint64_t(p[i]) >= uint64_t(size)) return i;
  return -1;
}

// The metadata rules: eval's shape and dtype checks (index values are eval's to check).
Meta meta_index_select(const Meta* in, int, const Attrs& at) {
  const Meta &x = in[0], &index = in[1];
  ADJ_CHECK(index.dtype == DType::Int64, ErrorKind::DType, "index_select", "index must be int64, got " << dtype_name(index.dtype) << " " << index.shape.str());
  ADJ_CHECK(index.shape.n <= 1, ErrorKind::Shape, "index_select", "index must be 0-d or 1-D, got shape " << index.shape.str());
  ADJ_CHECK(x.shape.n > 0, ErrorKind::Index, "index_select", "cannot index a 0-d tensor");
  Dims sh = x.shape;
  sh[wrap_dim(at.ints[0], x.shape.n, "index_select")] = numel_of(index.shape);
  return {sh, x.dtype};
}

Meta meta_cat(const Meta* in, int nin, const Attrs& at) {
  ADJ_CHECK(nin > 0, ErrorKind::Argument, "cat", "expected a non-empty list of tensors");
  const Meta& first = in[0];
  ADJ_CHECK(first.shape.n > 0, ErrorKind::Shape, "cat", "zero-dimensional tensor (input 0) cannot be concatenated");
  int d = wrap_dim(at.ints[0], first.shape.n, "cat");
  Dims sh = first.shape;
  sh[d] = 0;
  for (int i = 0; i < nin; i++) {
    const Meta& t = in[i];
    ADJ_CHECK(t.dtype == first.dtype, ErrorKind::DType, "cat",
              "dtype mismatch: " << dtype_name(first.dtype) << " " << first.shape.str() << " vs " << dtype_name(t.dtype) << " " << t.shape.str()
                                 << " (convert one with to(dtype))");
    bool ok = t.shape.n == first.shape.n;
    for (int j = 0; ok && j < t.shape.n; j++) ok = j == d || t.shape[j] == first.shape[j];
    ADJ_CHECK(ok, ErrorKind::Shape, "cat",
              "input " << i << " has shape " << t.shape.str() << " but input 0 has shape " << first.shape.str() << "; all sizes must match except in dim " << d);
    ADJ_CHECK(!__builtin_add_overflow(sh[d], t.shape[d], &sh[d]), ErrorKind::Argument, "cat",
              "the sizes of dim " << d << " add up to more than int64 can count (input " << i << " has shape " << t.shape.str() << ")");
  }
  return {sh, first.dtype};
}

Meta meta_stack(const Meta* in, int nin, const Attrs& at) {
  Dims sh = in[0].shape;
  sh.insert(wrap_dim(at.ints[0], in[0].shape.n + 1, "stack"), int64_t(nin));
  return {sh, in[0].dtype};
}

// slice_backward and index_add: g's shape with dim resized (the last of their attrs is the size).
template <OpId Op>
Meta meta_resized(const Meta* in, int, const Attrs& at) {
  Dims sh = in[0].shape;
  const int d = wrap_dim(at.ints[0], sh.n, op_name(Op));
  if (Op == OpId::IndexAdd) {
    const Meta& index = in[1];
    ADJ_CHECK(index.dtype == DType::Int64 && index.shape.n <= 1, ErrorKind::DType, "index_add", "index must be 0-d or 1-D int64");
    ADJ_CHECK(numel_of(index.shape) == sh[d], ErrorKind::Shape, "index_add",
              "index of " << numel_of(index.shape) << " entries for dim " << d << " of size " << sh[d]);
  }
  sh[d] = at.ints[at.ints.n - 1];
  return {sh, in[0].dtype};
}

Tensor eval_index_select(const Tensor* in, int, const Attrs& at) {
  const Tensor &x = in[0], &index = in[1];
  ADJ_CHECK(index.dtype() == DType::Int64, ErrorKind::DType, "index_select",
            "index must be int64, got " << dtype_name(index.dtype()) << " " << index.shape().str());
  ADJ_CHECK(index.ndim() <= 1, ErrorKind::Shape, "index_select", "index must be 0-d or 1-D, got shape " << index.shape().str());
  check_same_device("index_select", x, index);
  ADJ_CHECK(x.ndim() > 0, ErrorKind::Index, "index_select", "cannot index a 0-d tensor");
  int d = wrap_dim(at.ints[0], x.ndim(), "index_select");
  // NOTE: indices are bounds-checked here, on a contiguous copy, so a bad index never reaches a
  // kernel (an out-of-range read would be a crash or a silently wrong number).
  Tensor idx = index;
  if (!idx.is_contiguous()) {
    idx = Tensor::empty(index.shape(), DType::Int64, index.device(), "index_select");
    backend_of(index).copy(index, idx);
  }
  Tensor host = idx;
  if (idx.device().type != DeviceType::CPU) {
    host = Tensor::empty(idx.shape(), DType::Int64, Device{}, "index_select");
    backend_of(idx).copy_to_host(host.raw_data(), idx.raw_data(), size_t(idx.numel()) * 8);
  }
  const int64_t* p = host.data<int64_t>();
  const int64_t bad = first_out_of_range(p, host.numel(), x.size(d));
  ADJ_CHECK(bad < 0, ErrorKind::Index, "index_select",
            "index " << p[bad] << " out of range for dim " << d << " of size " << x.size(d) << " (shape " << x.shape().str() << ")");
  Dims sh = x.shape();
  sh[d] = idx.numel();
  Tensor out = Tensor::empty(sh, x.dtype(), x.device(), "index_select");
  backend_of(x).index_select(x, d, idx, out);
  return out;
}

// attrs.ints = {dim}
Tensor eval_cat(const Tensor* in, int nin, const Attrs& at) {
  ADJ_CHECK(nin > 0, ErrorKind::Argument, "cat", "expected a non-empty list of tensors");
  const Tensor& first = in[0];
  ADJ_CHECK(first.ndim() > 0, ErrorKind::Shape, "cat", "zero-dimensional tensor (input 0) cannot be concatenated");
  int d = wrap_dim(at.ints[0], first.ndim(), "cat");
  Dims sh = first.shape();
  sh[d] = 0;
  for (int i = 0; i < nin; i++) {
    const Tensor& t = in[i];
    check_same_dtype("cat", first, t);
    check_same_device("cat", first, t);
    bool ok = t.ndim() == first.ndim();
    for (int j = 0; ok && j < t.ndim(); j++) ok = j == d || t.size(j) == first.size(j);
    ADJ_CHECK(ok, ErrorKind::Shape, "cat",
              "input " << i << " has shape " << t.shape().str() << " but input 0 has shape " << first.shape().str()
                       << "; all sizes must match except in dim " << d);
    ADJ_CHECK(!__builtin_add_overflow(sh[d], t.size(d), &sh[d]), ErrorKind::Argument, "cat",
              "the sizes of dim " << d << " add up to more than int64 can count (input " << i << " has shape " << t.shape().str() << ")");
  }
  Tensor out = Tensor::empty(sh, first.dtype(), first.device(), "cat");
  backend_of(out).cat(in, nin, d, false, out);
  return out;
}

// attrs.ints = {dim}, dim of the result; inputs of one shape, dtype and device (ops::stack checks):
// each part copied straight into its place in the result (Backend::cat), with no unsqueezed view.
Tensor eval_stack(const Tensor* in, int nin, const Attrs& at) {
  const int d = wrap_dim(at.ints[0], in[0].ndim() + 1, "stack");
  Dims sh = in[0].shape();
  sh.insert(d, int64_t(nin));
  Tensor out = Tensor::empty(sh, in[0].dtype(), in[0].device(), "stack");
  backend_of(out).cat(in, nin, d, true, out);
  return out;
}

// attrs.ints = {dim, start, end, step, size}: zeros of `size` along dim, g placed at the slice.
Tensor eval_slice_backward(const Tensor* in, int, const Attrs& at) {
  const Tensor& g = in[0];
  int d = wrap_dim(at.ints[0], g.ndim(), "slice_backward");
  Dims shape = g.shape();
  shape[d] = at.ints[4];
  Tensor out = Tensor::empty(shape, g.dtype(), g.device(), "slice_backward");
  backend_of(g).fill(out, 0.0);
  Attrs sl;
  sl.ints = Dims{d, at.ints[1], at.ints[2], at.ints[3]};
  Tensor dst = op_def(OpId::Slice).eval(&out, 1, sl);  // a view of out, never traced
  ADJ_CHECK(dst.shape() == g.shape(), ErrorKind::Shape, "slice_backward",
            "gradient of shape " << g.shape().str() << " does not fit slice of shape " << dst.shape().str());
  backend_of(g).copy(g, dst);
  return out;
}

// attrs.ints = {dim, size}; in = {g, index}: zeros of `size` along dim with g's rows added at index.
Tensor eval_index_add(const Tensor* in, int, const Attrs& at) {
  const Tensor &g = in[0], &index = in[1];
  ADJ_CHECK(index.dtype() == DType::Int64 && index.ndim() <= 1, ErrorKind::DType, "index_add", "index must be 0-d or 1-D int64");
  int d = wrap_dim(at.ints[0], g.ndim(), "index_add");
  ADJ_CHECK(index.numel() == g.size(d), ErrorKind::Shape, "index_add",
            "index of " << index.numel() << " entries for dim " << d << " of size " << g.size(d));
  Dims shape = g.shape();
  shape[d] = at.ints[1];
  Tensor out = Tensor::empty(shape, g.dtype(), g.device(), "index_add");
  Backend& be = backend_of(g);
  be.fill(out, 0.0);
  Tensor idx = index.is_contiguous() ? index : op_def(OpId::Contiguous).eval(&index, 1, Attrs{});
  const int64_t* p = idx.data<int64_t>();
  const int64_t bad = first_out_of_range(p, idx.numel(), at.ints[1]);
  ADJ_CHECK(bad < 0, ErrorKind::Index, "index_add", "index " << p[bad] << " is out of bounds for dimension " << d << " with size " << at.ints[1]);
  be.index_add(g, d, idx, out);
  return out;
}

// ---------------------------------------------------------------- transform rules
namespace O = ops;

Tensor jvp_index_select(const Tensor* p, const Tensor* t, int, const Tensor&, const Attrs& at) {
  return O::index_select(t[0], at.ints[0], p[1]);
}
void vjp_index_select(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs& at, const bool*, Tensor* grads) {
  int d = wrap_dim(at.ints[0], p[0].ndim(), "index_select");
  grads[0] = O::index_add(g, d, p[1], p[0].size(d));
}

Tensor jvp_index_add(const Tensor* p, const Tensor* t, int, const Tensor&, const Attrs& at) {
  return O::index_add(t[0], at.ints[0], p[1], at.ints[1]);
}
void vjp_index_add(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs& at, const bool*, Tensor* grads) {
  grads[0] = O::index_select(g, at.ints[0], p[1]);
}

Tensor jvp_slice_backward(const Tensor*, const Tensor* t, int, const Tensor&, const Attrs& at) {
  return apply1(OpId::SliceBackward, t[0], at);
}
void vjp_slice_backward(const Tensor& g, const Tensor*, int, const Tensor&, const Attrs& at, const bool*, Tensor* grads) {
  grads[0] = O::slice(g, at.ints[0], at.ints[1], at.ints[2], at.ints[3]);
}

Tensor jvp_cat(const Tensor* p, const Tensor* t, int nin, const Tensor&, const Attrs& at) {
  std::vector<Tensor> ts(nin);
  for (int i = 0; i < nin; i++) ts[i] = t[i].defined() ? t[i] : O::zeros_like(p[i]);
  return O::cat(ts, at.ints[0]);
}
// Under transforms stack is its composite, unsqueeze and cat (OpDef::decompose).
Tensor decompose_stack(const Tensor* in, int nin, const Attrs& at) {
  const int64_t d = wrap_dim(at.ints[0], in[0].ndim() + 1, "stack");
  std::vector<Tensor> parts;
  parts.reserve(size_t(nin));
  for (int i = 0; i < nin; i++) parts.push_back(O::unsqueeze(in[i], d));
  return O::cat(parts, d);
}

void vjp_cat(const Tensor& g, const Tensor* p, int nin, const Tensor&, const Attrs& at, const bool* need, Tensor* grads) {
  int d = wrap_dim(at.ints[0], p[0].ndim(), "cat");
  int64_t pos = 0;
  for (int i = 0; i < nin; i++) {
    int64_t n = p[i].size(d);
    if (need[i]) grads[i] = O::slice(g, d, pos, pos + n, 1);
    pos += n;
  }
}

// Per-example indices become one flat index_select/index_add over batch x dim: row i of example b
// is row b * n + i of the flattened tensor.
Tensor flat_offsets(const Tensor& index, int64_t batch, int64_t n) {
  Tensor base = O::mul(O::arange(0, double(batch), 1, DType::Int64, index.device()), O::scalar(double(n), DType::Int64, index.device()));
  return O::reshape(O::add(index, O::unsqueeze(base, 1)), Dims{-1});
}

Tensor batch_index_select(const Tensor* v, const int* bd, int, const Attrs& at, int64_t batch) {
  int r = rules::logical_rank(v[0], bd[0]);
  int d = wrap_dim(at.ints[0], r, "index_select");
  if (bd[1] < 0) return O::index_select(v[0], d + 1, v[1]);
  ADJ_CHECK(v[1].ndim() <= 2, ErrorKind::Shape, "index_select", "index must be 0-d or 1-D per example");
  Tensor x = O::movedim(rules::materialize(v[0], bd[0], batch), d + 1, 1);  // [B, n, rest...]
  Dims xs = x.shape();
  int64_t n = xs[1];
  Tensor idx = v[1].ndim() == 1 ? O::unsqueeze(v[1], 1) : v[1];  // [B, k]
  int64_t k = idx.size(1);
  Dims flat = xs;
  flat.erase(0);
  flat[0] = batch * n;
  Tensor picked = O::index_select(O::reshape(x, flat), 0, flat_offsets(idx, batch, n));  // [B*k, rest...]
  Dims out = xs;
  out[1] = k;
  // No squeeze for a per-example 0-d index: eval keeps the indexed dim, with size 1.
  return O::movedim(O::reshape(picked, out), 1, d + 1);
}

Tensor batch_index_add(const Tensor* v, const int* bd, int, const Attrs& at, int64_t batch) {
  int r = rules::logical_rank(v[0], bd[0]);
  int d = wrap_dim(at.ints[0], r, "index_add");
  int64_t size = at.ints[1];
  if (bd[1] < 0) return O::index_add(v[0], d + 1, v[1], size);
  Tensor g = O::movedim(rules::materialize(v[0], bd[0], batch), d + 1, 1);  // [B, k, rest...]
  Dims gs = g.shape();
  int64_t k = gs[1];
  Tensor idx = v[1].ndim() == 1 ? O::unsqueeze(v[1], 1) : v[1];
  Dims flat = gs;
  flat.erase(0);
  flat[0] = batch * k;
  Tensor summed = O::index_add(O::reshape(g, flat), 0, flat_offsets(idx, batch, size), batch * size);
  Dims out = gs;
  out[1] = size;
  return O::movedim(O::reshape(summed, out), 1, d + 1);
}

Tensor batch_slice_backward(const Tensor* v, const int*, int, const Attrs& at, int64_t) {
  Attrs a = at;
  a.ints[0] = wrap_dim(at.ints[0], rules::logical_rank(v[0], 0), "slice_backward") + 1;
  return apply1(OpId::SliceBackward, v[0], a);
}

Tensor batch_cat(const Tensor* v, const int* bd, int nin, const Attrs& at, int64_t batch) {
  std::vector<Tensor> xs(nin);
  int r = 0;
  for (int i = 0; i < nin; i++) {
    xs[i] = rules::materialize(v[i], bd[i], batch);
    r = rules::logical_rank(v[i], bd[i]);
  }
  ADJ_CHECK(r > 0, ErrorKind::Shape, "cat", "zero-dimensional tensor cannot be concatenated");
  return O::cat(xs, wrap_dim(at.ints[0], r, "cat") + 1);
}

}  // namespace

void register_index_ops(OpDef* t) {
  OpDef& is = define_op(t, OpId::IndexSelect, "index_select", 2);
  is.meta = meta_index_select;
  is.eval = eval_index_select;
  is.jvp = jvp_index_select;
  is.vjp = vjp_index_select;
  is.batch = batch_index_select;

  OpDef& cat = define_op(t, OpId::Cat, "cat", -1);
  cat.meta = meta_cat;
  cat.eval = eval_cat;
  cat.jvp = jvp_cat;
  cat.vjp = vjp_cat;
  cat.batch = batch_cat;

  OpDef& stack = define_op(t, OpId::Stack, "stack", -1);
  stack.meta = meta_stack;
  stack.eval = eval_stack;
  stack.decompose = decompose_stack;

  OpDef& sb = define_op(t, OpId::SliceBackward, "slice_backward", 1);
  sb.meta = meta_resized<OpId::SliceBackward>;
  sb.eval = eval_slice_backward;
  sb.jvp = jvp_slice_backward;
  sb.vjp = vjp_slice_backward;
  sb.batch = batch_slice_backward;

  OpDef& ia = define_op(t, OpId::IndexAdd, "index_add", 2);
  ia.meta = meta_resized<OpId::IndexAdd>;
  ia.eval = eval_index_add;
  ia.jvp = jvp_index_add;
  ia.vjp = vjp_index_add;
  ia.batch = batch_index_add;
}

}  // namespace adjoint
