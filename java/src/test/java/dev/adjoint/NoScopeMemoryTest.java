package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.adjoint.internal.NativeMemory;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The torch habit: a loop of 10^5 ops over 4 MiB tensors, {@code x = x.mul(1.0001).add(0.1)}, with
 * no Scope and no close, leaves every tensor to the garbage collector's Cleaner. The Java heap
 * does not see native memory (and is kept at 64 MiB here, so that the collections its own
 * growth would cause come far too late: each iteration makes 8 MiB of native memory and about 300
 * bytes of heap); what keeps the footprint bounded is the core's count of native bytes, whose flag
 * makes the Java layer ask for a collection (NativeMemory). The loop runs in a JVM of its own,
 * which prints its peak RSS (VmHWM); the test fails above 1 GiB, and checks the numbers.
 *
 * <p>The same loop also runs inside a real memory cgroup of 384 MiB where this machine allows one
 * (root and a cgroup hierarchy we may write), which the kernel enforces by killing the process:
 * the core reads that limit from the cgroup and sizes its hints from it.
 *
 * <p>{@code -Dadjoint.noScope.ops=N} changes the op count (the ASan run uses fewer).
 */
class NoScopeMemoryTest {
  static final long OPS = Long.getLong("adjoint.noScope.ops", 100_000);
  static final long ELEMENTS = 1L << 20;  // float32: 4 MiB
  static final long PEAK_RSS_BOUND_KIB = 1L << 20;  // 1 GiB
  static final long CGROUP_LIMIT = 384L << 20;

  @Test
  void aLoopWithoutScopesOverFourMiBTensorsStaysWithinABoundedFootprint() throws Exception {
    Forked.Options o = new Forked.Options();
    o.jvmArgs = List.of("-Xmx64m", "-Xss4m");
    Forked.Result r = Forked.run("no-scope", NoScopeMemoryTest.class, o, Long.toString(OPS));
    check(r, OPS);
    long peak = r.getLong("peakRssKiB");
    System.out.printf("NoScopeMemoryTest: %d ops over 4 MiB tensors without scopes: peak RSS %d KiB (bound %d KiB), "
            + "%s GC hints, native memory limit %s bytes%n", OPS, peak, PEAK_RSS_BOUND_KIB, r.get("gcHints"), r.get("limit"));
    assertTrue(peak < PEAK_RSS_BOUND_KIB, "peak RSS " + peak + " KiB is above the bound of " + PEAK_RSS_BOUND_KIB + " KiB");
  }

  @Test
  void theSameLoopRunsInsideASmallMemoryCgroup() throws Exception {
    long ops = Math.min(OPS, 20_000);
    try (SmallCgroup cg = SmallCgroup.create("adjoint-noscope", CGROUP_LIMIT)) {
      assumeTrue(cg != null, "no memory cgroup can be made here (needs root and a writable cgroup hierarchy)");
      Forked.Options o = new Forked.Options();
      o.prefix = cg.prefix();
      o.jvmArgs = List.of("-Xmx64m", "-Xss4m");
      Forked.Result r = Forked.run("no-scope in cgroup", NoScopeMemoryTest.class, o, Long.toString(ops));
      assertNotEquals(137, r.exitCode(), "the kernel killed the JVM at the cgroup's limit:\n" + r.output());
      check(r, ops);
      assertEquals(CGROUP_LIMIT, r.getLong("limit"), "the limit the core found");
      String source = r.line("source: ");
      assertTrue(source.contains(cg.dir.toString()), "the limit's source names the cgroup: " + source);
      System.out.printf("NoScopeMemoryTest: %d ops inside a %d MiB cgroup (%s): peak RSS %s KiB, %s GC hints, limit hits %d%n", ops,
          CGROUP_LIMIT >> 20, source, r.get("peakRssKiB"), r.get("gcHints"), cg.limitHits());
    }
  }

  private static void check(Forked.Result r, long ops) {
    assertEquals(0, r.exitCode(), "the loop's JVM failed:\n" + r.output());
    assertEquals(ops, r.getLong("ops"));
    // the numbers: x_{k+1} = 1.0001 x_k + 0.1 from 1, in float32, against float64
    double got = Double.parseDouble(r.get("value")), want = Double.parseDouble(r.get("expected"));
    assertEquals(want, got, 1e-3 * Math.abs(want), "x after " + ops / 2 + " steps");
    assertEquals("true", r.get("allEqual"), "every element took the same path");
    assertTrue(r.getLong("gcHints") > 0, "the native-byte count asked for collections");
  }

  /** Child JVM: {@code ops}. Prints a RESULT line. */
  public static void main(String[] args) throws Exception {
    long ops = Long.parseLong(args[0]);
    Tensor x = Tensor.ones(ELEMENTS);
    double expected = 1;
    for (long i = 0; i < ops / 2; i++) {
      x = x.mul(1.0001).add(0.1);  // two ops, two 4 MiB results, none closed
      expected = expected * 1.0001 + 0.1;
    }
    float[] v = x.toFloatArray();
    boolean same = true;
    for (float f : v) same &= f == v[0];
    Adjoint.MemoryLimit limit = Adjoint.memoryLimit();
    System.out.println("source: " + limit.source());
    System.out.printf("RESULT ops=%d value=%s expected=%s allEqual=%b peakRssKiB=%d gcHints=%d limit=%d%n", ops, v[0], expected, same,
        Forked.peakRssKiB(), NativeMemory.gcHints(), limit.bytes());
    System.exit(0);
  }
}
