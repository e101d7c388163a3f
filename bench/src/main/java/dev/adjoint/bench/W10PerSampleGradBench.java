package dev.adjoint.bench;

import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * W10: per-sample gradients of a 784-128-10 tanh MLP with cross-entropy (F.crossEntropy),
 * B=64, float32: vmap(grad(loss), inDims(null, 0, 0)) and a loop of 64 grad calls stacked per
 * parameter. Checked in setup against hand-written backprop in double precision and against
 * each other.
 */
public class W10PerSampleGradBench extends WorkloadState {
  private Supplier<Object> vmapGrad, loop;

  @Setup
  public void setup() {
    setUp("W10_per_sample_grad_mlp_B64");
    vmapGrad = variant("vmap_grad");
    loop = variant("autograd_loop");
  }

  @Benchmark
  public void vmapGrad() {
    run(vmapGrad);
  }

  @Benchmark
  public void loop() {
    run(loop);
  }
}
