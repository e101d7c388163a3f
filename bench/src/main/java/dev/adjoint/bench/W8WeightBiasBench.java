package dev.adjoint.bench;

import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * W8: the Jacobians of predict = tanh(linear(x, W, b)) with respect to the weight and the bias
 * (jacrev, argnums 0 and 1), float32, at D=16 and at 256x256 (a [256, 256, 256] result, 64 MiB).
 * Checked in setup against the closed forms dy_i/dW[i, k] = (1 - y_i^2) x_k, dy_i/db_i = 1 - y_i^2
 * (zero elsewhere).
 */
public class W8WeightBiasBench extends WorkloadState {
  @Param({"W8_jac_wrt_weight_bias_D16", "W8_jac_wrt_weight_bias_Din256_Dout256"})
  public String workloadName;

  private Supplier<Object> jacrevArgnums01;

  @Setup
  public void setup() {
    setUp(workloadName);
    jacrevArgnums01 = variant("jacrev_argnums01");
  }

  @Benchmark
  public void jacrevArgnums01() {
    run(jacrevArgnums01);
  }
}
