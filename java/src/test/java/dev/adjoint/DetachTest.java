package dev.adjoint;

import static dev.adjoint.CompositionTest.data;
import static dev.adjoint.CompositionTest.fdJac;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Tensor.detach (stop_gradient): no derivative at any level, still batched under vmap. Expected
 * values are closed forms of the function with the detached value held constant, or central
 * differences of that function written with a constant.
 */
class DetachTest extends ScopedTest {

  @AfterEach
  void checkClean() {
    assertEquals(0, NativeCore.adj_level_depth(), "a transform level leaked");
  }

  static void assertClose(Tensor want, Tensor got, double tol) {
    assertArrayEquals(want.shape(), got.shape(), "shape");
    assertArrayEquals(want.toDoubleArray(), got.toDoubleArray(), tol);
  }

  @Test
  void gradOfXTimesDetachedXIsX() {
    Tensor x = data(0.3, 5);
    Fn1 f = v -> v.mul(v.detach()).sum();
    assertClose(x, Func.grad(f).apply(x), 1e-12);
    // reverse and forward Jacobians agree with each other and with x -> x * c, c = x held constant
    Fn1 g = v -> v.mul(v.detach()).sin();
    Fn1 constant = v -> v.mul(x).sin();
    Tensor fd = fdJac(constant, x, 1e-6);
    assertClose(fd, Func.jacrev(g).apply(x), 1e-8);
    assertClose(fd, Func.jacfwd(g).apply(x), 1e-8);
    // hessian of sum(x^2 * detach(x)): 2 diag(x)
    Fn1 h = v -> v.mul(v).mul(v.detach()).sum();
    Tensor hess = Func.hessian(h).apply(x);
    double[] want = new double[25];
    double[] xv = x.toDoubleArray();
    for (int i = 0; i < 5; i++) want[i * 5 + i] = 2 * xv[i];
    assertArrayEquals(want, hess.toDoubleArray(), 1e-12);
  }

  @Test
  void jvpTangentOfDetachedValueIsZero() {
    Tensor x = data(0.7, 4), t = data(1.9, 4);
    Fn1 f = v -> v.detach().exp();
    JvpResult r = Func.jvp(f, x, t);
    assertClose(x.exp(), r.output(), 0);
    assertArrayEquals(new double[4], r.tangent().toDoubleArray(), 0);
    // the other operand still carries its tangent: d(x * detach(x)) = t * x
    assertClose(t.mul(x), Func.jvp(v -> v.mul(v.detach()), x, t).tangent(), 1e-12);
  }

  @Test
  void detachStaysBatchedUnderVmap() {
    Tensor xs = data(0.1, 3, 4);
    // a batched value stays batched (per row sums), and its derivative is dropped below the vmap
    Fn1 rows = v -> v.detach().mul(v.detach()).sum();
    assertClose(xs.mul(xs).sum(1), Func.vmap(rows).apply(xs), 1e-12);
    Fn1 f = v -> v.mul(v.detach()).sum();
    assertClose(xs, Func.vmap(Func.grad(f)).apply(xs), 1e-12);          // per example
    assertClose(xs, Func.grad((Tensor v) -> Func.vmap(f).apply(v).sum()).apply(xs), 1e-12);  // grad outside the vmap
    // per-example jacrev, checked against a loop of the constant-held function
    Fn1 g = v -> v.mul(v.detach()).tanh();
    Tensor j = Func.vmap(Func.jacrev(g)).apply(xs);
    for (int b = 0; b < 3; b++) {
      Tensor xb = xs.get(b);
      assertClose(fdJac(v -> v.mul(xb).tanh(), xb, 1e-6), j.get(b), 1e-8);
    }
  }

  @Test
  void detachOfAPlainTensorIsTheSameValues() {
    Tensor x = Tensor.of(1.0, 2.0, 3.0);
    Tensor d = x.detach();
    assertClose(x, d, 0);
    assertEquals(DType.FLOAT64, d.dtype());
    Tensor i = Tensor.of(1L, 2L).detach();
    assertEquals(DType.INT64, i.dtype());
    x.close();
    assertThrows(IllegalStateException.class, x::detach);
  }
}
