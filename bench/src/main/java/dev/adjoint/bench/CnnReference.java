package dev.adjoint.bench;

/**
 * Independent double-precision references for the W11 workloads, by hand-written loops: a 3x3
 * convolution with padding 1 (forward, input gradient, weight gradient) and the per-sample
 * gradients of W11's CNN by backpropagation through it (conv 1->16, relu, 2x2 max pool, conv
 * 16->32, relu, 2x2 max pool, linear 32*7*7->10, cross-entropy).
 */
final class CnnReference {
  private CnnReference() {}

  /** y[o][p] = b[o] + sum_{c,ky,kx} w[o][c][ky][kx] x[c][p + (ky-1, kx-1)]: one image [c, n, n] -> [o, n, n]. */
  static double[] conv(double[] x, int xOff, float[] w, float[] b, int c, int o, int n) {
    double[] y = new double[o * n * n];
    for (int oc = 0; oc < o; oc++)
      for (int yy = 0; yy < n; yy++)
        for (int xx = 0; xx < n; xx++) {
          double s = b == null ? 0 : b[oc];
          for (int ic = 0; ic < c; ic++)
            for (int ky = 0; ky < 3; ky++) {
              int iy = yy + ky - 1;
              if (iy < 0 || iy >= n) continue;
              for (int kx = 0; kx < 3; kx++) {
                int ix = xx + kx - 1;
                if (ix >= 0 && ix < n) s += w[((oc * c + ic) * 3 + ky) * 3 + kx] * x[xOff + (ic * n + iy) * n + ix];
              }
            }
          y[(oc * n + yy) * n + xx] = s;
        }
    return y;
  }

  /**
   * Both gradients of one image's convolution given g [o, n, n]: gx [c, n, n] (written at xOff)
   * and gw [o, c, 3, 3] (added into).
   */
  static void convBackward(double[] x, int xOff, float[] w, double[] g, int c, int o, int n, double[] gx, double[] gw) {
    for (int oc = 0; oc < o; oc++)
      for (int yy = 0; yy < n; yy++)
        for (int xx = 0; xx < n; xx++) {
          double gv = g[(oc * n + yy) * n + xx];
          if (gv == 0) continue;
          for (int ic = 0; ic < c; ic++)
            for (int ky = 0; ky < 3; ky++) {
              int iy = yy + ky - 1;
              if (iy < 0 || iy >= n) continue;
              for (int kx = 0; kx < 3; kx++) {
                int ix = xx + kx - 1;
                if (ix < 0 || ix >= n) continue;
                int wi = ((oc * c + ic) * 3 + ky) * 3 + kx, xi = (ic * n + iy) * n + ix;
                if (gx != null) gx[xOff + xi] += gv * w[wi];
                gw[wi] += gv * x[xOff + xi];
              }
            }
        }
  }

  /** relu then 2x2 max pooling of [c, n, n]; where[i] = the input index each output came from. */
  static double[] reluPool(double[] a, int c, int n, int[] where) {
    int m = n / 2;
    double[] out = new double[c * m * m];
    for (int ch = 0; ch < c; ch++)
      for (int y = 0; y < m; y++)
        for (int x = 0; x < m; x++) {
          int best = -1;
          double bv = Double.NEGATIVE_INFINITY;
          for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++) {
              int i = (ch * n + 2 * y + dy) * n + 2 * x + dx;
              double v = Math.max(a[i], 0);
              if (v > bv) {
                bv = v;
                best = i;
              }
            }
          out[(ch * m + y) * m + x] = bv;
          where[(ch * m + y) * m + x] = best;
        }
    return out;
  }

  /** The gradient through reluPool: g of each output to the input it came from, if that was positive. */
  static double[] reluPoolBackward(double[] g, double[] a, int[] where, int size) {
    double[] d = new double[size];
    for (int i = 0; i < g.length; i++)
      if (a[where[i]] > 0) d[where[i]] += g[i];
    return d;
  }

  /** Per-sample gradients of W11's CNN: {gw1, gb1, gw2, gb2, gwl, gbl}, each [B, ...] flattened. */
  static double[][] perSampleGradients(float[] w1, float[] b1, float[] w2, float[] b2, float[] wl, float[] bl, float[] xs, long[] ts,
      int batch) {
    final int n1 = 28, n2 = 14, c1 = 16, c2 = 32, flat = c2 * 7 * 7, classes = 10;
    double[][] out = {new double[batch * w1.length], new double[batch * b1.length], new double[batch * w2.length],
        new double[batch * b2.length], new double[batch * wl.length], new double[batch * bl.length]};
    double[] x = new double[n1 * n1];
    for (int s = 0; s < batch; s++) {
      for (int i = 0; i < x.length; i++) x[i] = xs[s * x.length + i];
      double[] a1 = conv(x, 0, w1, b1, 1, c1, n1);
      int[] where1 = new int[c1 * n2 * n2];
      double[] h1 = reluPool(a1, c1, n1, where1);
      double[] a2 = conv(h1, 0, w2, b2, c1, c2, n2);
      int[] where2 = new int[flat];
      double[] h2 = reluPool(a2, c2, n2, where2);
      double[] z = new double[classes];
      double max = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < classes; k++) {
        double acc = bl[k];
        for (int j = 0; j < flat; j++) acc += (double) wl[k * flat + j] * h2[j];
        z[k] = acc;
        max = Math.max(max, acc);
      }
      double sum = 0;
      for (int k = 0; k < classes; k++) sum += Math.exp(z[k] - max);
      double[] dh2 = new double[flat];
      for (int k = 0; k < classes; k++) {
        double dz = Math.exp(z[k] - max) / sum - (k == ts[s] ? 1 : 0);
        out[5][s * classes + k] = dz;
        for (int j = 0; j < flat; j++) {
          out[4][(s * classes + k) * flat + j] = dz * h2[j];
          dh2[j] += dz * wl[k * flat + j];
        }
      }
      double[] d2 = reluPoolBackward(dh2, a2, where2, a2.length);
      double[] gw2 = new double[w2.length], dh1 = new double[h1.length];
      convBackward(h1, 0, w2, d2, c1, c2, n2, dh1, gw2);
      System.arraycopy(gw2, 0, out[2], s * w2.length, w2.length);
      for (int oc = 0; oc < c2; oc++)
        for (int p = 0; p < n2 * n2; p++) out[3][s * c2 + oc] += d2[oc * n2 * n2 + p];
      double[] d1 = reluPoolBackward(dh1, a1, where1, a1.length);
      double[] gw1 = new double[w1.length];
      convBackward(x, 0, w1, d1, 1, c1, n1, null, gw1);
      System.arraycopy(gw1, 0, out[0], s * w1.length, w1.length);
      for (int oc = 0; oc < c1; oc++)
        for (int p = 0; p < n1 * n1; p++) out[1][s * c1 + oc] += d1[oc * n1 * n1 + p];
    }
    return out;
  }
}
