package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * Typed functions ({@link Fn1Of}..{@link Fn4Of}): a function of a record is written and
 * transformed without casts, grad keeps argument 0's type and vmap the result's, with gradients
 * checked against central finite differences in float64; and lambdas over tensors written into a
 * transform's call still resolve to the tensor forms (compiled with javax.tools).
 */
class TypedFunctionsTest extends ScopedTest {
  record Params(Tensor w, Tensor b) {}

  private static final double[] W = {0.3, -0.2, 0.5, 0.1, 0.4, -0.6}, B = {0.05, -0.1};
  private static final double[] XS = {0.7, -1.2, 0.4, -0.3, 0.8, 1.1, 0.0, 0.5, -0.9}, YS = {0.2, -0.3, 0.1, 0.4, -0.5, 0.0};

  /** mean((tanh(x W^T + b) - y)^2), typed: no casts anywhere. */
  private static final Fn3Of<Params, Tensor, Tensor, Tensor> LOSS = (q, x, y) -> F.linear(x, q.w(), q.b()).tanh().sub(y).pow(2).mean();

  private static Tensor t(double[] v, long... shape) {
    return Tensor.fromArray(v, shape);
  }

  private static Params params() {
    return new Params(t(W, 2, 3), t(B, 2));
  }

  /** The loss of example {@code i} (all three when i < 0) at parameters given as arrays, outside any transform. */
  private static double lossAt(double[] w, double[] b, double[] x, int i) {
    try (Scope s = Scope.open()) {
      Tensor xs = t(x, 3, 3), ys = t(YS, 3, 2);
      return i < 0 ? LOSS.apply(new Params(t(w, 2, 3), t(b, 2)), xs, ys).item()
          : LOSS.apply(new Params(t(w, 2, 3), t(b, 2)), xs.get(i), ys.get(i)).item();
    }
  }

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

  @Test
  void gradOfATypedRecordFunctionIsTheRecordOfGradients() {
    Params g = grad(LOSS).apply(params(), t(XS, 3, 3), t(YS, 3, 2));
    assertArrayEquals(new long[] {2, 3}, g.w().shape());
    close(fd(w -> lossAt(w, B, XS, -1), W), g.w(), 1e-8, "dL/dw");
    close(fd(b -> lossAt(W, b, XS, -1), B), g.b(), 1e-8, "dL/db");
    // the same numbers as the untyped form
    Params untyped = (Params) grad(LOSS.asFnN()).apply(params(), t(XS, 3, 3), t(YS, 3, 2));
    close(untyped.w().toDoubleArray(), g.w(), 0, "typed vs FnN");
  }

  @Test
  void gradWithRespectToAnotherArgumentIsAnObjectOfThatArgumentsStructure() {
    Object gx = grad(LOSS, 1).apply(params(), t(XS, 3, 3), t(YS, 3, 2));
    Tensor dx = assertInstanceOf(Tensor.class, gx);
    close(fd(x -> lossAt(W, B, x, -1), XS), dx, 1e-8, "dL/dx");
    // a one-argument typed function: grad typed as its argument
    Fn1Of<Params, Tensor> l2 = q -> q.w().pow(2).sum().add(q.b().pow(3).sum());
    Params g = grad(l2).apply(params());
    double[] dw = W.clone(), db = B.clone();
    for (int i = 0; i < dw.length; i++) dw[i] = 2 * W[i];
    for (int i = 0; i < db.length; i++) db[i] = 3 * B[i] * B[i];
    close(dw, g.w(), 1e-15, "d/dw");
    close(db, g.b(), 1e-15, "d/db");
  }

  @Test
  void perExampleGradientsUnderVmapAreTypedAndMatchFiniteDifferences() {
    Params per = vmap(grad(LOSS), inDims(null, 0, 0)).apply(params(), t(XS, 3, 3), t(YS, 3, 2));
    assertArrayEquals(new long[] {3, 2, 3}, per.w().shape());
    assertArrayEquals(new long[] {3, 2}, per.b().shape());
    for (int i = 0; i < 3; i++) {
      int k = i;
      close(fd(w -> lossAt(w, B, XS, k), W), per.w().get(i), 1e-8, "example " + i + " dL/dw");
      close(fd(b -> lossAt(W, b, XS, k), B), per.b().get(i), 1e-8, "example " + i + " dL/db");
    }
  }

  @Test
  void vmapKeepsARecordResultTypeAndJacobiansAreObjects() {
    Fn2Of<Params, Tensor, Params> scaled = (q, s) -> new Params(q.w().mul(s), q.b().mul(s));
    Params r = vmap(scaled, inDims(null, 0)).apply(params(), Tensor.of(1.0, 2.0));
    assertArrayEquals(new long[] {2, 2, 3}, r.w().shape());
    close(new double[] {B[0], B[1], 2 * B[0], 2 * B[1]}, r.b(), 0, "b scaled per example");
    // Jacobians and Hessians of typed functions: pytrees without a declared type
    Fn1Of<Params, Tensor> l = q -> LOSS.apply(q, t(XS, 3, 3), t(YS, 3, 2));
    Params jac = assertInstanceOf(Params.class, jacrev(l).apply(params()));  // scalar output: the gradient's structure
    close(grad(l).apply(params()).w().toDoubleArray(), jac.w(), 1e-15, "jacrev of a scalar = grad");
    Map<?, ?> h = assertInstanceOf(Map.class, hessian(l).apply(params()));
    assertArrayEquals(new long[] {2, 3, 2, 3}, ((Params) h.get("w")).w().shape());
    Object hf = jacfwd(jacrev(l)).apply(params());
    assertInstanceOf(Map.class, hf);
  }

  // ------------------------------------------------------------------ overload resolution, compiled

  /** Compiles {@code body} as a method body (with the imports of the README) and returns javac's errors, empty when it compiles. */
  private static List<String> compileErrors(String body) throws Exception {
    String src = "import static dev.adjoint.Func.*;\nimport dev.adjoint.*;\nimport java.util.*;\n"
        + "class Probe {\n  record Params(Tensor w, Tensor b) {}\n  static void probe(Tensor x, Tensor xs, Tensor ys, Params p) {\n" + body + "\n  }\n}\n";
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "no system Java compiler (the tests need a JDK)");
    Path out = Files.createTempDirectory("adjoint-typed");
    String classPath = Paths.get(URI.create(Tensor.class.getProtectionDomain().getCodeSource().getLocation().toString())) + File.pathSeparator
        + System.getProperty("java.class.path");
    DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
    JavaFileObject unit = new SimpleJavaFileObject(URI.create("string:///Probe.java"), JavaFileObject.Kind.SOURCE) {
      @Override
      public CharSequence getCharContent(boolean ignoreEncodingErrors) {
        return src;
      }
    };
    try (StandardJavaFileManager fm = javac.getStandardFileManager(diags, Locale.ROOT, StandardCharsets.UTF_8)) {
      javac.getTask(new StringWriter(), fm, diags, List.of("-d", out.toString(), "-classpath", classPath, "-proc:none", "-Xlint:none"), null, List.of(unit))
          .call();
    } finally {
      try (Stream<Path> s = Files.walk(out)) {
        s.sorted((a, c) -> c.compareTo(a)).forEach(p -> p.toFile().delete());
      }
    }
    return diags.getDiagnostics().stream().filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
        .map(d -> "line " + (d.getLineNumber() - 6) + ": " + d.getMessage(Locale.ROOT)).collect(Collectors.toList());
  }

  @Test
  void lambdasOverTensorsWrittenIntoTheCallStillResolveToTheTensorForms() throws Exception {
    // each result is assigned to the tensor interface: a resolution to the typed (FnkOf) or the
    // pytree (FnN) overload would not compile, nor would an ambiguous call
    String body = String.join("\n",
        "Fn1 a = grad(v -> v.sin().sum());",
        "Fn2 b = grad((u, v) -> u.mul(v).sum(), 1);",
        "Fn2 b0 = grad((u, v) -> u.mul(v).sum());",
        "Fn3 c = grad((u, v, s) -> u.mul(v).mul(s).sum(), 2);",
        "Fn4 d = grad((u, v, s, r) -> u.mul(v).mul(s).mul(r).sum());",
        "Fn1 e = vmap(v -> v.exp());",
        "Fn1 e1 = vmap(v -> v.exp(), inDims(1));",
        "Fn2 e2 = vmap((u, v) -> u.mul(v));",
        "Fn3 e3 = vmap((u, v, s) -> u.mul(v).add(s), inDims(0, 0, null));",
        "Fn4 e4 = vmap((u, v, s, r) -> u.mul(v).add(s).add(r));",
        "Fn3 j = jacrev((u, v, s) -> u.add(v).mul(s));",
        "Fn3 j1 = jacrev((u, v, s) -> u.add(v).mul(s), 1);",
        "Fn2 j2 = jacrev((u, v) -> u.add(v));",
        "Fn1 j3 = jacrev(v -> v.sin());",
        "Fn1 k = jacfwd(v -> v.sin());",
        "Fn3 k1 = jacfwd((u, v, s) -> u.add(v).mul(s), 2);",
        "Fn1 h = hessian(v -> v.sin().sum());",
        "Fn2 h1 = hessian((u, v) -> u.mul(v).sum(), 1);",
        "Fn3 h2 = hessian((u, v, s) -> u.mul(v).mul(s).sum());",
        "Tensor jt = jvp(v -> v.sin(), x, x).tangent();",
        "Tensor vt = vjp(v -> v.sin(), x).applyTensor(x);",
        "Tensor hv = hvp(v -> v.sin().sum(), x, x);",
        "List<Tensor> js = jacrev((u, v, s) -> u.mul(v), argnums(0, 1)).applyTensors(x, x, x);",
        "FnN n = grad((FnN) args -> args[0]);",
        "Fn1 m = jacrev(Tensor::sin);",           // an exact method reference: one arity, no doubt
        "Fn1 m1 = grad((Fn1) Tensor::sum);",      // an overloaded one needs its type (see below)
        // the README's first example, without casts
        "Fn3Of<Params, Tensor, Tensor, Tensor> loss = (q, xx, yy) -> F.linear(xx, q.w(), q.b()).tanh().sub(yy).pow(2).mean();",
        "Params g = grad(loss).apply(p, xs, ys);",
        "Params perExample = vmap(grad(loss), inDims(null, 0, 0)).apply(p, xs, ys);",
        "Object gx = grad(loss, 1).apply(p, xs, ys);",
        "Object hp = hessian(loss, 0).apply(p, xs, ys);");
    assertEquals(List.of(), compileErrors(body));
  }

  @Test
  void aMethodReferenceToAnOverloadedMethodNeedsItsType() throws Exception {
    // NOTE: Tensor::sum fits functions of 1, 2 and 3 arguments (sum(), sum(dim), sum(dim, keepdim)),
    // so it matches grad(Fn1), grad(Fn2Of) and grad(Fn3Of), unrelated types: Java does not pick
    // one (JLS 15.12.2.5 compares functional interfaces only for lambdas with typed parameters and
    // exact method references). Documented in Func; grad(x -> x.sum()) or grad((Fn1) Tensor::sum).
    List<String> e = compileErrors("Fn1 s = grad(Tensor::sum);");
    assertFalse(e.isEmpty());
    assertTrue(e.get(0).contains("ambiguous"), e.toString());
    assertEquals(List.of(), compileErrors("Fn1 s = grad(v -> v.sum());\nFn1 s1 = grad((Fn1) Tensor::sum);"));
  }

  @Test
  void theTypesAreChecked() throws Exception {
    // the gradient with respect to a Params is a Params, not a Tensor; a function of a Params takes no Tensor
    String loss = "Fn3Of<Params, Tensor, Tensor, Tensor> loss = (q, xx, yy) -> F.linear(xx, q.w(), q.b()).sub(yy).pow(2).mean();\n";
    List<String> e = compileErrors(loss + "Tensor g = grad(loss).apply(p, xs, ys);");
    assertEquals(1, e.size(), e.toString());
    assertTrue(e.get(0).contains("incompatible types"), e.toString());
    e = compileErrors(loss + "Params g = grad(loss).apply(x, xs, ys);");
    assertEquals(1, e.size(), e.toString());
    // vmap keeps the declared result type: a per-example Params is no Tensor
    e = compileErrors(loss + "Tensor g = vmap(grad(loss), inDims(null, 0, 0)).apply(p, xs, ys);");
    assertEquals(1, e.size(), e.toString());
  }
}
