package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * jacrev, jacfwd and hessian of an {@link FnN} without argnums differentiate with respect to the
 * first argument, as {@code grad(FnN)} does (and torch.func's argnums=0): same results as
 * {@code argnums(0)}, checked against central differences; a one-argument lambda still picks the
 * {@link Fn1} overloads (no ambiguity).
 */
class FnNFirstArgumentTest extends ScopedTest {
  /** f(params, x) = sin(w * x) + b, params = [w [3], b [3]], x [3]: a vector output. */
  @SuppressWarnings("unchecked")
  private static final FnN F3 = a -> {
    List<Tensor> p = (List<Tensor>) a[0];
    return p.get(0).mul((Tensor) a[1]).sin().add(p.get(1));
  };

  private static final double[] W = {0.3, -1.1, 0.7}, B = {0.2, 0.0, -0.4}, X = {1.5, 0.4, -0.8};

  private static List<Tensor> params(double[] w) {
    return List.of(Tensor.fromArray(w, 3), Tensor.fromArray(B, 3));
  }

  @SuppressWarnings("unchecked")
  @Test
  void jacobiansAndHessianDefaultToTheFirstArgument() {
    Tensor x = Tensor.fromArray(X, 3);
    List<Tensor> jr = (List<Tensor>) jacrev(F3).apply(params(W), x);
    List<Tensor> jf = (List<Tensor>) jacfwd(F3).apply(params(W), x);
    List<Tensor> j0 = (List<Tensor>) jacrev(F3, argnums(0)).apply(params(W), x);
    assertEquals(2, jr.size());
    for (int k = 0; k < 2; k++) {
      assertArrayEquals(new long[] {3, 3}, jr.get(k).shape());
      assertArrayEquals(j0.get(k).toDoubleArray(), jr.get(k).toDoubleArray(), 0.0);
      assertArrayEquals(jr.get(k).toDoubleArray(), jf.get(k).toDoubleArray(), 1e-15);
    }
    // d f_i / d w_j by central differences: the first argument's Jacobian
    double h = 1e-6;
    double[] jw = jr.get(0).toDoubleArray();
    for (int j = 0; j < 3; j++) {
      double[] wp = W.clone(), wm = W.clone();
      wp[j] += h;
      wm[j] -= h;
      double[] fp = ((Tensor) F3.apply(params(wp), x)).toDoubleArray(), fm = ((Tensor) F3.apply(params(wm), x)).toDoubleArray();
      for (int i = 0; i < 3; i++) assertEquals((fp[i] - fm[i]) / (2 * h), jw[i * 3 + j], 1e-8, "d f_" + i + " / d w_" + j);
    }
    // the bias's Jacobian is the identity
    assertArrayEquals(Tensor.eye(3, 3, DType.FLOAT64).toDoubleArray(), jr.get(1).toDoubleArray(), 0.0);
  }

  @SuppressWarnings("unchecked")
  @Test
  void hessianOfAScalarFunctionOfAList() {
    FnN s = a -> ((Tensor) F3.apply(a)).sum();
    Tensor x = Tensor.fromArray(X, 3);
    // H[w][w] = diag(-x^2 sin(w x)); every block with b is zero
    List<Object> h = (List<Object>) hessian(s).apply(params(W), x);
    List<Tensor> hww = (List<Tensor>) h.get(0);
    double[] got = hww.get(0).toDoubleArray();
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++)
        assertEquals(i == j ? -X[i] * X[i] * Math.sin(W[i] * X[i]) : 0.0, got[i * 3 + j], 1e-15, "H_ww[" + i + "][" + j + "]");
    assertEquals(0.0, hww.get(1).abs().sum().item(), 0.0);
  }

  @Test
  void aOneArgumentLambdaStillPicksFn1() {
    Fn1 j = jacrev(t -> t.sin());  // compiles only if the Fn1 overload is the most specific
    Fn1 jf = jacfwd(t -> t.sin());
    Fn1 hs = hessian(t -> t.sin().sum());
    Tensor x = Tensor.fromArray(X, 3);
    assertArrayEquals(jf.apply(x).toDoubleArray(), j.apply(x).toDoubleArray(), 1e-15);
    assertEquals(-Math.sin(X[1]), hs.apply(x).toDoubleArray()[4], 1e-15);
  }
}
