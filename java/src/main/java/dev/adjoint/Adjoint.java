package dev.adjoint;

import dev.adjoint.internal.NativeCore;

/** Library-wide settings and diagnostics. */
public final class Adjoint {
  private Adjoint() {}

  /** Reseeds the global generator, like {@code torch.manual_seed(seed)}. */
  public static void manualSeed(long seed) {
    Generator.global().manualSeed(seed);
  }

  /** Version of the native core. */
  public static String version() {
    NativeCore.init();
    return NativeCore.adj_version();
  }

  /** Native memory in use, for leak checks and monitoring. */
  public record MemoryStats(long liveBytes, long cachedBytes, long liveTensors) {}

  /** Current native memory figures: bytes in live tensors, bytes cached for reuse, live tensors. */
  public static MemoryStats memoryStats() {
    NativeCore.init();
    long[] s = new long[3];
    NativeCore.adj_memory_stats(s);
    return new MemoryStats(s[0], s[1], s[2]);
  }

  /** Returns cached (unused) native memory to the system. */
  public static void emptyCache() {
    NativeCore.init();
    NativeCore.adj_empty_cache();
  }

  /** Names of the core's primitive ops (composites such as softmax are built from these). */
  public static java.util.List<String> primitives() {
    NativeCore.init();
    int n = NativeCore.adj_num_primitives();
    String[] names = new String[n];
    for (int i = 0; i < n; i++) names[i] = NativeCore.adj_primitive_name(i);
    return java.util.List.of(names);
  }
}
