package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * F's composites and Tensor.var/std/norm against torch 1.13 (nn_reference.txt, made by
 * tests/reference/gen_nn_reference.py): values, and the vjp of a random cotangent against torch's
 * autograd (derivative conventions at kinks included). Each float64 case also checks that
 * vmap over a batch of two equals the loop, and that jacfwd equals jacrev.
 */
class NnReferenceTest {
  record Case(String name, String fn, Map<String, String> args, List<Tensor> in, Tensor out, Tensor ct, Map<Integer, double[]> grads) {}

  static double parse(String s) {
    return switch (s) {
      case "nan" -> Double.NaN;
      case "inf" -> Double.POSITIVE_INFINITY;
      case "-inf" -> Double.NEGATIVE_INFINITY;
      default -> Double.parseDouble(s);
    };
  }

  static long[] shape(String s) {
    if (s.equals("_")) return new long[0];
    String[] p = s.split(",");
    long[] r = new long[p.length];
    for (int i = 0; i < p.length; i++) r[i] = Long.parseLong(p[i]);
    return r;
  }

  static Tensor tensor(String dtype, String shapeTok, String[] tok, int from) {
    long[] shape = shape(shapeTok);
    int n = tok.length - from;
    if (dtype.equals("int64") || dtype.equals("bool")) {
      long[] v = new long[n];
      for (int i = 0; i < n; i++) v[i] = Long.parseLong(tok[from + i]);
      Tensor t = Tensor.fromArray(v, shape);
      return dtype.equals("bool") ? t.to(DType.BOOL) : t;
    }
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = parse(tok[from + i]);
    Tensor t = Tensor.fromArray(v, shape);
    return dtype.equals("float32") ? t.to(DType.FLOAT32) : t;
  }

  /** The Java call of a reference file's function name (IndexReferenceTest has its own). */
  interface Call {
    Tensor apply(String fn, Map<String, String> args, List<Tensor> in);
  }

  static List<Case> cases() throws Exception { return cases("nn_reference.txt"); }

  /** The cases of a reference file in this format, from the test class path. */
  static List<Case> cases(String resource) throws Exception {
    List<Case> out = new ArrayList<>();
    var in = NnReferenceTest.class.getResourceAsStream(resource);
    assertNotNull(in, resource + " on the test class path");
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
      String name = null, fn = null;
      Map<String, String> args = new HashMap<>();
      List<Tensor> ins = new ArrayList<>();
      Tensor o = null, ct = null;
      Map<Integer, double[]> grads = new HashMap<>();
      for (String line; (line = r.readLine()) != null; ) {
        String[] t = line.split(" ");
        switch (t[0]) {
          case "case" -> {
            name = t[1];
            args = new HashMap<>();
            ins = new ArrayList<>();
            grads = new HashMap<>();
            o = ct = null;
          }
          case "fn" -> {
            fn = t[1];
            for (int i = 2; i < t.length; i++) {
              int eq = t[i].indexOf('=');
              args.put(t[i].substring(0, eq), t[i].substring(eq + 1));
            }
          }
          case "in" -> ins.add(tensor(t[1], t[2], t, 3).keep());
          case "out" -> o = tensor(t[1], t[2], t, 3).keep();
          case "ct" -> ct = tensor(o.dtype() == DType.FLOAT32 ? "float32" : "float64", t[1], t, 2).keep();
          case "grad" -> {
            double[] g = new double[t.length - 2];
            for (int i = 0; i < g.length; i++) g[i] = parse(t[2 + i]);
            grads.put(Integer.parseInt(t[1]), g);
          }
          case "end" -> out.add(new Case(name, fn, args, ins, o, ct, grads));
          default -> fail("bad line: " + line);
        }
      }
    }
    return out;
  }

  static double d(Map<String, String> a, String k) { return parse(a.get(k)); }

  static int i(Map<String, String> a, String k) { return Integer.parseInt(a.get(k)); }

  static int[] ints(Map<String, String> a, String k) {
    return Stream.of(a.get(k).split(",")).mapToInt(Integer::parseInt).toArray();
  }

  /** The Java call for each function name of the reference file. */
  static Tensor call(String fn, Map<String, String> a, List<Tensor> x) {
    return switch (fn) {
      case "gelu" -> F.gelu(x.get(0));
      case "geluTanh" -> F.gelu(x.get(0), "tanh");
      case "silu" -> F.silu(x.get(0));
      case "softplus" -> F.softplus(x.get(0));
      case "softplusBeta" -> F.softplus(x.get(0), d(a, "beta"), d(a, "threshold"));
      case "elu" -> F.elu(x.get(0), d(a, "alpha"));
      case "leakyRelu" -> F.leakyRelu(x.get(0), d(a, "slope"));
      case "logSigmoid" -> F.logSigmoid(x.get(0));
      case "mseLoss" -> F.mseLoss(x.get(0), x.get(1));
      case "l1Loss" -> F.l1Loss(x.get(0), x.get(1));
      case "huberLoss" -> F.huberLoss(x.get(0), x.get(1), d(a, "delta"));
      case "bce" -> F.binaryCrossEntropy(x.get(0), x.get(1));
      case "bceLogits" -> F.binaryCrossEntropyWithLogits(x.get(0), x.get(1));
      case "oneHot" -> F.oneHot(x.get(0), i(a, "classes"));
      case "normalize" -> F.normalize(x.get(0), d(a, "p"), i(a, "dim"));
      case "cosineSimilarity" -> F.cosineSimilarity(x.get(0), x.get(1), i(a, "dim"), 1e-8);
      case "layerNorm" -> F.layerNorm(x.get(0), lastDims(x.get(0), i(a, "k")), x.get(1), x.get(2), 1e-5);
      case "layerNormPlain" -> F.layerNorm(x.get(0), lastDims(x.get(0), i(a, "k")), null, null, 1e-5);
      case "groupNorm" -> F.groupNorm(x.get(0), i(a, "groups"), x.get(1), x.get(2), 1e-5);
      case "batchNormTrain" -> F.batchNorm(x.get(0), null, null, x.get(1), x.get(2), true, 1e-5);
      case "batchNormEval" -> F.batchNorm(x.get(0), x.get(1), x.get(2), x.get(3), x.get(4), false, 1e-5);
      case "embedding" -> F.embedding(x.get(0), x.get(1));
      case "var" -> x.get(0).var(i(a, "dim"));
      case "std" -> x.get(0).std(i(a, "dim"));
      case "varDims" -> x.get(0).var(ints(a, "dims"), d(a, "correction"), i(a, "keepdim") == 1);
      case "stdDims" -> x.get(0).std(ints(a, "dims"), d(a, "correction"), i(a, "keepdim") == 1);
      case "norm" -> x.get(0).norm();
      case "normP" -> x.get(0).norm(d(a, "p"), i(a, "dim"), i(a, "keepdim") == 1);
      case "amin" -> x.get(0).amin(i(a, "dim"));
      case "aminAll" -> x.get(0).amin();
      case "all" -> x.get(0).all();
      case "any" -> x.get(0).any();
      case "flip" -> x.get(0).flip(ints(a, "dims"));
      case "roll" -> x.get(0).roll(i(a, "shift"), i(a, "dim"));
      case "tril" -> x.get(0).tril(i(a, "k"));
      case "triu" -> x.get(0).triu(i(a, "k"));
      case "diagonal" -> x.get(0).diagonal(i(a, "offset"), i(a, "dim1"), i(a, "dim2"));
      case "trace" -> x.get(0).trace();
      case "outer" -> x.get(0).outer(x.get(1));
      case "maskedFill" -> x.get(0).maskedFill(x.get(1), d(a, "value"));
      case "repeat" -> x.get(0).repeat(java.util.Arrays.stream(ints(a, "sizes")).asLongStream().toArray());
      case "diag" -> Tensor.diag(x.get(0), i(a, "offset"));
      case "linspace" -> Tensor.linspace(d(a, "start"), d(a, "end"), i(a, "steps"), a.get("dtype").equals("float32") ? DType.FLOAT32 : DType.FLOAT64);
      default -> throw new AssertionError("no Java call for " + fn);
    };
  }

  static long[] lastDims(Tensor x, int k) {
    long[] s = x.shape();
    return java.util.Arrays.copyOfRange(s, s.length - k, s.length);
  }

  static void assertClose(String what, double[] want, double[] got, double rtol, double atol) {
    assertEquals(want.length, got.length, what + ": element count");
    for (int k = 0; k < want.length; k++) {
      if (Double.isNaN(want[k])) {
        assertTrue(Double.isNaN(got[k]), what + "[" + k + "]: want NaN, got " + got[k]);
        continue;
      }
      if (Double.isInfinite(want[k])) {
        assertEquals(want[k], got[k], what + "[" + k + "]");
        continue;
      }
      assertTrue(Math.abs(got[k] - want[k]) <= atol + rtol * Math.abs(want[k]),
          what + "[" + k + "]: want " + want[k] + ", got " + got[k] + " (|diff| " + Math.abs(got[k] - want[k]) + ")");
    }
  }

  @TestFactory
  Stream<DynamicTest> againstTorch() throws Exception {
    return cases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c, NnReferenceTest::call)));
  }

  static void check(Case c) { check(c, NnReferenceTest::call); }

  static void check(Case c, Call call) {
    boolean f32 = c.out().dtype() == DType.FLOAT32;
    double rtol = f32 ? 2e-5 : 1e-12, atol = f32 ? 2e-6 : 1e-13;
    try (Scope s = Scope.open()) {
      Tensor y = call.apply(c.fn(), c.args(), c.in());
      assertArrayEquals(c.out().shape(), y.shape(), c.name() + ": shape");
      assertEquals(c.out().dtype(), y.dtype(), c.name() + ": dtype");
      if (y.dtype() == DType.INT64 || y.dtype() == DType.BOOL) {
        assertArrayEquals(c.out().to(DType.INT64).toLongArray(), y.to(DType.INT64).toLongArray(), c.name());
        return;
      }
      assertClose(c.name() + " value", c.out().toDoubleArray(), y.toDoubleArray(), rtol, atol);
      if (c.ct() == null) return;  // nothing to differentiate (a constructor)
      // vjp of the cotangent against torch's autograd, for the inputs torch differentiates
      List<Integer> diff = new ArrayList<>(c.grads().keySet());
      java.util.Collections.sort(diff);
      FnN f = args -> {
        List<Tensor> xs = new ArrayList<>(c.in());
        for (int k = 0; k < diff.size(); k++) xs.set(diff.get(k), (Tensor) args[k]);
        return call.apply(c.fn(), c.args(), xs);
      };
      Object[] primals = diff.stream().map(c.in()::get).toArray();
      List<Object> g = vjp(f, primals).apply(c.ct());
      for (int k = 0; k < diff.size(); k++)
        assertClose(c.name() + " grad of input " + diff.get(k), c.grads().get(diff.get(k)), ((Tensor) g.get(k)).toDoubleArray(), rtol * 10, atol * 10);
      if (!f32 && !diff.isEmpty()) transformsAgree(c, diff.get(0), call);
    }
  }

  /** vmap over two perturbed copies of input k == the loop; jacfwd == jacrev for input k. */
  static void transformsAgree(Case c, int k, Call call) {
    Tensor x = c.in().get(k);
    Fn1 fk = v -> {
      List<Tensor> xs = new ArrayList<>(c.in());
      xs.set(k, v);
      return call.apply(c.fn(), c.args(), xs);
    };
    Tensor x2 = x.mul(0.75).add(0.125);
    Tensor batched = vmap(fk).apply(Tensor.stack(List.of(x, x2), 0));
    Tensor loop = Tensor.stack(List.of(fk.apply(x), fk.apply(x2)), 0);
    assertClose(c.name() + " vmap vs loop", loop.toDoubleArray(), batched.toDoubleArray(), 1e-12, 1e-13);
    Tensor jf = jacfwd(fk).apply(x), jr = jacrev(fk).apply(x);
    assertClose(c.name() + " jacfwd vs jacrev", jr.toDoubleArray(), jf.toDoubleArray(), 1e-11, 1e-12);
  }
}
