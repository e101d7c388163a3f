// Orthogonal factorizations on LAPACK: linalg.qr (reduced) and linalg.svd as primitives, each with
// all of its rules below it; pinv as a primitive too (for its own derivative); svdvals and lstsq
// as composites. Kernels:
// backends/cpu/lapack.h. Derivatives: torch 1.13's for the SVD; for QR, the formula torch and
// TensorFlow share for m >= n (and its extension to m < n through A = [X | Y]).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "backends/cpu/lapack.h"
#include "interp/rules.h"
#include "ops/linalg_util.h"
#include "ops/op.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace {
namespace O = ops;
using namespace linalg;

int64_t rows(const Tensor& a) { return a.size(a.ndim() - 2); }
int64_t cols(const Tensor& a) { return a.size(a.ndim() - 1); }

void check_matrix(const char* op, const Tensor& a) {
  ADJ_CHECK(is_floating(a.dtype()), ErrorKind::DType, op,
            "expected A to be a float32 or float64 tensor, got " << dtype_name(a.dtype()) << " " << a.shape().str());
  ADJ_CHECK(a.ndim() >= 2, ErrorKind::Shape, op, "A must have at least 2 dimensions ([..., m, n]), got " << a.shape().str());
  ADJ_CHECK(rows(a) <= INT_MAX && cols(a) <= INT_MAX, ErrorKind::Shape, op, "matrix " << a.shape().str() << " exceeds LAPACK's int range");
  ADJ_CHECK(a.device().type == DeviceType::CPU, ErrorKind::Unsupported, op, "runs on the CPU only, got a tensor on " << a.device().str());
}

Tensor packed_output(const Tensor& a, int64_t per, const char* op) {
  Dims s = batch_dims(a);
  s.push_back(per);
  return Tensor::empty(s, a.dtype(), a.device(), op);
}

// X R^-1 and X R^-T for upper triangular R (right-hand triangular solves)
Tensor right_inv(const Tensor& x, const Tensor& r) { return O::linalg_solve_triangular(r, x, /*upper=*/true, /*left=*/false); }
Tensor right_inv_t(const Tensor& x, const Tensor& r) { return O::linalg_solve_triangular(mT(r), x, /*upper=*/false, /*left=*/false); }

Tensor strict_lower(const Tensor& x) {
  Tensor mask = matrix_mask(last(x), [](int64_t i, int64_t j) { return i > j; });
  return O::where(mask, x, rules::scalar_like(0, x));
}

// ---------------------------------------------------------------- linalg.qr (reduced): A = Q R

// NOTE: one output [..., m k + k n] (k = min(m, n)): Q [m, k] then R [k, n], flat.
Tensor eval_qr(const Tensor* in, int, const Attrs&) {
  const char* op = "linalg.qr";
  check_matrix(op, in[0]);
  Tensor a = dense(in[0], in[0].shape(), op);
  const int64_t m = rows(a), n = cols(a), k = std::min(m, n);
  Tensor out = packed_output(a, m * k + k * n, op);
  cpu::lapack::qr(a, out);
  return out;
}

struct QR {
  Tensor q, r;
};
QR qr_parts(const Tensor& packed, int64_t m, int64_t n) {
  const int64_t k = std::min(m, n);
  return {unpack_matrix(packed, 0, m, k), unpack_matrix(packed, m * k, k, n)};
}
Tensor qr_pack(const Tensor& q, const Tensor& r) { return O::cat({flat_matrix(q), flat_matrix(r)}, -1); }

// m >= n: (dQ, dR) for X = Q R with R square. C = Q^T dX R^-1, Omega = the skew part of C's
// strict lower triangle: dR = (C - Omega) R, dQ = dX R^-1 - Q (C - Omega).
std::pair<Tensor, Tensor> qr_jvp_deep(const Tensor& q, const Tensor& r, const Tensor& dx) {
  Tensor dxr = right_inv(dx, r);
  Tensor c = O::matmul(mT(q), dxr);
  Tensor low = strict_lower(c);
  Tensor upper_part = O::sub(c, O::sub(low, mT(low)));
  return {O::sub(dxr, O::matmul(q, upper_part)), O::matmul(upper_part, r)};
}

Tensor jvp_qr(const Tensor* p, const Tensor* t, int, const Tensor& out, const Attrs&) {
  const int64_t m = rows(p[0]), n = cols(p[0]);
  QR f = qr_parts(out, m, n);
  if (m >= n) {
    auto [dq, dr] = qr_jvp_deep(f.q, f.r, t[0]);
    return qr_pack(dq, dr);
  }
  // A = [X | Y] with X = Q U (square), Y = Q V: dV = Q^T (dY - dQ V)
  Tensor u = O::slice(f.r, -1, 0, m, 1), v = O::slice(f.r, -1, m, n, 1);
  auto [dq, du] = qr_jvp_deep(f.q, u, O::slice(t[0], -1, 0, m, 1));
  Tensor dv = O::matmul(mT(f.q), O::sub(O::slice(t[0], -1, m, n, 1), O::matmul(dq, v)));
  return qr_pack(dq, O::cat({du, dv}, -1));
}

// m >= n: gA = Q (gR + tril(Q^T gQ - gQ^T Q + R gR^T - gR R^T) R^-T) + (gQ - Q Q^T gQ) R^-T
Tensor qr_vjp_deep(const Tensor& q, const Tensor& r, const Tensor& gq, const Tensor& gr) {
  Tensor qdq = O::matmul(mT(q), gq), rdr = O::matmul(r, mT(gr));
  Tensor low = triangle(O::add(O::sub(qdq, mT(qdq)), O::sub(rdr, mT(rdr))), /*upper=*/false);
  Tensor ga = O::matmul(q, O::add(gr, right_inv_t(low, r)));
  return O::add(ga, right_inv_t(O::sub(gq, O::matmul(q, qdq)), r));
}

void vjp_qr(const Tensor& g, const Tensor* p, int, const Tensor& out, const Attrs&, const bool* need, Tensor* grads) {
  if (!need[0]) return;
  const int64_t m = rows(p[0]), n = cols(p[0]);
  QR f = qr_parts(out, m, n), gf = qr_parts(g, m, n);
  if (m >= n) {
    grads[0] = qr_vjp_deep(f.q, f.r, gf.q, gf.r);
    return;
  }
  // A = [X | Y]: dY = Q gV, dX = the square case with gQ + Y gV^T
  Tensor y = O::slice(p[0], -1, m, n, 1), u = O::slice(f.r, -1, 0, m, 1);
  Tensor gu = O::slice(gf.r, -1, 0, m, 1), gv = O::slice(gf.r, -1, m, n, 1);
  Tensor dx = qr_vjp_deep(f.q, u, O::add(gf.q, O::matmul(y, mT(gv))), gu);
  grads[0] = O::cat({dx, O::matmul(f.q, gv)}, -1);
}

Tensor batch_qr(const Tensor* v, const int*, int, const Attrs& at, int64_t) { return apply1(OpId::Qr, v[0], at); }

// ---------------------------------------------------------------- linalg.svd: A = U diag(S) Vh

// NOTE: one output [..., m c + k + c' n]: U [m, c], S [k], Vh [c', n], flat; k = min(m, n) and
// c = c' = k (reduced) or c = m, c' = n (Attrs::flag: full_matrices).
Tensor eval_svd(const Tensor* in, int, const Attrs& at) {
  const char* op = "linalg.svd";
  check_matrix(op, in[0]);
  Tensor a = dense(in[0], in[0].shape(), op);
  const int64_t m = rows(a), n = cols(a), k = std::min(m, n);
  const int64_t uc = at.flag ? m : k, vr = at.flag ? n : k;
  Tensor out = packed_output(a, m * uc + k + vr * n, op);
  const cpu::lapack::Failure f = cpu::lapack::svd(a, at.flag, out);
  ADJ_CHECK(f.info != cpu::lapack::kNonFinite, ErrorKind::Argument, op,
            batch_prefix(batch_dims(a), f.batch) << "The algorithm failed to converge because the input matrix contained non-finite values.");
  ADJ_CHECK(!f.failed(), ErrorKind::Argument, op,
            batch_prefix(batch_dims(a), f.batch)
                << "The algorithm failed to converge because the input matrix is ill-conditioned or has too many repeated singular values (error code: "
                << f.info << ").");
  return out;
}

struct SVD {
  Tensor u, s, vh;
};
SVD svd_parts(const Tensor& packed, int64_t m, int64_t n, bool full) {
  const int64_t k = std::min(m, n), uc = full ? m : k, vr = full ? n : k;
  return {unpack_matrix(packed, 0, m, uc), unpack_vector(packed, m * uc, k), unpack_matrix(packed, m * uc + k, vr, n)};
}

void check_svd_derivative(const Tensor& a, const Attrs& at) {
  ADJ_CHECK(!at.flag || rows(a) == cols(a), ErrorKind::Unsupported, "linalg.svd",
            "the derivative of the full U or Vh of a non-square matrix " << a.shape().str()
                << " is not defined (torch has none either): use full_matrices = false (Linalg.svd(a, false))");
}

// E[j, k] = S_k^2 - S_j^2; a quotient by it is 0 where it is 0 (the diagonal, repeated values).
// NOTE: the singular vectors of an exactly repeated singular value are not unique and their
// derivative is undefined there (torch gives Inf/NaN); here those terms are zero, so that the
// singular values' derivative (svdvals, whose cotangents of U and Vh are zero: 0 / 0) is exact.
Tensor div_by_sq_gaps(const Tensor& x, const Tensor& s) {
  Tensor s2 = O::mul(s, s);
  return div_or_zero(x, O::sub(O::unsqueeze(s2, -2), O::unsqueeze(s2, -1)));
}

Tensor jvp_svd(const Tensor* p, const Tensor* t, int, const Tensor& out, const Attrs& at) {
  check_svd_derivative(p[0], at);
  const int64_t m = rows(p[0]), n = cols(p[0]);
  SVD f = svd_parts(out, m, n, at.flag);
  const Tensor& da = t[0];
  Tensor v = mT(f.vh);
  Tensor dp = O::matmul(mT(f.u), O::matmul(da, v));  // U^T dA V [k, k]
  Tensor ds = diagonal(dp);
  dp = O::sub(dp, diag_embed(ds));
  auto sym = [](const Tensor& x) { return O::add(x, mT(x)); };
  Tensor du = O::matmul(f.u, div_by_sq_gaps(sym(O::mul(dp, O::unsqueeze(f.s, -2))), f.s));
  Tensor dv = O::matmul(v, div_by_sq_gaps(sym(O::mul(O::unsqueeze(f.s, -1), dp)), f.s));
  if (m > n) {  // dU += (I - U U^T) dA V S^-1
    Tensor x = O::matmul(da, div_or_zero(v, O::unsqueeze(f.s, -2)));
    du = O::add(du, O::sub(x, O::matmul(f.u, O::matmul(mT(f.u), x))));
  } else if (n > m) {  // dV += (I - V V^T) dA^T U S^-1
    Tensor x = O::matmul(mT(da), div_or_zero(f.u, O::unsqueeze(f.s, -2)));
    dv = O::add(dv, O::sub(x, O::matmul(v, O::matmul(f.vh, x))));
  }
  return O::cat({flat_matrix(du), ds, flat_matrix(mT(dv))}, -1);
}

void vjp_svd(const Tensor& g, const Tensor* p, int, const Tensor& out, const Attrs& at, const bool* need, Tensor* grads) {
  if (!need[0]) return;
  check_svd_derivative(p[0], at);
  const int64_t m = rows(p[0]), n = cols(p[0]);
  SVD f = svd_parts(out, m, n, at.flag), gf = svd_parts(g, m, n, at.flag);
  Tensor v = mT(f.vh), gv = mT(gf.vh);
  auto skew = [](const Tensor& x) { return O::sub(x, mT(x)); };
  Tensor uhgu = skew(O::matmul(mT(f.u), gf.u)), vhgv = skew(O::matmul(f.vh, gv));
  Tensor ga = div_by_sq_gaps(O::add(O::mul(uhgu, O::unsqueeze(f.s, -2)), O::mul(O::unsqueeze(f.s, -1), vhgv)), f.s);
  ga = O::add(ga, diag_embed(gf.s));
  if (m > n) {  // gA = [U gA + (I - U U^T) gU S^-1] Vh
    Tensor gus = div_or_zero(gf.u, O::unsqueeze(f.s, -2));
    ga = O::add(O::matmul(f.u, ga), O::sub(gus, O::matmul(f.u, O::matmul(mT(f.u), gus))));
    ga = O::matmul(ga, f.vh);
  } else if (m < n) {  // gA = U [gA Vh + S^-1 gVh (I - V Vh)]
    Tensor sgv = div_or_zero(gf.vh, O::unsqueeze(f.s, -1));
    ga = O::add(O::matmul(ga, f.vh), O::sub(sgv, O::matmul(O::matmul(sgv, v), f.vh)));
    ga = O::matmul(f.u, ga);
  } else {
    ga = O::matmul(f.u, O::matmul(ga, f.vh));
  }
  grads[0] = ga;
}

Tensor batch_svd(const Tensor* v, const int*, int, const Attrs& at, int64_t) { return apply1(OpId::Svd, v[0], at); }

// ---------------------------------------------------------------- linalg.pinv

// NOTE: a primitive, not the SVD composite, for torch's derivative formulas, which hold also where
// singular values repeat (the SVD's derivative terms that divide by their gaps cancel in the
// pseudo-inverse, but not once this library has taken them as zero there). Attrs: scalar = atol,
// ints[0] = rtol's bits (already resolved from torch's default).
Attrs pinv_attrs(double atol, double rtol) {
  Attrs at;
  at.scalar = atol;
  int64_t bits;
  std::memcpy(&bits, &rtol, sizeof bits);
  at.ints = Dims{bits};
  return at;
}

// V diag(1 / S) U^T over the singular values above max(atol, rtol * S_max), from the kernel's SVD
// of the concrete input.
Tensor eval_pinv(const Tensor* in, int, const Attrs& at) {
  double rtol;
  const int64_t bits = at.ints[0];
  std::memcpy(&rtol, &bits, sizeof rtol);
  const Tensor& a = in[0];
  auto [u, s, vh] = O::linalg_svd(a, false);
  const DType dt = s.dtype();
  Tensor cut = O::scalar(at.scalar, dt);
  if (s.size(s.ndim() - 1) > 0) {
    Tensor rel = O::mul(O::amax(s, Dims{-1}, true), O::scalar(rtol, dt));
    cut = O::where(O::compare(OpId::Gt, rel, cut), rel, cut);
  }
  Tensor keep = O::compare(OpId::Gt, s, cut);
  Tensor one = O::scalar(1, dt);
  Tensor sinv = O::where(keep, O::div(one, O::where(keep, s, one)), O::scalar(0, dt));
  return O::contiguous(O::matmul(O::mul(mT(vh), O::unsqueeze(sinv, -2)), mT(u)));
}

// torch 1.13's pinv_jvp
Tensor jvp_pinv(const Tensor* p, const Tensor* t, int, const Tensor& pa, const Attrs&) {
  const Tensor &a = p[0], &da = t[0];
  Tensor dah = mT(da), pah = mT(pa);
  if (rows(a) <= cols(a)) {
    Tensor k = O::matmul(pah, dah);
    Tensor first = O::matmul(pa, O::sub(O::sub(k, mT(k)), O::matmul(k, O::matmul(a, pa))));
    return O::add(first, O::matmul(O::sub(dah, O::matmul(pa, O::matmul(a, dah))), O::matmul(pah, pa)));
  }
  Tensor k = O::matmul(pa, da), kh = mT(k);
  Tensor first = O::matmul(O::sub(O::sub(kh, k), O::matmul(O::matmul(pa, a), kh)), pa);
  return O::add(first, O::matmul(O::matmul(pa, pah), O::sub(dah, O::matmul(O::matmul(dah, a), pa))));
}

// torch 1.13's pinv_backward
void vjp_pinv(const Tensor& g, const Tensor* p, int, const Tensor& pa, const Attrs&, const bool* need, Tensor* grads) {
  if (!need[0]) return;
  const Tensor& a = p[0];
  Tensor pah = mT(pa), gh = mT(g);
  if (rows(a) <= cols(a)) {
    Tensor k = O::matmul(gh, pa), kpah = O::matmul(k, pah);
    Tensor r = O::add(O::neg(mT(O::matmul(pa, k))), kpah);
    r = O::sub(r, O::matmul(O::matmul(a, pa), kpah));
    grads[0] = O::add(r, O::matmul(O::matmul(pah, pa), O::sub(gh, O::matmul(k, a))));
    return;
  }
  Tensor k = O::matmul(pa, gh), pahk = O::matmul(pah, k);
  Tensor r = O::add(O::neg(mT(O::matmul(k, pa))), O::matmul(O::matmul(O::sub(gh, O::matmul(a, k)), pa), pah));
  grads[0] = O::sub(O::add(r, pahk), O::matmul(O::matmul(pahk, pa), a));
}

Tensor batch_pinv(const Tensor* v, const int*, int, const Attrs& at, int64_t) { return apply1(OpId::Pinv, v[0], at); }

}  // namespace

// Metadata rules: the output's shape and dtype from the input's alone (eval checks the values).
namespace {
Meta meta_packed(const char* op, const Meta& a, int64_t per) {
  Dims s;
  for (int i = 0; i + 2 < a.shape.n; i++) s.push_back(a.shape[i]);
  s.push_back(per);
  return {s, a.dtype};
}
void meta_check(const char* op, const Meta& a) {
  ADJ_CHECK(a.shape.n >= 2, ErrorKind::Shape, op, "A must have at least 2 dimensions ([..., m, n]), got " << a.shape.str());
}
Meta meta_qr(const Meta* in, int, const Attrs&) {
  meta_check("linalg.qr", in[0]);
  const int64_t m = in[0].shape[in[0].shape.n - 2], n = in[0].shape[in[0].shape.n - 1], k = std::min(m, n);
  return meta_packed("linalg.qr", in[0], m * k + k * n);
}
Meta meta_svd(const Meta* in, int, const Attrs& at) {
  meta_check("linalg.svd", in[0]);
  const int64_t m = in[0].shape[in[0].shape.n - 2], n = in[0].shape[in[0].shape.n - 1], k = std::min(m, n);
  const int64_t uc = at.flag ? m : k, vr = at.flag ? n : k;
  return meta_packed("linalg.svd", in[0], m * uc + k + vr * n);
}
Meta meta_pinv(const Meta* in, int, const Attrs&) {
  meta_check("linalg.pinv", in[0]);
  Dims s = in[0].shape;
  std::swap(s[s.n - 2], s[s.n - 1]);
  return {s, in[0].dtype};
}
}  // namespace

void register_linalg_orthogonal_ops(OpDef* t) {
  OpDef& qr = define_op(t, OpId::Qr, "linalg.qr", 1);
  qr.meta = meta_qr;
  qr.eval = eval_qr;
  qr.jvp = jvp_qr;
  qr.vjp = vjp_qr;
  qr.batch = batch_qr;
  OpDef& svd = define_op(t, OpId::Svd, "linalg.svd", 1);
  svd.meta = meta_svd;
  svd.eval = eval_svd;
  svd.jvp = jvp_svd;
  svd.vjp = vjp_svd;
  svd.batch = batch_svd;
  OpDef& pinv = define_op(t, OpId::Pinv, "linalg.pinv", 1);
  pinv.meta = meta_pinv;
  pinv.eval = eval_pinv;
  pinv.jvp = jvp_pinv;
  pinv.vjp = vjp_pinv;
  pinv.batch = batch_pinv;
}

// ---------------------------------------------------------------- the functional API

namespace ops {

std::pair<Tensor, Tensor> linalg_qr(const Tensor& a) {
  check_matrix("linalg.qr", a);
  QR f = qr_parts(apply1(OpId::Qr, a), rows(a), cols(a));
  return {f.q, f.r};
}

std::tuple<Tensor, Tensor, Tensor> linalg_svd(const Tensor& a, bool full_matrices) {
  check_matrix("linalg.svd", a);
  Attrs at;
  at.flag = full_matrices && rows(a) != cols(a);  // square: full = reduced
  SVD f = svd_parts(apply1(OpId::Svd, a, at), rows(a), cols(a), at.flag);
  return {f.u, f.s, f.vh};
}

Tensor linalg_svdvals(const Tensor& a) {
  check_matrix("linalg.svdvals", a);
  return std::get<1>(linalg_svd(a, false));
}

Tensor linalg_pinv(const Tensor& a, double atol, double rtol) {
  check_matrix("linalg.pinv", a);
  if (rtol < 0) rtol = (atol > 0) ? 0 : double(std::max(rows(a), cols(a))) *
                                          (a.dtype() == DType::Float32 ? double(std::numeric_limits<float>::epsilon())
                                                                       : std::numeric_limits<double>::epsilon());
  return apply1(OpId::Pinv, a, pinv_attrs(atol, rtol));
}

namespace {

// Whether a triangular factor R [..., k, k] of the reduced QR (every value behind the tracers) has a
// diagonal entry at or below `rel` times the largest of its matrix: then A is rank-deficient to
// working precision (its smallest singular value is at most min |r_ii|). A matrix with a
// non-finite pivot (NaN or Inf in A) is left to QR, whose NaN result is torch's (pinv's SVD would
// refuse it).
template <class T>
bool small_pivot(const Tensor& r, double rel) {
  const Tensor v = contiguous(r);
  const T* p = v.data<T>();
  const int64_t k = v.size(v.ndim() - 1), mats = k == 0 ? 0 : v.numel() / (k * k);
  for (int64_t b = 0; b < mats; b++, p += k * k) {
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    bool finite = true;
    for (int64_t i = 0; i < k; i++) {
      const double d = std::abs(double(p[i * k + i]));
      finite = finite && std::isfinite(d);
      lo = std::min(lo, d), hi = std::max(hi, d);
    }
    if (finite && lo <= rel * hi) return true;
  }
  return false;
}

}  // namespace

// NOTE: torch's lstsq (driver gelsy on the CPU) returns the minimum-norm least-squares solution
// also for a rank-deficient A, and differentiates it as pinv(A) B. The fast path is QR, which
// would divide by a zero pivot there (Inf/NaN, silently); so R's diagonal is checked (values, like
// a solver's pivot check), and where any matrix of the batch has a pivot near zero, all of them
// take X = pinv(A) B with pinv's default cut-off (torch's rcond: eps max(m, n)). The check is 100
// times looser than that cut-off: a borderline full-rank A also takes pinv, which then gives the
// QR answer to rounding.
// The least-squares solution of A X = B: min |A X - B| for m >= n (by QR: X = R^-1 Q^T B), the
// minimum-norm solution for m < n (QR of A^T: X = Q R^-T B); rank-deficient A: pinv(A) B.
Tensor linalg_lstsq(const Tensor& a, const Tensor& b) {
  const char* op = "linalg.lstsq";
  check_matrix(op, a);
  ADJ_CHECK(a.dtype() == b.dtype(), ErrorKind::DType, op,
            "expected A and B to have the same dtype, got A " << dtype_name(a.dtype()) << " " << a.shape().str() << " and B "
                                                               << dtype_name(b.dtype()) << " " << b.shape().str());
  const bool vec = b.ndim() == a.ndim() - 1;
  Tensor bm = vec ? unsqueeze(b, -1) : b;
  ADJ_CHECK(bm.ndim() >= 2 && rows(bm) == rows(a), ErrorKind::Shape, op,
            "incompatible shapes of A and B for the equation AX = B (" << a.shape().str() << " and " << b.shape().str() << ")");
  const bool tall = rows(a) >= cols(a);
  auto [q, r] = linalg_qr(tall ? a : mT(a));
  const double eps = a.dtype() == DType::Float32 ? double(std::numeric_limits<float>::epsilon()) : std::numeric_limits<double>::epsilon();
  const double rel = 100 * eps * double(std::max(rows(a), cols(a)));
  const Tensor rv = every_value_of(r, op);
  const bool deficient = rv.dtype() == DType::Float32 ? small_pivot<float>(rv, rel) : small_pivot<double>(rv, rel);
  Tensor x = deficient ? matmul(linalg_pinv(a, 0, -1), bm)
             : tall    ? linalg_solve_triangular(r, matmul(mT(q), bm), /*upper=*/true)
                       : matmul(q, linalg_solve_triangular(mT(r), bm, /*upper=*/false));
  return vec ? squeeze(x, Dims{-1}) : x;
}

}  // namespace ops
}  // namespace adjoint
