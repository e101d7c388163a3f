package dev.adjoint.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Native memory for tensors left to the garbage collector. The JVM does not see native memory, so
 * a loop that neither closes its tensors nor uses a Scope could exhaust it before any collection
 * runs. Two mechanisms, both counted in native bytes by the core (allocator.cpp's NOTE on memory
 * pressure):
 *
 * <ul>
 *   <li>A hint: the core raises a flag once native memory has grown by its threshold (1/64 of the
 *       process's memory limit, within 32..256 MiB) since the last hint. The flag is read in place
 *       (no JNI call) each time a tensor is handed to the Cleaner; when it is up, a collection is
 *       asked for, and the Cleaner's releases waited for (bounded; rate-limited when collections
 *       do not pay off: see hint()).
 *   <li>A last resort: an allocation that fails (over the process's memory limit, or refused by
 *       the system) calls {@link #onAllocationFailure} from native code before its one retry: a
 *       collection, then a bounded wait for the Cleaner to release what it found unreachable.
 * </ul>
 */
public final class NativeMemory {
  // NOTE: the one Cleaner of all tensors: waiting for "the Cleaner" (below) means this one's thread.
  private static final Cleaner CLEANER = Cleaner.create();
  private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());
  /** The core's hint flag (4 bytes of native memory). */
  private static final ByteBuffer GC_FLAG;
  /** Strongly held: the core keeps the address of its native thunk. */
  private static final NativeCore.OomHandler HANDLER;

  /** How long an allocation that failed waits at most for the collection and the Cleaner. */
  static final long FAILURE_WAIT_MS = 2000;
  /** How long a hint waits at most for the collection and the Cleaner. */
  static final long HINT_WAIT_MS = 100;
  /** The Cleaner counts as drained once its releases stopped for this long. */
  static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  private static final AtomicBoolean HINTING = new AtomicBoolean();
  private static volatile long nextHintNanos = System.nanoTime();  // no hint before (rate limit)
  private static final AtomicLong HINTS = new AtomicLong(), FAILURE_COLLECTIONS = new AtomicLong(), CLEANER_RELEASES = new AtomicLong();
  private static final Object FAILURE_LOCK = new Object();

  static {
    GC_FLAG = NativeCore.adj_gc_hint_flag().capacity(1).asByteBuffer();
    HANDLER = new NativeCore.OomHandler();
    NativeCore.adj_set_oom_handler(HANDLER);
  }

  private NativeMemory() {}

  /** Run by NativeCore once the library is loaded: installs the out-of-memory handler. */
  static void install() {}

  /** Registers {@code action} to run once {@code owner} is unreachable (the tensors' Cleaner). */
  public static Cleaner.Cleanable register(Object owner, Runnable action) {
    return CLEANER.register(owner, action);
  }

  /** Counts a tensor the Cleaner released (its action found the tensor still open). */
  public static void releasedByCleaner() {
    CLEANER_RELEASES.incrementAndGet();
  }

  /** Called for each tensor handed to the Cleaner: asks for a collection if the core's flag is up. */
  public static void afterUnscopedAllocation() {
    if ((int) INT.getOpaque(GC_FLAG, 0) != 0) hint();
  }

  // NOTE: a hint waits for the Cleaner too (up to HINT_WAIT_MS), for two reasons. A loop that
  // reuses cached blocks makes a threshold's worth of garbage in milliseconds, faster than the
  // Cleaner thread releases the last collection's: without the wait it would outrun the Cleaner
  // and memory would grow by many thresholds before the next hint. And after the wait, what the
  // collection freed is known (counted as the core counts the pressure: data blocks and tensor
  // objects). Rate limit: a collection costs time in proportion to the Java heap, not to the
  // native memory it frees; one that freed less than half a threshold (the memory is really in
  // use) allows the next only after nine times its duration (collections then take at most a
  // tenth of the time); meanwhile the flag stays up, and an allocation that fails still has its
  // own collection. One that paid off allows the next at once.
  private static void hint() {
    if (System.nanoTime() - nextHintNanos < 0 || !HINTING.compareAndSet(false, true)) return;
    try {
      long before = NativeCore.adj_gc_hint_footprint(), t0 = System.nanoTime();
      collectAndDrainCleaner(HINT_WAIT_MS);
      long t1 = System.nanoTime();
      boolean paidOff = before - NativeCore.adj_gc_hint_footprint() >= NativeCore.adj_gc_hint_threshold() / 2;
      nextHintNanos = paidOff ? t1 : t1 + 9 * (t1 - t0);
      HINTS.incrementAndGet();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      HINTING.set(false);
    }
  }

  /**
   * The core's out-of-memory handler: runs a collection and waits (bounded) for the Cleaner to
   * release the tensors it found unreachable; the core then retries the allocation once. Called on
   * the allocating thread inside its native call, so it makes no tensor and never throws.
   */
  static int onAllocationFailure(long nbytes) {
    try {
      synchronized (FAILURE_LOCK) {  // one at a time when several threads fail at once
        collectAndDrainCleaner(FAILURE_WAIT_MS);
        FAILURE_COLLECTIONS.incrementAndGet();
      }
      return 1;
    } catch (Throwable t) {
      if (t instanceof InterruptedException) Thread.currentThread().interrupt();
      return 0;
    }
  }

  // NOTE: "the Cleaner has drained" is not something the JDK can tell. A sentinel object, made
  // unreachable before the collection, is registered with the same Cleaner: once its action ran,
  // the collection has found the garbage and the Cleaner thread is working through it; the wait
  // then lasts until the Cleaner's releases of tensors stop for QUIET_NANOS, or maxWaitMs pass.
  private static void collectAndDrainCleaner(long maxWaitMs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxWaitMs);
    CountDownLatch reached = new CountDownLatch(1);
    register(new Object(), reached::countDown);
    NativeCore.adj_gc_hint_taken();
    System.gc();
    if (!reached.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) return;  // no collection ran
    long seen = CLEANER_RELEASES.get(), quietSince = System.nanoTime();
    while (System.nanoTime() - deadline < 0) {
      LockSupport.parkNanos(QUIET_NANOS / 8);
      long now = System.nanoTime(), c = CLEANER_RELEASES.get();
      if (c != seen) {
        seen = c;
        quietSince = now;
      } else if (now - quietSince >= QUIET_NANOS) {
        return;
      }
    }
  }

  /** Collections asked for by the pressure hint so far (diagnostics, tests). */
  public static long gcHints() {
    return HINTS.get();
  }

  /** Collections run for allocations that failed, before their retry (diagnostics, tests). */
  public static long failureCollections() {
    return FAILURE_COLLECTIONS.get();
  }

  /** Tensors the Cleaner has released so far (diagnostics, tests). */
  public static long cleanerReleases() {
    return CLEANER_RELEASES.get();
  }
}
