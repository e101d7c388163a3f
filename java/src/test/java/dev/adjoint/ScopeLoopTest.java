package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Scope.loop carries an iterate from step to step and keeps one alive, not one per step: the live
 * tensor count stays flat over 1000 optimiser steps, with or without a scope around the loop; the
 * numbers match the closed form of gradient descent (with momentum) on a quadratic; the caller's
 * tensors and tensors carried on unchanged are never released; a step that throws releases the
 * loop's own iterate. A scope that tensors pass through keeps an array sized by what it owns.
 */
class ScopeLoopTest {
  record Params(Tensor w, Tensor velocity) {}

  /** f(w) = 0.5 |w - c|^2, grad f = w - c. */
  static final double[] C = {1.0, -2.0, 0.5};

  @Test
  void gradientDescentOf1000StepsKeepsLiveTensorsFlat() {
    try (Scope outer = Scope.open()) {
      Tensor c = Tensor.of(C);
      Fn1 loss = w -> w.sub(c).pow(2.0).sum().mul(0.5);
      Fn1 dLoss = Func.grad(loss);
      Tensor w0 = Tensor.zeros(DType.FLOAT64, 3);
      long before = LiveTensors.settled();
      long[] liveAt = new long[1000];
      double lr = 0.01;
      Tensor w = Scope.loop(1000, w0, (step, cur) -> {
        liveAt[step] = LiveTensors.now();
        return cur.sub(dLoss.apply(cur).mul(lr));
      });
      // one iterate alive at the start of every step: the count at step 999 is the count at step 1
      assertEquals(liveAt[1], liveAt[999], "live tensors at step 1 and at step 999");
      assertEquals(before, liveAt[0]);
      assertEquals(before + 1, liveAt[1], "step 1 sees the first iterate besides w0");
      assertEquals(before + 1, LiveTensors.now(), "after the loop: the result");
      assertFalse(w0.isClosed(), "the caller's init is never released");
      // w_k = c + (1 - lr)^k (w0 - c)
      double[] got = w.toDoubleArray();
      for (int i = 0; i < 3; i++) assertEquals(C[i] * (1 - Math.pow(1 - lr, 1000)), got[i], 1e-12);
      assertTrue(outer.ownedCapacity() <= 64, "the outer scope's array follows what it owns: " + outer.ownedCapacity());
    }
  }

  @Test
  void momentumWithARecordCarryOutsideAnyScope() {
    Tensor c = Tensor.of(C);
    Fn1 dLoss = Func.grad((Fn1) w -> w.sub(c).pow(2.0).sum().mul(0.5));
    Params init = new Params(Tensor.zeros(DType.FLOAT64, 3), Tensor.zeros(DType.FLOAT64, 3));
    long before = LiveTensors.settled();
    long[] liveAt = new long[1000];
    double lr = 0.01, beta = 0.9;
    Params p = Scope.loop(1000, init, (step, cur) -> {
      liveAt[step] = LiveTensors.now();
      Tensor v = cur.velocity().mul(beta).add(dLoss.apply(cur.w()));
      return new Params(cur.w().sub(v.mul(lr)), v);
    });
    assertEquals(liveAt[1], liveAt[999], "two tensors alive per iterate, at every step");
    assertEquals(before + 2, liveAt[1]);
    assertEquals(before + 2, LiveTensors.now());
    // the same recurrence in Java, per component (heavy-ball momentum)
    for (int i = 0; i < 3; i++) {
      double w = 0, v = 0;
      for (int k = 0; k < 1000; k++) {
        v = beta * v + (w - C[i]);
        w -= lr * v;
      }
      assertEquals(w, p.w().toDoubleArray()[i], 1e-12);
      assertEquals(v, p.velocity().toDoubleArray()[i], 1e-12);
    }
    assertFalse(init.w().isClosed());
    assertFalse(init.velocity().isClosed());
  }

  @Test
  void tensorsCarriedOnUnchangedAndTheCallersStayOpen() {
    try (Scope outer = Scope.open()) {
      Tensor fixed = Tensor.of(5.0, 6.0);  // made outside the loop, carried through every step
      List<Tensor> init = List.of(Tensor.of(0.0), fixed);
      List<Tensor> seen = new ArrayList<>();
      List<Tensor> out = Scope.loop(10, init, (step, cur) -> {
        seen.add(cur.get(0));
        return List.of(cur.get(0).add(1.0), cur.get(1));
      });
      assertEquals(10.0, out.get(0).item(), 0.0);
      assertSame(fixed, out.get(1));
      assertFalse(fixed.isClosed());
      assertFalse(init.get(0).isClosed(), "init is the caller's");
      // the iterates of steps 1..9 were the loop's own: released once replaced
      for (int i = 1; i < 10; i++) assertTrue(seen.get(i).isClosed(), "iterate " + i);
      assertThrows(IllegalStateException.class, () -> seen.get(5).add(1.0));
      // a loop-made tensor carried on unchanged for a while is released only once dropped
      Map<String, Tensor> m = Scope.loop(6, Map.of("a", Tensor.of(1.0), "b", Tensor.of(1.0)), (step, cur) -> {
        Tensor b = step == 2 ? cur.get("b").mul(3.0) : cur.get("b");  // made at step 2, then carried on
        return Map.of("a", cur.get("a").add(1.0), "b", b);
      });
      assertEquals(7.0, m.get("a").item(), 0.0);
      assertEquals(3.0, m.get("b").item(), 0.0);
      // zero steps: init back, nothing made
      assertSame(init, Scope.loop(0, init, (step, cur) -> fail("no step runs")));
    }
  }

  @Test
  void aStepThatThrowsReleasesTheLoopsIterate() {
    long before = LiveTensors.settled();
    Tensor x0 = Tensor.of(1.0, 2.0);
    Tensor[] last = new Tensor[1];
    RuntimeException e = assertThrows(RuntimeException.class, () -> Scope.loop(5, x0, (step, cur) -> {
      if (step == 3) {
        last[0] = cur;
        throw new RuntimeException("step 3 fails");
      }
      return cur.mul(2.0);
    }));
    assertEquals("step 3 fails", e.getMessage());
    assertTrue(last[0].isClosed(), "the iterate of step 2 was the loop's: released");
    assertFalse(x0.isClosed());
    assertEquals(before + 1, LiveTensors.now(), "only x0 is left");
    assertNull(Scope.current(), "the step's scope is closed");
    x0.close();
    assertThrows(IllegalArgumentException.class, () -> Scope.loop(-1, x0, (step, cur) -> cur));
  }

  @Test
  void aLongLivedScopeDoesNotKeepEveryTensorThatPassedThrough() {
    try (Scope outer = Scope.open()) {
      Tensor x = Scope.loop(100_000, Tensor.of(0.0), (step, cur) -> cur.add(1.0));
      assertEquals(100_000.0, x.item(), 0.0);
      assertEquals(2, outer.ownedCount());
      assertTrue(outer.ownedCapacity() <= 64, "slots: " + outer.ownedCapacity());
    }
    // a scope that owns many tensors still grows as before
    try (Scope s = Scope.open()) {
      for (int i = 0; i < 1000; i++) Tensor.of(i);
      assertEquals(1000, s.ownedCount());
      assertTrue(s.ownedCapacity() >= 1000);
    }
  }
}
