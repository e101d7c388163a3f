package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * crossEntropy and nllLoss with -inf scores on classes that are not the target (a masked logit,
 * or logSoftmax of one): the loss and its gradient are finite, as in torch 1.13 (values below from
 * it, float64), not the NaN of {@code -inf * 0} that picking the class with a one-hot product gave.
 */
class ClassLossInfiniteScoresTest extends ScopedTest {

  private static final double NINF = Double.NEGATIVE_INFINITY;
  private static final double LOSS = 0.16417064451286253;
  private static final double[] GRAD = {-0.09121276190317817, 0.0, 0.09121276190317816, 0.0, -0.05960146101105884, 0.059601461011058766};

  private static Tensor logits() { return Tensor.of(new double[][] {{0.5, NINF, -1.0}, {NINF, 2.0, 0.0}}); }

  private static Tensor target() { return Tensor.of(new long[] {0, 1}); }

  @Test
  void crossEntropyIsFiniteWithMaskedLogits() {
    Fn1 loss = z -> F.crossEntropy(z, target());
    assertEquals(LOSS, loss.apply(logits()).item(), 1e-15);
    assertArrayEquals(GRAD, Func.grad(loss).apply(logits()).toDoubleArray(), 1e-15);
    // forward mode and vmap over the examples see the same finite numbers
    Tensor ones = Tensor.onesLike(logits()).maskedFill(logits().isinf(), 0);
    double dir = 0; for (int i = 0; i < GRAD.length; i++) dir += GRAD[i] * ones.toDoubleArray()[i];
    assertEquals(dir, Func.jvp(loss, logits(), ones).tangent().item(), 1e-15);
    Tensor perExample = Func.vmap((Fn2) (z, t) -> F.crossEntropy(z, t)).apply(logits(), target());
    assertEquals(LOSS * 2, perExample.sum().item(), 1e-14);
  }

  @Test
  void nllLossIsFiniteWithMinusInfinityLogProbabilities() {
    Fn1 loss = z -> F.nllLoss(z.logSoftmax(-1), target());
    assertEquals(LOSS, loss.apply(logits()).item(), 1e-15);
    assertArrayEquals(GRAD, Func.grad(loss).apply(logits()).toDoubleArray(), 1e-15);
  }

  @Test
  void singleExampleWithMaskedLogit() {
    Fn1 loss = z -> F.crossEntropy(z, Tensor.scalar(2, DType.INT64));
    Tensor z = Tensor.of(NINF, 1.0, 0.0);
    assertEquals(1.3132616875182228, loss.apply(z).item(), 1e-15);
    assertArrayEquals(new double[] {0.0, 0.7310585786300049, -0.7310585786300049}, Func.grad(loss).apply(z).toDoubleArray(), 1e-15);
  }
}
