// View primitives (no data copied): reshape/view, permute, expand, slice, select, squeeze,
// unsqueeze; plus contiguous, which copies only when it must.
#include <algorithm>

#include "interp/onehot.h"
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
  // NOTE: a contiguous input is always viewed, never copied (onehot::view_result_shape relies on
  // this to get result shapes from metadata-only probes).
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

Tensor eval_permute(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  ADJ_CHECK(at.ints.n == x.ndim(), ErrorKind::Argument, "permute",
            "permutation " << at.ints.str() << " does not match rank " << x.ndim() << " of shape " << x.shape().str());
  Dims sh, st;
  uint32_t seen = 0;
  for (int64_t d : at.ints) {
    int w = wrap_dim(d, x.ndim(), "permute");
    ADJ_CHECK(!(seen & (1u << w)), ErrorKind::Argument, "permute", "dim " << w << " repeated in permutation " << at.ints.str());
    seen |= 1u << w;
    sh.push_back(x.size(w));
    st.push_back(x.strides()[w]);
  }
  return Tensor::view_of(x, sh, st, x.offset(), "permute");
}

Tensor eval_expand(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  const Dims& req = at.ints;
  ADJ_CHECK(req.n >= x.ndim(), ErrorKind::Shape, "expand",
            "target shape " << req.str() << " has fewer dims than the input " << x.shape().str());
  Dims sh, st;
  sh.n = st.n = req.n;
  const int lead = req.n - x.ndim();
  for (int i = 0; i < req.n; i++) {
    int j = i - lead;
    if (j < 0) {
      ADJ_CHECK(req[i] >= 0, ErrorKind::Argument, "expand", "size " << req[i] << " invalid for new leading dim " << i << " in " << req.str());
      sh[i] = req[i];
      st[i] = 0;
    } else if (req[i] == -1 || req[i] == x.size(j)) {
      sh[i] = x.size(j);
      st[i] = x.strides()[j];
    } else {
      ADJ_CHECK(x.size(j) == 1 && req[i] >= 0, ErrorKind::Shape, "expand",
                "cannot expand shape " << x.shape().str() << " to " << req.str() << " (dim " << i << ": " << x.size(j) << " -> " << req[i] << ")");
      sh[i] = req[i];
      st[i] = 0;
    }
  }
  return Tensor::view_of(x, sh, st, x.offset(), "expand");  // checks the element count of the result
}

// attrs.ints = {dim, start, end, step}; start/end clamp like Python slices.
Tensor eval_slice(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  ADJ_CHECK(x.ndim() > 0, ErrorKind::Index, "slice", "cannot slice a 0-d tensor");
  int d = wrap_dim(at.ints[0], x.ndim(), "slice");
  int64_t n = x.size(d), start = at.ints[1], end = at.ints[2], step = at.ints[3];
  ADJ_CHECK(step > 0, ErrorKind::Argument, "slice", "step must be positive, got " << step);
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = start < 0 ? 0 : (start > n ? n : start);
  end = end < start ? start : (end > n ? n : end);
  Dims sh = x.shape(), st = x.strides();
  // (end - start + step - 1) / step would overflow for a huge step: count as 1 + (len - 1) / step
  const int64_t len = end - start;
  sh[d] = len == 0 ? 0 : 1 + (len - 1) / step;
  // with two or more elements, stride * step is a distance inside the data; with fewer it is
  // never used and might not fit, so the source stride stands in
  st[d] = sh[d] > 1 ? x.strides()[d] * step : x.strides()[d];
  // wrapping: an offset into a tensor with no elements may not fit (view_of then sets it to 0)
  return Tensor::view_of(x, sh, st, wrapping_add(x.offset(), wrapping_mul(start, x.strides()[d])), "slice");
}

// attrs.ints = {dim, index}
Tensor eval_select(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  ADJ_CHECK(x.ndim() > 0, ErrorKind::Index, "select", "cannot select from a 0-d tensor");
  int d = wrap_dim(at.ints[0], x.ndim(), "select");
  int64_t n = x.size(d), i = at.ints[1];
  ADJ_CHECK(i >= -n && i < n, ErrorKind::Index, "select",
            "index " << i << " out of range for dim " << d << " of size " << n << " (shape " << x.shape().str() << ")");
  if (i < 0) i += n;
  Dims sh = x.shape(), st = x.strides();
  sh.erase(d);
  st.erase(d);
  return Tensor::view_of(x, sh, st, wrapping_add(x.offset(), wrapping_mul(i, x.strides()[d])), "select");  // as in slice
}

// attrs.ints = dims to drop if their size is 1 (empty = all size-1 dims)
Tensor eval_squeeze(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  uint32_t mask = 0;
  if (at.ints.empty()) {
    for (int i = 0; i < x.ndim(); i++) mask |= 1u << i;
  } else {
    for (int64_t d : at.ints) {
      int w = wrap_dim(d, x.ndim(), "squeeze");
      if (x.ndim() > 0) mask |= 1u << w;
    }
  }
  Dims sh, st;
  for (int i = 0; i < x.ndim(); i++) {
    if ((mask & (1u << i)) && x.size(i) == 1) continue;
    sh.push_back(x.size(i));
    st.push_back(x.strides()[i]);
  }
  return Tensor::view_of(x, sh, st, x.offset(), "squeeze");
}

Tensor eval_unsqueeze(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  int d = wrap_dim(at.ints[0], x.ndim() + 1, "unsqueeze");
  ADJ_CHECK(x.ndim() < kMaxDims, ErrorKind::Unsupported, "unsqueeze",
            "shape " << x.shape().str() << " already has the maximum rank " << kMaxDims);
  Dims sh = x.shape(), st = x.strides();
  int64_t s = d < x.ndim() ? wrapping_mul(x.strides()[d], x.size(d)) : 1;  // wraps only with no elements
  sh.insert(d, 1);
  st.insert(d, s);
  return Tensor::view_of(x, sh, st, x.offset(), "unsqueeze");
}

Tensor eval_contiguous(const Tensor* in, int, const Attrs&) {
  const Tensor& x = in[0];
  if (x.is_contiguous()) return x;
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device(), "contiguous");
  backend_of(x).copy(x, out);
  return out;
}

}  // namespace

void register_view_rules(OpDef* t);
void register_detach_op(OpDef* t);  // ops/detach.cpp

void register_view_ops(OpDef* t) {
  t[int(OpId::Reshape)].eval = eval_reshape;
  t[int(OpId::Permute)].eval = eval_permute;
  t[int(OpId::Expand)].eval = eval_expand;
  t[int(OpId::Slice)].eval = eval_slice;
  t[int(OpId::Select)].eval = eval_select;
  t[int(OpId::Squeeze)].eval = eval_squeeze;
  t[int(OpId::Unsqueeze)].eval = eval_unsqueeze;
  t[int(OpId::Contiguous)].eval = eval_contiguous;
  register_view_rules(t);
  register_detach_op(t);
}

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

// Row-major reshapes (and squeeze/unsqueeze) keep every element's flat position.
template <OpId Op>
Tensor onehot_reshape(const OnehotCall& c) {
  return c.wrap(c.index[c.oh], c.scale[c.oh], onehot::view_result_shape(Op, c.shape(), c.in[c.oh].dtype(), c.at));
}

// Each entry repeats at every broadcast copy of its position (sum's backward: a one-hot cotangent
// spread over a batch dim), a multi-hot value, while that stays sparse enough to gain.
Tensor onehot_expand(const OnehotCall& c) {
  const Tensor &index = c.index[c.oh], &scale = c.scale[c.oh];
  const Dims out = onehot::view_result_shape(OpId::Expand, c.shape(), c.in[c.oh].dtype(), c.at);  // checks the sizes
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

void register_view_rules(OpDef* t) {
#define ADJ_V_(id, vjpfn, batchfn)              \
  t[int(OpId::id)].jvp = jvp_view<OpId::id>;    \
  t[int(OpId::id)].vjp = vjpfn;                 \
  t[int(OpId::id)].batch = batchfn;
  ADJ_V_(Reshape, vjp_reshape, batch_reshape)
  ADJ_V_(Permute, vjp_permute, batch_permute)
  ADJ_V_(Expand, vjp_expand, batch_expand)
  ADJ_V_(Slice, vjp_slice, batch_slice)
  ADJ_V_(Select, vjp_select, batch_select)
  ADJ_V_(Squeeze, vjp_squeeze, batch_squeeze)
  ADJ_V_(Unsqueeze, vjp_unsqueeze, batch_unsqueeze)
  ADJ_V_(Contiguous, vjp_identity, batch_contiguous)
#undef ADJ_V_
  t[int(OpId::Contiguous)].onehot = onehot_contiguous;
  t[int(OpId::Reshape)].onehot = onehot_reshape<OpId::Reshape>;
  t[int(OpId::Squeeze)].onehot = onehot_reshape<OpId::Squeeze>;
  t[int(OpId::Unsqueeze)].onehot = onehot_reshape<OpId::Unsqueeze>;
  t[int(OpId::Expand)].onehot = onehot_expand;
  t[int(OpId::Slice)].onehot = onehot_slice;
}

}  // namespace adjoint
