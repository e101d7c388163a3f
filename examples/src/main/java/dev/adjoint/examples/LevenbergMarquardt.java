package dev.adjoint.examples;

import static dev.adjoint.Func.*;

import dev.adjoint.Fn1;
import dev.adjoint.Linalg;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import java.util.Locale;

/**
 * A Levenberg-Marquardt curve fit of {@code y = a exp(-b t) + c} to 40 samples: the Jacobian of the
 * residuals comes from {@code jacfwd}, each step solves the damped normal equations
 * {@code (J^T J + lambda diag(J^T J)) d = -J^T r} with {@link Linalg#solve}, and lambda shrinks
 * after a step that lowers the cost and grows after one that does not. The Jacobian is checked
 * against its closed form, and the fit must recover the parameters the data was made with.
 *
 * <p>Run: {@code mvn -B -f examples/pom.xml exec:java -Dexample=dev.adjoint.examples.LevenbergMarquardt}
 */
public final class LevenbergMarquardt {
  static final double[] TRUE = {2.5, 1.3, 0.5};

  public static void main(String[] args) {
    try (Scope scope = Scope.open()) {
      int n = 40;
      double[] tv = new double[n], yv = new double[n];
      for (int i = 0; i < n; i++) {
        tv[i] = 0.1 * i;
        yv[i] = TRUE[0] * Math.exp(-TRUE[1] * tv[i]) + TRUE[2];
      }
      Tensor t = Tensor.of(tv), y = Tensor.of(yv);
      Fn1 residuals = p -> p.get(0).mul(p.get(1).neg().mul(t).exp()).add(p.get(2)).sub(y);
      Fn1 jacobian = jacfwd(residuals);

      Tensor p = Tensor.of(1.0, 0.3, 0.0);
      // the Jacobian against its closed form: dr/da = e^(-bt), dr/db = -a t e^(-bt), dr/dc = 1
      double[] j = jacobian.apply(p).toDoubleArray();
      double jErr = 0;
      for (int i = 0; i < n; i++) {
        double e = Math.exp(-0.3 * tv[i]);
        jErr = Math.max(jErr, Math.abs(j[3 * i] - e) + Math.abs(j[3 * i + 1] + 1.0 * tv[i] * e) + Math.abs(j[3 * i + 2] - 1));
      }
      System.out.printf(Locale.ROOT, "Jacobian vs closed form at the start: %.1e%n", jErr);

      double lambda = 1e-3, cost = residuals.apply(p).square().sum().item();
      int iter = 0;
      for (; iter < 100 && cost > 1e-26; iter++) {
        try (Scope s = Scope.open()) {
          Tensor r = residuals.apply(p), jm = jacobian.apply(p);
          Tensor jtj = jm.t().matmul(jm), jtr = jm.t().matmul(r);
          Tensor damped = jtj.add(Tensor.diag(jtj.diagonal(0)).mul(lambda));
          Tensor candidate = p.sub(Linalg.solve(damped, jtr));
          double newCost = residuals.apply(candidate).square().sum().item();
          if (newCost < cost) {
            p = s.keep(candidate);
            cost = newCost;
            lambda = Math.max(lambda / 3, 1e-12);
          } else {
            lambda *= 2;
          }
        }
      }
      double[] fit = p.toDoubleArray();
      double pErr = 0;
      for (int i = 0; i < 3; i++) pErr = Math.max(pErr, Math.abs(fit[i] - TRUE[i]));
      System.out.printf(Locale.ROOT, "fit after %d iterations: a = %.10f, b = %.10f, c = %.10f (cost %.1e, max error %.1e)%n",
          iter, fit[0], fit[1], fit[2], cost, pErr);
      boolean ok = jErr < 1e-12 && pErr < 1e-8;
      System.out.println(ok ? "All checks passed" : "CHECK FAILED");
      if (!ok) System.exit(1);
    }
  }
}
