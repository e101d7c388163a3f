package dev.adjoint.bench;

/**
 * Runs one workload variant a fixed number of times, each in its own scope: the driver of
 * {@code bench/count_instructions.sh}, which counts the instructions of the second batch under
 * callgrind (deterministic where timings on a shared machine are not).
 *
 * <p>Usage: {@code Count WORKLOAD VARIANT WARM N}.
 */
public final class Count {
  private Count() {}

  public static void main(String[] a) {
    Workloads.Workload w = SideBySide.workload(a[0]);
    int warm = Integer.parseInt(a[2]), n = Integer.parseInt(a[3]);
    for (int i = 0; i < warm; i++) w.runOnce(a[1]);
    for (int i = 0; i < n; i++) w.runOnce(a[1]);
    System.out.println("done " + (warm + n));
  }
}
