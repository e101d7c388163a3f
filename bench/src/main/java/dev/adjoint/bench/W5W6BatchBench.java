package dev.adjoint.bench;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * W5 and W6: per-example Jacobians and Hessians of predict = tanh(linear(x, W, b)) for a batch
 * of B=64 inputs, Din=31, Dout=33, float32: vmap(jacrev), the sum trick (jacrev of the output
 * summed over the batch, moved to [B, Dout, Din]) and vmap(hessian). Checked in setup against the
 * closed forms per example and (W5) against each other.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class W5W6BatchBench {
  /** W5 (the JMH state settings come from WorkloadState). */
  public static class Jacobians extends WorkloadState {
    Supplier<Object> vmapJacrev, sumTrick;

    @Setup
    public void setup() {
      setUp("W5_batch_jac_B64_Din31_Dout33");
      vmapJacrev = variant("vmap_jacrev");
      sumTrick = variant("sum_trick_jacrev");
    }
  }

  /** W6. */
  public static class Hessians extends WorkloadState {
    Supplier<Object> vmapHessian;

    @Setup
    public void setup() {
      setUp("W6_batch_hessian_B64_Din31_Dout33");
      vmapHessian = variant("vmap_hessian");
    }
  }

  @Benchmark
  public void w5VmapJacrev(Jacobians s) {
    WorkloadState.run(s.vmapJacrev);
  }

  @Benchmark
  public void w5SumTrickJacrev(Jacobians s) {
    WorkloadState.run(s.sumTrick);
  }

  @Benchmark
  public void w6VmapHessian(Hessians s) {
    WorkloadState.run(s.vmapHessian);
  }
}
