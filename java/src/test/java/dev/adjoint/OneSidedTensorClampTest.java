package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * clamp(Tensor, Tensor) with one bound null, as torch's {@code torch.clamp(x, None, hi)} and
 * {@code torch.clamp(x, lo, None)} (values and gradients from torch 1.13): it was a
 * NullPointerException. Both null is an error naming clamp, as in torch.
 */
class OneSidedTensorClampTest extends ScopedTest {

  private static final Tensor X = Tensor.of(1.0, 2.0, 3.0).keep();
  private static final Tensor B = Tensor.of(2.5, 2.0, 1.0).keep();

  @Test
  void upperOnly() {
    assertArrayEquals(new double[] {1, 2, 1}, X.clamp(null, B).toDoubleArray(), 0);
    Fn2 f = (x, hi) -> x.clamp(null, hi).sum();
    assertArrayEquals(new double[] {1, 1, 0}, Func.grad(f, 0).apply(X, B).toDoubleArray(), 0);
    assertArrayEquals(new double[] {0, 0, 1}, Func.grad(f, 1).apply(X, B).toDoubleArray(), 0);
  }

  @Test
  void lowerOnly() {
    assertArrayEquals(new double[] {2.5, 2, 3}, X.clamp(B, null).toDoubleArray(), 0);
    Fn2 f = (x, lo) -> x.clamp(lo, null).sum();
    assertArrayEquals(new double[] {0, 1, 1}, Func.grad(f, 0).apply(X, B).toDoubleArray(), 0);
    assertArrayEquals(new double[] {1, 0, 0}, Func.grad(f, 1).apply(X, B).toDoubleArray(), 0);
    // under vmap, the bound batched
    Tensor bs = Tensor.stack(java.util.List.of(B, B.add(1.0)), 0);
    Tensor got = Func.vmap((Fn1) lo -> X.clamp(lo, null)).apply(bs);
    assertArrayEquals(new double[] {2.5, 2, 3, 3.5, 3, 3}, got.toDoubleArray(), 0);
  }

  @Test
  void noBoundIsAnError() {
    AdjointArgumentException e = assertThrows(AdjointArgumentException.class, () -> X.clamp((Tensor) null, null));
    assertTrue(e.getMessage().startsWith("clamp:"), e.getMessage());
  }
}
