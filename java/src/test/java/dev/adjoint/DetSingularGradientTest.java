package dev.adjoint;

import static dev.adjoint.Func.grad;
import static dev.adjoint.Func.hessian;
import static dev.adjoint.Func.jvp;
import static dev.adjoint.Func.vmap;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The gradient of det at a singular matrix is the cofactor matrix adj(A)^T, written out by hand
 * below (2x2: [[d, -c], [-b, a]]; 3x3: the signed 2x2 minors). It was an error (log|det|'s
 * derivative), and torch 1.13 returns zeros there. Also checked: a matrix of rank n - 2 (every
 * cofactor 0), central finite differences in float64 around singular points (det is a polynomial),
 * jvp against the gradient, vmap over a batch mixing singular and invertible matrices, and the
 * hessian at a singular matrix against finite differences of the gradient.
 */
class DetSingularGradientTest extends ScopedTest {

  private static final Fn1 DET = Linalg::det;

  private static double[] g(double[][] a) {
    return grad(DET).apply(Tensor.of(a)).toDoubleArray();
  }

  // The cofactor matrix of a 3x3: C[i][j] = (-1)^(i+j) M[i][j].
  private static double[] cofactors(double[][] a) {
    double[] c = new double[9];
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) {
        int r0 = i == 0 ? 1 : 0, r1 = i == 2 ? 1 : 2, c0 = j == 0 ? 1 : 0, c1 = j == 2 ? 1 : 2;
        double minor = a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0];
        c[i * 3 + j] = ((i + j) % 2 == 0 ? 1 : -1) * minor;
      }
    return c;
  }

  // Central differences of det(A + h E_ij), float64.
  private static double[] fdGrad(double[][] a) {
    int n = a.length;
    double h = 1e-5;
    double[] r = new double[n * n];
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        double[][] p = copy(a), m = copy(a);
        p[i][j] += h;
        m[i][j] -= h;
        r[i * n + j] = (DET.apply(Tensor.of(p)).item() - DET.apply(Tensor.of(m)).item()) / (2 * h);
      }
    return r;
  }

  private static double[][] copy(double[][] a) {
    double[][] c = new double[a.length][];
    for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
    return c;
  }

  @Test
  void twoByTwoRankOneIsTheCofactorMatrix() {
    assertArrayEquals(new double[] {4, -2, -2, 1}, g(new double[][] {{1, 2}, {2, 4}}), 1e-12);
    assertArrayEquals(new double[] {1, 0, 0, 0}, g(new double[][] {{0, 0}, {0, 1}}), 1e-12);
  }

  @Test
  void threeByThreeRankTwoIsTheCofactorMatrix() {
    double[][] a = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};
    assertArrayEquals(cofactors(a), g(a), 1e-11);
    double[][] b = {{2, -1, 0}, {1, 3, 0}, {-4, 0.5, 0}};  // a zero column
    assertArrayEquals(cofactors(b), g(b), 1e-11);
    assertArrayEquals(fdGrad(b), g(b), 1e-8);
  }

  @Test
  void rankNMinusTwoHasZeroCofactors() {
    assertArrayEquals(new double[9], g(new double[][] {{1, 2, 3}, {2, 4, 6}, {3, 6, 9}}), 1e-12);
    assertArrayEquals(new double[9], g(new double[3][3]), 0);
  }

  @Test
  void oneByOneZero() {
    assertArrayEquals(new double[] {1}, g(new double[][] {{0}}), 0);
  }

  @Test
  void jvpAtASingularMatrixIsTheGradientDotted() {
    double[][] a = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};
    Tensor v = Tensor.of(new double[][] {{0.5, -1, 2}, {1, 0, -0.25}, {3, 1, 1}});
    double want = grad(DET).apply(Tensor.of(a)).mul(v).sum().item();
    double got = jvp(DET, Tensor.of(a), v).tangent().item();
    assertArrayEquals(new double[] {want}, new double[] {got}, 1e-11);
  }

  @Test
  void vmapOverSingularAndInvertibleMatrices() {
    double[][] s = {{1, 2}, {2, 4}}, r = {{2, 1}, {-1, 3}};
    Tensor batch = Tensor.stack(List.of(Tensor.of(s), Tensor.of(r)), 0);
    double[] got = vmap(grad(DET)).apply(batch).toDoubleArray();
    // invertible [[a, b], [c, d]]: cofactors [[d, -c], [-b, a]] as well
    assertArrayEquals(new double[] {4, -2, -2, 1, 3, 1, -1, 2}, got, 1e-12);
    // batched det itself (its gradient through a batched call)
    assertArrayEquals(new double[] {4, -2, -2, 1, 3, 1, -1, 2}, grad((Tensor x) -> Linalg.det(x).sum()).apply(batch).toDoubleArray(),
        1e-12);
  }

  @Test
  void hessianAtASingularMatrixMatchesDifferencesOfTheGradient() {
    double[][] a = {{2, -1, 0}, {1, 3, 0}, {-4, 0.5, 0}};  // rank 2, distinct singular values
    double[] h = hessian(DET).apply(Tensor.of(a)).toDoubleArray();
    double eps = 1e-6;
    for (int k = 0; k < 9; k++) {
      double[][] p = copy(a), m = copy(a);
      p[k / 3][k % 3] += eps;
      m[k / 3][k % 3] -= eps;
      double[] gp = g(p), gm = g(m);
      for (int e = 0; e < 9; e++) assertArrayEquals(new double[] {(gp[e] - gm[e]) / (2 * eps)}, new double[] {h[e * 9 + k]}, 1e-6);
    }
  }
}
