package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Errors a user can act on: a shape error inside vmap names the per-example shapes the user wrote
 * (the batched ones only as a hint), and class losses with targets out of range throw like torch's
 * "Target 5 is out of bounds", also under vmap and grad, where the targets are still concrete.
 */
class ActionableErrorsTest extends ScopedTest {

  @AfterEach
  void levelsEnded() {
    assertEquals(0, NativeCore.adj_level_depth(), "transform levels left on this thread's stack");
  }

  private static <T extends Throwable> String message(Class<T> type, Executable body, String... fragments) {
    String msg = assertThrowsExactly(type, body).getMessage();
    for (String f : fragments) assertTrue(msg.contains(f), () -> "message lacks '" + f + "': " + msg);
    return msg;
  }

  // ------------------------------------------------------------------ shapes inside vmap

  @Test
  void vmapShapeErrorNamesPerExampleShapes() {
    Tensor y = Tensor.zeros(4);
    Fn1 f = x -> x.add(y);
    String m = message(ShapeMismatchException.class, () -> vmap(f).apply(Tensor.zeros(5, 3)),
        "add: shapes [3] and [4] cannot be broadcast (dim 0: 3 vs 4)", "(inside vmap over a batch of 5; the batched shapes are [5, 3] and [4])");
    assertTrue(m.startsWith("add: shapes [3] and [4]"), m);
    // mapped over another dim, both inputs batched
    Fn2 g = (a, b) -> a.mul(b);
    message(ShapeMismatchException.class, () -> vmap(g, inDims(1, 0)).apply(Tensor.zeros(3, 2), Tensor.zeros(2, 4)),
        "mul: shapes [3] and [4] cannot be broadcast");
    // nested: the innermost function's view
    Fn1 inner = x -> x.sub(y);
    Fn1 outer = vmap(inner);
    message(ShapeMismatchException.class, () -> vmap(outer).apply(Tensor.zeros(3, 2, 5)),
        "sub: shapes [5] and [4] cannot be broadcast", "the batched shapes are [2, 5] and [4]");
    // a per-example reshape that cannot fit
    Fn1 r = x -> x.reshape(4, 2);
    message(ShapeMismatchException.class, () -> vmap(r).apply(Tensor.zeros(7, 6)),
        "reshape: shape [4, 2] is invalid for input of shape [6]", "the batched shape is [7, 6]");
    // under grad inside vmap (per-sample gradients), the same
    Fn1 loss = x -> x.add(y).sum();
    message(ShapeMismatchException.class, () -> vmap(grad(loss)).apply(Tensor.zeros(5, 3)), "add: shapes [3] and [4] cannot be broadcast");
  }

  // ------------------------------------------------------------------ class targets

  @Test
  void targetsOutOfRangeThrowLikeTorch() {
    Tensor z = Tensor.of(new double[][] {{1.0, 2.0, 0.5}, {-1.0, 0.0, 3.0}});
    message(InvalidIndexException.class, () -> F.crossEntropy(z, Tensor.of(0L, 5L)),
        "crossEntropy: target 5 is out of bounds for 3 classes", "[0, 3)", "at flat index 1 of target [2]");
    message(InvalidIndexException.class, () -> F.crossEntropy(z, Tensor.of(-1L, 0L)), "crossEntropy: target -1 is out of bounds for 3 classes");
    message(InvalidIndexException.class, () -> F.crossEntropy(z, Tensor.of(3L, 0L)), "target 3 is out of bounds");
    message(InvalidIndexException.class, () -> F.nllLoss(z.logSoftmax(-1), Tensor.of(1L, 7L)), "nllLoss: target 7 is out of bounds for 3 classes");
    message(InvalidIndexException.class, () -> F.nllLoss(z, Tensor.of(-100L, 0L)), "ignore_index (-100) is not supported");
    message(InvalidIndexException.class, () -> F.crossEntropy(z.get(0), Tensor.scalar(3, DType.INT64)), "target 3 is out of bounds for 3 classes");
    InvalidIndexException e = assertThrows(InvalidIndexException.class, () -> F.crossEntropy(z, Tensor.of(0L, 5L)));
    assertEquals("crossEntropy", e.op());
    // in range: no error, torch's numbers
    assertEquals(Math.log(Math.exp(1.0) + Math.exp(2.0) + Math.exp(0.5)) - 2.0, F.crossEntropy(z.get(0), Tensor.scalar(1, DType.INT64)).item(), 1e-15);
  }

  @Test
  void targetsAreCheckedUnderTransforms() {
    Tensor w = Tensor.of(new double[][] {{0.1, 0.2}, {0.3, -0.1}, {0.0, 0.5}}), xs = Tensor.of(new double[][] {{1, 2}, {3, 4}, {5, 6}});
    Fn3 perExample = (ww, x, t) -> F.crossEntropy(x.linear(ww, null), t);  // logits [3], 0-d target
    // per-sample gradients: the targets are batched; the bad one is in example 2
    Tensor bad = Tensor.of(0L, 2L, 3L), good = Tensor.of(0L, 2L, 1L);
    message(InvalidIndexException.class, () -> vmap(grad(perExample, 0), inDims(null, 0, 0)).apply(w, xs, bad),
        "crossEntropy: target 3 is out of bounds for 3 classes");
    Tensor g = vmap(grad(perExample, 0), inDims(null, 0, 0)).apply(w, xs, good);
    assertArrayEquals(new long[] {3, 3, 2}, g.shape());
    // under grad and jacrev the targets are constants
    Fn1 batchLoss = ww -> F.nllLoss(xs.linear(ww, null).logSoftmax(-1), Tensor.of(1L, 1L, -2L));
    message(InvalidIndexException.class, () -> grad(batchLoss).apply(w), "nllLoss: target -2 is out of bounds");
    message(InvalidIndexException.class, () -> jacrev(batchLoss).apply(w), "nllLoss: target -2 is out of bounds");
    // a target computed inside the transformed function (from a comparison) is checked too
    Fn1 derived = ww -> F.crossEntropy(xs.linear(ww, null), xs.select(1, 0).gt(2.0).to(DType.INT64).mul(3L));
    message(InvalidIndexException.class, () -> grad(derived).apply(w), "target 3 is out of bounds");
  }

  @Test
  void nllLossMatchesItsDefinition() {
    Tensor lp = Tensor.of(new double[][] {{-0.5, -1.5, -2.0}, {-3.0, -0.1, -0.7}});
    assertEquals(-(-2.0 + -0.1) / 2, F.nllLoss(lp, Tensor.of(2L, 1L)).item(), 1e-15);
    Tensor z = Tensor.of(new double[][] {{1.0, 2.0, 0.5}, {-1.0, 0.0, 3.0}});
    Tensor t = Tensor.of(2L, 0L);
    assertEquals(F.crossEntropy(z, t).item(), F.nllLoss(z.logSoftmax(-1), t).item(), 1e-15);
    assertEquals(0, F.nllLoss(lp.get(0), Tensor.scalar(0, DType.INT64)).ndim());
    // gradient: d/dlp = -onehot / N
    Fn1 f = v -> F.nllLoss(v, Tensor.of(2L, 1L));
    assertArrayEquals(new double[] {0, 0, -0.5, 0, -0.5, 0}, grad(f).apply(lp).toDoubleArray(), 0.0);
    message(ShapeMismatchException.class, () -> F.nllLoss(lp, Tensor.of(0L)), "nllLoss: expects input [N, C] with target [N]");
    message(DTypeMismatchException.class, () -> F.nllLoss(lp, Tensor.of(0.0, 1.0)), "nllLoss: target must be int64");
    for (Tensor bad : List.of(Tensor.of(0L, 3L), Tensor.of(-1L, 0L)))
      assertThrows(InvalidIndexException.class, () -> F.nllLoss(lp, bad));
  }
}
