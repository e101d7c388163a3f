package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adjoint.internal.NativeCore;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Programs with long tapes: a chain of 200,000 traced ops is built, differentiated and released
 * without the native core recursing once per op (which overflowed the stack and killed the JVM
 * with SIGSEGV). Each case runs on a Java thread with a 256 KiB stack, so a recursion even a few
 * thousand frames deep would fail here; the Cleaner case releases the tape on the Cleaner's own
 * thread.
 */
class DeepTapeTest {
  static final int STEPS = 200_000;
  static final long SMALL_STACK = 256 * 1024;

  interface Body {
    void run() throws Exception;
  }

  /** Runs body on a new thread with a 256 KiB stack and rethrows what it threw. */
  static void onSmallStack(Body body) throws Throwable {
    AtomicReference<Throwable> error = new AtomicReference<>();
    Thread t = new Thread(null, () -> {
      try {
        body.run();
      } catch (Throwable e) {
        error.set(e);
      }
    }, "small-stack", SMALL_STACK);
    t.start();
    t.join();
    if (error.get() != null) throw error.get();
  }

  /** t + 1 + 1 + ... (n adds): one tape node per add, each the input of the next. */
  static Tensor chain(Tensor t, int n) {
    Tensor y = t;
    for (int i = 0; i < n; i++) y = y.add(1.0);
    return y;
  }

  @Test
  void gradOfAChainOf200kAdds() throws Throwable {
    onSmallStack(() -> {
      try (Scope s = Scope.open()) {
        Fn1 f = t -> chain(t, STEPS).sum();
        Tensor g = Func.grad(f).apply(Tensor.of(1.0, 2.0, 3.0));
        assertArrayEquals(new double[] {1, 1, 1}, g.toDoubleArray());
      }  // the scope releases the 200k traced tensors, the last of them the whole tape
    });
  }

  @Test
  void vjpOfAChainPulledBack() throws Throwable {
    onSmallStack(() -> {
      try (Scope s = Scope.open()) {
        Fn1 f = t -> chain(t.mul(2.0), STEPS);
        VjpResult r = Func.vjp(f, Tensor.of(1.0, -1.0));
        assertArrayEquals(new double[] {2 + STEPS, -2 + STEPS}, r.output().toDoubleArray());
        assertArrayEquals(new double[] {6, -8}, r.applyTensor(Tensor.of(3.0, -4.0)).toDoubleArray());
      }
    });
  }

  @Test
  void droppedVjpResultIsFreedByTheCleaner() throws Throwable {
    System.gc();
    long before = Adjoint.memoryStats().liveTensors();
    onSmallStack(() -> {
      // outside any scope: every tensor, and the tape with them, goes to the Cleaner
      Fn1 f = t -> chain(t, STEPS);
      VjpResult r = Func.vjp(f, Tensor.of(0.5));
      assertEquals(0.5 + STEPS, r.output().item(), 0.0);
    });
    long deadline = System.nanoTime() + 60_000_000_000L;
    long live;
    do {
      System.gc();
      Thread.sleep(50);
      live = Adjoint.memoryStats().liveTensors();
    } while (live > before + 100 && System.nanoTime() < deadline);
    assertTrue(live <= before + 100, "the Cleaner did not release the tape: " + live + " live tensors, " + before + " before");
    // the process is alive and the thread's native state is intact
    try (Scope s = Scope.open()) {
      Fn1 f = t -> t.mul(t).sum();
      assertArrayEquals(new double[] {4}, Func.grad(f).apply(Tensor.of(2.0)).toDoubleArray());
    }
  }

  @Test
  void exceptionThrownAfterALongTape() throws Throwable {
    onSmallStack(() -> {
      int depth = NativeCore.adj_level_depth();
      IllegalStateException boom = new IllegalStateException("boom");
      try (Scope s = Scope.open()) {
        Fn1 f = t -> {
          chain(t, STEPS);
          throw boom;
        };
        assertSame(boom, assertThrows(IllegalStateException.class, () -> Func.grad(f).apply(Tensor.of(1.0, 2.0))));
        assertEquals(depth, NativeCore.adj_level_depth(), "the grad level was not ended");
        // a native error after a long tape, too
        Fn1 bad = t -> chain(t, STEPS).add(Tensor.of(1.0, 2.0, 3.0)).sum();
        AdjointArgumentException e = assertThrows(AdjointArgumentException.class, () -> Func.grad(bad).apply(Tensor.of(1.0, 2.0)));
        assertTrue(e.getMessage().startsWith("add: "), e.getMessage());
        assertEquals(depth, NativeCore.adj_level_depth(), "the grad level was not ended");
      }
    });
  }

  static final int NESTED_STEPS = 50_000;

  /** f(x) = sum(x^2 + n) through n adds: gradient 2x, Hessian 2 I. */
  static final Fn1 SQUARE_CHAIN = t -> chain(t.mul(t), NESTED_STEPS).sum();

  @Test
  void gradOfGradOfALongChain() throws Throwable {
    onSmallStack(() -> {
      try (Scope s = Scope.open()) {
        Fn1 g = t -> Func.grad(SQUARE_CHAIN).apply(t).sum();  // the inner backward pass is taped too
        assertArrayEquals(new double[] {2, 2}, Func.grad(g).apply(Tensor.of(1.0, -3.0)).toDoubleArray());
      }
    });
  }

  @Test
  void vmapAndJvpOfALongGradChain() throws Throwable {
    onSmallStack(() -> {
      try (Scope s = Scope.open()) {
        Fn1 grad = Func.grad(SQUARE_CHAIN);
        Tensor rows = Tensor.of(new double[][] {{1, 2}, {3, 4}});
        assertArrayEquals(new double[] {2, 4, 6, 8}, Func.vmap(grad).apply(rows).toDoubleArray());
        JvpResult r = Func.jvp(grad, Tensor.of(1.0, 2.0), Tensor.of(3.0, -1.0));
        assertArrayEquals(new double[] {6, -2}, r.tangent().toDoubleArray());
      }
    });
  }
}
