package dev.adjoint.examples;

import static dev.adjoint.Func.*;

import dev.adjoint.Adjoint;
import dev.adjoint.DType;
import dev.adjoint.F;
import dev.adjoint.FnN;
import dev.adjoint.Generator;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import dev.adjoint.VmapOptions;
import java.util.List;
import java.util.Locale;

/**
 * DP-SGD (Abadi et al. 2016) on a logistic-regression model: per-example gradients from
 * {@code vmap(grad(loss))}, each clipped to norm at most C (its norm from {@link Tensor#norm}),
 * summed, Gaussian noise of standard deviation sigma C added, divided by the batch size. The
 * per-example gradients are checked against a loop of {@code grad} calls, every clipped gradient's
 * norm against C, and the noise-free step against the same computation done with plain doubles;
 * training must lower the loss.
 *
 * <p>Run: {@code mvn -B -f examples/pom.xml exec:java -Dexample=dev.adjoint.examples.DpSgd}
 */
public final class DpSgd {
  static final int FEATURES = 5, BATCH = 32;
  static final double CLIP = 1.0, SIGMA = 0.5, LR = 0.5;

  /** loss(w, b, x, y) for one example: binary cross-entropy on the logit w.x + b. */
  static final FnN LOSS = a -> {
    Tensor w = (Tensor) a[0], b = (Tensor) a[1], x = (Tensor) a[2], y = (Tensor) a[3];
    return F.binaryCrossEntropyWithLogits(x.mul(w).sum().add(b), y);
  };

  /** Per-example gradients of (w, b), each clipped to norm <= CLIP: [B, F] and [B]. */
  static Tensor[] clippedPerExample(Tensor w, Tensor b, Tensor xs, Tensor ys) {
    @SuppressWarnings("unchecked")
    List<Object> g = (List<Object>) vmap(grad(LOSS, argnums(0, 1)), VmapOptions.inDims(null, null, 0, 0)).apply(w, b, xs, ys);
    Tensor gw = (Tensor) g.get(0), gb = (Tensor) g.get(1);
    Tensor norms = gw.square().sum(1).add(gb.square()).sqrt();             // [B]: the whole gradient's norm
    Tensor scale = norms.div(CLIP).clampMin(1.0).reciprocal();            // min(1, C / norm)
    return new Tensor[] {gw.mul(scale.unsqueeze(1)), gb.mul(scale)};
  }

  public static void main(String[] args) {
    try (Scope scope = Scope.open()) {
      Adjoint.manualSeed(3);
      Tensor trueW = Tensor.randn(DType.FLOAT64, FEATURES);
      Tensor xs = Tensor.randn(DType.FLOAT64, BATCH, FEATURES).mul(2.0);
      Tensor ys = xs.matmul(trueW).gt(0.0).to(DType.FLOAT64);
      Tensor w = Tensor.zeros(DType.FLOAT64, FEATURES), b = Tensor.zeros(DType.FLOAT64);

      // 1. per-example gradients: vmap(grad) against a loop of grad calls
      @SuppressWarnings("unchecked")
      List<Object> vg = (List<Object>) vmap(grad(LOSS, argnums(0, 1)), VmapOptions.inDims(null, null, 0, 0)).apply(w, b, xs, ys);
      double loopErr = 0;
      for (int i = 0; i < BATCH; i++) {
        @SuppressWarnings("unchecked")
        List<Object> gi = (List<Object>) grad(LOSS, argnums(0, 1)).apply(w, b, xs.get(i), ys.get(i));
        loopErr = Math.max(loopErr, ((Tensor) gi.get(0)).sub(((Tensor) vg.get(0)).get(i)).abs().amax().item());
        loopErr = Math.max(loopErr, ((Tensor) gi.get(1)).sub(((Tensor) vg.get(1)).get(i)).abs().item());
      }

      // 2. clipping: every clipped gradient has norm <= C; the noise-free step against plain doubles
      Tensor[] clipped = clippedPerExample(w, b, xs, ys);
      double maxNorm = clipped[0].square().sum(1).add(clipped[1].square()).sqrt().amax().item();
      double[] gwv = ((Tensor) vg.get(0)).toDoubleArray(), gbv = ((Tensor) vg.get(1)).toDoubleArray();
      double[] ref = new double[FEATURES];
      for (int i = 0; i < BATCH; i++) {
        double s = gbv[i] * gbv[i];
        for (int f = 0; f < FEATURES; f++) s += gwv[i * FEATURES + f] * gwv[i * FEATURES + f];
        double scale = Math.min(1, CLIP / Math.sqrt(s));
        for (int f = 0; f < FEATURES; f++) ref[f] += gwv[i * FEATURES + f] * scale / BATCH;
      }
      double[] mean = clipped[0].mean(0).toDoubleArray();
      double clipErr = 0;
      for (int f = 0; f < FEATURES; f++) clipErr = Math.max(clipErr, Math.abs(mean[f] - ref[f]));
      System.out.printf(Locale.ROOT, "per-example grads vs loop %.1e, max clipped norm %.6f (C = %.1f), clipped mean vs plain doubles %.1e%n",
          loopErr, maxNorm, CLIP, clipErr);

      // 3. training with noise
      Generator noise = new Generator().manualSeed(11);
      FnN batchLoss = a -> {
        Tensor wt = (Tensor) a[0], bt = (Tensor) a[1];
        return F.binaryCrossEntropyWithLogits(xs.matmul(wt).add(bt), ys);
      };
      double before = ((Tensor) batchLoss.apply(w, b)).item();
      for (int step = 0; step < 30; step++) {
        try (Scope s = Scope.open()) {
          Tensor[] c = clippedPerExample(w, b, xs, ys);
          Tensor gw = c[0].sum(0).add(noise.randn(DType.FLOAT64, FEATURES).mul(SIGMA * CLIP)).div(BATCH);
          Tensor gb = c[1].sum(0).add(noise.randn(DType.FLOAT64).mul(SIGMA * CLIP)).div(BATCH);
          w = s.keep(w.sub(gw.mul(LR)));
          b = s.keep(b.sub(gb.mul(LR)));
        }
      }
      double after = ((Tensor) batchLoss.apply(w, b)).item();
      System.out.printf(Locale.ROOT, "loss %.4f -> %.4f after 30 DP-SGD steps (sigma %.1f)%n", before, after, SIGMA);
      boolean ok = loopErr < 1e-14 && maxNorm <= CLIP + 1e-12 && clipErr < 1e-14 && after < 0.7 * before;
      System.out.println(ok ? "All checks passed" : "CHECK FAILED");
      if (!ok) System.exit(1);
    }
  }
}
