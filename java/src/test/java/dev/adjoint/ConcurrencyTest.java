package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Transform state is per thread: eight threads running different nested transforms at once get
 * bit-for-bit the results of the same computations run one after another, and a tracer handed to
 * another thread while its transform runs is rejected there with a clear exception.
 *
 * <p>NOTE: the eight threads run for {@code -Dadjoint.concurrency.seconds} seconds (default 3; the
 * build sets 60, see java/pom.xml), each repeating its transform and comparing every result.
 */
class ConcurrencyTest extends ScopedTest {
  private static final long RUN_SECONDS = Long.getLong("adjoint.concurrency.seconds", 3);

  @AfterEach
  void checkClean() {
    assertEquals(0, NativeCore.adj_level_depth());
  }

  private static Tensor data(double seed, long... shape) {
    long n = 1;
    for (long s : shape) n *= s;
    double[] v = new double[(int) n];
    for (int k = 0; k < v.length; k++) v[k] = 0.9 * Math.sin(1.37 * k + seed) + 0.05;
    return Tensor.fromArray(v, shape);
  }

  /** A named computation; run in its own scope, its result flattened to doubles. */
  private record Task(String name, Supplier<Object> body) {
    double[] run() {
      try (Scope s = Scope.open()) {
        return CompositionTest.Flat.values(body.get());
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Task> tasks(Map<String, Tensor> in) {
    Tensor w = in.get("w"), x = in.get("x"), xs = in.get("xs"), v = in.get("v"), idx = in.get("idx");
    Fn1 scalar = u -> w.matmul(u).tanh().mul(u.slice(0, 0, 12).sin()).sum().add(u.logsumexp(0))
        .add(Tensor.where(u.gt(0.0), u.exp(), u.cos()).mul(u.softmax(0)).sum());
    Fn1 vector = u -> Tensor.cat(List.of(w.matmul(u).tanh().softmax(0), u.indexSelect(0, idx).relu().exp()), 0);
    FnN loss = a -> {
      Map<String, Tensor> p = (Map<String, Tensor>) a[0];
      Tensor logits = ((Tensor) a[1]).matmul(p.get("w1")).add(p.get("b1")).tanh().matmul(p.get("w2"));
      return logits.logsumexp(0).sub(logits.indexSelect(0, (Tensor) a[2]).sum());
    };
    Map<String, Tensor> params = new LinkedHashMap<>();
    params.put("w1", in.get("w1"));
    params.put("b1", in.get("b1"));
    params.put("w2", in.get("w2"));
    Tensor targets = in.get("targets");
    return List.of(
        new Task("hessian", () -> hessian(scalar).apply(x)),
        new Task("vmap(jacrev)", () -> vmap(jacrev(vector)).apply(xs)),
        new Task("jvp(grad)", () -> jvp(grad(scalar), x, v).tangent()),
        new Task("grad(grad)", () -> grad(u -> grad(scalar).apply(u).mul(v).sum()).apply(x)),
        new Task("per-sample grads", () -> vmap(grad(loss), inDims(null, 0, 0)).apply(params, xs, targets)),
        new Task("jacfwd", () -> jacfwd(vector).apply(x)),
        new Task("vjp(grad)", () -> vjp(grad(scalar), x).applyTensor(v)),
        new Task("vmap(vmap) + jvp(vmap)", () -> List.of(
            vmap(vmap(u -> u.mul(u.sum()).tanh())).apply(xs.reshape(4, 2, 16)),
            jvp(vmap(vector), xs, xs.sin()).tangent())));
  }

  private static Map<String, Tensor> inputs() {
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("w", data(0.1, 12, 16));
    in.put("x", data(0.2, 16));
    in.put("xs", data(0.3, 8, 16));
    in.put("v", data(0.4, 16));
    in.put("idx", Tensor.of(3L, 0L, 15L, 7L));
    in.put("w1", data(0.5, 16, 10));
    in.put("b1", data(0.6, 10));
    in.put("w2", data(0.7, 10, 5));
    in.put("targets", Tensor.fromArray(new long[] {0, 4, 2, 1, 3, 3, 0, 2}, 8, 1));
    return in;
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.MINUTES)  // the real bound is on each thread's result below
  void eightThreadsOfNestedTransformsGiveTheSequentialResultsBitForBit() throws Exception {
    Map<String, Tensor> in = inputs();
    List<Task> tasks = tasks(in);
    // sequential reference, computed twice: the computations are deterministic in themselves
    List<double[]> expected = new ArrayList<>();
    for (Task t : tasks) {
      double[] r = t.run();
      assertTrue(r.length > 0, t.name());
      assertArrayEquals(r, t.run(), t.name() + " is not deterministic sequentially");
      expected.add(r);
    }

    int n = tasks.size();
    ExecutorService pool = Executors.newFixedThreadPool(n);
    CyclicBarrier start = new CyclicBarrier(n);
    List<String> failures = Collections.synchronizedList(new ArrayList<>());
    try {
      List<Future<Integer>> runs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Task task = tasks.get(i);
        double[] want = expected.get(i);
        runs.add(pool.submit(() -> {
          start.await(10, TimeUnit.SECONDS);
          long end = System.nanoTime() + RUN_SECONDS * 1_000_000_000L;
          int iterations = 0;
          while (System.nanoTime() < end || iterations < 3) {
            double[] got = task.run();
            iterations++;
            if (!Arrays.equals(want, got)) {
              failures.add(task.name() + " differs from the sequential result in iteration " + iterations);
              break;
            }
            if (NativeCore.adj_level_depth() != 0) {
              failures.add(task.name() + " left a transform level on its thread");
              break;
            }
          }
          assertNull(Scope.current(), "a scope left open on a worker thread");
          return iterations;
        }));
      }
      long total = 0;
      long started = System.nanoTime();
      StringBuilder per = new StringBuilder();
      for (int i = 0; i < n; i++) {
        // each thread stops starting iterations after RUN_SECONDS; one iteration takes milliseconds
        long left = RUN_SECONDS + 60 - (System.nanoTime() - started) / 1_000_000_000L;
        int it = runs.get(i).get(Math.max(left, 1), TimeUnit.SECONDS);
        total += it;
        per.append(i == 0 ? "" : ", ").append(tasks.get(i).name()).append(' ').append(it);
      }
      double secs = (System.nanoTime() - started) / 1e9;
      System.out.printf("ConcurrencyTest: %d threads x %d s (%.1f s wall): %d transform iterations, all bit-for-bit equal to the "
          + "sequential results (%s)%n", n, RUN_SECONDS, secs, total, per);
      assertTrue(failures.isEmpty(), () -> String.join("\n", failures));
      assertTrue(total >= 3 * n, "each thread ran its transform repeatedly: " + total);
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
    // and the same results once more on this thread afterwards
    for (int i = 0; i < n; i++) assertArrayEquals(expected.get(i), tasks.get(i).run(), tasks.get(i).name() + " after the threads");
  }

  /** What the other thread saw when it used a tracer it was handed. */
  private record Attempt(String what, Throwable error) {}

  /**
   * Runs {@code transform} on this thread; its function hands {@code pick(tracer)} to another
   * thread, which runs every probe on it while the transform is still running (this thread waits).
   */
  private static List<Attempt> handOver(Function<Fn1, Tensor> transform, Function<Tensor, Tensor> pick,
      Map<String, Function<Tensor, Object>> probes) throws Exception {
    BlockingQueue<Tensor> handoff = new SynchronousQueue<>();
    CountDownLatch probed = new CountDownLatch(1);
    List<Attempt> attempts = Collections.synchronizedList(new ArrayList<>());
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      Future<?> done = other.submit(() -> {
        try (Scope s = Scope.open()) {
          Tensor t = handoff.take();
          for (Map.Entry<String, Function<Tensor, Object>> p : probes.entrySet()) {
            Throwable err = null;
            try {
              p.getValue().apply(t);
            } catch (Throwable e) {
              err = e;
            }
            attempts.add(new Attempt(p.getKey(), err));
            assertEquals(0, NativeCore.adj_level_depth(), "levels left on the other thread after " + p.getKey());
          }
          // the other thread's own transforms still work
          Tensor y = Tensor.of(0.25, 0.5);
          assertArrayEquals(new double[] {Math.cos(0.25), Math.cos(0.5)}, grad(u -> u.sin().sum()).apply(y).toDoubleArray(), 0.0);
        } catch (InterruptedException e) {
          throw new RuntimeException(e);
        } finally {
          probed.countDown();
        }
        return null;
      });
      Tensor result = transform.apply(u -> {
        try {
          handoff.put(pick.apply(u));
          assertTrue(probed.await(20, TimeUnit.SECONDS), "the other thread did not finish");
        } catch (InterruptedException e) {
          throw new RuntimeException(e);
        }
        return u.sin().sum();
      });
      done.get(20, TimeUnit.SECONDS);
      assertNotNull(result);
      return attempts;
    } finally {
      other.shutdownNow();
    }
  }

  private static void assertRejected(Attempt a, String... fragments) {
    assertNotNull(a.error(), a.what() + " on another thread must throw");
    assertInstanceOf(IllegalStateException.class, a.error(), a.what() + ": " + a.error());
    String msg = a.error().getMessage();
    for (String f : fragments) assertTrue(msg.contains(f), a.what() + ": message lacks '" + f + "': " + msg);
  }

  @Test
  @Timeout(60)
  void aTracerHandedToAnotherThreadIsRejectedThere() throws Exception {
    Tensor x = Tensor.of(0.3, -0.7, 1.1);
    Map<String, Function<Tensor, Object>> probes = new LinkedHashMap<>();
    probes.put("an op", t -> t.mul(2.0));
    probes.put("a binary op with a plain tensor", t -> Tensor.of(1.0, 2.0, 3.0).add(t));
    probes.put("grad", t -> grad(u -> u.exp().sum()).apply(t));
    probes.put("vmap", t -> vmap(u -> u.exp()).apply(t.unsqueeze(0)));
    probes.put("vmap of the tracer itself", t -> vmap(u -> u.exp()).apply(t));
    probes.put("jvp", t -> jvp(u -> u.exp(), t, Tensor.onesLike(x)).tangent());

    // a grad tracer
    Tensor[] g = new Tensor[1];
    List<Attempt> seen = handOver(f -> g[0] = grad(f).apply(x), t -> t, probes);
    assertEquals(probes.size(), seen.size());
    for (Attempt a : seen) assertRejected(a, "another thread");
    assertRejected(seen.get(0), "mul", "grad transform running in another thread");
    assertRejected(seen.get(2), "grad");
    double[] xv = x.toDoubleArray(), gv = g[0].toDoubleArray();
    for (int i = 0; i < 3; i++) assertEquals(Math.cos(xv[i]), gv[i], 0.0, "the transform itself is unaffected");

    // a jvp tracer
    seen = handOver(f -> jvp(f, x, Tensor.onesLike(x)).tangent(), t -> t, probes);
    for (Attempt a : seen) assertRejected(a, "another thread");
    assertRejected(seen.get(0), "jvp transform running in another thread");

    // a vmap tracer, also for reading its values
    Map<String, Function<Tensor, Object>> vprobes = new LinkedHashMap<>(probes);
    vprobes.remove("vmap");
    vprobes.remove("jvp");
    vprobes.put("toDoubleArray", Tensor::toDoubleArray);
    Tensor xs = Tensor.of(new double[][] {{0.3, -0.7, 1.1}, {0.1, 0.2, 0.3}});
    seen = handOver(f -> vmap(f).apply(xs), t -> t, vprobes);
    for (Attempt a : seen) assertRejected(a, "another thread", "vmap");

    // a tensor computed from a tracer (not the argument itself)
    seen = handOver(f -> grad(f).apply(x), t -> t.tanh().mul(t), probes);
    for (Attempt a : seen) assertRejected(a, "another thread");
  }
}
