// Symmetric decompositions on LAPACK: linalg.cholesky and linalg.eigh as primitives, each with all
// of its rules below it; eigvalsh and the upper Cholesky factor as composites. Kernels:
// backends/cpu/lapack.h. Derivatives are torch 1.13's.
//
// NOTE: both read only the lower triangle of A, as torch does. Their derivatives are those of the
// symmetric input: the jvp takes the symmetric part of the tangent and the vjp returns a symmetric
// cotangent, so jvp and vjp are adjoint and agree with finite differences taken along symmetric
// directions (not along a single entry, which moves only one triangle).
#include "backends/cpu/lapack.h"
#include "interp/rules.h"
#include "ops/linalg_util.h"
#include "ops/op.h"
#include "ops/rule_util.h"

namespace adjoint {
namespace {
namespace O = ops;
using namespace linalg;

// ---------------------------------------------------------------- linalg.cholesky: A = L L^T

Tensor eval_cholesky(const Tensor* in, int, const Attrs&) {
  const char* op = "linalg.cholesky";
  check_square(op, in[0]);
  Tensor a = dense(in[0], in[0].shape(), op);
  Tensor l = Tensor::empty(a.shape(), a.dtype(), a.device(), op);
  const cpu::lapack::Failure f = cpu::lapack::cholesky(a, l);
  ADJ_CHECK(!f.failed(), ErrorKind::Argument, op,
            batch_prefix(batch_dims(a), f.batch)
                << "The factorization could not be completed because the input is not positive-definite (the leading minor of order "
                << f.info << " is not positive-definite).");
  return l;
}

// Phi(X): the lower triangle of X with its diagonal halved.
Tensor phi(const Tensor& x) {
  Tensor w = matrix_constant(last(x), x.dtype(), [](int64_t i, int64_t j) { return i > j ? 1.0 : i == j ? 0.5 : 0.0; });
  return O::mul(x, w);
}

// dL = L Phi(L^-1 dA L^-T)
Tensor jvp_cholesky(const Tensor* p, const Tensor* t, int, const Tensor& l, const Attrs&) {
  Tensor y = O::linalg_solve_triangular(l, sym(t[0]), /*upper=*/false, /*left=*/true);
  y = O::linalg_solve_triangular(mT(l), y, /*upper=*/true, /*left=*/false);
  return O::matmul(l, phi(y));
}

// gA = L^-T Phi'(L^T gL) L^-1 with Phi' the symmetrisation (P + P^T) / 2 of P = Phi(L^T gL)
void vjp_cholesky(const Tensor& g, const Tensor* p, int, const Tensor& l, const Attrs&, const bool* need, Tensor* grads) {
  if (!need[0]) return;
  Tensor s = sym(phi(O::matmul(mT(l), g)));
  s = O::linalg_solve_triangular(mT(l), s, /*upper=*/true, /*left=*/true);
  grads[0] = O::linalg_solve_triangular(l, s, /*upper=*/false, /*left=*/false);
}

// The vmapped dim is one more leading batch dim of the kernel's loop.
Tensor batch_cholesky(const Tensor* v, const int*, int, const Attrs& at, int64_t) { return apply1(OpId::Cholesky, v[0], at); }

// ---------------------------------------------------------------- linalg.eigh: A = V diag(w) V^T

// NOTE: one output [..., n + 1, n]: row 0 the eigenvalues (ascending), rows 1..n the eigenvector
// matrix V (ops have one output; ops::linalg_eigh splits it).
Tensor eval_eigh(const Tensor* in, int, const Attrs&) {
  const char* op = "linalg.eigh";
  check_square(op, in[0]);
  Tensor a = dense(in[0], in[0].shape(), op);
  const int64_t n = last(a);
  Tensor out = Tensor::empty(with_matrix(batch_dims(a), n + 1, n), a.dtype(), a.device(), op);
  const cpu::lapack::Failure f = cpu::lapack::eigh(a, out);
  ADJ_CHECK(f.info != cpu::lapack::kNonFinite, ErrorKind::Argument, op,
            batch_prefix(batch_dims(a), f.batch) << "The algorithm failed to converge because the input matrix contained non-finite values.");
  ADJ_CHECK(!f.failed(), ErrorKind::Argument, op,
            batch_prefix(batch_dims(a), f.batch)
                << "The algorithm failed to converge because the input matrix is ill-conditioned or has too many repeated eigenvalues (error code: "
                << f.info << ").");
  return out;
}

Tensor eigenvalues_of(const Tensor& packed) { return O::select(packed, -2, 0); }
Tensor eigenvectors_of(const Tensor& packed) { return O::slice(packed, -2, 1, packed.size(packed.ndim() - 2), 1); }

// x / E with E[i, j] = w[j] - w[i], and 0 on the diagonal and wherever two eigenvalues are
// exactly equal.
// NOTE: the eigenvectors of an exactly repeated eigenvalue are not unique and the derivative of
// the eigenvectors is undefined there (torch gives Inf/NaN); here those terms are zero, so that
// the eigenvalues' derivative, which stays defined (eigvalsh, whose cotangent of the eigenvectors
// is zero: 0 / 0), is exact. Both selections avoid a 0 / 0 in every derivative order too.
Tensor div_by_gaps(const Tensor& x, const Tensor& w) {
  return div_or_zero(x, O::sub(O::unsqueeze(w, -2), O::unsqueeze(w, -1)));  // the diagonal's gaps are 0
}

// dP = V^T sym(dA) V; dw = diag(dP), dV = V (dP / E off the diagonal)
Tensor jvp_eigh(const Tensor* p, const Tensor* t, int, const Tensor& out, const Attrs&) {
  Tensor w = eigenvalues_of(out), v = eigenvectors_of(out);
  Tensor dp = O::matmul(mT(v), O::matmul(sym(t[0]), v));
  Tensor dv = O::matmul(v, div_by_gaps(dp, w));
  return O::cat({O::unsqueeze(diagonal(dp), -2), dv}, -2);
}

// gA = V (diag(gw) + skew(V^T gV) / E) V^T with skew(X) = (X - X^T) / 2
void vjp_eigh(const Tensor& g, const Tensor* p, int, const Tensor& out, const Attrs&, const bool* need, Tensor* grads) {
  if (!need[0]) return;
  Tensor w = eigenvalues_of(out), v = eigenvectors_of(out);
  Tensor vg = O::matmul(mT(v), eigenvectors_of(g));
  Tensor skew = O::mul(O::sub(vg, mT(vg)), rules::scalar_like(0.5, vg));
  Tensor inner = O::add(div_by_gaps(skew, w), diag_embed(eigenvalues_of(g)));
  grads[0] = O::matmul(v, O::matmul(inner, mT(v)));
}

Tensor batch_eigh(const Tensor* v, const int*, int, const Attrs& at, int64_t) { return apply1(OpId::Eigh, v[0], at); }

}  // namespace

// Metadata rules: the output's shape and dtype from the input's alone (eval checks the values).
namespace {
Meta meta_cholesky(const Meta* in, int, const Attrs&) {
  ADJ_CHECK(in[0].shape.n >= 2, ErrorKind::Shape, "linalg.cholesky", "A must have at least 2 dimensions, got " << in[0].shape.str());
  return {in[0].shape, in[0].dtype};
}
// one packed output [..., n + 1, n]: the eigenvalues' row, then the eigenvectors
Meta meta_eigh(const Meta* in, int, const Attrs&) {
  ADJ_CHECK(in[0].shape.n >= 2, ErrorKind::Shape, "linalg.eigh", "A must have at least 2 dimensions, got " << in[0].shape.str());
  Dims s = in[0].shape;
  s[s.n - 2] += 1;
  return {s, in[0].dtype};
}
}  // namespace

void register_linalg_decomp_ops(OpDef* t) {
  OpDef& cholesky = define_op(t, OpId::Cholesky, "linalg.cholesky", 1);
  cholesky.meta = meta_cholesky;
  cholesky.eval = eval_cholesky;
  cholesky.jvp = jvp_cholesky;
  cholesky.vjp = vjp_cholesky;
  cholesky.batch = batch_cholesky;
  OpDef& eigh = define_op(t, OpId::Eigh, "linalg.eigh", 1);
  eigh.meta = meta_eigh;
  eigh.eval = eval_eigh;
  eigh.jvp = jvp_eigh;
  eigh.vjp = vjp_eigh;
  eigh.batch = batch_eigh;
}

// ---------------------------------------------------------------- the functional API

namespace ops {

Tensor linalg_cholesky(const Tensor& a, bool upper) {
  Tensor l = apply1(OpId::Cholesky, a);
  return upper ? linalg::mT(l) : l;
}

std::pair<Tensor, Tensor> linalg_eigh(const Tensor& a) {
  Tensor both = apply1(OpId::Eigh, a);
  return {eigenvalues_of(both), eigenvectors_of(both)};
}

Tensor linalg_eigvalsh(const Tensor& a) { return eigenvalues_of(apply1(OpId::Eigh, a)); }

}  // namespace ops
}  // namespace adjoint
