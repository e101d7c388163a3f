// View primitives (no data copied): reshape/view, permute, expand, slice, select, squeeze,
// unsqueeze; plus contiguous, which copies only when it must.
#include <algorithm>

#include "interp/rules.h"
#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace {

// Resolves one -1 in `req` against numel; checks the sizes agree.
Dims infer_shape(const char* op, const Dims& req, const Dims& xshape) {
  Dims s = req, given = req;  // given: the -1 counted as 1
  int infer = -1;
  for (int i = 0; i < s.n; i++) {
    if (s[i] == -1) {
      ADJ_CHECK(infer < 0, ErrorKind::Argument, op, "only one dimension can be -1 in " << req.str());
      infer = i;
      given[i] = 1;
    } else {
      ADJ_CHECK(s[i] >= 0, ErrorKind::Argument, op, "invalid size " << s[i] << " in shape " << req.str());
    }
  }
  // Checked: a count that wrapped could match the input's (7 * 7905747460161236407 wraps to 1).
  const int64_t known = numel_of(given, op);
  const int64_t n = numel_of(xshape);
  if (infer >= 0) {
    ADJ_CHECK(known != 0, ErrorKind::Shape, op,
              "shape " << req.str() << " is ambiguous for input of shape " << xshape.str() << " (" << n
                       << " elements): with a 0 in the other sizes, -1 could be any size");
    ADJ_CHECK(n % known == 0, ErrorKind::Shape, op,
              "shape " << req.str() << " is invalid for input of shape " << xshape.str() << " (" << n << " elements)");
    s[infer] = n / known;
  } else {
    ADJ_CHECK(known == n, ErrorKind::Shape, op,
              "shape " << req.str() << " is invalid for input of shape " << xshape.str() << " (" << n << " elements)");
  }
  return s;
}

// Strides that let `shape` view x's memory, if any (PyTorch's computeStride): groups of old dims
// that are contiguous with each other can be split or merged freely.
bool view_strides(const Tensor& x, const Dims& shape, Dims* out) {
  const Dims &os = x.shape(), &ost = x.strides();
  out->n = shape.n;
  if (x.numel() == 0 || x.ndim() == 0) { *out = contiguous_strides(shape); return true; }
  int64_t view_d = shape.n - 1;
  int64_t chunk_base_stride = ost.n ? ost[ost.n - 1] : 1;
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t td = os.n - 1; td >= 0; td--) {
    tensor_numel *= os[td];
    if (td == 0 || (os[td - 1] != 1 && ost[td - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        (*out)[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        view_d--;
      }
      if (view_numel != tensor_numel) return false;
      if (td > 0) {
        chunk_base_stride = ost[td - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

// attrs.ints = requested shape (one -1 allowed); attrs.flag = view only (never copy).
Tensor eval_reshape(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  const char* name = at.flag ? "view" : "reshape";
  Dims shape = infer_shape(name, at.ints, x.shape());
  // A contiguous input is always viewed, never copied.
  if (x.is_contiguous()) return Tensor::view_of(x, shape, contiguous_strides(shape), x.offset(), name);
  Dims st;
  if (view_strides(x, shape, &st)) return Tensor::view_of(x, shape, st, x.offset(), name);
  ADJ_CHECK(!at.flag, ErrorKind::Shape, name,
            "shape " << shape.str() << " cannot view a tensor of shape " << x.shape().str() << " with strides " << x.strides().str()
                     << " without copying; use reshape");
  Tensor c = Tensor::empty(x.shape(), x.dtype(), x.device(), name);
  backend_of(x).copy(x, c);
  return Tensor::view_of(c, shape, contiguous_strides(shape), 0, name);
}

// NOTE: each view op's metadata rule is a layout function: the result's shape, strides and
// offset from the input's (with every check and message). eval applies it to the input's layout;
// meta to a contiguous layout of the given shape and keeps the shape (view_meta below), so the two
// can never disagree about a shape.
struct Layout {
  Dims shape, strides;
  int64_t offset;
};

Layout layout_permute(const Layout& x, const Attrs& at) {
  ADJ_CHECK(at.ints.n == x.shape.n, ErrorKind::Argument, "permute",
            "permutation " << at.ints.str() << " does not match rank " << x.shape.n << " of shape " << x.shape.str());
  Layout r{{}, {}, x.offset};
  uint32_t seen = 0;
  for (int64_t d : at.ints) {
    int w = wrap_dim(d, x.shape.n, "permute");
    ADJ_CHECK(!(seen & (1u << w)), ErrorKind::Argument, "permute", "dim " << w << " repeated in permutation " << at.ints.str());
    seen |= 1u << w;
    r.shape.push_back(x.shape[w]);
    r.strides.push_back(x.strides[w]);
  }
  return r;
}

Layout layout_expand(const Layout& x, const Attrs& at) {
  const Dims& req = at.ints;
  const int nd = x.shape.n;
  ADJ_CHECK(req.n >= nd, ErrorKind::Shape, "expand", "target shape " << req.str() << " has fewer dims than the input " << x.shape.str());
  Layout r{{}, {}, x.offset};
  r.shape.n = r.strides.n = req.n;
  const int lead = req.n - nd;
  for (int i = 0; i < req.n; i++) {
    int j = i - lead;
    if (j < 0) {
      ADJ_CHECK(req[i] >= 0, ErrorKind::Argument, "expand", "size " << req[i] << " invalid for new leading dim " << i << " in " << req.str());
      r.shape[i] = req[i];
      r.strides[i] = 0;
    } else if (req[i] == -1 || req[i] == x.shape[j]) {
      r.shape[i] = x.shape[j];
      r.strides[i] = x.strides[j];
    } else {
      ADJ_CHECK(x.shape[j] == 1 && req[i] >= 0, ErrorKind::Shape, "expand",
                "cannot expand shape " << x.shape.str() << " to " << req.str() << " (dim " << i << ": " << x.shape[j] << " -> " << req[i] << ")");
      r.shape[i] = req[i];
      r.strides[i] = 0;
    }
  }
  return r;
}

// attrs.ints = {dim, start, end, step}; start/end clamp like Python slices.
Layout layout_slice(const Layout& x, const Attrs& at) {
  ADJ_CHECK(x.shape.n > 0, ErrorKind::Index, "slice", "cannot slice a 0-d tensor");
  int d = wrap_dim(at.ints[0], x.shape.n, "slice");
  int64_t n = x.shape[d], start = at.ints[1], end = at.ints[2], step = at.ints[3];
  ADJ_CHECK(step > 0, ErrorKind::Argument, "slice", "step must be positive, got " << step);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = start < 0 ? 0 : (start > n ? n : start);
  end = end < start ? start : (end > n ? n : end);
  Layout r = x;
  // (end - start + step - 1) / step would overflow for a huge step: count as 1 + (len - 1) / step
  const int64_t len = end - start;
  r.shape[d] = len == 0 ? 0 : 1 + (len - 1) / step;
  // with two or more elements, stride * step is a distance inside the data; with fewer it is
  // never used and might not fit, so the source stride stands in
  r.strides[d] = r.shape[d] > 1 ? x.strides[d] * step : x.strides[d];
  // wrapping: an offset into a tensor with no elements may not fit (view_of then sets it to 0)
  r.offset = wrapping_add(x.offset, wrapping_mul(start, x.strides[d]));
  return r;
}

// attrs.ints = {dim, index}
Layout layout_select(const Layout& x, const Attrs& at) {
  ADJ_CHECK(x.shape.n > 0, ErrorKind::Index, "select", "cannot select from a 0-d tensor");
  int d = wrap_dim(at.ints[0], x.shape.n, "select");
  int64_t n = x.shape[d], i = at.ints[1];
  ADJ_CHECK(i >= -n && i < n, ErrorKind::Index, "select",
            "index " << i << " out of range for dim " << d << " of size " << n << " (shape " << x.shape.str() << ")");
  if (i < 0) i += n;
  Layout r = x;
  r.shape.erase(d);
  r.strides.erase(d);
  r.offset = wrapping_add(x.offset, wrapping_mul(i, x.strides[d]));  // as in slice
  return r;
}

// attrs.ints = dims to drop if their size is 1 (empty = all size-1 dims)
Layout layout_squeeze(const Layout& x, const Attrs& at) {
  const int nd = x.shape.n;
  uint32_t mask = 0;
  if (at.ints.empty()) {
    for (int i = 0; i < nd; i++) mask |= 1u << i;
  } else {
    for (int64_t d : at.ints) {
      int w = wrap_dim(d, nd, "squeeze");
      if (nd > 0) mask |= 1u << w;
    }
  }
  Layout r{{}, {}, x.offset};
  for (int i = 0; i < nd; i++) {
    if ((mask & (1u << i)) && x.shape[i] == 1) continue;
    r.shape.push_back(x.shape[i]);
    r.strides.push_back(x.strides[i]);
  }
  return r;
}

Layout layout_unsqueeze(const Layout& x, const Attrs& at) {
  const int nd = x.shape.n;
  int d = wrap_dim(at.ints[0], nd + 1, "unsqueeze");
  ADJ_CHECK(nd < kMaxDims, ErrorKind::Unsupported, "unsqueeze", "shape " << x.shape.str() << " already has the maximum rank " << kMaxDims);
  Layout r = x;
  int64_t s = d < nd ? wrapping_mul(x.strides[d], x.shape[d]) : 1;  // wraps only with no elements
  r.shape.insert(d, 1);
  r.strides.insert(d, s);
  return r;
}

template <Layout (*F)(const Layout&, const Attrs&)>
Meta view_meta(const Meta* in, int, const Attrs& at) {
  return {F(Layout{in[0].shape, contiguous_strides(in[0].shape), 0}, at).shape, in[0].dtype};
}

template <OpId Op, Layout (*F)(const Layout&, const Attrs&)>
Tensor view_eval(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  Layout r = F(Layout{x.shape(), x.strides(), x.offset()}, at);
  return Tensor::view_of(x, r.shape, r.strides, r.offset, op_name(Op));  // checks the element count of the result
}

// reshape's shape needs no layout (whether a view can be made is eval's business: view refuses
// some strided inputs that reshape copies).
Meta meta_reshape(const Meta* in, int, const Attrs& at) { return {infer_shape(at.flag ? "view" : "reshape", at.ints, in[0].shape), in[0].dtype}; }
Meta meta_same(const Meta* in, int, const Attrs&) { return in[0]; }

Tensor eval_contiguous(const Tensor* in, int, const Attrs&) {
  const Tensor& x = in[0];
  if (x.is_contiguous()) return x;
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device(), "contiguous");
  backend_of(x).copy(x, out);
  return out;
}

}  // namespace

}  // namespace adjoint

// ---------------------------------------------------------------- transform rules
namespace adjoint {
namespace {
namespace O = ops;
using rules::logical_rank;

// Views are linear: the tangent goes through the same view.
Tensor jvp_same_op(OpId op, const Tensor* t, const Attrs& at) { return apply(op, {t[0]}, at); }
template <OpId Op>
Tensor jvp_view(const Tensor*, const Tensor* t, int, const Tensor&, const Attrs& at) { return jvp_same_op(Op, t, at); }

void vjp_reshape(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs&, const bool*, Tensor* grads) {
  grads[0] = O::reshape(g, p[0].shape());
}
void vjp_permute(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs& at, const bool*, Tensor* grads) {
  Dims inv;
  inv.n = at.ints.n;
  for (int i = 0; i < at.ints.n; i++) inv[wrap_dim(at.ints[i], at.ints.n, "permute")] = i;
  grads[0] = O::permute(g, inv);
}
void vjp_expand(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs&, const bool*, Tensor* grads) {
  grads[0] = O::sum_to(g, p[0].shape());
}
void vjp_slice(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs& at, const bool*, Tensor* grads) {
  int d = wrap_dim(at.ints[0], p[0].ndim(), "slice");
  grads[0] = O::slice_backward(g, d, at.ints[1], at.ints[2], at.ints[3], p[0].size(d));
}
void vjp_select(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs& at, const bool*, Tensor* grads) {
  int d = wrap_dim(at.ints[0], p[0].ndim(), "select");
  int64_t n = p[0].size(d), i = at.ints[1] < 0 ? at.ints[1] + n : at.ints[1];
  grads[0] = O::slice_backward(O::unsqueeze(g, d), d, i, i + 1, 1, n);
}
void vjp_squeeze(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs&, const bool*, Tensor* grads) {
  grads[0] = O::reshape(g, p[0].shape());
}
void vjp_unsqueeze(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs& at, const bool*, Tensor* grads) {
  grads[0] = O::squeeze(g, Dims{wrap_dim(at.ints[0], p[0].ndim() + 1, "unsqueeze")});
}
void vjp_identity(const Tensor& g, const Tensor*, int, const Tensor&, const Attrs&, const bool*, Tensor* grads) { grads[0] = g; }

// Batching rules: the per-example op with dims shifted past the batch dim.
Tensor batch_reshape(const Tensor* v, const int*, int, const Attrs& at, int64_t batch) {
  Dims logical = v[0].shape();
  logical.erase(0);
  // Resolve -1 against the per-example size, then prepend the batch. Reshape (not view): a
  // per-example view may need a copy physically, e.g. after mapping over a non-leading dim.
  Dims shape = infer_shape(at.flag ? "view" : "reshape", at.ints, logical);
  shape.insert(0, batch);
  return O::reshape(v[0], shape);
}
Tensor batch_permute(const Tensor* v, const int*, int, const Attrs& at, int64_t) {
  int r = v[0].ndim() - 1;
  ADJ_CHECK(at.ints.n == r, ErrorKind::Argument, "permute", "permutation " << at.ints.str() << " does not match rank " << r);
  Dims perm{0};
  for (int64_t p : at.ints) perm.push_back(wrap_dim(p, r, "permute") + 1);
  return O::permute(v[0], perm);
}
Tensor batch_expand(const Tensor* v, const int*, int, const Attrs& at, int64_t batch) {
  // After padding, a new leading dim looks like an existing size-1 one: reject its -1 here.
  for (int i = 0; i < at.ints.n - logical_rank(v[0], 0); i++)
    ADJ_CHECK(at.ints[i] >= 0, ErrorKind::Argument, "expand", "size " << at.ints[i] << " invalid for new leading dim " << i << " in " << at.ints.str());
  Tensor x = rules::pad_batched(v[0], at.ints.n);
  Dims shape = at.ints;
  shape.insert(0, batch);
  return O::expand(x, shape);
}
Tensor batch_slice(const Tensor* v, const int*, int, const Attrs& at, int64_t) {
  int d = wrap_dim(at.ints[0], logical_rank(v[0], 0), "slice");
  return O::slice(v[0], d + 1, at.ints[1], at.ints[2], at.ints[3]);
}
Tensor batch_select(const Tensor* v, const int*, int, const Attrs& at, int64_t) {
  int d = wrap_dim(at.ints[0], logical_rank(v[0], 0), "select");
  return O::select(v[0], d + 1, at.ints[1]);
}
Tensor batch_squeeze(const Tensor* v, const int*, int, const Attrs& at, int64_t) {
  int r = logical_rank(v[0], 0);
  Dims dims;
  if (at.ints.empty()) {
    for (int i = 0; i < r; i++)
      if (v[0].size(i + 1) == 1) dims.push_back(i + 1);
    if (dims.empty()) return v[0];
  } else {
    for (int64_t d : at.ints) dims.push_back(wrap_dim(d, r, "squeeze") + (r > 0 ? 1 : 0));
    if (r == 0) return v[0];
  }
  return O::squeeze(v[0], dims);
}
Tensor batch_unsqueeze(const Tensor* v, const int*, int, const Attrs& at, int64_t) {
  return O::unsqueeze(v[0], wrap_dim(at.ints[0], logical_rank(v[0], 0) + 1, "unsqueeze") + 1);
}
Tensor batch_contiguous(const Tensor* v, const int*, int, const Attrs&, int64_t) { return O::contiguous(v[0]); }

// Structured batching (interp/onehot.h): views move a one-hot value's positions. (Permute has no
// such rule: densified first, a transposed one-hot stays a strided view that later ops and the
// final Jacobian layout use as it is; kept one-hot it measured 3.5x slower in W8.)

Tensor onehot_contiguous(const OnehotCall& c) { return c.in[c.oh]; }

// The per-example result shape of view op `op` on the one-hot input, from its metadata rule.
Dims result_shape(OpId op, const OnehotCall& c) {
  const Meta in{c.shape(), c.in[c.oh].dtype()};
  return op_def(op).meta(&in, 1, c.at).shape;
}

// Row-major reshapes (and squeeze/unsqueeze) keep every element's flat position.
template <OpId Op>
Tensor onehot_reshape(const OnehotCall& c) {
  return c.wrap(c.index[c.oh], c.scale[c.oh], result_shape(Op, c));
}

// Each entry repeats at every broadcast copy of its position (sum's backward: a one-hot cotangent
// spread over a batch dim), a multi-hot value, while that stays sparse enough to gain.
Tensor onehot_expand(const OnehotCall& c) {
  const Tensor &index = c.index[c.oh], &scale = c.scale[c.oh];
  const Dims out = result_shape(OpId::Expand, c);  // checks the sizes
  const int64_t m = numel_of(c.shape()), mo = numel_of(out);
  if (m == 0 || mo == 0) return Tensor();
  const int64_t batch = index.size(0), per = onehot::entries(index), copies = mo / m;
  if (copies == 1) return c.wrap(index, scale, out);  // only new size-1 dims: the same flat positions
  if (per * copies * 4 > mo) return Tensor();
  Tensor sc = O::reshape(onehot::mask_invalid(scale, index), Dims{batch, per, 1});
  sc = O::reshape(O::expand(sc, Dims{batch, per, copies}), Dims{batch, per * copies});
  return c.wrap(onehot::expand_index(index, c.shape(), out, copies), sc, out);
}

// A step-1 slice of a 1-D one-hot (jacrev/jacfwd cut the basis row per output/input).
Tensor onehot_slice(const OnehotCall& c) {
  if (c.in[c.oh].ndim() != 1 || c.at.ints[3] != 1) return Tensor();
  int64_t n = c.shape()[0], start = c.at.ints[1], end = c.at.ints[2];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::max<int64_t>(0, std::min(start, n));
  end = std::max(start, std::min(end, n));
  Tensor ni = onehot::slice_index(c.index[c.oh], start, end);
  return c.wrap(ni, onehot::mask_invalid(c.scale[c.oh], ni), Dims{end - start});
}

}  // namespace

void register_view_ops(OpDef* t) {
  // One block per view: name, arity, metadata and eval, then its rules (jvp: the same view).
  auto view = [&](OpId id, const char* name, MetaRule meta, EvalRule eval, JvpRule jvp, VjpRule vjp, BatchRule batch) -> OpDef& {
    OpDef& d = define_op(t, id, name, 1);
    d.meta = meta;
    d.eval = eval;
    d.jvp = jvp;
    d.vjp = vjp;
    d.batch = batch;
    return d;
  };
  using O = OpId;
  view(O::Reshape, "reshape", meta_reshape, eval_reshape, jvp_view<O::Reshape>, vjp_reshape, batch_reshape).onehot = onehot_reshape<O::Reshape>;
  view(O::Permute, "permute", view_meta<layout_permute>, view_eval<O::Permute, layout_permute>, jvp_view<O::Permute>, vjp_permute,
       batch_permute);
  view(O::Expand, "expand", view_meta<layout_expand>, view_eval<O::Expand, layout_expand>, jvp_view<O::Expand>, vjp_expand,
       batch_expand).onehot = onehot_expand;
  view(O::Slice, "slice", view_meta<layout_slice>, view_eval<O::Slice, layout_slice>, jvp_view<O::Slice>, vjp_slice, batch_slice).onehot =
      onehot_slice;
  view(O::Select, "select", view_meta<layout_select>, view_eval<O::Select, layout_select>, jvp_view<O::Select>, vjp_select, batch_select);
  view(O::Squeeze, "squeeze", view_meta<layout_squeeze>, view_eval<O::Squeeze, layout_squeeze>, jvp_view<O::Squeeze>, vjp_squeeze,
       batch_squeeze).onehot = onehot_reshape<O::Squeeze>;
  view(O::Unsqueeze, "unsqueeze", view_meta<layout_unsqueeze>, view_eval<O::Unsqueeze, layout_unsqueeze>, jvp_view<O::Unsqueeze>,
       vjp_unsqueeze, batch_unsqueeze).onehot = onehot_reshape<O::Unsqueeze>;
  view(O::Contiguous, "contiguous", meta_same, eval_contiguous, jvp_view<O::Contiguous>, vjp_identity, batch_contiguous).onehot =
      onehot_contiguous;
}

}  // namespace adjoint
