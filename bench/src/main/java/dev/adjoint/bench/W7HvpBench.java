package dev.adjoint.bench;

import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * W7: the Hessian-vector product of f(x) = sum(sin x), n=2048, float32: forward-over-reverse
 * jvp(grad(f), x, v), reverse-over-reverse vjp(grad(f), x) pulled back along v, and the
 * materialised Hessian (n x n) times v. Checked in setup against the closed form -sin(x) v and
 * against each other.
 */
public class W7HvpBench extends WorkloadState {
  private Supplier<Object> jvpOfGrad, vjpOfGrad, hessianMatmulV;

  @Setup
  public void setup() {
    setUp("W7_hvp_sin_sum_n2048");
    jvpOfGrad = variant("jvp_of_grad");
    vjpOfGrad = variant("vjp_of_grad");
    hessianMatmulV = variant("hessian_matmul_v");
  }

  @Benchmark
  public void jvpOfGrad() {
    run(jvpOfGrad);
  }

  @Benchmark
  public void vjpOfGrad() {
    run(vjpOfGrad);
  }

  @Benchmark
  public void hessianMatmulV() {
    run(hessianMatmulV);
  }
}
