package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * F's composites beyond the torch reference: second derivatives against central finite
 * differences of the gradient (float64), dropout's masks under vmap's randomness modes, and the
 * errors bad arguments get.
 */
class NnTransformsTest {
  /** hessian(f)(x) against central differences of grad(f), entry by entry. */
  static void hessianMatchesFd(String name, Fn1 f, Tensor x) {
    try (Scope s = Scope.open()) {
      Tensor h = hessian(f).apply(x);
      int n = (int) x.numel();
      double[] xv = x.toDoubleArray(), hv = h.toDoubleArray();
      double eps = 1e-5;
      for (int j = 0; j < n; j++) {
        double[] up = xv.clone(), dn = xv.clone();
        up[j] += eps;
        dn[j] -= eps;
        double[] gu = grad(f).apply(Tensor.fromArray(up, x.shape())).toDoubleArray();
        double[] gd = grad(f).apply(Tensor.fromArray(dn, x.shape())).toDoubleArray();
        for (int i = 0; i < n; i++) {
          double fd = (gu[i] - gd[i]) / (2 * eps);
          assertEquals(fd, hv[i * n + j], 1e-6 * (1 + Math.abs(fd)), name + ": H[" + i + "," + j + "]");
        }
      }
    }
  }

  @Test
  void secondDerivativesMatchFiniteDifferences() {
    Tensor x = Tensor.of(-2.5, -0.3, 0.4, 1.7, 3.1);
    Tensor w = Tensor.of(0.5, -1.0, 2.0, 0.25, 1.5);
    Map<String, Fn1> fs = Map.ofEntries(
        Map.entry("gelu", v -> F.gelu(v).mul(w).sum()),
        Map.entry("geluTanh", v -> F.gelu(v, "tanh").mul(w).sum()),
        Map.entry("silu", v -> F.silu(v).mul(w).sum()),
        Map.entry("softplus", v -> F.softplus(v).mul(w).sum()),
        Map.entry("logSigmoid", v -> F.logSigmoid(v).mul(w).sum()),
        Map.entry("elu", v -> F.elu(v).mul(w).sum()),
        Map.entry("bceLogits", v -> F.binaryCrossEntropyWithLogits(v, Tensor.of(1, 0, 0.5, 1, 0))),
        Map.entry("huber", v -> F.huberLoss(v, Tensor.of(0, 0, 0, 0, 0), 2.0)),
        Map.entry("layerNorm", v -> F.layerNorm(v, new long[] {5}, null, null, 1e-5).mul(w).sum()),
        Map.entry("var", v -> v.var(0).mul(v.sum())),
        Map.entry("std", v -> v.std(0)),
        Map.entry("norm2", v -> v.norm()),
        Map.entry("norm3", v -> v.norm(3, 0, false)),
        Map.entry("normalize", v -> F.normalize(v, 2, 0).mul(w).sum()),
        Map.entry("cosine", v -> F.cosineSimilarity(v, w, 0, 1e-8)));
    fs.forEach((name, f) -> hessianMatchesFd(name, f, x));
  }

  @Test
  void normAtZeroHasAZeroGradientAndHessianWithoutNaN() {
    for (double p : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
      Tensor z = Tensor.zeros(4).to(DType.FLOAT64);
      Fn1 f = v -> v.norm(p, 0, false);
      assertArrayEquals(new double[4], grad(f).apply(z).toDoubleArray(), "p=" + p);
      for (double h : jacfwd(grad(f)).apply(z).toDoubleArray()) assertFalse(Double.isNaN(h), "p=" + p + ": NaN in the Hessian");
    }
  }

  @Test
  void dropoutFollowsVmapsRandomness() {
    Tensor x = Tensor.ones(4, 1000).to(DType.FLOAT64);
    Generator g = new Generator().manualSeed(7);
    Tensor y = F.dropout(x, 0.25, true, g);
    double[] v = y.toDoubleArray();
    int kept = 0;
    for (double e : v) {
      assertTrue(e == 0 || Math.abs(e - 1 / 0.75) < 1e-15, "kept values are scaled by 1/(1-p): " + e);
      if (e != 0) kept++;
    }
    assertEquals(0.75, kept / 4000.0, 0.03, "fraction kept");
    // the gradient is the mask, scaled
    Tensor gx = grad(u -> F.dropout(u, 0.25, true, new Generator().manualSeed(7)).sum()).apply(x);
    assertArrayEquals(v, gx.toDoubleArray(), 0, "d(dropout)/dx is the scaled mask");
    // not training, or p = 0: the identity; p = 1: zeros
    assertArrayEquals(x.toDoubleArray(), F.dropout(x, 0.5, false).toDoubleArray());
    assertArrayEquals(x.toDoubleArray(), F.dropout(x, 0, true).toDoubleArray());
    assertEquals(0.0, F.dropout(x, 1, true).abs().sum().item());
    // under vmap: an error by default, one mask per example with DIFFERENT, one shared with SAME
    Fn1 drop = u -> F.dropout(u, 0.5, true);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> vmap(drop).apply(x));
    assertTrue(e.getMessage().contains("randomness"), e.getMessage());
    Tensor diff = vmap(drop, VmapOptions.defaults().randomness(Randomness.DIFFERENT)).apply(x);
    Tensor same = vmap(drop, VmapOptions.defaults().randomness(Randomness.SAME)).apply(x);
    assertFalse(java.util.Arrays.equals(diff.select(0, 0).toDoubleArray(), diff.select(0, 1).toDoubleArray()),
        "DIFFERENT: examples get their own masks");
    assertArrayEquals(same.select(0, 0).toDoubleArray(), same.select(0, 3).toDoubleArray(), "SAME: one mask for all");
  }

  @Test
  void badArgumentsNameTheOpAndShapes() {
    Tensor x = Tensor.ones(2, 6, 3).to(DType.FLOAT64);
    ShapeMismatchException gn = assertThrows(ShapeMismatchException.class, () -> F.groupNorm(x, 4, null, null, 1e-5));
    assertTrue(gn.getMessage().startsWith("group_norm") && gn.getMessage().contains("[2, 6, 3]"), gn.getMessage());
    ShapeMismatchException ln = assertThrows(ShapeMismatchException.class, () -> F.layerNorm(x, new long[] {6}, null, null, 1e-5));
    assertTrue(ln.getMessage().contains("[6]") && ln.getMessage().contains("[2, 6, 3]"), ln.getMessage());
    ShapeMismatchException lw = assertThrows(ShapeMismatchException.class,
        () -> F.layerNorm(x, new long[] {3}, Tensor.ones(4).to(DType.FLOAT64), null, 1e-5));
    assertTrue(lw.getMessage().contains("weight [4]"), lw.getMessage());
    ShapeMismatchException bn = assertThrows(ShapeMismatchException.class,
        () -> F.batchNorm(Tensor.ones(1, 3).to(DType.FLOAT64), null, null, null, null, true, 1e-5));
    assertTrue(bn.getMessage().contains("more than 1 value per channel"), bn.getMessage());
    AdjointArgumentException be = assertThrows(AdjointArgumentException.class,
        () -> F.batchNorm(x, null, null, null, null, false, 1e-5));
    assertTrue(be.getMessage().contains("running_mean"), be.getMessage());
    InvalidIndexException oh = assertThrows(InvalidIndexException.class, () -> F.oneHot(Tensor.fromArray(new long[] {0, 5}, 2), 4));
    assertTrue(oh.getMessage().contains("5") && oh.getMessage().contains("4 classes"), oh.getMessage());
    InvalidIndexException em = assertThrows(InvalidIndexException.class,
        () -> F.embedding(Tensor.fromArray(new long[] {7}, 1), Tensor.ones(3, 2)));
    assertTrue(em.getMessage().startsWith("embedding"), em.getMessage());
    AdjointArgumentException dp = assertThrows(AdjointArgumentException.class, () -> F.dropout(x, 1.5, true));
    assertTrue(dp.getMessage().contains("1.5"), dp.getMessage());
    AdjointArgumentException np = assertThrows(AdjointArgumentException.class, () -> x.norm(-1, 0, false));
    assertTrue(np.getMessage().startsWith("norm"), np.getMessage());
    AdjointArgumentException ge = assertThrows(AdjointArgumentException.class, () -> F.gelu(x, "erf"));
    assertTrue(ge.getMessage().contains("erf"), ge.getMessage());
    DTypeMismatchException bi = assertThrows(DTypeMismatchException.class, () -> F.silu(Tensor.fromArray(new long[] {1}, 1)));
    assertTrue(bi.getMessage().startsWith("silu"), bi.getMessage());
    ShapeMismatchException bce = assertThrows(ShapeMismatchException.class,
        () -> F.binaryCrossEntropy(Tensor.of(0.5, 0.5), Tensor.of(1.0)));
    assertTrue(bce.getMessage().contains("[1]") && bce.getMessage().contains("[2]"), bce.getMessage());
  }

  @Test
  void splitAndChunkLikeTorch() {
    Tensor x = Tensor.arange(0, 7, 1, DType.FLOAT64);
    var parts = x.split(3, 0);
    assertEquals(3, parts.size());
    assertArrayEquals(new double[] {6}, parts.get(2).toDoubleArray());
    var chunks = x.chunk(3, 0);  // torch.chunk(arange(7), 3): sizes 3, 3, 1
    assertEquals(3, chunks.size());
    assertArrayEquals(new double[] {3, 4, 5}, chunks.get(1).toDoubleArray());
    assertEquals(2, Tensor.arange(0, 4, 1, DType.FLOAT64).chunk(3, 0).size(), "torch.chunk(arange(4), 3) gives 2 chunks of 2");
    // gradients flow through the pieces
    Tensor g = grad(v -> v.split(2, 0).get(1).mul(3.0).sum()).apply(x);
    assertArrayEquals(new double[] {0, 0, 3, 3, 0, 0, 0}, g.toDoubleArray());
    assertThrows(AdjointArgumentException.class, () -> x.split(0, 0));
    assertThrows(AdjointArgumentException.class, () -> x.chunk(0, 0));
  }

  @Test
  void shapeOpsRefuseBadArguments() {
    Tensor v = Tensor.of(1.0, 2.0, 3.0);
    Tensor m = Tensor.ones(2, 3);
    ShapeMismatchException tr = assertThrows(ShapeMismatchException.class, () -> v.tril(0));
    assertTrue(tr.getMessage().startsWith("tril") && tr.getMessage().contains("[3]"), tr.getMessage());
    AdjointArgumentException dg = assertThrows(AdjointArgumentException.class, () -> m.diagonal(0, 1, -1));
    assertTrue(dg.getMessage().startsWith("diagonal"), dg.getMessage());
    AdjointArgumentException rp = assertThrows(AdjointArgumentException.class, () -> m.repeat(2));
    assertTrue(rp.getMessage().startsWith("repeat") && rp.getMessage().contains("[2, 3]"), rp.getMessage());
    DTypeMismatchException mf = assertThrows(DTypeMismatchException.class, () -> m.maskedFill(Tensor.ones(3), 0));
    assertTrue(mf.getMessage().startsWith("masked_fill"), mf.getMessage());
    AdjointArgumentException fl = assertThrows(AdjointArgumentException.class, () -> m.flip(1, -1));
    assertTrue(fl.getMessage().contains("more than once"), fl.getMessage());
    ShapeMismatchException ou = assertThrows(ShapeMismatchException.class, () -> m.outer(v));
    assertTrue(ou.getMessage().contains("[2, 3]"), ou.getMessage());
    ShapeMismatchException tc = assertThrows(ShapeMismatchException.class, () -> v.trace());
    assertTrue(tc.getMessage().startsWith("trace"), tc.getMessage());
    AdjointArgumentException ls = assertThrows(AdjointArgumentException.class, () -> Tensor.linspace(0, 1, -1));
    assertTrue(ls.getMessage().startsWith("linspace"), ls.getMessage());
  }
}
