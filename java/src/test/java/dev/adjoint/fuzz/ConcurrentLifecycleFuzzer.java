package dev.adjoint.fuzz;

import dev.adjoint.Adjoint;
import dev.adjoint.Func;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import dev.adjoint.VmapOptions;
import dev.adjoint.fuzz.ProgramFuzzer.Rng;
import dev.adjoint.internal.NativeCore;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The concurrent lifecycle fuzzer: several threads share tensors (some owned by a {@link Scope}
 * of one of the threads, some unscoped and left to the Cleaner) and at random compute with them
 * (ops, and grad/vmap/jacrev/vjp/jvp/hessian over them), close them ({@code Tensor.close}, also
 * the same tensor from several threads at once), close the scope that owns them while other
 * threads use them, replace them and drop the old ones as garbage.
 *
 * <p>Contract: every computation either returns the value computed single-threaded beforehand, or
 * throws {@link IllegalStateException} (it used a closed tensor); never another exception, never
 * a wrong value, never a crash; close is idempotent and thread-safe (a close storm on the same
 * tensors releases each exactly once); after everything is closed and the Cleaner had its turn,
 * {@code Adjoint.memoryStats().liveTensors()} is back at the baseline: not above (a leak), not
 * below (a double release).
 *
 * <p>A run is a series of rounds, one per seed, each a fresh set of shared tensors and threads
 * for about half a second, then a close storm, then the count check. The seed fixes each
 * thread's random choices (the interleaving is the scheduler's). {@code @seed N} precedes each
 * round, for {@link ConcurrentLifecycleFuzzTest} to name the round a crash hit.
 *
 * <pre>
 * java -cp ... dev.adjoint.fuzz.ConcurrentLifecycleFuzzer [--seed FIRST] [--seconds S]
 *      [--threads T] [--round-ms MS] [--progress] [--verbose]
 * </pre>
 */
public final class ConcurrentLifecycleFuzzer {
  private ConcurrentLifecycleFuzzer() {}

  static final int SLOTS = 10, N = 4, OPS = 12;

  /** One computation over two shared vectors a and b, giving one tensor. */
  static Tensor op(int k, Tensor a, Tensor b) {
    switch (k) {
      case 0:
        return a.add(b);
      case 1:
        return a.mul(b).tanh();
      case 2:
        return a.sub(b).exp().sum();
      case 3:
        return Func.grad((Tensor x) -> x.mul(b).sin().sum()).apply(a);
      case 4:
        return Func.vmap((Tensor r) -> r.mul(r).sum().add(b.sum()), VmapOptions.inDims(0)).apply(a.reshape(2, 2));
      case 5:
        return Func.jacrev((Tensor x) -> x.tanh().mul(b)).apply(a);
      case 6:
        return Func.vjp((Tensor x) -> x.sin().mul(b), a).applyTensor(b);
      case 7:
        return Func.jvp((Tensor x) -> x.exp().mul(a), a, b).tangent();
      case 8:
        return a.reshape(2, 2).matmul(b.reshape(2, 2)).t().contiguous();
      case 9:
        return Func.hessian((Tensor x) -> x.pow(3.0).mul(b).sum()).apply(a);
      case 10:
        return a.slice(0, 1, 3).add(b.slice(0, 0, 2)).softmax(0);
      default:
        return Tensor.stack(List.of(a, b, a), 0).logsumexp(0);
    }
  }

  static final String[] OP_NAMES = {"add", "mul.tanh", "sub.exp.sum", "grad", "vmap", "jacrev", "vjp", "jvp", "matmul", "hessian", "slice.softmax",
      "stack.logsumexp"};

  /** A shared slot: its values never change (a replacement holds the same values), its tensor may. */
  static final class Shared {
    final double[][] values = new double[SLOTS][];
    final AtomicReferenceArray<Tensor> slots = new AtomicReferenceArray<>(SLOTS);
    final double[][][][] expected = new double[OPS][SLOTS][SLOTS][];  // [op][i][j] -> values
  }

  /** What the threads found; the first failure per round is enough to name the round. */
  static final class Outcome {
    final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    final AtomicLong computed = new AtomicLong(), closedSeen = new AtomicLong(), closes = new AtomicLong(), replaced = new AtomicLong(),
        scopeCloses = new AtomicLong(), dropped = new AtomicLong();
    final Map<String, Long> unexpected = new ConcurrentHashMap<>();
  }

  static Tensor vec(double[] v) {
    return Tensor.fromArray(v, N);
  }

  public static void main(String[] argv) {
    long seed = 1;
    double seconds = 4;
    int threads = 4, roundMs = 500;
    boolean progress = false, verbose = false;
    for (int i = 0; i < argv.length; i++) {
      switch (argv[i]) {
        case "--seed":
          seed = Long.parseLong(argv[++i]);
          break;
        case "--seconds":
          seconds = Double.parseDouble(argv[++i]);
          break;
        case "--threads":
          threads = Integer.parseInt(argv[++i]);
          break;
        case "--round-ms":
          roundMs = Integer.parseInt(argv[++i]);
          break;
        case "--progress":
          progress = true;
          break;
        case "--verbose":
          verbose = true;
          break;
        default:
          System.err.println("unknown argument " + argv[i]
              + "; usage: ConcurrentLifecycleFuzzer [--seed FIRST] [--seconds S] [--threads T] [--round-ms MS] [--progress] [--verbose]");
          System.exit(2);
      }
    }
    System.exit(run(seed, seconds, threads, roundMs, progress, verbose, System.out) ? 0 : 1);
  }

  static boolean run(long seed, double seconds, int threads, int roundMs, boolean progress, boolean verbose, PrintStream out) {
    long t0 = System.nanoTime(), deadline = t0 + (long) (seconds * 1e9);
    List<Long> failed = new ArrayList<>();
    Map<String, Long> totals = new TreeMap<>();
    long s = seed;
    int rounds = 0;
    do {
      if (progress) {
        out.println("@seed " + s);
        out.flush();
      }
      List<String> f;
      try {
        f = round(s, threads, roundMs, verbose, out, totals);
      } catch (Throwable e) {
        f = List.of("the round itself failed: " + e);
        e.printStackTrace(out);
      }
      if (!f.isEmpty()) {
        failed.add(s);
        out.println("FAIL seed=" + s + ": " + f.get(0) + (f.size() > 1 ? " (and " + (f.size() - 1) + " more failures in this round)" : ""));
        for (int i = 1; i < Math.min(f.size(), 4); i++) out.println("  also: " + f.get(i));
        out.println("  reproduce: mvn -B -f java/pom.xml test -Dtest=ConcurrentLifecycleFuzzTest -Dfuzz.seed=" + s + " -Dfuzz.concurrent.seconds=1");
      }
      s++;
      rounds++;
    } while (System.nanoTime() < deadline && failed.size() < 5);
    out.printf(Locale.ROOT, "concurrent: seeds %d..%d: %d rounds of %d threads in %.1f s, %d failed%n", seed, s - 1, rounds, threads,
        (System.nanoTime() - t0) / 1e9, failed.size());
    out.println("concurrent: totals: " + totals);
    if (!failed.isEmpty()) out.println("concurrent: FAILED seeds: " + failed);
    out.flush();
    return failed.isEmpty();
  }

  /** One round: shared tensors, the threads, a close storm, the count check. Returns its failures. */
  static List<String> round(long seed, int nThreads, int roundMs, boolean verbose, PrintStream out, Map<String, Long> totals) throws Exception {
    Rng r = new Rng(seed * 7919 + 17);
    // Settle what earlier rounds left to the Cleaner before taking the baseline.
    long baseline = settle(Long.MIN_VALUE);
    Shared sh = new Shared();
    for (int i = 0; i < SLOTS; i++) {
      sh.values[i] = new double[N];
      for (int e = 0; e < N; e++) sh.values[i][e] = r.uniform(-1.5, 1.5);
    }
    // The reference: every op on every pair, single-threaded, before any thread starts.
    try (Scope s = Scope.open()) {
      Tensor[] t = new Tensor[SLOTS];
      for (int i = 0; i < SLOTS; i++) t[i] = vec(sh.values[i]);
      for (int k = 0; k < OPS; k++)
        for (int i = 0; i < SLOTS; i++)
          for (int j = 0; j < SLOTS; j++) sh.expected[k][i][j] = op(k, t[i], t[j]).toDoubleArray();
    }
    for (int i = 0; i < SLOTS; i++) sh.slots.set(i, vec(sh.values[i]));  // unscoped: the Cleaner's, unless closed

    Outcome oc = new Outcome();
    long end = System.nanoTime() + roundMs * 1_000_000L;
    List<Thread> ts = new ArrayList<>();
    for (int k = 0; k < nThreads; k++) {
      long ts0 = seed * 1000 + k;
      Thread th = new Thread(() -> worker(new Rng(ts0), sh, oc, end), "lifecycle-" + k);
      th.setUncaughtExceptionHandler((tt, e) -> oc.failures.add(tt.getName() + " died: " + e));
      ts.add(th);
    }
    for (Thread th : ts) th.start();
    for (Thread th : ts) th.join(60_000);
    for (Thread th : ts)
      if (th.isAlive()) oc.failures.add(th.getName() + " still running 60 s after its round ended (a deadlock?)");
    ts.clear();  // ended threads are dropped, as a user's would be: what they left is released when they are collected

    // Close what the slots hold (some already closed: close is idempotent), then let the Cleaner run.
    for (int i = 0; i < SLOTS; i++) {
      Tensor t = sh.slots.getAndSet(i, null);
      if (t != null) t.close();
    }
    long live = settle(baseline);
    if (live != baseline)
      oc.failures.add("native live tensors " + live + " after closing everything and GC, baseline " + baseline + " ("
          + (live > baseline ? "a leak" : "released more than created: a double release") + ")");
    if (NativeCore.adj_level_depth() != 0) oc.failures.add("transform levels left on the main thread's stack: " + NativeCore.adj_level_depth());
    if (live == baseline) closeStorm(r, nThreads, oc);  // on a steady count only: the Cleaner must not release anything meanwhile

    totals.merge("computed", oc.computed.get(), Long::sum);
    totals.merge("closedSeen", oc.closedSeen.get(), Long::sum);
    totals.merge("closes", oc.closes.get(), Long::sum);
    totals.merge("replaced", oc.replaced.get(), Long::sum);
    totals.merge("dropped", oc.dropped.get(), Long::sum);
    totals.merge("scopeCloses", oc.scopeCloses.get(), Long::sum);
    if (verbose)
      out.printf(Locale.ROOT, "seed %d: %d computed, %d saw a closed tensor, %d closes, %d replaced, %d dropped, %d scope closes; live %d (baseline %d)%n",
          seed, oc.computed.get(), oc.closedSeen.get(), oc.closes.get(), oc.replaced.get(), oc.dropped.get(), oc.scopeCloses.get(), live, baseline);
    synchronized (oc.failures) {
      return new ArrayList<>(oc.failures);
    }
  }

  /**
   * GC and wait (up to about 5 s) until the live count stops falling to {@code target}; returns it.
   * With no target, until it is steady.
   */
  static long settle(long target) throws InterruptedException {
    long live = drainedLive(), last = Long.MAX_VALUE;
    for (int i = 0; i < 100; i++) {
      if (target != Long.MIN_VALUE ? live <= target : (live == last && i > 2)) break;
      last = live;
      System.gc();
      Thread.sleep(i < 5 ? 5 : 50);
      live = drainedLive();
    }
    return live;
  }

  /**
   * The live count after this thread took its turn: a tensor made on this thread and closed on
   * another is released by this thread when it next makes a tensor or opens or closes a scope
   * (Tensor's and ThreadState's NOTE), so the count is read after opening and closing one.
   */
  static long drainedLive() {
    Scope.open().close();
    return Adjoint.memoryStats().liveTensors();
  }

  static void worker(Rng r, Shared sh, Outcome oc, long end) {
    List<Scope> mine = new ArrayList<>();  // this thread's open scopes, innermost last
    try {
      while (System.nanoTime() < end) {
        int act = r.weighted(70, 5, 14, 4, 3, 3, 1);
        int i = r.below(SLOTS), j = r.below(SLOTS);
        switch (act) {
          case 0: { // compute
            int k = r.below(OPS);
            Tensor a = sh.slots.get(i), b = sh.slots.get(j);
            if (a == null || b == null) break;
            String what = OP_NAMES[k] + "(slot " + i + ", slot " + j + ")";
            try {
              Tensor y = op(k, a, b);
              double[] got = y.toDoubleArray();
              double[] want = sh.expected[k][i][j];
              if (!close(got, want)) oc.failures.add(Thread.currentThread().getName() + ": " + what + " = " + Arrays.toString(got) + ", computed alone "
                  + Arrays.toString(want));
              if (r.chance(0.5)) y.close();  // else its scope's, or the Cleaner's
              oc.computed.incrementAndGet();
            } catch (IllegalStateException e) {
              oc.closedSeen.incrementAndGet();
              String m = String.valueOf(e.getMessage());
              if (m.startsWith("adjoint internal error")) oc.failures.add(Thread.currentThread().getName() + ": " + what + " threw " + e);
            } catch (Throwable e) {
              oc.failures.add(Thread.currentThread().getName() + ": " + what + " threw " + e.getClass().getName() + " (not IllegalStateException): "
                  + SpecialCase.firstLine(e.getMessage()));
            }
            break;
          }
          case 1: { // close a shared tensor (it stays in its slot, closed, until replaced)
            Tensor t = sh.slots.get(i);
            if (t != null) {
              t.close();
              if (r.chance(0.3)) t.close();
              oc.closes.incrementAndGet();
              if (!t.isClosed()) oc.failures.add(Thread.currentThread().getName() + ": isClosed() false right after close()");
            }
            break;
          }
          case 2: { // replace: a fresh tensor with the same values (in this thread's scope if one is open), the old one closed or dropped
            Tensor fresh = vec(sh.values[i]);
            Tensor old = sh.slots.getAndSet(i, fresh);
            oc.replaced.incrementAndGet();
            if (old != null && r.chance(0.5)) old.close();
            else oc.dropped.incrementAndGet();
            break;
          }
          case 3: // open a scope: the tensors this thread publishes until it closes are the scope's
            if (mine.size() < 3) mine.add(Scope.open());
            break;
          case 4: // close the innermost scope, while the other threads may be using its tensors
            if (!mine.isEmpty()) {
              mine.remove(mine.size() - 1).close();
              oc.scopeCloses.incrementAndGet();
            }
            break;
          case 5: { // a temporary made and dropped unclosed: garbage for the Cleaner
            Tensor a = sh.slots.get(i);
            if (a != null) {
              try {
                a.mul(2.0);
              } catch (IllegalStateException e) {
                oc.closedSeen.incrementAndGet();
              }
            }
            break;
          }
          default:
            if (r.chance(0.3)) System.gc();
            else Thread.yield();
        }
      }
    } finally {
      while (!mine.isEmpty()) {
        mine.remove(mine.size() - 1).close();
        oc.scopeCloses.incrementAndGet();
      }
      if (NativeCore.adj_level_depth() != 0)
        oc.failures.add(Thread.currentThread().getName() + ": transform levels left on its stack: " + NativeCore.adj_level_depth());
    }
  }

  static boolean close(double[] got, double[] want) {
    if (got.length != want.length) return false;
    for (int i = 0; i < got.length; i++) {
      double d = Math.abs(got[i] - want[i]);
      if (!(d <= 1e-12 * Math.max(1, Math.abs(want[i])))) return false;
    }
    return true;
  }

  /**
   * Many tensors closed by all threads at once (each tensor by several), while the main thread
   * closes the scope that owns half of them: every tensor must be released exactly once.
   */
  static void closeStorm(Rng r, int nThreads, Outcome oc) throws Exception {
    long before = drainedLive();
    int m = 64;
    Tensor[] ts = new Tensor[m];
    Scope scope = Scope.open();
    for (int i = 0; i < m / 2; i++) ts[i] = Tensor.fromArray(new double[] {i}, 1);  // the scope's
    Scope held = scope;
    // the other half unscoped: created on a thread with no scope
    Thread maker = new Thread(() -> {
      for (int i = m / 2; i < m; i++) ts[i] = Tensor.fromArray(new double[] {i}, 1);
    });
    maker.start();
    maker.join();
    long created = Adjoint.memoryStats().liveTensors() - before;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> closers = new ArrayList<>();
    for (int k = 0; k < nThreads; k++) {
      int[] order = new int[m];
      for (int i = 0; i < m; i++) order[i] = i;
      for (int i = m - 1; i > 0; i--) {
        int j = r.below(i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      Thread th = new Thread(() -> {
        try {
          go.await();
          for (int i : order) ts[i].close();
        } catch (Throwable e) {
          oc.failures.add("close storm: close threw " + e);
        }
      }, "closer-" + k);
      closers.add(th);
      th.start();
    }
    go.countDown();
    held.close();  // the scope closes its half while the closers close the same tensors
    for (Thread th : closers) th.join(60_000);
    oc.closes.addAndGet((long) m * nThreads);
    for (Tensor t : ts)
      if (!t.isClosed()) oc.failures.add("close storm: a tensor is not closed after everyone closed it");
    long after = drainedLive();
    if (created != m) oc.failures.add("close storm: creating " + m + " tensors raised the live count by " + created);
    else if (after != before)
      oc.failures.add("close storm: live tensors " + before + " -> " + after + " after creating " + m + " and closing each from " + nThreads
          + " threads at once (" + (after < before ? "some released twice" : "some never released") + ")");
  }
}
