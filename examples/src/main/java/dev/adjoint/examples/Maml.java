package dev.adjoint.examples;

import static dev.adjoint.Func.*;

import dev.adjoint.Adjoint;
import dev.adjoint.DType;
import dev.adjoint.F;
import dev.adjoint.FnN;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import dev.adjoint.VmapOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * MAML (Finn et al. 2017) on sine-wave regression: a small MLP's parameters {@code p} are adapted
 * to each task by one gradient step on its support set, {@code p' = p - alpha grad L_support(p)},
 * and the meta-loss is the adapted model's loss on the task's query set. Its gradient with respect
 * to {@code p} differentiates through the inner {@code grad} (a second-order term: {@code grad} of a
 * function that calls {@code grad}), and {@code vmap} over tasks gives every task's meta-gradient in
 * one call. Checked: the meta-gradient against central finite differences of the meta-loss
 * (float64); {@code vmap} over tasks against a loop; the second-order term is non-zero (full MAML
 * differs from first-order MAML); meta-training lowers the loss after adaptation on new tasks.
 *
 * <p>Run: {@code mvn -B -f examples/pom.xml exec:java -Dexample=dev.adjoint.examples.Maml}
 */
public final class Maml {
  static final int HIDDEN = 20, SHOTS = 10, TASKS = 8;
  static final double ALPHA = 0.05, META_LR = 0.03;

  /** A 1 -> HIDDEN -> 1 tanh MLP: p = [w1 [H, 1], b1 [H], w2 [1, H], b2 [1]], x [n, 1]. */
  static Tensor predict(List<Tensor> p, Tensor x) {
    return F.linear(F.linear(x, p.get(0), p.get(1)).tanh(), p.get(2), p.get(3));
  }

  /** loss(p, x, y): mean squared error on one set. */
  @SuppressWarnings("unchecked")
  static final FnN LOSS = a -> F.mseLoss(predict((List<Tensor>) a[0], (Tensor) a[1]), (Tensor) a[2]);

  /** The inner step: p - alpha grad loss(p) on the support set. */
  @SuppressWarnings("unchecked")
  static List<Tensor> adapt(List<Tensor> p, Tensor xs, Tensor ys) {
    List<Tensor> g = (List<Tensor>) grad(LOSS).apply(p, xs, ys);
    List<Tensor> out = new ArrayList<>(p.size());
    for (int i = 0; i < p.size(); i++) out.add(p.get(i).sub(g.get(i).mul(ALPHA)));
    return out;
  }

  /** metaLoss(p, xs, ys, xq, yq): the query loss after one inner step on the support set. */
  @SuppressWarnings("unchecked")
  static final FnN META_LOSS = a -> LOSS.apply(adapt((List<Tensor>) a[0], (Tensor) a[1], (Tensor) a[2]), a[3], a[4]);

  /** First-order MAML's gradient: the query loss's gradient at p', the inner step held constant. */
  @SuppressWarnings("unchecked")
  static final FnN FIRST_ORDER = a -> {
    List<Tensor> adapted = new ArrayList<>();
    for (Tensor t : adapt((List<Tensor>) a[0], (Tensor) a[1], (Tensor) a[2])) adapted.add(t.detach());
    return grad(LOSS).apply(adapted, a[3], a[4]);
  };

  /** T tasks y = amplitude sin(x + phase), support and query sets of SHOTS points each: xs, ys, xq, yq [T, SHOTS, 1]. */
  static Tensor[] tasks(int count) {
    Tensor amp = Tensor.rand(DType.FLOAT64, count, 1, 1).mul(4.9).add(0.1);
    Tensor phase = Tensor.rand(DType.FLOAT64, count, 1, 1).mul(Math.PI);
    Tensor xs = Tensor.rand(DType.FLOAT64, count, SHOTS, 1).mul(10).sub(5);
    Tensor xq = Tensor.rand(DType.FLOAT64, count, SHOTS, 1).mul(10).sub(5);
    return new Tensor[] {xs, xs.add(phase).sin().mul(amp), xq, xq.add(phase).sin().mul(amp)};
  }

  static double metaLossValue(List<Tensor> p, Tensor[] t, int task) {
    return ((Tensor) META_LOSS.apply(p, t[0].get(task), t[1].get(task), t[2].get(task), t[3].get(task))).item();
  }

  /** The mean over tasks of the query loss after adaptation. */
  static double adaptedLoss(List<Tensor> p, Tensor[] t) {
    double s = 0;
    for (int i = 0; i < t[0].size(0); i++) s += metaLossValue(p, t, i);
    return s / t[0].size(0);
  }

  /** p with entry `flat` of parameter `k` moved by h (a fresh list; p unchanged). */
  static List<Tensor> moved(List<Tensor> p, int k, int flat, double h) {
    List<Tensor> out = new ArrayList<>(p);
    double[] v = p.get(k).toDoubleArray();
    v[flat] += h;
    out.set(k, Tensor.fromArray(v, p.get(k).shape()));
    return out;
  }

  @SuppressWarnings("unchecked")
  public static void main(String[] args) {
    try (Scope scope = Scope.open()) {
      Adjoint.manualSeed(0);
      List<Tensor> p = new ArrayList<>(List.of(
          Tensor.randn(DType.FLOAT64, HIDDEN, 1), Tensor.zeros(DType.FLOAT64, HIDDEN),
          Tensor.randn(DType.FLOAT64, 1, HIDDEN).div(Math.sqrt(HIDDEN)), Tensor.zeros(DType.FLOAT64, 1)));
      Tensor[] batch = tasks(TASKS);
      FnN metaGrad = grad(META_LOSS);
      FnN perTask = vmap(metaGrad, VmapOptions.inDims(null, 0, 0, 0, 0));

      // 1. the meta-gradient of task 0 against central differences of the meta-loss
      List<Tensor> g0 = (List<Tensor>) metaGrad.apply(p, batch[0].get(0), batch[1].get(0), batch[2].get(0), batch[3].get(0));
      double fdErr = 0;
      int checked = 0;
      for (int k = 0; k < p.size(); k++) {
        double[] g = g0.get(k).toDoubleArray();
        for (int flat = 0; flat < g.length; flat += Math.max(1, g.length / 4)) {
          double h = 1e-5;
          double fd = (metaLossValue(moved(p, k, flat, h), batch, 0) - metaLossValue(moved(p, k, flat, -h), batch, 0)) / (2 * h);
          fdErr = Math.max(fdErr, Math.abs(g[flat] - fd) / (1 + Math.abs(fd)));
          checked++;
        }
      }

      // 2. vmap over tasks against a loop; 3. the second-order term
      List<Tensor> all = (List<Tensor>) perTask.apply(p, batch[0], batch[1], batch[2], batch[3]);
      double loopErr = 0, secondOrder = 0;
      for (int i = 0; i < TASKS; i++) {
        Object[] task = {p, batch[0].get(i), batch[1].get(i), batch[2].get(i), batch[3].get(i)};
        List<Tensor> gi = (List<Tensor>) metaGrad.apply(task);
        List<Tensor> fo = (List<Tensor>) FIRST_ORDER.apply(task);
        for (int k = 0; k < p.size(); k++) {
          loopErr = Math.max(loopErr, gi.get(k).sub(all.get(k).get(i)).abs().amax().item());
          secondOrder = Math.max(secondOrder, gi.get(k).sub(fo.get(k)).abs().amax().item());
        }
      }
      System.out.printf(Locale.ROOT,
          "meta-gradient vs central differences: %.1e (%d entries); vmap over %d tasks vs loop: %.1e; |MAML - first-order MAML| = %.3f%n",
          fdErr, checked, TASKS, loopErr, secondOrder);

      // 4. meta-training: SGD on the mean of the per-task meta-gradients
      Adjoint.manualSeed(1);
      Tensor[] test = tasks(32);
      double before = adaptedLoss(p, test);
      for (int step = 0; step < 300; step++) {
        try (Scope s = Scope.open()) {
          Tensor[] t = tasks(TASKS);
          List<Tensor> mg = (List<Tensor>) perTask.apply(p, t[0], t[1], t[2], t[3]);
          for (int k = 0; k < p.size(); k++) p.set(k, s.keep(p.get(k).sub(mg.get(k).mean(0).mul(META_LR))));
        }
      }
      double after = adaptedLoss(p, test);
      System.out.printf(Locale.ROOT, "query loss after one adaptation step, 32 new tasks: %.3f -> %.3f after 300 meta-steps%n", before, after);
      boolean ok = fdErr < 1e-6 && loopErr < 1e-12 && secondOrder > 1e-4 && after < 0.8 * before;
      System.out.println(ok ? "All checks passed" : "CHECK FAILED");
      if (!ok) System.exit(1);
    }
  }
}
