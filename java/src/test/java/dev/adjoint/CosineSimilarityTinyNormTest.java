package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/**
 * cosineSimilarity where a norm is below eps (1e-8): the gradient is torch 1.13's (values from it,
 * float64), whose norm derivative is divided by the clamped norm. It passed the unscaled norm
 * derivative through the clamp (1% off in the first component for |a| = 1e-10); above eps nothing
 * changes (NnReferenceTest).
 */
class CosineSimilarityTinyNormTest extends ScopedTest {

  private static final Tensor Y = Tensor.of(new double[][] {{1, 2, 3}}).keep();

  private static void gradIs(double[] want, Tensor a) {
    assertArrayEquals(want, Func.jacrev((Fn1) v -> F.cosineSimilarity(v, Y)).apply(a).toDoubleArray(), 1e-6);
    assertArrayEquals(want, Func.jacrev((Fn1) v -> F.cosineSimilarity(Y, v)).apply(a).toDoubleArray(), 1e-6);
    assertArrayEquals(want, Func.jacfwd((Fn1) v -> F.cosineSimilarity(v, Y)).apply(a).toDoubleArray(), 1e-6);
  }

  @Test
  void gradientBelowEpsIsTorchs() {
    gradIs(new double[] {26723451.578823313, 53452248.382484876, 80178372.57372732}, Tensor.of(new double[][] {{1e-10, 0, 0}}));
    gradIs(new double[] {28329691.64271698, 51314158.44718548, 80712895.05755217}, Tensor.of(new double[][] {{3e-9, -4e-9, 1e-9}}));
    gradIs(new double[] {26726124.191242438, 53452248.382484876, 80178372.57372732}, Tensor.of(new double[][] {{0, 0, 0}}));
  }
}
