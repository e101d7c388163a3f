package dev.adjoint;

import static dev.adjoint.CompositionTest.data;
import static dev.adjoint.CompositionTest.fdJac;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Func.customVjp and Func.customJvp under every transform and nesting. Expected values come from
 * closed forms or central differences of plain (untransformed) functions, never from a transform
 * of the function under test; a rule that differs from f's own derivative (clipping, a stable
 * formula) shows that the rule, not f's ops, was used.
 */
class CustomRulesTest extends ScopedTest {

  @AfterEach
  void checkClean() {
    assertEquals(0, NativeCore.adj_level_depth(), "a transform level leaked");
  }

  static void assertClose(Tensor want, Tensor got, double tol) {
    assertArrayEquals(want.shape(), got.shape(), "shape");
    double[] w = want.toDoubleArray(), g = got.toDoubleArray();
    for (int i = 0; i < w.length; i++)
      assertEquals(w[i], g[i], Double.isFinite(w[i]) ? tol * (1 + Math.abs(w[i])) : 0, "element " + i + " of " + Arrays.toString(w) + " vs " + Arrays.toString(g));
  }

  static double sigmoid(double v) {
    return 1 / (1 + Math.exp(-v));
  }

  // ================================================================== customJvp: log1pexp

  static final Fn1 NAIVE = x -> x.exp().add(1).log();

  /** JAX's example: log(1 + exp(x)) whose derivative (1 - 1/(1 + exp x)) t stays finite for large x. */
  static Fn1 log1pexp() {
    return Func.customJvp(NAIVE, (x, t) -> JvpResult.of(NAIVE.apply(x), x.exp().add(1).pow(-1.0).rsub(1.0).mul(t)));
  }

  @Test
  void log1pexpIsStableUnderGradAndJvp() {
    Fn1 f = log1pexp();
    Tensor x = Tensor.of(0.0, 3.0, -2.0, 1000.0);
    Tensor want = Tensor.of(0.5, sigmoid(3), sigmoid(-2), 1.0);
    Fn1 naiveSum = v -> NAIVE.apply(v).sum();
    assertTrue(Double.isNaN(Func.grad(naiveSum).apply(x).toDoubleArray()[3]), "the naive gradient is nan at 1000");
    Fn1 loss = v -> f.apply(v).sum();
    assertClose(want, Func.grad(loss).apply(x), 1e-12);
    Tensor t = Tensor.of(1.0, -2.0, 0.5, 3.0);
    JvpResult r = Func.jvp(f, x, t);
    assertClose(want.mul(t), r.tangent(), 1e-12);
    assertClose(NAIVE.apply(x), r.output(), 0);
    // the function alone
    assertClose(NAIVE.apply(x), f.apply(x), 0);
  }

  @Test
  void log1pexpJacobiansAndHessianMatchFiniteDifferences() {
    Fn1 f = log1pexp();
    Tensor x = data(0.4, 5);
    Tensor fd = fdJac(NAIVE, x, 1e-6);
    assertClose(fd, Func.jacrev(f).apply(x), 1e-7);
    assertClose(fd, Func.jacfwd(f).apply(x), 1e-7);
    // second order, forward over reverse and reverse over reverse: diag sigmoid'(x)
    Fn1 loss = v -> f.apply(v).sum();
    double[] xv = x.toDoubleArray(), want = new double[25];
    for (int i = 0; i < 5; i++) want[i * 5 + i] = sigmoid(xv[i]) * (1 - sigmoid(xv[i]));
    assertArrayEquals(want, Func.hessian(loss).apply(x).toDoubleArray(), 1e-12);
    assertArrayEquals(want, Func.jacrev(Func.grad(loss)).apply(x).toDoubleArray(), 1e-12);
    assertClose(fdJac(v -> v.sigmoid(), x, 1e-6), Func.jacfwd(Func.grad(loss)).apply(x), 1e-7);
    // hvp = jvp(grad)
    Tensor v = data(2.2, 5);
    assertClose(Tensor.fromArray(want, 5, 5).matmul(v), Func.hvp(loss, x, v), 1e-12);
  }

  @Test
  void log1pexpUnderVmapMatchesALoop() {
    Fn1 f = log1pexp();
    Fn1 loss = v -> f.apply(v).sum();
    Tensor xs = data(1.3, 4, 3);
    Tensor batched = Func.vmap(Func.grad(loss)).apply(xs);
    Tensor jac = Func.vmap(Func.jacfwd(f)).apply(xs);
    for (int b = 0; b < 4; b++) {
      assertClose(Func.grad(loss).apply(xs.get(b)), batched.get(b), 1e-12);
      assertClose(fdJac(NAIVE, xs.get(b), 1e-6), jac.get(b), 1e-7);
    }
    // grad outside the vmap: the batched rule's transpose
    Fn1 outer = v -> Func.vmap(f).apply(v).sum();
    assertClose(xs.sigmoid(), Func.grad(outer).apply(xs), 1e-12);
  }

  // ================================================================== customVjp

  /** The identity whose gradient is clipped to [-1, 1] in the backward pass. */
  static Fn1 clipGradient() {
    Fn1 id = x -> x;
    return Func.customVjp(id, x -> Custom.fwd(x, null), (res, g) -> Tensor.where(g.abs().gt(1.0), g.sign(), g));
  }

  static Tensor diag(Tensor d) {
    double[] v = d.toDoubleArray();
    double[] m = new double[v.length * v.length];
    for (int i = 0; i < v.length; i++) m[i * v.length + i] = v[i];
    return Tensor.fromArray(m, v.length, v.length);
  }

  static Tensor clip(Tensor g) {
    double[] v = g.toDoubleArray();
    for (int i = 0; i < v.length; i++) v[i] = Math.max(-1, Math.min(1, v[i]));
    return Tensor.fromArray(v, g.shape());
  }

  @Test
  void clippedGradient() {
    Fn1 clip = clipGradient();
    Tensor x = data(0.9, 6);
    // forward: the identity
    assertClose(x, clip.apply(x), 0);
    // loss = sum(3 sin(clip(x))): the cotangent at clip's output is 3 cos x, clipped
    Fn1 loss = v -> clip.apply(v).sin().mul(3).sum();
    assertClose(clip(x.cos().mul(3)), Func.grad(loss).apply(x), 1e-12);
    // jacrev of w * clip(x): rows clip(w_i e_i)
    Tensor w = Tensor.of(0.5, -2.0, 3.0, 0.25, -0.75, 1.5);
    Fn1 scaled = v -> clip.apply(v).mul(w);
    assertClose(diag(clip(w)), Func.jacrev(scaled).apply(x), 0);
    // vmap(grad) == a loop of grad
    Tensor xs = data(0.2, 5, 6);
    Tensor batched = Func.vmap(Func.grad(loss)).apply(xs);
    for (int b = 0; b < 5; b++) assertClose(Func.grad(loss).apply(xs.get(b)), batched.get(b), 0);
  }

  /** sin(x) * x with the exact rule and residuals (sin x, cos x, x) as a list pytree; counts its calls. */
  static Fn1 sinTimesX(AtomicInteger fwdCalls, AtomicInteger bwdCalls) {
    Fn1 f = x -> x.sin().mul(x);
    return Func.customVjp(f, x -> {
      fwdCalls.incrementAndGet();
      return Custom.fwd(x.sin().mul(x), List.of(x.sin(), x.cos(), x));
    }, (res, g) -> {
      bwdCalls.incrementAndGet();
      return g.mul(res.get(1).mul(res.get(2)).add(res.get(0)));
    });
  }

  @Test
  void customVjpMatchesFiniteDifferencesUnderNesting() {
    AtomicInteger fwd = new AtomicInteger(), bwd = new AtomicInteger();
    Fn1 f = sinTimesX(fwd, bwd);
    Fn1 plain = x -> x.sin().mul(x);
    Tensor x = data(0.6, 4);
    Tensor fd = fdJac(plain, x, 1e-6);
    assertClose(fd, Func.jacrev(f).apply(x), 1e-7);
    assertTrue(fwd.get() >= 1 && bwd.get() >= 1, "the rule ran");
    // grad of grad differentiates bwd's ops; forward over reverse (hessian) too
    Fn1 loss = v -> f.apply(v).sum();
    Fn1 plainGrad = v -> v.cos().mul(v).add(v.sin());
    Tensor fd2 = fdJac(plainGrad, x, 1e-6);
    assertClose(fd2, Func.jacrev(Func.grad(loss)).apply(x), 1e-7);
    assertClose(fd2, Func.hessian(loss).apply(x), 1e-7);
    // vmap of grad and grad of vmap
    Tensor xs = data(2.1, 3, 4);
    Tensor batched = Func.vmap(Func.grad(loss)).apply(xs);
    for (int b = 0; b < 3; b++) assertClose(plainGrad.apply(xs.get(b)), batched.get(b), 1e-12);
    Fn1 outer = v -> Func.vmap(f).apply(v).sum();
    assertClose(plainGrad.apply(xs), Func.grad(outer).apply(xs), 1e-12);
    // vjp with a cotangent
    Tensor ct = data(3.3, 4);
    assertClose(plainGrad.apply(x).mul(ct), Func.vjp(f, x).applyTensor(ct), 1e-12);
  }

  @Test
  void customVjpIsRefusedInForwardMode() {
    Fn1 f = sinTimesX(new AtomicInteger(), new AtomicInteger());
    Tensor x = data(0.1, 3);
    UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> Func.jvp(f, x, x));
    assertTrue(e.getMessage().contains("customVjp") && e.getMessage().contains("forward mode"), e.getMessage());
    assertThrows(UnsupportedOperationException.class, () -> Func.jacfwd(f).apply(x));
    assertEquals(0, NativeCore.adj_level_depth());
  }

  // ================================================================== pytrees: several arguments and outputs

  @Test
  void pytreeCustomVjpWithTwoArgumentsAndTwoOutputs() {
    // f(a, b) = [a * b, sin(a) + b] with the exact rule, cotangents per argument
    FnN f = args -> {
      Tensor a = (Tensor) args[0], b = (Tensor) args[1];
      return List.of(a.mul(b), a.sin().add(b));
    };
    FnN custom = Func.customVjp(f, args -> {
      Tensor a = (Tensor) args[0], b = (Tensor) args[1];
      return Custom.fwd(List.of(a.mul(b), a.sin().add(b)), new Tensor[] {a, b, a.cos()});
    }, (res, ct) -> {
      List<?> c = (List<?>) ct;
      Tensor c0 = (Tensor) c.get(0), c1 = (Tensor) c.get(1);
      return Custom.cotangents(c0.mul(res[1]).add(c1.mul(res[2])), c0.mul(res[0]).add(c1));
    });
    Tensor a = data(0.5, 3), b = data(1.7, 3);
    FnN loss = args -> {
      List<Tensor> o = Pytree.leaves(custom.apply(args));
      return o.get(0).mul(o.get(1)).sum();
    };
    @SuppressWarnings("unchecked")
    List<Tensor> g = (List<Tensor>) Func.grad(loss, Func.argnums(0, 1)).apply(a, b);
    // d/da sum(ab (sin a + b)) = b (sin a + b) + ab cos a; d/db = a (sin a + b) + ab
    Tensor s = a.sin().add(b);
    assertClose(b.mul(s).add(a.mul(b).mul(a.cos())), g.get(0), 1e-12);
    assertClose(a.mul(s).add(a.mul(b)), g.get(1), 1e-12);
    // the outputs keep their structure, and match f without a transform
    Object out = custom.apply(a, b);
    assertTrue(out instanceof List<?> l && l.size() == 2);
    assertClose(a.mul(b), (Tensor) ((List<?>) out).get(0), 0);
    // vmap over a only: b is shared, and grad outside the vmap sums its cotangents
    Tensor as = data(2.5, 4, 3);
    FnN perRow = args -> Pytree.leaves(custom.apply(args)).get(0).sum();
    FnN batched = Func.vmap(perRow, Func.inDims(0, null));
    FnN total = args -> ((Tensor) batched.apply(args)).sum();
    Tensor gb = (Tensor) Func.grad(total, Func.argnums(1)).apply(as, b);
    assertClose(as.sum(0), gb, 1e-12);
  }

  @Test
  void pytreeCustomJvpWithTwoArguments() {
    // f(a, b) = sin(a) * b, its rule exact; checked under jvp, grad, jacfwd against differences
    FnN f = args -> ((Tensor) args[0]).sin().mul((Tensor) args[1]);
    FnN custom = Func.customJvp(f, (p, t) -> {
      Tensor a = (Tensor) p[0], b = (Tensor) p[1], ta = (Tensor) t[0], tb = (Tensor) t[1];
      return JvpResult.of(a.sin().mul(b), a.cos().mul(b).mul(ta).add(a.sin().mul(tb)));
    });
    Tensor a = data(0.3, 4), b = data(1.1, 4);
    Fn1 ofA = v -> (Tensor) custom.apply(v, b);
    Fn1 plainOfA = v -> v.sin().mul(b);
    assertClose(fdJac(plainOfA, a, 1e-6), Func.jacrev(ofA).apply(a), 1e-7);
    assertClose(fdJac(plainOfA, a, 1e-6), Func.jacfwd(ofA).apply(a), 1e-7);
    Fn1 ofB = v -> (Tensor) custom.apply(a, v);
    assertClose(a.sin(), Func.grad((Tensor v) -> ofB.apply(v).sum()).apply(b), 1e-12);
    JvpResult r = Func.jvp(custom, List.of(a, b), List.of(b, a));
    assertClose(a.cos().mul(b).mul(b).add(a.sin().mul(a)), r.tangent(), 1e-12);
  }

  // ================================================================== failures

  static final class Boom extends RuntimeException {
    Boom(String m) {
      super(m);
    }
  }

  @Test
  void exceptionsFromTheRulesReachTheCallerIntact() {
    int sites = CustomRules.liveCount();
    long tensors;
    try (Scope s = Scope.open()) {
      tensors = LiveTensors.settled();
      Tensor x = data(0.2, 3);
      Boom inFwd = new Boom("fwd"), inBwd = new Boom("bwd"), inF = new Boom("f"), inRule = new Boom("rule");
      Fn1 id = v -> v;
      Fn1 throwingF = v -> {
        throw inF;
      };
      Fn1 badFwd = Func.customVjp(id, v -> {
        throw inFwd;
      }, (res, g) -> g);
      Fn1 badBwd = Func.customVjp(id, v -> Custom.fwd(v.sin(), v), (res, g) -> {
        throw inBwd;
      });
      Fn1 badF = Func.customVjp(throwingF, v -> Custom.fwd(v, null), (res, g) -> g);
      Fn1 badRule = Func.customJvp(id, (v, t) -> {
        throw inRule;
      });
      assertSame(inFwd, assertThrows(Boom.class, () -> Func.grad((Tensor v) -> badFwd.apply(v).sum()).apply(x)));
      assertSame(inBwd, assertThrows(Boom.class, () -> Func.grad((Tensor v) -> badBwd.apply(v).sum()).apply(x)));
      assertSame(inBwd, assertThrows(Boom.class, () -> Func.vmap(Func.grad((Tensor v) -> badBwd.apply(v).sum())).apply(data(1, 2, 3))));
      assertSame(inBwd, assertThrows(Boom.class, () -> Func.jacrev(badBwd).apply(x)));
      assertSame(inF, assertThrows(Boom.class, () -> badF.apply(x)));
      assertSame(inF, assertThrows(Boom.class, () -> Func.vmap(badF).apply(data(1, 2, 3))));
      assertSame(inRule, assertThrows(Boom.class, () -> Func.jvp(badRule, x, x)));
      assertSame(inRule, assertThrows(Boom.class, () -> Func.grad((Tensor v) -> badRule.apply(v).sum()).apply(x)));
      // an Error passes through unchanged too
      AssertionError err = new AssertionError("bwd error");
      Fn1 errBwd = Func.customVjp(id, v -> Custom.fwd(v, null), (res, g) -> {
        throw err;
      });
      assertSame(err, assertThrows(AssertionError.class, () -> Func.grad((Tensor v) -> errBwd.apply(v).sum()).apply(x)));
      assertEquals(0, NativeCore.adj_level_depth(), "every level ended");
      // the library still works on this thread
      Fn1 loss = v -> clipGradient().apply(v).sum();
      assertClose(Tensor.onesLike(x), Func.grad(loss).apply(x), 0);
    }
    System.gc();
    assertEquals(tensors, LiveTensors.now(), "tensors leaked");
    assertEquals(sites, CustomRules.liveCount(), "custom call sites or residuals leaked");
  }

  @Test
  void malformedRulesAreNamed() {
    Tensor x = data(0.2, 3);
    Fn1 id = v -> v;
    Fn1 wrongShape = Func.customVjp(id, v -> Custom.fwd(v, null), (res, g) -> g.sum());
    ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> Func.grad((Tensor v) -> wrongShape.apply(v).sum()).apply(x));
    assertTrue(e.getMessage().contains("customVjp: bwd returned a cotangent of shape [] for input 0 of shape [3]"), e.getMessage());
    Fn1 wrongTangent = Func.customJvp(id, (v, t) -> JvpResult.of(v, t.sum()));
    e = assertThrows(ShapeMismatchException.class, () -> Func.jvp(wrongTangent, x, x));
    assertTrue(e.getMessage().contains("customJvp: the jvp rule gave a tangent of shape []"), e.getMessage());
    Fn1 nullFwd = Func.customVjp(id, v -> null, (res, g) -> g);
    AdjointArgumentException a = assertThrows(AdjointArgumentException.class, () -> Func.grad((Tensor v) -> nullFwd.apply(v).sum()).apply(x));
    assertTrue(a.getMessage().contains("fwd returned null"), a.getMessage());
    assertThrows(AdjointArgumentException.class, () -> Func.customJvp((Fn1) null, (v, t) -> JvpResult.of(v, t)));
    // a rule that uses a traced tensor it captured instead of getting it as an argument
    Tensor[] captured = new Tensor[1];
    Fn1 capturing = Func.customVjp(id, v -> Custom.fwd(v.mul(captured[0]), null), (res, g) -> g);
    a = assertThrows(AdjointArgumentException.class, () -> Func.grad((Tensor v) -> {
      captured[0] = v;
      return capturing.apply(v).sum();
    }).apply(x));
    assertTrue(a.getMessage().contains("customVjp: the fwd returned a value traced by the grad transform that applies the rule"), a.getMessage());
    assertEquals(0, NativeCore.adj_level_depth());
  }

  @Test
  void rulesRunOncePerTransformAndTheirStateIsReleased() {
    int sites = CustomRules.liveCount();
    AtomicInteger fwd = new AtomicInteger(), bwd = new AtomicInteger();
    try (Scope s = Scope.open()) {
      Fn1 f = sinTimesX(fwd, bwd);
      Tensor x = data(0.6, 4);
      for (int i = 0; i < 50; i++) Func.grad((Tensor v) -> f.apply(v).sum()).apply(x);
      assertEquals(50, fwd.get());
      assertEquals(50, bwd.get());
      // the pullback keeps the tape (and the rule's residuals) until it is released
      VjpResult v = Func.vjp(f, x);
      for (int i = 0; i < 3; i++) v.applyTensor(Tensor.onesLike(x));
      assertEquals(51, fwd.get());
      assertEquals(53, bwd.get());
      assertTrue(CustomRules.liveCount() > sites, "a live pullback holds its call site");
    }
    assertEquals(sites, CustomRules.liveCount(), "released with the tape");
  }

  @Test
  void threadsUseCustomFunctionsConcurrently() throws Exception {
    Fn1 clip = clipGradient(), lp = log1pexp();
    Fn1 loss = v -> lp.apply(clip.apply(v).mul(3)).sum();
    Tensor x = Tensor.of(-2.0, -0.1, 0.2, 1.5);
    // d/dx sum(log1pexp(3 clip(x))) = clip(3 sigmoid(3x)) (clip sees the cotangent 3 sigmoid(3x))
    double[] want = new double[4];
    double[] xv = x.toDoubleArray();
    for (int i = 0; i < 4; i++) want[i] = Math.min(1, 3 * sigmoid(3 * xv[i]));
    int threads = 4;
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Thread> ts = new ArrayList<>();
    for (int k = 0; k < threads; k++) {
      ts.add(new Thread(() -> {
        try (Scope s = Scope.open()) {
          Tensor mine = Tensor.of(xv);
          for (int i = 0; i < 200; i++) {
            try (Scope step = Scope.open()) {
              assertArrayEquals(want, Func.grad(loss).apply(mine).toDoubleArray(), 1e-12);
              Tensor shared = Func.vmap(Func.grad(loss)).apply(x.unsqueeze(0));  // x: the main thread's tensor
              assertArrayEquals(want, shared.toDoubleArray(), 1e-12);
            }
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      }));
    }
    for (Thread t : ts) t.start();
    for (Thread t : ts) t.join();
    assertTrue(failures.isEmpty(), () -> "failures: " + failures);
  }

  @Test
  void nestedCustomFunctions() {
    // a custom vjp whose fwd and bwd call a custom jvp function: each level applies its own rule
    Fn1 inner = log1pexp();
    Fn1 outer = Func.customVjp(inner, v -> Custom.fwd(inner.apply(v), v),
        (res, g) -> g.mul(Func.grad((Tensor u) -> inner.apply(u).sum()).apply(res)));
    Tensor x = Tensor.of(-1.0, 0.5, 1000.0);
    assertClose(Tensor.of(sigmoid(-1), sigmoid(0.5), 1.0), Func.grad((Tensor v) -> outer.apply(v).sum()).apply(x), 1e-12);
    List<Tensor> perRow = new ArrayList<>();
    Tensor xs = data(0.7, 2, 3);
    Tensor batched = Func.vmap(Func.grad((Tensor v) -> outer.apply(v).sum())).apply(xs);
    for (int b = 0; b < 2; b++) perRow.add(xs.get(b).sigmoid());
    assertClose(Tensor.stack(perRow, 0), batched, 1e-12);
  }
}
