package dev.adjoint.bench;

import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * W9: square Jacobians of predict = tanh(linear(x, W, b)), D in {16, 64, 256, 1024}, float32:
 * jacfwd and jacrev. Checked in setup against the closed form diag(1 - y^2) W and against each
 * other.
 */
public class W9SquareBench extends WorkloadState {
  @Param({"16", "64", "256", "1024"})
  public int d;

  private Supplier<Object> jacfwd, jacrev;

  @Setup
  public void setup() {
    setUp("W9_square_D" + d);
    jacfwd = variant("jacfwd");
    jacrev = variant("jacrev");
  }

  @Benchmark
  public void jacfwd() {
    run(jacfwd);
  }

  @Benchmark
  public void jacrev() {
    run(jacrev);
  }
}
