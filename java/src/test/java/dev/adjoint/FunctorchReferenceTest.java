package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Holds the transforms to functorch 1.13 in float64: {@code functorch_reference.txt} is converted
 * by {@code tests/reference/convert_functorch_reference.py} from the reference files (one
 * (function, transform) case each, see that script for the format). One test per case, named
 * after it: it rebuilds the inputs, reproduces the file's functorch call with the Java API and
 * compares the shape and every value of every output, within 1e-12 relative (1e-14 absolute
 * floor, which matters for values below 1e-2 only).
 *
 * <p>Where functorch 1.13 could not run forward-over-reverse (no forward-AD formula for the
 * softmax / log_softmax / nll_loss backward ops) the file stores the reverse-over-reverse result;
 * those tests compute both, the stored call and {@code hessian(...)} / {@code jvp(grad(...))},
 * and hold both to the stored values.
 */
class FunctorchReferenceTest extends ScopedTest {
  private static final double RTOL = 1e-12, ATOL = 1e-14;

  // ------------------------------------------------------------------ the reference functions

  /** predict(weight, bias, x) = tanh(x @ weight^T + bias). */
  static Tensor predict(Tensor weight, Tensor bias, Tensor x) {
    return F.linear(x, weight, bias).tanh();
  }

  /** sin_sum(x) = sum(sin(x)). */
  static Tensor sinSum(Tensor x) {
    return x.sin().sum();
  }

  /** h = relu(x @ W); s = sigmoid(h) + exp(-h); p = softmax(s, -1); mean(log(p + 1), dim=0). */
  static Tensor composite(Tensor x, Tensor w) {
    Tensor h = x.matmul(w).relu();
    Tensor s = h.sigmoid().add(h.neg().exp());
    Tensor p = s.softmax(-1);
    return p.add(1).log().mean(0);
  }

  /** sum(composite(x, W)). */
  static Tensor compositeSum(Tensor x, Tensor w) {
    return composite(x, w).sum();
  }

  /** cross_entropy(tanh(x @ w1^T + b1) @ w2^T + b2, t) with params = [w1, b1, w2, b2] (a list or a map). */
  static Tensor mlpLoss(Object params, Tensor x, Tensor t) {
    List<Tensor> p = Pytree.leaves(params);
    Tensor h = F.linear(x, p.get(0), p.get(1)).tanh();
    return F.crossEntropy(F.linear(h, p.get(2), p.get(3)), t);
  }

  /** mlp_loss(params, x_i[None, :], t_i[None]): one sample, x_i [4], t_i 0-d. */
  static Tensor mlpLossSingle(Object params, Tensor xi, Tensor ti) {
    return mlpLoss(params, xi.unsqueeze(0), ti.unsqueeze(0));
  }

  /** The params of mlp_loss as views of theta [43] = cat(w1 (20), b1 (5), w2 (15), b2 (3)). */
  static List<Tensor> unflatten(Tensor theta) {
    return List.of(theta.slice(0, 0, 20).reshape(5, 4), theta.slice(0, 20, 25), theta.slice(0, 25, 40).reshape(3, 5),
        theta.slice(0, 40, 43));
  }

  /** mlp_loss(unflatten(theta), x, t). */
  static Tensor mlpLossFlat(Tensor theta, Tensor x, Tensor t) {
    return mlpLoss(unflatten(theta), x, t);
  }

  static final Fn3 PREDICT = FunctorchReferenceTest::predict;
  static final Fn1 SIN_SUM = FunctorchReferenceTest::sinSum;
  static final Fn2 COMPOSITE = FunctorchReferenceTest::composite;
  static final Fn2 COMPOSITE_SUM = FunctorchReferenceTest::compositeSum;
  static final FnN MLP_LOSS = a -> mlpLoss(a[0], (Tensor) a[1], (Tensor) a[2]);
  static final FnN MLP_LOSS_SINGLE = a -> mlpLossSingle(a[0], (Tensor) a[1], (Tensor) a[2]);

  // ------------------------------------------------------------------ the reference data

  private record Ref(String name, DType dtype, long[] shape, double[] f64, long[] i64) {}

  private record Case(String id, Map<String, Ref> in, Map<String, Ref> out) {}

  private static Map<String, Case> cases;

  private static synchronized Map<String, Case> cases() {
    if (cases != null) return cases;
    Map<String, Case> all = new LinkedHashMap<>();
    try (InputStream s = FunctorchReferenceTest.class.getResourceAsStream("functorch_reference.txt")) {
      if (s == null) throw new IOException("resource functorch_reference.txt not found");
      BufferedReader r = new BufferedReader(new InputStreamReader(s, StandardCharsets.UTF_8));
      Case cur = null;
      for (String line; (line = r.readLine()) != null; ) {
        if (line.isEmpty() || line.startsWith("#")) continue;
        String[] tok = line.split(" ");
        switch (tok[0]) {
          case "case" -> cur = new Case(tok[1], new LinkedHashMap<>(), new LinkedHashMap<>());
          case "call", "failed" -> {}
          case "in", "out" -> {
            Ref ref = parseRef(tok);
            (tok[0].equals("in") ? cur.in : cur.out).put(ref.name, ref);
          }
          case "end" -> {
            all.put(cur.id, cur);
            cur = null;
          }
          default -> throw new IOException("functorch_reference.txt: unexpected line " + line);
        }
      }
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
    cases = all;
    return all;
  }

  private static Ref parseRef(String[] tok) {
    String name = tok[1];
    DType dtype = switch (tok[2]) {
      case "float64" -> DType.FLOAT64;
      case "int64" -> DType.INT64;
      default -> throw new IllegalArgumentException("dtype " + tok[2]);
    };
    long[] shape = tok[3].equals("_") ? new long[0] : Arrays.stream(tok[3].split(",")).mapToLong(Long::parseLong).toArray();
    int n = tok.length - 4;
    long numel = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    if (numel != n) throw new IllegalArgumentException(name + ": " + n + " values for shape " + Arrays.toString(shape));
    if (dtype == DType.FLOAT64) {
      double[] d = new double[n];
      for (int i = 0; i < n; i++) d[i] = Double.longBitsToDouble(Long.parseUnsignedLong(tok[4 + i], 16));
      return new Ref(name, dtype, shape, d, null);
    }
    long[] l = new long[n];
    for (int i = 0; i < n; i++) l[i] = Long.parseLong(tok[4 + i]);
    return new Ref(name, dtype, shape, null, l);
  }

  // ------------------------------------------------------------------ per test

  private Case c;
  private final Set<String> checked = new TreeSet<>();

  private static double maxScaledErr = 0, maxAbsErr = 0;
  private static String maxScaledAt = "-";
  private static int outputsCompared = 0;
  private static final Set<String> ran = new TreeSet<>();

  @AfterAll
  static void report() {
    System.out.printf("FunctorchReferenceTest: %d cases, %d output comparisons; max |got-want|/max(|want|,1e-2) = %.3e (at %s), max abs err = %.3e%n",
        ran.size(), outputsCompared, maxScaledErr, maxScaledAt, maxAbsErr);
  }

  /** Loads case {@code id} (the test's name) for {@link #in} and {@link #check}. */
  private void use(String id) {
    c = cases().get(id);
    assertNotNull(c, "no case " + id + " in functorch_reference.txt");
    synchronized (FunctorchReferenceTest.class) {
      ran.add(id);
    }
  }

  /** Input {@code name} of the current case as a tensor. */
  private Tensor in(String name) {
    Ref r = c.in.get(name);
    assertNotNull(r, c.id + ": no input " + name);
    return r.dtype == DType.FLOAT64 ? Tensor.fromArray(r.f64, r.shape) : Tensor.fromArray(r.i64, r.shape);
  }

  /** Compares {@code got} with output {@code name} of the current case: dtype, shape, every value. */
  private void check(String name, Object got) {
    check(name, got, "");
  }

  private void check(String name, Object got, String how) {
    Ref r = c.out.get(name);
    assertNotNull(r, c.id + ": no output " + name);
    String where = c.id + "." + name + (how.isEmpty() ? "" : " (" + how + ")");
    Tensor t = Pytree.expectTensor(got, where);
    assertEquals(r.dtype, t.dtype(), where + ": dtype");
    assertArrayEquals(r.shape, t.shape(), where + ": shape " + Arrays.toString(t.shape()) + " vs " + Arrays.toString(r.shape));
    double[] g = t.toDoubleArray();
    for (int i = 0; i < g.length; i++) {
      double want = r.f64[i], d = Math.abs(g[i] - want);
      if (!(d <= Math.max(RTOL * Math.abs(want), ATOL)))
        fail(where + ": element " + i + " is " + g[i] + ", functorch " + want + " (|diff| " + d + ")");
      double scaled = d / Math.max(Math.abs(want), ATOL / RTOL);
      synchronized (FunctorchReferenceTest.class) {
        if (scaled > maxScaledErr) {
          maxScaledErr = scaled;
          maxScaledAt = where;
        }
        maxAbsErr = Math.max(maxAbsErr, d);
      }
    }
    synchronized (FunctorchReferenceTest.class) {
      outputsCompared++;
    }
    checked.add(name);
  }

  /** Compares a list of results with the named outputs, in order. */
  private void checkAll(List<?> got, String how, String... names) {
    assertEquals(names.length, got.size(), c.id + ": number of results (" + how + ")");
    for (int i = 0; i < names.length; i++) check(names[i], got.get(i), how);
  }

  /** Every output of the case was compared. */
  private void allChecked() {
    assertEquals(c.out.keySet(), Set.copyOf(checked), c.id + ": outputs compared");
  }

  private List<Tensor> mlpParams() {
    return List.of(in("w1"), in("b1"), in("w2"), in("b2"));
  }

  private List<Tensor> mlpTangents() {
    return List.of(in("v_w1"), in("v_b1"), in("v_w2"), in("v_b2"));
  }

  // ------------------------------------------------------------------ coverage

  @Test
  void everyReferenceCaseHasATest() {
    Set<String> tests = new TreeSet<>();
    for (Method m : FunctorchReferenceTest.class.getDeclaredMethods())
      if (m.isAnnotationPresent(Test.class)) tests.add(m.getName());
    Set<String> missing = new TreeSet<>(cases().keySet());
    missing.removeAll(tests);
    assertTrue(missing.isEmpty(), "reference cases without a test: " + missing);
    assertEquals(40, cases().size());
  }

  // ------------------------------------------------------------------ predict

  @Test
  void predict_forward() {
    use("predict_forward");
    check("out", predict(in("weight"), in("bias"), in("x")));
    allChecked();
  }

  @Test
  void predict_vjp() {
    use("predict_vjp");
    VjpResult r = vjp(PREDICT.asFnN(), in("weight"), in("bias"), in("x"));
    check("out", r.output());
    checkAll(r.apply(in("cotangent")), "vjp_fn", "grad_weight", "grad_bias", "grad_x");
    allChecked();
  }

  @Test
  void predict_jvp() {
    use("predict_jvp");
    JvpResult r = jvp(PREDICT.asFnN(), List.of(in("weight"), in("bias"), in("x")),
        List.of(in("tangent_weight"), in("tangent_bias"), in("tangent_x")));
    check("out", r.output());
    check("jvp_out", r.tangent());
    allChecked();
  }

  @Test
  void predict_jvp_x() {
    use("predict_jvp_x");
    Tensor w = in("weight"), b = in("bias");
    JvpResult r = jvp(x -> predict(w, b, x), in("x"), in("tangent_x"));
    check("out", r.output());
    check("jvp_out", r.tangent());
    allChecked();
  }

  @Test
  void predict_jacrev_x() {
    use("predict_jacrev_x");
    check("jac_x", jacrev(PREDICT, 2).apply(in("weight"), in("bias"), in("x")));
    allChecked();
  }

  @Test
  void predict_jacfwd_x() {
    use("predict_jacfwd_x");
    check("jac_x", jacfwd(PREDICT, 2).apply(in("weight"), in("bias"), in("x")));
    allChecked();
  }

  @Test
  void predict_jacrev_weight_bias() {
    use("predict_jacrev_weight_bias");
    checkAll(jacrev(PREDICT, argnums(0, 1)).applyTensors(in("weight"), in("bias"), in("x")), "jacrev", "jac_weight", "jac_bias");
    allChecked();
  }

  @Test
  void predict_jacfwd_weight_bias() {
    use("predict_jacfwd_weight_bias");
    checkAll(jacfwd(PREDICT, argnums(0, 1)).applyTensors(in("weight"), in("bias"), in("x")), "jacfwd", "jac_weight", "jac_bias");
    allChecked();
  }

  @Test
  void predict_hessian_x() {
    use("predict_hessian_x");
    check("hessian_x", hessian(PREDICT, 2).apply(in("weight"), in("bias"), in("x")));
    allChecked();
  }

  @Test
  void predict_vmap() {
    use("predict_vmap");
    check("out_batch", vmap(PREDICT, inDims(null, null, 0)).apply(in("weight"), in("bias"), in("x_batch")));
    allChecked();
  }

  @Test
  void predict_vmap_jacrev_x() {
    use("predict_vmap_jacrev_x");
    check("batch_jac_x", vmap(jacrev(PREDICT, 2), inDims(null, null, 0)).apply(in("weight"), in("bias"), in("x_batch")));
    allChecked();
  }

  @Test
  void predict_vmap_jacfwd_x() {
    use("predict_vmap_jacfwd_x");
    check("batch_jac_x", vmap(jacfwd(PREDICT, 2), inDims(null, null, 0)).apply(in("weight"), in("bias"), in("x_batch")));
    allChecked();
  }

  @Test
  void predict_vmap_hessian_x() {
    use("predict_vmap_hessian_x");
    check("batch_hessian_x", vmap(hessian(PREDICT, 2), inDims(null, null, 0)).apply(in("weight"), in("bias"), in("x_batch")));
    allChecked();
  }

  // ------------------------------------------------------------------ sin_sum

  @Test
  void sin_sum_grad() {
    use("sin_sum_grad");
    check("grad_x", grad(SIN_SUM).apply(in("x")));
    allChecked();
  }

  @Test
  void sin_sum_vjp() {
    use("sin_sum_vjp");
    VjpResult r = vjp(SIN_SUM, in("x"));
    check("out", r.output());
    check("grad_x", r.applyTensor(in("cotangent")));
    allChecked();
  }

  @Test
  void sin_sum_jvp() {
    use("sin_sum_jvp");
    JvpResult r = jvp(SIN_SUM, in("x"), in("tangent_x"));
    check("out", r.output());
    check("jvp_out", r.tangent());
    allChecked();
  }

  @Test
  void sin_sum_jacrev() {
    use("sin_sum_jacrev");
    check("jac_x", jacrev(SIN_SUM).apply(in("x")));
    allChecked();
  }

  @Test
  void sin_sum_jacfwd() {
    use("sin_sum_jacfwd");
    check("jac_x", jacfwd(SIN_SUM).apply(in("x")));
    allChecked();
  }

  @Test
  void sin_sum_hessian() {
    use("sin_sum_hessian");
    check("hessian_x", hessian(SIN_SUM).apply(in("x")));
    allChecked();
  }

  @Test
  void sin_sum_hvp() {
    use("sin_sum_hvp");
    Tensor x = in("x"), v = in("v");
    check("hvp", jvp(grad(SIN_SUM), x, v).tangent(), "jvp(grad)");
    check("hvp", hvp(SIN_SUM, x, v), "Func.hvp");
    check("hvp", vjp(grad(SIN_SUM), x).applyTensor(v), "vjp(grad), reverse-over-reverse");
    allChecked();
  }

  @Test
  void sin_sum_vmap_grad() {
    use("sin_sum_vmap_grad");
    check("batch_grad", vmap(grad(SIN_SUM)).apply(in("x_batch")));
    allChecked();
  }

  @Test
  void sin_sum_vmap_jacrev() {
    use("sin_sum_vmap_jacrev");
    check("batch_jac", vmap(jacrev(SIN_SUM)).apply(in("x_batch")));
    allChecked();
  }

  // ------------------------------------------------------------------ composite

  @Test
  void composite_forward() {
    use("composite_forward");
    check("out", composite(in("x"), in("W")));
    allChecked();
  }

  @Test
  void composite_vjp() {
    use("composite_vjp");
    VjpResult r = vjp(COMPOSITE.asFnN(), in("x"), in("W"));
    check("out", r.output());
    checkAll(r.apply(in("cotangent")), "vjp_fn", "grad_x", "grad_W");
    allChecked();
  }

  @Test
  void composite_jvp() {
    use("composite_jvp");
    JvpResult r = jvp(COMPOSITE.asFnN(), List.of(in("x"), in("W")), List.of(in("tangent_x"), in("tangent_W")));
    check("out", r.output());
    check("jvp_out", r.tangent());
    allChecked();
  }

  @Test
  void composite_jacrev() {
    use("composite_jacrev");
    checkAll(jacrev(COMPOSITE.asFnN(), argnums(0, 1)).applyTensors(in("x"), in("W")), "jacrev", "jac_x", "jac_W");
    allChecked();
  }

  @Test
  void composite_jacfwd() {
    use("composite_jacfwd");
    checkAll(jacfwd(COMPOSITE.asFnN(), argnums(0, 1)).applyTensors(in("x"), in("W")), "jacfwd", "jac_x", "jac_W");
    allChecked();
  }

  @Test
  void composite_hessian_x() {
    use("composite_hessian_x");
    Tensor x = in("x"), w = in("W");
    check("hessian_x", jacrev(jacrev(COMPOSITE, 0), 0).apply(x, w), "jacrev(jacrev), the stored call");
    check("hessian_x", hessian(COMPOSITE, 0).apply(x, w), "hessian = jacfwd(jacrev), failed in functorch 1.13");
    check("hessian_x", jacfwd(jacfwd(COMPOSITE, 0), 0).apply(x, w), "jacfwd(jacfwd)");
    allChecked();
  }

  @Test
  void composite_sum_grad() {
    use("composite_sum_grad");
    checkAll(grad(COMPOSITE_SUM.asFnN(), argnums(0, 1)).applyTensors(in("x"), in("W")), "grad", "grad_x", "grad_W");
    allChecked();
  }

  @Test
  void composite_sum_hvp_x() {
    use("composite_sum_hvp_x");
    Tensor x = in("x"), w = in("W"), v = in("v");
    Fn1 gradX = xx -> grad(COMPOSITE_SUM, 0).apply(xx, w);
    check("hvp_x", vjp(gradX, x).applyTensor(v), "vjp(grad), the stored call");
    check("hvp_x", jvp(gradX, x, v).tangent(), "jvp(grad), failed in functorch 1.13");
    check("hvp_x", hvp(xx -> compositeSum(xx, w), x, v), "Func.hvp");
    allChecked();
  }

  @Test
  void composite_sum_hessian_x() {
    use("composite_sum_hessian_x");
    Tensor x = in("x"), w = in("W");
    check("hessian_x", jacrev(jacrev(COMPOSITE_SUM, 0), 0).apply(x, w), "jacrev(jacrev), the stored call");
    check("hessian_x", hessian(COMPOSITE_SUM, 0).apply(x, w), "hessian = jacfwd(jacrev), failed in functorch 1.13");
    allChecked();
  }

  @Test
  void composite_vmap_jacrev_x() {
    use("composite_vmap_jacrev_x");
    check("batch_jac_x", vmap(jacrev(COMPOSITE, 0), inDims(0, null)).apply(in("x_batch"), in("W")));
    allChecked();
  }

  // ------------------------------------------------------------------ mlp_loss

  @Test
  void mlp_loss_forward() {
    use("mlp_loss_forward");
    check("loss", mlpLoss(mlpParams(), in("x"), in("t")));
    allChecked();
  }

  @Test
  void mlp_loss_grad() {
    use("mlp_loss_grad");
    Tensor x = in("x"), t = in("t");
    Object g = grad(MLP_LOSS).apply(mlpParams(), x, t);
    assertInstanceOf(List.class, g);
    checkAll((List<?>) g, "params as a list", "grad_w1", "grad_b1", "grad_w2", "grad_b2");
    // the same with the params as a map: the gradient is a map with the same keys
    Map<String, Tensor> pm = new LinkedHashMap<>();
    pm.put("w1", in("w1"));
    pm.put("b1", in("b1"));
    pm.put("w2", in("w2"));
    pm.put("b2", in("b2"));
    Object gm = grad(MLP_LOSS).apply(pm, x, t);
    assertInstanceOf(Map.class, gm);
    Map<?, ?> m = (Map<?, ?>) gm;
    assertEquals(pm.keySet(), m.keySet());
    for (String k : pm.keySet()) check("grad_" + k, m.get(k), "params as a map");
    allChecked();
  }

  @Test
  void mlp_loss_vjp() {
    use("mlp_loss_vjp");
    Tensor x = in("x"), t = in("t");
    FnN f = a -> mlpLoss(List.of(a), x, t);  // lambda w1, b1, w2, b2: mlp_loss((w1, b1, w2, b2), x, t)
    VjpResult r = vjp(f, mlpParams().toArray());
    check("out", r.output());
    checkAll(r.apply(in("cotangent")), "vjp_fn", "grad_w1", "grad_b1", "grad_w2", "grad_b2");
    allChecked();
  }

  @Test
  void mlp_loss_jvp() {
    use("mlp_loss_jvp");
    Tensor x = in("x"), t = in("t");
    FnN f = a -> mlpLoss(List.of(a), x, t);
    JvpResult r = jvp(f, mlpParams(), mlpTangents());
    check("out", r.output());
    check("jvp_out", r.tangent());
    allChecked();
  }

  @Test
  void mlp_loss_hvp() {
    use("mlp_loss_hvp");
    Tensor x = in("x"), t = in("t");
    List<Tensor> p = mlpParams(), v = mlpTangents();
    FnN gradP = a -> grad(MLP_LOSS).apply(a[0], x, t);  // lambda p: grad(mlp_loss)(p, x, t)
    Object rr = vjp(gradP, p).apply(v).get(0);
    checkAll((List<?>) rr, "vjp(grad), the stored call", "hvp_w1", "hvp_b1", "hvp_w2", "hvp_b2");
    Object fr = jvp(gradP, List.of(p), List.of(v)).tangentTree();
    checkAll((List<?>) fr, "jvp(grad), failed in functorch 1.13", "hvp_w1", "hvp_b1", "hvp_w2", "hvp_b2");
    Object h = hvp((FnN) a -> mlpLoss(a[0], x, t), List.of(p), List.of(v));
    checkAll((List<?>) h, "Func.hvp", "hvp_w1", "hvp_b1", "hvp_w2", "hvp_b2");
    allChecked();
  }

  @Test
  void mlp_loss_hessian_w2() {
    use("mlp_loss_hessian_w2");
    Tensor w1 = in("w1"), b1 = in("b1"), b2 = in("b2"), x = in("x"), t = in("t");
    Fn1 f = w2 -> mlpLoss(List.of(w1, b1, w2, b2), x, t);
    Tensor w2 = in("w2");
    check("hessian_w2", jacrev(jacrev(f)).apply(w2), "jacrev(jacrev), the stored call");
    check("hessian_w2", hessian(f).apply(w2), "hessian = jacfwd(jacrev), failed in functorch 1.13");
    allChecked();
  }

  @Test
  void mlp_loss_hessian_flat() {
    use("mlp_loss_hessian_flat");
    Tensor x = in("x"), t = in("t"), theta = in("theta");
    // theta is the concatenation of the params
    assertTrue(Tensor.cat(List.of(in("w1").flatten(), in("b1"), in("w2").flatten(), in("b2")), 0).allclose(theta, 0, 0));
    Fn1 f = th -> mlpLossFlat(th, x, t);
    check("hessian_theta", jacrev(jacrev(f)).apply(theta), "jacrev(jacrev), the stored call");
    check("hessian_theta", hessian(f).apply(theta), "hessian = jacfwd(jacrev), failed in functorch 1.13");
    allChecked();
  }

  @Test
  void mlp_per_sample_grad() {
    use("mlp_per_sample_grad");
    Tensor x = in("x"), t = in("t");
    List<Tensor> p = mlpParams();
    Object g = vmap(grad(MLP_LOSS_SINGLE), inDims(null, 0, 0)).apply(p, x, t);
    checkAll((List<?>) g, "vmap(grad)", "psg_w1", "psg_b1", "psg_w2", "psg_b2");
    // the single-example form of crossEntropy (logits [C], 0-d target), batched by vmap
    FnN single = a -> {
      List<Tensor> q = Pytree.leaves(a[0]);
      Tensor h = F.linear((Tensor) a[1], q.get(0), q.get(1)).tanh();
      return F.crossEntropy(F.linear(h, q.get(2), q.get(3)), (Tensor) a[2]);
    };
    Object g1 = vmap(grad(single), inDims(null, 0, 0)).apply(p, x, t);
    checkAll((List<?>) g1, "vmap(grad), logits [C] and a 0-d target", "psg_w1", "psg_b1", "psg_w2", "psg_b2");
    allChecked();
  }

  // ------------------------------------------------------------------ F.crossEntropy itself

  @Test
  void crossEntropyFormsAndErrors() {
    Tensor z = Tensor.of(new double[][] {{1.0, 2.0, 0.5}, {-1.0, 0.0, 3.0}}), t = Tensor.of(2L, 0L);
    double l0 = Math.log(Math.exp(1.0) + Math.exp(2.0) + Math.exp(0.5)) - 0.5;
    double l1 = Math.log(Math.exp(-1.0) + Math.exp(0.0) + Math.exp(3.0)) + 1.0;
    assertEquals((l0 + l1) / 2, F.crossEntropy(z, t).item(), 1e-15);
    Tensor single = F.crossEntropy(z.get(0), t.get(0));  // logits [C], 0-d target
    assertEquals(0, single.ndim());
    assertEquals(l0, single.item(), 1e-15);
    assertEquals(DType.FLOAT32, F.crossEntropy(z.to(DType.FLOAT32), t).dtype());
    assertThrows(ShapeMismatchException.class, () -> F.crossEntropy(z, t.get(0)));
    assertThrows(ShapeMismatchException.class, () -> F.crossEntropy(z, Tensor.of(0L, 1L, 2L)));
    assertThrows(ShapeMismatchException.class, () -> F.crossEntropy(z.unsqueeze(0), t.unsqueeze(0)));
    assertThrows(DTypeMismatchException.class, () -> F.crossEntropy(z, t.to(DType.FLOAT64)));
    assertThrows(DTypeMismatchException.class, () -> F.crossEntropy(z.to(DType.INT64), t));
  }
}
