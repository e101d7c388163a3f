package dev.adjoint;

import static dev.adjoint.CompositionTest.data;
import static dev.adjoint.CompositionTest.fdDir;
import static dev.adjoint.CompositionTest.fdJac;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Func.linearize: f runs once; jvpFn is the recorded tangent map, equal to jvp, under every transform. */
class LinearizeTest extends ScopedTest {

  @AfterEach
  void checkClean() {
    assertEquals(0, NativeCore.adj_level_depth(), "a transform level leaked");
  }

  static void assertClose(Tensor want, Tensor got, double tol) {
    CustomRulesTest.assertClose(want, got, tol);
  }

  /** A function mixing elementwise ops, a matmul with a constant, a reduction and a softmax. */
  static Fn1 counted(AtomicInteger calls) {
    Tensor w = data(0.5, 4, 3);
    return x -> {
      calls.incrementAndGet();
      Tensor h = x.sin().mul(x).matmul(w).tanh();
      return h.softmax(0).mul(h.sum());
    };
  }

  @Test
  void fRunsOnceAndJvpFnEqualsJvp() {
    AtomicInteger calls = new AtomicInteger();
    Fn1 f = counted(calls);
    Tensor x = data(0.3, 4);
    Func.Linearized lin = Func.linearize(f, x);
    assertEquals(1, calls.get(), "linearize runs f once");
    assertClose(f.apply(x), lin.output(), 0);
    calls.set(0);
    for (int i = 0; i < 10; i++) {
      Tensor t = data(1.7 + i, 4);
      Tensor got = lin.jvpFn().apply(t);
      assertEquals(0, calls.get(), "jvpFn does not run f");
      assertClose(Func.jvp(f, x, t).tangent(), got, 1e-12);
      assertClose(fdDir(f, x, t), got, 1e-7);
      calls.set(0);
    }
  }

  @Test
  void jvpFnUnderTransforms() {
    AtomicInteger calls = new AtomicInteger();
    Fn1 f = counted(calls);
    Tensor x = data(0.9, 4);
    Func.Linearized lin = Func.linearize(f, x);
    calls.set(0);
    // a batch of tangents
    Tensor ts = data(2.4, 5, 4);
    Tensor batched = Func.vmap(lin.jvpFn()).apply(ts);
    List<Tensor> loop = new ArrayList<>();
    for (int b = 0; b < 5; b++) loop.add(lin.jvpFn().apply(ts.get(b)));
    assertClose(Tensor.stack(loop, 0), batched, 1e-12);
    // jvpFn is linear: its Jacobian (either mode) is f's Jacobian at x; its vjp is J^T
    Tensor j = fdJac(f, x, 1e-6);
    calls.set(0);
    assertClose(j, Func.jacfwd(lin.jvpFn()).apply(data(7, 4)), 1e-7);
    assertClose(j, Func.jacrev(lin.jvpFn()).apply(data(8, 4)), 1e-7);
    assertEquals(0, calls.get(), "none of it runs f");
  }

  @Test
  void linearizeInsideTransformsAndOfCustomRules() {
    // linearize of a custom jvp function records the rule's tangent
    Fn1 lp = CustomRulesTest.log1pexp();
    Tensor x = Tensor.of(-1.0, 2.0, 1000.0);
    Func.Linearized lin = Func.linearize(lp, x);
    Tensor t = Tensor.of(1.0, 1.0, 1.0);
    assertClose(Tensor.of(CustomRulesTest.sigmoid(-1), CustomRulesTest.sigmoid(2), 1.0), lin.jvpFn().apply(t), 1e-12);
    // of a custom vjp function: refused as in jvp, levels ended
    Fn1 clip = CustomRulesTest.clipGradient();
    assertThrows(UnsupportedOperationException.class, () -> Func.linearize(clip, x));
    assertEquals(0, NativeCore.adj_level_depth());
    // linearize inside grad: d/dx <v, J(x) u> by the outer level, against differences
    Tensor u = data(1.2, 4), v = data(2.3, 3);
    AtomicInteger calls = new AtomicInteger();
    Fn1 f = counted(calls);
    Fn1 inner = y -> Func.linearize(f, y).jvpFn().apply(u).mul(v).sum();
    Fn1 plain = y -> Func.jvp(f, y, u).tangent().mul(v).sum();
    Tensor x4 = data(0.6, 4);
    assertClose(Func.grad(plain).apply(x4), Func.grad(inner).apply(x4), 1e-12);
  }

  @Test
  void errorsAndLifetime() {
    Fn1 f = y -> y.sin();
    Tensor x = data(0.1, 3);
    Func.Linearized lin;
    long tensors;
    try (Scope s = Scope.open()) {
      tensors = LiveTensors.settled();
      try (Scope inner = Scope.open()) {
        lin = inner.keep(Func.linearize(f, x));  // the tape travels with the result
      }
      assertClose(x.cos().mul(x), lin.jvpFn().apply(x), 1e-12);
      ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> lin.jvpFn().apply(Tensor.of(1.0, 2.0)));
      assertTrue(e.getMessage().contains("jvp: tangent 0 has shape [2] but primal 0 has shape [3] (linearize's jvpFn)"), e.getMessage());
      assertThrows(DTypeMismatchException.class, () -> lin.jvpFn().apply(Tensor.of(1f, 2f, 3f)));
      assertThrows(AdjointArgumentException.class, () -> lin.jvpFn().apply((Tensor) null));
      assertThrows(DTypeMismatchException.class, () -> Func.linearize(f, Tensor.of(1L, 2L)));
      RuntimeException boom = new RuntimeException("boom");
      Fn1 bad = y -> {
        throw boom;
      };
      assertSame(boom, assertThrows(RuntimeException.class, () -> Func.linearize(bad, x)));
      assertEquals(0, NativeCore.adj_level_depth());
    }
    assertThrows(IllegalStateException.class, () -> lin.jvpFn().apply(x), "the tape went with its scope");
    assertEquals(tensors, LiveTensors.now(), "tensors leaked");
  }
}
