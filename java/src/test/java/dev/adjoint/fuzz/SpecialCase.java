package dev.adjoint.fuzz;

import dev.adjoint.Adjoint;
import dev.adjoint.AdjointArgumentException;
import dev.adjoint.DType;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import dev.adjoint.fuzz.ProgramFuzzer.Failure;
import dev.adjoint.fuzz.ProgramFuzzer.Rng;
import dev.adjoint.internal.NativeCore;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The fuzzer's special categories: programs outside the random-program grammar of
 * {@link ProgramFuzzer} (long chains, extreme shapes, zero-size dims, NIO buffers, integer outputs),
 * each with its own generator and contract. A seed of the main run is given to a category with a
 * small probability (drawn from a stream of its own, so the other seeds keep their programs);
 * {@code --category NAME} gives every seed to one category.
 *
 * <p>Each category can be switched off ({@code -Dfuzz.NAME=false} through FuzzTest, {@code --off
 * NAME} here): one that crashes the JVM today would otherwise end the whole run at its first seed.
 */
final class SpecialCase {
  private SpecialCase() {}

  /**
   * A category: its command-line name, its share of the main run's seeds (per 10,000), the size
   * of its dedicated set (seeds 1..K run after the main run), its generator. Long chains cost
   * 0.2-1 s each (10^5 ops and their reference), the others about a millisecond.
   */
  enum Category {
    SHAPES("shapes", 100, 40, ExtremeShapeCases::run),
    ZEROSIZE("zerosize", 150, 40, ZeroSizeCases::run),
    BUFFERS("buffers", 100, 40, BufferCases::run),
    INTOUTPUTS("intoutputs", 100, 40, IntegerOutputCases::run),
    CHAINS("chains", 3, 8, LongChainCases::run);  // last: its dedicated set is the slowest

    final String key;
    final int per10k, dedicated;
    final Consumer<Ctx> body;

    Category(String key, int per10k, int dedicated, Consumer<Ctx> body) {
      this.key = key;
      this.per10k = per10k;
      this.dedicated = dedicated;
      this.body = body;
    }

    static Category byKey(String k) {
      for (Category c : values())
        if (c.key.equalsIgnoreCase(k)) return c;
      throw new IllegalArgumentException("unknown category " + k + "; known: " + Arrays.toString(keys()));
    }

    static String[] keys() {
      String[] k = new String[values().length];
      for (int i = 0; i < k.length; i++) k[i] = values()[i].key;
      return k;
    }
  }

  /**
   * The category of a seed of the main run, or null for a random program. A category switched off
   * leaves its seeds to random programs.
   */
  static Category pick(long seed, EnumSet<Category> enabled) {
    int k = new Rng(seed ^ 0x3C6EF372FE94F82BL).below(10_000);
    for (Category c : Category.values()) {
      if (k < c.per10k) return enabled.contains(c) ? c : null;
      k -= c.per10k;
    }
    return null;
  }

  // ======================================================================== the context of one case

  /** What a case body gets: its random numbers, a log of what it does, and the checks. */
  static final class Ctx {
    final long seed;
    final Category category;
    final Rng r;
    final StringBuilder log = new StringBuilder();
    final boolean verbose;
    final PrintStream out;
    final Map<String, Long> thrown;
    /** Set by a case that leaves tensors to the Cleaner: the leak check then waits longer for it. */
    boolean cleanerHeld;

    Ctx(long seed, Category category, boolean verbose, PrintStream out, Map<String, Long> thrown) {
      this.seed = seed;
      this.category = category;
      this.r = new Rng(seed * 31 + category.ordinal() + 0x1234567L);
      this.verbose = verbose;
      this.out = out;
      this.thrown = thrown;
    }

    /** Notes a step of the case: printed at once in verbose mode (a crash then shows how far it got). */
    void say(String fmt, Object... args) {
      String s = args.length == 0 ? fmt : String.format(Locale.ROOT, fmt, args);
      log.append("\n    ").append(s);
      if (verbose) {
        out.println("    " + s);
        out.flush();
      }
    }

    String describe() {
      return category.key + " case" + log;
    }

    /**
     * Runs {@code body}, which must throw one of {@code allowed} (or a subclass) with a message
     * that starts with the op; returns the exception. A result instead of an exception is
     * described in the failure (its shape and numel, for a tensor).
     */
    Throwable expectThrows(String what, Supplier<?> body, List<Class<? extends Throwable>> allowed) {
      Object got;
      try {
        got = body.get();
      } catch (Failure f) {
        throw f;
      } catch (Throwable e) {
        boolean ok = false;
        for (Class<? extends Throwable> c : allowed) ok |= c.isInstance(e);
        if (!ok) throw new Failure(what + ": expected " + names(allowed) + ", got " + e.getClass().getName() + ": " + e.getMessage(), e);
        checkMessage(what, e);
        thrown.merge(e.getClass().getSimpleName(), 1L, Long::sum);
        say("  threw as expected: %s: %s", e.getClass().getSimpleName(), firstLine(e.getMessage()));
        return e;
      }
      throw new Failure(what + ": expected " + names(allowed) + ", nothing was thrown; returned " + describeValue(got));
    }

    Throwable expectThrows(String what, Supplier<?> body, Class<? extends Throwable> allowed) {
      return expectThrows(what, body, List.of(allowed));
    }

    /** Runs a body that must not throw; anything thrown is a failure naming {@code what}. */
    <T> T expectOk(String what, Supplier<T> body) {
      try {
        return body.get();
      } catch (Failure f) {
        throw f;
      } catch (Throwable e) {
        throw new Failure(what + ": threw " + e.getClass().getName() + ": " + firstLine(e.getMessage()), e);
      }
    }
  }

  /**
   * -Dfuzz.probes=3,5 (in the fuzzer's JVM) limits the shapes and zerosize categories to those probe
   * kinds (the case labels in their switch), to see past a failure that masks the others.
   */
  static final java.util.Set<Integer> PROBES = parseProbes(System.getProperty("fuzz.probes", ""));

  static java.util.Set<Integer> parseProbes(String s) {
    java.util.Set<Integer> r = new java.util.HashSet<>();
    for (String p : s.split(","))
      if (!p.isBlank()) r.add(Integer.parseInt(p.trim()));
    return r;
  }

  static boolean probeAllowed(int kind) {
    return PROBES.isEmpty() || PROBES.contains(kind);
  }

  static String firstLine(String s) {
    if (s == null) return "null";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl) + " ...";
  }

  static String names(List<Class<? extends Throwable>> l) {
    StringBuilder b = new StringBuilder();
    for (Class<?> c : l) b.append(b.length() > 0 ? " or " : "").append(c.getSimpleName());
    return b.toString();
  }

  static String describeValue(Object v) {
    if (v instanceof Tensor t) {
      if (t.isClosed()) return "a closed tensor";
      return "a tensor of shape " + Arrays.toString(t.shape()) + " (numel " + t.numel() + ", " + t.dtype().displayName() + ")";
    }
    return String.valueOf(v);
  }

  /** The documented form of an error message: not empty, not an internal error, starting with the op. */
  static void checkMessage(String what, Throwable e) {
    String msg = e.getMessage();
    if (msg == null || msg.isEmpty() || msg.startsWith("adjoint internal error"))
      throw new Failure(what + ": bad message for " + e.getClass().getSimpleName() + ": " + msg, e);
    if (e instanceof AdjointArgumentException a && (a.op() == null || !msg.startsWith(a.op() + ": ")))
      throw new Failure(what + ": message does not start with the op '" + a.op() + ": ': " + msg, e);
  }

  // ======================================================================== value checks

  /**
   * {@code got} must have exactly {@code shape} and {@code dt}, and values within {@code tol} of
   * {@code want} relative to max(floor, max |want|); NaN must meet NaN and infinities the same infinity.
   */
  static void check(String what, Tensor got, long[] shape, DType dt, double[] want, double tol, double floor) {
    if (got == null) throw new Failure(what + ": null instead of a tensor");
    if (!Arrays.equals(got.shape(), shape))
      throw new Failure(what + ": shape " + Arrays.toString(got.shape()) + ", expected " + Arrays.toString(shape));
    if (got.numel() != want.length) throw new Failure(what + ": numel " + got.numel() + ", expected " + want.length);
    if (dt != null && got.dtype() != dt) throw new Failure(what + ": dtype " + got.dtype().displayName() + ", expected " + dt.displayName());
    double[] g = got.toDoubleArray();
    if (g.length != want.length) throw new Failure(what + ": " + g.length + " values read back, expected " + want.length);
    double scale = floor;
    for (double x : want)
      if (Double.isFinite(x)) scale = Math.max(scale, Math.abs(x));
    for (int i = 0; i < g.length; i++) {
      double w = want[i], x = g[i];
      boolean ok;
      if (Double.isNaN(w)) ok = Double.isNaN(x);
      else if (Double.isInfinite(w)) ok = x == w;
      else ok = Math.abs(x - w) <= tol * scale;
      if (!ok)
        throw new Failure(String.format(Locale.ROOT, "%s: element %d of %s is %.17g, expected %.17g (tol %.1g * scale %.3g)", what, i,
            Arrays.toString(shape), x, w, tol, scale));
    }
  }

  static double[] filled(int n, double v) {
    double[] d = new double[n];
    Arrays.fill(d, v);
    return d;
  }

  // ======================================================================== running a case

  /** Wait for the Cleaner: the number of GC rounds (and 20 ms pauses) before calling tensors leaked. */
  static final int CLEANER_ROUNDS = 10, CLEANER_ROUNDS_LONG = 150;

  /**
   * Runs one case of {@code c} for {@code seed}: its own checks, then the shared ones (no transform
   * level or scope left behind, native tensors back to where they were, given the Cleaner time).
   */
  static void run(long seed, Category c, boolean verbose, PrintStream out, Map<String, Long> thrown, Ctx[] ctxOut) {
    Ctx ctx = new Ctx(seed, c, verbose, out, thrown);
    ctxOut[0] = ctx;
    Scope outer = Scope.current();
    long liveBefore = Adjoint.memoryStats().liveTensors();
    try {
      c.body.accept(ctx);
    } finally {
      if (NativeCore.adj_level_depth() != 0) throw new Failure("transform levels left on the stack: " + NativeCore.adj_level_depth());
      if (Scope.current() != outer) throw new Failure("a case left a scope open");
    }
    long liveAfter = Adjoint.memoryStats().liveTensors();
    int rounds = ctx.cleanerHeld ? CLEANER_ROUNDS_LONG : CLEANER_ROUNDS;
    for (int i = 0; i < rounds && liveAfter > liveBefore; i++) {
      System.gc();
      try {
        Thread.sleep(i == 0 ? 1 : 20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      liveAfter = Adjoint.memoryStats().liveTensors();
    }
    if (liveAfter > liveBefore)
      throw new Failure((liveAfter - liveBefore) + " native tensors outlived the case (after " + rounds + " GC rounds for the Cleaner)");
  }

  /** Counts of what the special cases did, for the summary. */
  static final class Tally {
    final Map<String, Long> byCategory = new TreeMap<>();
    final Map<String, Long> thrown = new TreeMap<>();
    final Map<String, Double> seconds = new TreeMap<>();
  }
}
