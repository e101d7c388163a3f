package dev.adjoint.bench;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.*;

/**
 * Base of the JMH states: builds one workload of {@link Workloads}, checks every variant once
 * against its independent reference (throws {@link AssertionError} if a result is wrong), and
 * runs a variant inside its own {@link dev.adjoint.Scope} per invocation, so everything an
 * invocation creates, its result included, is released before the next. The JMH settings here
 * are inherited by every workload benchmark (a subclass may override one, as W4 does).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
abstract class WorkloadState {
  Workloads.Workload workload;

  /** Builds and checks workload {@code name}; call from a {@code @Setup} method. */
  void setUp(String name) {
    workload = Workloads.build(name);
    workload.check();
  }

  Supplier<Object> variant(String v) {
    return workload.variant(v);
  }

  static void run(Supplier<Object> body) {
    try (dev.adjoint.Scope s = dev.adjoint.Scope.open()) {
      body.get();
    }
  }
}
