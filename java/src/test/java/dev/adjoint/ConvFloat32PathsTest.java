package dev.adjoint;

import static dev.adjoint.Func.grad;
import static dev.adjoint.Func.inDims;
import static dev.adjoint.Func.vjp;
import static dev.adjoint.Func.vmap;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * float32 convolutions through the public API against the same computation in float64: the
 * forward with its bias, the input and weight gradients of a vjp, and per-sample gradients under
 * vmap(grad). On an AVX-512 CPU the float32 3x3 pad-1 convolutions of even width with 16 or more
 * channels each way run Winograd's F(2x2, 3x3), the other stride-1 "same width" ones with 32 or more
 * taps the products that read the input planes in place (and the rest im2col), so these geometries
 * cover all three, with groups, dilation, 5x5, uneven padding, odd heights and images narrower than
 * one 32-lane block; float64 always runs im2col and BLAS.
 */
class ConvFloat32PathsTest extends ScopedTest {

  private record Geometry(int n, int c, int h, int w, int o, int kh, int kw, int[] pad, int[] dil, int groups) {
    @Override
    public String toString() {
      return "x [" + n + ", " + c + ", " + h + ", " + w + "] w [" + o + ", " + c / groups + ", " + kh + ", " + kw + "] padding "
          + java.util.Arrays.toString(pad) + " dilation " + java.util.Arrays.toString(dil) + " groups " + groups;
    }
  }

  private static final Geometry[] CASES = {
      new Geometry(3, 16, 14, 14, 32, 3, 3, new int[] {1}, new int[] {1}, 1),     // W11's second layer
      new Geometry(2, 24, 7, 10, 20, 3, 3, new int[] {1}, new int[] {1}, 1),      // Winograd: odd height, 24 x 20 channels
      new Geometry(1, 64, 6, 8, 64, 3, 3, new int[] {1}, new int[] {1}, 2),       // Winograd per group of 32 x 32
      new Geometry(2, 8, 9, 11, 6, 3, 3, new int[] {2}, new int[] {2}, 2),        // dilation 2, groups
      new Geometry(2, 4, 6, 5, 3, 5, 5, new int[] {2}, new int[] {1}, 1),         // 5x5, narrow image
      new Geometry(1, 12, 7, 9, 4, 3, 3, new int[] {0, 1}, new int[] {1}, 1),     // no row padding
      new Geometry(2, 1, 28, 28, 16, 3, 3, new int[] {1}, new int[] {1}, 1),      // a first layer (9 taps)
      new Geometry(2, 40, 5, 5, 7, 3, 3, new int[] {1}, new int[] {1}, 1),        // 360 taps
  };

  private static double maxAbsDiff(Tensor a32, Tensor b64) {
    double[] a = a32.to(DType.FLOAT64).toDoubleArray(), b = b64.toDoubleArray();
    double m = 0;
    for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  }

  private static double scale(Tensor t) {
    double m = 1;
    for (double v : t.toDoubleArray()) m = Math.max(m, Math.abs(v));
    return m;
  }

  private static void close(String what, Geometry g, Tensor f32, Tensor f64) {
    double d = maxAbsDiff(f32, f64), tol = 2e-5 * scale(f64) * Math.sqrt(g.c() * g.kh() * g.kw() + g.o());
    assertTrue(d <= tol, what + " " + g + ": float32 differs from float64 by " + d + " (tolerance " + tol + ")");
  }

  // x, w and b of a geometry in float64, drawn in that order.
  private static Tensor[] draw(Geometry g) {
    Tensor x = Tensor.randn(DType.FLOAT64, g.n(), g.c(), g.h(), g.w());
    Tensor w = Tensor.randn(DType.FLOAT64, g.o(), g.c() / g.groups(), g.kh(), g.kw());
    return new Tensor[] {x, w, Tensor.randn(DType.FLOAT64, g.o())};
  }

  private static Tensor conv(Geometry g, Tensor x, Tensor w, Tensor b) {
    return F.conv2d(x, w, b, new int[] {1}, g.pad(), g.dil(), g.groups());
  }

  @Test
  void forwardAndVjpMatchFloat64() {
    Adjoint.manualSeed(3);
    for (Geometry g : CASES) {
      Tensor[] in = draw(g);
      Tensor x = in[0], w = in[1], b = in[2];
      FnN conv = a -> conv(g, (Tensor) a[0], (Tensor) a[1], (Tensor) a[2]);
      VjpResult r64 = vjp(conv, x, w, b), r32 = vjp(conv, x.to(DType.FLOAT32), w.to(DType.FLOAT32), b.to(DType.FLOAT32));
      close("forward", g, r32.output(), r64.output());
      Tensor u = Tensor.randn(DType.FLOAT64, r64.output().shape());
      List<Object> g64 = r64.apply(u), g32 = r32.apply(u.to(DType.FLOAT32));
      close("input gradient", g, (Tensor) g32.get(0), (Tensor) g64.get(0));
      close("weight gradient", g, (Tensor) g32.get(1), (Tensor) g64.get(1));
      close("bias gradient", g, (Tensor) g32.get(2), (Tensor) g64.get(2));
    }
  }

  @Test
  void perSampleGradientsMatchFloat64() {
    Adjoint.manualSeed(4);
    for (Geometry g : CASES) {
      Tensor[] in = draw(g);
      Tensor x = in[0], w = in[1], b = in[2];
      FnN loss = a -> conv(g, (Tensor) a[1], (Tensor) a[0], (Tensor) a[2]).tanh().sum();
      FnN psg = vmap(grad(loss, Argnums.of(0, 2)), inDims(null, 0, null));
      @SuppressWarnings("unchecked")
      List<Tensor> r64 = (List<Tensor>) psg.apply(w, x, b);
      @SuppressWarnings("unchecked")
      List<Tensor> r32 = (List<Tensor>) psg.apply(w.to(DType.FLOAT32), x.to(DType.FLOAT32), b.to(DType.FLOAT32));
      close("per-sample weight gradients", g, r32.get(0), r64.get(0));
      close("per-sample bias gradients", g, r32.get(1), r64.get(1));
    }
  }
}
