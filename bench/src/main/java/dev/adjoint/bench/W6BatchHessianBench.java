package dev.adjoint.bench;

import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * W6: per-example Hessians of predict = tanh(linear(x, W, b)) for a batch of B=64 inputs,
 * Din=31, Dout=33, float32: vmap(hessian). Checked in setup against the closed form per example.
 */
public class W6BatchHessianBench extends WorkloadState {
  private Supplier<Object> vmapHessian;

  @Setup
  public void setup() {
    setUp("W6_batch_hessian_B64_Din31_Dout33");
    vmapHessian = variant("vmap_hessian");
  }

  @Benchmark
  public void vmapHessian() {
    run(vmapHessian);
  }
}
