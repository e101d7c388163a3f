package dev.adjoint;

import dev.adjoint.internal.NativeCore;

/**
 * Linear algebra with {@code torch.linalg}'s names, on LAPACK (OpenBLAS's).
 *
 * <pre>{@code
 * Tensor x = Linalg.solve(a, b);                 // torch.linalg.solve(A, B)
 * Tensor l = Linalg.cholesky(a);                 // torch.linalg.cholesky(A)
 * Linalg.Eigh e = Linalg.eigh(a);                // e.eigenvalues(), e.eigenvectors()
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
   * Tensor x = Linalg.solveTriangular(Linalg.cholesky(a), b, false);   // L^-1 B
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
   * Tensor ainv = Linalg.inv(a);
   * }</pre>
   *
   * @throws AdjointArgumentException when a matrix is singular (naming the batch element)
   */
  public static Tensor inv(Tensor a) {
    return Tensor.wrap(NativeCore.adj_linalg_inv(a.h()), a);
  }

  /**
   * The determinant {@code det A} ({@code torch.linalg.det}), computed as {@code sign *
   * exp(logabsdet)} of {@link #slogdet}: a singular matrix gives exactly 0. Its gradient
   * {@code det(A) A^-T} is undefined here at a singular matrix (an error; torch returns the
   * cofactor matrix there).
   *
   * <pre>{@code
   * Tensor d = Linalg.det(a);
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
   * Linalg.Slogdet s = Linalg.slogdet(a);   // s.sign(), s.logabsdet()
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
   * Linalg.Eigh e = Linalg.eigh(a);   // e.eigenvalues() [..., n], e.eigenvectors() [..., n, n]
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
   * Tensor w = Linalg.eigvalsh(a);
   * }</pre>
   */
  public static Tensor eigvalsh(Tensor a) {
    return Tensor.wrap(NativeCore.adj_linalg_eigvalsh(a.h()), a);
  }
}
