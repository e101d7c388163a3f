package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Holds every op of the {@link Tensor} API to PyTorch 1.13: the cases in {@code ops_reference.txt} are
 * produced by {@code tests/reference/gen_ops_reference.py} (see there for the record format and for the
 * deliberate differences from torch). Each case builds its inputs with {@link Tensor#fromArray}, feeds them
 * through the view chain that makes them non-contiguous where asked, applies the op through the Java API and
 * compares shape, dtype and every value.
 */
class OpsReferenceTest {
    private record Input(DType dtype, long[] shape, String prep, String[] data) {}

    private record Case(String name, String op, Map<String, String> args, List<Input> inputs, DType dtype,
            long[] shape, String[] data, String tol) {}

    /** Ops (as named in the file) that the reference must exercise: the whole op API of Tensor. */
    private static final Set<String> API_OPS = Set.of(
            "neg", "exp", "log", "sin", "cos", "tanh", "sigmoid", "relu", "sqrt", "abs", "sign",
            "add", "sub", "mul", "div", "pow", "addS", "subS", "rsub", "mulS", "divS", "powS",
            "eq", "ne", "lt", "le", "gt", "ge", "eqS", "neS", "ltS", "leS", "gtS", "geS",
            "where", "to", "sum", "mean", "amax", "logsumexp", "softmax", "logSoftmax", "matmul", "linear",
            "reshape", "view", "flatten", "permute", "transpose", "t", "movedim", "expand", "slice", "select", "get",
            "squeeze", "unsqueeze", "contiguous", "indexSelect", "cat", "stack",
            "zeros", "ones", "full", "scalar", "eye", "arange", "zerosLike", "onesLike", "fullLike", "fromRows",
            // issue 14's elementwise vocabulary
            "log1p", "expm1", "erf", "erfc", "tan", "asin", "acos", "atan", "sinh", "cosh", "log2", "log10",
            "floor", "ceil", "round", "trunc", "isnan", "isinf", "isfinite", "logicalNot", "square", "reciprocal", "rsqrt",
            "maximum", "minimum", "atan2", "fmod", "remainder", "logicalAnd", "logicalOr", "clamp", "clampMin", "clampMax");

    // ------------------------------------------------------------------ loading

    private static List<Case> cases;

    private static synchronized List<Case> loadCases() throws IOException {
        if (cases != null) {
            return cases;
        }
        List<Case> out = new ArrayList<>();
        try (InputStream in = OpsReferenceTest.class.getResourceAsStream("ops_reference.txt")) {
            if (in == null) {
                throw new IOException("resource ops_reference.txt not found");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String name = null, op = null, tol = null;
            Map<String, String> args = null;
            List<Input> inputs = null;
            DType dtype = null;
            long[] shape = null;
            String[] data = null;
            for (String line; (line = reader.readLine()) != null; ) {
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] tok = line.split(" ");
                switch (tok[0]) {
                    case "case":
                        name = tok[1];
                        args = new HashMap<>();
                        inputs = new ArrayList<>();
                        break;
                    case "op":
                        op = tok[1];
                        for (int i = 2; i < tok.length; i++) {
                            int eq = tok[i].indexOf('=');
                            args.put(tok[i].substring(0, eq), tok[i].substring(eq + 1));
                        }
                        break;
                    case "in":
                        inputs.add(new Input(dtypeOf(tok[1]), longs(tok[2]), tok[3],
                                Arrays.copyOfRange(tok, 4, tok.length)));
                        break;
                    case "out":
                        dtype = dtypeOf(tok[1]);
                        shape = longs(tok[2]);
                        data = Arrays.copyOfRange(tok, 3, tok.length);
                        break;
                    case "tol":
                        tol = line.substring(4);
                        break;
                    case "end":
                        out.add(new Case(name, op, args, inputs, dtype, shape, data, tol));
                        break;
                    default:
                        throw new IOException("bad line in ops_reference.txt: " + line);
                }
            }
        }
        cases = out;
        return out;
    }

    private static DType dtypeOf(String s) {
        return DType.valueOf(s.toUpperCase(java.util.Locale.ROOT));
    }

    /** "2,3" -> {2, 3}; "_" -> {}. */
    private static long[] longs(String s) {
        if (s.equals("_")) {
            return new long[0];
        }
        return Arrays.stream(s.split(",")).mapToLong(Long::parseLong).toArray();
    }

    private static int[] ints(String s) {
        return Arrays.stream(longs(s)).mapToInt(Math::toIntExact).toArray();
    }

    /** A float64 written as its bit pattern in hex. */
    private static double hexDouble(String s) {
        return Double.longBitsToDouble(Long.parseUnsignedLong(s, 16));
    }

    // ------------------------------------------------------------------ building inputs

    private static Tensor build(Input in) {
        Tensor t;
        String[] d = in.data();
        switch (in.dtype()) {
            case FLOAT32: {
                float[] v = new float[d.length];
                for (int i = 0; i < d.length; i++) {
                    v[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(d[i], 16));
                }
                t = Tensor.fromArray(v, in.shape());
                break;
            }
            case FLOAT64: {
                double[] v = new double[d.length];
                for (int i = 0; i < d.length; i++) {
                    v[i] = hexDouble(d[i]);
                }
                t = Tensor.fromArray(v, in.shape());
                break;
            }
            case INT64:
                t = Tensor.fromArray(Arrays.stream(d).mapToLong(Long::parseLong).toArray(), in.shape());
                break;
            default: {
                boolean[] v = new boolean[d.length];
                for (int i = 0; i < d.length; i++) {
                    v[i] = d[i].equals("1");
                }
                t = Tensor.of(v).reshape(in.shape());
            }
        }
        return prep(t, in.prep());
    }

    /** Applies the view chain that makes an operand non-contiguous (same syntax as the generator). */
    private static Tensor prep(Tensor t, String chain) {
        if (chain.equals("-")) {
            return t;
        }
        for (String step : chain.split(";")) {
            String[] p = step.split(":");
            long[] a = new long[p.length - 1];
            for (int i = 1; i < p.length; i++) {
                a[i - 1] = Long.parseLong(p[i]);
            }
            switch (p[0]) {
                case "t" -> t = t.t();
                case "transpose" -> t = t.transpose((int) a[0], (int) a[1]);
                case "permute" -> t = t.permute(Arrays.stream(a).mapToInt(Math::toIntExact).toArray());
                case "slice" -> t = t.slice((int) a[0], a[1], a[2], a[3]);
                case "select" -> t = t.select((int) a[0], a[1]);
                case "expand" -> t = t.expand(a);
                case "unsqueeze" -> t = t.unsqueeze((int) a[0]);
                default -> throw new IllegalStateException("unknown prep step " + step);
            }
        }
        return t;
    }

    // ------------------------------------------------------------------ applying ops

    private static Tensor apply(Case c, List<Tensor> x) {
        Map<String, String> a = c.args();
        switch (c.op()) {
            case "neg": return x.get(0).neg();
            case "exp": return x.get(0).exp();
            case "log": return x.get(0).log();
            case "sin": return x.get(0).sin();
            case "cos": return x.get(0).cos();
            case "tanh": return x.get(0).tanh();
            case "sigmoid": return x.get(0).sigmoid();
            case "relu": return x.get(0).relu();
            case "sqrt": return x.get(0).sqrt();
            case "abs": return x.get(0).abs();
            case "sign": return x.get(0).sign();
            case "log1p": return x.get(0).log1p();
            case "expm1": return x.get(0).expm1();
            case "erf": return x.get(0).erf();
            case "erfc": return x.get(0).erfc();
            case "tan": return x.get(0).tan();
            case "asin": return x.get(0).asin();
            case "acos": return x.get(0).acos();
            case "atan": return x.get(0).atan();
            case "sinh": return x.get(0).sinh();
            case "cosh": return x.get(0).cosh();
            case "log2": return x.get(0).log2();
            case "log10": return x.get(0).log10();
            case "floor": return x.get(0).floor();
            case "ceil": return x.get(0).ceil();
            case "round": return x.get(0).round();
            case "trunc": return x.get(0).trunc();
            case "isnan": return x.get(0).isnan();
            case "isinf": return x.get(0).isinf();
            case "isfinite": return x.get(0).isfinite();
            case "logicalNot": return x.get(0).logicalNot();
            case "square": return x.get(0).square();
            case "reciprocal": return x.get(0).reciprocal();
            case "rsqrt": return x.get(0).rsqrt();
            case "maximum": return x.get(0).maximum(x.get(1));
            case "minimum": return x.get(0).minimum(x.get(1));
            case "atan2": return x.get(0).atan2(x.get(1));
            case "fmod": return x.get(0).fmod(x.get(1));
            case "remainder": return x.get(0).remainder(x.get(1));
            case "logicalAnd": return x.get(0).logicalAnd(x.get(1));
            case "logicalOr": return x.get(0).logicalOr(x.get(1));
            case "clamp": return x.size() == 3 ? x.get(0).clamp(x.get(1), x.get(2)) : x.get(0).clamp(scalar(a, "lo"), scalar(a, "hi"));
            case "clampMin": return x.get(0).clampMin(scalar(a, "lo"));
            case "clampMax": return x.get(0).clampMax(scalar(a, "hi"));
            case "add": return x.get(0).add(x.get(1));
            case "sub": return x.get(0).sub(x.get(1));
            case "mul": return x.get(0).mul(x.get(1));
            case "div": return x.get(0).div(x.get(1));
            case "pow": return x.get(0).pow(x.get(1));
            case "eq": return x.get(0).eq(x.get(1));
            case "ne": return x.get(0).ne(x.get(1));
            case "lt": return x.get(0).lt(x.get(1));
            case "le": return x.get(0).le(x.get(1));
            case "gt": return x.get(0).gt(x.get(1));
            case "ge": return x.get(0).ge(x.get(1));
            // si= is a Java long scalar (an integer one), s= a double (a floating one)
            case "addS": return a.containsKey("si") ? x.get(0).add(longScalar(a)) : x.get(0).add(scalar(a, "s"));
            case "subS": return a.containsKey("si") ? x.get(0).sub(longScalar(a)) : x.get(0).sub(scalar(a, "s"));
            case "rsub": return a.containsKey("si") ? x.get(0).rsub(longScalar(a)) : x.get(0).rsub(scalar(a, "s"));
            case "mulS": return a.containsKey("si") ? x.get(0).mul(longScalar(a)) : x.get(0).mul(scalar(a, "s"));
            case "divS": return a.containsKey("si") ? x.get(0).div(longScalar(a)) : x.get(0).div(scalar(a, "s"));
            case "powS": return a.containsKey("si") ? x.get(0).pow(longScalar(a)) : x.get(0).pow(scalar(a, "s"));
            case "eqS": return a.containsKey("si") ? x.get(0).eq(longScalar(a)) : x.get(0).eq(scalar(a, "s"));
            case "neS": return a.containsKey("si") ? x.get(0).ne(longScalar(a)) : x.get(0).ne(scalar(a, "s"));
            case "ltS": return a.containsKey("si") ? x.get(0).lt(longScalar(a)) : x.get(0).lt(scalar(a, "s"));
            case "leS": return a.containsKey("si") ? x.get(0).le(longScalar(a)) : x.get(0).le(scalar(a, "s"));
            case "gtS": return a.containsKey("si") ? x.get(0).gt(longScalar(a)) : x.get(0).gt(scalar(a, "s"));
            case "geS": return a.containsKey("si") ? x.get(0).ge(longScalar(a)) : x.get(0).ge(scalar(a, "s"));
            case "where": return Tensor.where(x.get(0), x.get(1), x.get(2));
            case "to": return x.get(0).to(dtypeOf(a.get("dtype")));
            case "sum": case "mean": case "amax": case "logsumexp": return reduce(c.op(), x.get(0), a);
            case "softmax": return x.get(0).softmax(integer(a, "dim"));
            case "logSoftmax": return x.get(0).logSoftmax(integer(a, "dim"));
            case "matmul": return x.get(0).matmul(x.get(1));
            case "linear": return x.get(0).linear(x.get(1), x.size() > 2 ? x.get(2) : null);
            case "reshape": return x.get(0).reshape(longs(a.get("shape")));
            case "view": return x.get(0).view(longs(a.get("shape")));
            case "flatten": return x.get(0).flatten();
            case "permute": return x.get(0).permute(ints(a.get("perm")));
            case "transpose": return x.get(0).transpose(integer(a, "d0"), integer(a, "d1"));
            case "t": return x.get(0).t();
            case "movedim": return x.get(0).movedim(integer(a, "src"), integer(a, "dst"));
            case "expand": return x.get(0).expand(longs(a.get("shape")));
            case "slice":
                if (a.containsKey("istep")) {
                    return x.get(0).slice(integer(a, "dim"), Long.parseLong(a.get("istart")), Long.parseLong(a.get("iend")),
                            Long.parseLong(a.get("istep")));
                }
                return x.get(0).slice(integer(a, "dim"), Long.parseLong(a.get("istart")), Long.parseLong(a.get("iend")));
            case "select": return x.get(0).select(integer(a, "dim"), Long.parseLong(a.get("index")));
            case "get": return x.get(0).get(Long.parseLong(a.get("index")));
            case "squeeze": return a.containsKey("dims") ? x.get(0).squeeze(ints(a.get("dims"))) : x.get(0).squeeze();
            case "unsqueeze": return x.get(0).unsqueeze(integer(a, "dim"));
            case "contiguous": return x.get(0).contiguous();
            case "indexSelect": return x.get(0).indexSelect(integer(a, "dim"), x.get(1));
            case "cat": return Tensor.cat(x, integer(a, "dim"));
            case "stack": return Tensor.stack(x, integer(a, "dim"));
            case "zeros": return Tensor.zeros(dtypeOf(a.get("dtype")), longs(a.get("shape")));
            case "ones": return Tensor.ones(dtypeOf(a.get("dtype")), longs(a.get("shape")));
            case "full": return Tensor.full(scalar(a, "value"), dtypeOf(a.get("dtype")), longs(a.get("shape")));
            case "scalar": return Tensor.scalar(scalar(a, "value"), dtypeOf(a.get("dtype")));
            case "zerosLike": return Tensor.zerosLike(x.get(0));
            case "onesLike": return Tensor.onesLike(x.get(0));
            case "fullLike": return Tensor.fullLike(x.get(0), scalar(a, "value"));
            case "eye":
                if (!a.containsKey("m")) {
                    return Tensor.eye(Long.parseLong(a.get("n")));
                }
                return Tensor.eye(Long.parseLong(a.get("n")), Long.parseLong(a.get("m")), dtypeOf(a.get("dtype")));
            case "arange":
                if (!a.containsKey("end")) {
                    return Tensor.arange(Long.parseLong(a.get("n")));
                }
                return Tensor.arange(scalar(a, "start"), scalar(a, "end"), scalar(a, "step"), dtypeOf(a.get("dtype")));
            case "fromRows": return fromRows(x.get(0));
            default: throw new IllegalStateException("unknown op " + c.op());
        }
    }

    /** sum/mean/amax/logsumexp through the overload the arguments select: dims[] + keepdim, dim (+ keepdim), or all. */
    private static Tensor reduce(String op, Tensor x, Map<String, String> a) {
        boolean keep = "1".equals(a.get("keepdim"));
        if (a.containsKey("dims")) {
            int[] dims = ints(a.get("dims"));
            switch (op) {
                case "sum": return x.sum(dims, keep);
                case "mean": return x.mean(dims, keep);
                case "amax": return x.amax(dims, keep);
                default: return x.logsumexp(dims, keep);
            }
        }
        if (a.containsKey("dim") && a.containsKey("keepdim")) {
            int d = integer(a, "dim");
            switch (op) {
                case "sum": return x.sum(d, keep);
                case "mean": return x.mean(d, keep);
                case "amax": return x.amax(d, keep);
                default: return x.logsumexp(d, keep);
            }
        }
        if (a.containsKey("dim")) {
            int d = integer(a, "dim");
            switch (op) {
                case "sum": return x.sum(d);
                case "mean": return x.mean(d);
                case "amax": return x.amax(d);
                default: return x.logsumexp(d);
            }
        }
        switch (op) {
            case "sum": return x.sum();
            case "mean": return x.mean();
            case "amax": return x.amax();
            default: return x.logsumexp();
        }
    }

    /** Rebuilds a 2-D or 3-D tensor through the nested-array factories Tensor.of(float[][]) and friends. */
    private static Tensor fromRows(Tensor src) {
        long[] s = src.shape();
        if (src.dtype() == DType.FLOAT64) {
            double[] v = src.toDoubleArray();
            double[][] rows = new double[(int) s[0]][];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = Arrays.copyOfRange(v, i * (int) s[1], (i + 1) * (int) s[1]);
            }
            return Tensor.of(rows);
        }
        float[] v = src.toFloatArray();
        if (s.length == 2) {
            float[][] rows = new float[(int) s[0]][];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = Arrays.copyOfRange(v, i * (int) s[1], (i + 1) * (int) s[1]);
            }
            return Tensor.of(rows);
        }
        int r = (int) s[1], cols = (int) s[2];
        float[][][] blocks = new float[(int) s[0]][r][];
        for (int i = 0; i < blocks.length; i++) {
            for (int j = 0; j < r; j++) {
                blocks[i][j] = Arrays.copyOfRange(v, (i * r + j) * cols, (i * r + j + 1) * cols);
            }
        }
        return Tensor.of(blocks);
    }

    private static long longScalar(Map<String, String> a) {
        return Long.parseLong(a.get("si"));
    }

    private static double scalar(Map<String, String> a, String key) {
        return hexDouble(a.get(key));
    }

    private static int integer(Map<String, String> a, String key) {
        return Integer.parseInt(a.get(key));
    }

    // ------------------------------------------------------------------ comparing

    private static void check(Case c) {
        try (Scope scope = Scope.open()) {
            List<Tensor> x = new ArrayList<>();
            for (Input in : c.inputs()) {
                x.add(build(in));
            }
            Tensor got = apply(c, x);
            String where = c.name() + " (" + c.op() + " " + c.args() + ")";
            assertArrayEquals(c.shape(), got.shape(), where + ": shape");
            assertEquals(c.dtype(), got.dtype(), where + ": dtype");
            switch (c.dtype()) {
                case FLOAT32: {
                    float[] v = got.toFloatArray();
                    double[] g = new double[v.length];
                    double[] w = new double[c.data().length];
                    for (int i = 0; i < v.length; i++) {
                        g[i] = v[i];
                    }
                    for (int i = 0; i < w.length; i++) {
                        w[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(c.data()[i], 16));
                    }
                    compareFloats(where, c.tol(), w, g);
                    break;
                }
                case FLOAT64: {
                    double[] w = new double[c.data().length];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = hexDouble(c.data()[i]);
                    }
                    compareFloats(where, c.tol(), w, got.toDoubleArray());
                    break;
                }
                case INT64:
                    assertArrayEquals(Arrays.stream(c.data()).mapToLong(Long::parseLong).toArray(), got.toLongArray(),
                            where + ": values");
                    break;
                default: {
                    boolean[] w = new boolean[c.data().length];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = c.data()[i].equals("1");
                    }
                    assertArrayEquals(w, got.toBooleanArray(), where + ": values");
                }
            }
        }
    }

    /**
     * NaN must meet NaN and infinities must match exactly; "exact" also compares the sign of zero (float32
     * values widen to double exactly, so comparing doubles is comparing bits); otherwise finite values must
     * satisfy |got - want| <= atol + rtol * |want|.
     */
    private static void compareFloats(String where, String tol, double[] want, double[] got) {
        assertEquals(want.length, got.length, where + ": number of values");
        boolean exact = tol.equals("exact");
        double rtol = 0, atol = 0;
        if (!exact) {
            String[] p = tol.split(" ");
            rtol = Double.parseDouble(p[0]);
            atol = Double.parseDouble(p[1]);
        }
        for (int i = 0; i < want.length; i++) {
            double w = want[i], g = got[i];
            boolean ok;
            if (Double.isNaN(w) || Double.isNaN(g)) {
                ok = Double.isNaN(w) && Double.isNaN(g);
            } else if (exact) {
                ok = Double.doubleToLongBits(w) == Double.doubleToLongBits(g);
            } else if (Double.isInfinite(w) || Double.isInfinite(g)) {
                ok = w == g;
            } else {
                ok = Math.abs(g - w) <= atol + rtol * Math.abs(w);
            }
            if (!ok) {
                fail(where + ": element " + i + " is " + g + ", expected " + w + " (tol " + tol + ")\n  got      "
                        + Arrays.toString(got) + "\n  expected " + Arrays.toString(want));
            }
        }
    }

    // ------------------------------------------------------------------ tests

    @TestFactory
    Stream<DynamicTest> matchesPyTorch() throws IOException {
        return loadCases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
    }

    @Test
    void referenceCoversTheWholeOpApi() throws IOException {
        List<Case> all = loadCases();
        assertTrue(all.size() >= 150, "too few reference cases: " + all.size());
        Set<String> seen = all.stream().map(Case::op).collect(Collectors.toSet());
        Set<String> missing = new TreeSet<>(API_OPS);
        missing.removeAll(seen);
        assertTrue(missing.isEmpty(), "ops without a reference case: " + missing);
        Set<String> unknown = new TreeSet<>(seen);
        unknown.removeAll(API_OPS);
        assertTrue(unknown.isEmpty(), "reference ops the test does not know: " + unknown);
        // every dtype appears both as input and as output
        for (DType d : DType.values()) {
            assertTrue(all.stream().anyMatch(c -> c.dtype() == d), "no case outputs " + d);
            assertTrue(all.stream().anyMatch(c -> c.inputs().stream().anyMatch(in -> in.dtype() == d)), "no case takes " + d);
        }
        assertTrue(all.stream().anyMatch(c -> c.inputs().stream().anyMatch(in -> !in.prep().equals("-"))),
                "no non-contiguous inputs");
    }
}
