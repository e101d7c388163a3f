package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The roots' kinks at 0, with torch 1.13's zero subgradient (values from it, float64) where the
 * plain power rule gave 0 * inf = NaN: std of a constant slice (torch's std_backward masks a zero
 * result), and p-norms with p &lt; 1 at a zero element (torch masks |x|^(p-1) at x = 0). Second
 * derivatives there are 0 too (torch's are NaN for the norm, 0 for std); elsewhere they match torch.
 */
class RootKinksTest extends ScopedTest {

  private static void assertNoNaN(Tensor t) {
    assertFalse(Arrays.stream(t.toDoubleArray()).anyMatch(Double::isNaN), () -> "NaN in " + t);
  }

  @Test
  void stdOfAConstantSliceHasZeroDerivatives() {
    Tensor x = Tensor.of(new double[][] {{1, 1, 1}, {1, 3, 2}});
    Fn1 f = v -> v.std(1).sum();
    double[] grad = {0, 0, 0, -0.5, 0.5, 0};
    assertArrayEquals(grad, Func.grad(f).apply(x).toDoubleArray(), 1e-15);
    assertArrayEquals(grad, Func.jacfwd(f).apply(x).toDoubleArray(), 1e-15);
    Tensor h = Func.hessian(f).apply(x).reshape(6, 6);
    assertNoNaN(h);
    assertArrayEquals(new double[9], h.slice(0, 0, 3).slice(1, 0, 3).contiguous().toDoubleArray(), 0);
    double[] h2 = {1 / 12.0, 1 / 12.0, -1 / 6.0, 1 / 12.0, 1 / 12.0, -1 / 6.0, -1 / 6.0, -1 / 6.0, 1 / 3.0};
    assertArrayEquals(h2, h.slice(0, 3, 6).slice(1, 3, 6).contiguous().toDoubleArray(), 1e-14);
    // per row under vmap: the constant row's gradient is 0 too
    Tensor perRow = Func.vmap(Func.grad((Fn1) v -> v.std(0))).apply(x);
    assertArrayEquals(grad, perRow.toDoubleArray(), 1e-15);
    // float32 as well
    assertArrayEquals(new float[] {0, 0, 0}, Func.grad((Fn1) v -> v.std(0)).apply(Tensor.of(2f, 2f, 2f)).toFloatArray(), 0);
  }

  @Test
  void pNormBelowOneHasZeroSubgradientAtZero() {
    Tensor x = Tensor.of(0.0, 1.0, 4.0);
    double[] grad = {0, 3, 1.5};
    // torch's Hessian: column 0 NaN, the rest below; here 0 in row and column 0
    double[] hess = {0, 0, 0, 0, -1, 0.25, 0, 0.25, -0.0625};
    for (Fn1 f : new Fn1[] {v -> v.norm(0.5, 0, false), v -> Linalg.vectorNorm(v, 0.5, null, false)}) {
      assertArrayEquals(grad, Func.grad(f).apply(x).toDoubleArray(), 1e-14);
      assertArrayEquals(grad, Func.jacfwd(f).apply(x).toDoubleArray(), 1e-14);
      assertArrayEquals(hess, Func.hessian(f).apply(x).toDoubleArray(), 1e-14);
      assertArrayEquals(hess, Func.jacrev(Func.jacrev(f)).apply(x).toDoubleArray(), 1e-14);
    }
    // the all-zero vector: value and gradient 0
    assertArrayEquals(new double[3], Func.grad((Fn1) v -> v.norm(0.5, 0, false)).apply(Tensor.zeros(DType.FLOAT64, 3)).toDoubleArray(), 0);
  }
}
