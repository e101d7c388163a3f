package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Transforms in long runs keep memory flat, and memory exhaustion is an exception, not a crash.
 *
 * <ul>
 *   <li>Ten million transform calls inside scopes, alternating a jacrev of {@code predict} =
 *       tanh(F.linear(x, w, b)) at D=16 with a small one (grad, jvp, vmap, vjp, jacfwd or hessian
 *       on 2- and 4-element tensors, in turn; each transform call counts as one, whatever it nests),
 *       leave RSS within 5% of its figure after warm-up (the first 10% of the calls) and the native
 *       live bytes exactly at their warm-up figure.
 *   <li>Two million transform calls whose results and inputs are never closed and never scoped,
 *       released by the Cleaner alone, keep native memory bounded (the maximum is printed).
 *   <li>A tensor larger than memory, and a transform whose intermediate would be, throw
 *       {@link NativeOutOfMemoryException}.
 * </ul>
 *
 * <p>NOTE: the two long runs each run in a JVM of their own ({@link #main}, started with the heap
 * options of surefire's argLine: a fixed, pre-touched heap), so that RSS is not disturbed by the
 * other tests of the suite, and RSS growth can only come from native memory. The call counts can
 * be lowered for a quick look with {@code -Dadjoint.transformMemory.calls=N} and
 * {@code -Dadjoint.transformMemory.cleanerCalls=N}; the defaults are what the issue asks for.
 */
class TransformMemoryTest {
  static final long CALLS = Long.getLong("adjoint.transformMemory.calls", 10_000_000L);
  static final long CLEANER_CALLS = Long.getLong("adjoint.transformMemory.cleanerCalls", 2_000_000L);
  /** One jacrev of predict (the expensive call) per this many transform calls. */
  static final int JACREV_EVERY = 2;
  /** Warm-up: this share of the calls runs before the warm-up figures are taken. */
  static final int WARMUP_PERCENT = 10;

  static final String JVM_ARGS = "-Xss4m -Xms512m -Xmx512m -XX:+AlwaysPreTouch";
  /** A run takes about a minute here (2 cores); a run that hangs is killed after this. */
  static final long CHILD_TIMEOUT_MINUTES = 30;

  // ------------------------------------------------------------------ the tests (parent JVM)

  @Test
  void tenMillionTransformCallsInScopesKeepMemoryFlat() throws Exception {
    Map<String, String> r = fork("scoped", CALLS);
    long calls = Long.parseLong(r.get("calls")), warmRss = Long.parseLong(r.get("warmRssKiB")),
        endRss = Long.parseLong(r.get("endRssKiB")), warmLive = Long.parseLong(r.get("warmLiveBytes")),
        endLive = Long.parseLong(r.get("endLiveBytes"));
    assertEquals(CALLS, calls, "transform calls made");
    double growth = 100.0 * (endRss - warmRss) / warmRss;
    assertEquals(warmLive, endLive, "native live bytes must return to the warm-up figure");
    assertTrue(growth < 5.0, "RSS grew by " + growth + "% after warm-up (" + warmRss + " -> " + endRss + " KiB)");
  }

  @Test
  void cleanerAloneKeepsNativeMemoryBounded() throws Exception {
    Map<String, String> r = fork("cleaner", CLEANER_CALLS);
    long calls = Long.parseLong(r.get("calls")), maxLive = Long.parseLong(r.get("maxLiveBytes")),
        endLive = Long.parseLong(r.get("endLiveBytes")), endTensors = Long.parseLong(r.get("endLiveTensors")),
        maxRss = Long.parseLong(r.get("maxRssKiB"));
    assertEquals(CLEANER_CALLS, calls, "transform calls made");
    // Everything these calls made is garbage: the Cleaner brings the figures back to the inputs once
    // the collector has run, and while it runs the peak stays far below what could pile up (the
    // native-memory-pressure hint asks for a GC after 256 MiB of growth; the heap is 512 MiB).
    assertTrue(maxLive < (1L << 30), "native live bytes peaked at " + maxLive);
    assertTrue(maxRss < (3L << 20), "RSS peaked at " + maxRss + " KiB");
    assertTrue(endTensors < 1000, "live tensors left after GC: " + endTensors);
    assertTrue(endLive < (1L << 20), "live bytes left after GC: " + endLive);
  }

  @Test
  void tooLargeTensorsAndIntermediatesThrowNativeOutOfMemory() {
    List<String> messages = new ArrayList<>();
    try (Scope s = Scope.open()) {
      // 4 TiB of float32 zeros: more than this machine's memory. The core compares each request with
      // the physical memory before trying (Linux overcommits: malloc would succeed and the process be
      // killed when the pages are touched).
      messages.add(oom("full: ", () -> Tensor.zeros(1L << 40), "4398046511104 bytes"));
      // a shape whose byte count does not even fit in 64 bits (2^62 float32 elements; a shape whose
      // element count does not fit is no shape at all: AdjointArgumentException, see ShapeOverflowTest)
      messages.add(oom("full: ", () -> Tensor.zeros(1L << 40, 1L << 22), "[1099511627776, 4194304]"));

      // Transforms whose intermediates are too large, though their inputs are small (expanded views):
      // grad through an outer product: [2^18] x [2^18] float64 is 512 GiB
      Tensor big = Tensor.ones(DType.FLOAT64, 1).expand(1L << 18);
      Fn1 outer = u -> u.unsqueeze(1).mul(u.unsqueeze(0)).sum();
      messages.add(oom("mul: ", () -> grad(outer).apply(big), "549755813888 bytes"));
      // the same in forward mode
      messages.add(oom("mul: ", () -> jvp(outer, big, big).tangent(), "549755813888 bytes"));
      // a Jacobian of an N-element function has N^2 entries: N = 2^19 float64 is 2 TiB (the core
      // keeps the basis rows one-hot, so which intermediate fails first is up to it)
      Tensor wide = Tensor.zeros(DType.FLOAT64, 1).expand(1L << 19);
      messages.add(oom("", () -> jacrev(Tensor::sin).apply(wide), "bytes"));
      messages.add(oom("", () -> jacfwd(Tensor::sin).apply(wide), "bytes"));
      messages.add(oom("", () -> hessian(u -> u.sin().sum()).apply(wide), "bytes"));
      // vmap: 2^20 examples of 2^20 elements each, exp of the whole batch is 8 TiB
      Tensor xs = Tensor.zeros(DType.FLOAT64, 1, 1).expand(1L << 20, 1L << 20);
      messages.add(oom("exp: ", () -> vmap(u -> u.exp().sum()).apply(xs), "8796093022208 bytes"));
      // vmap of grad: the per-example backward of the outer product
      Tensor rows = Tensor.ones(DType.FLOAT64, 1, 1).expand(4, 1L << 18);
      messages.add(oom("mul: ", () -> vmap(grad(outer)).apply(rows), "bytes"));
    }
    // the library still works, and no transform level or scope is left open
    assertEquals(0, dev.adjoint.internal.NativeCore.adj_level_depth());
    assertNull(Scope.current());
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.of(0.5, 1.0);
      assertArrayEquals(new double[] {Math.cos(0.5), Math.cos(1.0)}, grad(u -> u.sin().sum()).apply(x).toDoubleArray(), 0.0);
    }
    System.out.printf("TransformMemoryTest: physical memory %d bytes; NativeOutOfMemoryException for:%n  %s%n", physicalBytes(),
        String.join("\n  ", messages));
  }

  /** Asserts that {@code body} throws NativeOutOfMemoryException with the given message start and fragment. */
  private static String oom(String prefix, org.junit.jupiter.api.function.Executable body, String fragment) {
    NativeOutOfMemoryException e = assertThrows(NativeOutOfMemoryException.class, body);
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
    return e.getMessage();
  }

  private static long physicalBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo")))
        if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
    } catch (Exception e) {
      // unknown
    }
    return -1;
  }

  /** Runs {@link #main} in a fresh JVM; returns the key=value figures of its RESULT line. */
  private static Map<String, String> fork(String mode, long calls) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java));
    // the heap settings of this JVM (surefire's argLine), else the same fixed, pre-touched heap
    List<String> mine = new ArrayList<>();
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments())
      if (a.startsWith("-Xms") || a.startsWith("-Xmx") || a.startsWith("-Xss") || a.equals("-XX:+AlwaysPreTouch")) mine.add(a);
    cmd.addAll(mine.size() >= 2 ? mine : List.of(JVM_ARGS.split(" ")));
    for (String p : System.getProperties().stringPropertyNames())
      if (p.startsWith("org.bytedeco.")) cmd.add("-D" + p + "=" + System.getProperty(p));
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TransformMemoryTest.class.getName(), mode, Long.toString(calls)));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    Map<String, String> result = new ConcurrentHashMap<>();
    StringBuffer out = new StringBuffer();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          System.out.println("  [" + mode + "] " + line);
          out.append(line).append('\n');
          if (line.startsWith("RESULT "))
            for (String kv : line.substring(7).trim().split(" ")) {
              int eq = kv.indexOf('=');
              result.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
      } catch (java.io.IOException e) {
        out.append(e).append('\n');
      }
    });
    reader.start();
    if (!p.waitFor(CHILD_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
      p.destroyForcibly().waitFor();
      fail("the " + mode + " run did not finish in " + CHILD_TIMEOUT_MINUTES + " minutes:\n" + out);
    }
    reader.join();
    assertEquals(0, p.exitValue(), "the " + mode + " run failed:\n" + out);
    assertFalse(result.isEmpty(), "no RESULT line from the " + mode + " run:\n" + out);
    return result;
  }

  // ------------------------------------------------------------------ the runs (child JVM)

  static long rssKiB() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status")))
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    return -1;
  }

  /** predict(w, b, x) = tanh(F.linear(x, w, b)). */
  static Tensor predict(Tensor w, Tensor b, Tensor x) {
    return F.linear(x, w, b).tanh();
  }

  /** The transform calls of the mix, one per entry; entry 0 is the expensive jacrev. */
  private static final class Workload {
    final Tensor w, b, x, small, smallT, smallRows;
    final Fn3 jac = jacrev(TransformMemoryTest::predict, 2);
    final Fn1 gradSinSum = grad(u -> u.sin().sum());
    final Fn1 vmapTanh = vmap(u -> u.mul(u).tanh());
    final Fn1 jacfwdExp = jacfwd(Tensor::exp);
    final Fn1 sinFn = Tensor::sin;
    final Fn1 hessianSinSum = hessian(u -> u.sin().sum());

    Workload() {
      Adjoint.manualSeed(0);
      w = Tensor.randn(DType.FLOAT64, 16, 16);
      b = Tensor.randn(DType.FLOAT64, 16);
      x = Tensor.randn(DType.FLOAT64, 16);
      small = Tensor.of(0.1, -0.2, 0.3, 0.4);
      smallT = Tensor.of(1.0, 0.5, -0.5, 2.0);
      smallRows = Tensor.of(new double[][] {{0.1, 0.2}, {0.3, 0.4}});
    }

    /** Transform call number {@code i}; returns something to read so nothing is optimised away. */
    Tensor call(long i) {
      if (i % JACREV_EVERY == 0) return jac.apply(w, b, x);
      switch ((int) ((i / JACREV_EVERY) % 6)) {
        case 0: return gradSinSum.apply(small);
        case 1: return jvp(sinFn, small, smallT).tangent();
        case 2: return vmapTanh.apply(smallRows);
        case 3: return vjp(sinFn, small).output();
        case 4: return jacfwdExp.apply(smallT);
        default: return hessianSinSum.apply(smallRows.get(1));
      }
    }
  }

  /** Child JVM entry: {@code scoped N} or {@code cleaner N}. Prints a RESULT line of key=value figures. */
  public static void main(String[] args) throws Exception {
    String mode = args[0];
    long calls = Long.parseLong(args[1]);
    if (mode.equals("scoped")) scoped(calls);
    else if (mode.equals("cleaner")) cleaner(calls);
    else throw new IllegalArgumentException(mode);
    System.exit(0);
  }

  private static void settle() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
    }
  }

  private static void scoped(long calls) throws Exception {
    Scope outer = Scope.open();
    Workload wl = new Workload();
    final long perScope = 1000;
    long warmAt = calls * WARMUP_PERCENT / 100;
    long warmRss = 0, warmLive = 0, warmCached = 0, jacrevs = 0;
    double check = 0;
    long start = System.nanoTime(), warmTime = start;
    for (long i = 0; i < calls; ) {
      try (Scope s = Scope.open()) {
        for (long k = 0; k < perScope && i < calls; k++, i++) {
          Tensor r = wl.call(i);
          if (i % JACREV_EVERY == 0) jacrevs++;
          if (k == 0) check += r.sum().item();
        }
      }
      if (i == warmAt) {
        settle();
        warmRss = rssKiB();
        Adjoint.MemoryStats m = Adjoint.memoryStats();
        warmLive = m.liveBytes();
        warmCached = m.cachedBytes();
        warmTime = System.nanoTime();
        System.out.printf("after warm-up (%d calls, %.1f s): RSS %d KiB, native live %d bytes, cached %d bytes, %d live tensors%n", i,
            (warmTime - start) / 1e9, warmRss, warmLive, warmCached, m.liveTensors());
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    settle();
    long endRss = rssKiB();
    Adjoint.MemoryStats m = Adjoint.memoryStats();
    double growth = 100.0 * (endRss - warmRss) / warmRss;
    System.out.printf("%d transform calls (%d jacrev of predict at D=16, %d small grad/jvp/vmap/vjp/jacfwd/hessian) in %.1f s "
            + "(%.2f us/call); RSS after warm-up %d KiB, at end %d KiB (%+.2f%%); native live bytes %d -> %d, cached %d -> %d "
            + "(check %.6f)%n",
        calls, jacrevs, calls - jacrevs, secs, secs * 1e6 / calls, warmRss, endRss, growth, warmLive, m.liveBytes(), warmCached,
        m.cachedBytes(), check);
    outer.close();
    System.out.printf("RESULT calls=%d jacrevs=%d seconds=%.1f warmRssKiB=%d endRssKiB=%d warmLiveBytes=%d endLiveBytes=%d%n", calls,
        jacrevs, secs, warmRss, endRss, warmLive, m.liveBytes());
  }

  private static void cleaner(long calls) throws Exception {
    // inputs too are left to the Cleaner: no scope anywhere
    Workload wl = new Workload();
    long maxLive = 0, maxRss = 0, maxTensors = 0, maxLiveFirstHalf = 0;
    long start = System.nanoTime();
    for (long i = 0; i < calls; i++) {
      wl.call(i);
      if (i % 10_000 == 0) {
        Adjoint.MemoryStats m = Adjoint.memoryStats();
        maxLive = Math.max(maxLive, m.liveBytes());
        if (i < calls / 2) maxLiveFirstHalf = maxLive;
        maxTensors = Math.max(maxTensors, m.liveTensors());
        if (i % 100_000 == 0) maxRss = Math.max(maxRss, rssKiB());
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    long gcs = ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(g -> Math.max(0, g.getCollectionCount())).sum();
    Adjoint.MemoryStats before = Adjoint.memoryStats();
    for (int k = 0; k < 20 && Adjoint.memoryStats().liveTensors() > 1000; k++) settle();
    Adjoint.MemoryStats m = Adjoint.memoryStats();
    System.out.printf("%d transform calls, nothing closed or scoped, in %.1f s: native live bytes max %d (%.1f MiB; %.1f MiB in the "
            + "first half), live tensors max %d, RSS max %d KiB, %d collections; at the end %d bytes / %d tensors, after GC %d bytes / "
            + "%d tensors%n",
        calls, secs, maxLive, maxLive / 1048576.0, maxLiveFirstHalf / 1048576.0, maxTensors, maxRss, gcs, before.liveBytes(),
        before.liveTensors(), m.liveBytes(),
        m.liveTensors());
    System.out.printf("RESULT calls=%d seconds=%.1f maxLiveBytes=%d maxLiveTensors=%d maxRssKiB=%d endLiveBytes=%d endLiveTensors=%d%n",
        calls, secs, maxLive, maxTensors, maxRss, m.liveBytes(), m.liveTensors());
  }
}
