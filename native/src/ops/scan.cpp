// Scans and the product along one dim: cumsum, cumprod, logcumsumexp, prod, and the linear
// recurrence linear_scan that the derivatives of the others are written in.
//
//   linear_scan(a, b)           h_0 = b_0,         h_k = b_k + a_k h_{k-1}
//   linear_scan(a, b, reverse)  h_{n-1} = b_{n-1}, h_k = b_k + a_{k+1} h_{k+1}
//
// The two are each other's transpose in b (with the same a), so the family closes under every
// order of derivative without a division anywhere: cumprod is linear_scan(x, x_0 e_0), whose
// gradient prod_{j != i} x_j needs no 1 / x_i and is right with any number of zeros (torch's
// convention); prod is cumprod's last element (exact: the same products in the same order);
// logcumsumexp's derivative exp(x_j - y_k) is a recurrence with factors exp(y_{k-1} - y_k) <= 1.
// cumprod and prod run one kernel on concrete inputs and that composite under transforms
// (OpDef::decompose); cumsum, logcumsumexp and linear_scan have their own rules.
#include <cmath>

#include "ops/along_dim.h"

namespace adjoint {
namespace {
namespace O = ops;

// NOTE: attrs of the scans: ints = {dim}; flag = reverse (cumsum, linear_scan). prod: ints =
// {dim}, flag = keepdim.
template <OpId Op>
Meta meta_scan(const Meta* in, int nin, const Attrs& at) {
  const char* op = op_name(Op);
  const Meta& x = in[0];
  along_dim::check_numeric(x, op);
  if (Op == OpId::Logcumsumexp)
    ADJ_CHECK(is_floating(x.dtype), ErrorKind::DType, op, "expected a floating point tensor (float32 or float64), got " << dtype_name(x.dtype) << " " << x.shape.str());
  if (Op == OpId::LinearScan) {
    ADJ_CHECK(nin == 2 && in[1].dtype == x.dtype && in[1].shape == x.shape, ErrorKind::Shape, op,
              "a " << dtype_name(x.dtype) << " " << x.shape.str() << " and b " << dtype_name(in[1].dtype) << " " << in[1].shape.str()
                   << " must have one shape and dtype");
  }
  const int d = along_dim::checked_dim(x.shape, at.ints[0], op);
  if (Op != OpId::Prod) return {x.shape, x.dtype};
  Dims s = x.shape;
  if (s.n > 0) {
    if (at.flag) s[d] = 1;
    else s.erase(d);
  }
  return {s, x.dtype};
}

template <OpId Op>
Tensor eval_scan(const Tensor* in, int nin, const Attrs& at) {
  Meta m[2];
  for (int i = 0; i < nin; i++) m[i] = {in[i].shape(), in[i].dtype()};
  const Meta out = meta_scan<Op>(m, nin, at);
  const int d = along_dim::checked_dim(in[0].shape(), at.ints[0], op_name(Op));
  const int64_t n = in[0].ndim() ? in[0].size(d) : 1;
  const bool flag = Op == OpId::Cumsum || Op == OpId::LinearScan ? at.flag : false;
  return along_dim::run(*op_def(Op).dim_kernel, in, nin, d, Op == OpId::Prod ? 1 : n, flag, out, op_name(Op));
}

// v moved one place along dim d: toward the end (v_{k-1} at k, 0 first) or toward the start.
Tensor shift_right(const Tensor& v, int d) {
  const int64_t n = v.ndim() ? v.size(d) : 1;
  return O::slice_backward(O::slice(v, d, 0, n - 1, 1), d, 1, n, 1, n);
}
Tensor shift_left(const Tensor& v, int d) {
  const int64_t n = v.ndim() ? v.size(d) : 1;
  return O::slice_backward(O::slice(v, d, 1, n, 1), d, 0, n - 1, 1, n);
}

// A 0-d tensor is one line of one element: shifting moves its element out.
Tensor shifted(const Tensor& v, int d, bool right) {
  if (v.ndim() == 0) return O::zeros_like(v);
  if (v.size(d) == 0) return v;
  return right ? shift_right(v, d) : shift_left(v, d);
}

// ---------------------------------------------------------------- rules

Tensor jvp_cumsum(const Tensor*, const Tensor* t, int, const Tensor&, const Attrs& at) { return apply1(OpId::Cumsum, t[0], at); }
void vjp_cumsum(const Tensor& g, const Tensor*, int, const Tensor&, const Attrs& at, const bool*, Tensor* grads) {
  grads[0] = apply1(OpId::Cumsum, g, along_dim::attrs(at.ints[0], !at.flag));
}

// Forward: dh = scan(a, db + da h_{k-1}); reverse: dh = scan_rev(a, db + (da h)_{k+1}).
Tensor jvp_linear_scan(const Tensor* p, const Tensor* t, int, const Tensor& h, const Attrs& at) {
  const int d = wrap_dim(at.ints[0], h.ndim(), "linear_scan");
  Tensor rhs = t[1];
  if (t[0].defined()) {
    Tensor from_a = at.flag ? shifted(O::mul(t[0], h), d, false) : O::mul(t[0], shifted(h, d, true));
    rhs = rhs.defined() ? O::add(rhs, from_a) : from_a;
  }
  return apply2(OpId::LinearScan, p[0], rhs, at);
}
// The adjoint in b is the scan the other way with the same a; in a it pairs that with h's
// neighbour: lambda_k h_{k-1} (forward) or lambda_{k-1} h_k (reverse).
void vjp_linear_scan(const Tensor& g, const Tensor* p, int, const Tensor& h, const Attrs& at, const bool* need, Tensor* grads) {
  const int d = wrap_dim(at.ints[0], h.ndim(), "linear_scan");
  Tensor lambda = apply2(OpId::LinearScan, p[0], g, along_dim::attrs(at.ints[0], !at.flag));
  if (need[1]) grads[1] = lambda;
  if (need[0]) grads[0] = at.flag ? O::mul(shifted(lambda, d, true), h) : O::mul(lambda, shifted(h, d, true));
}

// logcumsumexp: dy_k/dx_j = exp(x_j - y_k) (j <= k) = w_j a_{j+1} ... a_k with w = exp(x - y) and
// a_k = exp(y_{k-1} - y_k), both in [0, 1]: the jvp is linear_scan(a, t w), the vjp
// linear_scan_rev(a, g) w. Where y is -inf (every entry so far -inf) the weights are 0, not NaN.
struct LcseFactors {
  Tensor w, a;
};
LcseFactors lcse_factors(const Tensor& x, const Tensor& y, int d) {
  const Tensor y_safe = O::where(O::compare(OpId::Eq, y, rules::scalar_like(-INFINITY, y)), rules::scalar_like(0, y), y);
  LcseFactors f;
  f.w = O::exp(O::sub(x, y_safe));
  if (y.ndim() == 0 || y.size(d) == 0) {
    f.a = O::zeros_like(y);
    return f;
  }
  const int64_t n = y.size(d);
  Tensor ratio = O::exp(O::sub(O::slice(y, d, 0, n - 1, 1), O::slice(y_safe, d, 1, n, 1)));  // pairs (k-1, k), k >= 1
  f.a = O::slice_backward(ratio, d, 1, n, 1, n);  // a_0 is never read
  return f;
}
Tensor jvp_logcumsumexp(const Tensor* p, const Tensor* t, int, const Tensor& y, const Attrs& at) {
  const int d = wrap_dim(at.ints[0], y.ndim(), "logcumsumexp");
  LcseFactors f = lcse_factors(p[0], y, d);
  return O::linear_scan(f.a, O::mul(t[0], f.w), d, false);
}
void vjp_logcumsumexp(const Tensor& g, const Tensor* p, int, const Tensor& y, const Attrs& at, const bool*, Tensor* grads) {
  const int d = wrap_dim(at.ints[0], y.ndim(), "logcumsumexp");
  LcseFactors f = lcse_factors(p[0], y, d);
  grads[0] = O::mul(O::linear_scan(f.a, g, d, true), f.w);
}

// cumprod(x) = linear_scan(x, x_0 e_0): h_0 = x_0, h_k = x_k h_{k-1}.
Tensor decompose_cumprod(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  const int d = wrap_dim(at.ints[0], x.ndim(), "cumprod");
  if (x.ndim() == 0) return O::linear_scan(x, x, 0, false);
  const int64_t n = x.size(d);
  return O::linear_scan(x, O::slice_backward(O::slice(x, d, 0, 1, 1), d, 0, 1, 1, n), d, false);
}

// prod(x, d) = cumprod(x, d)'s last element (1 for an empty dim).
Tensor decompose_prod(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  const int d = wrap_dim(at.ints[0], x.ndim(), "prod");
  if (x.ndim() == 0) return O::cumprod(x, d);
  const int64_t n = x.size(d);
  Tensor last;
  if (n == 0) {
    Dims s = x.shape();
    s[d] = 1;
    last = O::ones(s, x.dtype(), x.device());
  } else {
    last = O::slice(O::cumprod(x, d), d, n - 1, n, 1);
  }
  return at.flag ? last : O::squeeze(last, Dims{d});
}

// ---------------------------------------------------------------- rows

// A row of this file: the family's shape rule and eval around `kernel`.
template <OpId Op>
OpDef& scan_row(OpDef* t, const char* name, int arity, const DimKernel& kernel) {
  OpDef& d = define_op(t, Op, name, arity);
  d.meta = meta_scan<Op>;
  d.eval = eval_scan<Op>;
  d.dim_kernel = &kernel;
  return d;
}
// An op with derivative rules of its own, batched along its dim by the family's rule.
template <OpId Op>
void scan_with_rules(OpDef* t, const char* name, int arity, const DimKernel& kernel, JvpRule jvp, VjpRule vjp) {
  OpDef& d = scan_row<Op>(t, name, arity, kernel);
  d.jvp = jvp;
  d.vjp = vjp;
  d.batch = along_dim::batch_rule_of<Op>;
}
// A fused op: its kernel on concrete inputs, `decompose` (in linear_scan) under transforms.
template <OpId Op>
void fused_scan(OpDef* t, const char* name, const DimKernel& kernel, DecomposeRule decompose) {
  scan_row<Op>(t, name, 1, kernel).decompose = decompose;
}

}  // namespace

void register_scan_ops(OpDef* t) {
  scan_with_rules<OpId::Cumsum>(t, "cumsum", 1, kernels::cumsum, jvp_cumsum, vjp_cumsum);
  fused_scan<OpId::Cumprod>(t, "cumprod", kernels::cumprod, decompose_cumprod);
  fused_scan<OpId::Prod>(t, "prod", kernels::prod, decompose_prod);
  scan_with_rules<OpId::Logcumsumexp>(t, "logcumsumexp", 1, kernels::logcumsumexp, jvp_logcumsumexp, vjp_logcumsumexp);
  scan_with_rules<OpId::LinearScan>(t, "linear_scan", 2, kernels::linear_scan, jvp_linear_scan, vjp_linear_scan);
}

namespace ops {

// Bool counts as int64, like torch's cumsum, cumprod and prod.
static Tensor numeric(const Tensor& x) { return x.dtype() == DType::Bool ? to(x, DType::Int64) : x; }

Tensor cumsum(const Tensor& x, int64_t dim) {
  return as_op("cumsum", [&] { return apply1(OpId::Cumsum, numeric(x), along_dim::attrs(dim, false)); });
}
Tensor cumprod(const Tensor& x, int64_t dim) {
  return as_op("cumprod", [&] { return apply1(OpId::Cumprod, numeric(x), along_dim::attrs(dim, false)); });
}
Tensor logcumsumexp(const Tensor& x, int64_t dim) { return apply1(OpId::Logcumsumexp, x, along_dim::attrs(dim, false)); }
Tensor prod(const Tensor& x, int64_t dim, bool keepdim) {
  return as_op("prod", [&] { return apply1(OpId::Prod, numeric(x), along_dim::attrs(dim, keepdim)); });
}
Tensor prod(const Tensor& x) {
  return as_op("prod", [&] { return apply1(OpId::Prod, reshape(numeric(x), Dims{-1}), along_dim::attrs(0, false)); });
}
Tensor linear_scan(const Tensor& a, const Tensor& b, int64_t dim, bool reverse) {
  return apply2(OpId::LinearScan, a, b, along_dim::attrs(dim, reverse));
}

}  // namespace ops
}  // namespace adjoint
