package dev.adjoint.bench;

import java.util.function.Supplier;

/**
 * Base of the JMH states: builds one workload of {@link Workloads}, checks every variant once
 * against its independent reference (throws {@link AssertionError} if a result is wrong), and
 * runs a variant inside its own {@link dev.adjoint.Scope} per invocation, so everything an
 * invocation creates, its result included, is released before the next.
 */
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
