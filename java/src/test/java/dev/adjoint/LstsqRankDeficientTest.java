package dev.adjoint;

import static dev.adjoint.Func.grad;
import static dev.adjoint.Func.vmap;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * linalg.lstsq of a rank-deficient A: the minimum-norm least-squares solution and its gradient, as
 * torch 1.13 gives them (it returned Inf/NaN: the QR path divided by a zero pivot). Expected values
 * are torch 1.13's float64 output (torch.linalg.lstsq, default driver gelsy, and backward).
 */
class LstsqRankDeficientTest extends ScopedTest {

  private static final double TOL = 1e-12;

  private static Tensor m(double[][] rows) {
    return Tensor.of(rows);
  }

  private static final double[][] TALL = {{1, 2}, {2, 4}, {3, 6}};
  private static final double[][] TALL_B = {{1, 0}, {2, 1}, {2, -1}};
  private static final double[][] TALL_W = {{1, -2}, {0.5, 3}};

  @Test
  void tallRankOneIsTheMinimumNormSolution() {
    assertArrayEquals(new double[] {0.15714285714285708, -0.014285714285714284, 0.31428571428571417, -0.028571428571428567},
        Linalg.lstsq(m(TALL), m(TALL_B)).toDoubleArray(), TOL);
  }

  @Test
  void tallRankOneGradientIsTorchs() {
    Tensor b = m(TALL_B), w = m(TALL_W);
    Tensor g = grad((Tensor a) -> Linalg.lstsq(a, b).mul(w).sum()).apply(m(TALL));
    assertArrayEquals(new double[] {0.007959183673469388, -0.008061224489795921, 0.0273469387755102, 0.006734693877551028,
        0.006734693877551014, -0.058469387755102034}, g.toDoubleArray(), 1e-11);
  }

  @Test
  void wideRankOneAndItsGradient() {
    Tensor a = m(new double[][] {{1, 2, -1}, {2, 4, -2}}), b = m(new double[][] {{1}, {3}});
    assertArrayEquals(new double[] {0.23333333333333334, 0.4666666666666667, -0.23333333333333328},
        Linalg.lstsq(a, b).toDoubleArray(), TOL);
    Tensor w = m(new double[][] {{1}, {2}, {3}});
    Tensor g = grad((Tensor x) -> Linalg.lstsq(x, b).mul(w).sum()).apply(a);
    assertArrayEquals(new double[] {0.011111111111111096, 0.02222222222222222, 0.17555555555555552, 0.033333333333333326,
        0.06666666666666668, 0.3400000000000001}, g.toDoubleArray(), 1e-11);
  }

  @Test
  void zeroMatrixGivesZero() {
    Tensor x = Linalg.lstsq(Tensor.zeros(DType.FLOAT64, 3, 2), Tensor.ones(DType.FLOAT64, 3, 1));
    assertArrayEquals(new double[] {0, 0}, x.toDoubleArray(), 0);
    Tensor xf = Linalg.lstsq(Tensor.zeros(3, 2), Tensor.ones(3));
    for (float v : xf.toFloatArray()) assertTrue(v == 0, "float32 zero matrix: " + v);
  }

  @Test
  void batchWithOneDeficientMatrixAndUnderVmap() {
    Tensor a = Tensor.stack(java.util.List.of(m(new double[][] {{1, 2}, {3, 4}, {5, 7}}), m(TALL)), 0);
    Tensor b = m(new double[][] {{1}, {2}, {4}});
    double[] want = {0.07142857142857097, 0.5000000000000003, 0.24285714285714277, 0.48571428571428554};
    assertArrayEquals(want, Linalg.lstsq(a, b.expand(2, 3, 1)).toDoubleArray(), 1e-12);
    Tensor v = vmap((Tensor x) -> Linalg.lstsq(x, b)).apply(a);
    assertArrayEquals(want, v.toDoubleArray(), 1e-12);
  }

  @Test
  void nanInputGivesNanAsTorch() {
    Tensor a = m(new double[][] {{1, 2}, {Double.NaN, 4}, {5, 6}}), b = m(new double[][] {{1}, {2}, {3}});
    for (double v : Linalg.lstsq(a, b).toDoubleArray()) assertTrue(Double.isNaN(v), "lstsq of a NaN matrix: " + v);
  }

  @Test
  void fullRankStaysOnTheQrPathAndAgreesWithPinv() {
    Tensor a = m(new double[][] {{1, 2}, {3, 4}, {5, 7}}), b = m(new double[][] {{1}, {2}, {4}});
    assertArrayEquals(Linalg.pinv(a).matmul(b).toDoubleArray(), Linalg.lstsq(a, b).toDoubleArray(), 1e-13);
  }
}
