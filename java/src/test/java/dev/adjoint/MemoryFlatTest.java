package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Ten million small op calls in scopes run in flat native memory and flat RSS. Prints the figures
 * (warm-up RSS, final RSS, growth) so that they can be quoted.
 *
 * <p>NOTE: surefire runs with a fixed, pre-touched Java heap (java/pom.xml argLine), so that RSS
 * growth here can only come from native memory.
 */
class MemoryFlatTest {
  static long rssKiB() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status")))
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    return -1;
  }

  @Test
  void tenMillionOpCallsInScopesKeepRssFlat() throws Exception {
    final int rounds = 100, perRound = 100_000;  // 10M op calls
    Scope outer = Scope.open();
    Tensor w = Tensor.randn(4, 4), x = Tensor.randn(4);
    long warmRss = 0, warmLive = 0, warmTensors = 0;
    long start = System.nanoTime();
    for (int r = 0; r < rounds; r++) {
      try (Scope s = Scope.open()) {
        for (int i = 0; i < perRound / 4; i++) {
          // 4 op calls per iteration; each allocates a fresh result tensor
          Tensor y = x.matmul(w).add(x).tanh().mul(2.0);
          if ((i & 1023) == 0) {
            try (Scope inner = Scope.open()) {} // nested scopes cost nothing extra
          }
        }
      }
      if (r == 9) {
        System.gc();
        warmRss = rssKiB();
        warmLive = Adjoint.memoryStats().liveBytes();
        warmTensors = Adjoint.memoryStats().liveTensors();  // small tensors' data is not in liveBytes
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    System.gc();
    long endRss = rssKiB();
    Adjoint.MemoryStats m = Adjoint.memoryStats();
    double growth = 100.0 * (endRss - warmRss) / warmRss;
    outer.close();
    System.out.printf("MemoryFlatTest: %d op calls in %.2f s (%.0f ns/op); RSS after warm-up %d KiB, at end %d KiB (%+.2f%%); "
            + "native live bytes %d -> %d, live tensors %d -> %d%n",
        (long) rounds * perRound, secs, secs * 1e9 / ((long) rounds * perRound), warmRss, endRss, growth, warmLive, m.liveBytes(),
        warmTensors, m.liveTensors());
    assertEquals(warmLive, m.liveBytes(), "native live bytes must return to the warm-up figure");
    assertEquals(warmTensors, m.liveTensors(), "live native tensors must return to the warm-up figure");
    assertTrue(growth < 5.0, "RSS grew by " + growth + "%");
  }
}
