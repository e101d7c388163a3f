package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The seed notebook ("Jacobians, Hessians, hvp, vhp, and more") in float32, with the notebook's
 * own assertions. Each step reads as the Python does.
 */
class NotebookTest extends ScopedTest {

  static Tensor predict(Tensor weight, Tensor bias, Tensor x) {
    return F.linear(x, weight, bias).tanh();
  }

  @Test
  void jacobianRowByRowEqualsVmapVjpEqualsJacrev() {
    Adjoint.manualSeed(0);
    int D = 16;
    Tensor weight = Tensor.randn(D, D), bias = Tensor.randn(D), x = Tensor.randn(D);

    // compute_jac: one vjp per unit vector (the "without vmap" loop)
    Tensor unitVectors = Tensor.eye(D);
    VjpResult v = vjp(xp -> predict(weight, bias, xp), x);
    List<Tensor> rows = new ArrayList<>();
    for (int i = 0; i < D; i++) rows.add(v.applyTensor(unitVectors.get(i)));
    Tensor jacobian = Tensor.stack(rows, 0);
    assertArrayEquals(new long[] {16, 16}, jacobian.shape());
    assertEquals("tensor([-0.5956, -0.6096, -0.1326, -0.2295,  0.4490,  0.3661, -0.1672, -1.1190,\n"
        + "         0.1705, -0.6683,  0.1851,  0.1630,  0.0634,  0.6547,  0.5908, -0.1308])", jacobian.get(0).toString());

    // ft_jacobian, = vmap(vjp_fn)(unit_vectors)
    Tensor ftJacobian = vmap(ct -> v.applyTensor(ct)).apply(unitVectors);
    assertTrue(ftJacobian.allclose(jacobian));

    // jacrev(predict, argnums=2)(weight, bias, x)
    Fn3 p = NotebookTest::predict;
    Tensor jr = jacrev(p, 2).apply(weight, bias, x);
    assertTrue(jr.allclose(jacobian));

    // jacrev w.r.t. weight and bias
    List<Tensor> wb = jacrev(p, argnums(0, 1)).applyTensors(weight, bias, x);
    assertArrayEquals(new long[] {16, 16, 16}, wb.get(0).shape());
    assertArrayEquals(new long[] {16, 16}, wb.get(1).shape());
  }

  @Test
  void jacfwdEqualsJacrevTallAndWide() {
    Adjoint.manualSeed(0);
    Fn3 p = NotebookTest::predict;
    for (int[] dims : new int[][] {{32, 2048}, {2048, 32}}) {
      int din = dims[0], dout = dims[1];
      Tensor weight = Tensor.randn(dout, din), bias = Tensor.randn(dout), x = Tensor.randn(din);
      Tensor fwd = jacfwd(p, 2).apply(weight, bias, x), rev = jacrev(p, 2).apply(weight, bias, x);
      assertArrayEquals(new long[] {dout, din}, fwd.shape());
      assertTrue(fwd.allclose(rev, 1e-5, 1e-6));
    }
  }

  @Test
  void hessianEqualsJacfwdJacfwd() {
    Adjoint.manualSeed(0);
    int din = 512, dout = 32;
    Tensor weight = Tensor.randn(dout, din), bias = Tensor.randn(dout), x = Tensor.randn(din);
    Fn3 p = NotebookTest::predict;
    Tensor hessApi = hessian(p, 2).apply(weight, bias, x);
    Tensor hessFwdFwd = jacfwd(jacfwd(p, 2), 2).apply(weight, bias, x);
    assertArrayEquals(new long[] {32, 512, 512}, hessApi.shape());
    assertTrue(hessApi.allclose(hessFwdFwd, 1e-5, 1e-6));
  }

  @Test
  void batchJacobianAndBatchHessian() {
    Adjoint.manualSeed(0);
    int batch = 64, din = 31, dout = 33;
    Tensor weight = Tensor.randn(dout, din), bias = Tensor.randn(dout), x = Tensor.randn(batch, din);
    Fn3 p = NotebookTest::predict;
    Tensor batchJacobian0 = vmap(jacrev(p, 2), inDims(null, null, 0)).apply(weight, bias, x);
    Fn3 summed = (w, b, xx) -> predict(w, b, xx).sum(0);
    Tensor batchJacobian1 = jacrev(summed, 2).apply(weight, bias, x).movedim(1, 0);
    assertArrayEquals(new long[] {64, 33, 31}, batchJacobian0.shape());
    assertTrue(batchJacobian0.allclose(batchJacobian1));

    Tensor batchHess = vmap(hessian(p, 2), inDims(null, null, 0)).apply(weight, bias, x);
    assertArrayEquals(new long[] {64, 33, 31, 31}, batchHess.shape());
  }

  @Test
  void hvpForwardOverReverseEqualsReverseOverReverse() {
    Adjoint.manualSeed(0);
    Fn1 f = x -> x.sin().sum();
    Tensor x = Tensor.randn(2048), tangent = Tensor.randn(2048);
    Tensor result = jvp(grad(f), x, tangent).tangent();
    Tensor resultRevRev = vjp(grad(f), x).applyTensor(tangent);
    assertTrue(result.allclose(resultRevRev));
    assertTrue(result.allclose(hvp(f, x, tangent)));
    assertTrue(resultRevRev.allclose(vhp(f, x, tangent)));
    // closed form: H = diag(-sin x)
    assertTrue(result.allclose(x.sin().neg().mul(tangent), 1e-5, 1e-6));
  }
}
