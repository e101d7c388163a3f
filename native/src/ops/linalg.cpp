// Matmul primitive: both operands of rank >= 2, batch dims broadcast. 1-D cases are composites.
// Linear primitive: x @ w^T + b fused (below eval_matmul).
#include "interp/rules.h"
#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace {

bool broadcastable(const Dims& x, const Dims& y) {
  for (int i = 1; i <= x.n && i <= y.n; i++)
    if (x[x.n - i] != y[y.n - i] && x[x.n - i] != 1 && y[y.n - i] != 1) return false;
  return true;
}

// The row and column of each known nonzero of matrix t (Storage::sparse), or false when t does not
// cover its whole storage in row-major or transposed order, or is too dense to gain.
bool sparse_places(const Tensor& t, std::vector<int64_t>* rows, std::vector<int64_t>* cols, Tensor* values) {
  const Storage* st = t.impl()->storage.get();
  if (!st || !st->sparse || t.ndim() != 2 || t.offset() != 0) return false;
  const int64_t m = t.size(0), k = t.size(1);
  if (size_t(m * k) * itemsize(t.dtype()) != st->nbytes || m < 2 || k < 2) return false;
  const bool row_major = t.strides()[0] == k && t.strides()[1] == 1, transposed = t.strides()[0] == 1 && t.strides()[1] == m;
  const Tensor& pos = st->sparse->positions;
  if (!(row_major || transposed) || pos.numel() * 4 > m * k) return false;
  const int64_t* p = pos.data<int64_t>();
  rows->resize(size_t(pos.numel()));
  cols->resize(size_t(pos.numel()));
  for (int64_t i = 0; i < pos.numel(); i++) {
    (*rows)[size_t(i)] = row_major ? p[i] / k : p[i] % m;
    (*cols)[size_t(i)] = row_major ? p[i] % k : p[i] / m;
  }
  *values = st->sparse->values;
  return true;
}

// NOTE: a factor whose storage knows its nonzero places (a densified one-hot batch, such as
// hessian(f)(x) of an elementwise f) multiplies as a gather of the other factor's rows or columns
// at those places and a scatter into zeros, not as a dense product over its zeros. Only when the
// other factor is all finite: densely, its Inf/NaN would meet the zeros and give NaN.
Tensor sparse_matmul(const Tensor& a, const Tensor& b) {
  if (a.ndim() != 2 || b.ndim() != 2 || !is_floating(a.dtype())) return Tensor();
  std::vector<int64_t> rows, cols;
  Tensor values;
  if (sparse_places(a, &rows, &cols, &values) && onehot::finite_operand(b, false)) {  // out[r, :] += v * b[c, :]
    Tensor g = ops::mul(ops::index_select(b, 0, onehot::make_index(std::move(cols))), ops::unsqueeze(values, 1));
    return ops::index_add(g, 0, onehot::make_index(std::move(rows)), a.size(0));
  }
  if (sparse_places(b, &rows, &cols, &values) && onehot::finite_operand(a, false)) {  // out[:, c] += a[:, r] * v
    Tensor g = ops::mul(ops::index_select(a, 1, onehot::make_index(std::move(rows))), ops::unsqueeze(values, 0));
    return ops::index_add(g, 1, onehot::make_index(std::move(cols)), b.size(1));
  }
  return Tensor();
}

// The shape rule of both: matmul's batch dims broadcast; linear's rows keep x's leading dims.
Meta meta_matmul(const Meta* in, int, const Attrs&) {
  const Meta &a = in[0], &b = in[1];
  ADJ_CHECK(a.dtype == b.dtype, ErrorKind::DType, "matmul",
            "dtype mismatch: " << dtype_name(a.dtype) << " " << a.shape.str() << " vs " << dtype_name(b.dtype) << " " << b.shape.str()
                               << " (convert one with to(dtype))");
  ADJ_CHECK(a.dtype != DType::Bool, ErrorKind::DType, "matmul", "not defined for bool tensors");
  ADJ_CHECK(a.shape.n >= 2 && b.shape.n >= 2, ErrorKind::Internal, "matmul", "primitive expects rank >= 2");
  const int64_t m = a.shape[a.shape.n - 2], k = a.shape[a.shape.n - 1], k2 = b.shape[b.shape.n - 2], n = b.shape[b.shape.n - 1];
  ADJ_CHECK(k == k2, ErrorKind::Shape, "matmul", "shapes " << a.shape.str() << " and " << b.shape.str() << " cannot be multiplied (" << k << " != " << k2 << ")");
  Dims ba = Dims::of(a.shape.data(), a.shape.n - 2), bb = Dims::of(b.shape.data(), b.shape.n - 2);
  ADJ_CHECK(broadcastable(ba, bb), ErrorKind::Shape, "matmul",
            "batch dims of " << a.shape.str() << " and " << b.shape.str() << " cannot be broadcast (" << ba.str() << " vs " << bb.str() << ")");
  Dims so = broadcast_shapes(ba, bb, "matmul");
  so.push_back(m);
  so.push_back(n);
  return {so, a.dtype};
}

// x [..., k], w [n, k], b (optional) broadcast against [..., n] (ops::linear checked the arguments).
Meta meta_linear(const Meta* in, int nin, const Attrs&) {
  ADJ_CHECK(in[1].shape.n == 2 && in[0].shape.n >= 1, ErrorKind::Internal, "linear", "primitive expects a 2-D weight and an input of rank >= 1");
  Dims shape = in[0].shape;
  shape[shape.n - 1] = in[1].shape[0];
  if (nin > 2) shape = broadcast_shapes(shape, in[2].shape, "linear");
  return {shape, in[0].dtype};
}

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
  // NOTE: checked here so that the message shows the operands' shapes, not only their batch dims.
  ADJ_CHECK(broadcastable(ba, bb), ErrorKind::Shape, "matmul",
            "batch dims of " << a.shape().str() << " and " << b.shape().str() << " cannot be broadcast (" << ba.str() << " vs "
                             << bb.str() << ")");
  Dims batch = broadcast_shapes(ba, bb, "matmul");
  Dims sa = batch, sb = batch, so = batch;
  sa.push_back(m); sa.push_back(k);
  sb.push_back(k); sb.push_back(n);
  so.push_back(m); so.push_back(n);
  if (Tensor r = sparse_matmul(a, b); r.defined()) return r;
  Tensor out = Tensor::empty(so, a.dtype(), a.device(), "matmul");
  backend_of(a).matmul(broadcast_view(a, sa), broadcast_view(b, sb), out);
  return out;
}

// Linear (x @ w^T + b) as one primitive: a small model's layer is one kernel call and one tape
// node under grad instead of five (transpose, unsqueeze, matmul, squeeze, add). Everywhere else it
// is its composite (OpDef::decompose), which ops::linear has checked the arguments of.
Tensor decompose_linear(const Tensor* in, int nin, const Attrs&) {
  Tensor y = ops::matmul(in[0], ops::transpose(in[1], 0, 1));
  return nin > 2 ? ops::add(y, in[2]) : y;
}

bool has_sparse_facts(const Tensor& t) {
  const Storage* st = t.impl()->storage.get();
  return st && st->sparse;
}

// The one-kernel form (Backend::linear) covers concrete floating inputs of one dtype and device,
// a bias of shape [n] and rows that merge; the rest (and factors whose storage knows its
// nonzeros, for matmul's sparse form) run as the composite, which also reports any error.
// w_kn: w is [k, n] and the product x @ w (linear's input gradient). Undefined when not fusable.
Tensor fused_linear(const Tensor& x, const Tensor& w, const Tensor* b, bool w_kn) {
  const int64_t n = w.size(w_kn ? 1 : 0), k = w.size(w_kn ? 0 : 1);
  const bool fusable = is_floating(x.dtype()) && w.dtype() == x.dtype() && w.device() == x.device() && !x.is_tracer() &&
                       !w.is_tracer() && x.size(x.ndim() - 1) == k && x.merged_row_stride() >= 0 && !has_sparse_facts(x) &&
                       !has_sparse_facts(w) &&
                       (!b || (b->ndim() == 1 && b->size(0) == n && b->dtype() == x.dtype() && b->device() == x.device()));
  if (!fusable) return Tensor();
  Dims shape = x.shape();
  shape[shape.n - 1] = n;
  Tensor out = Tensor::empty(shape, x.dtype(), x.device(), "linear");
  backend_of(x).linear(x, w, b, out, w_kn);
  return out;
}

Tensor eval_linear(const Tensor* in, int nin, const Attrs& at) {
  ADJ_CHECK(nin == 2 || nin == 3, ErrorKind::Internal, "linear", "primitive expects 2 or 3 inputs, got " << nin);
  ADJ_CHECK(in[1].ndim() == 2 && in[0].ndim() >= 1, ErrorKind::Internal, "linear", "primitive expects a 2-D weight and an input of rank >= 1");
  Tensor out = fused_linear(in[0], in[1], nin > 2 ? &in[2] : nullptr, false);
  return out.defined() ? out : decompose_linear(in, nin, at);
}

}  // namespace

}  // namespace adjoint

// ---------------------------------------------------------------- transform rules
namespace adjoint {
namespace {
namespace O = ops;

Tensor mT(const Tensor& x) { return O::transpose(x, -1, -2); }

Tensor jvp_matmul(const Tensor* p, const Tensor* t, int, const Tensor&, const Attrs&) {
  Tensor r;
  if (t[0].defined()) r = apply2(OpId::Matmul, t[0], p[1]);
  if (t[1].defined()) {
    Tensor s = apply2(OpId::Matmul, p[0], t[1]);
    r = r.defined() ? O::add(r, s) : s;
  }
  return r;
}

// A concrete operand that is the transpose of a contiguous matrix (linear's weight.t()).
bool transposed_layout(const Tensor& t) {
  if (t.is_tracer() || t.ndim() < 2) return false;
  const int n = t.ndim();
  return t.size(n - 1) > 1 && t.size(n - 2) > 1 && t.strides()[n - 2] == 1 && t.strides()[n - 1] == t.size(n - 2);
}

// A concrete contiguous matrix whose transpose is transposed_layout (linear's weight itself).
bool row_major_matrix(const Tensor& t) {
  return !t.is_tracer() && t.ndim() == 2 && t.size(0) > 1 && t.size(1) > 1 && t.strides()[1] == 1 && t.strides()[0] == t.size(1);
}

void vjp_matmul(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs&, const bool* need, Tensor* grads) {
  // NOTE: for an operand laid out transposed, its gradient is computed transposed too, so that
  // the permute's own vjp turns it back into a contiguous tensor (no strided copies later).
  if (need[0])
    grads[0] = O::sum_to(transposed_layout(p[0]) ? mT(apply2(OpId::Matmul, p[1], mT(g))) : apply2(OpId::Matmul, g, mT(p[1])),
                         p[0].shape());
  if (need[1])
    grads[1] = O::sum_to(transposed_layout(p[1]) ? mT(apply2(OpId::Matmul, mT(g), p[0])) : apply2(OpId::Matmul, mT(p[0]), g),
                         p[1].shape());
}

// NOTE: the composite's backward op for op (add's, squeeze's, matmul's and the views' rules, with
// w^T^T taken as w), so that the structured rules under jacrev and hessian see the same calls as
// they did before linear was a primitive. x2 = x as the matmul saw it (a row for a 1-D x).
void vjp_linear(const Tensor& g, const Tensor* p, int nin, const Tensor&, const Attrs&, const bool* need, Tensor* grads) {
  const Tensor &x = p[0], &w = p[1];
  const bool vec = x.ndim() == 1;
  Tensor g2_;  // squeeze's vjp, made when the matmul's rule runs
  auto g2 = [&]() -> const Tensor& {
    if (!g2_.defined()) g2_ = vec ? O::reshape(g, Dims{1, g.size(0)}) : g;
    return g2_;
  };
  // NOTE: with g and w concrete (a plain backward pass) no interpreter can see how g @ w is
  // computed, so it is one kernel call, as linear's own eval would make it (the composite's
  // transposed form for a transposed x is kept: its gradient's layout follows x's).
  Tensor gx_fused = need[0] && !transposed_layout(x) ? fused_linear(g, w, nullptr, true) : Tensor();
  if (gx_fused.defined()) {
    grads[0] = std::move(gx_fused);
  } else if (need[0]) {
    Tensor gx = transposed_layout(x) ? mT(apply2(OpId::Matmul, O::transpose(w, 0, 1), mT(g2()))) : apply2(OpId::Matmul, g2(), w);
    gx = O::sum_to(gx, vec ? Dims{1, x.size(0)} : x.shape());
    grads[0] = vec ? O::squeeze(gx, Dims{0}) : gx;
  }
  if (need[1]) {
    Tensor x2 = vec ? O::unsqueeze(x, 0) : x;
    // w^T laid out transposed (a row-major w): its gradient is computed as w's own, row-major.
    grads[1] = row_major_matrix(w) ? O::sum_to(apply2(OpId::Matmul, mT(g2()), x2), w.shape())
                           : O::transpose(O::sum_to(apply2(OpId::Matmul, mT(x2), g2()), Dims{w.size(1), w.size(0)}), 0, 1);
  }
  if (nin > 2 && need[2]) grads[2] = O::sum_to(g, p[2].shape());
}

// Batched operands get size-1 dims after the batch so that the primitive's batch broadcasting
// lines the vmap dim up with the other operand's batch dims.
Tensor batch_matmul(const Tensor* v, const int* bd, int nin, const Attrs& at, int64_t) {
  return rules::batch_broadcasting(OpId::Matmul, v, bd, nin, at);
}

}  // namespace

Tensor onehot_matmul(const OnehotCall& c);  // ops/matmul_onehot.cpp

void register_linalg_ops(OpDef* t) {
  OpDef& mm = define_op(t, OpId::Matmul, "matmul", 2);
  mm.meta = meta_matmul;
  mm.eval = eval_matmul;
  mm.jvp = jvp_matmul;
  mm.vjp = vjp_matmul;
  mm.batch = batch_matmul;
  mm.onehot = onehot_matmul;

  OpDef& lin = define_op(t, OpId::Linear, "linear", -1);
  lin.meta = meta_linear;
  lin.eval = eval_linear;
  lin.decompose = decompose_linear;
  lin.vjp = vjp_linear;  // recorded as one tape node under grad (see OpDef::decompose)
}

}  // namespace adjoint
