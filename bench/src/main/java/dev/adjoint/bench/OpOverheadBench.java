package dev.adjoint.bench;

import dev.adjoint.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * The cost of one op call from Java on a tiny tensor: JNI transition, dispatch, allocation of the
 * result and its release. Each invocation creates one result and closes it, so memory is flat.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class OpOverheadBench {
  private Tensor x1, w4, v4;

  @Setup
  public void setup() {
    x1 = Tensor.ones(1);
    w4 = Tensor.randn(4, 4);
    v4 = Tensor.randn(4);
  }

  @TearDown
  public void tearDown() {
    x1.close();
    w4.close();
    v4.close();
  }

  /** Metadata query: the bare JNI round trip. */
  @Benchmark
  public int ndimQuery() {
    return x1.dtype().ordinal() + x1.strides().length;
  }

  @Benchmark
  public void addTiny() {
    x1.add(x1).close();
  }

  @Benchmark
  public void tanhTiny() {
    x1.tanh().close();
  }

  @Benchmark
  public void mulScalarTiny() {
    x1.mul(2.0).close();
  }

  @Benchmark
  public void matmulVec4() {
    v4.matmul(w4).close();
  }

  /** The same op inside a scope that owns 100 results: the scope path instead of close(). */
  @Benchmark
  @OperationsPerInvocation(100)
  public void addTinyInScope() {
    try (dev.adjoint.Scope s = dev.adjoint.Scope.open()) {
      for (int i = 0; i < 100; i++) x1.add(x1);
    }
  }
}
