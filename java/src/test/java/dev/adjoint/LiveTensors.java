package dev.adjoint;

/**
 * The process's count of live native tensors, for tests that check what a piece of code releases.
 *
 * <p>NOTE: the count is the whole process's, so garbage that earlier tests left to the garbage
 * collector, freed by the Cleaner while a test runs, lowers it between the test's two readings (a
 * flaky "expected 197 but was 7" in ScopeTest). A test's first reading is {@link #settled()}, after
 * the collector and the Cleaner have caught up; its later readings are {@link #now()}, so that a
 * tensor the code under test leaves to the collector still shows as live.
 */
final class LiveTensors {
  private LiveTensors() {}

  static long now() {
    return Adjoint.memoryStats().liveTensors();
  }

  /** The count once it holds still across a garbage collection (at most 20 rounds of 20 ms). */
  static long settled() {
    long last = -1, count = now();
    for (int i = 0; i < 20 && count != last; i++) {
      System.gc();
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      last = count;
      count = now();
    }
    return count;
  }
}
