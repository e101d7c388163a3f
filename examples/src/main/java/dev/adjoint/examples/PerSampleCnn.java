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
 * Per-sample gradients of a small CNN (the DP-SGD setting: each example's gradient is clipped
 * on its own): {@code vmap(grad(loss), inDims(null, 0, 0))} over a batch of 28x28 images, with
 * the parameters in a {@code Map<String, Tensor>}. The model: conv2d 1->16 3x3 padding 1, relu,
 * maxPool2d 2, conv2d 16->32 3x3 padding 1, relu, maxPool2d 2, linear 32*7*7->10, cross-entropy.
 * The result is checked against a loop of {@code grad} calls, and a few entries against central
 * finite differences of one example's loss in float64; then both ways are timed.
 *
 * <p>Run: {@code mvn -B -f examples/pom.xml exec:java -Dexample=dev.adjoint.examples.PerSampleCnn}
 */
public final class PerSampleCnn {
  private PerSampleCnn() {}

  static final int BATCH = 64, CLASSES = 10;

  /**
   * The CNN's logits for one image [1, 28, 28] (unbatched, as vmap hands out examples) or a batch
   * [N, 1, 28, 28]: [10] or [N, 10].
   *
   * @param p the parameters (conv1/conv2/fc weight and bias)
   * @param x the image or images
   * @return the logits
   */
  public static Tensor model(Map<String, Tensor> p, Tensor x) {
    Tensor h = F.maxPool2d(F.conv2d(x, p.get("conv1.weight"), p.get("conv1.bias"), 1, 1).relu(), 2);
    h = F.maxPool2d(F.conv2d(h, p.get("conv2.weight"), p.get("conv2.bias"), 1, 1).relu(), 2);
    Tensor flat = x.ndim() == 3 ? h.reshape(-1) : h.reshape(h.size(0), -1);
    return F.linear(flat, p.get("fc.weight"), p.get("fc.bias"));
  }

  /** loss(params, x, target): cross-entropy of one image (0-d target) or the mean over a batch. */
  @SuppressWarnings("unchecked")
  public static final FnN LOSS = args -> F.crossEntropy(model((Map<String, Tensor>) args[0], (Tensor) args[1]), (Tensor) args[2]);

  /**
   * PyTorch-style initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for every weight and bias.
   *
   * @return the parameters by name, float32
   */
  public static Map<String, Tensor> initParams() {
    Map<String, Tensor> p = new LinkedHashMap<>();
    p.put("conv1.weight", uniform(1.0 / 3, 16, 1, 3, 3));
    p.put("conv1.bias", uniform(1.0 / 3, 16));
    p.put("conv2.weight", uniform(1.0 / 12, 32, 16, 3, 3));
    p.put("conv2.bias", uniform(1.0 / 12, 32));
    p.put("fc.weight", uniform(1.0 / Math.sqrt(32 * 7 * 7), CLASSES, 32 * 7 * 7));
    p.put("fc.bias", uniform(1.0 / Math.sqrt(32 * 7 * 7), CLASSES));
    return p;
  }

  private static Tensor uniform(double bound, long... shape) {
    return Tensor.rand(shape).mul(2 * bound).sub(bound);
  }

  /**
   * The reference: one {@code grad} call per example, stacked per parameter.
   *
   * @param params the parameters
   * @param images [N, 1, 28, 28]
   * @param targets [N] int64
   * @return per parameter name, the [N, ...] per-sample gradients
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Tensor> loopOfGrads(Map<String, Tensor> params, Tensor images, Tensor targets) {
    FnN gradLoss = grad(LOSS);
    Map<String, List<Tensor>> rows = new LinkedHashMap<>();
    for (String k : params.keySet()) rows.put(k, new ArrayList<>());
    for (int i = 0; i < images.size(0); i++) {
      Map<String, Tensor> g = (Map<String, Tensor>) gradLoss.apply(params, images.get(i), targets.get(i));
      g.forEach((k, v) -> rows.get(k).add(v));
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    rows.forEach((k, v) -> out.put(k, Tensor.stack(v, 0)));
    return out;
  }

  /**
   * d loss(params, image, target) / d params[name][flat index] by central differences in float64.
   *
   * @param params the parameters, float64
   * @param name which parameter
   * @param index the element's flat index
   * @param image one image [1, 28, 28], float64
   * @param target its class (0-d int64)
   * @return the difference quotient
   */
  public static double finiteDifference(Map<String, Tensor> params, String name, int index, Tensor image, Tensor target) {
    final double h = 1e-6;
    double[] v = params.get(name).toDoubleArray();
    double[] at = new double[2];
    for (int side = 0; side < 2; side++) {
      double[] moved = v.clone();
      moved[index] += side == 0 ? h : -h;
      Map<String, Tensor> p = new LinkedHashMap<>(params);
      p.put(name, Tensor.fromArray(moved, params.get(name).shape()));
      at[side] = LOSS.applyTensor(p, image, target).item();
    }
    return (at[0] - at[1]) / (2 * h);
  }

  /**
   * Runs the example: per-sample gradients by vmap, the checks, the timings.
   *
   * @param args unused
   */
  @SuppressWarnings("unchecked")
  public static void main(String[] args) {
    try (Scope scope = Scope.open()) {
      Adjoint.manualSeed(0);
      Map<String, Tensor> params = initParams();
      Tensor images = Tensor.randn(BATCH, 1, 28, 28);
      Tensor targets = Tensor.rand(BATCH).mul(CLASSES).to(DType.INT64);
      System.out.println("CNN conv 1->16, pool, conv 16->32, pool, linear 1568->10; batch of " + BATCH + " images 28x28");
      params.forEach((k, v) -> System.out.println("  " + k + " " + Arrays.toString(v.shape())));
      System.out.println("batch loss = " + LOSS.applyTensor(params, images, targets).item());

      FnN perSampleGrad = vmap(grad(LOSS), inDims(null, 0, 0));
      Map<String, Tensor> vmapped = (Map<String, Tensor>) perSampleGrad.apply(params, images, targets);
      Map<String, Tensor> looped = loopOfGrads(params, images, targets);
      System.out.println();
      System.out.println("per-sample gradients (vmap) vs a loop of grad calls:");
      for (String k : params.keySet()) {
        Tensor a = vmapped.get(k), b = looped.get(k);
        System.out.printf(Locale.ROOT, "  %-13s %-20s max |vmap - loop| = %.3g%n", k, Arrays.toString(a.shape()), a.sub(b).abs().amax().item());
        check(a.allclose(b, 1e-4, 1e-6), k + ": vmap == loop");
      }
      Map<String, Tensor> batchGrad = (Map<String, Tensor>) grad(LOSS).apply(params, images, targets);
      for (String k : params.keySet())
        check(vmapped.get(k).mean(0).allclose(batchGrad.get(k), 1e-4, 1e-6), k + ": mean of per-sample grads == grad of the mean loss");

      // Each parameter's largest entry of one example's gradient against central differences of
      // that example's loss, in float64 (the largest: a relu that is off gives exact zeros elsewhere).
      Map<String, Tensor> p64 = new LinkedHashMap<>();
      params.forEach((k, v) -> p64.put(k, v.to(DType.FLOAT64)));
      Map<String, Tensor> g64 = (Map<String, Tensor>) perSampleGrad.apply(p64, images.to(DType.FLOAT64), targets);
      int example = 5;
      for (String name : params.keySet()) {
        double[] g = g64.get(name).get(example).toDoubleArray();
        int index = 0;
        for (int i = 1; i < g.length; i++)
          if (Math.abs(g[i]) > Math.abs(g[index])) index = i;
        double fd = finiteDifference(p64, name, index, images.get(example).to(DType.FLOAT64), targets.get(example));
        System.out.printf(Locale.ROOT, "  example %d, %s[%d]: vmap(grad) %.9f, finite differences %.9f%n", example, name, index, g[index], fd);
        check(g[index] != 0 && Math.abs(g[index] - fd) <= 1e-6 * (1 + Math.abs(fd)), name + "[" + index + "] matches finite differences");
      }

      List<Timing> t = Timer.compare(
          Timer.stmt("loop of " + BATCH + " grad(loss) calls", () -> loopOfGrads(params, images, targets)),
          Timer.stmt("vmap(grad(loss), inDims(null, 0, 0))", () -> perSampleGrad.apply(params, images, targets)));
      System.out.println(t.get(0));
      System.out.println(t.get(1));
      System.out.printf(Locale.ROOT, "%n vmap(grad) is %.2fx the speed of the loop%n", t.get(0).medianUs() / t.get(1).medianUs());
    }
  }

  static void check(boolean ok, String what) {
    if (!ok) throw new AssertionError("check failed: " + what);
    System.out.println("check ok: " + what);
  }
}
