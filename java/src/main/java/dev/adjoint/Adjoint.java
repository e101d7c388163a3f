package dev.adjoint;

import dev.adjoint.internal.NativeCore;

/** Library-wide settings and diagnostics. */
public final class Adjoint {
  private Adjoint() {}

  /** Reseeds the global generator, like {@code torch.manual_seed(seed)}. */
  public static void manualSeed(long seed) {
    Generator.global().manualSeed(seed);
  }

  // NOTE: the default dtype is process-wide, like torch.set_default_dtype: the native core holds it
  // (integer promotion reads it there) and this volatile copy serves creation without a native
  // call. Set it once at startup; a change while other threads compute is seen by their later ops
  // (each read is whole, never torn), so mixing settings across threads is a race of the caller's.
  private static volatile DType defaultDtype = DType.FLOAT32;

  /**
   * Sets the floating dtype that {@link Tensor#zeros(long...)}, {@code ones}, {@code full},
   * {@code scalar}, {@code eye}, {@code randn} and {@code rand} create without a dtype, and that
   * integer values promote to (true division of integers, an int64 tensor with a Java double or
   * {@code mul(0.5)}), like {@code torch.set_default_dtype}. Process-wide (all threads), float32
   * until set.
   *
   * <pre>{@code
   * Adjoint.setDefaultDtype(DType.FLOAT64);
   * Tensor h = Tensor.arange(3).mul(0.5);   // float64 [0, 0.5, 1]
   * Adjoint.setDefaultDtype(DType.FLOAT32);
   * }</pre>
   *
   * @throws DTypeMismatchException for INT64 or BOOL (only float32 and float64 are accepted)
   */
  public static synchronized void setDefaultDtype(DType dtype) {
    if (dtype == null || !dtype.isFloatingPoint())
      throw new DTypeMismatchException("setDefaultDtype",
          "setDefaultDtype: the default dtype must be float32 or float64, got " + (dtype == null ? "null" : dtype.displayName()));
    NativeCore.init();
    dev.adjoint.internal.Errors.check(NativeCore.adj_set_default_dtype(dtype.code));
    defaultDtype = dtype;
  }

  /** The default floating dtype ({@link #setDefaultDtype}), like {@code torch.get_default_dtype()}: float32 unless set. */
  public static DType defaultDtype() {
    return defaultDtype;
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

  /**
   * The memory limit this process runs under, as the native core sees it: the least of physical
   * memory, the limit of the process's cgroup (v2 {@code memory.max}, v1
   * {@code memory.limit_in_bytes}, its ancestors' included), {@code RLIMIT_AS}, {@code RLIMIT_DATA}
   * and the {@code ADJOINT_MEMORY_LIMIT} environment variable (e.g. {@code 512m}).
   *
   * @param bytes the limit ({@link Long#MAX_VALUE} if none was found)
   * @param source where it comes from, e.g. {@code cgroup v2 memory.max (/sys/fs/cgroup/app/memory.max)}
   * @param gcHintBytes the net growth of native memory after which the garbage collector is asked
   *     to run, for tensors left to the Cleaner (1/64 of the limit, within 32..256 MiB)
   */
  public record MemoryLimit(long bytes, String source, long gcHintBytes) {}

  /**
   * The process's memory limit (see {@link MemoryLimit}). Native allocations that would take the
   * memory held by tensors past it fail with {@link NativeOutOfMemoryException} (after a garbage
   * collection and one retry) instead of letting the system kill the process.
   *
   * <pre>{@code
   * Adjoint.MemoryLimit l = Adjoint.memoryLimit();
   * System.out.println(l.bytes() + " bytes, from " + l.source());
   * }</pre>
   */
  public static MemoryLimit memoryLimit() {
    NativeCore.init();
    return new MemoryLimit(NativeCore.adj_memory_limit(), NativeCore.adj_memory_limit_source(), NativeCore.adj_gc_hint_threshold());
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
