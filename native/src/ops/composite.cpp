// Composite ops: defined once in terms of primitives, so every transform handles them for free.
#include <cmath>
#include <string>

#include "core/error.h"
#include "interp/rules.h"
#include "ops/op_util.h"
#include "ops/ops.h"

namespace adjoint::ops {


Tensor matmul(const Tensor& a, const Tensor& b) {
  return as_op("matmul", [&] {
    ADJ_CHECK(a.ndim() >= 1 && b.ndim() >= 1, ErrorKind::Shape, "matmul",
              "both arguments need at least 1 dimension, got " << a.shape().str() << " and " << b.shape().str());
    check_same_dtype("matmul", a, b);
    // Checked on the shapes as given: the primitive sees a 1-D operand as a matrix.
    const int64_t k = a.size(a.ndim() - 1), k2 = b.size(b.ndim() == 1 ? 0 : b.ndim() - 2);
    ADJ_CHECK(k == k2, ErrorKind::Shape, "matmul",
              "shapes " << a.shape().str() << " and " << b.shape().str() << " cannot be multiplied (" << k << " != " << k2 << ")");
    // torch.matmul semantics: a 1-D left operand is a row vector, a 1-D right one a column; the
    // added dim is removed from the result.
    if (a.ndim() == 1 && b.ndim() == 1) return sum(mul(a, b), Dims{}, false);
    Tensor a2 = a.ndim() == 1 ? unsqueeze(a, 0) : a;
    Tensor b2 = b.ndim() == 1 ? unsqueeze(b, 1) : b;
    Tensor r = apply2(OpId::Matmul, a2, b2);
    if (a.ndim() == 1) r = squeeze(r, Dims{-2});
    if (b.ndim() == 1) r = squeeze(r, Dims{-1});
    return r;
  });
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor* b) {
  return as_op("linear", [&] {
    ADJ_CHECK(w.ndim() == 2 || w.ndim() == 1, ErrorKind::Shape, "linear", "weight must be 1-D or 2-D, got " << w.shape().str());
    ADJ_CHECK(x.ndim() >= 1, ErrorKind::Shape, "linear", "input must have at least 1 dimension, got " << x.shape().str());
    ADJ_CHECK(x.size(x.ndim() - 1) == w.size(w.ndim() - 1), ErrorKind::Shape, "linear",
              "input " << x.shape().str() << " and weight " << w.shape().str() << " do not fit: input features "
                       << x.size(x.ndim() - 1) << " != weight in_features " << w.size(w.ndim() - 1));
    check_same_dtype("linear", x, w);
    if (b) check_same_dtype("linear", x, *b);  // no promotion through the bias' add: torch refuses it too
    if (w.ndim() == 1) {  // a single output feature: no fused form
      Tensor y = matmul(x, w);
      return b ? add(y, *b) : y;
    }
    return b ? apply3(OpId::Linear, x, w, *b) : apply2(OpId::Linear, x, w);
  });
}

// Exact composites of the elementwise primitives (the same roundings as torch's kernels).
Tensor square(const Tensor& x) { return as_op("square", [&] { return mul(x, x); }); }
Tensor reciprocal(const Tensor& x) {
  return as_op("reciprocal", [&] { return div(scalar(1, is_floating(x.dtype()) ? x.dtype() : DType::Int64, x.device()), x); });
}
Tensor rsqrt(const Tensor& x) { return as_op("rsqrt", [&] { return reciprocal(sqrt(x)); }); }

// NOTE: clamp is min(max(x, lo), hi) written with strict comparisons and where, not with
// maximum/minimum: its values are those, and where's derivative gives torch's convention (x's
// derivative passes on lo <= x <= hi, bounds included, instead of maximum's half at a tie).
Tensor clamp(const Tensor& x, const Tensor* lo, const Tensor* hi) {
  return as_op("clamp", [&] {
    ADJ_CHECK(lo || hi, ErrorKind::Argument, "clamp", "at least one of min and max must be given");
    Tensor r = x;
    if (lo) r = where(compare(OpId::Lt, r, *lo), *lo, r);
    if (hi) r = where(compare(OpId::Gt, r, *hi), *hi, r);
    return r;
  });
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  if (x.ndim() == 0) { wrap_dim(d0, 0, "transpose"); wrap_dim(d1, 0, "transpose"); return x; }
  int a = wrap_dim(d0, x.ndim(), "transpose"), b = wrap_dim(d1, x.ndim(), "transpose");
  Dims perm;
  for (int i = 0; i < x.ndim(); i++) perm.push_back(i);
  std::swap(perm[a], perm[b]);
  return permute(x, perm);
}

Tensor movedim(const Tensor& x, int64_t src, int64_t dst) {
  if (x.ndim() == 0) { wrap_dim(src, 0, "movedim"); wrap_dim(dst, 0, "movedim"); return x; }
  int s = wrap_dim(src, x.ndim(), "movedim"), d = wrap_dim(dst, x.ndim(), "movedim");
  Dims rest;
  for (int i = 0; i < x.ndim(); i++)
    if (i != s) rest.push_back(i);
  rest.insert(d, s);
  return permute(x, rest);
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  return as_op("stack", [&] {
    ADJ_CHECK(!xs.empty(), ErrorKind::Argument, "stack", "expected a non-empty list of tensors");
    int d = wrap_dim(dim, xs[0].ndim() + 1, "stack");
    ADJ_CHECK(xs[0].ndim() < kMaxDims, ErrorKind::Unsupported, "stack",
              "shape " << xs[0].shape().str() << " already has the maximum rank " << kMaxDims);
    for (size_t i = 1; i < xs.size(); i++) {
      ADJ_CHECK(xs[i].shape() == xs[0].shape(), ErrorKind::Shape, "stack",
                "all tensors must have the same shape: input 0 is " << xs[0].shape().str() << ", input " << i << " is " << xs[i].shape().str());
      check_same_dtype("stack", xs[0], xs[i]);
      check_same_device("stack", xs[0], xs[i]);
    }
    Attrs at;
    at.ints = Dims{d};
    return apply(OpId::Stack, xs.data(), int(xs.size()), at);  // a fused primitive (OpDef::decompose)
  });
}

// How many elements each result of a reduction over `dims` sums, as a double: the sizes of a shape
// with no elements may multiply past int64 ([0, 2^62, 2^62] over dims 1, 2).

Tensor mean(const Tensor& x, const Dims& dims, bool keepdim) {
  return as_op("mean", [&] {
    check_floating("mean", x);
    Tensor s = sum(x, dims, keepdim);
    return div(s, scalar(reduced_count("mean", x, dims), x.dtype(), x.device()));  // 0 / 0 = nan over nothing, as torch
  });
}

// NOTE: the shift that keeps exp from overflowing in logsumexp and (log_)softmax: the max over
// `dims` (keepdim), or, over dims of size 0 (where amax is undefined), zeros of the same shape
// (from sum, so that they keep x's tracers and batching): softmax along an empty dim is then
// empty, as in torch. The shift needs no stop-gradient, since its contributions cancel exactly in
// every derivative.
static Tensor stable_shift(const Tensor& x, const Dims& dims) {
  return reduced_count("amax", x, dims) == 0 ? sum(x, dims, true) : amax(x, dims, true);
}

Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim) {
  return as_op("logsumexp", [&] {
    check_floating("logsumexp", x);
    // Over nothing: -inf (torch.logsumexp(torch.zeros(3, 0), 1)), a constant: computed as
    // log(sum(exp(x))) = log(0) its tangent would be 0 / 0 = nan, not 0. sum checks the dims.
    if (reduced_count("logsumexp", x, dims) == 0) return full(sum(x, dims, keepdim).shape(), -INFINITY, x.dtype(), x.device());
    Tensor m = stable_shift(x, dims);
    // An all -inf slice would give (-inf) - (-inf) = NaN; shift by 0 there instead.
    Tensor finite_m = where(compare(OpId::Eq, abs(m), scalar(INFINITY, x.dtype(), x.device())), zeros(Dims{}, x.dtype(), x.device()), m);
    Tensor r = add(log(sum(exp(sub(x, finite_m)), dims, true)), finite_m);
    return keepdim ? r : (dims.empty() ? reshape(r, Dims{}) : squeeze(r, dims));
  });
}

Tensor softmax(const Tensor& x, int64_t dim) {
  return as_op("softmax", [&] {
    check_floating("softmax", x);
    Tensor e = exp(sub(x, stable_shift(x, Dims{dim})));
    return div(e, sum(e, Dims{dim}, true));
  });
}

// NOTE: (x - m) - log(sum(exp(x - m))), not x - logsumexp(x): adding the max back first would round
// the result to the max's precision (float32 [1000, 1000] gave -0.69312 instead of -0.69315).
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return as_op("log_softmax", [&] {
    check_floating("log_softmax", x);
    Tensor shifted = sub(x, stable_shift(x, Dims{dim}));
    return sub(shifted, log(sum(exp(shifted), Dims{dim}, true)));
  });
}

}  // namespace adjoint::ops
