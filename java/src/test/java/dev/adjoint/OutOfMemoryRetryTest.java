package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.adjoint.internal.NativeMemory;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Native allocations under the process's memory limit (allocator.cpp's NOTE on the guard;
 * NativeMemory): an allocation that would pass the limit runs a garbage collection, waits for the
 * Cleaner and retries once; if that does not free enough it throws {@link
 * NativeOutOfMemoryException} naming the bytes asked for, the live native bytes, the limit and
 * where the limit comes from. Each case runs in a JVM of its own, under a limit of 512 MiB set by
 * {@code ADJOINT_MEMORY_LIMIT} or, where this machine allows, by a real memory cgroup.
 */
class OutOfMemoryRetryTest {
  static final long MiB = 1L << 20;
  static final long LIMIT = 512 * MiB;

  private static Forked.Result fork(String mode, Map<String, String> env, List<String> prefix) throws Exception {
    Forked.Options o = new Forked.Options();
    o.jvmArgs = List.of("-Xmx64m", "-Xss4m");
    o.env = env;
    o.prefix = prefix;
    o.timeoutSeconds = 300;
    Forked.Result r = Forked.run("oom " + mode, OutOfMemoryRetryTest.class, o, mode);
    assertEquals(0, r.exitCode(), "the " + mode + " JVM failed:\n" + r.output());
    return r;
  }

  private static Forked.Result fork(String mode) throws Exception {
    return fork(mode, Map.of("ADJOINT_MEMORY_LIMIT", "512m"), List.of());
  }

  @Test
  void theLimitComesFromTheEnvironment() throws Exception {
    Forked.Result r = fork("limit");
    assertEquals(LIMIT, r.getLong("bytes"));
    assertEquals("ADJOINT_MEMORY_LIMIT=512m", r.line("source: "));
    assertEquals(32 * MiB, r.getLong("gcHintBytes"), "1/64 of 512 MiB is below the 32 MiB floor");
  }

  @Test
  void garbageLeftToTheCleanerIsCollectedAndTheAllocationRetried() throws Exception {
    Forked.Result r = fork("retry");
    assertEquals("true", r.get("ok"));
    assertEquals(1, r.getLong("failureCollections"), "one collection for the allocation that did not fit");
    assertTrue(r.getLong("cleanerReleases") >= 1, "the Cleaner released the garbage before the retry");
  }

  @Test
  void aTransformsIntermediateIsRetriedInsideTheNativeCall() throws Exception {
    Forked.Result r = fork("grad");
    assertEquals("true", r.get("ok"), "grad of sum(u*u) at ones is 2 everywhere");
    assertTrue(r.getLong("failureCollections") >= 1, "an intermediate of the backward pass did not fit at first");
  }

  @Test
  void anOpsIntermediateIsRetriedInsideTheNativeCall() throws Exception {
    Forked.Result r = fork("softmax");
    assertEquals("true", r.get("ok"), "softmax of zeros sums to 1");
    assertTrue(r.getLong("failureCollections") >= 1, "an intermediate of softmax did not fit at first");
  }

  @Test
  void memoryInUseGivesAnExceptionNamingBytesLiveLimitAndSource() throws Exception {
    Forked.Result r = fork("fail");
    String msg = r.line("message: ");
    assertTrue(msg.startsWith("full: cannot allocate 419430400 bytes: native tensors hold 209715200 bytes"), msg);
    assertTrue(msg.contains("the process's memory limit is 536870912 bytes (512.0 MiB), from ADJOINT_MEMORY_LIMIT=512m"), msg);
    assertTrue(msg.contains("still so after a garbage collection and the Cleaner's releases"), msg);
    assertEquals(1, r.getLong("failureCollections"));
    assertTrue(r.getLong("elapsedMs") < 5000, "the wait for the Cleaner is bounded: " + r.get("elapsedMs") + " ms");
    assertEquals("true", r.get("stillWorks"));
  }

  @Test
  void aRequestLargerThanTheLimitFailsWithoutACollection() throws Exception {
    Forked.Result r = fork("huge");
    String msg = r.line("message: ");
    assertTrue(msg.startsWith("full: cannot allocate 1073741824 bytes: more than the process's memory limit of 536870912 bytes"), msg);
    assertEquals(0, r.getLong("failureCollections"));
  }

  @Test
  void aRealCgroupLimitIsFoundAndGivesAnExceptionInsteadOfAKill() throws Exception {
    try (SmallCgroup cg = SmallCgroup.create("adjoint-oom", LIMIT)) {
      assumeTrue(cg != null, "no memory cgroup can be made here (needs root and a writable cgroup hierarchy)");
      Forked.Result limit = fork("limit", Map.of(), cg.prefix());
      assertEquals(LIMIT, limit.getLong("bytes"));
      String source = limit.line("source: ");
      assertEquals(cg.v2 ? "cgroup v2 memory.max (" + cg.dir.resolve("memory.max") + ")"
          : "cgroup v1 memory.limit_in_bytes (" + cg.dir.resolve("memory.limit_in_bytes") + ")", source);
      Forked.Result fail = fork("fail", Map.of(), cg.prefix());
      String msg = fail.line("message: ");
      assertTrue(msg.contains("the process's memory limit is 536870912 bytes (512.0 MiB), from cgroup"), msg);
      Forked.Result retry = fork("retry", Map.of(), cg.prefix());
      assertEquals("true", retry.get("ok"));
      System.out.println("OutOfMemoryRetryTest: in a 512 MiB cgroup: " + msg);
    }
  }

  // ------------------------------------------------------------------ the child JVM

  private static void result(String fields) {
    System.out.println("RESULT " + fields + " failureCollections=" + NativeMemory.failureCollections() + " cleanerReleases="
        + NativeMemory.cleanerReleases());
  }

  /** Child JVM: one of limit, retry, grad, softmax, fail, huge. */
  public static void main(String[] args) {
    switch (args[0]) {
      case "limit" -> {
        Adjoint.MemoryLimit l = Adjoint.memoryLimit();
        System.out.println("source: " + l.source());
        result("bytes=" + l.bytes() + " gcHintBytes=" + l.gcHintBytes());
      }
      case "retry" -> {
        Tensor garbage = Tensor.ones(200 * MiB / 4);
        garbage = null;  // unreachable, still held natively until the Cleaner runs
        Tensor b = Tensor.ones(400 * MiB / 4);  // 200 + 400 MiB held would pass 512 MiB
        result("ok=" + (b.sum().item() == 400 * MiB / 4));
      }
      case "grad" -> {
        Tensor x = Tensor.ones(64 * MiB / 4);
        Tensor[] garbage = {Tensor.ones(360 * MiB / 4)};
        Tensor g = grad((Fn1) u -> {
          Tensor y = u.mul(u).sum();
          garbage[0] = null;  // unreachable from here on: the backward pass's 64 MiB blocks need its memory
          return y;
        }).apply(x);  // 2u
        result("ok=" + (g.sum().item() == 2.0 * (64 * MiB / 4)));
      }
      case "softmax" -> {
        Tensor x = Tensor.zeros(64 * MiB / 4);
        Tensor garbage = Tensor.ones(360 * MiB / 4);
        garbage = null;
        Tensor y = x.softmax(0);  // one native call, several 64 MiB intermediates
        result("ok=" + (Math.abs(y.sum().item() - 1.0) < 1e-3));
      }
      case "fail" -> {
        Tensor kept = Tensor.ones(200 * MiB / 4);
        long t0 = System.nanoTime();
        String message = "none";
        try {
          Tensor.zeros(400 * MiB / 4);
        } catch (NativeOutOfMemoryException e) {
          message = e.getMessage();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        boolean works = Tensor.ones(10).sum().item() == 10 && kept.sum().item() == 200 * MiB / 4;
        System.out.println("message: " + message);
        result("elapsedMs=" + ms + " stillWorks=" + works);
      }
      case "huge" -> {
        String message = "none";
        try {
          Tensor.zeros(1024 * MiB / 4);
        } catch (NativeOutOfMemoryException e) {
          message = e.getMessage();
        }
        System.out.println("message: " + message);
        result("");
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
    System.exit(0);
  }
}
