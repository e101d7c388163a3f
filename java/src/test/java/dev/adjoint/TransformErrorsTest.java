package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Misused transforms: every bad input gives a typed exception whose message starts with the
 * transform's (or op's) name and names the argument and the shapes at fault; never a crash, never
 * a silently wrong number; and the thread's transform level stack and scopes are left clean.
 */
class TransformErrorsTest extends ScopedTest {

  @AfterEach
  void checkClean() {
    assertClean();
  }

  private void assertClean() {
    assertEquals(0, NativeCore.adj_level_depth(), "transform levels left on this thread's stack");
    assertSame(scope, Scope.current(), "a transform left a scope open");
  }

  /**
   * {@code body} must throw exactly {@code type} with a message starting with "{@code op}: " and
   * containing every fragment; afterwards the level stack is empty and transforms work again.
   */
  private <T extends Throwable> T fails(Class<T> type, String op, Executable body, String... fragments) {
    T e = throwsWith(type, op, body, fragments);
    assertClean();
    assertTransformsStillWork();
    return e;
  }

  /** Like {@link #fails} without the checks that only hold outside every transform. */
  private static <T extends Throwable> T throwsWith(Class<T> type, String op, Executable body, String... fragments) {
    T e = assertThrowsExactly(type, body, () -> op + " should throw " + type.getSimpleName());
    String msg = e.getMessage();
    assertTrue(msg != null && msg.startsWith(op + ": "), () -> "message does not start with '" + op + ": ': " + msg);
    for (String f : fragments) assertTrue(msg.contains(f), () -> "message lacks '" + f + "': " + msg);
    if (e instanceof AdjointArgumentException a) assertEquals(op, a.op(), () -> "op() of: " + msg);
    return e;
  }

  /** A correct nested transform after an error: closed-form check of d/dx sum(sin x) and H = diag(-sin x). */
  private static void assertTransformsStillWork() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.of(0.5, -1.0, 2.0);
      Fn1 f = v -> v.sin().sum();
      double[] g = grad(f).apply(x).toDoubleArray();
      double[] h = vmap(hessian(f)).apply(x.unsqueeze(0)).get(0).toDoubleArray();
      double[] xs = {0.5, -1.0, 2.0};
      for (int i = 0; i < 3; i++) {
        assertEquals(Math.cos(xs[i]), g[i], 1e-15);
        for (int j = 0; j < 3; j++) assertEquals(i == j ? -Math.sin(xs[i]) : 0.0, h[i * 3 + j], 1e-15);
      }
    }
    assertEquals(0, NativeCore.adj_level_depth());
  }

  private static Tensor f64(double... v) {
    return Tensor.of(v);
  }

  private static Tensor arange64(long... shape) {
    long n = 1;
    for (long s : shape) n *= s;
    double[] v = new double[(int) n];
    for (int i = 0; i < v.length; i++) v[i] = 0.1 * (i + 1);
    return Tensor.fromArray(v, shape);
  }

  // ================================================================== grad

  @Test
  void gradOfANonScalarOutput() {
    Tensor x = arange64(3);
    fails(ShapeMismatchException.class, "grad", () -> grad(v -> v.sin()).apply(x), "scalar", "tensor [3]");
    fails(ShapeMismatchException.class, "grad", () -> grad((FnN) a -> List.of(((Tensor) a[0]).sum(), ((Tensor) a[0]).sum())).apply(x),
        "scalar", "list of 2");
    // inside vmap the per-example shape is reported
    fails(ShapeMismatchException.class, "grad", () -> vmap(grad(v -> v.mul(2.0))).apply(arange64(4, 3)), "tensor [3]");
    fails(ShapeMismatchException.class, "gradAndValue", () -> gradAndValue((FnN) a -> a[0], argnums(0)).apply(x), "tensor [3]");
    // hasAux without a pair
    fails(AdjointArgumentException.class, "grad", () -> grad((FnN) a -> ((Tensor) a[0]).sum(), argnums(0).withAux()).apply(x),
        "hasAux", "List.of(output, aux)");
  }

  @Test
  void argnumsOutOfRangeAndRepeated() {
    Tensor a = arange64(3), b = arange64(3), c = arange64(3);
    FnN f = args -> ((Tensor) args[0]).mul((Tensor) args[1]).mul((Tensor) args[2]).sum();
    fails(InvalidIndexException.class, "grad", () -> grad(f, argnums(0, 3)).apply(a, b, c), "argnum 3", "3 argument(s)");
    fails(InvalidIndexException.class, "grad", () -> grad(f, argnums(-4)).apply(a, b, c), "argnum -4", "3 argument(s)");
    fails(InvalidIndexException.class, "grad", () -> grad((x, y) -> x.mul(y).sum(), 2).apply(a, b), "argnum 2", "2 argument(s)");
    fails(InvalidIndexException.class, "jacrev", () -> jacrev(f, argnums(5)).apply(a, b, c), "argnum 5");
    fails(InvalidIndexException.class, "jacfwd", () -> jacfwd(f, argnums(5)).apply(a, b, c), "argnum 5");
    fails(InvalidIndexException.class, "jacobian", () -> jacobian(f, argnums(5)).apply(a, b, c), "argnum 5");
    fails(AdjointArgumentException.class, "grad", () -> grad(f, argnums(1, 1)).apply(a, b, c), "argnum 1 repeated");
    // the same argument through a negative index
    fails(AdjointArgumentException.class, "jacrev", () -> jacrev(f, argnums(2, -1)).apply(a, b, c), "argnum -1 repeated");
    fails(AdjointArgumentException.class, "chunkSize", () -> argnums(0).chunkSize(0), "must be >= 1");
  }

  @Test
  void gradWithRespectToAnInt64Input() {
    Tensor n = Tensor.of(1L, 2L, 3L);
    Fn1 f = v -> v.to(DType.FLOAT64).sin().sum();
    fails(DTypeMismatchException.class, "grad", () -> grad(f).apply(n), "int64", "[3]");
    fails(DTypeMismatchException.class, "vjp", () -> vjp(f, n), "int64", "[3]");
    fails(DTypeMismatchException.class, "jacrev", () -> jacrev(f).apply(n), "int64", "[3]");
    fails(DTypeMismatchException.class, "jacfwd", () -> jacfwd(f).apply(n), "int64", "[3]");
    fails(DTypeMismatchException.class, "jvp", () -> jvp(f, n, n), "int64");
    // an int64 argument that is not differentiated is fine
    FnN g = a -> ((Tensor) a[0]).indexSelect(0, (Tensor) a[1]).sum();
    Tensor x = f64(1.0, 2.0, 3.0);
    assertArrayEquals(new double[] {1, 0, 2}, grad(g).applyTensor(x, Tensor.of(0L, 2L, 2L)).toDoubleArray());
  }

  // ================================================================== vmap

  @Test
  void vmapInDimsCountRangeAndStructure() {
    Tensor x = arange64(3, 4), y = arange64(3, 4);
    Fn2 add = Tensor::add;
    fails(AdjointArgumentException.class, "vmap", () -> vmap(add, inDims(0)).apply(x, y), "inDims has 1 entries", "2 argument(s)");
    fails(AdjointArgumentException.class, "vmap", () -> vmap(add, inDims(0, 0, 0)).apply(x, y), "inDims has 3 entries", "2 argument(s)");
    fails(InvalidIndexException.class, "vmap", () -> vmap(add, inDims(0, 2)).apply(x, y), "inDims 2", "argument 1", "[3, 4]");
    fails(InvalidIndexException.class, "vmap", () -> vmap(add, inDims(-3, 0)).apply(x, y), "inDims -3", "argument 0", "[3, 4]");
    fails(InvalidIndexException.class, "vmap", () -> vmap(v -> v.mul(2.0)).apply(Tensor.scalar(1.0, DType.FLOAT64)),
        "argument 0", "[]");

    Map<String, Tensor> p = new LinkedHashMap<>();
    p.put("w", arange64(3, 2));
    p.put("b", arange64(3));
    FnN f = a -> {
      @SuppressWarnings("unchecked")
      Map<String, Tensor> m = (Map<String, Tensor>) a[0];
      return m.get("w").sum().add(m.get("b").sum());
    };
    fails(AdjointArgumentException.class, "vmap", () -> vmap(f, inDims(List.of(0, 0))).apply(p), "inDims[0]", "list of 2",
        "map with keys [w, b]");
    fails(AdjointArgumentException.class, "vmap", () -> vmap(f, inDims(Map.of("w", 0, "c", 0))).apply(p), "inDims[0]",
        "map with keys [w, b]");
    fails(AdjointArgumentException.class, "vmap", () -> vmap(f, inDims(List.of(0, 0, 0))).apply(List.of(x, y)), "list of 3",
        "list of 2");
    fails(AdjointArgumentException.class, "vmap", () -> vmap(f, inDims("0")).apply(p), "inDims[0]", "String 0");
    // a correct Map spec (key order irrelevant) works
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("b", 0);
    spec.put("w", 0);
    Tensor r = vmap(f, inDims(spec)).applyTensor(p);
    assertArrayEquals(new double[] {0.1 + 0.2 + 0.1, 0.3 + 0.4 + 0.2, 0.5 + 0.6 + 0.3}, r.toDoubleArray(), 1e-15);
  }

  @Test
  void vmapMappedSizesDisagreeAndNothingMapped() {
    Tensor x = arange64(3, 2), y = arange64(4, 2);
    Fn2 add = Tensor::add;
    fails(ShapeMismatchException.class, "vmap", () -> vmap(add).apply(x, y), "mapped sizes differ", "argument 0 [3, 2]",
        "size 3", "argument 1 [4, 2]", "size 4");
    fails(ShapeMismatchException.class, "vmap", () -> vmap(add, inDims(0, 1)).apply(x, y), "argument 1 [4, 2] at dim 1", "size 2");
    // inside a pytree argument
    FnN f = a -> Pytree.leaves(a[0]).get(0).add(Pytree.leaves(a[0]).get(1));
    fails(ShapeMismatchException.class, "vmap", () -> vmap(f).apply(List.of(x, y)), "mapped sizes differ", "size 3", "size 4");
    fails(AdjointArgumentException.class, "vmap", () -> vmap(add, inDims(null, null)).apply(x, y), "no argument is mapped");
    fails(AdjointArgumentException.class, "vmap", () -> vmap(f, inDims(0)).apply(List.of()), "no argument is mapped");
    fails(AdjointArgumentException.class, "vmap", () -> vmap(v -> v, VmapOptions.inDims(0).outDims(null)).apply(x), "outDims");
    fails(InvalidIndexException.class, "vmap", () -> vmap(v -> v.sum(), VmapOptions.inDims(0).outDims(1)).apply(x), "dim 1");
  }

  @Test
  void randomnessErrorInsideVmap() {
    Tensor x = arange64(4, 3);
    fails(IllegalStateException.class, "randn", () -> vmap(v -> v.add(Tensor.randn(DType.FLOAT64, 3))).apply(x), "vmap",
        "randomness");
    fails(IllegalStateException.class, "rand", () -> vmap(v -> v.add(Tensor.rand(DType.FLOAT64, 3))).apply(x), "vmap",
        "randomness");
    // also through jacfwd (a vmap of jvp) and under an outer vmap with randomness=same
    fails(IllegalStateException.class, "randn", () -> jacfwd(v -> v.mul(Tensor.randn(DType.FLOAT64, 3))).apply(x.get(0)),
        "randomness");
    fails(IllegalStateException.class, "randn",
        () -> vmap(vmap(v -> v.add(Tensor.randn(DType.FLOAT64, 3))), VmapOptions.inDims(0).randomness(Randomness.SAME))
            .apply(x.unsqueeze(0)), "randomness");
  }

  // ================================================================== jvp tangents

  @Test
  void jvpTangentsThatDoNotMatchThePrimals() {
    Tensor x = arange64(3);
    Fn1 f = v -> v.sin().sum();
    fails(ShapeMismatchException.class, "jvp", () -> jvp(f, x, arange64(4)), "tangent 0 has shape [4]", "primal 0 has shape [3]");
    fails(ShapeMismatchException.class, "jvp", () -> jvp(f, x, arange64(1, 3)), "[1, 3]", "[3]");
    fails(DTypeMismatchException.class, "jvp", () -> jvp(f, x, Tensor.zeros(DType.FLOAT32, 3)), "tangent 0", "float32", "float64");
    FnN g = a -> ((Tensor) a[0]).mul((Tensor) a[1]).sum();
    fails(AdjointArgumentException.class, "jvp", () -> jvp(g, List.of(x, x), List.of(x)), "2 primals but 1 tangents");
    fails(AdjointArgumentException.class, "jvp", () -> jvp(g, List.of(x), List.of(x, x)), "1 primals but 2 tangents");
    // per-argument structure
    fails(AdjointArgumentException.class, "jvp", () -> jvp((FnN) a -> Pytree.leaves(a[0]).get(0).sum(), List.of(List.of(x, x)),
        List.of(List.of(x))), "tangent 0", "list of 1", "primal 0", "list of 2");
    fails(ShapeMismatchException.class, "jvp", () -> jvp(g, List.of(x, x), List.of(x, arange64(2))), "tangent 1 has shape [2]",
        "primal 1 has shape [3]");
  }

  @Test
  @SuppressWarnings("unchecked")
  void mapTangentsAndCotangentsAreMatchedByKeyNotByOrder() {
    // Two same-shaped entries: pairing by iteration order would silently give the wrong numbers.
    Map<String, Tensor> p = new LinkedHashMap<>();
    p.put("a", f64(1.0, 2.0));
    p.put("b", f64(3.0, 5.0));
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("b", f64(0.0, 1.0));  // other insertion order than p
    t.put("a", f64(1.0, 0.0));
    FnN f = args -> {
      Map<String, Tensor> m = (Map<String, Tensor>) args[0];
      return m.get("a").mul(m.get("a")).add(m.get("b").mul(10.0)).sum();  // sum a^2 + 10 b
    };
    // d f = 2 a . ta + 10 sum tb = 2*1*1 + 10*1 = 12
    assertEquals(12.0, jvp(f, List.of(p), List.of(t)).tangent().item(), 0.0, "jvp with a reordered tangent map");
    Map<String, Tensor> hvm = (Map<String, Tensor>) hvp(f, List.of(p), List.of(t));  // one primal: its structure
    assertArrayEquals(new double[] {2.0, 0.0}, hvm.get("a").toDoubleArray(), 0.0, "hvp a = 2 ta");
    assertArrayEquals(new double[] {0.0, 0.0}, hvm.get("b").toDoubleArray(), 0.0, "hvp b = 0");

    // pullback with a reordered cotangent map
    FnN g = args -> {
      Tensor x = (Tensor) args[0];
      Map<String, Tensor> out = new LinkedHashMap<>();
      out.put("sin", x.sin());
      out.put("double", x.mul(2.0));
      return out;
    };
    Tensor x = f64(0.5, 1.5);
    VjpResult v = vjp(g, x);
    Map<String, Tensor> ct = new LinkedHashMap<>();
    ct.put("double", f64(1.0, 1.0));
    ct.put("sin", f64(0.0, 0.0));
    assertArrayEquals(new double[] {2.0, 2.0}, ((Tensor) v.apply(ct).get(0)).toDoubleArray(), 0.0, "vjp with a reordered cotangent map");
    // keys that do not match are an error
    Map<String, Tensor> wrongKeys = new LinkedHashMap<>();
    wrongKeys.put("double", f64(1.0, 1.0));
    wrongKeys.put("cos", f64(1.0, 1.0));
    fails(AdjointArgumentException.class, "vjp", () -> v.apply(wrongKeys), "cotangent", "sin");
    Map<String, Tensor> wrongTangentKeys = new LinkedHashMap<>();
    wrongTangentKeys.put("a", f64(1.0, 0.0));
    wrongTangentKeys.put("c", f64(1.0, 0.0));
    fails(AdjointArgumentException.class, "jvp", () -> jvp(f, List.of(p), List.of(wrongTangentKeys)), "tangent 0", "primal 0");
  }

  // ================================================================== pullbacks

  @Test
  void pullbackWithAWrongCotangent() {
    Tensor x = arange64(3);
    Tensor w = arange64(2, 3);
    VjpResult v = vjp(u -> w.matmul(u).tanh(), x);  // output [2]
    fails(ShapeMismatchException.class, "vjp", () -> v.applyTensor(arange64(3)), "cotangent 0 has shape [3]", "output has shape [2]");
    fails(ShapeMismatchException.class, "vjp", () -> v.applyTensor(Tensor.scalar(1.0, DType.FLOAT64)), "shape []", "[2]");
    fails(DTypeMismatchException.class, "vjp", () -> v.applyTensor(Tensor.zeros(DType.FLOAT32, 2)), "float32", "float64");
    fails(AdjointArgumentException.class, "vjp", () -> v.apply(List.of(arange64(2), arange64(2))), "list of 2", "tensor [2]");
    fails(AdjointArgumentException.class, "vjp pullback", () -> v.pullback().apply(arange64(2), arange64(2)), "expected 1",
        "got 2");

    // an output with several leaves, cotangent with the wrong structure
    VjpResult v2 = vjp((FnN) a -> List.of(((Tensor) a[0]).sin(), ((Tensor) a[0]).sum()), x);
    fails(AdjointArgumentException.class, "vjp", () -> v2.apply(arange64(3)), "tensor [3]", "list of 2");
    fails(ShapeMismatchException.class, "vjp", () -> v2.apply(List.of(arange64(3), arange64(3))), "cotangent 1 has shape [3]",
        "output has shape []");
    // same number of leaves but another structure
    fails(AdjointArgumentException.class, "vjp", () -> v2.apply(List.of(List.of(arange64(3), Tensor.scalar(1.0, DType.FLOAT64))))
        , "cotangent", "list of 1", "list of 2");

    // an output that does not depend on the input still checks its cotangent
    VjpResult v3 = vjp(u -> w.sum(1), x);
    fails(ShapeMismatchException.class, "vjp", () -> v3.applyTensor(arange64(5)), "[5]", "[2]");

    // the one-tensor vjp: nulls named, the identity's pullback is the cotangent
    fails(AdjointArgumentException.class, "vjp", () -> vjp(u -> null, x), "returned null");
    fails(AdjointArgumentException.class, "vjp", () -> vjp(u -> u.sin(), (Tensor) null), "primal 0 is null");
    fails(AdjointArgumentException.class, "vjp", () -> v.applyTensor(null), "cotangent");
    VjpResult id = vjp(u -> u, x);
    Tensor c = Tensor.fromArray(new double[] {4, 5, 6}, 3);
    assertArrayEquals(new double[] {4, 5, 6}, id.applyTensor(c).toDoubleArray(), 0.0);
    assertArrayEquals(new double[] {4, 5, 6}, ((Tensor) ((List<?>) id.pullback().apply(c)).get(0)).toDoubleArray(), 0.0);
    assertArrayEquals(new double[] {0, 0, 0}, v3.applyTensor(arange64(2)).toDoubleArray());

    // the good cotangent still works, and gives the closed form  w^T (ct * (1 - tanh^2))
    double[] ct = {1.0, -2.0};
    double[] got = v.applyTensor(Tensor.of(ct)).toDoubleArray();
    double[][] wv = {{0.1, 0.2, 0.3}, {0.4, 0.5, 0.6}};
    double[] xv = {0.1, 0.2, 0.3};
    for (int i = 0; i < 3; i++) {
      double e = 0;
      for (int o = 0; o < 2; o++) {
        double z = 0;
        for (int k = 0; k < 3; k++) z += wv[o][k] * xv[k];
        double th = Math.tanh(z);
        e += ct[o] * (1 - th * th) * wv[o][i];
      }
      assertEquals(e, got[i], 1e-15);
    }
  }

  // ================================================================== escaped tracers

  @Test
  void tensorThatEscapedAFinishedTransform() {
    Tensor x = arange64(3);
    Tensor[] box = new Tensor[1];
    Fn1 leaky = v -> {
      box[0] = v.sin().keep();  // kept out of the transform's scope: outlives the transform
      return v.sum();
    };
    grad(leaky).apply(x);
    Tensor escaped = box[0];
    fails(IllegalStateException.class, "add", () -> escaped.add(x), "input 0 [3]", "escaped", "grad");
    fails(IllegalStateException.class, "mul", () -> x.mul(escaped), "input 1 [3]", "escaped");
    // passed to another transform
    fails(IllegalStateException.class, "grad", () -> grad(v -> v.sum()).apply(escaped), "escaped", "[3]");
    fails(IllegalStateException.class, "vmap", () -> vmap(v -> v.mul(2.0)).apply(escaped), "escaped", "[3]");
    fails(IllegalStateException.class, "jvp", () -> jvp(v -> v.exp(), escaped, x), "escaped", "[3]");
    fails(IllegalStateException.class, "grad", () -> vjp(v -> v.exp(), escaped), "escaped", "[3]");  // vjp is a grad level
    // identity functions must not pass it through either
    fails(IllegalStateException.class, "vmap", () -> vmap(v -> v).apply(escaped), "escaped");

    // from vmap: escaped batched tracer
    vmap(v -> {
      box[0] = v.mul(2.0).keep();
      return v;
    }).apply(arange64(2, 3));
    Tensor escapedBatch = box[0];
    fails(IllegalStateException.class, "add", () -> escapedBatch.add(x), "escaped", "vmap");
    fails(IllegalStateException.class, "copy_to_host", escapedBatch::toDoubleArray, "escaped", "vmap");

    // without keep() the transform's scope released it: a clear "closed" error
    grad(v -> {
      box[0] = v.sin();
      return v.sum();
    }).apply(x);
    Tensor released = box[0];
    IllegalStateException e = assertThrowsExactly(IllegalStateException.class, () -> released.add(x));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    assertTrue(released.isClosed());
  }

  // ================================================================== reading values inside vmap

  @Test
  void readingValuesOfAVmapTracerInsideVmap() {
    Tensor xs = arange64(4, 3);
    List<String> seen = new ArrayList<>();
    Tensor r = vmap(v -> {
      throwsWith(IllegalStateException.class, "copy_to_host", v::toFloatArray, "cannot read the values", "vmap");
      throwsWith(IllegalStateException.class, "copy_to_host", v::toDoubleArray, "vmap");
      throwsWith(IllegalStateException.class, "copy_to_host", v::toLongArray, "vmap");
      throwsWith(IllegalStateException.class, "copy_to_host", () -> v.sum().item(), "vmap");
      throwsWith(IllegalStateException.class, "copy_to_host", () -> v.allclose(v), "vmap");
      seen.add(v.toString());
      seen.add(v.sum().toString());
      // metadata is per-example
      assertArrayEquals(new long[] {3}, v.shape());
      assertEquals(DType.FLOAT64, v.dtype());
      return v.mul(2.0);
    }).apply(xs);
    assertArrayEquals(xs.mul(2.0).toDoubleArray(), r.toDoubleArray());
    // toString never throws: a descriptive placeholder naming vmap and the per-example shape
    assertTrue(seen.get(0).contains("vmap") && seen.get(0).contains("[3]"), seen.get(0));
    assertTrue(seen.get(1).contains("vmap") && seen.get(1).contains("[]"), seen.get(1));
    // jvp / grad tracers print their primal values
    String[] s = new String[1];
    grad(v -> {
      s[0] = v.toString();
      return v.sum();
    }).apply(Tensor.of(1.5, 2.5));
    assertEquals("tensor([1.5000, 2.5000], dtype=float64)", s[0]);
  }

  // ================================================================== exceptions inside nested transforms

  @Test
  void userExceptionsInsideNestedTransformsLeaveTheStackClean() {
    Tensor x = arange64(3), xs = arange64(2, 3);
    RuntimeException boom = new RuntimeException("boom");
    Fn1 thrower = v -> {
      assertTrue(NativeCore.adj_level_depth() > 0);
      throw boom;
    };
    List<Executable> cases = List.of(
        () -> grad(thrower).apply(x),
        () -> vmap(grad(thrower)).apply(xs),
        () -> vmap(jacrev(jacfwd(thrower))).apply(xs),
        () -> jvp(grad(grad(thrower)), x, x),
        () -> hessian(thrower).apply(x),
        () -> vjp(vmap(thrower), xs),
        () -> jacrev(vmap(thrower).asFnN(), argnums(0).chunkSize(2)).apply(xs),
        () -> vmap(thrower, VmapOptions.inDims(0).chunkSize(1)).apply(xs),
        () -> jacobian(thrower).apply(x),
        () -> grad(v -> v.mul(jvp(thrower, v, v).tangent()).sum()).apply(x));
    for (Executable c : cases) {
      RuntimeException e = assertThrows(RuntimeException.class, c);
      assertSame(boom, e);
      assertClean();
      assertTransformsStillWork();
    }
    // an exception thrown by the native core deep inside, and one thrown inside a pullback under vmap
    fails(ShapeMismatchException.class, "add", () -> vmap(grad(jacfwd(v -> v.add(arange64(2)).sum()))).apply(xs), "[2]", "3 vs 2");
    VjpResult v = vjp(u -> u.sin(), x);
    fails(ShapeMismatchException.class, "vjp", () -> vmap(ct -> v.applyTensor(ct)).apply(arange64(5, 2)), "[2]", "[3]");
    // and an error escaping from a pullback called inside grad
    fails(ShapeMismatchException.class, "vjp", () -> grad(u -> v.applyTensor(u.slice(0, 0, 2)).sum()).apply(x), "[2]", "[3]");
  }
}
