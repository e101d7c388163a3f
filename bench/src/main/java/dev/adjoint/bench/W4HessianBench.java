package dev.adjoint.bench;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * W4: the Hessian of predict = tanh(linear(x, W, b)) with respect to x, Din=512, Dout=32
 * (a [32, 512, 512] float32 result, 32 MiB): hessian (= jacfwd(jacrev)), jacfwd(jacfwd) and
 * jacrev(jacrev). Checked in setup against the closed form -2 y_i (1 - y_i^2) w_i w_i^T and
 * against each other. jacrev(jacrev) takes seconds per call: run this class with few iterations.
 */
// Calls take milliseconds: coarser units and longer iterations than the defaults in WorkloadState.
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class W4HessianBench extends WorkloadState {
  private Supplier<Object> hessian, jacfwdJacfwd, jacrevJacrev;

  @Setup
  public void setup() {
    setUp("W4_hessian_Din512_Dout32");
    hessian = variant("hessian");
    jacfwdJacfwd = variant("jacfwd_jacfwd");
    jacrevJacrev = variant("jacrev_jacrev");
  }

  @Benchmark
  public void hessian() {
    run(hessian);
  }

  @Benchmark
  public void jacfwdJacfwd() {
    run(jacfwdJacfwd);
  }

  @Benchmark
  public void jacrevJacrev() {
    run(jacrevJacrev);
  }
}
