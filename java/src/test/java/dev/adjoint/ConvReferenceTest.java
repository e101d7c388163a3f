package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * F.conv2d, F.conv1d, F.maxPool2d, F.avgPool2d and F.pad against PyTorch 1.13: the cases in
 * {@code conv_reference.txt} come from {@code tests/reference/gen_conv_reference.py} (see there
 * for the format). Each case compares the result and the gradients of {@code sum(u * result)}
 * (torch's autograd, max pooling's ties included) with Adjoint's.
 */
class ConvReferenceTest {
  private record Data(DType dtype, long[] shape, String[] hex) {}

  private record Case(String name, String op, Map<String, String> args, List<Data> inputs, Data out, Data cot,
      Map<Integer, Data> grads, double rtol, double atol) {}

  private static List<Case> load() throws IOException {
    List<Case> cases = new ArrayList<>();
    try (InputStream in = ConvReferenceTest.class.getResourceAsStream("conv_reference.txt")) {
      if (in == null) throw new IOException("resource conv_reference.txt not found");
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String name = null, op = null;
      Map<String, String> args = null;
      List<Data> inputs = null;
      Map<Integer, Data> grads = null;
      Data out = null, cot = null;
      double rtol = 0, atol = 0;
      for (String line; (line = r.readLine()) != null; ) {
        if (line.isEmpty() || line.startsWith("#")) continue;
        String[] t = line.split(" ");
        switch (t[0]) {
          case "case" -> {
            name = t[1];
            inputs = new ArrayList<>();
            grads = new HashMap<>();
          }
          case "op" -> {
            op = t[1];
            args = new HashMap<>();
            for (int i = 2; i < t.length; i++) {
              String[] kv = t[i].split("=", 2);
              args.put(kv[0], kv[1]);
            }
          }
          case "in" -> inputs.add(data(t, 1));
          case "out" -> out = data(t, 1);
          case "cot" -> cot = data(t, 1);
          case "grad" -> grads.put(Integer.parseInt(t[1]), data(t, 2));
          case "tol" -> {
            rtol = Double.parseDouble(t[1]);
            atol = Double.parseDouble(t[2]);
          }
          case "end" -> cases.add(new Case(name, op, args, inputs, out, cot, grads, rtol, atol));
          default -> throw new IOException("bad line in conv_reference.txt: " + line);
        }
      }
    }
    return cases;
  }

  private static Data data(String[] t, int from) {
    DType dt = DType.valueOf(t[from].toUpperCase(Locale.ROOT));
    long[] shape = t[from + 1].equals("_") ? new long[0] : Arrays.stream(t[from + 1].split(",")).mapToLong(Long::parseLong).toArray();
    return new Data(dt, shape, Arrays.copyOfRange(t, from + 2, t.length));
  }

  private static Tensor build(Data d) {
    if (d.dtype() == DType.FLOAT32) {
      float[] v = new float[d.hex().length];
      for (int i = 0; i < v.length; i++) v[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(d.hex()[i], 16));
      return Tensor.fromArray(v, d.shape());
    }
    double[] v = new double[d.hex().length];
    for (int i = 0; i < v.length; i++) v[i] = Double.longBitsToDouble(Long.parseUnsignedLong(d.hex()[i], 16));
    return Tensor.fromArray(v, d.shape());
  }

  private static int[] ints(String s) {
    return Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  /** The op of a case through the F API, with the case's arguments. */
  static Tensor apply(String op, Map<String, String> a, List<Tensor> x) {
    Tensor bias = x.size() > 2 ? x.get(2) : null;
    return switch (op) {
      case "conv2d" -> {
        int[] s = ints(a.get("stride")), p = ints(a.get("padding")), d = ints(a.get("dilation"));
        int g = Integer.parseInt(a.get("groups"));
        // the short form where it can express the call, so that both overloads are exercised
        yield s.length == 1 && p.length == 1 && d[0] == 1 && g == 1 && d.length == 1
            ? F.conv2d(x.get(0), x.get(1), bias, s[0], p[0])
            : F.conv2d(x.get(0), x.get(1), bias, s, p, d, g);
      }
      case "conv1d" -> {
        int s = ints(a.get("stride"))[0], p = ints(a.get("padding"))[0], d = ints(a.get("dilation"))[0];
        int g = Integer.parseInt(a.get("groups"));
        yield d == 1 && g == 1 ? F.conv1d(x.get(0), x.get(1), bias, s, p) : F.conv1d(x.get(0), x.get(1), bias, s, p, d, g);
      }
      case "maxPool2d" -> {
        int k = Integer.parseInt(a.get("kernel")), s = Integer.parseInt(a.get("stride"));
        yield k == s ? F.maxPool2d(x.get(0), k) : F.maxPool2d(x.get(0), k, s);
      }
      case "avgPool2d" -> F.avgPool2d(x.get(0), Integer.parseInt(a.get("kernel")));
      case "pad" -> F.pad(x.get(0), Arrays.stream(ints(a.get("pad"))).asLongStream().toArray());
      default -> throw new IllegalStateException("unknown op " + op);
    };
  }

  private static void assertClose(Data want, Tensor got, double rtol, double atol, String what) {
    assertArrayEquals(want.shape(), got.shape(), what + ": shape");
    assertEquals(want.dtype(), got.dtype(), what + ": dtype");
    double[] w = build(want).toDoubleArray(), g = got.toDoubleArray();
    for (int i = 0; i < w.length; i++) {
      double tol = atol + rtol * Math.abs(w[i]);
      final int at = i;
      assertTrue(Math.abs(g[i] - w[i]) <= tol, () -> what + "[" + at + "]: got " + g[at] + ", torch " + w[at]);
    }
  }

  @TestFactory
  Stream<DynamicTest> matchesTorch() throws IOException {
    return load().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
      try (Scope s = Scope.open()) {
        List<Tensor> in = new ArrayList<>();
        for (Data d : c.inputs()) in.add(build(d));
        assertClose(c.out(), apply(c.op(), c.args(), in), c.rtol(), c.atol(), c.name() + " value");
        VjpResult v = Func.vjp(args -> apply(c.op(), c.args(), Arrays.stream(args).map(o -> (Tensor) o).toList()), in.toArray());
        List<Object> g = v.apply(build(c.cot()));
        for (Map.Entry<Integer, Data> e : c.grads().entrySet())
          assertClose(e.getValue(), (Tensor) g.get(e.getKey()), c.rtol(), c.atol(), c.name() + " gradient of input " + e.getKey());
      }
    }));
  }

  /** Every op and both forms of each are in the reference. */
  @Test
  void coversEveryForm() throws IOException {
    Set<String> ops = new TreeSet<>();
    for (Case c : load()) ops.add(c.op());
    assertEquals(Set.of("conv2d", "conv1d", "maxPool2d", "avgPool2d", "pad"), ops);
  }
}
