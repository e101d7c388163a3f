package dev.adjoint.bench;

import static dev.adjoint.Func.*;

import dev.adjoint.Adjoint;
import dev.adjoint.F;
import dev.adjoint.Fn1;
import dev.adjoint.Fn3;
import dev.adjoint.FnN;
import dev.adjoint.Pytree;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The performance issue's workloads W1-W11 (float32; {@code predict = F.linear(x, w, b).tanh()}
 * unless said otherwise), shared by the JMH benchmarks and the side-by-side driver
 * ({@link SideBySide}). Names and variants match {@code bench/functorch_side.py}, which builds
 * the same inputs: {@code Adjoint.manualSeed(0)} + {@code randn} draws the same numbers as
 * {@code torch.manual_seed(0)} + {@code torch.randn}, so both sides compute the same results.
 *
 * <p>{@link Workload#check()} runs every variant once and compares it with an independent
 * reference computed here in double precision from the input values (closed forms: the Jacobian
 * of tanh(Wx+b) is diag(1-y^2) W, its Hessian -2 y (1-y^2) w w^T, the hvp of sum(sin x) is
 * -sin(x) v, per-sample gradients by hand-written backprop), and the variants with each other. It
 * throws {@link AssertionError} when a result is wrong.
 *
 * <p>Each workload also states its {@link Work}: the inherent work per call that the
 * side-by-side driver divides by the measured time to give the fraction of this machine's limit
 * (sgemm GFLOP/s or memory write bandwidth). How it is counted is written next to each workload.
 */
public final class Workloads {
  private Workloads() {}

  /** Which machine limit a workload is measured against. */
  public enum Limit { FLOPS, WRITE_BYTES }

  /** Inherent work of one call: FLOPs or bytes written, and how they were counted. */
  public record Work(Limit limit, double amount, String how) {}

  /** A workload: its inputs (kept alive by the closures), its variants and their reference check. */
  public static final class Workload {
    public final String name;
    public final Work work;
    private final Map<String, Supplier<Object>> variants = new LinkedHashMap<>();
    private Reference reference;
    private final List<String[]> agree = new ArrayList<>();

    Workload(String name, Work work) {
      this.name = name;
      this.work = work;
    }

    Workload variant(String v, Supplier<Object> body) {
      variants.put(v, body);
      return this;
    }

    /** Variants whose results must be equal (besides each matching the reference). */
    Workload agree(String a, String b) {
      agree.add(new String[] {a, b});
      return this;
    }

    public List<String> variantNames() {
      return List.copyOf(variants.keySet());
    }

    public Supplier<Object> variant(String v) {
      Supplier<Object> s = variants.get(v);
      if (s == null) throw new IllegalArgumentException(name + ": no variant " + v + " (have " + variants.keySet() + ")");
      return s;
    }

    /** One call of a variant inside its own Scope (everything it creates is released). */
    public void runOnce(String v) {
      Supplier<Object> s = variant(v);
      try (Scope scope = Scope.open()) {
        s.get();
      }
    }

    /**
     * Runs every variant once, checks each against the reference and the agreeing pairs with each
     * other; returns per variant {@code {fingerprint, sum|x|, max error vs reference}} (the
     * fingerprint, sum_i x_i ((i mod 7) - 3) over the flattened result, is compared with
     * functorch's by the side-by-side driver). Throws AssertionError if a result is wrong.
     */
    public Map<String, double[]> check() {
      Map<String, double[]> out = new LinkedHashMap<>();
      Map<String, float[]> flat = new LinkedHashMap<>();
      for (String v : variants.keySet()) {
        try (Scope scope = Scope.open()) {
          Object r = variants.get(v).get();
          List<Tensor> leaves = Pytree.leaves(r);
          if (leaves.size() != reference.shapes.length)
            throw new AssertionError(name + "/" + v + ": " + leaves.size() + " result tensors, expected " + reference.shapes.length);
          float[][] got = new float[leaves.size()][];
          for (int i = 0; i < leaves.size(); i++) {
            if (!Arrays.equals(leaves.get(i).shape(), reference.shapes[i]))
              throw new AssertionError(name + "/" + v + ": result " + i + " has shape " + Arrays.toString(leaves.get(i).shape())
                  + ", expected " + Arrays.toString(reference.shapes[i]));
            got[i] = leaves.get(i).toFloatArray();
          }
          double err = reference.maxError(got);
          double tol = 1e-3 * Math.max(1.0, reference.maxAbs());
          if (!(err <= tol))
            throw new AssertionError(String.format(Locale.ROOT, "%s/%s: max |result - reference| = %.3g > %.3g", name, v, err, tol));
          float[] all = concat(got);
          flat.put(v, all);
          double[] fp = fingerprint(all);
          out.put(v, new double[] {fp[0], fp[1], err});
        }
      }
      for (String[] p : agree) {
        float[] a = flat.get(p[0]), b = flat.get(p[1]);
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        double tol = 1e-4 * Math.max(1.0, reference.maxAbs());
        if (!(d <= tol))
          throw new AssertionError(String.format(Locale.ROOT, "%s: %s vs %s max |diff| = %.3g > %.3g", name, p[0], p[1], d, tol));
      }
      return out;
    }
  }

  /** Fingerprint of a flattened result: {sum_i x_i ((i mod 7) - 3), sum_i |x_i|}. */
  public static double[] fingerprint(float[] x) {
    double s = 0, a = 0;
    for (int i = 0; i < x.length; i++) {
      s += x[i] * (double) ((i % 7) - 3);
      a += Math.abs(x[i]);
    }
    return new double[] {s, a};
  }

  static float[] concat(float[][] parts) {
    int n = 0;
    for (float[] p : parts) n += p.length;
    float[] all = new float[n];
    int o = 0;
    for (float[] p : parts) {
      System.arraycopy(p, 0, all, o, p.length);
      o += p.length;
    }
    return all;
  }

  /** Expected result leaves (row-major, double) and their shapes. */
  static final class Reference {
    final long[][] shapes;
    final double[][] values;

    Reference(long[][] shapes, double[][] values) {
      this.shapes = shapes;
      this.values = values;
    }

    double maxAbs() {
      double m = 0;
      for (double[] v : values) for (double x : v) m = Math.max(m, Math.abs(x));
      return m;
    }

    double maxError(float[][] got) {
      double e = 0;
      for (int k = 0; k < values.length; k++) {
        if (got[k].length != values[k].length) return Double.POSITIVE_INFINITY;
        for (int i = 0; i < values[k].length; i++) {
          double d = Math.abs(got[k][i] - values[k][i]);
          if (!(d <= e)) e = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(e, d);
        }
      }
      return e;
    }
  }

  // ------------------------------------------------------------------ names

  /** Every workload, in the order. */
  public static final List<String> NAMES = List.of(
      "W1_jac_D16", "W2_jac_Din32_Dout2048", "W3_jac_Din2048_Dout32", "W4_hessian_Din512_Dout32",
      "W5_batch_jac_B64_Din31_Dout33", "W6_batch_hessian_B64_Din31_Dout33", "W7_hvp_sin_sum_n2048",
      "W8_jac_wrt_weight_bias_D16", "W8_jac_wrt_weight_bias_Din256_Dout256",
      "W9_square_D16", "W9_square_D64", "W9_square_D256", "W9_square_D1024",
      "W10_per_sample_grad_mlp_B64", "W11_per_sample_grad_cnn_B64", "W11_conv2d_fwd_vjp_N64_C16_O32");

  public static Workload build(String name) {
    switch (name) {
      case "W1_jac_D16": return w1();
      case "W2_jac_Din32_Dout2048": return fwdVsRev(name, 32, 2048);
      case "W3_jac_Din2048_Dout32": return fwdVsRev(name, 2048, 32);
      case "W4_hessian_Din512_Dout32": return w4();
      case "W5_batch_jac_B64_Din31_Dout33": return w5();
      case "W6_batch_hessian_B64_Din31_Dout33": return w6();
      case "W7_hvp_sin_sum_n2048": return w7();
      case "W8_jac_wrt_weight_bias_D16": return w8(name, 16, 16);
      case "W8_jac_wrt_weight_bias_Din256_Dout256": return w8(name, 256, 256);
      case "W9_square_D16": return fwdVsRev(name, 16, 16);
      case "W9_square_D64": return fwdVsRev(name, 64, 64);
      case "W9_square_D256": return fwdVsRev(name, 256, 256);
      case "W9_square_D1024": return fwdVsRev(name, 1024, 1024);
      case "W10_per_sample_grad_mlp_B64": return w10();
      case "W11_per_sample_grad_cnn_B64": return w11Cnn();
      case "W11_conv2d_fwd_vjp_N64_C16_O32": return w11Conv();
      default: throw new IllegalArgumentException("unknown workload " + name + "; known: " + NAMES);
    }
  }

  // ------------------------------------------------------------------ the model

  static Tensor predict(Tensor w, Tensor b, Tensor x) {
    return F.linear(x, w, b).tanh();
  }

  static final Fn3 PREDICT = Workloads::predict;

  /** torch.manual_seed(0); weight = randn(dout, din); bias = randn(dout); x = randn(din) or randn(batch, din). */
  static Tensor[] linearInputs(int din, int dout, int batch) {
    Adjoint.manualSeed(0);
    Tensor w = Tensor.randn(dout, din).keep(), b = Tensor.randn(dout).keep();
    Tensor x = (batch <= 0 ? Tensor.randn(din) : Tensor.randn(batch, din)).keep();
    return new Tensor[] {w, b, x};
  }

  /** y = tanh(W x + b) in double. */
  static double[] forward(float[] w, float[] b, float[] x, int xOff, int din, int dout) {
    double[] y = new double[dout];
    for (int i = 0; i < dout; i++) {
      double z = b[i];
      for (int j = 0; j < din; j++) z += (double) w[i * din + j] * x[xOff + j];
      y[i] = Math.tanh(z);
    }
    return y;
  }

  /** J = diag(1 - y^2) W, [dout, din]. */
  static double[] jacobianRef(float[] w, double[] y, int din, int dout) {
    double[] j = new double[dout * din];
    for (int i = 0; i < dout; i++)
      for (int k = 0; k < din; k++) j[i * din + k] = (1 - y[i] * y[i]) * w[i * din + k];
    return j;
  }

  /** H[i, j, k] = -2 y_i (1 - y_i^2) W[i, j] W[i, k], [dout, din, din], written at {@code off}. */
  static void hessianRef(float[] w, double[] y, int din, int dout, double[] out, int off) {
    for (int i = 0; i < dout; i++) {
      double c = -2 * y[i] * (1 - y[i] * y[i]);
      for (int j = 0; j < din; j++) {
        double cj = c * w[i * din + j];
        int base = off + (i * din + j) * din;
        for (int k = 0; k < din; k++) out[base + k] = cj * w[i * din + k];
      }
    }
  }

  static long[] shape(long... s) {
    return s;
  }

  // ------------------------------------------------------------------ W1

  /**
   * W1: the Jacobian of predict at D=16, row by row (the functorch tutorial's compute_jac: one
   * forward and one vjp per unit vector, stacked) and with jacrev.
   * Work (FLOPs): one forward (2 D^2) plus D vector-Jacobian products of 2 D^2 each = 2 D^2 (D + 1).
   */
  static Workload w1() {
    final int d = 16;
    Tensor[] in = linearInputs(d, d, 0);
    Tensor w = in[0], b = in[1], x = in[2];
    Tensor unit = Tensor.eye(d).keep();
    Fn3 jr = jacrev(PREDICT, 2);
    Workload wl = new Workload("W1_jac_D16", new Work(Limit.FLOPS, 2.0 * d * d * (d + 1), "2 D^2 (D+1): forward + D vjps"));
    wl.variant("autograd_rowloop", () -> {
      List<Tensor> rows = new ArrayList<>(d);
      for (int i = 0; i < d; i++) rows.add(vjp(xp -> predict(w, b, xp), x).applyTensor(unit.get(i)));
      return Tensor.stack(rows, 0);
    });
    wl.variant("jacrev", () -> jr.apply(w, b, x));
    wl.agree("autograd_rowloop", "jacrev");
    wl.reference = jacobianReference(w, b, x, d, d);
    return wl;
  }

  static Reference jacobianReference(Tensor w, Tensor b, Tensor x, int din, int dout) {
    float[] wf = w.toFloatArray();
    double[] y = forward(wf, b.toFloatArray(), x.toFloatArray(), 0, din, dout);
    return new Reference(new long[][] {shape(dout, din)}, new double[][] {jacobianRef(wf, y, din, dout)});
  }

  // ------------------------------------------------------------------ W2, W3, W9

  /**
   * W2 (Din=32, Dout=2048), W3 (Din=2048, Dout=32), W9 (square D): jacfwd and jacrev.
   * Work (FLOPs): forward 2 Dout Din plus min(Din, Dout) Jacobian-vector or vector-Jacobian products
   * of 2 Dout Din each (the cheaper mode) = 2 Dout Din (1 + min(Din, Dout)).
   */
  static Workload fwdVsRev(String name, int din, int dout) {
    Tensor[] in = linearInputs(din, dout, 0);
    Tensor w = in[0], b = in[1], x = in[2];
    Fn3 jf = jacfwd(PREDICT, 2), jr = jacrev(PREDICT, 2);
    Workload wl = new Workload(name, new Work(Limit.FLOPS, 2.0 * dout * din * (1 + Math.min(din, dout)),
        "2 Dout Din (1 + min(Din,Dout)): forward + products in the cheaper mode"));
    wl.variant("jacfwd", () -> jf.apply(w, b, x));
    wl.variant("jacrev", () -> jr.apply(w, b, x));
    wl.agree("jacfwd", "jacrev");
    wl.reference = jacobianReference(w, b, x, din, dout);
    return wl;
  }

  // ------------------------------------------------------------------ W4

  /**
   * W4: the Hessian of predict with respect to x, Din=512, Dout=32: hessian (jacfwd(jacrev)),
   * jacfwd(jacfwd), jacrev(jacrev).
   * Work (bytes written): the [Dout, Din, Din] float32 result, 4 Dout Din^2 bytes (32 MiB).
   */
  static Workload w4() {
    final int din = 512, dout = 32;
    Tensor[] in = linearInputs(din, dout, 0);
    Tensor w = in[0], b = in[1], x = in[2];
    Fn3 h = hessian(PREDICT, 2), ff = jacfwd(jacfwd(PREDICT, 2), 2), rr = jacrev(jacrev(PREDICT, 2), 2);
    Workload wl = new Workload("W4_hessian_Din512_Dout32", new Work(Limit.WRITE_BYTES, 4.0 * dout * din * din, "4 Dout Din^2: the float32 Hessian"));
    wl.variant("hessian", () -> h.apply(w, b, x));
    wl.variant("jacfwd_jacfwd", () -> ff.apply(w, b, x));
    wl.variant("jacrev_jacrev", () -> rr.apply(w, b, x));
    wl.agree("hessian", "jacfwd_jacfwd");
    wl.agree("hessian", "jacrev_jacrev");
    float[] wf = w.toFloatArray();
    double[] y = forward(wf, b.toFloatArray(), x.toFloatArray(), 0, din, dout);
    double[] ref = new double[dout * din * din];
    hessianRef(wf, y, din, dout, ref, 0);
    wl.reference = new Reference(new long[][] {shape(dout, din, din)}, new double[][] {ref});
    return wl;
  }

  // ------------------------------------------------------------------ W5, W6

  static final int B56 = 64, DIN56 = 31, DOUT56 = 33;

  /**
   * W5: per-example Jacobians, B=64, Din=31, Dout=33: vmap(jacrev) and the sum trick (jacrev of
   * predict(x).sum(0), whose [Dout, B, Din] result is moved to [B, Dout, Din]).
   * Work (FLOPs): B times W2's count, 2 B Dout Din (1 + min(Din, Dout)).
   */
  static Workload w5() {
    Tensor[] in = linearInputs(DIN56, DOUT56, B56);
    Tensor w = in[0], b = in[1], x = in[2];
    Fn3 vj = vmap(jacrev(PREDICT, 2), inDims(null, null, 0));
    Fn3 summed = jacrev((ww, bb, xx) -> predict(ww, bb, xx).sum(0), 2);
    Workload wl = new Workload("W5_batch_jac_B64_Din31_Dout33", new Work(Limit.FLOPS,
        2.0 * B56 * DOUT56 * DIN56 * (1 + Math.min(DIN56, DOUT56)), "2 B Dout Din (1 + min(Din,Dout))"));
    wl.variant("vmap_jacrev", () -> vj.apply(w, b, x));
    wl.variant("sum_trick_jacrev", () -> summed.apply(w, b, x).movedim(1, 0));
    wl.agree("vmap_jacrev", "sum_trick_jacrev");
    float[] wf = w.toFloatArray(), bf = b.toFloatArray(), xf = x.toFloatArray();
    double[] ref = new double[B56 * DOUT56 * DIN56];
    for (int s = 0; s < B56; s++) {
      double[] j = jacobianRef(wf, forward(wf, bf, xf, s * DIN56, DIN56, DOUT56), DIN56, DOUT56);
      System.arraycopy(j, 0, ref, s * j.length, j.length);
    }
    wl.reference = new Reference(new long[][] {shape(B56, DOUT56, DIN56)}, new double[][] {ref});
    return wl;
  }

  /**
   * W6: per-example Hessians, B=64, Din=31, Dout=33: vmap(hessian).
   * Work (bytes written): the [B, Dout, Din, Din] float32 result, 4 B Dout Din^2 bytes (7.7 MiB).
   */
  static Workload w6() {
    Tensor[] in = linearInputs(DIN56, DOUT56, B56);
    Tensor w = in[0], b = in[1], x = in[2];
    Fn3 vh = vmap(hessian(PREDICT, 2), inDims(null, null, 0));
    Workload wl = new Workload("W6_batch_hessian_B64_Din31_Dout33", new Work(Limit.WRITE_BYTES,
        4.0 * B56 * DOUT56 * DIN56 * DIN56, "4 B Dout Din^2: the float32 Hessians"));
    wl.variant("vmap_hessian", () -> vh.apply(w, b, x));
    float[] wf = w.toFloatArray(), bf = b.toFloatArray(), xf = x.toFloatArray();
    int per = DOUT56 * DIN56 * DIN56;
    double[] ref = new double[B56 * per];
    for (int s = 0; s < B56; s++) hessianRef(wf, forward(wf, bf, xf, s * DIN56, DIN56, DOUT56), DIN56, DOUT56, ref, s * per);
    wl.reference = new Reference(new long[][] {shape(B56, DOUT56, DIN56, DIN56)}, new double[][] {ref});
    return wl;
  }

  // ------------------------------------------------------------------ W7

  /**
   * W7: Hessian-vector product of f(x) = sum(sin x), n=2048: forward-over-reverse
   * (jvp(grad(f), x, v)), reverse-over-reverse (vjp(grad(f), x) pulled back along v), and the
   * materialised Hessian times v.
   * Work (bytes written): the float32 result H v, 4 n bytes (elementwise work; the
   * materialising variant also writes the n x n Hessian, which is not inherent to the hvp).
   */
  static Workload w7() {
    final int n = 2048;
    Adjoint.manualSeed(0);
    Tensor x = Tensor.randn(n).keep(), v = Tensor.randn(n).keep();
    Fn1 f = t -> t.sin().sum();
    Fn1 gf = grad(f), hf = hessian(f);
    Workload wl = new Workload("W7_hvp_sin_sum_n2048", new Work(Limit.WRITE_BYTES, 4.0 * n, "4 n: the float32 hvp"));
    wl.variant("jvp_of_grad", () -> jvp(gf, x, v).tangent());
    wl.variant("vjp_of_grad", () -> vjp(gf, x).applyTensor(v));
    wl.variant("hessian_matmul_v", () -> hf.apply(x).matmul(v));
    wl.agree("jvp_of_grad", "vjp_of_grad");
    wl.agree("jvp_of_grad", "hessian_matmul_v");
    float[] xf = x.toFloatArray(), vf = v.toFloatArray();
    double[] ref = new double[n];
    for (int i = 0; i < n; i++) ref[i] = -Math.sin(xf[i]) * vf[i];
    wl.reference = new Reference(new long[][] {shape(n)}, new double[][] {ref});
    return wl;
  }

  // ------------------------------------------------------------------ W8

  /**
   * W8: Jacobians of predict with respect to weight and bias (argnums 0, 1) at D=16 and 256x256.
   * Work (bytes written): the float32 results [Dout, Dout, Din] and [Dout, Dout],
   * 4 Dout^2 (Din + 1) bytes (64 MiB at 256x256).
   */
  static Workload w8(String name, int din, int dout) {
    Tensor[] in = linearInputs(din, dout, 0);
    Tensor w = in[0], b = in[1], x = in[2];
    FnN j01 = jacrev(PREDICT, argnums(0, 1));
    Workload wl = new Workload(name, new Work(Limit.WRITE_BYTES, 4.0 * dout * dout * (din + 1.0), "4 Dout^2 (Din+1): both float32 Jacobians"));
    wl.variant("jacrev_argnums01", () -> j01.apply(w, b, x));
    float[] wf = w.toFloatArray(), xf = x.toFloatArray();
    double[] y = forward(wf, b.toFloatArray(), xf, 0, din, dout);
    double[] jw = new double[dout * dout * din], jb = new double[dout * dout];
    for (int i = 0; i < dout; i++) {
      double s = 1 - y[i] * y[i];
      jb[i * dout + i] = s;                                                 // dy_i/db_i
      for (int k = 0; k < din; k++) jw[(i * dout + i) * din + k] = s * xf[k];  // dy_i/dW[i, k]
    }
    wl.reference = new Reference(new long[][] {shape(dout, dout, din), shape(dout, dout)}, new double[][] {jw, jb});
    return wl;
  }

  // ------------------------------------------------------------------ W10

  static final int B10 = 64, IN10 = 784, HID10 = 128, OUT10 = 10;

  /** loss(params, x, t) = cross_entropy(linear(tanh(linear(x[None], w1, b1)), w2, b2), t[None]). */
  static final FnN LOSS10 = args -> {
    @SuppressWarnings("unchecked")
    List<Tensor> p = (List<Tensor>) args[0];
    Tensor x = (Tensor) args[1], t = (Tensor) args[2];
    Tensor h = F.linear(x.unsqueeze(0), p.get(0), p.get(1)).tanh();
    return F.crossEntropy(F.linear(h, p.get(2), p.get(3)), t.unsqueeze(0));
  };

  /** Targets t_i = (7 i) mod 10, the same on both sides. */
  static long[] targets10() {
    long[] t = new long[B10];
    for (int i = 0; i < B10; i++) t[i] = (7L * i) % OUT10;
    return t;
  }

  /**
   * W10: per-sample gradients of a 784-128-10 tanh MLP with cross-entropy, B=64:
   * vmap(grad(loss), inDims(null, 0, 0)) and a loop of grad calls stacked per parameter.
   * Work (bytes written): the float32 per-sample gradients, 4 B (784*128 + 128 + 128*10 + 10)
   * bytes (26 MB).
   */
  @SuppressWarnings("unchecked")
  static Workload w10() {
    Adjoint.manualSeed(0);
    Tensor w1 = Tensor.randn(HID10, IN10).div(Math.sqrt(IN10)).keep();
    Tensor b1 = Tensor.zeros(HID10).keep();
    Tensor w2 = Tensor.randn(OUT10, HID10).div(Math.sqrt(HID10)).keep();
    Tensor b2 = Tensor.zeros(OUT10).keep();
    Tensor xs = Tensor.randn(B10, IN10).keep();
    Tensor ts = Tensor.of(targets10()).keep();
    List<Tensor> params = List.of(w1, b1, w2, b2);
    FnN psg = vmap(grad(LOSS10), inDims(null, 0, 0));
    FnN g = grad(LOSS10);
    long perSample = (long) IN10 * HID10 + HID10 + (long) HID10 * OUT10 + OUT10;
    Workload wl = new Workload("W10_per_sample_grad_mlp_B64", new Work(Limit.WRITE_BYTES, 4.0 * B10 * perSample,
        "4 B P (P = 784*128+128+128*10+10 parameters): the float32 per-sample gradients"));
    wl.variant("vmap_grad", () -> psg.apply(params, xs, ts));
    wl.variant("autograd_loop", () -> {
      List<List<Tensor>> shards = new ArrayList<>();
      for (int k = 0; k < 4; k++) shards.add(new ArrayList<>(B10));
      for (int i = 0; i < B10; i++) {
        List<Tensor> gi = (List<Tensor>) g.apply(params, xs.get(i), ts.get(i));
        for (int k = 0; k < 4; k++) shards.get(k).add(gi.get(k));
      }
      List<Tensor> out = new ArrayList<>(4);
      for (List<Tensor> s : shards) out.add(Tensor.stack(s, 0));
      return out;
    });
    wl.agree("vmap_grad", "autograd_loop");
    wl.reference = mlpReference(w1.toFloatArray(), b1.toFloatArray(), w2.toFloatArray(), b2.toFloatArray(), xs.toFloatArray(), targets10());
    return wl;
  }

  /** Per-sample gradients of the MLP's cross-entropy by hand-written backprop, in double. */
  static Reference mlpReference(float[] w1, float[] b1, float[] w2, float[] b2, float[] xs, long[] ts) {
    double[] gw1 = new double[B10 * HID10 * IN10], gb1 = new double[B10 * HID10];
    double[] gw2 = new double[B10 * OUT10 * HID10], gb2 = new double[B10 * OUT10];
    for (int s = 0; s < B10; s++) {
      double[] h = forward(w1, b1, xs, s * IN10, IN10, HID10);
      double[] z = new double[OUT10];
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < OUT10; c++) {
        double acc = b2[c];
        for (int j = 0; j < HID10; j++) acc += (double) w2[c * HID10 + j] * h[j];
        z[c] = acc;
        max = Math.max(max, acc);
      }
      double sum = 0;
      for (int c = 0; c < OUT10; c++) sum += Math.exp(z[c] - max);
      double[] dz = new double[OUT10];
      for (int c = 0; c < OUT10; c++) dz[c] = Math.exp(z[c] - max) / sum - (c == ts[s] ? 1 : 0);
      double[] da = new double[HID10];
      for (int j = 0; j < HID10; j++) {
        double dh = 0;
        for (int c = 0; c < OUT10; c++) dh += w2[c * HID10 + j] * dz[c];
        da[j] = dh * (1 - h[j] * h[j]);
      }
      for (int c = 0; c < OUT10; c++) {
        gb2[s * OUT10 + c] = dz[c];
        for (int j = 0; j < HID10; j++) gw2[(s * OUT10 + c) * HID10 + j] = dz[c] * h[j];
      }
      for (int j = 0; j < HID10; j++) {
        gb1[s * HID10 + j] = da[j];
        for (int k = 0; k < IN10; k++) gw1[(s * HID10 + j) * IN10 + k] = da[j] * xs[s * IN10 + k];
      }
    }
    return new Reference(new long[][] {shape(B10, HID10, IN10), shape(B10, HID10), shape(B10, OUT10, HID10), shape(B10, OUT10)},
        new double[][] {gw1, gb1, gw2, gb2});
  }

  // ------------------------------------------------------------------ W11

  static final int B11 = 64;

  /**
   * loss(params, x, t) of one 28x28 image [1, 28, 28]: conv2d 1->16 3x3 pad 1, relu, maxPool2d 2,
   * conv2d 16->32 3x3 pad 1, relu, maxPool2d 2, linear 32*7*7->10, cross-entropy.
   */
  static final FnN LOSS11 = args -> {
    @SuppressWarnings("unchecked")
    List<Tensor> p = (List<Tensor>) args[0];
    Tensor x = (Tensor) args[1], t = (Tensor) args[2];
    Tensor h = F.maxPool2d(F.conv2d(x.unsqueeze(0), p.get(0), p.get(1), 1, 1).relu(), 2);
    h = F.maxPool2d(F.conv2d(h, p.get(2), p.get(3), 1, 1).relu(), 2);
    return F.crossEntropy(F.linear(h.reshape(1, -1), p.get(4), p.get(5)), t.unsqueeze(0));
  };

  /**
   * W11: per-sample gradients of a small CNN (LOSS11) on B=64 images: vmap(grad(loss),
   * inDims(null, 0, 0)) and a loop of grad calls stacked per parameter.
   * Work (FLOPs): per image a forward (2 x 16 x 9 x 784 + 2 x 32 x 144 x 196 + 2 x 10 x 1568) plus
   * the weight gradients of all three layers (the same again) and the input gradients of the
   * second conv and the linear layer (the first conv's is not needed): 5,964,672, times B.
   */
  @SuppressWarnings("unchecked")
  static Workload w11Cnn() {
    Adjoint.manualSeed(0);
    Tensor w1 = Tensor.randn(16, 1, 3, 3).div(3.0).keep(), b1 = Tensor.zeros(16).keep();
    Tensor w2 = Tensor.randn(32, 16, 3, 3).div(12.0).keep(), b2 = Tensor.zeros(32).keep();
    Tensor wl = Tensor.randn(10, 32 * 7 * 7).div(Math.sqrt(32 * 7 * 7)).keep(), bl = Tensor.zeros(10).keep();
    Tensor xs = Tensor.randn(B11, 1, 28, 28).keep();
    long[] t = new long[B11];
    for (int i = 0; i < B11; i++) t[i] = (7L * i) % 10;
    Tensor ts = Tensor.of(t).keep();
    List<Tensor> params = List.of(w1, b1, w2, b2, wl, bl);
    FnN psg = vmap(grad(LOSS11), inDims(null, 0, 0));
    FnN g = grad(LOSS11);
    double flops = 2.0 * 16 * 9 * 784 + 2.0 * 32 * 144 * 196 + 2.0 * 10 * 1568;
    flops = 2 * flops + 2.0 * 32 * 144 * 196 + 2.0 * 10 * 1568;
    Workload wl11 = new Workload("W11_per_sample_grad_cnn_B64", new Work(Limit.FLOPS, B11 * flops,
        "B x (forward + weight gradients of the 3 layers + input gradients of conv2 and linear) = 64 x 5,964,672"));
    wl11.variant("vmap_grad", () -> psg.apply(params, xs, ts));
    wl11.variant("autograd_loop", () -> {
      List<List<Tensor>> shards = new ArrayList<>();
      for (int k = 0; k < 6; k++) shards.add(new ArrayList<>(B11));
      for (int i = 0; i < B11; i++) {
        List<Tensor> gi = (List<Tensor>) g.apply(params, xs.get(i), ts.get(i));
        for (int k = 0; k < 6; k++) shards.get(k).add(gi.get(k));
      }
      List<Tensor> out = new ArrayList<>(6);
      for (List<Tensor> sh : shards) out.add(Tensor.stack(sh, 0));
      return out;
    });
    wl11.agree("vmap_grad", "autograd_loop");
    double[][] ref = CnnReference.perSampleGradients(w1.toFloatArray(), b1.toFloatArray(), w2.toFloatArray(), b2.toFloatArray(),
        wl.toFloatArray(), bl.toFloatArray(), xs.toFloatArray(), t, B11);
    wl11.reference = new Reference(new long[][] {shape(B11, 16, 1, 3, 3), shape(B11, 16), shape(B11, 32, 16, 3, 3), shape(B11, 32),
        shape(B11, 10, 1568), shape(B11, 10)}, ref);
    return wl11;
  }

  /**
   * W11 (layer): conv2d forward and vjp of a [64, 16, 28, 28] x [32, 16, 3, 3] layer, padding 1:
   * (y, dL/dx, dL/dw) for a given cotangent u of y.
   * Work (FLOPs): three products of 2 N O (C 9) (H W) each (the forward, the input and the weight
   * gradient) = 3 x 462,422,016.
   */
  static Workload w11Conv() {
    final int n = 64, c = 16, o = 32, hw = 28;
    Adjoint.manualSeed(0);
    Tensor x = Tensor.randn(n, c, hw, hw).keep(), w = Tensor.randn(o, c, 3, 3).div(12.0).keep();
    Tensor u = Tensor.randn(n, o, hw, hw).keep();
    FnN layer = a -> F.conv2d((Tensor) a[0], (Tensor) a[1], null, 1, 1);
    double flops = 3 * 2.0 * n * o * c * 9 * hw * hw;
    Workload wlc = new Workload("W11_conv2d_fwd_vjp_N64_C16_O32", new Work(Limit.FLOPS, flops,
        "3 x 2 N O C 9 H W: the forward, the input gradient and the weight gradient"));
    wlc.variant("vjp", () -> {
      dev.adjoint.VjpResult r = vjp(layer, x, w);
      List<Object> g = r.apply(u);
      return List.of(r.output(), g.get(0), g.get(1));
    });
    float[] xf = x.toFloatArray(), wf = w.toFloatArray(), uf = u.toFloatArray();
    double[] xd = new double[xf.length], y = new double[n * o * hw * hw], gx = new double[xf.length], gw = new double[wf.length];
    for (int i = 0; i < xf.length; i++) xd[i] = xf[i];
    double[] g = new double[o * hw * hw];
    for (int s = 0; s < n; s++) {
      double[] ys = CnnReference.conv(xd, s * c * hw * hw, wf, null, c, o, hw);
      System.arraycopy(ys, 0, y, s * ys.length, ys.length);
      for (int i = 0; i < g.length; i++) g[i] = uf[s * g.length + i];
      CnnReference.convBackward(xd, s * c * hw * hw, wf, g, c, o, hw, gx, gw);
    }
    wlc.reference = new Reference(new long[][] {shape(n, o, hw, hw), shape(n, c, hw, hw), shape(o, c, 3, 3)}, new double[][] {y, gx, gw});
    return wlc;
  }
}
