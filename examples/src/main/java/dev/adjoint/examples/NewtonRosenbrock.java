package dev.adjoint.examples;

import static dev.adjoint.Func.*;

import dev.adjoint.Fn1;
import dev.adjoint.Linalg;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import java.util.Locale;

/**
 * Newton's method on the Rosenbrock function
 * {@code f(x) = sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2} from the classic start (-1.2, 1)
 * (written for any dimension; from 4 dimensions on, this start leads plain Newton to a local
 * minimum near x[0] = -0.78, where f is 3.7): each step solves
 * {@code H(x) d = grad f(x)} with {@link Linalg#solve} on the Hessian from {@code hessian(f)}, and
 * moves to {@code x - d}. The gradient and Hessian at the start are checked against their closed
 * forms, and the iterate must reach the minimum, all ones, where f is 0.
 *
 * <p>Run: {@code mvn -B -f examples/pom.xml exec:java -Dexample=dev.adjoint.examples.NewtonRosenbrock}
 */
public final class NewtonRosenbrock {
  static final Fn1 ROSENBROCK = x -> {
    Tensor head = x.slice(0, 0, x.size(0) - 1), tail = x.slice(0, 1, x.size(0));
    return tail.sub(head.square()).square().mul(100.0).add(head.rsub(1.0).square()).sum();
  };

  /** The closed-form gradient and Hessian of the Rosenbrock function, for the check. */
  static double[] gradient(double[] x) {
    int n = x.length;
    double[] g = new double[n];
    for (int i = 0; i < n - 1; i++) {
      double d = x[i + 1] - x[i] * x[i];
      g[i] += -400 * x[i] * d - 2 * (1 - x[i]);
      g[i + 1] += 200 * d;
    }
    return g;
  }

  static double[][] hessianOf(double[] x) {
    int n = x.length;
    double[][] h = new double[n][n];
    for (int i = 0; i < n - 1; i++) {
      h[i][i] += 1200 * x[i] * x[i] - 400 * x[i + 1] + 2;
      h[i][i + 1] += -400 * x[i];
      h[i + 1][i] += -400 * x[i];
      h[i + 1][i + 1] += 200;
    }
    return h;
  }

  static double maxDiff(double[] a, double[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
    return m;
  }

  public static void main(String[] args) {
    try (Scope scope = Scope.open()) {
      double[] start = {-1.2, 1.0};
      int n = start.length;
      Tensor x = Tensor.of(start);  // float64
      Fn1 gradF = grad(ROSENBROCK), hessF = hessian(ROSENBROCK);

      double gErr = maxDiff(gradF.apply(x).toDoubleArray(), gradient(start));
      double[] hFlat = hessF.apply(x).toDoubleArray(), hRef = new double[n * n];
      double[][] h = hessianOf(start);
      for (int i = 0; i < n; i++) System.arraycopy(h[i], 0, hRef, n * i, n);
      double hErr = maxDiff(hFlat, hRef);
      System.out.printf(Locale.ROOT, "start %s: f = %.6f, gradient vs closed form %.1e, Hessian vs closed form %.1e%n",
          java.util.Arrays.toString(start), ROSENBROCK.apply(x).item(), gErr, hErr);

      int steps = 0;
      double gradNorm = Double.POSITIVE_INFINITY;
      while (steps < 50) {
        try (Scope step = Scope.open()) {
          Tensor g = gradF.apply(x);
          gradNorm = g.norm().item();
          if (gradNorm < 1e-10) break;
          Tensor d = Linalg.solve(hessF.apply(x), g);  // H d = g
          x = step.keep(x.sub(d));
          steps++;
          System.out.printf(Locale.ROOT, "step %2d: f = %.3e, |grad| = %.3e%n", steps, ROSENBROCK.apply(x).item(), gradF.apply(x).norm().item());
        }
      }
      double err = x.sub(1.0).abs().amax().item();
      System.out.printf(Locale.ROOT, "Newton: %d steps, x = %s, max |x - 1| = %.1e%n", steps, java.util.Arrays.toString(x.toDoubleArray()), err);
      boolean ok = gErr < 1e-12 && hErr < 1e-12 && err < 1e-10 && gradNorm < 1e-10;
      System.out.println(ok ? "All checks passed" : "CHECK FAILED");
      if (!ok) System.exit(1);
    }
  }
}
