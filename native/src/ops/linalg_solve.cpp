// The LU family on LAPACK: linalg.solve, linalg.solve_triangular, linalg.slogdet and linalg.det as
// primitives, each with all of its rules below it; inv and the vector / right-hand forms as
// composites of them. Kernels: backends/cpu/lapack.h. Derivatives are torch 1.13's.
#include "backends/cpu/lapack.h"
#include "interp/rules.h"
#include "ops/linalg_util.h"
#include "ops/op.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace {
namespace O = ops;
using namespace linalg;

// NOTE: who called the solve primitive (Attrs::ints[0]), so that its errors name the op the
// user called: inv is a solve against the identity, and slogdet's derivative solves with A^T.
enum SolveCaller : int64_t { kSolve = 0, kInv = 1, kSlogdetGrad = 2 };

const char* solve_name(const Attrs& at) {
  const int64_t c = at.ints.n > 0 ? at.ints[0] : kSolve;
  return c == kInv ? "linalg.inv" : c == kSlogdetGrad ? "linalg.slogdet" : "linalg.solve";
}

Attrs solve_attrs(SolveCaller c) {
  Attrs at;
  at.ints = Dims{int64_t(c)};
  return at;
}

// The common batch of A [..., n, n] and B [..., n, k], with torch's wording when it fails.
Dims solve_batch(const char* op, const Tensor& a, const Tensor& b) {
  check_square(op, a);
  ADJ_CHECK(is_floating(b.dtype()), ErrorKind::DType, op,
            "expected B to be a float32 or float64 tensor, got " << dtype_name(b.dtype()) << " " << b.shape().str());
  ADJ_CHECK(a.dtype() == b.dtype(), ErrorKind::DType, op,
            "expected A and B to have the same dtype, got A " << dtype_name(a.dtype()) << " " << a.shape().str() << " and B "
                                                               << dtype_name(b.dtype()) << " " << b.shape().str());
  check_same_device(op, a, b);
  ADJ_CHECK(b.ndim() >= 2 && b.size(b.ndim() - 2) == a.size(a.ndim() - 1), ErrorKind::Shape, op,
            "incompatible shapes of A and B for the equation AX = B (" << a.shape().str() << " and " << b.shape().str() << ")");
  const Dims ba = batch_dims(a), bb = batch_dims(b);
  for (int i = 1; i <= ba.n && i <= bb.n; i++)
    ADJ_CHECK(ba[ba.n - i] == bb[bb.n - i] || ba[ba.n - i] == 1 || bb[bb.n - i] == 1, ErrorKind::Shape, op,
              "batch dims of A " << a.shape().str() << " and B " << b.shape().str() << " cannot be broadcast");
  return broadcast_shapes(ba, bb, op);
}

// ---------------------------------------------------------------- linalg.solve: X = A^-1 B

Tensor eval_solve(const Tensor* in, int, const Attrs& at) {
  const char* op = solve_name(at);
  const Dims batch = solve_batch(op, in[0], in[1]);
  const int64_t n = last(in[0]), k = last(in[1]);
  Tensor a = dense(in[0], with_matrix(batch, n, n), op), b = dense(in[1], with_matrix(batch, n, k), op);
  Tensor x = Tensor::empty(with_matrix(batch, n, k), a.dtype(), a.device(), op);
  const cpu::lapack::Failure f = cpu::lapack::solve(a, b, x);
  if (f.failed()) {
    const std::string where = batch_prefix(batch, f.batch);
    if (at.ints.n > 0 && at.ints[0] == kInv)
      ADJ_FAIL(ErrorKind::Argument, op, where << "The diagonal element " << f.info
                                              << " is zero, the inversion could not be completed because the input matrix is singular.");
    if (at.ints.n > 0 && at.ints[0] == kSlogdetGrad)
      ADJ_FAIL(ErrorKind::Argument, op, where << "the derivative of log|det A| is undefined: the input matrix is singular.");
    ADJ_FAIL(ErrorKind::Argument, op, where << "The solver failed because the input matrix is singular.");
  }
  return x;
}

// dX = A^-1 (dB - dA X)
Tensor jvp_solve(const Tensor* p, const Tensor* t, int, const Tensor& x, const Attrs& at) {
  Tensor rhs = t[1];
  if (t[0].defined()) {
    Tensor dax = O::matmul(t[0], x);
    rhs = rhs.defined() ? O::sub(rhs, dax) : O::neg(dax);
  }
  return apply2(OpId::LinalgSolve, p[0], rhs, at);
}

// gB = A^-T g, gA = -gB X^T (summed over broadcast batch dims)
void vjp_solve(const Tensor& g, const Tensor* p, int, const Tensor& x, const Attrs& at, const bool* need, Tensor* grads) {
  Tensor gb = apply2(OpId::LinalgSolve, mT(p[0]), g, at);
  if (need[0]) grads[0] = O::sum_to(O::neg(O::matmul(gb, mT(x))), p[0].shape());
  if (need[1]) grads[1] = O::sum_to(gb, p[1].shape());
}

// A unmapped, B [batch, ..., n, k] mapped: the examples' right-hand sides become more columns of
// one B [..., n, k * batch], so that A is factored once, not once per example.
Tensor fold_into_columns(OpId op, const Tensor& a, const Tensor& b, const Attrs& at) {
  const int64_t nb = b.size(0), k = last(b);
  Tensor bm = O::movedim(b, 0, -1);  // [..., n, k, batch]
  Dims s = bm.shape();
  s.n -= 1;
  s[s.n - 1] = k * nb;
  Tensor x = apply2(op, a, O::reshape(bm, s), at);  // [..., n, k * batch]
  Dims xs = x.shape();
  xs[xs.n - 1] = k;
  xs.push_back(nb);
  return O::movedim(O::reshape(x, xs), -1, 0);
}

// NOTE: the vmapped dim becomes one more leading batch dim of the primitive (its batch dims
// broadcast), so a vmapped solve is one kernel call looping over every matrix; with A unmapped
// it joins B's columns instead (fold_into_columns).
Tensor batch_solve(const Tensor* v, const int* bd, int nin, const Attrs& at, int64_t) {
  if (bd[0] < 0) return fold_into_columns(OpId::LinalgSolve, v[0], v[1], at);
  return rules::batch_broadcasting(OpId::LinalgSolve, v, bd, nin, at);
}

// ---------------------------------------------------------------- linalg.solve_triangular (left)

// Attrs::flag = upper: only that triangle of A is read.
Tensor eval_solve_triangular(const Tensor* in, int, const Attrs& at) {
  const char* op = "linalg.solve_triangular";
  const Dims batch = solve_batch(op, in[0], in[1]);
  const int64_t n = last(in[0]), k = last(in[1]);
  Tensor a = dense(in[0], with_matrix(batch, n, n), op), b = dense(in[1], with_matrix(batch, n, k), op);
  Tensor x = Tensor::empty(with_matrix(batch, n, k), a.dtype(), a.device(), op);
  cpu::lapack::solve_triangular(a, b, at.flag, x);
  return x;
}

Attrs triangular_attrs(bool upper) {
  Attrs at;
  at.flag = upper;
  return at;
}

// dX = A^-1 (dB - tri(dA) X): only A's triangle moves X.
Tensor jvp_solve_triangular(const Tensor* p, const Tensor* t, int, const Tensor& x, const Attrs& at) {
  Tensor rhs = t[1];
  if (t[0].defined()) {
    Tensor dax = O::matmul(triangle(t[0], at.flag), x);
    rhs = rhs.defined() ? O::sub(rhs, dax) : O::neg(dax);
  }
  return apply2(OpId::SolveTriangular, p[0], rhs, at);
}

// gB = A^-T g (A^T is triangular the other way), gA = tri(-gB X^T)
void vjp_solve_triangular(const Tensor& g, const Tensor* p, int, const Tensor& x, const Attrs& at, const bool* need,
                          Tensor* grads) {
  Tensor gb = apply2(OpId::SolveTriangular, mT(p[0]), g, triangular_attrs(!at.flag));
  if (need[0]) grads[0] = O::sum_to(triangle(O::neg(O::matmul(gb, mT(x))), at.flag), p[0].shape());
  if (need[1]) grads[1] = O::sum_to(gb, p[1].shape());
}

Tensor batch_solve_triangular(const Tensor* v, const int* bd, int nin, const Attrs& at, int64_t) {
  if (bd[0] < 0) return fold_into_columns(OpId::SolveTriangular, v[0], v[1], at);
  return rules::batch_broadcasting(OpId::SolveTriangular, v, bd, nin, at);
}

// ---------------------------------------------------------------- linalg.slogdet

// NOTE: one output [..., 2] = (sign, log|det|) (ops have one output; ops::linalg_slogdet splits
// it). The sign is piecewise constant: its derivative is zero.
Tensor eval_slogdet(const Tensor* in, int, const Attrs&) {
  const char* op = "linalg.slogdet";
  check_square(op, in[0]);
  const Dims batch = batch_dims(in[0]);
  const int64_t n = last(in[0]);
  Tensor a = dense(in[0], with_matrix(batch, n, n), op);
  Dims shape = batch;
  shape.push_back(2);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device(), op);
  cpu::lapack::slogdet(a, out);
  return out;
}

// d log|det A| = tr(A^-1 dA)
Tensor jvp_slogdet(const Tensor* p, const Tensor* t, int, const Tensor&, const Attrs&) {
  Tensor dl = diagonal(apply2(OpId::LinalgSolve, p[0], t[0], solve_attrs(kSlogdetGrad)));
  dl = O::sum(dl, Dims{-1}, false);
  return O::stack({O::mul(dl, rules::scalar_like(0, dl)), dl}, -1);
}

// g_A = g_logabsdet A^-T
void vjp_slogdet(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs&, const bool* need, Tensor* grads) {
  if (!need[0]) return;
  Tensor gl = O::unsqueeze(O::unsqueeze(O::select(g, -1, 1), -1), -1);
  grads[0] = apply2(OpId::LinalgSolve, mT(p[0]), O::mul(gl, eye_like(p[0])), solve_attrs(kSlogdetGrad));
}

Tensor batch_unary_matrix(OpId op, const Tensor* v, const Attrs& at) { return apply1(op, v[0], at); }

// ---------------------------------------------------------------- linalg.det

// det = sign * exp(log|det|) from the LU (slogdet's kernel): a singular matrix gives exactly 0.
Tensor eval_det(const Tensor* in, int nin, const Attrs& at) {
  Tensor both = eval_slogdet(in, nin, at);
  return O::mul(O::select(both, -1, 0), O::exp(O::select(both, -1, 1)));
}

// prod_{j != i} s_j along the last dim, without division (right where some s_j are 0): the
// product of the ones before i times the product of the ones after.
Tensor products_of_others(const Tensor& s) {
  const int64_t n = last(s);
  Tensor one = O::add(O::zeros_like(O::slice(s, -1, 0, 1, 1)), rules::scalar_like(1, s));
  Tensor before = O::cumprod(O::cat({one, O::slice(s, -1, 0, n - 1, 1)}, -1), -1);
  Tensor after = O::flip(O::cumprod(O::flip(O::cat({O::slice(s, -1, 1, n, 1), one}, -1), Dims{-1}), -1), Dims{-1});
  return O::mul(before, after);
}

// NOTE: det's derivative is the adjugate: d det(A) = tr(adj(A) dA), so g_A = g adj(A)^T. Where
// every matrix is invertible (det != 0: no zero pivot) adj(A) = det(A) A^-1. At a singular matrix
// A^-1 does not exist but adj(A) does (torch 1.13 returns zeros there, which is wrong; rank n - 1
// has a nonzero adjugate): from the SVD A = U S V^T, adj(A) = det(V) V diag(prod_{j != i} s_j)
// det(U) U^T, a product of differentiable parts (second derivatives need distinct singular
// values there, as the SVD's). Which form is taken is read from det's values (behind any tracer),
// for the whole batch.
Tensor adjugate(const Tensor& a, const Tensor& det) {
  const Tensor dv = every_value_of(det, "linalg.det");
  const Tensor dc = O::contiguous(dv);
  bool singular = false;
  for (int64_t i = 0, n = dc.numel(); i < n && !singular; i++)
    singular = (dc.dtype() == DType::Float32 ? double(dc.data<float>()[i]) : dc.data<double>()[i]) == 0;
  if (!singular) return O::mul(O::unsqueeze(O::unsqueeze(det, -1), -1), O::linalg_inv(a));
  auto [u, s, vh] = O::linalg_svd(a, false);
  Tensor signs = O::mul(O::linalg_slogdet(u).first, O::linalg_slogdet(vh).first);
  Tensor v_scaled = O::mul(mT(vh), O::unsqueeze(products_of_others(s), -2));  // V diag(p)
  return O::mul(O::unsqueeze(O::unsqueeze(signs, -1), -1), O::matmul(v_scaled, mT(u)));
}

// d det = sum(adj(A)^T * dA)
Tensor jvp_det(const Tensor* p, const Tensor* t, int, const Tensor& out, const Attrs&) {
  return O::sum(O::mul(mT(adjugate(p[0], out)), t[0]), Dims{-2, -1}, false);
}

void vjp_det(const Tensor& g, const Tensor* p, int, const Tensor& out, const Attrs&, const bool* need, Tensor* grads) {
  if (!need[0]) return;
  grads[0] = O::mul(O::unsqueeze(O::unsqueeze(g, -1), -1), mT(adjugate(p[0], out)));
}

Tensor batch_det(const Tensor* v, const int*, int, const Attrs& at, int64_t) { return batch_unary_matrix(OpId::Det, v, at); }
Tensor batch_slogdet(const Tensor* v, const int*, int, const Attrs& at, int64_t) {
  return batch_unary_matrix(OpId::Slogdet, v, at);  // the vmapped dim is one more batch dim
}

}  // namespace

// Metadata rules: the output's shape and dtype from the inputs' alone (eval checks the values).
namespace {
Dims meta_batch(const Dims& s) {
  Dims b;
  for (int i = 0; i + 2 < s.n; i++) b.push_back(s[i]);
  return b;
}
Meta meta_solve(const Meta* in, int, const Attrs&) {
  ADJ_CHECK(in[0].shape.n >= 2 && in[1].shape.n >= 2, ErrorKind::Shape, "linalg.solve",
            "A and B must have at least 2 dimensions, got " << in[0].shape.str() << " and " << in[1].shape.str());
  Dims s = broadcast_shapes(meta_batch(in[0].shape), meta_batch(in[1].shape), "linalg.solve");
  s.push_back(in[0].shape[in[0].shape.n - 1]);
  s.push_back(in[1].shape[in[1].shape.n - 1]);
  return {s, in[0].dtype};
}
Meta meta_det(const Meta* in, int, const Attrs&) {
  ADJ_CHECK(in[0].shape.n >= 2, ErrorKind::Shape, "linalg.det", "A must have at least 2 dimensions, got " << in[0].shape.str());
  return {meta_batch(in[0].shape), in[0].dtype};
}
Meta meta_slogdet(const Meta* in, int, const Attrs&) {
  ADJ_CHECK(in[0].shape.n >= 2, ErrorKind::Shape, "linalg.slogdet", "A must have at least 2 dimensions, got " << in[0].shape.str());
  Dims s = meta_batch(in[0].shape);
  s.push_back(2);
  return {s, in[0].dtype};
}
}  // namespace

void register_linalg_solve_ops(OpDef* t) {
  OpDef& linalgSolve = define_op(t, OpId::LinalgSolve, "linalg.solve", 2);
  linalgSolve.meta = meta_solve;
  linalgSolve.eval = eval_solve;
  linalgSolve.jvp = jvp_solve;
  linalgSolve.vjp = vjp_solve;
  linalgSolve.batch = batch_solve;
  OpDef& solveTriangular = define_op(t, OpId::SolveTriangular, "linalg.solve_triangular", 2);
  solveTriangular.meta = meta_solve;
  solveTriangular.eval = eval_solve_triangular;
  solveTriangular.jvp = jvp_solve_triangular;
  solveTriangular.vjp = vjp_solve_triangular;
  solveTriangular.batch = batch_solve_triangular;
  OpDef& slogdet = define_op(t, OpId::Slogdet, "linalg.slogdet", 1);
  slogdet.meta = meta_slogdet;
  slogdet.eval = eval_slogdet;
  slogdet.jvp = jvp_slogdet;
  slogdet.vjp = vjp_slogdet;
  slogdet.batch = batch_slogdet;
  OpDef& det = define_op(t, OpId::Det, "linalg.det", 1);
  det.meta = meta_det;
  det.eval = eval_det;
  det.jvp = jvp_det;
  det.vjp = vjp_det;
  det.batch = batch_det;
}

// ---------------------------------------------------------------- the functional API

namespace ops {

// B is a vector (or batch of vectors) when it is 1-D or has A's shape without its last dim,
// as torch.linalg.solve decides.
bool solve_vector_rhs(const Tensor& a, const Tensor& b) {
  if (b.ndim() == 1) return true;
  if (b.ndim() != a.ndim() - 1) return false;
  for (int i = 0; i < b.ndim(); i++)
    if (b.size(i) != a.size(i)) return false;
  return true;
}

Tensor linalg_solve(const Tensor& a, const Tensor& b) {
  check_square("linalg.solve", a);
  ADJ_CHECK(b.ndim() >= 1, ErrorKind::Shape, "linalg.solve", "B must have at least 1 dimension, got " << b.shape().str());
  if (solve_vector_rhs(a, b)) return squeeze(apply2(OpId::LinalgSolve, a, unsqueeze(b, -1), solve_attrs(kSolve)), Dims{-1});
  return apply2(OpId::LinalgSolve, a, b, solve_attrs(kSolve));
}

Tensor linalg_solve_triangular(const Tensor& a, const Tensor& b, bool upper, bool left) {
  check_square("linalg.solve_triangular", a);
  ADJ_CHECK(b.ndim() >= 2, ErrorKind::Shape, "linalg.solve_triangular",
            "B must have at least 2 dimensions ([..., n, k]), got " << b.shape().str());
  if (left) return apply2(OpId::SolveTriangular, a, b, triangular_attrs(upper));
  // X A = B  <=>  A^T X^T = B^T, A^T triangular the other way
  return mT(apply2(OpId::SolveTriangular, mT(a), mT(b), triangular_attrs(!upper)));
}

Tensor linalg_inv(const Tensor& a) {
  check_square("linalg.inv", a);
  return apply2(OpId::LinalgSolve, a, eye_like(a), solve_attrs(kInv));
}

std::pair<Tensor, Tensor> linalg_slogdet(const Tensor& a) {
  Tensor both = apply1(OpId::Slogdet, a);
  return {select(both, -1, 0), select(both, -1, 1)};
}

Tensor linalg_det(const Tensor& a) {
  check_square("linalg.det", a);
  return apply1(OpId::Det, a);
}

}  // namespace ops
}  // namespace adjoint
