package dev.adjoint;

import static dev.adjoint.CompositionTest.H2;
import static dev.adjoint.CompositionTest.TOL1;
import static dev.adjoint.CompositionTest.TOL2;
import static dev.adjoint.CompositionTest.assertClose;
import static dev.adjoint.CompositionTest.data;
import static dev.adjoint.CompositionTest.fdJac;
import static dev.adjoint.Func.argnums;
import static dev.adjoint.Func.grad;
import static dev.adjoint.Func.hessian;
import static dev.adjoint.Func.inDims;
import static dev.adjoint.Func.jacfwd;
import static dev.adjoint.Func.jacrev;
import static dev.adjoint.Func.vmap;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Convolution, pooling and padding under every transform, in float64: gradients against central
 * finite differences, jacfwd == jacrev, hessians against differences of the gradient, vmap (of
 * the op and of its gradient) against a loop, batched weights (the groups rule) included; and the
 * errors a user meets, each naming the op and the shapes.
 */
class ConvTransformsTest extends ScopedTest {

  @AfterEach
  void checkClean() {
    assertEquals(0, dev.adjoint.internal.NativeCore.adj_level_depth(), "a transform level leaked");
  }

  private static final int[] STRIDE = {2, 1}, PAD = {1, 0}, DIL = {1, 2};

  /** A grouped, strided, dilated, padded convolution with bias: every geometry parameter in play. */
  private static Tensor general(Tensor x, Tensor w, Tensor b) {
    return F.conv2d(x, w, b, STRIDE, PAD, DIL, 2);
  }

  /** d sum(u * f(x)) / dx by central differences. */
  private static Tensor fdGrad(Fn1 f, Tensor x, Tensor u) {
    return fdJac(y -> f.apply(y).mul(u).sum(), x, 1e-6);
  }

  private static void checkGrad(Fn1 f, Tensor x, String what) {
    Tensor u = data(7.0, f.apply(x).shape());
    assertClose(fdGrad(f, x, u), grad(y -> f.apply(y).mul(u).sum()).apply(x), TOL1, what);
  }

  @Test
  void conv2dGradientsMatchFiniteDifferences() {
    Tensor x = data(1.0, 2, 4, 7, 6), w = data(2.0, 6, 2, 3, 2), b = data(3.0, 6);
    checkGrad(xx -> general(xx, w, b), x, "d/dx");
    checkGrad(ww -> general(x, ww, b), w, "d/dw");
    checkGrad(bb -> general(x, w, bb), b, "d/db");
    Tensor xu = data(4.0, 3, 6, 6), wu = data(5.0, 2, 3, 3, 3);  // unbatched, the short form
    checkGrad(xx -> F.conv2d(xx, wu, null, 2, 1), xu, "unbatched d/dx");
    checkGrad(ww -> F.conv2d(xu, ww, null, 2, 1), wu, "unbatched d/dw");
  }

  @Test
  void conv1dGradientsMatchFiniteDifferences() {
    Tensor x = data(1.5, 2, 4, 9), w = data(2.5, 6, 2, 3), b = data(3.5, 6);
    checkGrad(xx -> F.conv1d(xx, w, b, 2, 1, 2, 2), x, "conv1d d/dx");
    checkGrad(ww -> F.conv1d(x, ww, b, 2, 1, 2, 2), w, "conv1d d/dw");
    Tensor xu = data(4.5, 3, 8), wu = data(5.5, 2, 3, 4);
    checkGrad(xx -> F.conv1d(xx, wu, null, 1, 2), xu, "unbatched conv1d d/dx");
  }

  @Test
  void poolingAndPaddingGradientsMatchFiniteDifferences() {
    Tensor x = data(1.25, 2, 3, 7, 6);  // distinct values: no ties in max pooling's windows
    checkGrad(xx -> F.maxPool2d(xx, 2), x, "maxPool2d");
    checkGrad(xx -> F.maxPool2d(xx, 3, 2), x, "maxPool2d overlapping");
    checkGrad(xx -> F.avgPool2d(xx, 2), x, "avgPool2d");
    checkGrad(xx -> F.avgPool2d(xx.get(0), 3), x, "avgPool2d unbatched");
    checkGrad(xx -> F.pad(xx, 1, 2, -1, 1), x, "pad");
  }

  @Test
  void jacobiansAndHessiansAgree() {
    Tensor x = data(1.0, 1, 4, 5, 4), w = data(2.0, 6, 2, 3, 2), b = data(3.0, 6);
    Fn1 byW = ww -> general(x, ww, b).tanh();
    assertClose(jacrev(byW).apply(w), jacfwd(byW).apply(w), 1e-12, "conv2d jacfwd == jacrev (weight)");
    Fn1 byX = xx -> general(xx, w, b).tanh();
    assertClose(fdJac(byX, x, 1e-6), jacrev(byX).apply(x), TOL1, "conv2d jacrev vs FD (input)");
    assertClose(jacrev(byX).apply(x), jacfwd(byX).apply(x), 1e-12, "conv2d jacfwd == jacrev (input)");
    // second order: the derivative rules of the input and weight gradients are convolutions too
    Fn1 energy = ww -> general(x, ww, b).tanh().sum();
    assertClose(fdJac(grad(energy), w, H2), hessian(energy).apply(w), TOL2, "conv2d hessian (weight)");
    Fn1 energyX = xx -> F.maxPool2d(general(xx, w, b).tanh(), 2).sum();
    assertClose(fdJac(grad(energyX), x, H2), hessian(energyX).apply(x), TOL2, "conv2d + maxPool2d hessian (input)");
    Fn1 pooled = xx -> F.avgPool2d(F.pad(xx, 1, 1, 1, 1), 2).sin();
    assertClose(jacrev(pooled).apply(x), jacfwd(pooled).apply(x), 1e-12, "pad + avgPool2d jacfwd == jacrev");
  }

  /** vmap over every combination of batched operands equals the loop over the examples. */
  @Test
  void vmapEqualsLoop() {
    Tensor xs = data(1.0, 3, 2, 4, 7, 6), ws = data(2.0, 3, 6, 2, 3, 2), b = data(3.0, 6);
    Fn2 f = (x, w) -> general(x, w, b);
    for (Object[] dims : new Object[][] {{0, null}, {null, 0}, {0, 0}}) {
      Tensor got = vmap(f, inDims(dims)).apply(dims[0] == null ? xs.get(0) : xs, dims[1] == null ? ws.get(0) : ws);
      List<Tensor> rows = new ArrayList<>();
      for (int i = 0; i < 3; i++) rows.add(f.apply(dims[0] == null ? xs.get(0) : xs.get(i), dims[1] == null ? ws.get(0) : ws.get(i)));
      assertClose(Tensor.stack(rows, 0), got, 1e-12, "vmap conv2d, in dims " + java.util.Arrays.toString(dims));
    }
    // per-example gradients with respect to the weight: the batched weight-gradient rule (groups)
    Fn2 loss = (w, x) -> general(x, w, b).tanh().sum();
    Tensor got = vmap(grad(loss), inDims(0, 0)).apply(ws, xs);
    List<Tensor> rows = new ArrayList<>();
    for (int i = 0; i < 3; i++) rows.add(grad(loss).apply(ws.get(i), xs.get(i)));
    assertClose(Tensor.stack(rows, 0), got, 1e-12, "vmap(grad) conv2d with per-example weights");
    Tensor sig = data(4.0, 3, 2, 4, 9), w1 = data(5.0, 6, 2, 3);
    Fn1 c1 = s -> F.conv1d(s, w1, null, 2, 1, 2, 2).relu();
    rows.clear();
    for (int i = 0; i < 3; i++) rows.add(c1.apply(sig.get(i)));
    assertClose(Tensor.stack(rows, 0), vmap(c1).apply(sig), 1e-12, "vmap conv1d");
    Fn1 pools = x -> F.pad(F.maxPool2d(x, 2).add(F.avgPool2d(x, 2)), 0, 1, 2, 0);
    rows.clear();
    for (int i = 0; i < 3; i++) rows.add(pools.apply(xs.get(i)));
    assertClose(Tensor.stack(rows, 0), vmap(pools).apply(xs), 1e-12, "vmap maxPool2d + avgPool2d + pad");
    Fn1 poolGrad = grad(x -> F.maxPool2d(x, 3, 2).mul(F.maxPool2d(x, 3, 2)).sum());
    rows.clear();
    for (int i = 0; i < 3; i++) rows.add(poolGrad.apply(xs.get(i)));
    assertClose(Tensor.stack(rows, 0), vmap(poolGrad).apply(xs), 1e-12, "vmap(grad) maxPool2d");
  }

  /** A small CNN's per-sample gradients: vmap(grad) == the loop of grad calls, and FD on entries. */
  @Test
  void perSampleCnnGradients() {
    Tensor w1 = data(1.0, 4, 1, 3, 3).mul(0.5), b1 = data(2.0, 4), w2 = data(3.0, 6, 4, 3, 3).mul(0.3), b2 = data(4.0, 6);
    Tensor wl = data(5.0, 10, 24).mul(0.2), bl = data(6.0, 10);
    Tensor xs = data(7.0, 5, 1, 8, 8), ys = Tensor.fromArray(new long[] {3, 1, 4, 1, 5}, 5);
    FnN loss = a -> {
      Tensor x = (Tensor) a[6];  // one example [1, 8, 8]
      Tensor h = F.maxPool2d(F.conv2d(x, (Tensor) a[0], (Tensor) a[1], 1, 1).relu(), 2);
      h = F.maxPool2d(F.conv2d(h, (Tensor) a[2], (Tensor) a[3], 1, 1).relu(), 2);
      return F.crossEntropy(F.linear(h.flatten(), (Tensor) a[4], (Tensor) a[5]), (Tensor) a[7]);
    };
    FnN g = grad(loss, argnums(0, 1, 2, 3, 4, 5));
    @SuppressWarnings("unchecked")
    List<Tensor> batched = (List<Tensor>) vmap(g, inDims(null, null, null, null, null, null, 0, 0)).apply(w1, b1, w2, b2, wl, bl, xs, ys);
    Tensor[] params = {w1, b1, w2, b2, wl, bl};
    for (int i = 0; i < 5; i++) {
      @SuppressWarnings("unchecked")
      List<Tensor> one = (List<Tensor>) g.apply(w1, b1, w2, b2, wl, bl, xs.get(i), ys.get(i));
      for (int p = 0; p < 6; p++) assertClose(one.get(p), batched.get(p).get(i), 1e-12, "example " + i + " parameter " + p);
    }
    // central differences of example 2's loss in the first conv's weight
    final int ex = 2;
    Fn1 byW1 = w -> (Tensor) loss.apply(w, b1, w2, b2, wl, bl, xs.get(ex), ys.get(ex));
    assertClose(fdJac(byW1, w1, 1e-6), batched.get(0).get(ex), TOL1, "example 2, d loss / d w1 vs FD");
  }

  // ------------------------------------------------------------------ errors

  private static void assertMessage(Class<? extends RuntimeException> type, Executable call, String... parts) {
    RuntimeException e = assertThrows(type, call);
    for (String p : parts) assertTrue(e.getMessage().contains(p), () -> "message lacks \"" + p + "\": " + e.getMessage());
  }

  @Test
  void errorsNameTheOpAndShapes() {
    Tensor x = data(1.0, 2, 3, 5, 5), w = data(2.0, 4, 3, 3, 3);
    assertMessage(ShapeMismatchException.class, () -> F.conv2d(x, data(2.0, 4, 2, 3, 3), null, 1, 0),
        "conv2d", "[2, 3, 5, 5]", "[4, 2, 3, 3]", "3 channels", "expects 2");
    assertMessage(ShapeMismatchException.class, () -> F.conv2d(data(1.0, 2, 4, 5, 5), data(2.0, 3, 2, 3, 3), null, new int[] {1}, new int[] {0}, new int[] {1}, 2),
        "conv2d", "[3, 2, 3, 3]", "not divisible by groups = 2");
    assertMessage(ShapeMismatchException.class, () -> F.conv2d(data(1.0, 1, 3, 2, 2), w, null, 1, 0), "conv2d", "too small", "[1, 3, 2, 2]");
    assertMessage(ShapeMismatchException.class, () -> F.conv2d(data(1.0, 3, 5), w, null, 1, 0), "conv2d", "3-D (unbatched) or 4-D", "[3, 5]");
    assertMessage(ShapeMismatchException.class, () -> F.conv2d(x, data(2.0, 4, 3, 3), null, 1, 0), "conv2d", "4-D weight", "[4, 3, 3]");
    assertMessage(ShapeMismatchException.class, () -> F.conv2d(x, w, data(3.0, 5), 1, 0), "conv2d", "bias [5]", "4");
    assertMessage(AdjointArgumentException.class, () -> F.conv2d(x, w, null, 0, 0), "conv2d", "stride must be positive, got 0");
    assertMessage(AdjointArgumentException.class, () -> F.conv2d(x, w, null, 1, -1), "conv2d", "padding must be non-negative, got -1");
    assertMessage(AdjointArgumentException.class, () -> F.conv2d(x, w, null, new int[] {1, 1, 1}, new int[] {0}, new int[] {1}, 1),
        "conv2d", "stride must have 1 or 2 entries");
    assertMessage(AdjointArgumentException.class, () -> F.conv2d(x, w, null, new int[] {1}, new int[] {0}, new int[] {0}, 1),
        "conv2d", "dilation must be positive");
    assertMessage(AdjointArgumentException.class, () -> F.conv2d(x, w, null, new int[] {1}, new int[] {0}, new int[] {1}, 0),
        "conv2d", "groups must be positive");
    assertMessage(DTypeMismatchException.class, () -> F.conv2d(x, w.to(DType.FLOAT32), null, 1, 0), "conv2d", "float64", "float32");
    assertMessage(DTypeMismatchException.class, () -> F.conv2d(x.to(DType.INT64), w.to(DType.INT64), null, 1, 0), "conv2d", "int64");
    assertMessage(ShapeMismatchException.class, () -> F.conv1d(data(1.0, 2, 3, 4), data(2.0, 4, 3, 5), null, 1, 0),
        "conv1d", "[2, 3, 4]", "[4, 3, 5]", "too small");
    assertMessage(ShapeMismatchException.class, () -> F.maxPool2d(data(1.0, 1, 1, 1, 1), 2), "max_pool2d", "[1, 1, 1, 1]", "2 x 2");
    assertMessage(AdjointArgumentException.class, () -> F.maxPool2d(x, 0), "max_pool2d", "kernel size must be positive");
    assertMessage(ShapeMismatchException.class, () -> F.avgPool2d(data(1.0, 5, 5), 2), "avg_pool2d", "[5, 5]");
    assertMessage(AdjointArgumentException.class, () -> F.pad(x, 1, 2, 3), "pad", "even number");
    assertMessage(AdjointArgumentException.class, () -> F.pad(data(1.0, 3), 1, 1, 1, 1), "pad", "covers 2 dims", "[3]");
    assertMessage(AdjointArgumentException.class, () -> F.pad(data(1.0, 3), -2, -2), "pad", "leaves dim 0 with size -1");
    assertMessage(AdjointArgumentException.class, () -> F.pad(data(1.0, 2), -3, 1), "pad", "removes 3 elements of dim 0");
    // under vmap, the per-example shapes are the ones named
    assertMessage(ShapeMismatchException.class, () -> vmap(xx -> F.conv2d(xx, data(2.0, 4, 2, 3, 3), null, 1, 0)).apply(x),
        "conv2d", "[3, 5, 5]");
  }
}
