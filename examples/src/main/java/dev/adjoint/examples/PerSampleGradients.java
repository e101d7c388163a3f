package dev.adjoint.examples;

import static dev.adjoint.Func.*;

import dev.adjoint.Adjoint;
import dev.adjoint.DType;
import dev.adjoint.F;
import dev.adjoint.FnN;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import dev.adjoint.examples.Timer.Timing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Per-sample gradients: the gradient of the loss of every example of a batch separately, in one
 * vectorised pass — {@code vmap(grad(loss), in_dims=(None, 0, 0))} in torch.func, here
 * {@code vmap(grad(loss), inDims(null, 0, 0))}. The model is a small MLP whose parameters live in
 * a {@code Map<String, Tensor>} (a pytree: the gradients come back as a map with the same keys,
 * each with a leading batch dim). The result is checked against a plain loop of {@code grad}
 * calls, one example at a time, and both are timed.
 *
 * <p>Run: {@code mvn -B -f examples/pom.xml exec:java -Dexample=dev.adjoint.examples.PerSampleGradients}
 */
public final class PerSampleGradients {
  static final int IN = 784, HIDDEN = 128, CLASSES = 10, BATCH = 64;

  /** logits = fc2(tanh(fc1(x))): works for one example [784] or a batch [N, 784]. */
  static Tensor model(Map<String, Tensor> p, Tensor x) {
    Tensor h = F.linear(x, p.get("fc1.weight"), p.get("fc1.bias")).tanh();
    return F.linear(h, p.get("fc2.weight"), p.get("fc2.bias"));
  }

  /**
   * loss(params, x, target): cross-entropy, a scalar for one example ([784], 0-d target) or the
   * mean over a batch ([N, 784], [N] targets).
   */
  @SuppressWarnings("unchecked")
  static final FnN LOSS = args -> F.crossEntropy(model((Map<String, Tensor>) args[0], (Tensor) args[1]), (Tensor) args[2]);

  /** PyTorch-style init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
  static Map<String, Tensor> initParams() {
    Map<String, Tensor> p = new LinkedHashMap<>();
    p.put("fc1.weight", uniform(1.0 / Math.sqrt(IN), HIDDEN, IN));
    p.put("fc1.bias", uniform(1.0 / Math.sqrt(IN), HIDDEN));
    p.put("fc2.weight", uniform(1.0 / Math.sqrt(HIDDEN), CLASSES, HIDDEN));
    p.put("fc2.bias", uniform(1.0 / Math.sqrt(HIDDEN), CLASSES));
    return p;
  }

  static Tensor uniform(double bound, long... shape) {
    return Tensor.rand(shape).mul(2 * bound).sub(bound);
  }

  /** The reference: one grad call per example, stacked per parameter. */
  @SuppressWarnings("unchecked")
  static Map<String, Tensor> loopOfGrads(Map<String, Tensor> params, Tensor data, Tensor targets) {
    FnN gradLoss = grad(LOSS);
    Map<String, List<Tensor>> rows = new LinkedHashMap<>();
    for (String k : params.keySet()) rows.put(k, new ArrayList<>());
    for (int i = 0; i < data.size(0); i++) {
      Map<String, Tensor> g = (Map<String, Tensor>) gradLoss.apply(params, data.get(i), targets.get(i));
      g.forEach((k, v) -> rows.get(k).add(v));
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    rows.forEach((k, v) -> out.put(k, Tensor.stack(v, 0)));
    return out;
  }

  @SuppressWarnings("unchecked")
  public static void main(String[] args) {
    try (Scope scope = Scope.open()) {
      Adjoint.manualSeed(0);
      Map<String, Tensor> params = initParams();
      Tensor data = Tensor.randn(BATCH, IN);
      Tensor targets = Tensor.rand(BATCH).mul(CLASSES).to(DType.INT64);  // class indices 0..9
      System.out.println("MLP " + IN + "-" + HIDDEN + "-" + CLASSES + " (tanh), batch of " + BATCH);
      params.forEach((k, v) -> System.out.println("  " + k + " " + Arrays.toString(v.shape())));
      System.out.println("batch loss = " + LOSS.applyTensor(params, data, targets).item());

      // vmap(grad(loss), in_dims=(None, 0, 0)): params shared, data and targets mapped over dim 0.
      FnN perSampleGrad = vmap(grad(LOSS), inDims(null, 0, 0));
      Map<String, Tensor> vmapped = (Map<String, Tensor>) perSampleGrad.apply(params, data, targets);
      Map<String, Tensor> looped = loopOfGrads(params, data, targets);

      System.out.println();
      System.out.println("per-sample gradients (vmap) vs a loop of grad calls:");
      double worst = 0;
      for (String k : params.keySet()) {
        Tensor a = vmapped.get(k), b = looped.get(k);
        double diff = a.sub(b).abs().amax().item();
        worst = Math.max(worst, diff);
        System.out.printf(Locale.ROOT, "  %-11s %-16s max |vmap - loop| = %.3g%n", k, Arrays.toString(a.shape()), diff);
        check(Arrays.equals(a.shape(), b.shape()), k + ": shapes agree");
        check(a.allclose(b, 1e-4, 1e-6), k + ": vmap == loop");
      }
      check(worst < 1e-5, "max abs diff " + String.format(Locale.ROOT, "%.3g", worst) + " < 1e-5");

      // The mean of the per-sample gradients is the gradient of the mean loss over the batch.
      Map<String, Tensor> batchGrad = (Map<String, Tensor>) grad(LOSS).apply(params, data, targets);
      for (String k : params.keySet())
        check(vmapped.get(k).mean(0).allclose(batchGrad.get(k), 1e-4, 1e-6), k + ": mean of per-sample grads == grad of mean loss");

      List<Timing> t = Timer.compare(
          Timer.stmt("loop of " + BATCH + " grad(loss) calls", () -> loopOfGrads(params, data, targets)),
          Timer.stmt("vmap(grad(loss), inDims(null, 0, 0))", () -> perSampleGrad.apply(params, data, targets)));
      Timing loop = t.get(0), vmap = t.get(1);
      System.out.println(loop);
      System.out.println(vmap);
      double slower = Math.max(loop.medianUs(), vmap.medianUs()), faster = Math.min(loop.medianUs(), vmap.medianUs());
      System.out.printf(Locale.ROOT, "%n Performance delta: %.4f percent improvement with %s (%.2fx faster)%n",
          (slower - faster) / slower * 100, vmap.medianUs() <= loop.medianUs() ? "vmap" : "the loop", slower / faster);
    }
  }

  static void check(boolean ok, String what) {
    if (!ok) throw new AssertionError("check failed: " + what);
    System.out.println("check ok: " + what);
  }
}
