package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A generator that nothing references after its call (new Generator(s).randn(...)) must not be
 * freed by the Cleaner while the call still draws from it: under GC pressure each draw must equal
 * the one from a generator kept alive with the same seed.
 */
class GeneratorReachabilityTest extends ScopedTest {
  @Test
  @Timeout(120)
  void unreferencedGeneratorsDrawTheirOwnNumbersUnderGcPressure() {
    float[][] expected = new float[16][];
    for (int s = 0; s < 16; s++) expected[s] = new Generator(s).randn(257).toFloatArray();
    Object sink = null;
    for (int k = 0; k < 20_000; k++) {
      int s = k % 16;
      float[] got;
      try (Scope inner = Scope.open()) {
        got = new Generator(s).randn(257).toFloatArray();
      }
      assertArrayEquals(expected[s], got, "draw " + k);
      sink = new byte[1 << 16];  // keeps the young generation collecting
      if (k % 2000 == 0) System.gc();
    }
    assertNotNull(sink);
  }
}
