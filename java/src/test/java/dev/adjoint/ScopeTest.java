package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Scopes release what they own, keep what they are told to, and nest strictly. */
class ScopeTest {
  @Test
  void scopeReleasesEverythingItCreated() {
    long before = LiveTensors.settled();
    Tensor a;
    try (Scope s = Scope.open()) {
      a = Tensor.ones(4, 4);
      Tensor b = a.mul(2.0).add(a).tanh();
      assertEquals(4, s.ownedCount());
      assertFalse(b.isClosed());
    }
    assertTrue(a.isClosed());
    assertEquals(before, LiveTensors.now());
    assertThrows(IllegalStateException.class, () -> a.add(a));
  }

  @Test
  void keptTensorsSurviveAndMoveToTheParent() {
    long before = LiveTensors.settled();
    try (Scope outer = Scope.open()) {
      Tensor kept;
      try (Scope inner = Scope.open()) {
        Tensor x = Tensor.full(3.0, 2);
        kept = inner.keep(x.mul(x));
      }
      assertFalse(kept.isClosed());
      assertArrayEquals(new float[] {9f, 9f}, kept.toFloatArray());
      assertEquals(1, outer.ownedCount());
    }
    assertEquals(before, LiveTensors.now());
  }

  @Test
  void aKeptVjpResultKeepsItsPullback() {
    long before = LiveTensors.settled();
    try (Scope outer = Scope.open()) {
      Tensor x = Tensor.fromArray(new double[] {1, 2}, 2);
      Tensor ct = Tensor.fromArray(new double[] {1, 1}, 2);
      VjpResult single, general;
      try (Scope inner = Scope.open()) {
        single = inner.keep(Func.vjp(u -> u.mul(u), x));
        general = inner.keep(Func.vjp((FnN) a -> ((Tensor) a[0]).mul((Tensor) a[0]), x));
      }
      assertArrayEquals(new double[] {2, 4}, single.applyTensor(ct).toDoubleArray(), 0.0);
      assertArrayEquals(new double[] {2, 4}, general.applyTensor(ct).toDoubleArray(), 0.0);
    }
    assertEquals(before, LiveTensors.now());
  }

  @Test
  void runKeepsResultsInsideCollections() {
    long before = LiveTensors.settled();
    try (Scope outer = Scope.open()) {
      Map<String, List<Tensor>> r = Scope.run(() -> Map.of("a", List.of(Tensor.ones(2).add(1.0), Tensor.zeros(3))));
      assertEquals(2.0f, r.get("a").get(0).toFloatArray()[0]);
      assertEquals(2, outer.ownedCount());
    }
    assertEquals(before, LiveTensors.now());
  }

  @Test
  void tensorsKeptOutOfTheOutermostScopeGoToTheCleaner() throws Exception {
    Tensor t;
    try (Scope s = Scope.open()) {
      t = s.keep(Tensor.ones(8));
    }
    assertFalse(t.isClosed());
    assertEquals(8.0, t.sum().item());
    t.close();
    t.close();  // idempotent
    assertTrue(t.isClosed());
  }

  @Test
  void scopesMustCloseInnermostFirst() {
    Scope outer = Scope.open();
    Scope inner = Scope.open();
    assertThrows(IllegalStateException.class, outer::close);
    inner.close();
    outer.close();
    assertNull(Scope.current());
  }

  @Test
  void closingATensorEarlyIsSafe() {
    long before = LiveTensors.settled();
    try (Scope s = Scope.open()) {
      Tensor a = Tensor.ones(3);
      a.close();
      assertTrue(a.isClosed());
    }
    assertEquals(before, LiveTensors.now());
  }

  @Test
  void cleanerReleasesUnscopedTensors() throws Exception {
    long before = LiveTensors.settled();
    for (int i = 0; i < 20_000; i++) Tensor.ones(16).add(1.0);  // never closed, never scoped
    for (int i = 0; i < 50 && LiveTensors.now() > before + 1000; i++) {
      System.gc();
      Thread.sleep(20);
    }
    assertTrue(LiveTensors.now() <= before + 1000, "Cleaner left " + (LiveTensors.now() - before) + " tensors alive");
  }
}
