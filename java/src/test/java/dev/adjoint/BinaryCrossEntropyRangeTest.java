package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * binaryCrossEntropy refuses probabilities outside [0, 1] or NaN, as torch 1.13 does ("all elements
 * of input should be between 0 and 1"): logits passed by mistake gave a finite wrong loss
 * (-0.405 for p = 1.5, t = 1) or NaN. The check sees the values under every transform.
 */
class BinaryCrossEntropyRangeTest extends ScopedTest {

  private static void refused(org.junit.jupiter.api.function.Executable body, String value) {
    AdjointArgumentException e = assertThrowsExactly(AdjointArgumentException.class, body);
    assertEquals("binary_cross_entropy", e.op());
    assertTrue(e.getMessage().contains("between 0 and 1") && e.getMessage().contains("got " + value), e.getMessage());
  }

  @Test
  void outsideTheUnitIntervalIsAnError() {
    Tensor t = Tensor.of(1.0, 0.0);
    refused(() -> F.binaryCrossEntropy(Tensor.of(0.5, 1.5), t), "1.5");
    refused(() -> F.binaryCrossEntropy(Tensor.of(-0.25, 0.5), t), "-0.25");
    refused(() -> F.binaryCrossEntropy(Tensor.of(Double.NaN, 0.5), t), "nan");
    refused(() -> F.binaryCrossEntropy(Tensor.of(0.5f, 2f), Tensor.of(1f, 0f)), "2");
    // under transforms: the primal behind grad and jvp, every example behind vmap
    refused(() -> Func.grad((Fn1) p -> F.binaryCrossEntropy(p, t)).apply(Tensor.of(0.5, 1.5)), "1.5");
    refused(() -> Func.jvp((Fn1) p -> F.binaryCrossEntropy(p, t), Tensor.of(3.0, 0.5), Tensor.of(1.0, 1.0)), "3");
    refused(() -> Func.vmap((Fn1) p -> F.binaryCrossEntropy(p, Tensor.of(1.0))).apply(Tensor.of(0.5, 0.25, 7.0).reshape(3, 1)), "7");
  }

  @Test
  void theEndsAreAllowed() {
    // torch: -(1 * log(1) + 0) and the log clamped at -100
    assertEquals(0.0, F.binaryCrossEntropy(Tensor.of(1.0), Tensor.of(1.0)).item(), 0);
    assertEquals(100.0, F.binaryCrossEntropy(Tensor.of(0.0), Tensor.of(1.0)).item(), 0);
    assertEquals(50.0, F.binaryCrossEntropy(Tensor.of(0.0, 1.0), Tensor.of(1.0, 1.0)).item(), 0);
  }
}
