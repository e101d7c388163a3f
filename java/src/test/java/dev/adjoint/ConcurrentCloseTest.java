package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Closing a tensor (or its scope) while other threads compute with it or close it too: each use
 * either finishes with the right value or throws IllegalStateException, a double close does
 * nothing, and no native memory is freed twice or used after its free (a crash, a heap abort, or
 * a wrong value would show it; the suite also runs under AddressSanitizer).
 */
class ConcurrentCloseTest {
  /** Live native tensors now, after letting the Cleaner catch up. */
  private static long liveTensors() {
    return LiveTensors.settled();
  }

  /** sum(2 x) computed by `user`, compared with the value computed before; counts the outcomes. */
  private static void useUntilClosed(Tensor x, double expected, AtomicInteger right, AtomicInteger refused, CountDownLatch started) {
    started.countDown();
    for (int k = 0; k < 100_000; k++) {
      try (Scope s = Scope.open()) {
        double v = x.mul(2.0).sum().item();
        assertEquals(expected, v, Math.abs(expected) * 1e-6, "a use racing a close gave a wrong value");
        right.incrementAndGet();
      } catch (IllegalStateException e) {
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        refused.incrementAndGet();
        return;
      }
    }
  }

  @Test
  @Timeout(120)
  void closingOnTheHomeThreadWhileOthersComputeWaitsForTheirCalls() throws Exception {
    long before = liveTensors();
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      for (int round = 0; round < 40; round++) {
        // large enough that a call is in flight when the close comes (a freed block would fault
        // or be reused), small enough for CI
        long n = round % 4 == 0 ? 20_000_000 : 1 + ThreadLocalRandom.current().nextInt(5000);
        Tensor x = Tensor.full(0.5, DType.FLOAT32, n);  // unscoped, home = this thread
        double expected = (double) n;
        AtomicInteger right = new AtomicInteger(), refused = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(3);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 3; t++) fs.add(pool.submit(() -> useUntilClosed(x, expected, right, refused, started)));
        started.await();
        Thread.sleep(ThreadLocalRandom.current().nextInt(3));
        x.close();
        x.close();  // idempotent
        for (Future<?> f : fs) f.get(60, TimeUnit.SECONDS);
        assertTrue(x.isClosed());
        assertThrows(IllegalStateException.class, () -> x.mul(2.0));
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(before, liveTensors(), "every closed tensor's memory came back");
  }

  @Test
  @Timeout(120)
  void closingFromAnotherThreadWhileTheHomeThreadComputes() throws Exception {
    long before = liveTensors();
    for (int round = 0; round < 40; round++) {
      long n = round % 4 == 0 ? 20_000_000 : 1 + ThreadLocalRandom.current().nextInt(5000);
      Tensor x = Tensor.full(0.25, DType.FLOAT32, n);
      AtomicInteger right = new AtomicInteger(), refused = new AtomicInteger();
      CountDownLatch started = new CountDownLatch(1);
      Thread closer = new Thread(() -> {
        try {
          started.await();
          Thread.sleep(ThreadLocalRandom.current().nextInt(3));
        } catch (InterruptedException e) {
          throw new RuntimeException(e);
        }
        x.close();
      });
      closer.start();
      useUntilClosed(x, n * 0.5, right, refused, started);  // this (home) thread computes
      closer.join();
      assertEquals(1, refused.get(), "the home thread sees the close as IllegalStateException");
    }
    Tensor.zeros(1);  // the home thread's next tensor frees what the closers handed to it
    assertEquals(before, liveTensors());
  }

  @Test
  @Timeout(120)
  void scopeClosingWhileOtherThreadsCloseItsTensors() throws Exception {
    long before = liveTensors();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int round = 0; round < 300; round++) {
        List<Tensor> ts = new ArrayList<>();
        Scope scope = Scope.open();
        for (int i = 0; i < 64; i++) ts.add(Tensor.full(i, DType.FLOAT64, 1 + i % 7));
        CyclicBarrier go = new CyclicBarrier(3);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
          fs.add(pool.submit(() -> {
            go.await();
            for (Tensor x : ts) x.close();  // both threads close all of them
            return null;
          }));
        }
        go.await();
        scope.close();
        for (Future<?> f : fs) f.get(30, TimeUnit.SECONDS);
        for (Tensor x : ts) assertTrue(x.isClosed());
      }
    } finally {
      pool.shutdownNow();
    }
    Tensor.zeros(1);
    assertEquals(before, liveTensors(), "each tensor freed exactly once");
  }

  @Test
  @Timeout(60)
  void aScopeLeftOpenByAThreadThatEndsIsReleased() throws Exception {
    long before = liveTensors();
    AtomicReference<Tensor> leaked = new AtomicReference<>();
    Thread t = new Thread(() -> {
      Scope.open();  // never closed
      for (int i = 0; i < 100; i++) Tensor.ones(1000);
      leaked.set(Tensor.ones(3));
    });
    t.start();
    t.join();
    assertFalse(leaked.get().isClosed());
    t = null;
    // A later thread's first use reaps ended threads; the Cleaner does it once the Thread is collected.
    Thread next = new Thread(() -> Tensor.zeros(1).close());
    next.start();
    next.join();
    assertTrue(leaked.get().isClosed(), "the ended thread's scope was closed");
    assertEquals(before, liveTensors());
  }

  @Test
  @Timeout(120)
  void sharedTensorsUnderManyThreadsWithRandomCloses() throws Exception {
    long before = liveTensors();
    int threads = 4;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 30; round++) {
        List<Tensor> shared = new ArrayList<>();
        double[] sums = new double[16];
        for (int i = 0; i < 16; i++) {
          shared.add(Tensor.arange(0, 100 + i, 1, DType.FLOAT64));
          sums[i] = (99.0 + i) * (100 + i) / 2;
        }
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          fs.add(pool.submit(() -> {
            ThreadLocalRandom r = ThreadLocalRandom.current();
            for (int k = 0; k < 2000; k++) {
              int i = r.nextInt(16);
              Tensor x = shared.get(i);
              if (r.nextInt(50) == 0) {
                x.close();
                continue;
              }
              try (Scope s = Scope.open()) {
                Fn1 f = u -> u.mul(u).sum();
                double g = Func.grad(f).apply(x).sum().item();  // sum(2 x) = 2 * sum
                assertEquals(2 * sums[i], g, 1e-9);
                assertEquals(sums[i], x.sum().item(), 1e-9);
              } catch (IllegalStateException e) {
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
              }
            }
            return null;
          }));
        }
        for (Future<?> f : fs) f.get(60, TimeUnit.SECONDS);
        for (Tensor x : shared) x.close();
      }
    } finally {
      pool.shutdownNow();
    }
    Tensor.zeros(1);
    assertEquals(before, liveTensors());
  }

  /**
   * A close from another thread is a request the home thread carries out: from the moment it
   * returns, every thread sees the tensor closed and no use succeeds; the home thread frees it
   * (once) when it next makes a tensor, and its scope's close does not free it again.
   */
  @Test
  @Timeout(60)
  void aCloseFromAnotherThreadIsSeenByTheHomeThreadAndFreedOnce() throws Exception {
    long before = liveTensors();
    for (int round = 0; round < 200; round++) {
      Tensor unscoped = Tensor.ones(3);  // owned by the Cleaner, not a scope
      try (Scope s = Scope.open()) {
        Tensor x = Tensor.arange(0, 8, 1, DType.FLOAT64);
        Thread other = new Thread(() -> {
          x.close();
          x.close();  // a second request does nothing
          assertTrue(x.isClosed());
          assertThrows(IllegalStateException.class, x::sum);
          unscoped.close();
        });
        other.start();
        other.join();  // happens-before: the home thread must see both closes
        assertTrue(x.isClosed(), "the home thread sees another thread's close");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> x.mul(2.0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, unscoped::sum);
        Tensor.zeros(1);  // making a tensor frees what other threads closed
        x.close();        // and a close by the home thread now does nothing
      }
    }
    assertEquals(before, liveTensors(), "each closed tensor freed exactly once, none leaked");
  }
}
