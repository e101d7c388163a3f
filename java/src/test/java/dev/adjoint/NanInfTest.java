package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * NaN and ±Inf propagate as IEEE 754 says, through every op of the Tensor API and through the
 * transforms.
 *
 * <p><b>Forward.</b> Every op is evaluated at points that include NaN, ±Inf, ±0, subnormals, and
 * values whose results overflow or underflow, in float64 and float32, and compared element by
 * element with the same formula evaluated in plain Java doubles (for float32: on the float inputs,
 * the result rounded to float). NaN must meet NaN, an infinity the same infinity, a finite value
 * a finite value within rounding (1e-14 relative in float64, 1e-5 in float32); ±0 compare equal.
 * The formulas, where there is a choice, are PyTorch's:
 * <ul>
 *   <li>sigmoid is {@code x >= 0 ? 1/(1+e^-x) : e^x/(1+e^x)} (sigmoid(-Inf) = 0, sigmoid(+Inf) = 1);
 *       relu is {@code Math.max(x, 0)} (relu(NaN) = NaN); sign is {@code Math.signum} (sign(NaN) = NaN).
 *   <li>pow follows IEEE 754 / C99 {@code pow}, not {@code Math.pow}, where they differ:
 *       pow(1, NaN) = 1 and pow(-1, ±Inf) = 1 (Java gives NaN for both).
 *   <li>amax: NaN if any element is NaN. softmax / log_softmax subtract the max first (a +Inf makes
 *       the whole slice NaN, like torch; -Inf entries give 0 / -Inf); logsumexp shifts by the max
 *       unless it is infinite (logsumexp([Inf, 1]) = Inf, logsumexp([-Inf, -Inf]) = -Inf, like torch).
 *   <li>matmul / linear: the plain sum of products (Inf * 0 = NaN, Inf + -Inf = NaN).
 *   <li>views, copies, cat, stack, index_select and where move NaN payloads and the sign of zero
 *       bit for bit; bool conversion maps NaN to true.
 *   <li>allclose: equal infinities are close, an infinity is close to nothing else, NaN to nothing.
 *   <li>int64 has no NaN or Inf: a scalar op, comparison or fill that would have to take NaN, ±Inf
 *       or a value beyond int64's range in an int64 tensor throws (like torch's "value cannot be
 *       converted to type int64_t without overflow"). NaN / Inf converted by to(INT64) is not
 *       asserted: C++ leaves that conversion undefined (x86 gives INT64_MIN, as torch does there).
 * </ul>
 *
 * <p><b>Transforms.</b> grad, jvp, vjp, vmap, jacrev, jacfwd and hessian are compared with the
 * derivative rule evaluated in Java doubles, at the same points and for (co)tangents that include
 * 0, NaN and ±Inf: a derivative that is infinite at a point is Inf there (sqrt'(0) = Inf, log'(0) =
 * Inf, (1/x)'(0) = -Inf), a NaN input gives a NaN derivative wherever the derivative depends on
 * the input, and a (co)tangent of 0 times an infinite partial is NaN (IEEE 0 * Inf; torch.func gives
 * the same, e.g. jacrev(sqrt)([0, 1]) = [[Inf, 0], [NaN, 0.5]]). What the rules define on purpose,
 * and this test asserts:
 * <ul>
 *   <li>relu'(x) is the indicator x > 0: relu'(0) = 0 (like torch) and relu'(NaN) = 0 (like JAX's
 *       select rule; torch's threshold_backward passes the gradient, 1); the (co)tangent is selected,
 *       never multiplied, so relu' of an Inf or NaN cotangent at x <= 0 is 0.
 *   <li>sign'(x) = 0 everywhere, NaN included (like torch); abs'(x) = sign(x), so abs'(0) = 0 and
 *       abs'(NaN) = NaN.
 *   <li>derivatives that do not depend on the point stay finite at NaN and Inf: neg, add, sub, sum,
 *       mean, mul with respect to the other factor (d(a*b)/da = b even where a is NaN), views.
 *   <li>pow: d(a^b)/da = b * a^(b-1), taken as 0 where b == 0 (a^0 is constant; torch and JAX mask it
 *       the same way); d(a^b)/db = a^b * log(a), taken as 0 where a == 0 (torch masks only where also
 *       b >= 0).
 *   <li>amax spreads its derivative evenly over the elements equal to the max: with a NaN in the
 *       slice no element equals it, and 0/0 makes the whole slice's derivative NaN (like torch).
 *   <li>log'(x) = 1/x also where log(x) is NaN (x < 0), like torch.
 *   <li>logsumexp'(x) is the softmax with the forward pass's shift (the max, or 0 where the max is
 *       infinite): [NaN, 0, 0] at [Inf, 1, 2], NaN at [-Inf, -Inf] (torch's exp(x - logsumexp(x)) gives
 *       the same there).
 *   <li>jacrev / jacfwd give what vmap of vjp / jvp over a dense identity gives (their definition,
 *       and torch.func's result), however the core represents the basis rows.
 *   <li>where passes a zero (co)tangent to the branch not taken, so grad of where(x > 0, sqrt(x), 0)
 *       at 0 is 0 * Inf = NaN (as in torch and JAX); the "double where" gives 0.
 * </ul>
 */
class NanInfTest extends ScopedTest {
  static final double NAN = Double.NaN, INF = Double.POSITIVE_INFINITY;
  /** Where every unary op and rule is evaluated. */
  static final double[] POINTS = {NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-310, 88.0, 100.0, 710.0, -745.5, 1e300, -1e300};
  /** Operands of binary ops and comparisons: every pair is tried. */
  static final double[] OPERANDS = {NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 2.0, 0.5, -3.0, 1e308};
  /** (Co)tangents for the unary rules, applied at every point. */
  static final double[] TANGENTS = {1.0, 0.0, -1.5, NAN, INF, -INF};
  /** Rows for the reductions and their derivatives. */
  static final double[][] ROWS = {
      {1, 2, 3}, {INF, 1, 2}, {-INF, 1, 2}, {INF, -INF, 1}, {NAN, 1, 2}, {1, NAN, INF}, {INF, INF, 1}, {-INF, -INF, -INF},
      {-INF, 0, -INF}, {INF, INF, INF}, {1e308, 1e308, 0}, {-0.0, 0.0, -0.0}, {2, 2, 1}};

  private static final AtomicLong COMPARED = new AtomicLong(), NONFINITE = new AtomicLong();

  @AfterAll
  static void report() {
    System.out.printf("NanInfTest: %d values compared with Java's IEEE 754 results, %d of them NaN or infinite%n", COMPARED.get(),
        NONFINITE.get());
  }

  // ------------------------------------------------------------------ comparison

  private static double rtol(DType d) {
    return d == DType.FLOAT32 ? 1e-5 : 1e-14;
  }

  private static double atol(DType d) {
    return d == DType.FLOAT32 ? 1e-6 : 1e-300;
  }

  /** The float32 or float64 value Java computes, rounded to the dtype. */
  private static double round(double v, DType d) {
    return d == DType.FLOAT32 ? (double) (float) v : v;
  }

  /** want and got agree: both NaN, the same infinity, or finite and within rtol / atol. */
  static void same(String what, double want, double got, double rtol, double atol) {
    COMPARED.incrementAndGet();
    if (Double.isNaN(want)) {
      NONFINITE.incrementAndGet();
      if (!Double.isNaN(got)) fail(what + ": expected NaN, got " + got);
    } else if (Double.isInfinite(want)) {
      NONFINITE.incrementAndGet();
      if (got != want) fail(what + ": expected " + want + ", got " + got);
    } else {
      if (Double.isNaN(got) || Double.isInfinite(got)) fail(what + ": expected " + want + ", got " + got);
      if (!(Math.abs(got - want) <= rtol * Math.abs(want) + atol)) fail(what + ": expected " + want + ", got " + got);
    }
  }

  static void sameBits(String what, double want, double got) {
    COMPARED.incrementAndGet();
    if (Double.isNaN(want) || Double.isInfinite(want)) NONFINITE.incrementAndGet();
    if (Double.doubleToRawLongBits(want) != Double.doubleToRawLongBits(got))
      fail(what + ": expected " + want + " (bits " + Long.toHexString(Double.doubleToRawLongBits(want)) + "), got " + got + " (bits "
          + Long.toHexString(Double.doubleToRawLongBits(got)) + ")");
  }

  static void sameAll(String what, double[] want, Tensor got, DType d) {
    assertEquals(d, got.dtype(), what + ": dtype");
    double[] g = got.toDoubleArray();
    assertEquals(want.length, g.length, what + ": number of elements");
    for (int i = 0; i < g.length; i++) same(what + " [" + i + "]", round(want[i], d), g[i], rtol(d), atol(d));
  }

  /** A 1-D tensor of {@code v} in dtype {@code d} (float32: each value rounded to float). */
  static Tensor t(DType d, double... v) {
    if (d == DType.FLOAT64) return Tensor.fromArray(v.clone(), v.length);
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
    return Tensor.fromArray(f, f.length);
  }

  /** The values as the dtype holds them (float32: rounded to float). */
  static double[] held(DType d, double... v) {
    double[] r = new double[v.length];
    for (int i = 0; i < v.length; i++) r[i] = round(v[i], d);
    return r;
  }

  static Tensor matrix(DType d, double[][] rows) {
    int n = rows.length, m = rows[0].length;
    double[] flat = new double[n * m];
    for (int i = 0; i < n; i++) System.arraycopy(rows[i], 0, flat, i * m, m);
    return t(d, flat).reshape(n, m);
  }

  static String str(double v) {
    return Double.toString(v);
  }

  // ------------------------------------------------------------------ Java references

  static double sigmoid(double x) {
    return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  }

  /** IEEE 754 / C99 pow: Math.pow except pow(1, y) = 1 and pow(-1, ±Inf) = 1 for every y. */
  static double pow(double x, double y) {
    if (x == 1.0 || y == 0.0) return 1.0;
    if (x == -1.0 && Double.isInfinite(y)) return 1.0;
    return Math.pow(x, y);
  }

  /**
   * A derivative rule: the output tangent for tangent t at x, each intermediate rounded by r to the
   * dtype the core computes in (float32 intermediates overflow sooner: exp'(100) is Inf in float32).
   */
  interface Rule {
    double apply(double x, double t, DoubleUnaryOperator r);
  }

  /** A unary op: the Tensor method, its Java formula, and its rule. */
  enum Unary {
    NEG(Tensor::neg, x -> -x, (x, t, r) -> -t),
    EXP(Tensor::exp, Math::exp, (x, t, r) -> t * r.applyAsDouble(Math.exp(x))),
    LOG(Tensor::log, Math::log, (x, t, r) -> t * r.applyAsDouble(1 / x)),
    SIN(Tensor::sin, Math::sin, (x, t, r) -> t * r.applyAsDouble(Math.cos(x))),
    COS(Tensor::cos, Math::cos, (x, t, r) -> t * r.applyAsDouble(-Math.sin(x))),
    TANH(Tensor::tanh, Math::tanh, (x, t, r) -> {
      double y = r.applyAsDouble(Math.tanh(x));
      return t * r.applyAsDouble(1 - r.applyAsDouble(y * y));
    }),
    SIGMOID(Tensor::sigmoid, NanInfTest::sigmoid, (x, t, r) -> {
      double s = r.applyAsDouble(sigmoid(x));
      return t * r.applyAsDouble(s * r.applyAsDouble(1 - s));
    }),
    RELU(Tensor::relu, x -> Math.max(x, 0.0), (x, t, r) -> x > 0 ? t : 0.0),
    SQRT(Tensor::sqrt, Math::sqrt, (x, t, r) -> t * r.applyAsDouble(0.5 / r.applyAsDouble(Math.sqrt(x)))),
    ABS(Tensor::abs, Math::abs, (x, t, r) -> t * Math.signum(x)),
    SIGN(Tensor::sign, Math::signum, (x, t, r) -> 0.0);

    final Function<Tensor, Tensor> op;
    final DoubleUnaryOperator f;
    final Rule rule;

    Unary(Function<Tensor, Tensor> op, DoubleUnaryOperator f, Rule rule) {
      this.op = op;
      this.f = f;
      this.rule = rule;
    }

    /** The Java formula on the value as dtype d holds it, rounded to d. */
    double ref(double x, DType d) {
      return round(f.applyAsDouble(round(x, d)), d);
    }

    double tangent(double x, double t, DType d) {
      return round(rule.apply(round(x, d), round(t, d), v -> round(v, d)), d);
    }
  }

  /** A binary op: the tensor method, the scalar method, its Java formula and its two partial derivatives. */
  enum Binary {
    ADD(Tensor::add, Tensor::add, (x, y) -> x + y, (x, y) -> 1.0, (x, y) -> 1.0),
    SUB(Tensor::sub, Tensor::sub, (x, y) -> x - y, (x, y) -> 1.0, (x, y) -> -1.0),
    MUL(Tensor::mul, Tensor::mul, (x, y) -> x * y, (x, y) -> y, (x, y) -> x),
    DIV(Tensor::div, Tensor::div, (x, y) -> x / y, (x, y) -> 1 / y, (x, y) -> -((x / y) / y)),
    POW(Tensor::pow, Tensor::pow, NanInfTest::pow, (x, y) -> y == 0 ? 0.0 : y * pow(x, y - 1),
        (x, y) -> x == 0 ? 0.0 : pow(x, y) * Math.log(x));

    final BiFunction<Tensor, Tensor, Tensor> op;
    final BiFunction<Tensor, Double, Tensor> scalarOp;
    final DoubleBinaryOperator f, da, db;

    Binary(BiFunction<Tensor, Tensor, Tensor> op, BiFunction<Tensor, Double, Tensor> scalarOp, DoubleBinaryOperator f,
        DoubleBinaryOperator da, DoubleBinaryOperator db) {
      this.op = op;
      this.scalarOp = scalarOp;
      this.f = f;
      this.da = da;
      this.db = db;
    }
  }

  static double amax(double[] row) {
    double m = -INF;
    for (double v : row) {
      if (Double.isNaN(v)) return NAN;
      m = Math.max(m, v);
    }
    return m;
  }

  static double sum(double[] row) {
    double s = 0;
    for (double v : row) s += v;
    return s;
  }

  /** torch's logsumexp: shifted by the max unless that is infinite. */
  static double logsumexp(double[] row) {
    double m = amax(row), fm = Double.isInfinite(m) ? 0 : m, s = 0;
    for (double v : row) s += Math.exp(v - fm);
    return Math.log(s) + fm;
  }

  static double[] softmax(double[] row) {
    double m = amax(row), s = 0;
    double[] e = new double[row.length];
    for (int i = 0; i < row.length; i++) s += e[i] = Math.exp(row[i] - m);
    for (int i = 0; i < row.length; i++) e[i] /= s;
    return e;
  }

  static double[] logSoftmax(double[] row) {
    double m = amax(row), s = 0;
    for (double v : row) s += Math.exp(v - m);
    double[] r = new double[row.length];
    for (int i = 0; i < row.length; i++) r[i] = (row[i] - m) - Math.log(s);
    return r;
  }

  static double[] held(DType d, double[][] rows, int i) {
    return held(d, rows[i]);
  }

  // ================================================================== forward: elementwise

  @Test
  void unaryOpsFollowIeee754() {
    for (DType d : List.of(DType.FLOAT64, DType.FLOAT32)) {
      Tensor x = t(d, POINTS);
      // the same points as a strided (non-contiguous) view
      double[] spread = new double[2 * POINTS.length];
      for (int i = 0; i < POINTS.length; i++) spread[2 * i] = POINTS[i];
      Tensor xs = t(d, spread).slice(0, 0, spread.length, 2);
      assertFalse(xs.isContiguous());
      for (Unary u : Unary.values()) {
        double[] want = new double[POINTS.length];
        for (int i = 0; i < want.length; i++) want[i] = u.ref(POINTS[i], d);
        sameAll(u + " " + d.displayName(), want, u.op.apply(x), d);
        sameAll(u + " " + d.displayName() + " strided", want, u.op.apply(xs), d);
      }
    }
  }

  @Test
  void binaryOpsFollowIeee754ForEveryPairOfOperands() {
    int n = OPERANDS.length;
    for (DType d : List.of(DType.FLOAT64, DType.FLOAT32)) {
      Tensor col = t(d, OPERANDS).reshape(n, 1), row = t(d, OPERANDS).reshape(1, n), x = t(d, OPERANDS);
      double[] h = held(d, OPERANDS);
      for (Binary b : Binary.values()) {
        // tensor (op) tensor, broadcasting [n, 1] against [1, n]
        double[] got = b.op.apply(col, row).toDoubleArray();
        for (int i = 0; i < n; i++)
          for (int j = 0; j < n; j++)
            same(b + " " + d.displayName() + "(" + str(h[i]) + ", " + str(h[j]) + ")", round(b.f.applyAsDouble(h[i], h[j]), d),
                got[i * n + j], rtol(d), atol(d));
        // tensor (op) scalar, the scalar taken in the tensor's dtype
        for (int j = 0; j < n; j++) {
          double[] gs = b.scalarOp.apply(x, OPERANDS[j]).toDoubleArray();
          for (int i = 0; i < n; i++)
            same(b + "S " + d.displayName() + "(" + str(h[i]) + ", " + str(h[j]) + ")", round(b.f.applyAsDouble(h[i], h[j]), d), gs[i],
                rtol(d), atol(d));
        }
      }
      // s - tensor
      for (int j = 0; j < n; j++) {
        double[] gs = x.rsub(OPERANDS[j]).toDoubleArray();
        for (int i = 0; i < n; i++)
          same("rsub " + d.displayName() + "(" + str(h[j]) + ", " + str(h[i]) + ")", round(h[j] - h[i], d), gs[i], 0, 0);
      }
    }
  }

  @Test
  void comparisonsWithNanAreFalseExceptNe() {
    int n = OPERANDS.length;
    List<String> names = List.of("eq", "ne", "lt", "le", "gt", "ge");
    List<BiFunction<Tensor, Tensor, Tensor>> ops = List.of(Tensor::eq, Tensor::ne, Tensor::lt, Tensor::le, Tensor::gt, Tensor::ge);
    List<BiFunction<Tensor, Double, Tensor>> sops = List.of(Tensor::eq, Tensor::ne, Tensor::lt, Tensor::le, Tensor::gt, Tensor::ge);
    List<BiFunction<Double, Double, Boolean>> java = List.of((a, b) -> (double) a == b, (a, b) -> (double) a != b,
        (a, b) -> a < b, (a, b) -> a <= b, (a, b) -> a > b, (a, b) -> a >= b);
    for (DType d : List.of(DType.FLOAT64, DType.FLOAT32)) {
      Tensor col = t(d, OPERANDS).reshape(n, 1), row = t(d, OPERANDS).reshape(1, n), x = t(d, OPERANDS);
      double[] h = held(d, OPERANDS);
      for (int k = 0; k < ops.size(); k++) {
        Tensor r = ops.get(k).apply(col, row);
        assertEquals(DType.BOOL, r.dtype());
        boolean[] got = r.toBooleanArray();
        for (int i = 0; i < n; i++)
          for (int j = 0; j < n; j++) {
            COMPARED.incrementAndGet();
            assertEquals(java.get(k).apply(h[i], h[j]), got[i * n + j],
                names.get(k) + " " + d.displayName() + "(" + h[i] + ", " + h[j] + ")");
          }
        for (int j = 0; j < n; j++) {
          boolean[] gs = sops.get(k).apply(x, OPERANDS[j]).toBooleanArray();
          for (int i = 0; i < n; i++) {
            COMPARED.incrementAndGet();
            assertEquals(java.get(k).apply(h[i], h[j]), gs[i], names.get(k) + "S " + d.displayName() + "(" + h[i] + ", " + h[j] + ")");
          }
        }
      }
    }
    // so NaN != NaN, and x.ne(x) finds the NaNs
    Tensor special = Tensor.of(NAN, INF, -INF, 0.0);
    assertArrayEquals(new boolean[] {true, false, false, false}, special.ne(special).toBooleanArray());
  }

  @Test
  void whereAndConversionsKeepNanInfAndSignedZero() {
    double negNan = Double.longBitsToDouble(0xfff8000000000123L), payloadNan = Double.longBitsToDouble(0x7ff800000000abcdL);
    Tensor cond = Tensor.of(true, false, true, false, true);
    Tensor a = Tensor.of(payloadNan, 1.0, INF, -INF, -0.0), b = Tensor.of(2.0, negNan, NAN, -0.0, 3.0);
    double[] got = Tensor.where(cond, a, b).toDoubleArray();
    double[] want = {payloadNan, negNan, INF, -0.0, -0.0};
    for (int i = 0; i < want.length; i++) sameBits("where [" + i + "]", want[i], got[i]);

    double[] v = {NAN, INF, -INF, 1e300, -1e300, 1e-50, -1e-50, 1.5, -0.0, 3.4028235677973366E38};
    Tensor x = Tensor.fromArray(v, v.length);
    // float64 -> float32: rounds to nearest, overflows to ±Inf (Java's (float) cast is the same IEEE conversion)
    double[] f = x.to(DType.FLOAT32).toDoubleArray();
    for (int i = 0; i < v.length; i++) same("to(float32) of " + v[i], (float) v[i], f[i], 0, 0);
    assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(f[8]), "-0.0 keeps its sign");
    // and back, exactly
    double[] back = x.to(DType.FLOAT32).to(DType.FLOAT64).toDoubleArray();
    for (int i = 0; i < v.length; i++) same("to(float32).to(float64) of " + v[i], (double) (float) v[i], back[i], 0, 0);
    // to bool: nonzero is true, and NaN is nonzero
    for (DType d : List.of(DType.FLOAT64, DType.FLOAT32)) {
      boolean[] bools = t(d, v).to(DType.BOOL).toBooleanArray();
      for (int i = 0; i < v.length; i++) assertEquals(round(v[i], d) != 0, bools[i], "to(bool) of " + v[i] + " " + d.displayName());
    }
    // NOTE: NaN and ±Inf converted to int64 are not asserted: C++ leaves the conversion undefined
    // (x86 gives INT64_MIN, as torch does there; Java's (long) gives 0 and Long.MAX/MIN_VALUE).
  }

  // ================================================================== forward: reductions, softmax

  @Test
  void reductionsAndSoftmaxFollowIeee754() {
    int n = ROWS.length, m = ROWS[0].length;
    for (DType d : List.of(DType.FLOAT64, DType.FLOAT32)) {
      Tensor x = matrix(d, ROWS);
      // the same rows as the columns of a transposed (non-contiguous) tensor
      double[][] cols = new double[m][n];
      for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) cols[j][i] = ROWS[i][j];
      Tensor xt = matrix(d, cols).t();
      assertFalse(xt.isContiguous());
      for (Tensor in : List.of(x, xt)) {
        String how = d.displayName() + (in == xt ? " strided" : "");
        double[] sum = in.sum(1).toDoubleArray(), mean = in.mean(1).toDoubleArray(), amax = in.amax(1).toDoubleArray(),
            lse = in.logsumexp(1).toDoubleArray(), sm = in.softmax(1).toDoubleArray(), lsm = in.logSoftmax(1).toDoubleArray();
        double[] sumK = in.sum(new int[] {1}, true).toDoubleArray();
        for (int i = 0; i < n; i++) {
          double[] r = held(d, ROWS, i);
          String at = " of " + Arrays.toString(r) + " " + how;
          same("sum" + at, round(sum(r), d), sum[i], rtol(d), atol(d));
          same("sum keepdim" + at, round(sum(r), d), sumK[i], rtol(d), atol(d));
          same("mean" + at, round(round(sum(r), d) / m, d), mean[i], rtol(d), atol(d));
          same("amax" + at, amax(r), amax[i], 0, 0);
          same("logsumexp" + at, round(logsumexp(r), d), lse[i], rtol(d), atol(d));
          double[] s = softmax(r), l = logSoftmax(r);
          for (int j = 0; j < m; j++) {
            same("softmax" + at + " [" + j + "]", round(s[j], d), sm[i * m + j], rtol(d), atol(d));
            same("logSoftmax" + at + " [" + j + "]", round(l[j], d), lsm[i * m + j], rtol(d), atol(d));
          }
          // reductions of everything, on each row alone
          Tensor row = in.get(i);
          same("sum()" + at, round(sum(r), d), row.sum().item(), rtol(d), atol(d));
          same("amax()" + at, amax(r), row.amax().item(), 0, 0);
          same("logsumexp()" + at, round(logsumexp(r), d), row.logsumexp().item(), rtol(d), atol(d));
        }
      }
      // reducing the other way: over dim 0 (every row at once) and over both dims
      double[] flat = new double[n * m];
      for (int i = 0; i < n; i++) System.arraycopy(held(d, ROWS[i]), 0, flat, i * m, m);
      same("amax over everything " + d.displayName(), NAN, x.amax().item(), 0, 0);
      same("sum over everything " + d.displayName(), NAN, x.sum().item(), 0, 0);
      double[] colMax = x.amax(0).toDoubleArray();
      for (int j = 0; j < m; j++) {
        double[] c = new double[n];
        for (int i = 0; i < n; i++) c[i] = flat[i * m + j];
        same("amax(0) column " + j + " " + d.displayName(), amax(c), colMax[j], 0, 0);
      }
    }
  }

  @Test
  void theHeadlineCases() {
    // the cases the issue names, written out (the tests above cover them among many others)
    same("exp(inf)", INF, Tensor.of(INF).exp().item(), 0, 0);
    same("exp(-inf)", 0, Tensor.of(-INF).exp().item(), 0, 0);
    same("log(0)", -INF, Tensor.of(0.0).log().item(), 0, 0);
    same("log(-1)", NAN, Tensor.of(-1.0).log().item(), 0, 0);
    assertArrayEquals(new double[] {1, -1}, Tensor.of(INF, -INF).tanh().toDoubleArray());
    assertArrayEquals(new double[] {1, 0}, Tensor.of(INF, -INF).sigmoid().toDoubleArray());
    same("relu(nan)", NAN, Tensor.of(NAN).relu().item(), 0, 0);
    same("sqrt(-1)", NAN, Tensor.of(-1.0).sqrt().item(), 0, 0);
    same("amax([1, nan, inf])", NAN, Tensor.of(1.0, NAN, INF).amax().item(), 0, 0);
    same("sum([inf, -inf])", NAN, Tensor.of(INF, -INF, 1.0).sum().item(), 0, 0);
    same("sum([inf, 1])", INF, Tensor.of(INF, 1.0).sum().item(), 0, 0);
    same("mean([nan, 1])", NAN, Tensor.of(NAN, 1.0).mean().item(), 0, 0);
    same("1/0", INF, Tensor.of(1.0).div(0.0).item(), 0, 0);
    same("0/0", NAN, Tensor.of(0.0).div(Tensor.of(0.0)).item(), 0, 0);
    same("inf * 0", NAN, Tensor.of(INF).mul(0.0).item(), 0, 0);
    same("pow(1, nan)", 1, Tensor.of(1.0).pow(NAN).item(), 0, 0);
    same("pow(nan, 0)", 1, Tensor.of(NAN).pow(0.0).item(), 0, 0);
    // matmul: inf * 0 is NaN inside the sum of products
    Tensor m = Tensor.of(new double[][] {{INF, 0}, {1, 2}}).matmul(Tensor.of(new double[][] {{0, 1}, {1, 1}}));
    double[] mv = m.toDoubleArray();
    same("matmul [0,0]", NAN, mv[0], 0, 0);
    same("matmul [0,1]", INF, mv[1], 0, 0);
    assertArrayEquals(new double[] {2, 3}, new double[] {mv[2], mv[3]});
    // softmax: a +inf makes the slice NaN (like torch), -inf entries get 0
    for (double v : Tensor.of(INF, 1.0, 2.0).softmax(0).toDoubleArray()) same("softmax([inf, 1, 2])", NAN, v, 0, 0);
    assertArrayEquals(new double[] {0, 1}, Tensor.of(-INF, 5.0).softmax(0).toDoubleArray());
    for (double v : Tensor.of(-INF, -INF).softmax(0).toDoubleArray()) same("softmax([-inf, -inf])", NAN, v, 0, 0);
    assertArrayEquals(new double[] {-INF, 0}, Tensor.of(-INF, 5.0).logSoftmax(0).toDoubleArray());
    same("logsumexp([inf, 1])", INF, Tensor.of(INF, 1.0).logsumexp().item(), 0, 0);
    same("logsumexp([-inf, -inf])", -INF, Tensor.of(-INF, -INF).logsumexp().item(), 0, 0);
    same("logsumexp([inf, -inf])", INF, Tensor.of(INF, -INF).logsumexp().item(), 0, 0);
    same("logsumexp([nan, 1])", NAN, Tensor.of(NAN, 1.0).logsumexp().item(), 0, 0);
    // printing, like torch
    assertEquals("tensor([   nan,    inf,   -inf, 1.5000], dtype=float64)", Tensor.of(NAN, INF, -INF, 1.5).toString());
    assertEquals("tensor([nan, inf, -inf])", Tensor.of((float) NAN, (float) INF, (float) -INF).toString());
    // allclose: equal infinities are close, NaN never is
    assertTrue(Tensor.of(INF, -INF, 1.0).allclose(Tensor.of(INF, -INF, 1.0)));
    assertFalse(Tensor.of(NAN).allclose(Tensor.of(NAN)));
    assertFalse(Tensor.of(INF).allclose(Tensor.of(-INF)));
    assertFalse(Tensor.of(1e308).allclose(Tensor.of(INF)));
    assertTrue(Double.isNaN(Tensor.of(NAN).item()));
  }

  // ================================================================== forward: matmul, linear

  /** Java's sum of products, in order: C[i][j] = sum_p A[i][p] * B[p][j]. */
  static double[] matmulRef(double[] a, double[] b, int n, int k, int m) {
    double[] c = new double[n * m];
    for (int i = 0; i < n; i++)
      for (int j = 0; j < m; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * m + j];
        c[i * m + j] = s;
      }
    return c;
  }

  @Test
  void matmulAndLinearPropagateNanAndInf() {
    double[] a = {INF, 0, 1, 2, /**/ 1, NAN, 0, 1, /**/ -INF, 1, INF, 0, /**/ 1, 2, 3, 4, /**/ 0, 0, 0, 0};
    double[] b = {0, 1, 2, /**/ 1, 0, -1, /**/ 2, -INF, 0, /**/ 0.5, 1, 0};
    int n = 5, k = 4, m = 3;
    double[] want = matmulRef(a, b, n, k, m);
    for (DType d : List.of(DType.FLOAT64, DType.FLOAT32)) {
      String dn = d.displayName();
      Tensor A = t(d, a).reshape(n, k), B = t(d, b).reshape(k, m);
      sameAll("matmul 2-D " + dn, want, A.matmul(B), d);
      // B transposed in memory (BLAS reads it with a transpose flag)
      Tensor Bt = B.t().contiguous().t();
      assertFalse(Bt.isContiguous());
      sameAll("matmul 2-D, B transposed " + dn, want, A.matmul(Bt), d);
      // batched: [2, n, k] @ [k, m], and [2, n, k] @ [2, k, m]
      double[] want2 = new double[2 * n * m];
      System.arraycopy(want, 0, want2, 0, n * m);
      System.arraycopy(want, 0, want2, n * m, n * m);
      sameAll("matmul batched, shared B " + dn, want2, Tensor.stack(List.of(A, A), 0).matmul(B), d);
      sameAll("matmul batched " + dn, want2, Tensor.stack(List.of(A, A), 0).matmul(Tensor.stack(List.of(B, B), 0)), d);
      // matrix @ vector, vector @ matrix, vector @ vector
      for (int j = 0; j < m; j++) {
        double[] col = new double[k], wcol = new double[n];
        for (int p = 0; p < k; p++) col[p] = b[p * m + j];
        for (int i = 0; i < n; i++) wcol[i] = want[i * m + j];
        sameAll("matmul matrix @ vector " + j + " " + dn, wcol, A.matmul(t(d, col)), d);
      }
      for (int i = 0; i < n; i++) {
        double[] row = Arrays.copyOfRange(a, i * k, i * k + k), wrow = Arrays.copyOfRange(want, i * m, i * m + m);
        sameAll("matmul vector @ matrix " + i + " " + dn, wrow, t(d, row).matmul(B), d);
        for (int j = 0; j < m; j++) {
          double[] col = new double[k];
          for (int p = 0; p < k; p++) col[p] = b[p * m + j];
          Tensor dot = t(d, row).matmul(t(d, col));
          assertEquals(0, dot.ndim());
          same("matmul vector @ vector " + i + "," + j + " " + dn, round(want[i * m + j], d), dot.item(), rtol(d), atol(d));
        }
      }
      // linear: x @ w^T + bias, with NaN / Inf in the bias too
      double[] bias = {NAN, -INF, 1};
      Tensor W = B.t();  // [m, k]
      double[] wl = new double[n * m];
      for (int i = 0; i < n * m; i++) wl[i] = want[i] + bias[i % m];
      sameAll("linear " + dn, wl, A.linear(W, t(d, bias)), d);
      sameAll("F.linear without bias " + dn, want, F.linear(A, W, null), d);
    }
  }

  @Test
  void reusedMemoryNeverLeaksOldNaNsIntoResults() {
    // results are written into blocks from the caching allocator; a block that held NaNs must not
    // show through (gemm with beta = 0, the sum accumulator, fills)
    for (int round = 0; round < 3; round++) {
      try (Scope s = Scope.open()) {
        for (long[] shape : List.of(new long[] {6, 5}, new long[] {30}, new long[] {6}, new long[] {1}))
          Tensor.full(NAN, DType.FLOAT64, shape).close();
        Tensor a = Tensor.ones(DType.FLOAT64, 6, 4), b = Tensor.ones(DType.FLOAT64, 4, 5);
        assertArrayEquals(filled(30, 4.0), a.matmul(b).toDoubleArray());
        assertArrayEquals(filled(6, 20.0), a.matmul(b).sum(1).toDoubleArray());
        assertArrayEquals(filled(30, 0.0), Tensor.zeros(DType.FLOAT64, 6, 5).toDoubleArray());
        assertArrayEquals(filled(6, 16.0), Tensor.ones(DType.FLOAT64, 6, 4, 4).sum(new int[] {1, 2}, false).toDoubleArray());
      }
    }
  }

  private static double[] filled(int n, double v) {
    double[] r = new double[n];
    Arrays.fill(r, v);
    return r;
  }

  // ================================================================== forward: data movement, creation

  @Test
  void viewsCopiesAndDataMovementKeepEveryBit() {
    double negNan = Double.longBitsToDouble(0xfff8000000000123L), payloadNan = Double.longBitsToDouble(0x7ff800000000abcdL);
    double[] v = {NAN, INF, -INF, -0.0, 0.0, payloadNan, negNan, 1e-310, -1e308, 1.0, 2.0, 3.0};
    Tensor x = Tensor.fromArray(v, 3, 4);
    // transposed: x^T[j][i] = x[i][j], through a view then a copy
    double[] tr = x.t().contiguous().toDoubleArray();
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 4; j++) sameBits("t().contiguous() [" + j + "," + i + "]", v[i * 4 + j], tr[j * 3 + i]);
    checkBits("reshape", v, x.reshape(12));
    checkBits("view", v, x.view(2, 6));
    checkBits("flatten", v, x.flatten());
    checkBits("unsqueeze/squeeze", v, x.unsqueeze(0).squeeze(0));
    checkBits("permute twice", v, x.permute(1, 0).permute(1, 0).contiguous());
    checkBits("movedim twice", v, x.movedim(0, 1).movedim(1, 0).contiguous());
    checkBits("transpose().reshape() twice", v, x.transpose(0, 1).reshape(4, 3).transpose(0, 1).reshape(12));
    checkBits("cat", concat(v, v), Tensor.cat(List.of(x, x), 0));
    checkBits("stack", concat(v, v), Tensor.stack(List.of(x, x), 0));
    checkBits("select/get", Arrays.copyOfRange(v, 4, 8), x.get(1));
    double[] col = {v[1], v[5], v[9]};
    checkBits("select column", col, x.select(1, 1).contiguous());
    checkBits("slice step 2", new double[] {v[0], v[2], v[4], v[6], v[8], v[10]}, x.slice(1, 0, 4, 2).contiguous());
    checkBits("indexSelect", concat(Arrays.copyOfRange(v, 8, 12), Arrays.copyOfRange(v, 0, 4)),
        x.indexSelect(0, Tensor.of(2L, 0L)));
    checkBits("expand", concat(Arrays.copyOfRange(v, 4, 8), Arrays.copyOfRange(v, 4, 8)),
        x.get(1).expand(2, 4).contiguous());
    checkBits("to(float64) of float64", v, x.to(DType.FLOAT64));
    // creation with NaN / Inf values
    for (DType d : List.of(DType.FLOAT64, DType.FLOAT32)) {
      for (double fillValue : new double[] {NAN, INF, -INF, -0.0}) {
        double want = round(fillValue, d);
        for (double g : Tensor.full(fillValue, d, 2, 3).toDoubleArray()) same("full(" + fillValue + ") " + d.displayName(), want, g, 0, 0);
        same("scalar(" + fillValue + ")", want, Tensor.scalar(fillValue, d).item(), 0, 0);
        for (double g : Tensor.fullLike(t(d, 1, 2), fillValue).toDoubleArray()) same("fullLike(" + fillValue + ")", want, g, 0, 0);
      }
      assertArrayEquals(new double[] {0, 0}, Tensor.zerosLike(t(d, NAN, INF)).toDoubleArray());
      assertArrayEquals(new double[] {1, 1}, Tensor.onesLike(t(d, NAN, -INF)).toDoubleArray());
    }
    // float32 arrays in and out
    float[] fv = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f};
    float[] fo = Tensor.of(fv).toFloatArray();
    for (int i = 0; i < fv.length; i++)
      assertEquals(Float.floatToRawIntBits(fv[i]), Float.floatToRawIntBits(fo[i]), "float32 round trip " + fv[i]);
  }

  private static void checkBits(String what, double[] want, Tensor got) {
    double[] g = got.toDoubleArray();
    assertEquals(want.length, g.length, what);
    for (int i = 0; i < want.length; i++) sameBits(what + " [" + i + "]", want[i], g[i]);
  }

  private static double[] concat(double[] a, double[] b) {
    double[] r = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }

  @Test
  void nonFiniteScalarsCannotBeTakenAsInt64() {
    // int64 cannot hold NaN or ±Inf: a conversion to int64 that would have to take one is an error
    // (torch: "value cannot be converted to type int64_t without overflow"), not a silent INT64_MIN.
    // An int64 tensor with a Java double does not convert the double: it promotes to the default
    // float dtype, as torch does with a Python float, and NaN/Inf arrive as themselves.
    Tensor i = Tensor.arange(3);
    for (double s : new double[] {NAN, INF, -INF, 1e19, -1e19}) {
      assertThrows(AdjointArgumentException.class, () -> Tensor.full(s, DType.INT64, 2), "full(" + s + ")");
      assertThrows(AdjointArgumentException.class, () -> Tensor.fullLike(i, s), "fullLike(" + s + ")");
      assertEquals(DType.FLOAT32, i.add(s).dtype(), "add(" + s + ")");
      assertEquals((float) s, i.mul(s).toFloatArray()[1], "mul(" + s + ")");  // 1 * s
    }
    AdjointArgumentException e = assertThrows(AdjointArgumentException.class, () -> Tensor.fullLike(i, NAN));
    assertTrue(e.getMessage().startsWith("full_like: "), e.getMessage());
    assertTrue(e.getMessage().contains("nan") && e.getMessage().contains("int64"), e.getMessage());
    assertTrue(Float.isNaN(i.add(NAN).toFloatArray()[0]));
    assertArrayEquals(new boolean[] {false, false, false}, i.gt(INF).toBooleanArray());
    assertArrayEquals(new boolean[] {false, false, false}, i.eq(NAN).toBooleanArray());
    // finite values in range are taken in the dtype as documented (truncated), bool takes NaN as true
    assertArrayEquals(new long[] {Long.MIN_VALUE}, Tensor.full(-9.223372036854775808E18, DType.INT64, 1).toLongArray());
    assertArrayEquals(new float[] {2.9f, 3.9f, 4.9f}, i.add(2.9).toFloatArray());  // torch: tensor([2.9000, 3.9000, 4.9000])
    assertArrayEquals(new long[] {2, 3, 4}, i.add(2).toLongArray());
    assertArrayEquals(new boolean[] {false, true, true}, i.gt(0.5).toBooleanArray());
    assertArrayEquals(new boolean[] {true, true}, Tensor.full(NAN, DType.BOOL, 2).toBooleanArray());
  }

  // ================================================================== transforms: unary rules

  @Test
  void unaryDerivativesAtNanInfAndZeroFollowTheRules() {
    int n = POINTS.length;
    for (DType d : List.of(DType.FLOAT64, DType.FLOAT32)) {
      Tensor x = t(d, POINTS);
      String dn = d.displayName();
      for (Unary u : Unary.values()) {
        Fn1 f = u.op::apply;
        // grad of the sum: the rule with tangent 1 at every point
        double[] want = new double[n];
        for (int i = 0; i < n; i++) want[i] = u.tangent(POINTS[i], 1.0, d);
        sameAll("grad " + u + " " + dn, want, grad(v -> u.op.apply(v).sum()).apply(x), d);
        // jvp and vjp with (co)tangents 1, 0, -1.5, NaN, Inf, -Inf at every point
        for (double tv : TANGENTS) {
          double[] tw = new double[n], tvs = new double[n];
          Arrays.fill(tvs, tv);
          for (int i = 0; i < n; i++) tw[i] = u.tangent(POINTS[i], tv, d);
          JvpResult r = jvp(f, x, t(d, tvs));
          double[] fw = new double[n];
          for (int i = 0; i < n; i++) fw[i] = u.ref(POINTS[i], d);
          sameAll("jvp output " + u + " " + dn, fw, r.output(), d);
          sameAll("jvp " + u + " " + dn + " tangent " + tv, tw, r.tangent(), d);
          sameAll("vjp " + u + " " + dn + " cotangent " + tv, tw, vjp(f, x).applyTensor(t(d, tvs)), d);
        }
        // vmap of grad over two rows (the points, and the points reversed): each row on its own
        double[] rev = new double[n];
        for (int i = 0; i < n; i++) rev[i] = POINTS[n - 1 - i];
        Tensor rows = Tensor.stack(List.of(x, t(d, rev)), 0);
        double[] w2 = new double[2 * n];
        for (int i = 0; i < n; i++) {
          w2[i] = u.tangent(POINTS[i], 1.0, d);
          w2[n + i] = u.tangent(rev[i], 1.0, d);
        }
        sameAll("vmap(grad) " + u + " " + dn, w2, vmap(grad(v -> u.op.apply(v).sum())).apply(rows), d);
      }
    }
  }

  @Test
  void secondDerivativesAtNanAndZero() {
    // log''(x) = -1/x^2: -Inf at 0 (the div rule: -(out / x) with out = 1/x)
    double[] z = {0.0};
    sameAll("hessian(log) at 0", new double[] {-INF}, hessian(u -> u.log().sum()).apply(Tensor.of(z)), DType.FLOAT64);
    // sqrt''(x) = -1/(4 x^1.5): -Inf at 0, by forward-over-reverse and reverse-over-reverse
    Fn1 sq = u -> u.sqrt().sum();
    same("hvp(sqrt) at 0", -INF, hvp(sq, Tensor.of(0.0), Tensor.of(1.0)).item(), 0, 0);
    same("vhp(sqrt) at 0", -INF, vhp(sq, Tensor.of(0.0), Tensor.of(1.0)).item(), 0, 0);
    same("grad(grad(sqrt)) at 4", -1 / (4 * 8.0), grad(u -> grad(sq).apply(u).sum()).apply(Tensor.of(4.0)).item(), 1e-15, 0);
    // and NaN in, NaN out, at second order too
    same("hvp(tanh) at NaN", NAN, hvp(u -> u.tanh().sum(), Tensor.of(NAN), Tensor.of(1.0)).item(), 0, 0);
  }

  // ================================================================== transforms: Jacobians

  /**
   * jacrev and jacfwd are vmap of vjp / jvp over the rows of the identity, and give what that
   * dense computation gives under IEEE 754, as torch.func does: jacrev row i is the pullback of e_i,
   * so entry [i][j] is the rule applied at x_j to the cotangent e_i[j]; jacfwd column j is the
   * pushforward of e_j, so entry [i][j] is the rule applied at x_i to e_j[i]. Off the diagonal that
   * is the rule applied to a zero (co)tangent: NaN where the partial is infinite or NaN (0 * Inf), 0
   * elsewhere. The core keeps the identity rows one-hot for speed; that must not move these NaNs.
   */
  @Test
  void jacobiansAtNanAndInfAreTheDenseVmapOfVjpAndJvp() {
    int n = POINTS.length;
    for (DType d : List.of(DType.FLOAT64, DType.FLOAT32)) {
      Tensor x = t(d, POINTS);
      String dn = d.displayName();
      Tensor eye = Tensor.eye(n, n, d);
      for (Unary u : Unary.values()) {
        Fn1 f = u.op::apply;
        double[] jr = new double[n * n], jf = new double[n * n];
        for (int i = 0; i < n; i++)
          for (int j = 0; j < n; j++) {
            double e = i == j ? 1.0 : 0.0;
            jr[i * n + j] = u.tangent(POINTS[j], e, d);
            jf[i * n + j] = u.tangent(POINTS[i], e, d);
          }
        sameAll("jacrev " + u + " " + dn, jr, jacrev(f).apply(x), d);
        sameAll("jacfwd " + u + " " + dn, jf, jacfwd(f).apply(x), d);
        // the same by hand: vmap of the pullback over a dense identity, vmap of jvp (transposed)
        VjpResult v = vjp(f, x);
        sameAll("vmap(vjp)(eye) " + u + " " + dn, jr, vmap(v::applyTensor).apply(eye), d);
        sameAll("vmap(jvp)(eye)^T " + u + " " + dn, jf, vmap(e -> jvp(f, x, e).tangent()).apply(eye).t(), d);
      }
    }
    // the issue's example: sqrt at [0, 1], derivative Inf at 0
    Tensor x01 = Tensor.of(0.0, 1.0);
    sameAll("jacrev(sqrt)([0, 1])", new double[] {INF, 0, NAN, 0.5}, jacrev(Tensor::sqrt).apply(x01), DType.FLOAT64);
    sameAll("jacfwd(sqrt)([0, 1])", new double[] {INF, NAN, 0, 0.5}, jacfwd(Tensor::sqrt).apply(x01), DType.FLOAT64);
    // through a matmul: J = diag(1 / (2 sqrt(W x))) W, row i scaled by the derivative at output i, and
    // the zero entries of row e_i meet Inf at the outputs where W x = 0
    Tensor w = Tensor.of(new double[][] {{1, -1}, {2, 0.5}}), xs = Tensor.of(1.0, 1.0);
    double[] wv = w.toDoubleArray(), z = w.matmul(xs).toDoubleArray(), jw = new double[4];
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++) {
        // jacrev row i: cotangent e_i through sqrt (e_i[k] * sqrt'(z_k)) then through W: sum_k c_k W[k][j]
        double s = 0;
        for (int k = 0; k < 2; k++) s += ((i == k ? 1.0 : 0.0) * (0.5 / Math.sqrt(z[k]))) * wv[k * 2 + j];
        jw[i * 2 + j] = s;
      }
    sameAll("jacrev(sqrt(W x))", jw, jacrev(u -> w.matmul(u).sqrt()).apply(xs), DType.FLOAT64);
    // hessian(sum(sin)) = jacfwd(jacrev): entry [i][j] is -sin(x_i) * e_j[i], so a NaN or Inf x_i makes
    // its whole row NaN (NaN * 0), and other rows keep 0 off the diagonal
    double[] hx = {NAN, 1.0, 0.0, INF};
    int m = hx.length;
    double[] want = new double[m * m];
    for (int i = 0; i < m; i++)
      for (int j = 0; j < m; j++) want[i * m + j] = -Math.sin(hx[i]) * (i == j ? 1.0 : 0.0);
    sameAll("hessian(sum(sin))", want, hessian(u -> u.sin().sum()).apply(Tensor.of(hx)), DType.FLOAT64);
  }

  // ================================================================== transforms: binary rules

  @Test
  void binaryDerivativesAtEveryPairOfOperands() {
    int n = OPERANDS.length, nn = n * n;
    double[] av = new double[nn], bv = new double[nn];
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        av[i * n + j] = OPERANDS[i];
        bv[i * n + j] = OPERANDS[j];
      }
    for (DType d : List.of(DType.FLOAT64, DType.FLOAT32)) {
      Tensor a = t(d, av), b = t(d, bv), ones = Tensor.onesLike(a);
      double[] ha = held(d, av), hb = held(d, bv);
      for (Binary op : Binary.values()) {
        String what = op + " " + d.displayName();
        FnN f = args -> op.op.apply((Tensor) args[0], (Tensor) args[1]).sum();
        List<Tensor> g = grad(f, argnums(0, 1)).applyTensors(a, b);
        double[] wa = new double[nn], wb = new double[nn], wt = new double[nn];
        for (int k = 0; k < nn; k++) {
          wa[k] = op.da.applyAsDouble(ha[k], hb[k]);
          wb[k] = op.db.applyAsDouble(ha[k], hb[k]);
          // jvp with both tangents 1: the two terms added
          wt[k] = round(wa[k], d) + round(wb[k], d);
        }
        sameAll("grad wrt a of " + what, wa, g.get(0), d);
        sameAll("grad wrt b of " + what, wb, g.get(1), d);
        JvpResult r = jvp(a2 -> op.op.apply((Tensor) a2[0], (Tensor) a2[1]), List.of(a, b), List.of(ones, ones));
        sameAll("jvp of " + what, wt, r.tangent(), d);
        // the scalar form: d(a op s)/da
        for (int j = 0; j < n; j++) {
          double s = OPERANDS[j];
          double[] ws = new double[n];
          for (int i = 0; i < n; i++) ws[i] = op.da.applyAsDouble(round(OPERANDS[i], d), round(s, d));
          Tensor gs = grad(u -> op.scalarOp.apply(u, s).sum()).apply(t(d, OPERANDS));
          sameAll("grad of " + op + "S(., " + s + ") " + d.displayName(), ws, gs, d);
        }
      }
    }
  }

  // ================================================================== transforms: reductions, softmax, matmul

  @Test
  void reductionAndSoftmaxDerivativesAtNanAndInf() {
    int m = ROWS[0].length;
    double[] c = {1.0, -2.0, 0.5};  // a cotangent for softmax / log_softmax
    for (DType d : List.of(DType.FLOAT64, DType.FLOAT32)) {
      for (int i = 0; i < ROWS.length; i++) {
        double[] r = held(d, ROWS[i]);
        Tensor x = t(d, ROWS[i]);
        String at = " at " + Arrays.toString(r) + " " + d.displayName();
        // sum and mean: constant derivatives, finite even at NaN / Inf
        sameAll("grad sum" + at, filled(m, 1.0), grad(u -> u.sum()).apply(x), d);
        sameAll("grad mean" + at, filled(m, 1.0 / m), grad(u -> u.mean()).apply(x), d);
        // amax: spread evenly over the elements equal to the max (0/0 = NaN when the max is NaN)
        double mx = amax(r), count = 0;
        for (double v : r) if (v == mx) count++;
        double[] wAmax = new double[m];
        for (int j = 0; j < m; j++) wAmax[j] = (r[j] == mx ? 1.0 : 0.0) / count;
        sameAll("grad amax" + at, wAmax, grad(u -> u.amax()).apply(x), d);
        // logsumexp: the softmax with the forward pass's shift
        double[] wLse = lseGrad(r);
        sameAllLoose("grad logsumexp" + at, wLse, grad(u -> u.logsumexp()).apply(x), d);
        // softmax: y * (c - sum(c * y)); log_softmax: c - exp(y) * sum(c)
        double[] y = softmax(r), ly = logSoftmax(r), wSm = new double[m], wLsm = new double[m];
        double cy = 0, cs = 0;
        for (int j = 0; j < m; j++) {
          cy += c[j] * y[j];
          cs += c[j];
        }
        for (int j = 0; j < m; j++) {
          wSm[j] = y[j] * (c[j] - cy);
          wLsm[j] = c[j] - Math.exp(ly[j]) * cs;
        }
        Tensor ct = t(d, c);
        sameAllLoose("vjp softmax" + at, wSm, vjp(u -> u.softmax(0), x).applyTensor(ct), d);
        sameAllLoose("vjp logSoftmax" + at, wLsm, vjp(u -> u.logSoftmax(0), x).applyTensor(ct), d);
      }
      // vmap over all rows at once gives each row's own result: a NaN or Inf in one row stays there
      Tensor all = matrix(d, ROWS);
      double[] wv = new double[ROWS.length * m];
      for (int i = 0; i < ROWS.length; i++) System.arraycopy(lseGrad(held(d, ROWS[i])), 0, wv, i * m, m);
      sameAllLoose("vmap(grad(logsumexp)) " + d.displayName(), wv, vmap(grad(u -> u.logsumexp())).apply(all), d);
      double[] ws = new double[ROWS.length * m];
      for (int i = 0; i < ROWS.length; i++) System.arraycopy(softmax(held(d, ROWS[i])), 0, ws, i * m, m);
      sameAll("vmap(softmax) " + d.displayName(), ws, vmap(u -> u.softmax(0)).apply(all), d);
    }
  }

  /**
   * d logsumexp(x) / dx = exp(x - s) / sum(exp(x - s)) with the forward pass's shift s (the max, or 0
   * where the max is infinite). torch's exp(x - logsumexp(x)) is the same function; it differs only
   * where logsumexp rounds (e.g. [1e308, 1e308, 0]: torch [1, 1, 0], this [0.5, 0.5, 0]); at +Inf both
   * give [NaN, 0, ...].
   */
  static double[] lseGrad(double[] r) {
    double m = amax(r), fm = Double.isInfinite(m) ? 0 : m, s = 0;
    double[] e = new double[r.length];
    for (int j = 0; j < r.length; j++) s += e[j] = Math.exp(r[j] - fm);
    for (int j = 0; j < r.length; j++) e[j] = (1 / s) * e[j];
    return e;
  }

  /** Composite rules (logsumexp, softmax) sum terms that cancel: allow a few ulps of 1 absolutely. */
  private static void sameAllLoose(String what, double[] want, Tensor got, DType d) {
    double[] g = got.toDoubleArray();
    assertEquals(want.length, g.length, what);
    double atol = d == DType.FLOAT32 ? 1e-6 : 1e-15;
    for (int i = 0; i < g.length; i++) same(what + " [" + i + "]", round(want[i], d), g[i], rtol(d), atol);
  }

  @Test
  void matmulDerivativesAndBatchesWithNanAndInf() {
    // d sum(A @ x) / dx_k = sum_i A[i][k]: Inf, or NaN where a column holds +Inf and -Inf
    double[] a = {INF, 1, NAN, 0, /**/ -INF, 2, 1, 0, /**/ 1, 3, 1, 1e308};
    Tensor A = Tensor.fromArray(a, 3, 4), x = Tensor.of(1.0, 2.0, 3.0, 4.0);
    double[] wx = new double[4];
    for (int k = 0; k < 4; k++) wx[k] = a[k] + a[4 + k] + a[8 + k];
    sameAll("grad of sum(A @ x) wrt x", wx, grad(u -> A.matmul(u).sum()).apply(x), DType.FLOAT64);
    // wrt A: x broadcast over the rows, finite although A holds NaN and Inf (the product is linear in A)
    double[] wa = new double[12];
    for (int i = 0; i < 12; i++) wa[i] = x.toDoubleArray()[i % 4];
    sameAll("grad of sum(A @ x) wrt A", wa, grad(m -> m.matmul(x).sum()).apply(A), DType.FLOAT64);

    // vmap of a matrix-vector product: a NaN or Inf in one example does not reach the others
    double[] xs = {1, 2, 3, 4, /**/ NAN, 0, 0, 0, /**/ 0, INF, 0, 0, /**/ -1, 0.5, 0, 2};
    Tensor W = Tensor.fromArray(new double[] {1, 0, 2, -1, /**/ 0, 1, 1, 1, /**/ 3, 0, 0, 0.5}, 3, 4);
    Tensor X = Tensor.fromArray(xs, 4, 4);
    double[] got = vmap(u -> W.matmul(u)).apply(X).toDoubleArray();
    double[] wd = W.toDoubleArray();
    for (int e = 0; e < 4; e++) {
      double[] one = W.matmul(X.get(e)).toDoubleArray();
      for (int i = 0; i < 3; i++) {
        double s = 0;
        for (int k = 0; k < 4; k++) s += wd[i * 4 + k] * xs[e * 4 + k];
        same("vmap(W @ x) example " + e + " [" + i + "]", s, got[e * 3 + i], 1e-15, 0);
        same("vmap(W @ x) example " + e + " [" + i + "] vs unbatched", one[i], got[e * 3 + i], 0, 0);
      }
    }
    // jacrev of predict = tanh(F.linear(x, w, b)) where an input is +Inf: every pre-activation is
    // ±Inf, tanh saturates, and the Jacobian (1 - y^2) * w is exactly 0 (no NaN: the zero multiplies
    // finite weights)
    Adjoint.manualSeed(0);
    Tensor w = Tensor.randn(DType.FLOAT64, 4, 4), bias = Tensor.randn(DType.FLOAT64, 4);
    Tensor xi = Tensor.of(INF, 0.5, -0.25, 1.0);
    Fn3 predict = (ww, bb, xx) -> F.linear(xx, ww, bb).tanh();
    double[] z = F.linear(xi, w, bias).toDoubleArray(), wv = w.toDoubleArray(), jw = new double[16];
    for (int j = 0; j < 4; j++)
      for (int k = 0; k < 4; k++) {
        double yj = Math.tanh(z[j]);
        jw[j * 4 + k] = (1 - yj * yj) * wv[j * 4 + k];
      }
    sameAll("jacrev(predict) at an Inf input", jw, jacrev(predict, 2).apply(w, bias, xi), DType.FLOAT64);
    sameAll("jacfwd(predict) at an Inf input", jw, jacfwd(predict, 2).apply(w, bias, xi), DType.FLOAT64);
    for (double v : jw) assertTrue(v == 0.0, "saturated tanh: " + v);
  }

  // ================================================================== transforms: named cases

  @Test
  void infiniteAndNanDerivativesWhereTheIssueNamesThem() {
    same("sqrt'(0)", INF, grad(u -> u.sqrt().sum()).apply(Tensor.of(0.0)).item(), 0, 0);
    same("log'(0)", INF, grad(u -> u.log().sum()).apply(Tensor.of(0.0)).item(), 0, 0);
    same("log'(-0)", -INF, grad(u -> u.log().sum()).apply(Tensor.of(-0.0)).item(), 0, 0);
    same("(x^0.5)'(0)", INF, grad(u -> u.pow(0.5).sum()).apply(Tensor.of(0.0)).item(), 0, 0);
    same("(1/x)'(0)", -INF, grad(u -> Tensor.of(1.0).div(u).sum()).apply(Tensor.of(0.0)).item(), 0, 0);
    same("sqrt' jvp at 0, tangent 1", INF, jvp(Tensor::sqrt, Tensor.of(0.0), Tensor.of(1.0)).tangent().item(), 0, 0);
    same("sqrt' jvp at 0, tangent 0", NAN, jvp(Tensor::sqrt, Tensor.of(0.0), Tensor.of(0.0)).tangent().item(), 0, 0);
    // vmap(grad): per example
    Tensor batch = Tensor.of(new double[][] {{0, 1}, {4, 0}});
    assertArrayEquals(new double[] {INF, 0.5, 0.25, INF}, vmap(grad(u -> u.sqrt().sum())).apply(batch).toDoubleArray());
    // NaN inputs give NaN derivatives, not 0
    for (Fn1 f : List.<Fn1>of(u -> u.sin().sum(), u -> u.exp().sum(), u -> u.tanh().sum(), u -> u.mul(u).sum(), u -> u.sqrt().sum(),
        u -> u.abs().sum(), u -> u.sigmoid().sum(), u -> u.pow(2.0).sum(), u -> u.logsumexp(), u -> u.softmax(0).get(0), u -> u.amax()))
      same("a derivative at NaN", NAN, grad(f).apply(Tensor.of(NAN)).item(), 0, 0);
    same("jvp of exp at NaN", NAN, jvp(Tensor::exp, Tensor.of(NAN), Tensor.of(1.0)).tangent().item(), 0, 0);
    same("jvp of exp with a NaN tangent", NAN, jvp(Tensor::exp, Tensor.of(1.0), Tensor.of(NAN)).tangent().item(), 0, 0);
    // what the rules define on purpose
    same("relu'(0)", 0, grad(u -> u.relu().sum()).apply(Tensor.of(0.0)).item(), 0, 0);
    same("relu'(NaN) (indicator x > 0)", 0, grad(u -> u.relu().sum()).apply(Tensor.of(NAN)).item(), 0, 0);
    same("abs'(0)", 0, grad(u -> u.abs().sum()).apply(Tensor.of(0.0)).item(), 0, 0);
    same("sign'(NaN)", 0, grad(u -> u.sign().sum()).apply(Tensor.of(NAN)).item(), 0, 0);
    same("(x + 1)' at NaN", 1, grad(u -> u.add(1.0).sum()).apply(Tensor.of(NAN)).item(), 0, 0);
    same("(x^0)'(0)", 0, grad(u -> u.pow(0.0).sum()).apply(Tensor.of(0.0)).item(), 0, 0);
    same("(x^0)'(NaN)", 0, grad(u -> u.pow(0.0).sum()).apply(Tensor.of(NAN)).item(), 0, 0);
    // the where trap: the branch not taken gets a zero cotangent, and 0 * sqrt'(0) = NaN ...
    Fn1 trap = u -> Tensor.where(u.gt(0.0), u.sqrt(), Tensor.zerosLike(u)).sum();
    assertArrayEquals(new double[] {0.25}, grad(trap).apply(Tensor.of(4.0)).toDoubleArray());
    same("grad of where(x > 0, sqrt(x), 0) at 0", NAN, grad(trap).apply(Tensor.of(0.0)).item(), 0, 0);
    // ... and the double where keeps the untaken branch finite
    Fn1 safe = u -> {
      Tensor pos = u.gt(0.0);
      return Tensor.where(pos, Tensor.where(pos, u, Tensor.onesLike(u)).sqrt(), Tensor.zerosLike(u)).sum();
    };
    same("grad of the double where at 0", 0, grad(safe).apply(Tensor.of(0.0)).item(), 0, 0);
  }
}
