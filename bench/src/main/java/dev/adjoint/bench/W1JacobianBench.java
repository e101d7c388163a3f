package dev.adjoint.bench;

import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * W1: the Jacobian of predict = tanh(linear(x, W, b)) at D=16, float32: the functorch tutorial's
 * row-by-row loop (one forward and one vjp per unit vector, stacked) and jacrev.
 * Checked in setup against the closed form diag(1 - y^2) W and against each other.
 */
public class W1JacobianBench extends WorkloadState {
  private Supplier<Object> rowLoop, jacrev;

  @Setup
  public void setup() {
    setUp("W1_jac_D16");
    rowLoop = variant("autograd_rowloop");
    jacrev = variant("jacrev");
  }

  @Benchmark
  public void rowLoop() {
    run(rowLoop);
  }

  @Benchmark
  public void jacrev() {
    run(jacrev);
  }
}
