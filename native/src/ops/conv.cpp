// Convolution: the conv2d primitive (NCHW, strides, padding, dilation, groups) and the two
// products its derivatives are made of, all bilinear:
//   conv2d(x, w)                    y  [n, o, oh, ow]  from x [n, c, h, w] and w [o, c/groups, kh, kw]
//   conv2d_input_grad(g, w)         gx [n, c, h, w]    the transposed convolution: <I(g, w), x> = <g, conv2d(x, w)>
//   conv2d_weight_grad(x, g)        gw [o, c/g, kh, kw] <W(x, g), w> = <g, conv2d(x, w)>
// Each one's jvp and vjp are the other two (and itself), so every rule re-enters these three and
// derivatives of any order, under any transform, stay convolutions. The functions users call
// (ops::conv2d, ops::conv1d: unbatched inputs, bias, 1-D as 2-D) are at the end.
#include <string>

#include "interp/rules.h"
#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace {

// NOTE: attrs.ints of the three primitives: {sh, sw, ph, pw, dh, dw, groups}, then for
// conv2d_input_grad the input's {h, w} (a strided convolution's output size does not determine
// its input's) and for conv2d_weight_grad the kernel's {kh, kw}.
constexpr int kConvAttrs = 7;

struct ConvParams {
  int64_t stride[2], pad[2], dil[2], groups;
};

ConvParams conv_params(const Attrs& at, const char* op) {
  ADJ_CHECK(at.ints.n >= kConvAttrs, ErrorKind::Internal, op, "expects " << kConvAttrs << " convolution attributes, got " << at.ints.str());
  const Dims& a = at.ints;
  return {{a[0], a[1]}, {a[2], a[3]}, {a[4], a[5]}, a[6]};
}

const char* const kSpatialNames[2] = {"height", "width"};

// Checks a convolution call as torch does, naming `op` and the shapes: x [n, c, *spatial] and
// w [o, c / groups, *kernel] with `spatial` = 1 (conv1d) or 2 dims; the shapes printed are the
// ones given (`given_x`: an unbatched input before its image dim was added). The geometry is
// that of the 2-D convolution it runs as (1-D: height 1).
ConvGeom conv_geometry(const Dims& x, const Dims& w, const ConvParams& p, int spatial, const char* op, const Dims* given_x = nullptr) {
  const int rank = spatial + 2;
  const std::string xs = (given_x ? *given_x : x).str();
  ADJ_CHECK(x.n == rank, ErrorKind::Shape, op, "expected a " << rank << "-D input [N, C" << (spatial == 2 ? ", H, W" : ", L") << "], got " << x.str());
  ADJ_CHECK(w.n == rank, ErrorKind::Shape, op,
            "expected a " << rank << "-D weight [out_channels, in_channels / groups" << (spatial == 2 ? ", kH, kW" : ", kL") << "], got "
                          << w.str());
  ADJ_CHECK(p.groups >= 1, ErrorKind::Argument, op, "groups must be positive, got " << p.groups);
  const int first = 2 - spatial;  // 1-D: only the width entries are the caller's
  for (int i = first; i < 2; i++) {
    ADJ_CHECK(p.stride[i] >= 1, ErrorKind::Argument, op, "stride must be positive, got " << p.stride[i] << " (" << kSpatialNames[i] << ")");
    ADJ_CHECK(p.pad[i] >= 0, ErrorKind::Argument, op, "padding must be non-negative, got " << p.pad[i] << " (" << kSpatialNames[i] << ")");
    ADJ_CHECK(p.dil[i] >= 1, ErrorKind::Argument, op, "dilation must be positive, got " << p.dil[i] << " (" << kSpatialNames[i] << ")");
  }
  ADJ_CHECK(w[0] % p.groups == 0, ErrorKind::Shape, op,
            "weight " << w.str() << " has " << w[0] << " out_channels, not divisible by groups = " << p.groups);
  ADJ_CHECK(x[1] == w[1] * p.groups, ErrorKind::Shape, op,
            "input " << xs << " has " << x[1] << " channels, but weight " << w.str() << " with groups = " << p.groups << " expects "
                     << w[1] * p.groups << " (weight.size(1) * groups)");
  ConvGeom g;
  g.n = x[0], g.c = x[1], g.o = w[0], g.groups = p.groups;
  g.h = spatial == 2 ? x[2] : 1, g.w = x[rank - 1];
  g.kh = spatial == 2 ? w[2] : 1, g.kw = w[rank - 1];
  g.sh = p.stride[0], g.sw = p.stride[1], g.ph = p.pad[0], g.pw = p.pad[1], g.dh = p.dil[0], g.dw = p.dil[1];
  const int64_t in[2] = {g.h, g.w}, k[2] = {g.kh, g.kw};
  int64_t out[2];
  for (int i = 0; i < 2; i++) {
    const int64_t padded = in[i] + 2 * p.pad[i], span = p.dil[i] * (k[i] - 1) + 1;
    ADJ_CHECK(k[i] >= 1, ErrorKind::Shape, op,
              "kernel size should be greater than zero (as in torch), but weight " << w.str() << " has " << kSpatialNames[i] << " " << k[i]);
    ADJ_CHECK(padded >= span, ErrorKind::Shape, op,
              "input " << xs << " is too small for weight " << w.str() << ": padded " << kSpatialNames[i] << " " << padded
                       << " < the kernel's extent " << span << " (dilation " << p.dil[i] << ")");
    out[i] = (padded - span) / p.stride[i] + 1;
  }
  g.oh = out[0], g.ow = out[1];
  return g;
}

void check_operands(const char* op, DType a, const Dims& as, DType b, const Dims& bs) {
  ADJ_CHECK(is_floating(a), ErrorKind::DType, op, "expected a floating point tensor (float32 or float64), got " << dtype_name(a) << " " << as.str());
  ADJ_CHECK(a == b, ErrorKind::DType, op,
            "dtype mismatch: " << dtype_name(a) << " " << as.str() << " vs " << dtype_name(b) << " " << bs.str() << " (convert one with to(dtype))");
}

Dims out_shape(const ConvGeom& g) { return Dims{g.n, g.o, g.oh, g.ow}; }
Dims input_shape(const ConvGeom& g) { return Dims{g.n, g.c, g.h, g.w}; }
Dims weight_shape(const ConvGeom& g) { return Dims{g.o, g.c / g.groups, g.kh, g.kw}; }

// The geometry of each primitive from its inputs' shapes (eval's checks, on metadata).
ConvGeom geom_conv2d(const Dims& x, const Dims& w, const Attrs& at) { return conv_geometry(x, w, conv_params(at, "conv2d"), 2, "conv2d"); }

ConvGeom geom_input_grad(const Dims& g, const Dims& w, const Attrs& at) {
  const char* op = "conv2d_input_grad";
  ADJ_CHECK(at.ints.n == kConvAttrs + 2 && g.n == 4, ErrorKind::Internal, op, "expects a 4-D g and the input's height and width");
  const Dims x{g[0], w.n == 4 ? w[1] * at.ints[6] : 0, at.ints[7], at.ints[8]};
  ConvGeom geo = conv_geometry(x, w, conv_params(at, op), 2, op);
  ADJ_CHECK(out_shape(geo) == g, ErrorKind::Shape, op, "g " << g.str() << " is not conv2d's output " << out_shape(geo).str() << " for input " << x.str() << " and weight " << w.str());
  return geo;
}

ConvGeom geom_weight_grad(const Dims& x, const Dims& g, const Attrs& at) {
  const char* op = "conv2d_weight_grad";
  ADJ_CHECK(at.ints.n == kConvAttrs + 2 && x.n == 4 && g.n == 4, ErrorKind::Internal, op, "expects 4-D x and g and the kernel's height and width");
  const int64_t groups = at.ints[6];
  const Dims w{g[1], groups >= 1 ? x[1] / groups : 0, at.ints[7], at.ints[8]};
  ConvGeom geo = conv_geometry(x, w, conv_params(at, op), 2, op);
  ADJ_CHECK(out_shape(geo) == g, ErrorKind::Shape, op, "g " << g.str() << " is not conv2d's output " << out_shape(geo).str() << " for input " << x.str() << " and weight " << w.str());
  return geo;
}

Meta meta_conv2d(const Meta* in, int, const Attrs& at) {
  check_operands("conv2d", in[0].dtype, in[0].shape, in[1].dtype, in[1].shape);
  return {out_shape(geom_conv2d(in[0].shape, in[1].shape, at)), in[0].dtype};
}
Meta meta_input_grad(const Meta* in, int, const Attrs& at) {
  check_operands("conv2d_input_grad", in[0].dtype, in[0].shape, in[1].dtype, in[1].shape);
  return {input_shape(geom_input_grad(in[0].shape, in[1].shape, at)), in[0].dtype};
}
Meta meta_weight_grad(const Meta* in, int, const Attrs& at) {
  check_operands("conv2d_weight_grad", in[0].dtype, in[0].shape, in[1].dtype, in[1].shape);
  return {weight_shape(geom_weight_grad(in[0].shape, in[1].shape, at)), in[0].dtype};
}

// conv2d_bias (x, w, b): conv2d's checks, and b [o] of x's dtype (ops::conv2d checked the
// caller's bias in its own words; this one guards the primitive).
Meta meta_conv2d_bias(const Meta* in, int nin, const Attrs& at) {
  ADJ_CHECK(nin == 3, ErrorKind::Internal, "conv2d_bias", "expects 3 inputs, got " << nin);
  const Meta m = meta_conv2d(in, 2, at);
  ADJ_CHECK(in[2].dtype == m.dtype && in[2].shape == Dims{m.shape[1]}, ErrorKind::Internal, "conv2d_bias",
            "bias " << dtype_name(in[2].dtype) << " " << in[2].shape.str() << " does not fit output " << m.shape.str());
  return m;
}

// The kernels read dense row-major operands.
Tensor dense(const Tensor& t, const char* op) {
  if (t.is_contiguous()) return t;
  Tensor c = Tensor::empty(t.shape(), t.dtype(), t.device(), op);
  backend_of(t).copy(t, c);
  return c;
}

template <OpId Op, MetaRule MetaFn, ConvGeom (*Geom)(const Dims&, const Dims&, const Attrs&), const ConvKernel* Kernel>
Tensor eval_conv(const Tensor* in, int nin, const Attrs& at) {
  const char* op = op_def(Op).name;
  const Meta m[2] = {{in[0].shape(), in[0].dtype()}, {in[1].shape(), in[1].dtype()}};
  const Meta out_meta = MetaFn(m, nin, at);  // every check
  check_same_device(op, in[0], in[1]);
  const ConvGeom g = Geom(in[0].shape(), in[1].shape(), at);
  Tensor out = Tensor::empty(out_meta.shape, out_meta.dtype, in[0].device(), op);
  backend_of(in[0]).conv(*Kernel, dense(in[0], op), dense(in[1], op), g, out);
  return out;
}

Tensor eval_conv_bias(const Tensor* in, int nin, const Attrs& at) {
  const char* op = "conv2d_bias";
  const Meta m[3] = {{in[0].shape(), in[0].dtype()}, {in[1].shape(), in[1].dtype()}, {in[2].shape(), in[2].dtype()}};
  const Meta out_meta = meta_conv2d_bias(m, nin, at);
  check_same_device(op, in[0], in[1]);
  check_same_device(op, in[0], in[2]);
  const ConvGeom g = geom_conv2d(in[0].shape(), in[1].shape(), at);
  Tensor out = Tensor::empty(out_meta.shape, out_meta.dtype, in[0].device(), op);
  backend_of(in[0]).conv_bias(kernels::conv2d_bias, dense(in[0], op), dense(in[1], op), dense(in[2], op), g, out);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- transform rules
namespace {
namespace O = ops;

Attrs with_size(const Attrs& at, int64_t a, int64_t b) {
  Attrs r;
  r.ints = Dims::of(at.ints.data(), kConvAttrs);
  r.ints.push_back(a);
  r.ints.push_back(b);
  return r;
}
Attrs conv_only(const Attrs& at) {
  Attrs r;
  r.ints = Dims::of(at.ints.data(), kConvAttrs);
  return r;
}

// The three products, re-entering dispatch: x [n, c, h, w], w [o, c/g, kh, kw], g [n, o, oh, ow].
Tensor conv(const Tensor& x, const Tensor& w, const Attrs& at) { return apply2(OpId::Conv2d, x, w, conv_only(at)); }
Tensor input_grad(const Tensor& g, const Tensor& w, int64_t h, int64_t wd, const Attrs& at) {
  return apply2(OpId::Conv2dInputGrad, g, w, with_size(at, h, wd));
}
Tensor weight_grad(const Tensor& x, const Tensor& g, int64_t kh, int64_t kw, const Attrs& at) {
  return apply2(OpId::Conv2dWeightGrad, x, g, with_size(at, kh, kw));
}

// The tangent of a bilinear f(a, b): f(ta, b) + f(a, tb), either part absent when its tangent is zero.
template <class F>
Tensor bilinear_jvp(const Tensor* p, const Tensor* t, F f) {
  Tensor r;
  if (t[0].defined()) r = f(t[0], p[1]);
  if (t[1].defined()) {
    Tensor s = f(p[0], t[1]);
    r = r.defined() ? O::add(r, s) : s;
  }
  return r;
}

Tensor jvp_conv2d(const Tensor* p, const Tensor* t, int, const Tensor&, const Attrs& at) {
  return bilinear_jvp(p, t, [&](const Tensor& x, const Tensor& w) { return conv(x, w, at); });
}
void vjp_conv2d(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs& at, const bool* need, Tensor* grads) {
  const Tensor &x = p[0], &w = p[1];
  if (need[0]) grads[0] = input_grad(g, w, x.size(2), x.size(3), at);
  if (need[1]) grads[1] = weight_grad(x, g, w.size(2), w.size(3), at);
}

// NOTE: conv2d_bias is a fused primitive (OpDef::decompose): its kernel adds the bias while each
// image's output is in cache; under jvp, and under vmap with a one-hot input, it is this
// composite. Under grad it is one node (the two products and the bias' sum over n, h, w), and
// under vmap with only the images batched one call as large as the batch (its batch rule).
Tensor bias_channels(const Tensor& b) { return O::reshape(b, Dims{b.size(0), 1, 1}); }
Tensor decompose_conv_bias(const Tensor* in, int, const Attrs& at) { return O::add(conv(in[0], in[1], at), bias_channels(in[2])); }
void vjp_conv2d_bias(const Tensor& g, const Tensor* p, int nin, const Tensor& out, const Attrs& at, const bool* need, Tensor* grads) {
  vjp_conv2d(g, p, nin, out, at, need, grads);
  if (need[2]) grads[2] = O::sum(g, Dims{0, 2, 3}, false);
}

// I(g, w) = gx: its cotangent h has x's shape; <h, I(g, w)> = <conv2d(h, w), g> = <W(h, g), w>.
Tensor jvp_input_grad(const Tensor* p, const Tensor* t, int, const Tensor&, const Attrs& at) {
  return bilinear_jvp(p, t, [&](const Tensor& g, const Tensor& w) { return input_grad(g, w, at.ints[7], at.ints[8], at); });
}
void vjp_input_grad(const Tensor& h, const Tensor* p, int, const Tensor&, const Attrs& at, const bool* need, Tensor* grads) {
  const Tensor &g = p[0], &w = p[1];
  if (need[0]) grads[0] = conv(h, w, at);
  if (need[1]) grads[1] = weight_grad(h, g, w.size(2), w.size(3), at);
}

// W(x, g) = gw: its cotangent k has w's shape; <k, W(x, g)> = <g, conv2d(x, k)> = <I(g, k), x>.
Tensor jvp_weight_grad(const Tensor* p, const Tensor* t, int, const Tensor&, const Attrs& at) {
  return bilinear_jvp(p, t, [&](const Tensor& x, const Tensor& g) { return weight_grad(x, g, at.ints[7], at.ints[8], at); });
}
void vjp_weight_grad(const Tensor& k, const Tensor* p, int, const Tensor&, const Attrs& at, const bool* need, Tensor* grads) {
  const Tensor &x = p[0], &g = p[1];
  if (need[0]) grads[0] = input_grad(g, k, x.size(2), x.size(3), at);
  if (need[1]) grads[1] = conv(x, k, at);
}

// NOTE: batching. An image operand batched alone folds the vmap batch into the images (n), one
// call as large as the batch. When the weight is batched (per-example weights, per-example weight
// gradients), the examples become groups: the images' channels of example b are channels
// b*c .. b*c+c-1 of one image, the weights of example b out-channels b*o .., and groups * batch
// groups keep every example's channels apart (functorch's rule too), again one call.
// NOTE: shapes are given in full (never recovered by dividing by the batch, which may be 0).
Tensor fold_images(const Tensor& v, int bdim, int64_t batch) {  // [B, n, c, h, w] -> [B*n, c, h, w]
  Tensor m = rules::materialize(v, bdim, batch);
  return O::reshape(m, Dims{m.size(0) * m.size(1), m.size(2), m.size(3), m.size(4)});
}
Tensor unfold_images(const Tensor& y, int64_t batch, int64_t n) {  // [B*n, ...] -> [B, n, ...]
  return O::reshape(y, Dims{batch, n, y.size(1), y.size(2), y.size(3)});
}
Tensor images_as_groups(const Tensor& v, int bdim, int64_t batch) {  // [B, n, c, h, w] -> [n, B*c, h, w]
  Tensor m = O::movedim(rules::materialize(v, bdim, batch), 0, 1);
  return O::reshape(m, Dims{m.size(0), batch * m.size(2), m.size(3), m.size(4)});
}
Tensor groups_as_images(const Tensor& y, int64_t batch, int64_t c) {  // [n, B*c, h, w] -> [B, n, c, h, w]
  return O::movedim(O::reshape(y, Dims{y.size(0), batch, c, y.size(2), y.size(3)}), 1, 0);
}
Attrs times_groups(const Attrs& at, int64_t batch) {
  Attrs r = at;
  r.ints[6] *= batch;
  return r;
}
Tensor example(const Tensor& v, int bdim) {  // an example's shape (values unread: an empty batch has none)
  Dims s = v.shape();
  if (bdim == 0) s.erase(0);
  return O::zeros(s, v.dtype(), v.device());
}
// An empty batch: the op on one example's shapes (its checks), and no examples of its result.
Tensor empty_batch(OpId op, const Tensor* v, const int* bd, const Attrs& at) {
  Tensor r = apply2(op, example(v[0], bd[0]), example(v[1], bd[1]), at);
  Dims s = r.shape();
  s.insert(0, 0);
  return O::zeros(s, r.dtype(), r.device());
}

// conv2d and conv2d_input_grad: (images, weight) -> images with the weight's out (conv2d) or in
// (input grad: c/g * groups) channels.
template <OpId Op>
Tensor batch_image_weight(const Tensor* v, const int* bd, int, const Attrs& at, int64_t batch) {
  if (batch == 0) return empty_batch(Op, v, bd, at);
  if (bd[1] != 0) return unfold_images(apply2(Op, fold_images(v[0], bd[0], batch), v[1], at), batch, v[0].size(bd[0] == 0 ? 1 : 0));
  const int64_t c = Op == OpId::Conv2d ? v[1].size(1) : v[1].size(2) * at.ints[6];
  Tensor y = apply2(Op, images_as_groups(v[0], bd[0], batch), fold_images(v[1], bd[1], batch), times_groups(at, batch));
  return groups_as_images(y, batch, c);
}

// conv2d_bias: images batched alone fold into one call with the bias; a batched weight takes
// conv2d's rule, a batched bias alone one unbatched convolution, and either adds the bias per
// example ([B, o] as [B, 1, o, 1, 1]).
Tensor batch_conv_bias(const Tensor* v, const int* bd, int nin, const Attrs& at, int64_t batch) {
  if (batch > 0 && bd[1] != 0 && bd[2] != 0)
    return unfold_images(apply3(OpId::Conv2dBias, fold_images(v[0], bd[0], batch), v[1], v[2], at), batch, v[0].size(bd[0] == 0 ? 1 : 0));
  Tensor y = bd[0] != 0 && bd[1] != 0 ? O::unsqueeze(conv(v[0], v[1], at), 0) : batch_image_weight<OpId::Conv2d>(v, bd, nin, at, batch);
  Tensor b = rules::materialize(v[2], bd[2], batch);
  return O::add(y, O::reshape(b, Dims{batch, 1, b.size(1), 1, 1}));
}

// conv2d_weight_grad: (images, g) -> weight [o, c/g, kh, kw]; per example one weight gradient.
Tensor batch_weight_grad(const Tensor* v, const int* bd, int, const Attrs& at, int64_t batch) {
  if (batch == 0) return empty_batch(OpId::Conv2dWeightGrad, v, bd, at);
  const int64_t o = v[1].size(bd[1] == 0 ? 2 : 1);
  Tensor gw = apply2(OpId::Conv2dWeightGrad, images_as_groups(v[0], bd[0], batch), images_as_groups(v[1], bd[1], batch), times_groups(at, batch));
  return O::reshape(gw, Dims{batch, o, gw.size(1), gw.size(2), gw.size(3)});
}

}  // namespace

void register_conv_ops(OpDef* t) {
  OpDef& c = define_op(t, OpId::Conv2d, "conv2d", 2);
  c.meta = meta_conv2d;
  c.eval = eval_conv<OpId::Conv2d, meta_conv2d, geom_conv2d, &kernels::conv2d>;
  c.jvp = jvp_conv2d;
  c.vjp = vjp_conv2d;
  c.batch = batch_image_weight<OpId::Conv2d>;

  OpDef& cb = define_op(t, OpId::Conv2dBias, "conv2d_bias", 3);
  cb.meta = meta_conv2d_bias;
  cb.eval = eval_conv_bias;
  cb.decompose = decompose_conv_bias;
  cb.vjp = vjp_conv2d_bias;
  cb.batch = batch_conv_bias;

  OpDef& ig = define_op(t, OpId::Conv2dInputGrad, "conv2d_input_grad", 2);
  ig.meta = meta_input_grad;
  ig.eval = eval_conv<OpId::Conv2dInputGrad, meta_input_grad, geom_input_grad, &kernels::conv2d_input_grad>;
  ig.jvp = jvp_input_grad;
  ig.vjp = vjp_input_grad;
  ig.batch = batch_image_weight<OpId::Conv2dInputGrad>;

  OpDef& wg = define_op(t, OpId::Conv2dWeightGrad, "conv2d_weight_grad", 2);
  wg.meta = meta_weight_grad;
  wg.eval = eval_conv<OpId::Conv2dWeightGrad, meta_weight_grad, geom_weight_grad, &kernels::conv2d_weight_grad>;
  wg.jvp = jvp_weight_grad;
  wg.vjp = vjp_weight_grad;
  wg.batch = batch_weight_grad;
}

// ---------------------------------------------------------------- the functions users call
namespace ops {
namespace {

// torch takes an int or a tuple: one entry stands for every spatial dim.
void spatial_param(const Dims& given, int spatial, const char* what, const char* op, int64_t* out) {
  ADJ_CHECK(given.n == 1 || given.n == spatial, ErrorKind::Argument, op,
            what << " must have 1 or " << spatial << " entries, got " << given.str());
  for (int i = 0; i < spatial; i++) out[2 - spatial + i] = given[given.n == 1 ? 0 : i];
}

// x [n, c, *spatial] (or unbatched [c, *spatial]), w [o, c/g, *kernel], b [o] or null.
Tensor conv_nd(const Tensor& x, const Tensor& w, const Tensor* b, const Dims& stride, const Dims& padding, const Dims& dilation,
               int64_t groups, int spatial, const char* op) {
  ADJ_CHECK(x.ndim() == spatial + 1 || x.ndim() == spatial + 2, ErrorKind::Shape, op,
            "expected a " << spatial + 1 << "-D (unbatched) or " << spatial + 2 << "-D (batched) input, got " << x.shape().str());
  ConvParams p{{1, 1}, {0, 0}, {1, 1}, groups};
  spatial_param(stride, spatial, "stride", op, p.stride);
  spatial_param(padding, spatial, "padding", op, p.pad);
  spatial_param(dilation, spatial, "dilation", op, p.dil);
  check_operands(op, x.dtype(), x.shape(), w.dtype(), w.shape());
  check_same_device(op, x, w);
  const bool unbatched = x.ndim() == spatial + 1;
  Dims xs = x.shape();
  if (unbatched) xs.insert(0, 1);
  const ConvGeom g = conv_geometry(xs, w.shape(), p, spatial, op, &x.shape());  // every check, in the caller's shapes
  if (b) {
    check_operands(op, x.dtype(), x.shape(), b->dtype(), b->shape());
    ADJ_CHECK(b->ndim() == 1 && b->size(0) == g.o, ErrorKind::Shape, op,
              "bias " << b->shape().str() << " must be 1-D with one entry per output channel (" << g.o << ", weight " << w.shape().str() << ")");
  }
  Tensor x4 = unbatched ? unsqueeze(x, 0) : x, w4 = w;
  if (spatial == 1) x4 = unsqueeze(x4, 2), w4 = unsqueeze(w, 2);
  Attrs at;
  at.ints = Dims{p.stride[0], p.stride[1], p.pad[0], p.pad[1], p.dil[0], p.dil[1], p.groups};
  Tensor y = b ? apply3(OpId::Conv2dBias, x4, w4, *b, at) : apply2(OpId::Conv2d, x4, w4, at);
  if (spatial == 1) y = squeeze(y, Dims{2});
  return unbatched ? squeeze(y, Dims{0}) : y;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor* b, const Dims& stride, const Dims& padding, const Dims& dilation,
              int64_t groups) {
  return conv_nd(x, w, b, stride, padding, dilation, groups, 2, "conv2d");
}

Tensor conv1d(const Tensor& x, const Tensor& w, const Tensor* b, const Dims& stride, const Dims& padding, const Dims& dilation,
              int64_t groups) {
  return conv_nd(x, w, b, stride, padding, dilation, groups, 1, "conv1d");
}

}  // namespace ops
}  // namespace adjoint
