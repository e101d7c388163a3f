package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The transform x nesting matrix in float64. Every expected value comes from a closed form or from
 * central finite differences written here, evaluated with plain (untransformed) forward ops — never
 * from a transform's output. The functions mix tanh / sin / exp / matmul / softmax / logsumexp /
 * where / relu / index_select / cat / slice so that many JVP, VJP and batching rules are exercised.
 */
class CompositionTest extends ScopedTest {

  @AfterEach
  void checkClean() {
    assertEquals(0, dev.adjoint.internal.NativeCore.adj_level_depth(), "a transform level leaked");
  }

  // ================================================================== references

  static final double H1 = 1e-6;  // first derivatives
  static final double H2 = 1e-4;  // nested differences (second derivatives)
  static final double TOL1 = 1e-7, TOL2 = 1e-5;

  /** Deterministic float64 data, away from the kinks of relu / where at 0 and 0.3. */
  static Tensor data(double seed, long... shape) {
    long n = 1;
    for (long s : shape) n *= s;
    double[] v = new double[(int) n];
    for (int k = 0; k < v.length; k++) {
      double x = 1.1 * Math.sin(1.93 * k + seed) + 0.05;
      if (Math.abs(x) < 0.02) x += 0.05;
      if (Math.abs(x - 0.3) < 0.02) x += 0.05;
      v[k] = x;
    }
    return Tensor.fromArray(v, shape);
  }

  static long[] concat(long[] a, long[] b) {
    long[] r = new long[a.length + b.length];
    System.arraycopy(a, 0, r, 0, a.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  /** Central-difference Jacobian of f at x, layout [out..., in...]; f runs with plain ops only. */
  static Tensor fdJac(Fn1 f, Tensor x, double h) {
    double[] x0 = x.toDoubleArray();
    long[] inShape = x.shape(), outShape;
    double[][] cols = new double[x0.length][];
    try (Scope s = Scope.open()) {
      outShape = f.apply(x).shape();
      for (int i = 0; i < x0.length; i++) {
        double[] xp = x0.clone(), xm = x0.clone();
        xp[i] += h;
        xm[i] -= h;
        double[] fp = f.apply(Tensor.fromArray(xp, inShape)).toDoubleArray();
        double[] fm = f.apply(Tensor.fromArray(xm, inShape)).toDoubleArray();
        cols[i] = new double[fp.length];
        for (int o = 0; o < fp.length; o++) cols[i][o] = (fp[o] - fm[o]) / (2 * h);
      }
    }
    int n = x0.length, m = 1;
    for (long d : outShape) m *= (int) d;
    double[] j = new double[m * n];
    for (int o = 0; o < m; o++)
      for (int i = 0; i < n; i++) j[o * n + i] = cols[i][o];
    return Tensor.fromArray(j, concat(outShape, inShape));
  }

  /** Second derivatives by nested central differences: [out..., in, in]. */
  static Tensor fdJac2(Fn1 f, Tensor x) {
    return fdJac(y -> fdJac(f, y, H2), x, H2);
  }

  /** Directional derivative (f(x + h t) - f(x - h t)) / 2h. */
  static Tensor fdDir(Fn1 f, Tensor x, Tensor t) {
    try (Scope s = Scope.open()) {
      Tensor d = f.apply(x.add(t.mul(H1))).sub(f.apply(x.sub(t.mul(H1)))).div(2 * H1);
      return s.keep(d);
    }
  }

  /** Flattening of a pytree of float64 tensors, for finite differences over all its leaves. */
  record Flat(Object structure, List<long[]> shapes) {
    static Flat of(Object tree) {
      List<long[]> shapes = new ArrayList<>();
      for (Tensor t : Pytree.leaves(tree)) shapes.add(t.shape());
      return new Flat(tree, shapes);
    }

    /** The tree's leaves' values, concatenated in flattening order. */
    static double[] values(Object tree) {
      List<double[]> parts = new ArrayList<>();
      int n = 0;
      for (Tensor t : Pytree.leaves(tree)) {
        double[] v = t.toDoubleArray();
        parts.add(v);
        n += v.length;
      }
      double[] r = new double[n];
      int o = 0;
      for (double[] p : parts) {
        System.arraycopy(p, 0, r, o, p.length);
        o += p.length;
      }
      return r;
    }

    Object build(double[] v) {
      List<Tensor> leaves = new ArrayList<>();
      int o = 0;
      for (long[] s : shapes) {
        int n = 1;
        for (long d : s) n *= (int) d;
        double[] part = new double[n];
        System.arraycopy(v, o, part, 0, n);
        o += n;
        leaves.add(Tensor.fromArray(part, s));
      }
      return Pytree.unflatten(structure, leaves);
    }
  }

  interface ScalarOfTree {
    double at(Object tree);
  }

  /** H v for a scalar function of a pytree, by the four-point second difference, flattened. */
  static double[] fdHvp(ScalarOfTree f, Object primal, Object tangent) {
    Flat flat = Flat.of(primal);
    double[] x = Flat.values(primal), v = Flat.values(tangent), r = new double[x.length];
    double h = H2;
    try (Scope s = Scope.open()) {
      for (int i = 0; i < x.length; i++) {
        double acc = 0;
        for (int a = -1; a <= 1; a += 2)
          for (int b = -1; b <= 1; b += 2) {
            double[] p = x.clone();
            for (int k = 0; k < p.length; k++) p[k] += a * h * v[k];
            p[i] += b * h;
            acc += a * b * f.at(flat.build(p));
          }
        r[i] = acc / (4 * h * h);
      }
    }
    return r;
  }

  static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
    assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
    assertEquals(DType.FLOAT64, actual.dtype(), what + ": dtype");
    assertClose(expected.toDoubleArray(), actual.toDoubleArray(), tol, what);
  }

  static void assertClose(double[] e, double[] a, double tol, String what) {
    assertEquals(e.length, a.length, what + ": length");
    for (int i = 0; i < e.length; i++) {
      final int k = i;
      assertTrue(Math.abs(e[i] - a[i]) <= tol * (1 + Math.abs(e[i])),
          () -> what + ": element " + k + " expected " + e[k] + " but got " + a[k]);
    }
  }

  static void assertBitwise(Tensor expected, Tensor actual, String what) {
    assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
    assertArrayEquals(expected.toDoubleArray(), actual.toDoubleArray(), what);
  }

  // ================================================================== the test functions

  /** R^4 -> R^5: matmul, tanh, softmax, exp, slice, where, relu, index_select, logsumexp, cat. */
  static Tensor vecFn(Tensor x, Tensor w, Tensor idx) {
    Tensor h = w.matmul(x).tanh();                                                   // [3]
    Tensor s = h.softmax(0).mul(x.slice(0, 1, 4).exp());                              // [3]
    Tensor r = Tensor.where(x.gt(0.0), x.sin(), x.mul(x).mul(0.5)).add(x.sub(0.3).relu().mul(x))
        .indexSelect(0, idx);                                                         // [2]
    return Tensor.cat(List.of(s, r.add(x.logsumexp(0))), 0);                         // [5]
  }

  /** R^4 -> R: a scalar mix with a non-trivial Hessian. */
  static Tensor scalarFn(Tensor x, Tensor w) {
    Tensor h = w.matmul(x).tanh();                                     // [3]
    Tensor a = h.mul(x.slice(0, 1, 4).sin()).sum();
    Tensor b = x.logsumexp(0);
    Tensor c = Tensor.where(x.gt(0.0), x.exp(), x.cos()).mul(x.softmax(0)).sum();
    return a.add(b).add(c).add(x.sub(0.3).relu().pow(3.0).sum());
  }

  private Tensor w34() {
    return data(0.7, 3, 4);
  }

  private static Tensor idx() {
    return Tensor.of(3L, 0L);
  }

  // ================================================================== vmap over Jacobians

  @Test
  void vmapOfJacrevAndJacfwd() {
    Tensor w = w34(), idx = idx(), xs = data(0.1, 6, 4);
    Fn3 f = (ww, ii, x) -> vecFn(x, ww, ii);
    Tensor jr = vmap(jacrev(f, 2), inDims(null, null, 0)).apply(w, idx, xs);
    Tensor jf = vmap(jacfwd(f, 2), inDims(null, null, 0)).apply(w, idx, xs);
    assertArrayEquals(new long[] {6, 5, 4}, jr.shape());
    for (int b = 0; b < 6; b++) {
      Tensor ref = fdJac(x -> vecFn(x, w, idx), xs.get(b), H1);
      assertClose(ref, jr.get(b), TOL1, "vmap(jacrev) row " + b);
      assertClose(ref, jf.get(b), TOL1, "vmap(jacfwd) row " + b);
    }
  }

  @Test
  void vmapOfHessian() {
    Tensor w = w34(), xs = data(0.2, 5, 4);
    Fn1 f = x -> scalarFn(x, w);
    Tensor hs = vmap(hessian(f)).apply(xs);
    assertArrayEquals(new long[] {5, 4, 4}, hs.shape());
    for (int b = 0; b < 5; b++) assertClose(fdJac2(f, xs.get(b)), hs.get(b), TOL2, "vmap(hessian) row " + b);
  }

  // ================================================================== Jacobians of Jacobians

  @Test
  void secondOrderJacobiansOfAVectorFunction() {
    Tensor w = w34(), idx = idx(), x = data(0.3, 4);
    Fn1 f = xx -> vecFn(xx, w, idx);
    Tensor ref = fdJac2(f, x);  // [5, 4, 4]
    assertClose(ref, jacfwd(jacrev(f)).apply(x), TOL2, "jacfwd(jacrev)");
    assertClose(ref, jacrev(jacrev(f)).apply(x), TOL2, "jacrev(jacrev)");
    assertClose(ref, jacfwd(jacfwd(f)).apply(x), TOL2, "jacfwd(jacfwd)");
    assertClose(ref, jacrev(jacfwd(f)).apply(x), TOL2, "jacrev(jacfwd)");
    assertClose(ref, hessian(f).apply(x), TOL2, "hessian of a vector function");
  }

  // ================================================================== Hessian-vector products

  @Test
  void jvpOfGradAndVjpOfGrad() {
    Tensor w = w34(), x = data(0.4, 4), v = data(2.5, 4);
    Fn1 f = xx -> scalarFn(xx, w);
    Tensor hess = fdJac2(f, x);
    Tensor hv = hess.matmul(v), vh = v.matmul(hess);
    JvpResult r = jvp(grad(f), x, v);
    assertClose(fdJac(f, x, H1), r.output(), TOL1, "jvp(grad) primal = grad");
    assertClose(hv, r.tangent(), TOL2, "jvp(grad) = H v");
    VjpResult p = vjp(grad(f), x);
    assertClose(vh, p.applyTensor(v), TOL2, "vjp(grad) = v^T H");
    assertClose(hv, hvp(f, x, v), TOL2, "hvp");
    assertClose(vh, vhp(f, x, v), TOL2, "vhp");
  }

  @Test
  void gradOfGradOfGrad() {
    // f(x) = e^x sin x: f' = e^x (sin + cos), f'' = 2 e^x cos, f''' = 2 e^x (cos - sin)
    Fn1 f = x -> x.exp().mul(x.sin());
    for (double x0 : new double[] {-1.3, 0.2, 0.9, 2.0}) {
      Tensor x = Tensor.scalar(x0, DType.FLOAT64);
      double e = Math.exp(x0), s = Math.sin(x0), c = Math.cos(x0);
      assertEquals(e * (s + c), grad(f).apply(x).item(), 1e-12);
      assertEquals(2 * e * c, grad(grad(f)).apply(x).item(), 1e-12);
      assertEquals(2 * e * (c - s), grad(grad(grad(f))).apply(x).item(), 1e-12);
    }
    // Vector form through sums: grad(sum(grad(sum(grad(sum f))))) is f''' elementwise.
    Tensor xs = data(0.5, 7);
    Fn1 g1 = grad(x -> f.apply(x).sum());
    Fn1 g2 = grad(x -> g1.apply(x).sum());
    Fn1 g3 = grad(x -> g2.apply(x).sum());
    double[] xv = xs.toDoubleArray(), got = g3.apply(xs).toDoubleArray();
    for (int i = 0; i < xv.length; i++)
      assertEquals(2 * Math.exp(xv[i]) * (Math.cos(xv[i]) - Math.sin(xv[i])), got[i], 1e-12, "f''' at " + i);
  }

  // ================================================================== vmap of vmap

  static Tensor pairFn(Tensor x, Tensor y, Tensor w) {
    // x [3], y [4] -> [3, 4]
    Tensor outer = x.tanh().unsqueeze(1).matmul(y.sin().unsqueeze(0));
    return outer.softmax(1).mul(y.exp()).add(w);
  }

  @Test
  void vmapOfVmap() {
    Tensor w = w34(), xs = data(0.6, 5, 3), ysT = data(1.6, 4, 6);  // ys stored transposed: mapped at dim 1
    Fn2 inner = vmap((x, y) -> pairFn(x, y, w), inDims(0, null));
    Tensor r = vmap(inner, inDims(null, 1)).apply(xs, ysT);
    assertArrayEquals(new long[] {6, 5, 3, 4}, r.shape());
    for (int j = 0; j < 6; j++)
      for (int i = 0; i < 5; i++)
        assertClose(pairFn(xs.get(i), ysT.select(1, j), w), r.get(j).get(i), 1e-13, "vmap(vmap) [" + j + "][" + i + "]");

    // Both levels mapping the same tensor, outer at dim 1, inner at dim 0 of what is left.
    Tensor zs = data(2.6, 3, 2, 4);
    Fn1 h = z -> z.mul(z.slice(0, 0, 1)).logsumexp(0).add(z.tanh().sum());
    Tensor r2 = vmap(vmap(h), inDims(1)).apply(zs);
    assertArrayEquals(new long[] {2, 3}, r2.shape());
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < 3; b++)
        assertEquals(h.apply(zs.select(1, a).get(b)).item(), r2.get(a).get(b).item(), 1e-13);
  }

  // ================================================================== batch size equal to a logical dim

  /** Per-example x [2], index i [2] (int64); y [2, 2] and z [2] are not mapped. */
  static Tensor broadcastMix(Tensor x, Tensor i, Tensor y, Tensor z) {
    Tensor a = x.add(y);                                          // [2, 2] broadcast of a mapped [2] with an unmapped [2, 2]
    Tensor b = y.matmul(x).add(x.matmul(y));                      // [2]
    Tensor c = x.unsqueeze(1).matmul(x.unsqueeze(0));             // [2, 2] outer
    Tensor d = Tensor.where(y.gt(0.0), x.expand(2, 2), y.t());    // [2, 2]
    Tensor e = Tensor.cat(List.of(x, z, b), 0).reshape(3, 2).transpose(0, 1).sum(1);  // [2]
    Tensor f = y.indexSelect(0, i).mul(x.indexSelect(0, i).unsqueeze(1)).softmax(1);  // [2, 2]
    Tensor g = Tensor.stack(List.of(a.logsumexp(1), c.amax(0), d.mean(1), e), 0);     // [4, 2]
    return f.matmul(g.movedim(0, 1)).add(x.select(0, 1)).permute(1, 0).slice(0, 1, 4, 2).contiguous();  // [2, 2]
  }

  @Test
  void vmapWhenTheBatchSizeEqualsALogicalDim() {
    // batch size 2 == every logical size: a rule that broadcast physical shapes naively would not fail, it would be wrong
    Tensor y = data(0.5, 2, 2), z = data(0.6, 2), xs = data(0.7, 2, 2);
    Tensor idx = Tensor.fromArray(new long[] {1, 0, 1, 1}, 2, 2);
    Fn2 f = (x, i) -> broadcastMix(x, i, y, z);
    Tensor r0 = vmap(f).apply(xs, idx);
    Tensor r1 = vmap(f, inDims(1, 0)).apply(xs.t().contiguous(), idx);  // x mapped along its dim 1
    for (int b = 0; b < 2; b++) {
      Tensor ref = broadcastMix(xs.get(b), idx.get(b), y, z);
      assertClose(ref, r0.get(b), 1e-14, "inDims 0, example " + b);
      assertClose(ref, r1.get(b), 1e-14, "inDims 1, example " + b);
    }
    // and its derivatives through vmap: jacrev of the per-example map
    Tensor jr = vmap(jacrev((x, i) -> broadcastMix(x, i, y, z), 0)).apply(xs, idx);
    for (int b = 0; b < 2; b++) {
      Tensor i = idx.get(b);
      assertClose(fdJac(x -> broadcastMix(x, i, y, z), xs.get(b), H1), jr.get(b), TOL1, "vmap(jacrev), example " + b);
    }
  }

  // ================================================================== per-sample gradients

  static Tensor loss(Map<String, Tensor> p, Tensor x, Tensor target) {
    Tensor hidden = x.matmul(p.get("w1")).add(p.get("b1")).tanh();   // [3]
    Tensor logits = hidden.matmul(p.get("w2")).add(x.slice(0, 0, 3).relu());  // [3]
    return logits.logsumexp(0).sub(logits.indexSelect(0, target).sum());
  }

  @Test
  @SuppressWarnings("unchecked")
  void vmapOfGradPerSampleGradients() {
    Map<String, Tensor> params = new LinkedHashMap<>();
    params.put("w1", data(0.11, 4, 3));
    params.put("b1", data(0.22, 3));
    params.put("w2", data(0.33, 3, 3));
    int batch = 5;
    Tensor xs = data(0.44, batch, 4);
    Tensor targets = Tensor.fromArray(new long[] {0, 2, 1, 2, 0}, batch, 1);
    FnN lossFn = a -> loss((Map<String, Tensor>) a[0], (Tensor) a[1], (Tensor) a[2]);
    Map<String, Tensor> g = (Map<String, Tensor>) vmap(grad(lossFn), inDims(null, 0, 0)).apply(params, xs, targets);
    assertEquals(List.of("w1", "b1", "w2"), new ArrayList<>(g.keySet()));
    for (String key : params.keySet()) {
      assertArrayEquals(concat(new long[] {batch}, params.get(key).shape()), g.get(key).shape(), key);
      for (int b = 0; b < batch; b++) {
        Tensor x = xs.get(b), t = targets.get(b);
        Tensor ref = fdJac(v -> {
          Map<String, Tensor> q = new LinkedHashMap<>(params);
          q.put(key, v);
          return loss(q, x, t);
        }, params.get(key), H1);
        assertClose(ref, g.get(key).get(b), TOL1, "per-sample grad " + key + " sample " + b);
      }
    }
  }

  // ================================================================== transforms of vmap and vmap of jvp

  @Test
  void jvpOfVmapAndVmapOfJvp() {
    Tensor w = w34(), idx = idx(), xs = data(0.8, 4, 4), ts = data(3.1, 4, 4);
    Fn1 f = x -> vecFn(x, w, idx);
    JvpResult r = jvp(vmap(f), xs, ts);
    Tensor viaVmap = vmap((x, t) -> jvp(f, x, t).tangent()).apply(xs, ts);
    for (int b = 0; b < 4; b++) {
      Tensor ref = fdDir(f, xs.get(b), ts.get(b));
      assertClose(ref, r.tangent().get(b), TOL1, "jvp(vmap) row " + b);
      assertClose(ref, viaVmap.get(b), TOL1, "vmap(jvp) row " + b);
      assertClose(f.apply(xs.get(b)), r.output().get(b), 1e-13, "jvp(vmap) primal row " + b);
    }
  }

  @Test
  void gradOfVmapAndJacrevOfVmap() {
    Tensor w = w34(), idx = idx(), xs = data(0.9, 3, 4), cw = data(4.2, 3);
    Fn1 sf = x -> scalarFn(x, w);
    Fn1 viaVmap = x -> vmap(sf).apply(x).mul(cw).sum();
    Fn1 plain = x -> {
      Tensor acc = Tensor.scalar(0.0, DType.FLOAT64);
      for (int b = 0; b < 3; b++) acc = acc.add(sf.apply(x.get(b)).mul(cw.get(b)));
      return acc;
    };
    assertClose(fdJac(plain, xs, H1), grad(viaVmap).apply(xs), TOL1, "grad(vmap)");

    Fn1 vf = x -> vecFn(x, w, idx);
    Fn1 stacked = x -> {
      List<Tensor> rows = new ArrayList<>();
      for (int b = 0; b < 3; b++) rows.add(vf.apply(x.get(b)));
      return Tensor.stack(rows, 0);
    };
    Tensor jr = jacrev(vmap(vf)).apply(xs);
    assertArrayEquals(new long[] {3, 5, 3, 4}, jr.shape());
    assertClose(fdJac(stacked, xs, H1), jr, TOL1, "jacrev(vmap)");
    assertClose(fdJac(stacked, xs, H1), jacfwd(vmap(vf)).apply(xs), TOL1, "jacfwd(vmap)");
  }

  // ================================================================== perturbation confusion

  @Test
  void perturbationConfusion() {
    Tensor one = Tensor.scalar(1.0, DType.FLOAT64);
    // d/dx [x * d/dy (x * y)] at x = y = 1: the inner derivative is x, so the answer is 2x = 2.
    Fn1 outerJ = x -> x.mul(jvp(y -> x.mul(y), one, one).tangent());
    assertEquals(2.0, jvp(outerJ, one, one).tangent().item(), 0.0, "nested jvp");
    Fn1 outerG = x -> x.mul(grad(y -> x.mul(y)).apply(one));
    assertEquals(2.0, grad(outerG).apply(one).item(), 0.0, "nested grad");
    // mixed orders
    assertEquals(2.0, grad(outerJ).apply(one).item(), 0.0, "grad over jvp");
    assertEquals(2.0, jvp(outerG, one, one).tangent().item(), 0.0, "jvp over grad");
    // and at x = 3, y = 1: 2x = 6 (a confused implementation gives other values)
    Tensor three = Tensor.scalar(3.0, DType.FLOAT64);
    assertEquals(6.0, grad(outerG).apply(three).item(), 0.0);
    assertEquals(6.0, jvp(outerJ, three, one).tangent().item(), 0.0);
  }

  // ================================================================== pytree Hessians and edge shapes

  static Tensor mapFn(Tensor a, Tensor b, Tensor w) {
    // a [2], b [3], w [2, 3]
    return a.tanh().matmul(w).mul(b.sin()).sum().add(Tensor.cat(List.of(a, b), 0).softmax(0).mul(b.exp().sum()).logsumexp(0));
  }

  @Test
  @SuppressWarnings("unchecked")
  void hessianOfAPytreeArgument() {
    Tensor w = data(0.1, 2, 3);
    Map<String, Tensor> p = new LinkedHashMap<>();
    p.put("a", data(0.2, 2));
    p.put("b", data(0.3, 3));
    FnN f = args -> {
      Map<String, Tensor> m = (Map<String, Tensor>) args[0];
      return mapFn(m.get("a"), m.get("b"), w);
    };
    Tensor flat = Tensor.cat(List.of(p.get("a"), p.get("b")), 0);
    Tensor h = fdJac2(x -> mapFn(x.slice(0, 0, 2), x.slice(0, 2, 5), w), flat);  // [5, 5]
    Map<String, Map<String, Tensor>> hess = (Map<String, Map<String, Tensor>>) hessian(f, argnums(0)).apply(p);
    long[][] range = {{0, 2}, {2, 5}};
    String[] keys = {"a", "b"};
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++) {
        Tensor block = h.slice(0, range[i][0], range[i][1]).slice(1, range[j][0], range[j][1]).contiguous();
        assertClose(block, hess.get(keys[i]).get(keys[j]), TOL2, "hessian[" + keys[i] + "][" + keys[j] + "]");
      }
    // jacrev of the gradient map has the same layout
    Map<String, Map<String, Tensor>> jj = (Map<String, Map<String, Tensor>>) jacrev(jacrev(f, argnums(0)), argnums(0)).apply(p);
    assertClose(h.slice(0, 0, 2).slice(1, 2, 5).contiguous(), jj.get("a").get("b"), TOL2, "jacrev(jacrev)[a][b]");
  }

  @Test
  void scalarAndConstantEdgeCases() {
    Tensor x = Tensor.scalar(0.7, DType.FLOAT64);
    Fn1 sin = v -> v.sin();
    assertArrayEquals(new long[0], jacrev(sin).apply(x).shape());
    assertEquals(Math.cos(0.7), jacrev(sin).apply(x).item(), 1e-15);
    assertEquals(Math.cos(0.7), jacfwd(sin).apply(x).item(), 1e-15);
    assertEquals(-Math.sin(0.7), hessian(sin).apply(x).item(), 1e-15);
    assertEquals(-Math.sin(0.7), vmap(hessian(sin)).apply(Tensor.of(0.7, 0.7)).get(1).item(), 1e-15);

    // outputs that do not depend on the inputs
    Tensor c = data(0.5, 3);
    Tensor v = data(0.6, 4);
    assertClose(Tensor.zeros(DType.FLOAT64, 4), grad(u -> c.sum()).apply(v), 0.0, "grad of a constant");
    assertClose(Tensor.zeros(DType.FLOAT64, 3, 4), jacrev(u -> c.exp()).apply(v), 0.0, "jacrev of a constant");
    assertClose(Tensor.zeros(DType.FLOAT64, 3, 4), jacfwd(u -> c.exp()).apply(v), 0.0, "jacfwd of a constant");
    Tensor r = vmap(u -> c.tanh(), VmapOptions.inDims(0).outDims(1)).apply(data(0.7, 5, 2));
    assertArrayEquals(new long[] {3, 5}, r.shape());
    for (int b = 0; b < 5; b++) assertClose(c.tanh(), r.select(1, b).contiguous(), 0.0, "vmap of a constant, example " + b);
    // an output that is the (unmapped) input itself
    Tensor same = vmap((a, bb) -> bb, inDims(0, null)).apply(data(0.8, 4, 2), c);
    for (int b = 0; b < 4; b++) assertClose(c, same.get(b), 0.0, "unmapped input returned");
  }

  // ================================================================== argnums

  static Tensor f3(Tensor a, Tensor b, Tensor c) {
    // a [3], b [3, 2], c [2] -> scalar
    return a.tanh().matmul(b).mul(c.sin()).sum().add(a.mul(c.slice(0, 0, 1)).exp().sum()).add(b.logsumexp(1).sum());
  }

  @Test
  void argnumsWithSeveralIndices() {
    Tensor a = data(0.1, 3), b = data(0.2, 3, 2), c = data(0.3, 2);
    FnN f = args -> f3((Tensor) args[0], (Tensor) args[1], (Tensor) args[2]);
    Tensor ga = fdJac(x -> f3(x, b, c), a, H1), gb = fdJac(x -> f3(a, x, c), b, H1), gc = fdJac(x -> f3(a, b, x), c, H1);

    List<Tensor> g02 = grad(f, argnums(0, 2)).applyTensors(a, b, c);
    assertEquals(2, g02.size());
    assertClose(ga, g02.get(0), TOL1, "grad argnums(0,2)[0]");
    assertClose(gc, g02.get(1), TOL1, "grad argnums(0,2)[1]");

    List<Tensor> g20 = grad(f, argnums(2, 0)).applyTensors(a, b, c);
    assertClose(gc, g20.get(0), TOL1, "grad argnums(2,0)[0]");
    assertClose(ga, g20.get(1), TOL1, "grad argnums(2,0)[1]");

    List<Tensor> gAll = grad(f, argnums(0, 1, -1)).applyTensors(a, b, c);
    assertClose(ga, gAll.get(0), TOL1, "argnums(0,1,-1)[0]");
    assertClose(gb, gAll.get(1), TOL1, "argnums(0,1,-1)[1]");
    assertClose(gc, gAll.get(2), TOL1, "argnums(0,1,-1)[2]");

    // A one-element tuple gives a list; a plain index gives the tensor.
    Object single = grad(f, argnums(1)).apply(a, b, c);
    assertInstanceOf(Tensor.class, single);
    Object tuple = grad(f, Argnums.of(1, new int[0])).apply(a, b, c);
    assertInstanceOf(List.class, tuple);
    assertClose(gb, (Tensor) ((List<?>) tuple).get(0), TOL1, "argnums tuple of one");

    // jacrev / jacfwd with several argnums on a vector function
    Fn3 vf = (x, y, z) -> x.tanh().matmul(y).mul(z.exp());  // [2]
    List<Tensor> jr = jacrev(vf, argnums(0, 2)).applyTensors(a, b, c);
    List<Tensor> jf = jacfwd(vf, argnums(0, 2)).applyTensors(a, b, c);
    Tensor ja = fdJac(x -> vf.apply(x, b, c), a, H1), jc = fdJac(z -> vf.apply(a, b, z), c, H1);
    assertClose(ja, jr.get(0), TOL1, "jacrev argnums[0]");
    assertClose(jc, jr.get(1), TOL1, "jacrev argnums[1]");
    assertClose(ja, jf.get(0), TOL1, "jacfwd argnums[0]");
    assertClose(jc, jf.get(1), TOL1, "jacfwd argnums[1]");
  }

  // ================================================================== hasAux and gradAndValue

  @Test
  @SuppressWarnings("unchecked")
  void hasAuxForEveryTransform() {
    Tensor w = w34(), x = data(0.5, 4), t = data(1.5, 4);
    Fn1 sf = xx -> scalarFn(xx, w);
    FnN withAux = args -> {
      Tensor xx = (Tensor) args[0];
      return List.of(sf.apply(xx), Map.of("tanh", xx.tanh(), "label", "kept"));
    };
    Tensor gRef = fdJac(sf, x, H1);

    List<Object> g = (List<Object>) grad(withAux, argnums(0).withAux()).apply(x);
    assertClose(gRef, (Tensor) g.get(0), TOL1, "grad withAux: grad");
    Map<String, Object> aux = (Map<String, Object>) g.get(1);
    assertBitwise(x.tanh(), (Tensor) aux.get("tanh"), "grad aux");
    assertEquals("kept", aux.get("label"));
    // aux is a plain tensor after the transform: usable in ops
    assertClose(x.tanh().mul(2.0), ((Tensor) aux.get("tanh")).mul(2.0), 1e-15, "aux usable");

    VjpResult v = vjpWithAux(withAux, x);
    assertBitwise(x.tanh(), (Tensor) ((Map<String, Object>) v.aux()).get("tanh"), "vjp aux");
    assertClose(gRef, v.applyTensor(Tensor.scalar(1.0, DType.FLOAT64)), TOL1, "vjp withAux pullback");
    assertEquals(sf.apply(x).item(), v.output().item(), 1e-15);

    JvpResult j = jvpWithAux(withAux, List.of(x), List.of(t));
    assertBitwise(x.tanh(), (Tensor) ((Map<String, Object>) j.aux()).get("tanh"), "jvp aux");
    assertEquals(gRef.mul(t).sum().item(), j.tangent().item(), 1e-7);

    // jacrev / jacfwd with aux on a vector function
    Tensor idx = idx();
    FnN vecAux = args -> {
      Tensor xx = (Tensor) args[0];
      return List.of(vecFn(xx, w, idx), xx.exp());
    };
    Tensor jRef = fdJac(xx -> vecFn(xx, w, idx), x, H1);
    List<Object> jr = (List<Object>) jacrev(vecAux, argnums(0).withAux()).apply(x);
    assertClose(jRef, (Tensor) jr.get(0), TOL1, "jacrev withAux: jacobian");
    assertBitwise(x.exp(), (Tensor) jr.get(1), "jacrev aux");
    List<Object> jf = (List<Object>) jacfwd(vecAux, argnums(0).withAux()).apply(x);
    assertClose(jRef, (Tensor) jf.get(0), TOL1, "jacfwd withAux: jacobian");
    assertBitwise(x.exp(), (Tensor) jf.get(1), "jacfwd aux");
  }

  @Test
  @SuppressWarnings("unchecked")
  void gradAndValueWithAndWithoutAux() {
    Tensor w = w34(), x = data(0.5, 4);
    Fn1 sf = xx -> scalarFn(xx, w);
    FnN f = args -> sf.apply((Tensor) args[0]);
    List<Object> gv = (List<Object>) gradAndValue(f, argnums(0)).apply(x);
    assertClose(fdJac(sf, x, H1), (Tensor) gv.get(0), TOL1, "gradAndValue grad");
    assertEquals(sf.apply(x).item(), ((Tensor) gv.get(1)).item(), 1e-15, "gradAndValue value");

    FnN fa = args -> List.of(sf.apply((Tensor) args[0]), ((Tensor) args[0]).sin());
    List<Object> gva = (List<Object>) gradAndValue(fa, argnums(0).withAux()).apply(x);
    List<Object> value = (List<Object>) gva.get(1);
    assertClose(fdJac(sf, x, H1), (Tensor) gva.get(0), TOL1, "gradAndValue withAux grad");
    assertEquals(sf.apply(x).item(), ((Tensor) value.get(0)).item(), 1e-15);
    assertBitwise(x.sin(), (Tensor) value.get(1), "gradAndValue aux");
  }

  // ================================================================== vmap options

  @Test
  @SuppressWarnings("unchecked")
  void inDimsNullAndPytreeSpecsAndOutDims() {
    Tensor w = w34();
    Map<String, Tensor> p = new LinkedHashMap<>();
    p.put("a", data(0.1, 3, 5));  // mapped at dim 1
    p.put("b", data(0.2, 4));     // not mapped
    List<Tensor> pair = List.of(data(0.3, 5, 4), data(0.4, 4));  // [mapped at 0, not mapped]
    FnN f = args -> {
      Map<String, Tensor> m = (Map<String, Tensor>) args[0];
      List<Tensor> l = (List<Tensor>) args[1];
      Tensor scale = (Tensor) args[2];
      Tensor y = w.matmul(l.get(0).mul(m.get("b")).add(l.get(1))).tanh().mul(m.get("a"));  // [3]
      return List.of(y.mul(scale), y.softmax(0).unsqueeze(1).mul(l.get(0).unsqueeze(0)));  // [3], [3, 4]
    };
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("b", null);  // key order different from the argument's: matched by key
    spec.put("a", 1);
    Tensor scale = Tensor.scalar(1.5, DType.FLOAT64);
    List<Tensor> out = vmap(f, inDims(spec, listOf(0, null), null).outDims(List.of(1, 0))).applyTensors(p, pair, scale);
    assertArrayEquals(new long[] {3, 5}, out.get(0).shape());     // batch at dim 1
    assertArrayEquals(new long[] {5, 3, 4}, out.get(1).shape());  // batch at dim 0
    for (int b = 0; b < 5; b++) {
      Map<String, Tensor> pb = new LinkedHashMap<>();
      pb.put("a", p.get("a").select(1, b));
      pb.put("b", p.get("b"));
      List<Tensor> ref = Pytree.leaves(f.apply(pb, List.of(pair.get(0).get(b), pair.get(1)), scale));
      assertClose(ref.get(0), out.get(0).select(1, b), 1e-14, "outDims 1, example " + b);
      assertClose(ref.get(1), out.get(1).get(b), 1e-14, "outDims 0, example " + b);
    }
    // a single Integer outDims applies to every output; negative dims count from the end
    List<Tensor> last = vmap(f, inDims(spec, listOf(0, null), null).outDims(-1)).applyTensors(p, pair, scale);
    assertArrayEquals(new long[] {3, 5}, last.get(0).shape());
    assertArrayEquals(new long[] {3, 4, 5}, last.get(1).shape());
    assertBitwise(out.get(1).permute(1, 2, 0), last.get(1).contiguous(), "outDims -1");
  }

  private static List<Object> listOf(Object... xs) {
    List<Object> l = new ArrayList<>();
    for (Object o : xs) l.add(o);
    return l;
  }

  @Test
  void chunkSizeGivesTheSameResults() {
    Tensor w = w34(), idx = idx(), xs = data(1.2, 7, 4);
    Fn1 f = x -> vecFn(x, w, idx);
    Tensor whole = vmap(f).apply(xs);
    for (int c : new int[] {1, 2, 3, 7, 100}) {
      assertClose(whole, vmap(f, VmapOptions.inDims(0).chunkSize(c)).apply(xs), 1e-14, "vmap chunkSize " + c);
      Tensor mOut = vmap(f, VmapOptions.inDims(0).outDims(1).chunkSize(c)).apply(xs);
      assertClose(whole.t().contiguous(), mOut.contiguous(), 1e-14, "vmap chunkSize " + c + " outDims 1");
    }
    Tensor x = xs.get(0);
    FnN fn = a -> f.apply((Tensor) a[0]);
    Tensor jr = jacrev(fn, argnums(0)).applyTensor(x), jf = jacfwd(fn, argnums(0)).applyTensor(x);
    for (int c : new int[] {1, 2, 3}) {
      assertClose(jr, jacrev(fn, argnums(0).chunkSize(c)).applyTensor(x), 1e-14, "jacrev chunkSize " + c);
      assertClose(jf, jacfwd(fn, argnums(0).chunkSize(c)).applyTensor(x), 1e-14, "jacfwd chunkSize " + c);
    }
    assertClose(fdJac(f, x, H1), jr, TOL1, "jacrev");
  }

  @Test
  void randomness() {
    Tensor xs = Tensor.zeros(DType.FLOAT64, 4, 3);
    Fn1 noisy = x -> x.add(Tensor.randn(DType.FLOAT64, 3));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> vmap(noisy).apply(xs));
    assertTrue(e.getMessage().contains("randomness"), e.getMessage());

    Adjoint.manualSeed(7);
    Tensor same = vmap(noisy, VmapOptions.inDims(0).randomness(Randomness.SAME)).apply(xs);
    Adjoint.manualSeed(7);
    Tensor expectedRow = Tensor.randn(DType.FLOAT64, 3);  // one draw shared by every example
    for (int b = 0; b < 4; b++) assertBitwise(expectedRow, same.get(b), "SAME row " + b);

    Adjoint.manualSeed(7);
    Tensor diff = vmap(noisy, VmapOptions.inDims(0).randomness(Randomness.DIFFERENT)).apply(xs);
    assertArrayEquals(new long[] {4, 3}, diff.shape());
    double[][] rows = new double[4][];
    for (int b = 0; b < 4; b++) rows[b] = diff.get(b).toDoubleArray();
    for (int a = 0; a < 4; a++)
      for (int b = a + 1; b < 4; b++)
        for (int k = 0; k < 3; k++) assertNotEquals(rows[a][k], rows[b][k], "DIFFERENT rows " + a + " and " + b);

    // chunkSize must not change the meaning: SAME still shares one draw across all chunks,
    // DIFFERENT still gives every example its own
    Adjoint.manualSeed(7);
    Tensor sameChunked = vmap(noisy, VmapOptions.inDims(0).chunkSize(2).randomness(Randomness.SAME)).apply(xs);
    for (int b = 0; b < 4; b++) assertBitwise(expectedRow, sameChunked.get(b), "SAME chunkSize 2, row " + b);
    Tensor diffChunked = vmap(noisy, VmapOptions.inDims(0).chunkSize(2).randomness(Randomness.DIFFERENT)).apply(xs);
    for (int a = 0; a < 4; a++)
      for (int b = a + 1; b < 4; b++)
        assertNotEquals(diffChunked.get(a).toDoubleArray()[0], diffChunked.get(b).toDoubleArray()[0], "DIFFERENT chunked " + a + ", " + b);
    // jacfwd's vectorised pass with randomness SAME and chunks: one shared noise for every basis vector
    Fn1 noisyLinear = x -> x.mul(Tensor.randn(DType.FLOAT64, 3));
    Adjoint.manualSeed(11);
    Tensor jNoise = jacfwd(noisyLinear.asFnN(), argnums(0).randomness(Randomness.SAME).chunkSize(1)).applyTensor(xs.get(0).add(1.0));
    Adjoint.manualSeed(11);
    Tensor noise = Tensor.randn(DType.FLOAT64, 3);
    assertClose(Tensor.eye(3, 3, DType.FLOAT64).mul(noise), jNoise, 0.0, "jacfwd SAME chunked = diag(noise)");

    // Nested: DIFFERENT inside SAME differs along the inner batch only.
    Tensor grid = Tensor.zeros(DType.FLOAT64, 2, 5, 3);
    Tensor r = vmap(vmap(noisy, VmapOptions.inDims(0).randomness(Randomness.DIFFERENT)),
        VmapOptions.inDims(0).randomness(Randomness.SAME)).apply(grid);
    assertBitwise(r.get(0), r.get(1), "SAME outer level");
    assertNotEquals(r.get(0).get(0).toDoubleArray()[0], r.get(0).get(1).toDoubleArray()[0]);
  }

  // ================================================================== jacobian, linearize, hvp/vhp pytrees

  @Test
  void jacobianPicksReverseForWideAndForwardForTall() {
    Tensor wWide = data(0.1, 2, 6), wTall = data(0.2, 6, 2);
    AtomicInteger calls = new AtomicInteger();
    Fn1 wide = x -> {
      calls.incrementAndGet();
      return wWide.matmul(x.sin()).tanh().mul(x.slice(0, 0, 2).exp());  // R^6 -> R^2
    };
    Fn1 tall = x -> {
      calls.incrementAndGet();
      return wTall.matmul(x.tanh()).softmax(0).add(x.sum());            // R^2 -> R^6
    };
    Tensor xw = data(0.3, 6), xt = data(0.4, 2);

    calls.set(0);
    Tensor jw = jacobian(wide).apply(xw);
    assertEquals(1, calls.get(), "wide: reverse mode reuses the vjp's forward pass (one call)");
    calls.set(0);
    Tensor jt = jacobian(tall).apply(xt);
    assertEquals(2, calls.get(), "tall: forward mode (one probing forward pass, one vectorised jvp)");

    assertArrayEquals(new long[] {2, 6}, jw.shape());
    assertArrayEquals(new long[] {6, 2}, jt.shape());
    assertClose(jacrev(wide).apply(xw), jw, 1e-14, "jacobian wide == jacrev");
    assertClose(jacrev(tall).apply(xt), jt, 1e-14, "jacobian tall == jacrev");
    assertClose(fdJac(wide, xw, H1), jw, TOL1, "jacobian wide");
    assertClose(fdJac(tall, xt, H1), jt, TOL1, "jacobian tall");
  }

  @Test
  void linearize() {
    Tensor w = w34(), idx = idx(), x = data(0.6, 4);
    Fn1 f = xx -> vecFn(xx, w, idx);
    Linearized lin = Func.linearize(f, x);
    assertBitwise(f.apply(x), lin.output(), "linearize output");
    for (double seed : new double[] {1.0, 2.0, 3.0}) {
      Tensor t = data(seed, 4);
      assertClose(fdDir(f, x, t), lin.jvpFn().apply(t), TOL1, "linearize jvpFn " + seed);
    }
    // linear in t
    Tensor t1 = data(1.0, 4), t2 = data(2.0, 4);
    assertClose(lin.jvpFn().apply(t1).mul(2.0).add(lin.jvpFn().apply(t2)), lin.jvpFn().apply(t1.mul(2.0).add(t2)), 1e-12, "linear");
  }

  static Tensor treeLoss(Map<String, Tensor> p, Tensor x) {
    return p.get("w").matmul(x.tanh()).add(p.get("b")).softmax(0).mul(x.slice(0, 0, 3).exp()).sum()
        .add(p.get("b").mul(x.slice(0, 1, 4)).sin().sum());
  }

  @Test
  @SuppressWarnings("unchecked")
  void hvpAndVhpWithPytrees() {
    Map<String, Tensor> p = new LinkedHashMap<>();
    p.put("w", data(0.1, 3, 4));
    p.put("b", data(0.2, 3));
    Tensor x = data(0.3, 4);
    Map<String, Tensor> vp = new LinkedHashMap<>();
    vp.put("w", data(1.1, 3, 4));
    vp.put("b", data(1.2, 3));
    Tensor vx = data(1.3, 4);
    FnN f = a -> treeLoss((Map<String, Tensor>) a[0], (Tensor) a[1]);

    double[] ref = fdHvp(tree -> {
      List<Object> l = (List<Object>) tree;
      return treeLoss((Map<String, Tensor>) l.get(0), (Tensor) l.get(1)).item();
    }, List.of(p, x), List.of(vp, vx));

    List<Object> hv = (List<Object>) hvp(f, List.of(p, x), List.of(vp, vx));
    assertEquals(List.of("w", "b"), new ArrayList<>(((Map<String, Tensor>) hv.get(0)).keySet()));
    assertClose(ref, Flat.values(hv), TOL2, "hvp pytree");

    List<Object> vh = vhp(f, List.of(p, x), List.of(vp, vx));
    assertClose(ref, Flat.values(vh), TOL2, "vhp pytree (H symmetric)");
  }
}
