package dev.adjoint.internal;

/**
 * Native memory pressure for tensors left to the garbage collector. The JVM does not see native
 * allocations, so a loop creating unscoped tensors could exhaust memory before any GC runs; every
 * so many unscoped allocations we look at the native figure and ask for a GC when it has grown a
 * lot since the last look (the same idea as JavaCPP's maxBytes).
 */
public final class NativeMemory {
  private static final int CHECK_EVERY = 4096;
  private static final long GROWTH_TRIGGER = 256L << 20;
  private static int sinceCheck;
  private static long baseline = -1;

  private NativeMemory() {}

  /** Called for each tensor handed to the Cleaner. Racy counters are fine: it is a heuristic. */
  public static void noteUnscopedAllocation() {
    if (++sinceCheck < CHECK_EVERY) return;
    sinceCheck = 0;
    long[] s = new long[3];
    NativeCore.adj_memory_stats(s);
    long live = s[0];
    if (baseline < 0 || live < baseline) baseline = live;  // memory came back since the last look
    if (live - baseline > GROWTH_TRIGGER) {
      System.gc();
      baseline = live;
    }
  }
}
