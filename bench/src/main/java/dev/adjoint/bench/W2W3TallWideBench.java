package dev.adjoint.bench;

import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * W2 (Din=32, Dout=2048: a tall Jacobian) and W3 (Din=2048, Dout=32: a wide one) of
 * predict = tanh(linear(x, W, b)), float32: jacfwd and jacrev. Checked in setup against the
 * closed form diag(1 - y^2) W and against each other.
 */
public class W2W3TallWideBench extends WorkloadState {
  @Param({"W2_jac_Din32_Dout2048", "W3_jac_Din2048_Dout32"})
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
