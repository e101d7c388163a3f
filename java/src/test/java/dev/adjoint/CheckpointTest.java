package dev.adjoint;

import static dev.adjoint.CompositionTest.data;
import static dev.adjoint.CompositionTest.fdJac;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Func.checkpoint: the same derivatives as f, f's forward recomputed in the backward pass, less memory. */
class CheckpointTest extends ScopedTest {

  @AfterEach
  void checkClean() {
    assertEquals(0, NativeCore.adj_level_depth(), "a transform level leaked");
  }

  static void assertClose(Tensor want, Tensor got, double tol) {
    CustomRulesTest.assertClose(want, got, tol);
  }

  /** Two tanh(matmul) layers and a sin, float64: the block that is checkpointed. */
  static Fn2 block(AtomicInteger calls) {
    return (h, w) -> {
      calls.incrementAndGet();
      return h.matmul(w).tanh().matmul(w).sin();
    };
  }

  @Test
  void sameDerivativesAsTheFunction() {
    AtomicInteger calls = new AtomicInteger();
    Fn2 f = block(calls);
    Fn2 ck = Func.checkpoint(f);
    Tensor x = data(0.2, 3, 4), w = data(1.1, 4, 4).mul(0.5);
    assertClose(f.apply(x, w), ck.apply(x, w), 0);
    // grad with respect to both arguments: equal, and equal to central differences
    FnN loss = args -> f.apply((Tensor) args[0], (Tensor) args[1]).sum();
    FnN ckLoss = args -> ck.apply((Tensor) args[0], (Tensor) args[1]).sum();
    calls.set(0);
    @SuppressWarnings("unchecked")
    List<Tensor> g = (List<Tensor>) Func.grad(ckLoss, Func.argnums(0, 1)).apply(x, w);
    assertEquals(2, calls.get(), "forward once, again in the backward pass");
    @SuppressWarnings("unchecked")
    List<Tensor> want = (List<Tensor>) Func.grad(loss, Func.argnums(0, 1)).apply(x, w);
    assertClose(want.get(0), g.get(0), 1e-12);
    assertClose(want.get(1), g.get(1), 1e-12);
    Fn1 ofW = v -> f.apply(x, v).sum();
    assertClose(fdJac(ofW, w, 1e-6), g.get(1), 1e-7);
    // jacrev, hessian (forward over reverse: under jvp checkpoint is f), grad of grad, jvp, vmap
    Fn1 ckOfX = v -> ck.apply(v, w);
    Fn1 fOfX = v -> f.apply(v, w);
    assertClose(Func.jacrev(fOfX).apply(x), Func.jacrev(ckOfX).apply(x), 1e-12);
    Fn1 ckSum = v -> ckOfX.apply(v).sum();
    Fn1 fSum = v -> fOfX.apply(v).sum();
    assertClose(Func.hessian(fSum).apply(x), Func.hessian(ckSum).apply(x), 1e-12);
    assertClose(Func.jacrev(Func.grad(fSum)).apply(x), Func.jacrev(Func.grad(ckSum)).apply(x), 1e-12);
    Tensor t = data(3.3, 3, 4);
    assertClose(Func.jvp(fOfX, x, t).tangent(), Func.jvp(ckOfX, x, t).tangent(), 1e-12);
    Tensor xs = data(0.8, 5, 3, 4);
    assertClose(Func.vmap(Func.grad(fSum)).apply(xs), Func.vmap(Func.grad(ckSum)).apply(xs), 1e-12);
    Fn1 outer = v -> Func.vmap(ckOfX).apply(v).sum();
    assertClose(Func.vmap(Func.grad(fSum)).apply(xs), Func.grad(outer).apply(xs), 1e-12);
  }

  @Test
  void nonFloatingArgumentsAndPytrees() {
    // an int64 index argument passes through; a map of parameters is a pytree
    Tensor idx = Tensor.of(2L, 0L);
    FnN f = args -> {
      @SuppressWarnings("unchecked")
      java.util.Map<String, Tensor> p = (java.util.Map<String, Tensor>) args[0];
      return ((Tensor) args[1]).matmul(p.get("w")).add(p.get("b")).tanh().indexSelect(0, (Tensor) args[2]).sum();
    };
    FnN ck = Func.checkpoint(f);
    java.util.Map<String, Tensor> params = new java.util.LinkedHashMap<>();
    params.put("w", data(0.4, 4, 2));
    params.put("b", data(0.9, 2));
    Tensor x = data(1.5, 3, 4);
    Object want = Func.grad(f).apply(params, x, idx);
    Object got = Func.grad(ck).apply(params, x, idx);
    List<Tensor> wl = Pytree.leaves(want), gl = Pytree.leaves(got);
    assertEquals(2, gl.size());
    for (int i = 0; i < 2; i++) assertClose(wl.get(i), gl.get(i), 1e-12);
  }

  @Test
  void randomOpsDrawTheSameNumbersInTheRecompute() {
    // a dropout-like mask: the recomputed forward pass must draw the mask of the first one
    Fn1 dropout = h -> h.mul(Tensor.rand(DType.FLOAT64, h.shape()).gt(0.5).to(DType.FLOAT64)).mul(2.0).sin();
    Fn1 ck = Func.checkpoint(dropout);
    Tensor x = data(0.3, 50);
    Adjoint.manualSeed(11);
    Tensor want = Func.grad((Tensor v) -> dropout.apply(v).sum()).apply(x);
    Tensor nextPlain = Tensor.rand(DType.FLOAT64, 3);
    Adjoint.manualSeed(11);
    Tensor got = Func.grad((Tensor v) -> ck.apply(v).sum()).apply(x);
    Tensor nextCk = Tensor.rand(DType.FLOAT64, 3);
    assertClose(want, got, 0);
    assertClose(nextPlain, nextCk, 0);  // and the generator goes on as without checkpointing
    // under vmap with randomness = different: one mask per example, the same in the recompute
    Tensor xs = data(0.6, 4, 50);
    Fn1 sumPlain = v -> dropout.apply(v).sum(), sumCk = v -> ck.apply(v).sum();
    VmapOptions different = VmapOptions.defaults().randomness(Randomness.DIFFERENT);
    Adjoint.manualSeed(5);
    Tensor wantB = Func.vmap(Func.grad(sumPlain), different).apply(xs);
    Adjoint.manualSeed(5);
    assertClose(wantB, Func.vmap(Func.grad(sumCk), different).apply(xs), 0);
  }

  // ------------------------------------------------------------------ memory

  // -Dadjoint.checkpoint.batch=1000 -Dadjoint.checkpoint.width=1000 for the full-size chain (~1.6 GB without checkpointing)
  static final int LAYERS = 200, SEGMENT = 10;
  static final int BATCH = Integer.getInteger("adjoint.checkpoint.batch", 64), WIDTH = Integer.getInteger("adjoint.checkpoint.width", 256);

  /** The highest live native bytes seen at probes between layers, forward and backward, in one grad. */
  static long peakOfGrad(Tensor x, Tensor w, boolean checkpointed) {
    AtomicLong peak = new AtomicLong();
    Runnable sample = () -> peak.accumulateAndGet(Adjoint.memoryStats().liveBytes(), Math::max);
    Fn1 id = h -> {  // run as itself where no grad level traces it (a checkpointed forward pass)
      sample.run();
      return h;
    };
    Fn1 probe = Func.customVjp(id, h -> {
      sample.run();
      return Custom.fwd(h, null);
    }, (res, g) -> {
      sample.run();
      return g;
    });
    Fn2 segment = (h, v) -> {
      for (int i = 0; i < SEGMENT; i++) h = probe.apply(h.matmul(v).tanh());
      return h;
    };
    Fn2 seg = checkpointed ? Func.checkpoint(segment) : segment;
    FnN loss = args -> {
      Tensor h = (Tensor) args[0], v = (Tensor) args[1];
      for (int s = 0; s < LAYERS / SEGMENT; s++) h = seg.apply(h, v);
      return h.sum();
    };
    long base;
    try (Scope s = Scope.open()) {
      Adjoint.emptyCache();
      base = Adjoint.memoryStats().liveBytes();
      peak.set(base);
      Tensor g = (Tensor) Func.grad(loss, Func.argnums(1)).apply(x, w);
      sample.run();
      lastGradient = s.keep(g);
    }
    return peak.get() - base;
  }

  static Tensor lastGradient;

  @Test
  void peakMemoryDropsOnADeepChain() {
    Adjoint.manualSeed(7);
    Tensor x = Tensor.randn(BATCH, WIDTH), w = Tensor.randn(WIDTH, WIDTH).mul(1.0 / Math.sqrt(WIDTH));
    long plain = peakOfGrad(x, w, false);
    Tensor gPlain = lastGradient;
    long ck = peakOfGrad(x, w, true);
    Tensor gCk = lastGradient;
    double mib = 1 << 20;
    System.out.printf("checkpoint: %d layers of tanh(h @ w), h [%d, %d] float32, grad w.r.t. w; peak live native bytes above the start:"
        + " %.1f MiB without, %.1f MiB with checkpoint every %d layers (ratio %.3f)%n",
        LAYERS, BATCH, WIDTH, plain / mib, ck / mib, SEGMENT, (double) ck / plain);
    assertTrue(plain > LAYERS * (long) BATCH * WIDTH * 4, "the plain tape keeps an activation per layer at least");
    assertTrue(ck * 3 < plain, "checkpointing must cut the peak to under a third: " + ck + " vs " + plain);
    // the same gradient up to float32 rounding (the 200 per-layer terms of w's gradient are summed
    // per segment first, then across segments)
    double[] a = gPlain.toDoubleArray(), b = gCk.toDoubleArray();
    double maxDiff = 0, maxAbs = 0;
    for (int i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      maxAbs = Math.max(maxAbs, Math.abs(a[i]));
    }
    System.out.printf("checkpoint: gradient max |difference| %.3g, max |gradient| %.3g%n", maxDiff, maxAbs);
    assertTrue(maxDiff <= 1e-4 * maxAbs, "the same gradient: " + maxDiff + " vs " + maxAbs);
  }
}
