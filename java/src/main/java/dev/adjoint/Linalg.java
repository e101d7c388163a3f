package dev.adjoint;

import dev.adjoint.internal.NativeCore;

/**
 * Linear algebra with {@code torch.linalg}'s names, on LAPACK (OpenBLAS's).
 *
 * <pre>{@code
 * Tensor sol = Linalg.solve(x, b);                 // torch.linalg.solve(A, B)
 * Tensor l = Linalg.cholesky(x);                 // torch.linalg.cholesky(A)
 * Linalg.Eigh e = Linalg.eigh(x);                // e.eigenvalues(), e.eigenvectors()
 * }</pre>
 *
 * <p>Every op takes square matrices {@code A [..., n, n]} and is batched over the leading dims (a
 * second operand's leading dims broadcast against them, as in torch); float32 and float64; CPU.
 * Each works under every transform and their nestings ({@code grad}, {@code vjp}, {@code jvp},
 * {@code vmap}, {@code jacrev}, {@code jacfwd}, {@code hessian}): the derivatives are torch
 * 1.13's, written in ops, and {@code vmap} folds its batch dim into the one LAPACK loop over the
 * matrices.
 *
 * <p>Errors: a singular matrix ({@link #solve}, {@link #inv}) or one that is not positive-definite
 * ({@link #cholesky}) throws an {@link AdjointArgumentException} whose message names the op and,
 * for a batch, the first failing batch element, like torch: {@code linalg.cholesky: (Batch element
 * 3): The factorization could not be completed because the input is not positive-definite (the
 * leading minor of order 2 is not positive-definite).} Under {@code vmap} the batch element counts
 * the vmapped dims as leading dims. Non-square or too few dims: {@link ShapeMismatchException};
 * integer or mixed dtypes: {@link DTypeMismatchException}.
 */
public final class Linalg {
  private Linalg() {}

  /** {@link #slogdet}'s result: {@code det A = sign * exp(logabsdet)}. */
  public record Slogdet(Tensor sign, Tensor logabsdet) {}

  /** {@link #eigh}'s result: {@code A = V diag(eigenvalues) V^T} with {@code V = eigenvectors}. */
  public record Eigh(Tensor eigenvalues, Tensor eigenvectors) {}

  /** {@link #qr}'s result: {@code A = Q R}, {@code Q} with orthonormal columns, {@code R} upper triangular. */
  public record QR(Tensor q, Tensor r) {}

  /** {@link #svd}'s result: {@code A = U diag(S) Vh}, singular values {@code s} descending. */
  public record SVD(Tensor u, Tensor s, Tensor vh) {}

  /**
   * The solution {@code X} of {@code A X = B}, by LU with partial pivoting ({@code torch.linalg.solve}).
   * {@code B} is {@code [..., n, k]}, or a vector: 1-D {@code [n]} or of {@code A}'s shape without its
   * last dim; the leading dims of A and B broadcast.
   *
   * <pre>{@code
   * Tensor step = Linalg.solve(hessian(f).apply(x), grad(f).apply(x));   // a Newton step
   * }</pre>
   *
   * @throws AdjointArgumentException when a matrix is singular (naming the batch element)
   */
  public static Tensor solve(Tensor a, Tensor b) {
    return Tensor.wrap(NativeCore.adj_linalg_solve(a.h(), b.h()), a, b);
  }

  /**
   * The solution {@code X} of {@code A X = B} with {@code A} triangular: only its upper
   * ({@code upper}) or lower triangle is read ({@code torch.linalg.solve_triangular(A, B, upper=upper)}).
   * {@code B} is {@code [..., n, k]}. A zero on the diagonal gives Inf/NaN, as in torch. The
   * derivative with respect to {@code A} is zero outside the triangle read.
   *
   * <pre>{@code
   * Tensor z = Linalg.solveTriangular(Linalg.cholesky(x), b, false);   // L^-1 B
   * }</pre>
   */
  public static Tensor solveTriangular(Tensor a, Tensor b, boolean upper) {
    return solveTriangular(a, b, upper, true);
  }

  /**
   * As {@link #solveTriangular(Tensor, Tensor, boolean)}; with {@code left = false} it solves
   * {@code X A = B} for {@code B [..., k, n]} instead.
   */
  public static Tensor solveTriangular(Tensor a, Tensor b, boolean upper, boolean left) {
    return Tensor.wrap(NativeCore.adj_linalg_solve_triangular(a.h(), b.h(), upper ? 1 : 0, left ? 1 : 0), a, b);
  }

  /**
   * The lower Cholesky factor {@code L} of a symmetric positive-definite {@code A = L L^T}
   * ({@code torch.linalg.cholesky}). Only the lower triangle of {@code A} is read; the derivative
   * is that of the symmetric matrix, so gradients are symmetric (as torch's).
   *
   * <pre>{@code
   * Tensor l = Linalg.cholesky(x.matmul(x.t()).add(Tensor.eye(3)));
   * }</pre>
   *
   * @throws AdjointArgumentException when a matrix is not positive-definite (naming the batch
   *     element and the order of the failing leading minor)
   */
  public static Tensor cholesky(Tensor a) {
    return cholesky(a, false);
  }

  /** As {@link #cholesky(Tensor)}; with {@code upper} the upper factor {@code U = L^T}, {@code A = U^T U}. */
  public static Tensor cholesky(Tensor a, boolean upper) {
    return Tensor.wrap(NativeCore.adj_linalg_cholesky(a.h(), upper ? 1 : 0), a);
  }

  /**
   * The inverse {@code A^-1} ({@code torch.linalg.inv}); to apply it, {@link #solve} is faster and
   * more accurate.
   *
   * <pre>{@code
   * Tensor ainv = Linalg.inv(x);
   * }</pre>
   *
   * @throws AdjointArgumentException when a matrix is singular (naming the batch element)
   */
  public static Tensor inv(Tensor a) {
    return Tensor.wrap(NativeCore.adj_linalg_inv(a.h()), a);
  }

  /**
   * The determinant {@code det A} ({@code torch.linalg.det}), computed as {@code sign *
   * exp(logabsdet)} from the LU: a singular matrix gives exactly 0. Its gradient is the cofactor
   * matrix {@code adj(A)^T}: {@code det(A) A^-T} where A is invertible, and from the SVD where it
   * is singular (a rank n - 1 matrix has a nonzero one; torch 1.13 returns zeros there). Second
   * derivatives at a singular matrix need its singular values distinct, as the SVD's do.
   *
   * <pre>{@code
   * Tensor d = Linalg.det(x);
   * }</pre>
   */
  public static Tensor det(Tensor a) {
    return Tensor.wrap(NativeCore.adj_linalg_det(a.h()), a);
  }

  /**
   * Sign and log of the absolute value of the determinant ({@code torch.linalg.slogdet}), by LU:
   * {@code log|det|} does not overflow where {@code det} would. A singular matrix gives sign 0
   * and logabsdet {@code -Inf}, where the derivative is undefined (an error naming
   * {@code linalg.slogdet}). The sign's derivative is zero.
   *
   * <pre>{@code
   * Linalg.Slogdet s = Linalg.slogdet(x);   // s.sign(), s.logabsdet()
   * }</pre>
   */
  public static Slogdet slogdet(Tensor a) {
    long[] second = new long[1];
    long sign = NativeCore.adj_linalg_slogdet(a.h(), second);
    Tensor s = Tensor.wrap(sign, a);
    return new Slogdet(s, Tensor.wrap(second[0]));
  }

  /**
   * Eigenvalues (ascending) and eigenvectors (the columns of {@code eigenvectors()}) of a symmetric
   * matrix ({@code torch.linalg.eigh}, LAPACK's {@code syevd}). Only the lower triangle of {@code A}
   * is read; the derivative is that of the symmetric matrix.
   *
   * <p>Each eigenvector is determined up to its sign, so only functions invariant under that sign
   * (such as {@code V diag(w) V^T}, or the eigenvalues) have a well-defined derivative. The
   * derivative of the eigenvectors involves {@code 1 / (w_j - w_i)}: it is undefined where
   * eigenvalues repeat and grows without bound as they approach each other. Where two eigenvalues
   * are exactly equal, the terms that divide by their gap are taken as zero (torch gives Inf/NaN
   * there), so that the eigenvalues' own derivative stays exact.
   *
   * <pre>{@code
   * Linalg.Eigh e = Linalg.eigh(x);   // e.eigenvalues() [..., n], e.eigenvectors() [..., n, n]
   * }</pre>
   *
   * @throws AdjointArgumentException when LAPACK does not converge (naming the batch element)
   */
  public static Eigh eigh(Tensor a) {
    long[] second = new long[1];
    long values = NativeCore.adj_linalg_eigh(a.h(), second);
    Tensor w = Tensor.wrap(values, a);
    return new Eigh(w, Tensor.wrap(second[0]));
  }

  /**
   * The eigenvalues (ascending) of a symmetric matrix ({@code torch.linalg.eigvalsh}); only its
   * lower triangle is read. The first derivative ({@code v_i v_i^T} for eigenvalue i) is exact,
   * also where eigenvalues repeat; higher derivatives are undefined there (see {@link #eigh}).
   *
   * <pre>{@code
   * Tensor w = Linalg.eigvalsh(x);
   * }</pre>
   */
  public static Tensor eigvalsh(Tensor a) {
    return Tensor.wrap(NativeCore.adj_linalg_eigvalsh(a.h()), a);
  }

  /**
   * The reduced QR decomposition {@code A = Q R} of {@code A [..., m, n]} ({@code
   * torch.linalg.qr(A)}, mode "reduced"): {@code Q [..., m, k]} with orthonormal columns and
   * {@code R [..., k, n]} upper triangular, {@code k = min(m, n)} (Householder, LAPACK's
   * {@code geqrf}/{@code orgqr}; R's diagonal may be negative, as in torch). The derivative is
   * defined where the leading {@code k} columns of A are linearly independent.
   *
   * <pre>{@code
   * Linalg.QR f = Linalg.qr(x);   // f.q(), f.r()
   * }</pre>
   */
  public static QR qr(Tensor a) {
    long[] r = new long[1];
    long q = NativeCore.adj_linalg_qr(a.h(), r);
    Tensor tq = Tensor.wrap(q, a);
    return new QR(tq, Tensor.wrap(r[0]));
  }

  /**
   * The singular value decomposition {@code A = U diag(S) Vh} with full {@code U [..., m, m]} and
   * {@code Vh [..., n, n]}, as {@code torch.linalg.svd(A)} (full_matrices=True); see
   * {@link #svd(Tensor, boolean)}. The full factors of a non-square matrix have no derivative (an
   * error under a transform, as in torch): use {@code svd(a, false)} there.
   */
  public static SVD svd(Tensor a) {
    return svd(a, true);
  }

  /**
   * The singular value decomposition {@code A = U diag(S) Vh} of {@code A [..., m, n]}
   * ({@code torch.linalg.svd(A, full_matrices=fullMatrices)}, LAPACK's {@code gesdd}): with
   * {@code fullMatrices = false}, {@code U [..., m, k]}, {@code S [..., k]} (descending) and
   * {@code Vh [..., k, n]}, {@code k = min(m, n)}.
   *
   * <p>Each pair of singular vectors is determined up to a common sign, so only functions
   * invariant under it (such as {@code U diag(S) Vh}, the singular values, or {@code u_i u_i^T})
   * have a well-defined derivative. The derivative of the singular vectors involves
   * {@code 1 / (s_j^2 - s_i^2)} (and {@code 1 / s_i} for a non-square A): it is undefined where
   * singular values repeat (or are zero) and grows without bound near there. Where they are
   * exactly equal (or zero), those terms are taken as zero (torch gives Inf/NaN), so that the
   * singular values' own derivative ({@link #svdvals}) stays exact.
   *
   * <pre>{@code
   * Linalg.SVD f = Linalg.svd(x, false);   // f.u(), f.s(), f.vh()
   * }</pre>
   */
  public static SVD svd(Tensor a, boolean fullMatrices) {
    long[] sVh = new long[2];
    long u = NativeCore.adj_linalg_svd(a.h(), fullMatrices ? 1 : 0, sVh);
    Tensor tu = Tensor.wrap(u, a);
    Tensor s = Tensor.wrap(sVh[0]);
    return new SVD(tu, s, Tensor.wrap(sVh[1]));
  }

  /**
   * The singular values of {@code A [..., m, n]}, descending ({@code torch.linalg.svdvals}). Its
   * derivative {@code U diag(g) Vh} is exact also where singular values repeat.
   *
   * <pre>{@code
   * Tensor s = Linalg.svdvals(x);
   * }</pre>
   */
  public static Tensor svdvals(Tensor a) {
    return Tensor.wrap(NativeCore.adj_linalg_svdvals(a.h()), a);
  }

  /**
   * The Moore-Penrose pseudo-inverse {@code A^+ [..., n, m]} ({@code torch.linalg.pinv(A)}) by the
   * SVD: singular values at or below {@code max(m, n) * eps * s_max} count as zero. Its derivative
   * is torch's (exact also where singular values repeat); it is that of the pseudo-inverse at
   * fixed rank, undefined where a singular value crosses the cut-off.
   *
   * <pre>{@code
   * Tensor z = Linalg.pinv(x).matmul(b);   // the least-squares solution, also for rank-deficient A
   * }</pre>
   */
  public static Tensor pinv(Tensor a) {
    return pinv(a, 0, -1);
  }

  /**
   * As {@link #pinv(Tensor)}, with singular values at or below {@code max(atol, rtol * s_max)}
   * taken as zero ({@code torch.linalg.pinv(A, atol=atol, rtol=rtol)}); {@code rtol < 0} stands
   * for torch's {@code None} (then 0 when {@code atol > 0}, else {@code max(m, n) * eps}).
   */
  public static Tensor pinv(Tensor a, double atol, double rtol) {
    return Tensor.wrap(NativeCore.adj_linalg_pinv(a.h(), atol, rtol), a);
  }

  /**
   * The least-squares solution {@code X} of {@code A X = B} for {@code A [..., m, n]}
   * ({@code torch.linalg.lstsq(A, B).solution}): the minimiser of {@code |A X - B|} of least
   * norm. A full-rank {@code A} is solved by QR; a rank-deficient one (a QR pivot near zero in any
   * matrix of the batch) as {@code pinv(A) B}, which is also the gradient torch gives (singular
   * values below {@code eps * max(m, n) * s_max} count as zero, torch's default cut-off).
   * {@code B} is {@code [..., m, k]} or {@code [..., m]}.
   *
   * <pre>{@code
   * Tensor coef = Linalg.lstsq(x, y);   // linear regression
   * }</pre>
   */
  public static Tensor lstsq(Tensor a, Tensor b) {
    return Tensor.wrap(NativeCore.adj_linalg_lstsq(a.h(), b.h()), a, b);
  }

  /**
   * The 2-norm of all elements ({@code torch.linalg.vector_norm(x)}); its gradient at 0 is 0
   * (a subgradient, never NaN).
   *
   * <pre>{@code
   * Tensor unit = v.div(Linalg.vectorNorm(v));   // v scaled to norm 1
   * }</pre>
   */
  public static Tensor vectorNorm(Tensor x) {
    return vectorNorm(x, 2, null, false);
  }

  /**
   * The vector norm of order {@code ord} over {@code dims} (null or empty: all dims)
   * ({@code torch.linalg.vector_norm(x, ord, dim, keepdim)}): {@code (sum |x|^ord)^(1/ord)};
   * {@code ord} = {@code Double.POSITIVE_INFINITY} is the largest {@code |x|}, {@code
   * NEGATIVE_INFINITY} the smallest, 0 the number of nonzeros. At {@code x = 0} the gradient is 0
   * (torch's subgradient), never NaN; at ties of the inf-norms it follows {@code amax}.
   */
  public static Tensor vectorNorm(Tensor x, double ord, int[] dims, boolean keepdim) {
    long[] d = new long[dims == null ? 0 : dims.length];
    for (int i = 0; i < d.length; i++) d[i] = dims[i];
    return Tensor.wrap(NativeCore.adj_linalg_vector_norm(x.h(), ord, d, d.length, keepdim ? 1 : 0), x);
  }

  /**
   * The Frobenius norm of the matrices {@code A [..., m, n]} ({@code torch.linalg.matrix_norm(A)}).
   *
   * <pre>{@code
   * Tensor f = Linalg.matrixNorm(x);   // sqrt(sum of squares) over the last two dims
   * }</pre>
   */
  public static Tensor matrixNorm(Tensor a) {
    return matrixNorm(a, "fro", false);
  }

  /**
   * The matrix norm {@code "fro"} (Frobenius) or {@code "nuc"} (nuclear: the sum of the singular
   * values) of {@code A [..., m, n]} over its last two dims ({@code torch.linalg.matrix_norm(A, ord,
   * keepdim=keepdim)}). The nuclear norm's derivative is that of {@link #svdvals}.
   */
  public static Tensor matrixNorm(Tensor a, String ord, boolean keepdim) {
    int kind = switch (ord) {
      case "fro" -> 1;
      case "nuc" -> 2;
      default -> throw new AdjointArgumentException("linalg.matrix_norm",
          "linalg.matrix_norm: order \"" + ord + "\" not supported: use \"fro\", \"nuc\" or a number (1, -1, 2, -2, inf, -inf)");
    };
    return Tensor.wrap(NativeCore.adj_linalg_matrix_norm(a.h(), 0, kind, keepdim ? 1 : 0), a);
  }

  /**
   * The matrix norm of order {@code ord} of {@code A [..., m, n]} over its last two dims ({@code
   * torch.linalg.matrix_norm(A, ord, keepdim=keepdim)}): 1 / -1 the largest / smallest column sum of
   * {@code |A|}, {@code Double.POSITIVE_INFINITY} / {@code NEGATIVE_INFINITY} the largest / smallest
   * row sum, 2 / -2 the largest / smallest singular value (derivatives those of {@link #svdvals}).
   */
  public static Tensor matrixNorm(Tensor a, double ord, boolean keepdim) {
    return Tensor.wrap(NativeCore.adj_linalg_matrix_norm(a.h(), ord, 0, keepdim ? 1 : 0), a);
  }
}
