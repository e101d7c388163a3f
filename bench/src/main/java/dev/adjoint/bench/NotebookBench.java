package dev.adjoint.bench;

import static dev.adjoint.Func.*;

import dev.adjoint.Adjoint;
import dev.adjoint.F;
import dev.adjoint.Fn1;
import dev.adjoint.Fn3;
import dev.adjoint.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.*;

/**
 * The seed notebook's workloads (float32, predict = linear + tanh). Each invocation runs inside
 * a Scope so that memory stays flat; results are checked once in setup by the test suite, not here.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class NotebookBench {
  static Tensor predict(Tensor w, Tensor b, Tensor x) {
    return F.linear(x, w, b).tanh();
  }

  private static final Fn3 PREDICT = NotebookBench::predict;

  private Tensor w16, b16, x16, eye16;
  private Tensor w5, b5, x5;
  private Tensor x7, v7;

  @Setup
  public void setup() {
    Adjoint.manualSeed(0);
    w16 = Tensor.randn(16, 16);
    b16 = Tensor.randn(16);
    x16 = Tensor.randn(16);
    eye16 = Tensor.eye(16);
    w5 = Tensor.randn(33, 31);
    b5 = Tensor.randn(33);
    x5 = Tensor.randn(64, 31);
    x7 = Tensor.randn(2048);
    v7 = Tensor.randn(2048);
  }

  @Benchmark
  public void w1JacrevD16() {
    try (dev.adjoint.Scope s = dev.adjoint.Scope.open()) {
      jacrev(PREDICT, 2).apply(w16, b16, x16);
    }
  }

  @Benchmark
  public void w1RowLoopD16() {
    try (dev.adjoint.Scope s = dev.adjoint.Scope.open()) {
      var v = vjp(x -> predict(w16, b16, x), x16);
      for (int i = 0; i < 16; i++) v.applyTensor(eye16.get(i));
    }
  }

  @Benchmark
  public void w5VmapJacrev() {
    try (dev.adjoint.Scope s = dev.adjoint.Scope.open()) {
      vmap(jacrev(PREDICT, 2), inDims(null, null, 0)).apply(w5, b5, x5);
    }
  }

  @Benchmark
  public void w7HvpJvpGrad() {
    try (dev.adjoint.Scope s = dev.adjoint.Scope.open()) {
      Fn1 f = x -> x.sin().sum();
      jvp(grad(f), x7, v7).tangent();
    }
  }
}
