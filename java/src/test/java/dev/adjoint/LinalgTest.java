package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link Linalg}: values and gradients against torch 1.13 ({@code linalg_reference.txt}, from
 * {@code tests/reference/gen_linalg_reference.py}), gradients and Hessians against central finite
 * differences in float64, every transform (jvp, vjp, jacrev == jacfwd, hessian, vmap == loop),
 * float32, and the errors for singular / non-positive-definite input and bad shapes or dtypes.
 */
class LinalgTest extends ScopedTest {
  private static final DType F64 = DType.FLOAT64;

  // ------------------------------------------------------------------ helpers

  private static Tensor t(double[] v, long... shape) {
    return Tensor.fromArray(v, shape);
  }

  private static double[] vals(Tensor x) {
    return x.to(F64).toDoubleArray();
  }

  private static void close(double[] expected, double[] actual, double tol, String what) {
    assertEquals(expected.length, actual.length, what + ": size");
    for (int i = 0; i < expected.length; i++) {
      double e = expected[i], a = actual[i];
      if (Double.isInfinite(e)) {
        assertEquals(e, a, what + "[" + i + "]");
        continue;
      }
      assertTrue(Math.abs(e - a) <= tol * (1 + Math.abs(e)), what + "[" + i + "]: expected " + e + " got " + a);
    }
  }

  /** u[i] = sin(i + 1 + 10 k) shaped like y: the reference file's loss weights. */
  private static Tensor weights(Tensor y, int k) {
    double[] w = new double[(int) y.numel()];
    for (int i = 0; i < w.length; i++) w[i] = Math.sin(i + 1 + 10 * k);
    return t(w, y.shape()).to(y.dtype());
  }

  /** A random matrix batch in [-1, 1], seeded. */
  private static Tensor rand(long seed, long... shape) {
    java.util.Random r = new java.util.Random(seed);
    int n = 1;
    for (long s : shape) n *= (int) s;
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = r.nextDouble() * 2 - 1;
    return t(v, shape);
  }

  private static Tensor eye(long n) {
    return Tensor.eye(n, n, F64);
  }

  /** Well-conditioned: random + 3 I. */
  private static Tensor well(long seed, long... shape) {
    return rand(seed, shape).add(eye(shape[shape.length - 1]).mul(3.0));
  }

  /** Symmetric positive-definite: M M^T / n + I. */
  private static Tensor spd(long seed, long... shape) {
    Tensor m = rand(seed, shape);
    long n = shape[shape.length - 1];
    return m.matmul(m.transpose(-1, -2)).mul(1.0 / n).add(eye(n));
  }

  /** Central differences of a scalar f at x, element by element (float64). */
  private static double[] fdGrad(Function<Tensor, Double> f, Tensor x) {
    double[] base = vals(x), g = new double[base.length];
    double h = 1e-6;
    for (int i = 0; i < base.length; i++) {
      double[] p = base.clone(), m = base.clone();
      p[i] += h;
      m[i] -= h;
      try (Scope s = Scope.open()) {
        g[i] = (f.apply(t(p, x.shape())) - f.apply(t(m, x.shape()))) / (2 * h);
      }
    }
    return g;
  }

  // ------------------------------------------------------------------ torch reference

  /** A case's arguments besides its tensors (see gen_linalg_reference.py). */
  private record Args(boolean upper, boolean left, boolean full, String ord, int[] dims, boolean keepdim) {
    static Args parse(String[] head) {
      boolean upper = false, left = true, full = false, keepdim = false;
      String ord = null;
      int[] dims = null;
      for (int k = 3; k < head.length; k++) {
        String[] kv = head[k].split("=", 2);
        switch (kv[0]) {
          case "upper" -> upper = kv[1].equals("1");
          case "left" -> left = kv[1].equals("1");
          case "full" -> full = kv[1].equals("1");
          case "keepdim" -> keepdim = kv[1].equals("1");
          case "ord" -> ord = kv[1];
          case "dims" -> dims = kv[1].equals("_") ? new int[0] : Arrays.stream(kv[1].split(",")).mapToInt(Integer::parseInt).toArray();
          default -> throw new IllegalArgumentException(head[k]);
        }
      }
      return new Args(upper, left, full, ord, dims, keepdim);
    }

    double ordValue() {
      return ord.equals("inf") ? Double.POSITIVE_INFINITY : ord.equals("-inf") ? Double.NEGATIVE_INFINITY : Double.parseDouble(ord);
    }
  }

  private static long[] shapeOf(String s) {
    if (s.equals("_")) return new long[0];
    return Arrays.stream(s.split(",")).mapToLong(Long::parseLong).toArray();
  }

  private static double[] numbers(String[] tok, int from) {
    double[] v = new double[tok.length - from];
    for (int i = from; i < tok.length; i++) v[i - from] = Double.parseDouble(tok[i]);
    return v;
  }

  private static List<String[]> referenceLines() throws IOException {
    List<String[]> lines = new ArrayList<>();
    try (InputStream in = LinalgTest.class.getResourceAsStream("linalg_reference.txt")) {
      assertNotNull(in, "resource linalg_reference.txt");
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      for (String line; (line = r.readLine()) != null; )
        if (!line.isEmpty() && !line.startsWith("#")) lines.add(line.split(" "));
    }
    return lines;
  }

  /** The case's outputs through the Java API, in the reference file's order. */
  private static List<Tensor> run(String op, List<Tensor> in, Args a) {
    switch (op) {
      case "solve": return List.of(Linalg.solve(in.get(0), in.get(1)));
      case "solveTriangular": return List.of(Linalg.solveTriangular(in.get(0), in.get(1), a.upper(), a.left()));
      case "cholesky": return List.of(Linalg.cholesky(in.get(0), a.upper()));
      case "qr": { Linalg.QR f = Linalg.qr(in.get(0)); return List.of(f.q(), f.r()); }
      case "svd": { Linalg.SVD f = Linalg.svd(in.get(0), a.full()); return List.of(f.u(), f.s(), f.vh()); }
      case "svdvals": return List.of(Linalg.svdvals(in.get(0)));
      case "pinv": return List.of(Linalg.pinv(in.get(0)));
      case "lstsq": return List.of(Linalg.lstsq(in.get(0), in.get(1)));
      case "vectorNorm": return List.of(Linalg.vectorNorm(in.get(0), a.ordValue(), a.dims(), a.keepdim()));
      case "matrixNorm":
        return List.of(a.ord().equals("fro") || a.ord().equals("nuc") ? Linalg.matrixNorm(in.get(0), a.ord(), a.keepdim())
                                                                     : Linalg.matrixNorm(in.get(0), a.ordValue(), a.keepdim()));
      case "inv": return List.of(Linalg.inv(in.get(0)));
      case "det": return List.of(Linalg.det(in.get(0)));
      case "slogdet": { Linalg.Slogdet s = Linalg.slogdet(in.get(0)); return List.of(s.sign(), s.logabsdet()); }
      case "eigh": { Linalg.Eigh e = Linalg.eigh(in.get(0)); return List.of(e.eigenvalues(), e.eigenvectors()); }
      case "eigvalsh": return List.of(Linalg.eigvalsh(in.get(0)));
      default: throw new IllegalArgumentException(op);
    }
  }

  /** The reference file's loss (see gen_linalg_reference.py). */
  private static Tensor loss(String op, List<Tensor> y) {
    if (op.equals("slogdet")) return weights(y.get(1), 1).mul(y.get(1)).sum();
    if (op.equals("eigh")) return weights(y.get(0), 0).mul(y.get(0)).sum().add(weights(y.get(1), 1).mul(y.get(1)).mul(y.get(1)).sum());
    if (op.equals("svd")) {
      Tensor l = weights(y.get(1), 1).mul(y.get(1)).sum();
      return l.add(weights(y.get(0), 0).mul(y.get(0)).mul(y.get(0)).sum()).add(weights(y.get(2), 2).mul(y.get(2)).mul(y.get(2)).sum());
    }
    Tensor l = weights(y.get(0), 0).mul(y.get(0)).sum();
    for (int k = 1; k < y.size(); k++) l = l.add(weights(y.get(k), k).mul(y.get(k)).sum());
    return l;
  }

  /** eigenvectors compared up to each column's sign: flip the columns of `actual` to match. */
  private static double[] alignColumns(double[] expected, double[] actual, long[] shape) {
    int r = (int) shape[shape.length - 2], c = (int) shape[shape.length - 1];
    double[] a = actual.clone();
    for (int b = 0; b < a.length / (r * c); b++)
      for (int j = 0; j < c; j++) {
        double dot = 0;
        for (int i = 0; i < r; i++) dot += expected[b * r * c + i * c + j] * a[b * r * c + i * c + j];
        if (dot < 0) for (int i = 0; i < r; i++) a[b * r * c + i * c + j] = -a[b * r * c + i * c + j];
      }
    return a;
  }

  /** Vh's rows compared up to sign, as {@link #alignColumns} for the transpose. */
  private static double[] alignRows(double[] expected, double[] actual, long[] shape) {
    int r = (int) shape[shape.length - 2], c = (int) shape[shape.length - 1];
    double[] a = actual.clone();
    for (int b = 0; b < a.length / (r * c); b++)
      for (int i = 0; i < r; i++) {
        double dot = 0;
        for (int j = 0; j < c; j++) dot += expected[b * r * c + i * c + j] * a[b * r * c + i * c + j];
        if (dot < 0) for (int j = 0; j < c; j++) a[b * r * c + i * c + j] = -a[b * r * c + i * c + j];
      }
    return a;
  }

  @TestFactory
  List<DynamicTest> matchesTorch() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    List<String[]> lines = referenceLines();
    for (int i = 0; i < lines.size(); ) {
      String[] head = lines.get(i++);
      String name = head[1], op = head[2];
      Args caseArgs = Args.parse(head);
      List<String[]> ins = new ArrayList<>(), outs = new ArrayList<>(), grads = new ArrayList<>();
      for (String[] tok; !(tok = lines.get(i++))[0].equals("end"); ) {
        if (tok[0].equals("in")) ins.add(tok);
        else if (tok[0].equals("out")) outs.add(tok);
        else grads.add(tok);
      }
      tests.add(DynamicTest.dynamicTest(name, () -> {
        try (Scope s = Scope.open()) {
          List<Tensor> in = new ArrayList<>();
          boolean f32 = false;
          for (String[] tok : ins) {
            Tensor x = t(numbers(tok, 3), shapeOf(tok[2]));
            f32 |= tok[1].equals("float32");
            in.add(tok[1].equals("float32") ? x.to(DType.FLOAT32) : x);
          }
          List<Tensor> y = run(op, in, caseArgs);
          double tol = f32 ? 2e-5 : 1e-11;
          for (int k = 0; k < outs.size(); k++) {
            String[] tok = outs.get(k);
            assertArrayEquals(shapeOf(tok[1]), y.get(k).shape(), name + " output " + k + " shape");
            assertEquals(f32 ? DType.FLOAT32 : F64, y.get(k).dtype(), name + " output dtype");
            double[] e = numbers(tok, 2), a = vals(y.get(k));
            if (op.equals("eigh") && k == 1) a = alignColumns(e, a, y.get(k).shape());
            if (op.equals("svd") && k == 0) a = alignColumns(e, a, y.get(k).shape());
            if (op.equals("svd") && k == 2) a = alignRows(e, a, y.get(k).shape());
            close(e, a, tol, name + " output " + k);
          }
          if (grads.isEmpty()) return;
          // torch's gradient of the loss, through grad over every input
          int[] rest = new int[in.size() - 1];
          for (int k = 0; k < rest.length; k++) rest[k] = k + 1;
          Object g = grad(args -> {
            List<Tensor> a = new ArrayList<>();
            for (Object o : args) a.add((Tensor) o);
            return loss(op, run(op, a, caseArgs));
          }, Argnums.of(0, rest)).apply(in.toArray());
          List<Tensor> gs = Pytree.leaves(g);
          assertEquals(grads.size(), gs.size(), name + ": gradients");
          for (int k = 0; k < grads.size(); k++)
            close(numbers(grads.get(k), 2), vals(gs.get(k)), 1e-9, name + " gradient " + k);
        }
      }));
    }
    assertTrue(tests.size() >= 50, "reference cases");
    return tests;
  }

  // ------------------------------------------------------------------ finite differences

  private static void gradMatchesFd(String what, Fn1 f, Tensor x) {
    double[] ad = vals(grad(f).apply(x));
    double[] fd = fdGrad(v -> f.apply(v).item(), x);
    close(fd, ad, 1e-6, what + " grad vs FD");
  }

  /** Hessian (jacfwd over jacrev) vs central differences of the gradient, and vs jacrev(jacrev). */
  private static void hessianMatchesFd(String what, Fn1 f, Tensor x) {
    double[] h = vals(hessian(f).apply(x));
    double[] hrr = vals(jacrev(jacrev(f)).apply(x));
    close(h, hrr, 1e-9, what + " jacfwd(jacrev) vs jacrev(jacrev)");
    int n = (int) x.numel();
    double[] base = vals(x);
    for (int i = 0; i < n; i++) {
      double[] p = base.clone(), m = base.clone();
      p[i] += 1e-5;
      m[i] -= 1e-5;
      double[] gp, gm;
      try (Scope s = Scope.open()) {
        gp = vals(grad(f).apply(t(p, x.shape())));
        gm = vals(grad(f).apply(t(m, x.shape())));
      }
      for (int j = 0; j < n; j++) {
        double fd = (gp[j] - gm[j]) / 2e-5, ad = h[j * n + i];
        assertTrue(Math.abs(fd - ad) <= 1e-5 * (1 + Math.abs(fd)), what + " hessian[" + j + "," + i + "]: FD " + fd + " AD " + ad);
      }
    }
  }

  @Test
  void solveGradientsAndHessianMatchFiniteDifferences() {
    Tensor a = well(1, 3, 3), b = rand(2, 3, 2), w = rand(3, 3, 2);
    gradMatchesFd("solve wrt A", x -> Linalg.solve(x, b).mul(w).sum(), a);
    gradMatchesFd("solve wrt B", x -> Linalg.solve(a, x).mul(w).sum(), b);
    hessianMatchesFd("solve", x -> Linalg.solve(x, b).mul(w).sum().sin(), a);
    Tensor v = rand(4, 3);
    gradMatchesFd("solve vector B", x -> Linalg.solve(a, x).mul(v).sum().sin(), rand(5, 3));
  }

  @Test
  void solveTriangularGradientsMatchFiniteDifferences() {
    Tensor a = well(6, 3, 3), b = rand(7, 3, 2), w = rand(8, 3, 2);
    for (boolean upper : new boolean[] {false, true}) {
      gradMatchesFd("solveTriangular A upper=" + upper, x -> Linalg.solveTriangular(x, b, upper).mul(w).sum(), a);
      gradMatchesFd("solveTriangular B upper=" + upper, x -> Linalg.solveTriangular(a, x, upper).mul(w).sum(), b);
    }
    Tensor wr = rand(9, 2, 3);
    gradMatchesFd("solveTriangular right", x -> Linalg.solveTriangular(x, rand(10, 2, 3), true, false).mul(wr).sum(), a);
    hessianMatchesFd("solveTriangular", x -> Linalg.solveTriangular(x, b, false).mul(w).sum().sin(), a);
  }

  @Test
  void invDetSlogdetGradientsMatchFiniteDifferences() {
    Tensor a = well(11, 3, 3), w = rand(12, 3, 3);
    gradMatchesFd("inv", x -> Linalg.inv(x).mul(w).sum(), a);
    gradMatchesFd("det", x -> Linalg.det(x), a);
    gradMatchesFd("slogdet", x -> Linalg.slogdet(x).logabsdet(), rand(13, 3, 3));
    hessianMatchesFd("det", x -> Linalg.det(x), a);
    hessianMatchesFd("inv", x -> Linalg.inv(x).mul(w).sum(), a);
  }

  /** cholesky and eigh read one triangle: differentiated along symmetric matrices, X -> X + X^T. */
  @Test
  void symmetricDecompositionsMatchFiniteDifferences() {
    Tensor x0 = rand(14, 3, 3).mul(0.3), w = rand(15, 3, 3);
    Fn1 chol = x -> Linalg.cholesky(x.add(x.transpose(0, 1)).add(eye(3).mul(2.0))).mul(w).sum();
    gradMatchesFd("cholesky", chol, x0);
    hessianMatchesFd("cholesky", x -> chol.apply(x).sin(), x0);
    Tensor gaps = Tensor.fromArray(new double[] {0, 0, 0, 0, 1.5, 0, 0, 0, 3}, 3, 3);
    Fn1 vals = x -> Linalg.eigvalsh(x.add(x.transpose(0, 1)).add(gaps)).mul(Tensor.of(1.0, -2.0, 0.5)).sum();
    gradMatchesFd("eigvalsh", vals, x0);
    hessianMatchesFd("eigvalsh", vals, x0);
    Fn1 vecs = x -> {
      Tensor v = Linalg.eigh(x.add(x.transpose(0, 1)).add(gaps)).eigenvectors();
      return v.mul(v).mul(w).sum();  // invariant under each eigenvector's sign
    };
    gradMatchesFd("eigh eigenvectors", vecs, x0);
    hessianMatchesFd("eigh eigenvectors", vecs, x0);
  }

  @Test
  void orthogonalFactorizationsMatchFiniteDifferences() {
    for (long[] shape : new long[][] {{4, 3}, {3, 3}, {2, 4}}) {
      Tensor a = rand(41 + shape[1], shape), wq = rand(50, shape[0], Math.min(shape[0], shape[1]));
      Tensor wr = rand(51, Math.min(shape[0], shape[1]), shape[1]);
      Fn1 qr = x -> { Linalg.QR f = Linalg.qr(x); return f.q().mul(wq).sum().add(f.r().mul(wr).sum()); };
      gradMatchesFd("qr " + Arrays.toString(shape), qr, a);
      Fn1 svd = x -> {  // invariant under the sign of each pair of singular vectors
        Linalg.SVD f = Linalg.svd(x, false);
        return f.s().mul(Tensor.of(1.0, -0.5).sum().add(f.s().sum())).sum().add(f.u().mul(f.u()).mul(wq).sum()).add(f.vh().mul(f.vh()).mul(wr).sum());
      };
      gradMatchesFd("svd " + Arrays.toString(shape), svd, a);
      gradMatchesFd("pinv " + Arrays.toString(shape), x -> Linalg.pinv(x).mul(rand(52, shape[1], shape[0])).sum(), a);
      gradMatchesFd("lstsq " + Arrays.toString(shape), x -> Linalg.lstsq(x, rand(53, shape[0], 2)).mul(rand(54, shape[1], 2)).sum(), a);
      gradMatchesFd("nuclear norm " + Arrays.toString(shape), x -> Linalg.matrixNorm(x, "nuc", false), a);
      gradMatchesFd("spectral norm " + Arrays.toString(shape), x -> Linalg.matrixNorm(x, 2, false), a);
    }
    Tensor a = rand(55, 3, 2);
    hessianMatchesFd("qr", x -> { Linalg.QR f = Linalg.qr(x); return f.q().mul(rand(56, 3, 2)).sum().add(f.r().mul(rand(57, 2, 2)).sum()); }, a);
    hessianMatchesFd("svdvals", x -> Linalg.svdvals(x).mul(Tensor.of(1.0, -2.0)).sum(), a);
    hessianMatchesFd("pinv", x -> Linalg.pinv(x).mul(rand(58, 2, 3)).sum(), a);
  }

  @Test
  void normsMatchFiniteDifferencesAndAreZeroAtZero() {
    Tensor x = rand(60, 2, 3);
    for (double ord : new double[] {1, 2, 3, 0.5, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
      gradMatchesFd("vectorNorm ord " + ord, v -> Linalg.vectorNorm(v, ord, new int[] {1}, false).mul(Tensor.of(1.0, -2.0)).sum(), x);
      if (ord >= 1 && !Double.isInfinite(ord))
        hessianMatchesFd("vectorNorm ord " + ord, v -> Linalg.vectorNorm(v, ord, null, false), x);
    }
    for (double ord : new double[] {1, -1, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -2})
      gradMatchesFd("matrixNorm ord " + ord, v -> Linalg.matrixNorm(v, ord, false), x);
    gradMatchesFd("matrixNorm fro", v -> Linalg.matrixNorm(v), x);
    hessianMatchesFd("matrixNorm fro", v -> Linalg.matrixNorm(v), x);
    // at 0: zero gradient and Hessian (torch's subgradient), never NaN
    Tensor zero = Tensor.zeros(F64, 3);
    for (double ord : new double[] {1, 2, 3, Double.POSITIVE_INFINITY}) {
      close(new double[3], vals(grad((Fn1) v -> Linalg.vectorNorm(v, ord, null, false)).apply(zero)), 0, "grad at 0, ord " + ord);
      for (double h : vals(hessian((Fn1) v -> Linalg.vectorNorm(v, ord, null, false)).apply(zero)))
        assertFalse(Double.isNaN(h), "hessian at 0, ord " + ord);
    }
    close(new double[4], vals(grad((Fn1) v -> Linalg.matrixNorm(v)).apply(Tensor.zeros(F64, 2, 2))), 0, "fro at 0");
  }

  /** pinv has its own derivative (torch's): exact also where singular values repeat. */
  @Test
  void pinvGradientAtRepeatedSingularValues() {
    Tensor w = rand(68, 3, 3);
    Fn1 f = x -> Linalg.pinv(x).mul(w).sum();
    gradMatchesFd("pinv at 2 I", f, eye(3).mul(2.0));
    Tensor q = Linalg.qr(rand(69, 3, 3)).q();  // orthogonal: every singular value 1
    gradMatchesFd("pinv of an orthogonal matrix", f, q);
    close(vals(q.t()), vals(Linalg.pinv(q)), 1e-12, "pinv(Q) = Q^T");
  }

  /** At an exactly repeated eigenvalue the eigenvalues' gradient is still exact (v_i v_i^T summed). */
  @Test
  void eigvalshGradientAtRepeatedEigenvaluesIsFinite() {
    Tensor g = grad((Fn1) x -> Linalg.eigvalsh(x).sum()).apply(eye(3));
    close(vals(eye(3)), vals(g), 1e-12, "d sum(eigvalsh)/dA at I");
  }

  // ------------------------------------------------------------------ other transforms

  @Test
  void jvpMatchesVjp() {
    Tensor a = well(16, 2, 3, 3), b = rand(17, 2, 3, 2), ta = rand(18, 2, 3, 3), u = rand(19, 2, 3, 2);
    Fn1 f = x -> Linalg.solve(x, b);
    double lhs = vals(jvp(f, a, ta).tangent().mul(u).sum())[0];
    double rhs = vals(vjp(f, a).applyTensor(u).mul(ta).sum())[0];
    assertEquals(rhs, lhs, 1e-10 * (1 + Math.abs(rhs)));
    Fn1 c = x -> Linalg.cholesky(x);
    Tensor s = spd(20, 3, 3), ts = rand(21, 3, 3), us = rand(22, 3, 3);
    double l2 = vals(jvp(c, s, ts).tangent().mul(us).sum())[0];
    double r2 = vals(vjp(c, s).applyTensor(us).mul(ts).sum())[0];
    assertEquals(r2, l2, 1e-10 * (1 + Math.abs(r2)));
  }

  @Test
  void jacrevEqualsJacfwd() {
    Tensor a = well(23, 3, 3), b = rand(24, 3, 2);
    close(vals(jacrev((Fn1) x -> Linalg.solve(x, b)).apply(a)), vals(jacfwd((Fn1) x -> Linalg.solve(x, b)).apply(a)), 1e-12, "solve");
    Fn1 e = x -> Linalg.eigvalsh(x.add(x.transpose(0, 1)));
    Tensor x0 = spd(25, 3, 3);
    close(vals(jacrev(e).apply(x0)), vals(jacfwd(e).apply(x0)), 1e-10, "eigvalsh");
    Fn1 i = x -> Linalg.inv(x);
    close(vals(jacrev(i).apply(a)), vals(jacfwd(i).apply(a)), 1e-12, "inv");
  }

  /** vmap of each op == the op on each example (the batch folded into one LAPACK loop). */
  @Test
  void vmapEqualsLoop() {
    int n = 4;
    Tensor as = well(26, n, 3, 3), bs = rand(27, n, 3, 2), ss = spd(28, n, 3, 3);
    List<Fn1> unary = List.of(Linalg::inv, Linalg::det, x -> Linalg.slogdet(x).logabsdet(), x -> Linalg.slogdet(x).sign(),
        Linalg::cholesky, Linalg::eigvalsh, x -> Linalg.solveTriangular(x, x, true));
    for (Fn1 f : unary)
      for (Tensor in : List.of(as, ss)) {
        if (f == unary.get(4) && in == as) continue;  // cholesky needs positive-definite input
        List<Tensor> loop = new ArrayList<>();
        for (int k = 0; k < n; k++) loop.add(f.apply(in.get(k)));
        close(vals(Tensor.stack(loop, 0)), vals(vmap(f).apply(in)), 1e-12, "vmap");
      }
    List<Tensor> loop = new ArrayList<>();
    for (int k = 0; k < n; k++) loop.add(Linalg.solve(as.get(k), bs.get(k)));
    close(vals(Tensor.stack(loop, 0)), vals(vmap((Fn2) Linalg::solve).apply(as, bs)), 1e-12, "vmap solve");
    // one operand unmapped: broadcast against the mapped one
    Tensor b0 = bs.get(0);
    loop.clear();
    for (int k = 0; k < n; k++) loop.add(Linalg.solve(as.get(k), b0));
    close(vals(Tensor.stack(loop, 0)), vals(vmap((Fn2) Linalg::solve, inDims(0, null)).apply(as, b0)), 1e-12, "vmap solve, B unmapped");
    // A unmapped: the examples' B become columns of one B (A factored once)
    Tensor a0 = as.get(0);
    loop.clear();
    for (int k = 0; k < n; k++) loop.add(Linalg.solve(a0, bs.get(k)));
    close(vals(Tensor.stack(loop, 0)), vals(vmap((Fn2) Linalg::solve, inDims(null, 0)).apply(a0, bs)), 1e-12, "vmap solve, A unmapped");
    loop.clear();
    for (int k = 0; k < n; k++) loop.add(Linalg.solveTriangular(a0, bs.get(k), true));
    close(vals(Tensor.stack(loop, 0)), vals(vmap((Fn2) (x, y) -> Linalg.solveTriangular(x, y, true), inDims(null, 0)).apply(a0, bs)),
        1e-12, "vmap solveTriangular, A unmapped");
    // per-example gradients
    loop.clear();
    Fn1 f = x -> Linalg.det(x).mul(Linalg.solve(x, b0).sum());
    for (int k = 0; k < n; k++) loop.add(grad(f).apply(as.get(k)));
    close(vals(Tensor.stack(loop, 0)), vals(vmap(grad(f)).apply(as)), 1e-11, "vmap(grad)");
    // the orthogonal factorizations and norms
    Tensor rs = rand(61, n, 4, 3);
    List<Fn1> more = List.of(x -> Linalg.qr(x).q(), x -> Linalg.qr(x).r(), Linalg::svdvals, Linalg::pinv,
        x -> Linalg.lstsq(x, x.sum(1)), x -> Linalg.vectorNorm(x, 3, new int[] {0}, true), Linalg::matrixNorm,
        x -> Linalg.matrixNorm(x, "nuc", false), x -> Linalg.matrixNorm(x, Double.POSITIVE_INFINITY, true));
    for (Fn1 f2 : more) {
      loop.clear();
      for (int k = 0; k < n; k++) loop.add(f2.apply(rs.get(k)));
      close(vals(Tensor.stack(loop, 0)), vals(vmap(f2).apply(rs)), 1e-12, "vmap");
    }
    // eigh with its vectors, up to sign
    Linalg.Eigh e = Linalg.eigh(ss);
    for (int k = 0; k < n; k++) {
      Linalg.Eigh ek = Linalg.eigh(ss.get(k));
      close(vals(ek.eigenvalues()), vals(e.eigenvalues().get(k)), 1e-12, "batched eigh values");
      double[] ev = vals(ek.eigenvectors());
      close(ev, alignColumns(ev, vals(e.eigenvectors().get(k)), new long[] {3, 3}), 1e-12, "batched eigh vectors");
    }
  }

  @Test
  void float32Works() {
    Tensor a = well(29, 2, 3, 3).to(DType.FLOAT32), b = rand(30, 2, 3, 1).to(DType.FLOAT32);
    Tensor x = Linalg.solve(a, b);
    assertEquals(DType.FLOAT32, x.dtype());
    close(vals(b), vals(a.matmul(x)), 1e-5, "A X = B in float32");
    Tensor g = grad((Fn1) m -> Linalg.det(m).sum()).apply(a);
    assertEquals(DType.FLOAT32, g.dtype());
    close(vals(grad((Fn1) m -> Linalg.det(m).sum()).apply(a.to(F64))), vals(g), 1e-4, "det gradient in float32");
  }

  @Test
  void reconstructions() {
    Tensor s = spd(31, 2, 4, 4);
    Tensor l = Linalg.cholesky(s);
    close(vals(s), vals(l.matmul(l.transpose(-1, -2))), 1e-12, "L L^T");
    Linalg.Eigh e = Linalg.eigh(s);
    Tensor v = e.eigenvectors();
    close(vals(s), vals(v.mul(e.eigenvalues().unsqueeze(-2)).matmul(v.transpose(-1, -2))), 1e-12, "V diag(w) V^T");
    Tensor a = well(32, 4, 4);
    close(vals(eye(4)), vals(a.matmul(Linalg.inv(a))), 1e-12, "A A^-1");
    // empty matrices and batches
    assertArrayEquals(new long[] {0, 0}, Linalg.inv(Tensor.zeros(F64, 0, 0)).shape());
    close(new double[] {1}, vals(Linalg.det(Tensor.zeros(F64, 0, 0))), 0, "det of 0x0");
    assertArrayEquals(new long[] {0, 3, 3}, Linalg.cholesky(Tensor.zeros(F64, 0, 3, 3)).shape());
  }

  // ------------------------------------------------------------------ errors

  private static String message(Runnable r, Class<? extends RuntimeException> type) {
    return assertThrows(type, r::run).getMessage();
  }

  @Test
  void singularAndNotPositiveDefiniteNameTheOpAndBatchElement() {
    Tensor good = eye(2).unsqueeze(0);
    Tensor bad = Tensor.fromArray(new double[] {1, 2, 2, 4}, 1, 2, 2);
    Tensor batch = Tensor.cat(List.of(good, good, bad), 0);
    String m = message(() -> Linalg.solve(batch, rand(33, 3, 2, 1)), AdjointArgumentException.class);
    assertEquals("linalg.solve: (Batch element 2): The solver failed because the input matrix is singular.", m);
    m = message(() -> Linalg.inv(bad.get(0)), AdjointArgumentException.class);
    assertTrue(m.startsWith("linalg.inv: The diagonal element 2 is zero"), m);
    Tensor notPd = Tensor.fromArray(new double[] {1, 2, 2, 1}, 1, 2, 2);
    Tensor pds = Tensor.cat(List.of(good, good, good, notPd), 0);
    m = message(() -> Linalg.cholesky(pds), AdjointArgumentException.class);
    assertEquals("linalg.cholesky: (Batch element 3): The factorization could not be completed because the input is not "
        + "positive-definite (the leading minor of order 2 is not positive-definite).", m);
    // under vmap the vmapped dim is a leading batch dim
    m = message(() -> vmap((Fn1) Linalg::cholesky).apply(pds), AdjointArgumentException.class);
    assertTrue(m.contains("(Batch element 3)"), m);
    AdjointArgumentException e = assertThrows(AdjointArgumentException.class, () -> Linalg.solve(batch, rand(34, 2, 1)));
    assertEquals("linalg.solve", e.op());
    // det of a singular matrix is 0; its gradient there is the adjugate (DetSingularGradientTest),
    // while log|det|'s is undefined: an error, not a NaN
    close(new double[] {0}, vals(Linalg.det(bad.get(0))), 0, "det singular");
    m = message(() -> grad((Fn1) x -> Linalg.slogdet(x).logabsdet()).apply(bad.get(0)), AdjointArgumentException.class);
    assertTrue(m.startsWith("linalg.slogdet: the derivative of log|det A| is undefined"), m);
  }

  @Test
  void fullSvdOfNonSquareHasNoDerivative() {
    Tensor a = rand(62, 3, 2);
    Linalg.SVD f = Linalg.svd(a);
    assertArrayEquals(new long[] {3, 3}, f.u().shape());
    assertArrayEquals(new long[] {2, 2}, f.vh().shape());
    close(vals(Linalg.svdvals(a)), vals(f.s()), 1e-12, "full S");
    String m = message(() -> grad((Fn1) x -> Linalg.svd(x).u().sum()).apply(a), UnsupportedOperationException.class);
    assertTrue(m.startsWith("linalg.svd: the derivative of the full U or Vh of a non-square matrix [3, 2] is not defined"), m);
    // square: full == reduced, with a derivative
    assertNotNull(grad((Fn1) x -> Linalg.svd(x).s().sum()).apply(rand(63, 3, 3)));
    // non-finite input: a clear error, not a LAPACK loop
    Tensor nan = Tensor.fromArray(new double[] {1, Double.NaN, 0, 1}, 2, 2);
    m = message(() -> Linalg.svdvals(nan), AdjointArgumentException.class);
    assertTrue(m.startsWith("linalg.svd: The algorithm failed to converge because the input matrix contained non-finite values"), m);
    m = message(() -> Linalg.eigh(Tensor.stack(List.of(eye(2), nan.t()), 0)), AdjointArgumentException.class);
    assertTrue(m.startsWith("linalg.eigh: (Batch element 1): The algorithm failed to converge because the input matrix contained non-finite"), m);
  }

  @Test
  void badShapesAndDtypesNameTheOpAndShapes() {
    String m = message(() -> Linalg.solve(rand(35, 2, 3), rand(36, 2, 1)), ShapeMismatchException.class);
    assertEquals("linalg.solve: A must be batches of square matrices, got [2, 3]", m);
    m = message(() -> Linalg.cholesky(Tensor.of(1.0, 2.0)), ShapeMismatchException.class);
    assertTrue(m.startsWith("linalg.cholesky: A must have at least 2 dimensions") && m.contains("[2]"), m);
    m = message(() -> Linalg.solve(eye(3), rand(37, 2, 1)), ShapeMismatchException.class);
    assertEquals("linalg.solve: incompatible shapes of A and B for the equation AX = B ([3, 3] and [2, 1])", m);
    m = message(() -> Linalg.solve(eye(2).to(DType.FLOAT32), rand(38, 2, 1)), DTypeMismatchException.class);
    assertTrue(m.startsWith("linalg.solve: expected A and B to have the same dtype"), m);
    m = message(() -> Linalg.det(Tensor.fromArray(new long[] {1, 0, 0, 1}, 2, 2)), DTypeMismatchException.class);
    assertTrue(m.startsWith("linalg.det: expected A to be a float32 or float64 tensor, got int64"), m);
    m = message(() -> Linalg.solve(well(39, 2, 3, 3), rand(40, 3, 3, 1)), ShapeMismatchException.class);
    assertTrue(m.contains("cannot be broadcast"), m);
    m = message(() -> Linalg.qr(Tensor.of(1.0, 2.0)), ShapeMismatchException.class);
    assertTrue(m.startsWith("linalg.qr: A must have at least 2 dimensions"), m);
    m = message(() -> Linalg.lstsq(rand(64, 3, 2), rand(65, 4, 1)), ShapeMismatchException.class);
    assertTrue(m.startsWith("linalg.lstsq: incompatible shapes of A and B"), m);
    m = message(() -> Linalg.matrixNorm(rand(66, 2, 2), "max", false), AdjointArgumentException.class);
    assertTrue(m.startsWith("linalg.matrix_norm: order \"max\" not supported"), m);
    m = message(() -> Linalg.matrixNorm(rand(67, 2, 2), 3, false), AdjointArgumentException.class);
    assertTrue(m.startsWith("linalg.matrix_norm: order 3 not supported"), m);
    m = message(() -> Linalg.vectorNorm(Tensor.of(1L, 2L)), DTypeMismatchException.class);
    assertTrue(m.startsWith("linalg.vector_norm: expected a float32 or float64 tensor, got int64"), m);
  }
}
