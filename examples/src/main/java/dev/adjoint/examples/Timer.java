package dev.adjoint.examples;

import dev.adjoint.Adjoint;
import dev.adjoint.Scope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * A small stand-in for {@code torch.utils.benchmark.Timer(stmt).timeit(number)}, used by the
 * examples. For each statement: warm up, pick a number of calls N so that one measurement takes
 * about 0.15 s (at most 500 calls, the notebook's {@code timeit(500)}), then report the median,
 * over several measurements of N calls, of the time per call. Statements compared with each other
 * are measured in turns (A, B, A, B, ...), so a burst of load from other processes hits all of
 * them alike. Every call runs in its own {@link Scope}, so the tensors it creates are released
 * right away and memory stays flat however many calls are timed (checked: the number of live
 * native tensors is the same before and after).
 *
 * <pre>{@code
 * List<Timing> t = Timer.compare(
 *     Timer.stmt("jacfwd(predict)", () -> jacfwd(predict, 2).apply(w, b, x)),
 *     Timer.stmt("jacrev(predict)", () -> jacrev(predict, 2).apply(w, b, x)));
 * System.out.println(t.get(0));   // the statement, its median time per call, how it was measured
 * }</pre>
 *
 * <p>NOTE: on a machine busy with other work, OpenBLAS's worker threads make matmul timings
 * erratic; {@code OPENBLAS_NUM_THREADS=1} steadies them.
 */
final class Timer {
  private Timer() {}

  static final long TARGET_NS = 150_000_000L;  // ~0.15 s per measurement
  static final long WARMUP_NS = 50_000_000L;   // ~0.05 s of warm-up per statement (JIT, allocator cache)
  static final long SLOW_NS = 200_000_000L;    // a call slower than this: 1 warm-up call, 3 measurements
  static final int REPEATS = 5;
  static final int MAX_RUNS = 500;

  /** A statement to time: a label and the code of one call. */
  record Stmt(String label, Supplier<?> body) {}

  static Stmt stmt(String label, Supplier<?> body) {
    return new Stmt(label, body);
  }

  /** One measured statement: the median time per call over {@code repeats} measurements of {@code runs} calls. */
  record Timing(String stmt, double medianUs, int runs, int repeats) {
    /** The median time per call, in us or ms. */
    String time() {
      return medianUs >= 1000 ? String.format(Locale.ROOT, "%.2f ms", medianUs / 1000) : String.format(Locale.ROOT, "%.2f us", medianUs);
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%n%s%n  %s%n  median of %d measurements, %d run%s each", stmt, time(), repeats, runs,
          runs == 1 ? "" : "s");
    }
  }

  /** Times one statement. */
  static Timing timeit(String label, Supplier<?> body) {
    return compare(stmt(label, body)).get(0);
  }

  /** Times statements in turns; returns their timings in the same order. */
  static List<Timing> compare(Stmt... stmts) {
    long liveBefore = Adjoint.memoryStats().liveTensors();
    int[] runs = new int[stmts.length];
    boolean slow = false;
    for (int s = 0; s < stmts.length; s++) {
      long warmStart = System.nanoTime();
      int warm = 0;
      boolean slowHere = false;
      do {
        callOnce(stmts[s].body());
        warm++;
        if (warm == 1 && System.nanoTime() - warmStart > SLOW_NS) slowHere = true;
      } while (!slowHere && (warm < 2 || System.nanoTime() - warmStart < WARMUP_NS));
      double perCallNs = (double) (System.nanoTime() - warmStart) / warm;
      runs[s] = (int) Math.max(1, Math.min(MAX_RUNS, TARGET_NS / perCallNs));
      slow |= slowHere;
    }
    int repeats = slow ? 3 : REPEATS;
    double[][] us = new double[stmts.length][repeats];
    for (int r = 0; r < repeats; r++)
      for (int s = 0; s < stmts.length; s++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < runs[s]; i++) callOnce(stmts[s].body());
        us[s][r] = (System.nanoTime() - t0) / 1e3 / runs[s];
      }
    long liveAfter = Adjoint.memoryStats().liveTensors();
    if (liveAfter != liveBefore)
      throw new IllegalStateException("Timer: " + (liveAfter - liveBefore) + " tensors leaked while timing");
    List<Timing> out = new ArrayList<>();
    for (int s = 0; s < stmts.length; s++) {
      Arrays.sort(us[s]);
      out.add(new Timing(stmts[s].label(), us[s][repeats / 2], runs[s], repeats));
    }
    return out;
  }

  private static void callOnce(Supplier<?> body) {
    try (Scope s = Scope.open()) {
      body.get();
    }
  }
}
