package dev.adjoint.bench;

import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * jacfwd and jacrev of predict = tanh(linear(x, W, b)), float32, at the notebook's shapes: W2
 * (Din=32, Dout=2048: a tall Jacobian), W3 (Din=2048, Dout=32: a wide one) and W9 (square, D in
 * {16, 64, 256, 1024}). Checked in setup against the closed form diag(1 - y^2) W and against
 * each other.
 */
public class W2W3W9JacobianBench extends WorkloadState {
  @Param({"W2_jac_Din32_Dout2048", "W3_jac_Din2048_Dout32", "W9_square_D16", "W9_square_D64", "W9_square_D256", "W9_square_D1024"})
  public String workloadName;

  private Supplier<Object> jacfwd, jacrev;

  @Setup
  public void setup() {
    setUp(workloadName);
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
