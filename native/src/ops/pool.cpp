// Pooling and padding. Max pooling is two primitives over the last two dims (any leading dims):
//   max_pool2d(v, x)           v at each window's maximum of x   [..., oh, ow]
//   max_pool2d_backward(v, x)  v added at those places into zeros [..., h, w]
// both linear in v; where the maxima lie depends on x only piecewise-constantly, so their
// derivative in x is zero. The user's max_pool2d(x) is max_pool2d(x, x): its derivative is the
// gather of the tangent, its gradient the scatter of g, with torch's choice of one element per
// window at ties. The two are each other's transpose, so every order of derivative closes.
// Average pooling and zero padding are composites (reshape + sum, slice_backward).
#include <algorithm>

#include "interp/rules.h"
#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace {

// NOTE: attrs.ints of both primitives: {kh, kw, sh, sw}.
PoolGeom pool_geometry(const Dims& x, const Attrs& at, const char* op) {
  ADJ_CHECK(at.ints.n == 4, ErrorKind::Internal, op, "expects {kh, kw, sh, sw}, got " << at.ints.str());
  ADJ_CHECK(x.n >= 2, ErrorKind::Shape, op, "expected an input with at least 2 dims [..., H, W], got " << x.str());
  PoolGeom g;
  g.kh = at.ints[0], g.kw = at.ints[1], g.sh = at.ints[2], g.sw = at.ints[3];
  ADJ_CHECK(g.kh >= 1 && g.kw >= 1, ErrorKind::Argument, op, "kernel size must be positive, got " << g.kh << " x " << g.kw);
  ADJ_CHECK(g.sh >= 1 && g.sw >= 1, ErrorKind::Argument, op, "stride must be positive, got " << g.sh << " x " << g.sw);
  g.h = x[x.n - 2], g.w = x[x.n - 1];
  ADJ_CHECK(g.h >= g.kh && g.w >= g.kw, ErrorKind::Shape, op,
            "input " << x.str() << " is smaller than the pooling window " << g.kh << " x " << g.kw);
  g.oh = (g.h - g.kh) / g.sh + 1, g.ow = (g.w - g.kw) / g.sw + 1;
  g.planes = 1;
  for (int i = 0; i < x.n - 2; i++) g.planes *= x[i];
  return g;
}

Dims with_plane(Dims s, int64_t h, int64_t w) {
  s[s.n - 2] = h, s[s.n - 1] = w;
  return s;
}

// v's shape: x's (gather) or the pooled one (scatter); the result is the other.
template <bool Scatter>
Meta meta_pool(const Meta* in, int, const Attrs& at) {
  const char* op = Scatter ? "max_pool2d_backward" : "max_pool2d";
  const Meta &v = in[0], &x = in[1];
  ADJ_CHECK(is_floating(x.dtype), ErrorKind::DType, op, "expected a floating point tensor (float32 or float64), got " << dtype_name(x.dtype) << " " << x.shape.str());
  ADJ_CHECK(v.dtype == x.dtype, ErrorKind::DType, op,
            "dtype mismatch: " << dtype_name(v.dtype) << " " << v.shape.str() << " vs " << dtype_name(x.dtype) << " " << x.shape.str());
  const PoolGeom g = pool_geometry(x.shape, at, op);
  const Dims pooled = with_plane(x.shape, g.oh, g.ow);
  ADJ_CHECK(v.shape == (Scatter ? pooled : x.shape), ErrorKind::Shape, op,
            "values " << v.shape.str() << " do not match " << (Scatter ? "the pooled shape " : "the input's shape ") << (Scatter ? pooled : x.shape).str());
  return {Scatter ? x.shape : pooled, x.dtype};
}

Tensor dense(const Tensor& t, const char* op) {
  if (t.is_contiguous()) return t;
  Tensor c = Tensor::empty(t.shape(), t.dtype(), t.device(), op);
  backend_of(t).copy(t, c);
  return c;
}

template <bool Scatter>
Tensor eval_pool(const Tensor* in, int nin, const Attrs& at) {
  const char* op = Scatter ? "max_pool2d_backward" : "max_pool2d";
  const Meta m[2] = {{in[0].shape(), in[0].dtype()}, {in[1].shape(), in[1].dtype()}};
  const Meta out_meta = meta_pool<Scatter>(m, nin, at);
  check_same_device(op, in[0], in[1]);
  Tensor out = Tensor::empty(out_meta.shape, out_meta.dtype, in[1].device(), op);
  if (out.numel() == 0) return out;
  backend_of(in[1]).pool(Scatter ? kernels::max_pool2d_scatter : kernels::max_pool2d_gather, dense(in[0], op), dense(in[1], op),
                         pool_geometry(in[1].shape(), at, op), out);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- transform rules
namespace {
namespace O = ops;

Tensor gather(const Tensor& v, const Tensor& x, const Attrs& at) { return apply2(OpId::MaxPool2d, v, x, at); }
Tensor scatter(const Tensor& v, const Tensor& x, const Attrs& at) { return apply2(OpId::MaxPool2dBackward, v, x, at); }

// Linear in v; x only says where (a zero derivative: its tangent and cotangent are dropped).
template <bool Scatter>
Tensor jvp_pool(const Tensor* p, const Tensor* t, int, const Tensor&, const Attrs& at) {
  if (!t[0].defined()) return Tensor();
  return Scatter ? scatter(t[0], p[1], at) : gather(t[0], p[1], at);
}
template <bool Scatter>
void vjp_pool(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs& at, const bool* need, Tensor* grads) {
  if (need[0]) grads[0] = Scatter ? gather(g, p[1], at) : scatter(g, p[1], at);
}

// The windows lie in the last two dims: a vmap batch is one more leading dim.
template <bool Scatter>
Tensor batch_pool(const Tensor* v, const int* bd, int, const Attrs& at, int64_t batch) {
  return apply2(Scatter ? OpId::MaxPool2dBackward : OpId::MaxPool2d, rules::materialize(v[0], bd[0], batch),
                rules::materialize(v[1], bd[1], batch), at);
}

}  // namespace

void register_pool_ops(OpDef* t) {
  OpDef& g = define_op(t, OpId::MaxPool2d, "max_pool2d", 2);
  g.meta = meta_pool<false>;
  g.eval = eval_pool<false>;
  g.jvp = jvp_pool<false>;
  g.vjp = vjp_pool<false>;
  g.batch = batch_pool<false>;

  OpDef& s = define_op(t, OpId::MaxPool2dBackward, "max_pool2d_backward", 2);
  s.meta = meta_pool<true>;
  s.eval = eval_pool<true>;
  s.jvp = jvp_pool<true>;
  s.vjp = vjp_pool<true>;
  s.batch = batch_pool<true>;
}

// ---------------------------------------------------------------- the functions users call
namespace ops {
namespace {

// torch's pooling input: [C, H, W] or [N, C, H, W].
void check_image(const Tensor& x, int64_t kernel, int64_t stride, const char* op) {
  ADJ_CHECK(x.ndim() == 3 || x.ndim() == 4, ErrorKind::Shape, op, "expected a 3-D (unbatched) or 4-D (batched) input, got " << x.shape().str());
  ADJ_CHECK(kernel >= 1, ErrorKind::Argument, op, "kernel size must be positive, got " << kernel);
  ADJ_CHECK(stride >= 1, ErrorKind::Argument, op, "stride must be positive, got " << stride);
  ADJ_CHECK(x.size(x.ndim() - 2) >= kernel && x.size(x.ndim() - 1) >= kernel, ErrorKind::Shape, op,
            "input " << x.shape().str() << " is smaller than the pooling window " << kernel << " x " << kernel);
}

}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride) {
  check_image(x, kernel, stride, "max_pool2d");
  check_floating("max_pool2d", x);
  Attrs at;
  at.ints = Dims{kernel, kernel, stride, stride};
  return apply2(OpId::MaxPool2d, x, x, at);
}

// NOTE: windows that tile the input (stride = kernel) are a reshape: [..., oh*k, ow*k] viewed as
// [..., oh, k, ow, k] and summed over the two k dims; rows and columns past the last whole
// window are left out first, as torch does.
Tensor avg_pool2d(const Tensor& x, int64_t kernel) {
  const char* op = "avg_pool2d";
  check_image(x, kernel, kernel, op);
  check_floating(op, x);
  const int r = x.ndim();
  const int64_t oh = x.size(r - 2) / kernel, ow = x.size(r - 1) / kernel;
  Tensor t = x;
  if (oh * kernel != x.size(r - 2)) t = slice(t, r - 2, 0, oh * kernel, 1);
  if (ow * kernel != x.size(r - 1)) t = slice(t, r - 1, 0, ow * kernel, 1);
  Dims s = Dims::of(x.shape().data(), r - 2);
  for (int64_t d : {oh, kernel, ow, kernel}) s.push_back(d);
  Tensor sums = sum(reshape(t, s), Dims{r - 1, r + 1}, false);
  return mul(sums, scalar(1.0 / double(kernel * kernel), x.dtype(), x.device()));
}

// NOTE: torch's order: pad[0], pad[1] are the last dim's before and after, pad[2], pad[3] the one
// before it, ... A negative entry removes elements (a slice); the rest is slice_backward, the
// adjoint of slicing, which places the values among zeros, so every rule comes with it.
Tensor pad(const Tensor& x, const Dims& pads) {
  const char* op = "pad";
  ADJ_CHECK(pads.n % 2 == 0, ErrorKind::Argument, op, "padding must have an even number of entries (before, after per dim), got " << pads.str());
  ADJ_CHECK(pads.n / 2 <= x.ndim(), ErrorKind::Argument, op,
            "padding " << pads.str() << " covers " << pads.n / 2 << " dims but the input " << x.shape().str() << " has " << x.ndim());
  Tensor t = x;
  for (int i = 0; i < pads.n / 2; i++) {
    const int d = x.ndim() - 1 - i;
    const int64_t before = pads[2 * i], after = pads[2 * i + 1], size = x.size(d);
    ADJ_CHECK(size + before + after >= 0, ErrorKind::Argument, op,
              "padding " << pads.str() << " of input " << x.shape().str() << " leaves dim " << d << " with size " << size + before + after);
    const int64_t cut_before = std::max<int64_t>(-before, 0), cut_after = std::max<int64_t>(-after, 0);
    ADJ_CHECK(cut_before + cut_after <= size, ErrorKind::Argument, op,
              "padding " << pads.str() << " removes " << cut_before + cut_after << " elements of dim " << d << " of input " << x.shape().str());
    if (cut_before || cut_after) t = slice(t, d, cut_before, size - cut_after, 1);
    const int64_t kept = t.size(d), add_before = std::max<int64_t>(before, 0), add_after = std::max<int64_t>(after, 0);
    if (add_before || add_after) t = slice_backward(t, d, add_before, add_before + kept, 1, add_before + kept + add_after);
  }
  return t;
}

}  // namespace ops
}  // namespace adjoint
