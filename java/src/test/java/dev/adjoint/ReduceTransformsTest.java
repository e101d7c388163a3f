package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Tensor's reductions with positions, scans and sorting beyond the torch reference: Hessians with
 * zeros in products against closed forms and finite differences, the gradient rules of max(dim)
 * and sort under vmap, and the errors bad arguments get.
 */
class ReduceTransformsTest {
  @Test
  void prodHessianWithZerosIsTheProductOfTheOthers() {
    // H[i][j] = prod over k != i, j of x_k (i != j), 0 on the diagonal: with one zero and with two.
    for (double[] xv : new double[][] {{2, 0, -3, 0.5}, {0, 1.5, 0, -2}, {1.5, -2, 0.25, 4}}) {
      try (Scope s = Scope.open()) {
        Tensor x = Tensor.fromArray(xv, 4);
        double[] h = hessian((Fn1) v -> v.prod()).apply(x).toDoubleArray();
        double[] g = grad((Fn1) v -> v.prod()).apply(x).toDoubleArray();
        for (int i = 0; i < 4; i++) {
          double gi = 1;
          for (int k = 0; k < 4; k++) if (k != i) gi *= xv[k];
          assertEquals(gi, g[i], 1e-12, "grad " + i);
          for (int j = 0; j < 4; j++) {
            double want = 0;
            if (i != j) {
              want = 1;
              for (int k = 0; k < 4; k++) if (k != i && k != j) want *= xv[k];
            }
            assertEquals(want, h[i * 4 + j], 1e-12, "H[" + i + "," + j + "] at " + java.util.Arrays.toString(xv));
          }
        }
      }
    }
  }

  @Test
  void secondDerivativesMatchFiniteDifferences() {
    Tensor w = Tensor.of(0.5, -1.0, 2.0, 0.25, 1.5);
    Map<String, Fn1> smooth = Map.of(
        "cumprod", v -> v.cumprod(0).mul(w).sum(),
        "cumsum", v -> v.cumsum(0).mul(v).sum(),
        "logcumsumexp", v -> v.logcumsumexp(0).mul(w).sum(),
        "prod", v -> v.prod(0).mul(v.sum()));
    // products with two zeros and with none
    for (double[] xv : new double[][] {{-2.5, 0, 0.4, 0, 3.1}, {-2.5, -0.3, 0.4, 1.7, 3.1}})
      smooth.forEach((name, f) -> NnTransformsTest.hessianMatchesFd(name, f, Tensor.fromArray(xv, 5)));
    // selections: piecewise smooth, sampled away from ties
    Map<String, Fn1> selecting = Map.of(
        "sort", v -> v.sort(0, true).values().mul(w).mul(v.sort(0).values()).sum(),
        "topk", v -> v.topk(2, 0).values().square().sum(),
        "max", v -> v.max(0).values().mul(v.sum()));
    Tensor x = Tensor.of(-2.5, -0.3, 0.4, 1.7, 3.1);
    selecting.forEach((name, f) -> NnTransformsTest.hessianMatchesFd(name, f, x));
  }

  @Test
  void maxGradientReachesTheFirstOfTiedMaximaWhereAmaxSharesIt() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.fromArray(new double[] {1, 3, 3, 0, 2, 2, 2, -1}, 2, 4);
      assertArrayEquals(new double[] {0, 1, 0, 0, 1, 0, 0, 0}, grad((Fn1) v -> v.max(1).values().sum()).apply(x).toDoubleArray());
      assertArrayEquals(new double[] {0, 0.5, 0.5, 0, 1 / 3.0, 1 / 3.0, 1 / 3.0, 0},
          grad((Fn1) v -> v.amax(1).sum()).apply(x).toDoubleArray(), 1e-15);
      assertArrayEquals(new double[] {0, 0, 0, 1, 0, 0, 0, 1}, grad((Fn1) v -> v.min(1).values().sum()).apply(x).toDoubleArray());
      // per-example gradients: vmap of grad equals the loop
      Tensor batched = vmap(grad((Fn1) v -> v.max(0).values())).apply(x);
      assertArrayEquals(new double[] {0, 1, 0, 0, 1, 0, 0, 0}, batched.toDoubleArray());
    }
  }

  @Test
  void sortGradientScattersToTheSourcePositionsUnderVmap() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.fromArray(new double[] {3, 1, 2, 0.5, -1, 4}, 2, 3);
      Tensor wts = Tensor.of(1.0, 10.0, 100.0);
      // d/dx of sum(sorted * w): each element gets the weight of the place it moved to
      Tensor g = vmap(grad((Fn1) v -> v.sort(0).values().mul(wts).sum())).apply(x);
      assertArrayEquals(new double[] {100, 1, 10, 10, 1, 100}, g.toDoubleArray());
      Tensor gk = grad((Fn1) v -> v.topk(1, 1).values().sum()).apply(x);
      assertArrayEquals(new double[] {1, 0, 0, 0, 0, 1}, gk.toDoubleArray());
      Tensor idx = vmap((Fn1) v -> v.sort(0, true).indices()).apply(x);
      assertArrayEquals(new long[] {0, 2, 1, 2, 0, 1}, idx.toLongArray());
    }
  }

  @Test
  void scansAreStable() {
    try (Scope s = Scope.open()) {
      double inf = Double.POSITIVE_INFINITY;
      Tensor x = Tensor.of(-inf, -inf, 1000.0, -inf, 1000.0);
      assertArrayEquals(new double[] {-inf, -inf, 1000, 1000, 1000 + Math.log(2)}, x.logcumsumexp(0).toDoubleArray(), 1e-12);
      // where every entry so far is -inf the gradient is 0, not NaN
      double[] g = grad((Fn1) v -> v.logcumsumexp(0).sum()).apply(x).toDoubleArray();
      assertArrayEquals(new double[] {0, 0, 2.5, 0, 0.5}, g, 1e-12);
      Tensor f = Tensor.fromArray(new float[] {1e30f, 1e30f, -1e30f}, 3);
      assertArrayEquals(new float[] {1e30f, 2e30f, 1e30f}, f.cumsum(0).toFloatArray());
    }
  }

  @Test
  void badArgumentsNameTheOpTheDimAndTheShape() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.zeros(2, 3);
      Tensor empty = Tensor.zeros(2, 0);
      Map<String, Runnable> bad = Map.of(
          "cumsum: dim 2 out of range for shape [2, 3]", () -> x.cumsum(2),
          "max: cannot reduce over dim 1 of size 0 (shape [2, 0])", () -> empty.max(1),
          "argmin: cannot reduce over dim 1 of size 0 (shape [2, 0])", () -> empty.argmin(-1),
          "argmax: an empty tensor (shape [2, 0]) has no extreme", () -> empty.argmax(),
          "topk: k = 4 out of range for dim 1 of size 3 (shape [2, 3])", () -> x.topk(4, 1),
          "topk: k = -1 out of range", () -> x.topk(-1, 0),
          "sort: dim -3 out of range for shape [2, 3]", () -> x.sort(-3, false),
          "prod: dim 5 out of range for shape [2, 3]", () -> x.prod(5));
      bad.forEach((msg, call) -> {
        RuntimeException e = assertThrows(RuntimeException.class, call::run, msg);
        assertTrue(e.getMessage().contains(msg), "want \"" + msg + "\", got \"" + e.getMessage() + "\"");
        assertTrue(e instanceof AdjointArgumentException || e instanceof InvalidIndexException, e.getClass().getName());
      });
      DTypeMismatchException d = assertThrows(DTypeMismatchException.class, () -> Tensor.fromArray(new long[] {1, 2}, 2).logcumsumexp(0));
      assertTrue(d.getMessage().contains("logcumsumexp"), d.getMessage());
      d = assertThrows(DTypeMismatchException.class, () -> Tensor.of(1.0, 2.0).gt(Tensor.of(0.0, 3.0)).argmax(0));
      assertTrue(d.getMessage().contains("argmax") && d.getMessage().contains("bool"), d.getMessage());
    }
  }

  @Test
  void boolAndIntegerInputsFollowTorch() {
    try (Scope s = Scope.open()) {
      Tensor b = Tensor.of(true, false, true);
      assertEquals(DType.INT64, b.cumsum(0).dtype());
      assertArrayEquals(new long[] {1, 1, 2}, b.cumsum(0).toLongArray());
      assertArrayEquals(new long[] {0}, b.prod().toLongArray());
      Tensor.ValuesIndices sorted = b.sort(0);
      assertEquals(DType.BOOL, sorted.values().dtype());
      assertArrayEquals(new long[] {1, 0, 2}, sorted.indices().toLongArray());
      Tensor i = Tensor.fromArray(new long[] {3, -1, 3, 7}, 4);
      assertArrayEquals(new long[] {3, -3, -9, -63}, i.cumprod(0).toLongArray());
      assertArrayEquals(new long[] {-63}, i.prod().toLongArray());
      assertArrayEquals(new long[] {3}, i.argmax().toLongArray());
      assertArrayEquals(new long[] {1}, i.min(0).indices().toLongArray());
    }
  }
}
