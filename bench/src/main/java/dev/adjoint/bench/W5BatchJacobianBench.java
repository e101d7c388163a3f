package dev.adjoint.bench;

import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * W5: per-example Jacobians of predict = tanh(linear(x, W, b)) for a batch of B=64 inputs,
 * Din=31, Dout=33, float32: vmap(jacrev), and the sum trick (jacrev of the output summed over the
 * batch, moved to [B, Dout, Din]). Checked in setup against the closed form per example and
 * against each other.
 */
public class W5BatchJacobianBench extends WorkloadState {
  private Supplier<Object> vmapJacrev, sumTrick;

  @Setup
  public void setup() {
    setUp("W5_batch_jac_B64_Din31_Dout33");
    vmapJacrev = variant("vmap_jacrev");
    sumTrick = variant("sum_trick_jacrev");
  }

  @Benchmark
  public void vmapJacrev() {
    run(vmapJacrev);
  }

  @Benchmark
  public void sumTrickJacrev() {
    run(sumTrick);
  }
}
