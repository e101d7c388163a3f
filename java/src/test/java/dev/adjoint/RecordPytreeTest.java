package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Records are pytrees (components in declaration order, rebuilt through the canonical
 * constructor, non-tensor components passed through), classes registered with
 * {@link Pytree#register} are too, and any other object that holds tensors is refused as an
 * argument or result of a transform, naming its class and where. Gradients are checked against
 * central finite differences in float64.
 */
class RecordPytreeTest extends ScopedTest {
  record Params(Tensor w, Tensor b) {}

  record Layer(Tensor w, String activation, double scale) {}

  record Tagged(Tensor y, String tag) {}

  record Checkpoint(Params params, int epoch) {}

  record Wrapper(Holder params) {}

  record WithConfig(Tensor w, Config config) {}

  /** Not a record and not registered, holding a tensor: refused. */
  static final class Holder {
    final Tensor w;

    Holder(Tensor w) {
      this.w = w;
    }
  }

  /** Holds a tensor two objects deep. */
  static final class Deep {
    final List<Object> layers;

    Deep(Tensor w) {
      layers = List.of(new Holder(w));
    }
  }

  /** Holds no tensor: a constant. */
  static final class Config {
    final int n = 3;
    final StringBuilder note = new StringBuilder("config");
  }

  /** Registered with Pytree.register (once, for every test). */
  static final class Model {
    final Tensor w, b;
    final String name;

    Model(Tensor w, Tensor b, String name) {
      this.w = w;
      this.b = b;
      this.name = name;
    }
  }

  static {
    Pytree.register(Model.class, m -> List.of(m.w, m.b, m.name), k -> new Model((Tensor) k.get(0), (Tensor) k.get(1), (String) k.get(2)));
  }

  private static final double[] W = {0.3, -0.2, 0.5, 0.1, 0.4, -0.6}, B = {0.05, -0.1}, X = {0.7, -1.2, 0.4}, Y = {0.2, -0.3};

  private static Tensor t(double[] v, long... shape) {
    return Tensor.fromArray(v, shape);
  }

  private static Params params() {
    return new Params(t(W, 2, 3), t(B, 2));
  }

  /** mean((tanh(x W^T + b) - y)^2) */
  static Tensor loss(Params p, Tensor x, Tensor y) {
    return x.linear(p.w(), p.b()).tanh().sub(y).pow(2.0).mean();
  }

  private static final FnN LOSS = a -> loss((Params) a[0], (Tensor) a[1], (Tensor) a[2]);

  /** The loss at parameters (w, b) given as arrays, in plain arithmetic on tensors outside any transform. */
  private static double lossAt(double[] w, double[] b) {
    try (Scope s = Scope.open()) {
      return loss(new Params(t(w, 2, 3), t(b, 2)), t(X, 3), t(Y, 2)).item();
    }
  }

  /** Central differences of f at x along each coordinate. */
  private static double[] fd(ToDoubleFunction<double[]> f, double[] x) {
    double h = 1e-6;
    double[] g = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double[] p = x.clone(), m = x.clone();
      p[i] += h;
      m[i] -= h;
      g[i] = (f.applyAsDouble(p) - f.applyAsDouble(m)) / (2 * h);
    }
    return g;
  }

  private static void close(double[] expected, Tensor got, double tol, String what) {
    double[] g = got.toDoubleArray();
    assertEquals(expected.length, g.length, what);
    for (int i = 0; i < g.length; i++) assertEquals(expected[i], g[i], tol * Math.max(1, Math.abs(expected[i])), what + "[" + i + "]");
  }

  // ------------------------------------------------------------------ records through the transforms

  @Test
  void gradOfAFunctionOfARecordIsARecordOfGradients() {
    Object g = grad(LOSS).apply(params(), t(X, 3), t(Y, 2));
    Params pg = assertInstanceOf(Params.class, g);
    assertArrayEquals(new long[] {2, 3}, pg.w().shape());
    close(fd(w -> lossAt(w, B), W), pg.w(), 1e-8, "dL/dw");
    close(fd(b -> lossAt(W, b), B), pg.b(), 1e-8, "dL/db");
  }

  @Test
  void nonTensorComponentsPassThroughUnchanged() {
    Layer l = new Layer(t(W, 2, 3), "tanh", 0.5);
    FnN f = a -> {
      Layer in = (Layer) a[0];
      return in.w().tanh().sum().mul(in.scale());
    };
    Layer g = (Layer) grad(f).apply(l);
    assertSame(l.activation(), g.activation());
    assertEquals(0.5, g.scale());
    double[] expected = new double[W.length];
    for (int i = 0; i < W.length; i++) expected[i] = 0.5 * (1 - Math.tanh(W[i]) * Math.tanh(W[i]));
    close(expected, g.w(), 1e-14, "d/dw");
    // records nest, with constants at any level; a constant object without tensors is no error
    FnN ofCheckpoint = a -> loss(((Checkpoint) a[0]).params(), t(X, 3), t(Y, 2));
    Checkpoint c = (Checkpoint) grad(ofCheckpoint).apply(new Checkpoint(params(), 7));
    assertEquals(7, c.epoch());
    close(fd(w -> lossAt(w, B), W), c.params().w(), 1e-8, "nested dL/dw");
    Config cfg = new Config();
    FnN ofConfigured = a -> ((WithConfig) a[0]).w().sum();
    WithConfig wc = (WithConfig) grad(ofConfigured).apply(new WithConfig(t(W, 2, 3), cfg));
    assertSame(cfg, wc.config());
  }

  @Test
  void perSampleGradientsOfARecordUnderVmap() {
    double[] xs = {0.7, -1.2, 0.4, -0.3, 0.8, 1.1, 0.0, 0.5, -0.9}, ys = {0.2, -0.3, 0.1, 0.4, -0.5, 0.0};
    Params g = (Params) vmap(grad(LOSS), inDims(null, 0, 0)).apply(params(), t(xs, 3, 3), t(ys, 3, 2));
    assertArrayEquals(new long[] {3, 2, 3}, g.w().shape());
    assertArrayEquals(new long[] {3, 2}, g.b().shape());
    for (int i = 0; i < 3; i++) {
      Params one = (Params) grad(LOSS).apply(params(), t(xs, 3, 3).get(i), t(ys, 3, 2).get(i));
      close(one.w().toDoubleArray(), g.w().get(i), 1e-14, "example " + i + " w");
      close(one.b().toDoubleArray(), g.b().get(i), 1e-14, "example " + i + " b");
    }
  }

  @Test
  void vmapMapsARecordArgumentWholeOrPerComponent() {
    FnN f = a -> {
      Params p = (Params) a[0];
      return p.w().sum().add(p.b().sum());
    };
    Tensor ws = Tensor.arange(0, 12, 1, DType.FLOAT64).reshape(2, 2, 3), bs = Tensor.of(1.0, 2.0, 3.0, 4.0).reshape(2, 2);
    // the whole record mapped over dim 0 of each component
    close(new double[] {15 + 3, 51 + 7}, (Tensor) vmap(f).apply(new Params(ws, bs)), 0, "inDims(0)");
    // per component, in declaration order: w mapped, b not
    Tensor b = Tensor.of(10.0, 20.0);
    close(new double[] {15 + 30, 51 + 30}, (Tensor) vmap(f, inDims(Arrays.asList(0, null))).apply(new Params(ws, b)), 0, "inDims([0, null])");
    // a record result: tensors batched, the tag passed through
    FnN tagged = a -> new Tagged(((Tensor) a[0]).mul(2.0), "doubled");
    Tagged r = (Tagged) vmap(tagged).apply(bs);
    assertEquals("doubled", r.tag());
    close(new double[] {2, 4, 6, 8}, r.y(), 0, "record result");
    // a spec that does not match the record names the argument
    AdjointArgumentException e = assertThrows(AdjointArgumentException.class,
        () -> vmap(f, inDims(List.of(0, 0, 0))).apply(new Params(ws, bs)));
    assertTrue(e.getMessage().startsWith("vmap: inDims"), e.getMessage());
  }

  /** tanh(x W^T + b) as a function of the parameters: output [2]. */
  private static final FnN PREDICT = a -> {
    Params p = (Params) a[0];
    return Tensor.fromArray(X, 3).linear(p.w(), p.b()).tanh();
  };

  private static double predictAt(double[] w, double[] b, int out) {
    try (Scope s = Scope.open()) {
      return t(X, 3).linear(t(w, 2, 3), t(b, 2)).tanh().toDoubleArray()[out];
    }
  }

  @Test
  void jacrevJacfwdVjpAndJvpOfARecordArgument() {
    Params jr = (Params) jacrev(PREDICT, argnums(0)).apply(params());
    Params jf = (Params) jacfwd(PREDICT, argnums(0)).apply(params());
    assertArrayEquals(new long[] {2, 2, 3}, jr.w().shape());
    assertArrayEquals(new long[] {2, 2}, jr.b().shape());
    for (int o = 0; o < 2; o++) {
      int out = o;
      close(fd(w -> predictAt(w, B, out), W), jr.w().get(o), 1e-8, "jacrev w row " + o);
      close(fd(b -> predictAt(W, b, out), B), jr.b().get(o), 1e-8, "jacrev b row " + o);
    }
    close(jr.w().toDoubleArray(), jf.w(), 1e-14, "jacfwd w");
    close(jr.b().toDoubleArray(), jf.b(), 1e-14, "jacfwd b");
    // vjp: the cotangent of a record primal is a record
    Tensor ct = Tensor.of(1.5, -0.5);
    Params pulled = (Params) vjp(PREDICT, params()).apply(ct).get(0);
    close(ct.unsqueeze(0).matmul(jr.w().reshape(2, 6)).toDoubleArray(), pulled.w().reshape(6), 1e-14, "vjp w");
    close(ct.unsqueeze(0).matmul(jr.b()).toDoubleArray(), pulled.b(), 1e-14, "vjp b");
    // jvp: a record tangent for a record primal
    Params dir = new Params(Tensor.fromArray(new double[] {1, 0, -1, 0.5, 0, 2}, 2, 3), Tensor.of(0.25, -1.0));
    Tensor jt = jvp(PREDICT, List.of(params()), List.of(dir)).tangent();
    Tensor expected = jr.w().reshape(2, 6).matmul(dir.w().reshape(6)).add(jr.b().matmul(dir.b()));
    close(expected.toDoubleArray(), jt, 1e-14, "jvp");
    // a tangent of another structure is refused
    AdjointArgumentException e = assertThrows(AdjointArgumentException.class,
        () -> jvp(PREDICT, List.of(params()), List.of(List.of(dir.w(), dir.b()))));
    assertTrue(e.getMessage().contains("does not match the structure of primal 0"), e.getMessage());
  }

  @Test
  void hessianOfAFunctionOfARecord() {
    // d/dp (dL/dp): the inner record holds a pytree where Params declares a Tensor, so the outer
    // level is a map from component name to Params (Pytree's documented fallback)
    FnN l = a -> loss((Params) a[0], t(X, 3), t(Y, 2));
    Map<?, ?> h = assertInstanceOf(Map.class, hessian(l, argnums(0)).apply(params()));
    assertEquals(List.of("w", "b"), List.copyOf(h.keySet()));
    Params hw = (Params) h.get("w"), hb = (Params) h.get("b");
    assertArrayEquals(new long[] {2, 3, 2, 3}, hw.w().shape());
    assertArrayEquals(new long[] {2, 3, 2}, hw.b().shape());
    assertArrayEquals(new long[] {2, 2, 3}, hb.w().shape());
    assertArrayEquals(new long[] {2, 2}, hb.b().shape());
    // rows of the Hessian: finite differences of the (checked) gradient
    for (int i = 0; i < W.length; i++) {
      int k = i;
      double[] row = fd(w -> gradAt(w, B).w().toDoubleArray()[k], W);
      close(row, hw.w().reshape(6, 6).get(i), 1e-6, "H_ww row " + i);
      double[] cross = fd(b -> gradAt(W, b).w().toDoubleArray()[k], B);
      close(cross, hw.b().reshape(6, 2).get(i), 1e-6, "H_wb row " + i);
    }
    for (int j = 0; j < B.length; j++) {
      int k = j;
      close(fd(b -> gradAt(W, b).b().toDoubleArray()[k], B), hb.b().get(j), 1e-6, "H_bb row " + j);
      close(fd(w -> gradAt(w, B).b().toDoubleArray()[k], W), hb.w().get(j).reshape(6), 1e-6, "H_bw row " + j);
    }
  }

  private static Params gradAt(double[] w, double[] b) {
    return (Params) Scope.run(() -> grad(LOSS).apply(new Params(t(w, 2, 3), t(b, 2)), t(X, 3), t(Y, 2)));
  }

  // ------------------------------------------------------------------ registered classes

  @Test
  void aRegisteredClassIsAPytree() {
    Model m = new Model(t(W, 2, 3), t(B, 2), "mlp");
    FnN l = a -> {
      Model in = (Model) a[0];
      return loss(new Params(in.w, in.b), t(X, 3), t(Y, 2));
    };
    Model g = assertInstanceOf(Model.class, grad(l).apply(m));
    assertEquals("mlp", g.name);
    close(fd(w -> lossAt(w, B), W), g.w, 1e-8, "dL/dw");
    close(fd(b -> lossAt(W, b), B), g.b, 1e-8, "dL/db");
    assertEquals(List.of(m.w, m.b), Pytree.leaves(m));
    // under vmap: mapped whole, rebuilt by its unflatten function
    Model batched = new Model(t(W, 2, 3).unsqueeze(0).expand(4, 2, 3), t(B, 2).unsqueeze(0).expand(4, 2), "mlp");
    FnN twice = a -> {
      Model in = (Model) a[0];
      return new Model(in.w.mul(2.0), in.b.mul(2.0), in.name + "x2");
    };
    Model doubled = (Model) vmap(twice).apply(batched);
    assertArrayEquals(new long[] {4, 2, 3}, doubled.w.shape());
    assertEquals("mlpx2", doubled.name);
  }

  @Test
  void scopesKeepTheTensorsOfRecordsAndRegisteredNodes() {
    Params p;
    Model m;
    try (Scope s = Scope.open()) {
      p = s.keep(new Params(Tensor.ones(2), Tensor.zeros(1)));
      m = s.keep(new Model(Tensor.ones(2), Tensor.zeros(1), "kept"));
    }
    assertFalse(p.w().isClosed() || p.b().isClosed() || m.w.isClosed() || m.b.isClosed());
    Params q = Scope.run(() -> new Params(Tensor.ones(3), Tensor.ones(3)));
    assertEquals(3.0, q.w().sum().item());
  }

  @Test
  void registeringIsRefusedForPytreesAndTwice() {
    for (Class<?> c : List.of(Params.class, Model.class, List.class, Tensor.class, Object[].class)) {
      @SuppressWarnings("unchecked")
      Class<Object> k = (Class<Object>) c;
      AdjointArgumentException e = assertThrows(AdjointArgumentException.class, () -> Pytree.register(k, o -> List.of(), x -> null), c::getName);
      assertTrue(e.getMessage().startsWith("Pytree.register: " + c.getName() + " cannot be registered"), e.getMessage());
    }
  }

  // ------------------------------------------------------------------ other objects holding tensors

  private static void refused(String message, Executable call) {
    AdjointArgumentException e = assertThrows(AdjointArgumentException.class, call);
    assertEquals(message, e.getMessage());
  }

  @Test
  void anObjectHoldingTensorsIsRefusedNamingItsClassAndPlace() {
    Tensor w = t(W, 2, 3);
    String holder = Holder.class.getName(), fix = "; make it a record or register its class with Pytree.register";
    FnN sumW = a -> w.sum();
    refused("grad: argument 0 is a " + holder + " holding tensors (a tensor at .w)" + fix, () -> grad(sumW).apply(new Holder(w)));
    refused("grad: argument 0.params is a " + holder + " holding tensors (a tensor at .w)" + fix,
        () -> grad(sumW).apply(new Wrapper(new Holder(w))));
    refused("grad: argument 0[\"model\"] is a " + Deep.class.getName() + " holding tensors (a tensor at .layers[0].w)" + fix,
        () -> grad(sumW).apply(Map.of("model", new Deep(w))));
    refused("vjp: primal 0[1] is a " + holder + " holding tensors (a tensor at .w)" + fix, () -> vjp(sumW, List.of(w, new Holder(w))));
    refused("jvp: primal 0 is a " + holder + " holding tensors (a tensor at .w)" + fix,
        () -> jvp(sumW, List.of(new Holder(w)), List.of(new Holder(w))));
    refused("vmap: argument 0 is a " + holder + " holding tensors (a tensor at .w)" + fix, () -> vmap(sumW).apply(new Holder(w)));
    refused("jacrev: argument 0 is a " + holder + " holding tensors (a tensor at .w)" + fix,
        () -> jacrev(sumW, argnums(0)).apply(new Holder(w)));
    refused("jacfwd: argument 0 is a " + holder + " holding tensors (a tensor at .w)" + fix,
        () -> jacfwd(sumW, argnums(0)).apply(new Holder(w)));
    // as a result
    refused("vmap: output is a " + holder + " holding tensors (a tensor at .w)" + fix,
        () -> vmap((FnN) a -> new Holder(((Tensor) a[0]).mul(2.0))).apply(w));
    refused("jacrev: output[1] is a " + holder + " holding tensors (a tensor at .w)" + fix,
        () -> jacrev(a -> List.of(((Tensor) a[0]).sin(), new Holder(w)), argnums(0)).apply(w));
    refused("jvp: output.y is a " + holder + " holding tensors (a tensor at .w)" + fix,
        () -> jvp(a -> new Wrapper2(new Holder(w)), List.of(w), List.of(w)));
    // a collection that is no list
    Set<Tensor> set = new HashSet<>(List.of(w));
    refused("grad: argument 0 is a java.util.HashSet holding tensors (a tensor at [0]); pytrees hold tensors in lists, maps, arrays,"
        + " records and registered classes", () -> grad(sumW).apply(set));
    // the public walks refuse it too
    refused("pytree: tree[0] is a " + holder + " holding tensors (a tensor at .w)" + fix, () -> Pytree.leaves(List.of(new Holder(w))));
  }

  record Wrapper2(Holder y) {}

  @Test
  void auxValuesMayHoldAnything() {
    Tensor w = t(W, 2, 3);
    Holder h = new Holder(w);
    List<?> r = (List<?>) grad(a -> List.of(((Tensor) a[0]).sum(), h), argnums(0).withAux()).apply(w);
    assertSame(h, r.get(1));
    close(new double[] {1, 1, 1, 1, 1, 1}, (Tensor) r.get(0), 0, "grad");
  }

  // ------------------------------------------------------------------ results that are no tensors

  @Test
  void aResultThatIsNoTensorIsAnErrorNamingTheTransform() {
    Tensor x = Tensor.of(0.5, -1.0);
    for (Object bad : new Object[] {1.5, "loss"}) {
      FnN f = a -> bad;
      Map<String, Executable> calls = Map.of(
          "vmap", () -> vmap(f).apply(x.unsqueeze(0)),
          "grad", () -> grad(f).apply(x),
          "jacrev", () -> jacrev(f, argnums(0)).apply(x),
          "jacfwd", () -> jacfwd(f, argnums(0)).apply(x),
          "vjp", () -> vjp(f, x),
          "jvp", () -> jvp(f, List.of(x), List.of(x)));
      calls.forEach((name, call) -> {
        AdjointArgumentException e = assertThrows(AdjointArgumentException.class, call, name);
        assertTrue(e.getMessage().startsWith(name + ": "), () -> name + ": " + e.getMessage());
        assertTrue(e.getMessage().contains(bad.getClass().getSimpleName() + " " + bad), () -> name + ": " + e.getMessage());
        assertEquals(name, e.op());
      });
      AdjointArgumentException e = assertThrows(AdjointArgumentException.class, () -> hessian(f, argnums(0)).apply(x));
      assertTrue(e.getMessage().startsWith("jacrev: "), e.getMessage());  // hessian = jacfwd(jacrev): the inner one sees it first
    }
  }
}
