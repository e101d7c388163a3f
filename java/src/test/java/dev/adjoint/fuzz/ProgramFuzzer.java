package dev.adjoint.fuzz;

import dev.adjoint.AdjointArgumentException;
import dev.adjoint.Argnums;
import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.F;
import dev.adjoint.Fn1;
import dev.adjoint.Fn2;
import dev.adjoint.Fn3;
import dev.adjoint.Fn4;
import dev.adjoint.FnN;
import dev.adjoint.Func;
import dev.adjoint.InvalidIndexException;
import dev.adjoint.JvpResult;
import dev.adjoint.Pytree;
import dev.adjoint.Scope;
import dev.adjoint.ShapeMismatchException;
import dev.adjoint.Tensor;
import dev.adjoint.VjpResult;
import dev.adjoint.VmapOptions;
import dev.adjoint.internal.NativeCore;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Property-based fuzzer of the transforms. Every seed deterministically gives one random program:
 * a random sequence of tensor ops (elementwise with broadcasting, reductions, matmul/linear, views,
 * cat/stack, index_select, softmax/logsumexp, where, ...) over random shapes (size-1 dims, 0-d) in
 * float64 or float32 (plus int64 index arguments), wrapped in a random nesting (depth 1-3) of grad,
 * gradAndValue, vjp, jvp, linearize, vmap (random inDims/outDims/chunkSize, typed or pytree
 * arguments), jacrev, jacfwd, jacobian (random argnums, negative or several, chunkSize), hessian,
 * hvp and vhp, with and without hasAux. Arguments that a transform does not differentiate are
 * closed over, so inner transforms also see tracers of outer ones.
 *
 * <ul>
 *   <li><b>Valid programs</b>: the transformed result must agree with float64 central finite
 *       differences computed from the plain (untransformed) program, and, when the nesting holds a
 *       vmap, with the same nesting where every vmap is replaced by a Java loop over the examples.
 *       Kinked ops (relu, abs, sign, amax, where with a data-dependent condition) only act on the
 *       raw inputs, whose values are generated away from the kinks, so the programs are smooth
 *       where they are differentiated.
 *   <li><b>Invalid programs</b> carry exactly one defect (shapes that do not broadcast, dims or
 *       indices out of range, repeated dims, mixed dtypes, closed or escaped tensors, random ops
 *       under vmap, reading a vmap tracer, bad argnums, inDims out of range / miscounted / sizes
 *       that differ, tangents or cotangents of the wrong shape or dtype, grad of a non-scalar,
 *       differentiating an int64 argument) and must throw exactly the documented exception type.
 * </ul>
 *
 * <p>Any other exception, a wrong result, a transform level or scope left behind, or native tensors
 * that outlive the program is a failure; a native crash kills the JVM (FuzzTest runs this in a
 * forked JVM and reports the seed from the {@code @seed} progress lines).
 *
 * <p>About 5% of the seeds go to the special categories of {@link SpecialCase} instead (long
 * chains, extreme shapes, zero-size dims, NIO buffers, integer outputs); {@code --category NAME}
 * runs only one, {@code --off NAME,...} switches some off (their seeds get random programs), and
 * after the main run a dedicated set of each category runs (its first K seeds, tagged
 * {@code NAME:N}; {@code --dedicated K} overrides every category's default).
 *
 * <pre>
 * java -cp ... dev.adjoint.fuzz.ProgramFuzzer [--seed FIRST] [--count N] [--seconds S]
 *      [--max-failures K] [--invalid-ratio P] [--category NAME] [--off NAME,...]
 *      [--dedicated K] [--verbose] [--progress]
 * </pre>
 *
 * Exit status 0 when every program passed, 1 on a failure (each reported with the seed that
 * reproduces it: {@code --seed N --count 1 --verbose}, or through Maven,
 * {@code mvn -B -f java/pom.xml test -Dtest=FuzzTest -Dfuzz.seed=N -Dfuzz.count=1 -Dfuzz.verbose=true}).
 */
public final class ProgramFuzzer {
  private ProgramFuzzer() {}

  // ======================================================================== limits

  static final int MAX_NUMEL = 36;        // intermediate values of the plain program
  static final int MAX_RANK = 4;
  static final int MAX_OUT_NUMEL = 16;    // the plain program's output
  static final double MAX_BOUND = 30;     // |values| stay below this (finite differences stay accurate)
  static final int MAX_ORDER = 3;         // derivative order of a nesting (hessian counts 2)
  static final double MAX_COST = 20000;   // plain-program evaluations for the finite-difference reference
  static final int MAX_ARITY = 6;
  static final long MAX_NODE_NUMEL = 400;
  static final int MAX_NODE_RANK = 10;
  static final double[] THRESHOLDS = {0.0, 0.3, -0.5};  // where raw inputs are compared: data keeps away

  /** Finite-difference step and tolerance (relative to max(1, max |reference|)) by derivative order. */
  static final double[] FD_STEP = {0, 1e-6, 1e-4, 2e-3};
  static final double[] FD_TOL64 = {1e-11, 2e-7, 4e-5, 2e-2};
  static final double[] FD_TOL32 = {5e-5, 1e-4, 1e-3, 1e-2};
  static final double LOOP_TOL64 = 1e-10, LOOP_TOL32 = 1e-4;

  // ======================================================================== random numbers

  /** splitmix64: the same numbers on every JVM and platform, whatever java.util.Random does. */
  static final class Rng {
    private long s;

    Rng(long seed) {
      s = seed * 0x2545F4914F6CDD1DL + 0x632BE59BD9B4E019L;
    }

    long next() {
      long z = (s += 0x9E3779B97F4A7C15L);
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      return z ^ (z >>> 31);
    }

    int below(int n) {
      return (int) Long.remainderUnsigned(next(), n);
    }

    /** Uniform in [lo, hi], both inclusive. */
    int range(int lo, int hi) {
      return lo + below(hi - lo + 1);
    }

    double uniform(double lo, double hi) {
      return lo + (hi - lo) * ((next() >>> 11) * 0x1.0p-53);
    }

    boolean chance(double p) {
      return uniform(0, 1) < p;
    }

    <T> T pick(List<T> l) {
      return l.get(below(l.size()));
    }

    int weighted(int... w) {
      int total = 0;
      for (int x : w) total += x;
      int k = below(total);
      for (int i = 0; i < w.length; i++) {
        if (k < w[i]) return i;
        k -= w[i];
      }
      return w.length - 1;
    }

    double sign() {
      return chance(0.5) ? 1 : -1;
    }
  }

  // ======================================================================== shapes

  static long numel(long[] s) {
    long n = 1;
    for (long d : s) n *= d;
    return n;
  }

  static long[] insert(long[] s, int pos, long x) {
    long[] r = new long[s.length + 1];
    System.arraycopy(s, 0, r, 0, pos);
    r[pos] = x;
    System.arraycopy(s, pos, r, pos + 1, s.length - pos);
    return r;
  }

  static long[] remove(long[] s, int pos) {
    long[] r = new long[s.length - 1];
    System.arraycopy(s, 0, r, 0, pos);
    System.arraycopy(s, pos + 1, r, pos, s.length - pos - 1);
    return r;
  }

  static long[] concat(long[]... parts) {
    int n = 0;
    for (long[] p : parts) n += p.length;
    long[] r = new long[n];
    int o = 0;
    for (long[] p : parts) {
      System.arraycopy(p, 0, r, o, p.length);
      o += p.length;
    }
    return r;
  }

  static long[] with(long[] s, int pos, long x) {
    long[] r = s.clone();
    r[pos] = x;
    return r;
  }

  /** NumPy broadcasting; null if the shapes do not broadcast. */
  static long[] bcast(long[] a, long[] b) {
    int n = Math.max(a.length, b.length);
    long[] r = new long[n];
    for (int i = 0; i < n; i++) {
      long da = i < n - a.length ? 1 : a[i - (n - a.length)];
      long db = i < n - b.length ? 1 : b[i - (n - b.length)];
      if (da == db || db == 1) r[i] = da;
      else if (da == 1) r[i] = db;
      else return null;
    }
    return r;
  }

  static String str(long[] s) {
    return Arrays.toString(s);
  }

  static String dimsStr(int[] d) {
    return Arrays.toString(d);
  }

  // ======================================================================== dense reference arrays

  /** A row-major float64 array: the values the reference computes with, never a Tensor. */
  static final class Arr {
    final long[] shape;
    final double[] v;

    Arr(long[] shape, double[] v) {
      this.shape = shape;
      this.v = v;
      if (numel(shape) != v.length) throw new IllegalStateException("Arr: " + v.length + " values for " + str(shape));
    }

    Arr(long[] shape) {
      this(shape, new double[(int) numel(shape)]);
    }

    Arr withDelta(int e, double d) {
      double[] c = v.clone();
      c[e] += d;
      return new Arr(shape, c);
    }

    /** Index {@code idx} of dim {@code dim}, dropping the dim. */
    Arr select(int dim, int idx) {
      long outer = 1, inner = 1;
      for (int i = 0; i < dim; i++) outer *= shape[i];
      for (int i = dim + 1; i < shape.length; i++) inner *= shape[i];
      long size = shape[dim];
      double[] r = new double[(int) (outer * inner)];
      for (long o = 0; o < outer; o++)
        for (long i = 0; i < inner; i++) r[(int) (o * inner + i)] = v[(int) ((o * size + idx) * inner + i)];
      return new Arr(remove(shape, dim), r);
    }

    static Arr stack(List<Arr> parts, int dim) {
      long[] s = parts.get(0).shape;
      int b = parts.size();
      long outer = 1, inner = 1;
      for (int i = 0; i < dim; i++) outer *= s[i];
      for (int i = dim; i < s.length; i++) inner *= s[i];
      double[] r = new double[(int) (outer * b * inner)];
      for (int k = 0; k < b; k++) {
        Arr p = parts.get(k);
        if (!Arrays.equals(p.shape, s)) throw new IllegalStateException("Arr.stack: shapes differ");
        for (long o = 0; o < outer; o++)
          for (long i = 0; i < inner; i++) r[(int) ((o * b + k) * inner + i)] = p.v[(int) (o * inner + i)];
      }
      return new Arr(insert(s, dim, b), r);
    }

    static Arr flatCat(List<Arr> parts) {
      int n = 0;
      for (Arr p : parts) n += p.v.length;
      double[] r = new double[n];
      int o = 0;
      for (Arr p : parts) {
        System.arraycopy(p.v, 0, r, o, p.v.length);
        o += p.v.length;
      }
      return new Arr(new long[] {n}, r);
    }
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }

  /** Set while a mismatch is re-checked: 4-point central differences (error O(h^4), not O(h^2)). */
  static boolean fourPoint = false;

  /** d/dt g(t) at t = 0, elementwise, by central differences with step h. */
  static double[] deriv(java.util.function.DoubleFunction<double[]> g, double h) {
    double[] p = g.apply(h), m = g.apply(-h), r = new double[p.length];
    if (!fourPoint) {
      for (int k = 0; k < r.length; k++) r[k] = (p[k] - m[k]) / (2 * h);
      return r;
    }
    double[] p2 = g.apply(2 * h), m2 = g.apply(-2 * h);
    for (int k = 0; k < r.length; k++) r[k] = (8 * (p[k] - m[k]) - (p2[k] - m2[k])) / (12 * h);
    return r;
  }

  /** x with x[diff[j]] moved by t * tangent[j]. */
  static Arr[] along(Arr[] x, int[] diff, Arr[] tangents, double t) {
    Arr[] r = x.clone();
    for (int j = 0; j < diff.length; j++) {
      Arr xi = x[diff[j]];
      double[] v = xi.v.clone();
      for (int e = 0; e < v.length; e++) v[e] += t * tangents[j].v[e];
      r[diff[j]] = new Arr(xi.shape, v);
    }
    return r;
  }

  static Arr[] withDelta(Arr[] a, int i, int e, double d) {
    Arr[] r = a.clone();
    r[i] = a[i].withDelta(e, d);
    return r;
  }

  // ======================================================================== the plain program

  interface Eval {
    Tensor run(Tensor[] env, DType dt);
  }

  /** One line of the program: env[target] = eval(env), or target -1 for a poisoned line. */
  record Step(String text, int target, Eval eval) {}

  static final class Program {
    final int nargs;
    final long[][] argShapes;
    final boolean[] isInt;
    final long[] intHi;  // int64 args: values in [0, intHi)
    final List<Step> steps;
    final int outId, nslots;
    final long[] outShape;
    final DType dtype;
    final List<Val> values = new ArrayList<>();     // float values (not constants), for poisoned ops
    final List<Integer> after = new ArrayList<>();  // per value: the step index after which it exists

    Program(long[][] argShapes, boolean[] isInt, long[] intHi, List<Step> steps, int outId, int nslots, long[] outShape, DType dtype) {
      this.nargs = argShapes.length;
      this.argShapes = argShapes;
      this.isInt = isInt;
      this.intHi = intHi;
      this.steps = steps;
      this.outId = outId;
      this.nslots = nslots;
      this.outShape = outShape;
      this.dtype = dtype;
    }

    /** Runs the ops on {@code args} (tracers or plain tensors); constants are made in {@code dt}. */
    Tensor run(Tensor[] args, DType dt) {
      Tensor[] env = new Tensor[nslots];
      System.arraycopy(args, 0, env, 0, nargs);
      for (Step s : steps) {
        Tensor t = s.eval.run(env, dt);
        if (s.target >= 0) env[s.target] = t;
      }
      return env[outId];
    }

    String text() {
      StringBuilder b = new StringBuilder("f(");
      for (int i = 0; i < nargs; i++)
        b.append(i > 0 ? ", " : "").append("v").append(i).append(": ").append(isInt[i] ? "int64" : dtype.displayName())
            .append(str(argShapes[i])).append(isInt[i] ? " in [0, " + intHi[i] + ")" : "");
      b.append(") {\n");
      for (Step s : steps) b.append("    ").append(s.text).append('\n');
      return b.append("    return v").append(outId).append("  // ").append(str(outShape)).append("\n  }").toString();
    }
  }

  /** A value of the program under construction. */
  static final class Val {
    final int id;
    final long[] shape;
    final double bound;   // |values| <= bound (an estimate that errs high)
    final boolean raw;    // a float argument itself: values away from every kink
    final boolean isConst;

    Val(int id, long[] shape, double bound, boolean raw, boolean isConst) {
      this.id = id;
      this.shape = shape;
      this.bound = bound;
      this.raw = raw;
      this.isConst = isConst;
    }

    int rank() {
      return shape.length;
    }

    String n() {
      return "v" + id;
    }
  }

  static Tensor constT(double[] data, long[] shape, DType dt) {
    Tensor t = Tensor.fromArray(data, shape);
    return dt == DType.FLOAT64 ? t : t.to(dt);
  }

  static DType other(DType dt) {
    return dt == DType.FLOAT64 ? DType.FLOAT32 : DType.FLOAT64;
  }

  static Tensor boolConst(boolean[] data, long[] shape) {
    if (data.length == 0) return Tensor.zeros(DType.BOOL, shape);
    return Tensor.of(data).reshape(shape);
  }

  static String fmt(double x) {
    return String.format(Locale.ROOT, "%.3g", x);
  }

  /** Builds a random program, one op at a time, tracking shapes and value bounds. */
  static final class Gen {
    final Rng r;
    final DType dt;
    final List<Val> vals = new ArrayList<>();  // float values (args, results, constants)
    final List<Step> steps = new ArrayList<>();
    final List<Integer> stepOfVal = new ArrayList<>();  // per val: index in steps after which it exists (-1 for args)
    final boolean[] used;
    int nslots;
    long[][] argShapes;
    boolean[] isInt;
    long[] intHi;
    int intArg = -1, intSrcArg = -1, intSrcDim = -1;

    Gen(Rng r, DType dt, int maxSlots) {
      this.r = r;
      this.dt = dt;
      this.used = new boolean[maxSlots];
    }

    Val emit(String text, long[] shape, double bound, Eval e) {
      return emit(text, shape, bound, false, e);
    }

    Val emit(String text, long[] shape, double bound, boolean isConst, Eval e) {
      int id = nslots++;
      steps.add(new Step("v" + id + " = " + text + "  // " + str(shape), id, e));
      Val v = new Val(id, shape, bound, false, isConst);
      vals.add(v);
      stepOfVal.add(steps.size());
      return v;
    }

    List<Val> floats(boolean consts) {
      List<Val> l = new ArrayList<>();
      for (Val v : vals)
        if (consts || !v.isConst) l.add(v);
      return l;
    }

    Val last() {
      for (int i = vals.size() - 1; i >= 0; i--)
        if (!vals.get(i).isConst) return vals.get(i);
      throw new IllegalStateException("no value");
    }

    Val pick() {
      List<Val> l = floats(false);
      Val v = r.chance(0.55) ? last() : r.pick(l);
      used[v.id] = true;
      return v;
    }

    Val constant(long[] shape, double lo, double hi) {
      double[] d = new double[(int) numel(shape)];
      for (int i = 0; i < d.length; i++) d[i] = r.uniform(lo, hi);
      String text = "const" + (d.length <= 4 ? valuesText(d) : "");
      return emit(text, shape, Math.max(Math.abs(lo), Math.abs(hi)), true, (env, t) -> constT(d, shape, t));
    }

    static String valuesText(double[] d) {
      StringBuilder b = new StringBuilder("(");
      for (int i = 0; i < d.length; i++) b.append(i > 0 ? ", " : "").append(fmt(d[i]));
      return b.append(")").toString();
    }

    /** Scales or squashes v so that |values| <= maxB. */
    Val tame(Val v, double maxB) {
      if (v.bound <= maxB) return v;
      int id = v.id;
      if (r.chance(0.5)) return emit("tanh(" + v.n() + ")", v.shape, 1, (env, t) -> env[id].tanh());
      double s = maxB / v.bound;
      return emit("mul(" + v.n() + ", " + fmt(s) + ")", v.shape, maxB, (env, t) -> env[id].mul(s));
    }

    boolean ok(long[] shape) {
      return shape != null && shape.length <= MAX_RANK && numel(shape) <= MAX_NUMEL && numel(shape) > 0;
    }

    /** A shape that broadcasts with s (its result is s or grows a leading dim). */
    long[] compatShape(long[] s) {
      switch (r.below(6)) {
        case 0:
        case 1:
          return s.clone();
        case 2: {
          int k = r.range(0, s.length);
          return Arrays.copyOfRange(s, k, s.length);
        }
        case 3: {
          long[] c = s.clone();
          for (int i = 0; i < c.length; i++)
            if (r.chance(0.5)) c[i] = 1;
          return c;
        }
        case 4:
          return s.length < MAX_RANK ? insert(s, 0, r.range(1, 2)) : s.clone();
        default:
          return new long[0];
      }
    }

    /** A float value broadcasting with s: another value of the program, or a new constant. */
    Val partner(long[] s) {
      List<Val> c = new ArrayList<>();
      for (Val v : floats(false)) {
        long[] b = bcast(s, v.shape);
        if (ok(b)) c.add(v);
      }
      if (!c.isEmpty() && r.chance(0.55)) {
        Val v = r.pick(c);
        used[v.id] = true;
        return v;
      }
      return constant(compatShape(s), -1, 1);
    }

    /** A float value of exactly shape s, or a new constant. */
    Val exact(long[] s, double lo, double hi) {
      List<Val> c = new ArrayList<>();
      for (Val v : floats(false))
        if (Arrays.equals(v.shape, s)) c.add(v);
      if (!c.isEmpty() && r.chance(0.5)) {
        Val v = r.pick(c);
        used[v.id] = true;
        return v;
      }
      return constant(s, lo, hi);
    }

    int dimArg(int d, int rank) {
      return r.chance(0.3) ? d - rank : d;
    }

    // ------------------------------------------------------------------ ops

    boolean unary() {
      Val x = pick();
      switch (r.below(13)) {
        case 0:
          return un(x, "neg", x.bound, Tensor::neg);
        case 1:
          return un(x, "sin", 1, Tensor::sin);
        case 2:
          return un(x, "cos", 1, Tensor::cos);
        case 3:
          return r.chance(0.5) ? un(x, "tanh", 1, Tensor::tanh) : un(x, "F.tanh", 1, F::tanh);
        case 4:
          return r.chance(0.5) ? un(x, "sigmoid", 1, Tensor::sigmoid) : un(x, "F.sigmoid", 1, F::sigmoid);
        case 5: {
          Val y = tame(x, 2.5);
          return un(y, "exp", Math.exp(y.bound), Tensor::exp);
        }
        case 6: {
          Val y = tame(x, 5);
          double c = r.uniform(0.3, 1.5);
          return un(y, "log(" + y.n() + "^2 + " + fmt(c) + ")", Math.max(Math.abs(Math.log(c)), Math.log(y.bound * y.bound + c)) + 0.1,
              t -> t.mul(t).add(c).log(), true);
        }
        case 7: {
          Val y = tame(x, 5);
          double c = r.uniform(0.2, 1.0);
          return un(y, "sqrt(" + y.n() + "^2 + " + fmt(c) + ")", Math.sqrt(y.bound * y.bound + c), t -> t.mul(t).add(c).sqrt(), true);
        }
        case 8: {
          Val y = tame(x, 3);
          double p = r.chance(0.5) ? 2.0 : 3.0;
          return un(y, "pow(" + y.n() + ", " + (int) p + ")", Math.pow(y.bound, p), t -> t.pow(p), true);
        }
        case 9:
          return un(x, "log(sigmoid(" + x.n() + "))", x.bound + 1, t -> t.sigmoid().log(), true);
        case 10: {
          Val y = tame(x, 5);
          return un(y, "mul(" + y.n() + ", " + y.n() + ")", y.bound * y.bound, t -> t.mul(t), true);
        }
        default: {
          double s = r.sign() * r.uniform(0.5, 2);
          switch (r.below(5)) {
            case 0:
              return un(x, "add(" + x.n() + ", " + fmt(s) + ")", x.bound + Math.abs(s), t -> t.add(s), true);
            case 1:
              return un(x, "sub(" + x.n() + ", " + fmt(s) + ")", x.bound + Math.abs(s), t -> t.sub(s), true);
            case 2:
              return un(x, "rsub(" + x.n() + ", " + fmt(s) + ")", x.bound + Math.abs(s), t -> t.rsub(s), true);
            case 3:
              return un(x, "mul(" + x.n() + ", " + fmt(s) + ")", x.bound * Math.abs(s), t -> t.mul(s), true);
            default:
              return un(x, "div(" + x.n() + ", " + fmt(s) + ")", x.bound / Math.abs(s), t -> t.div(s), true);
          }
        }
      }
    }

    boolean un(Val x, String name, double bound, Function<Tensor, Tensor> f) {
      return un(x, name + "(" + x.n() + ")", bound, f, true);
    }

    boolean un(Val x, String text, double bound, Function<Tensor, Tensor> f, boolean full) {
      if (bound > MAX_BOUND) return false;
      int id = x.id;
      emit(text, x.shape, bound, (env, t) -> f.apply(env[id]));
      return true;
    }

    boolean binary() {
      Val a = pick();
      Val b = partner(a.shape);
      long[] s = bcast(a.shape, b.shape);
      if (!ok(s)) return false;
      if (r.chance(0.35)) {
        Val t = a;
        a = b;
        b = t;
      }
      switch (r.below(5)) {
        case 0:
        case 1: {
          boolean add = r.chance(0.5);
          int ia = a.id, ib = b.id;
          if (a.bound + b.bound > MAX_BOUND) return false;
          emit((add ? "add(" : "sub(") + a.n() + ", " + b.n() + ")", s, a.bound + b.bound,
              add ? (env, t) -> env[ia].add(env[ib]) : (env, t) -> env[ia].sub(env[ib]));
          return true;
        }
        case 2: {
          Val ta = tame(a, 5), tb = tame(b, 5);
          int ia = ta.id, ib = tb.id;
          emit("mul(" + ta.n() + ", " + tb.n() + ")", s, ta.bound * tb.bound, (env, t) -> env[ia].mul(env[ib]));
          return true;
        }
        case 3: {
          Val tb = tame(b, 5);
          double c = r.uniform(0.4, 1.2);
          int ia = a.id, ib = tb.id;
          emit("div(" + a.n() + ", " + tb.n() + "^2 + " + fmt(c) + ")", s, a.bound / c, (env, t) -> env[ia].div(env[ib].mul(env[ib]).add(c)));
          return true;
        }
        default: {
          Val ta = tame(a, 2);
          double c = r.uniform(0.4, 1.2);
          int ia = ta.id, ib = b.id;
          boolean squash = b.bound > 1.5;
          double base = ta.bound * ta.bound + c, e = squash ? 1 : b.bound;
          double bound = Math.max(Math.pow(base, e), Math.pow(c, -e));
          if (bound > MAX_BOUND) return false;
          emit("pow(" + ta.n() + "^2 + " + fmt(c) + ", " + (squash ? "tanh(" + b.n() + ")" : b.n()) + ")", s, bound,
              (env, t) -> env[ia].mul(env[ia]).add(c).pow(squash ? env[ib].tanh() : env[ib]));
          return true;
        }
      }
    }

    int[] randomDims(int rank) {
      List<Integer> all = new ArrayList<>();
      for (int i = 0; i < rank; i++) all.add(i);
      int k = r.range(1, rank);
      int[] d = new int[k];
      for (int i = 0; i < k; i++) d[i] = dimArg(all.remove(r.below(all.size())), rank);
      return d;
    }

    boolean reduce() {
      Val x = pick();
      int rank = x.rank();
      int kind = r.below(3);  // sum, mean, logsumexp
      String[] names = {"sum", "mean", "logsumexp"};
      int mode = r.weighted(25, 10, 65);  // all (no dims), empty dims, dims
      int[] dims;
      boolean keep = r.chance(0.4);
      long[] out;
      long reduced;
      if (mode == 0) {
        dims = null;
        out = new long[0];
        reduced = numel(x.shape);
      } else if (mode == 1) {
        dims = new int[0];
        out = keep ? ones(rank) : new long[0];
        reduced = numel(x.shape);
      } else if (rank == 0) {
        dims = new int[] {r.chance(0.5) ? 0 : -1};
        out = new long[0];
        reduced = 1;
      } else {
        dims = randomDims(rank);
        out = x.shape.clone();
        reduced = 1;
        boolean[] gone = new boolean[rank];
        for (int d : dims) {
          int n = d < 0 ? d + rank : d;
          reduced *= x.shape[n];
          gone[n] = true;
          out[n] = 1;
        }
        if (!keep) {
          List<Long> l = new ArrayList<>();
          for (int i = 0; i < rank; i++)
            if (!gone[i]) l.add(x.shape[i]);
          out = l.stream().mapToLong(Long::longValue).toArray();
        }
      }
      double bound = kind == 0 ? x.bound * reduced : kind == 1 ? x.bound : x.bound + Math.log(reduced) + 0.01;
      if (bound > MAX_BOUND) {
        if (kind == 0) return false;
      }
      int id = x.id;
      final int[] fd = dims;
      String text = names[kind] + "(" + x.n() + (fd == null ? "" : ", " + dimsStr(fd) + ", keepdim=" + keep) + ")";
      emit(text, out, bound, (env, t) -> {
        Tensor v = env[id];
        switch (kind) {
          case 0:
            return fd == null ? v.sum() : v.sum(fd, keep);
          case 1:
            return fd == null ? v.mean() : v.mean(fd, keep);
          default:
            return fd == null ? v.logsumexp() : v.logsumexp(fd, keep);
        }
      });
      return true;
    }

    static long[] ones(int n) {
      long[] o = new long[n];
      Arrays.fill(o, 1);
      return o;
    }

    boolean softmax() {
      Val x = pick();
      int rank = x.rank();
      int dim = rank == 0 ? (r.chance(0.5) ? 0 : -1) : dimArg(r.below(rank), rank);
      int id = x.id;
      long size = rank == 0 ? 1 : x.shape[dim < 0 ? dim + rank : dim];
      switch (r.below(4)) {
        case 0:
          emit("softmax(" + x.n() + ", " + dim + ")", x.shape, 1, (env, t) -> env[id].softmax(dim));
          return true;
        case 1:
          emit("F.softmax(" + x.n() + ", " + dim + ")", x.shape, 1, (env, t) -> F.softmax(env[id], dim));
          return true;
        default: {
          double bound = 2 * x.bound + Math.log(size) + 0.01;
          if (bound > MAX_BOUND) return false;
          boolean fn = r.chance(0.5);
          emit((fn ? "F.logSoftmax(" : "logSoftmax(") + x.n() + ", " + dim + ")", x.shape, bound,
              fn ? (env, t) -> F.logSoftmax(env[id], dim) : (env, t) -> env[id].logSoftmax(dim));
          return true;
        }
      }
    }

    boolean matmul() {
      Val x = tame(pick(), 3);
      int rank = x.rank();
      if (rank == 0 || rank > 3) return false;
      long m = r.range(1, 3), n = r.range(1, 3);
      long k;
      long[] wShape, out;
      boolean left = r.chance(0.6);
      if (r.chance(0.25)) {
        // linear: x [..., k] @ w^T + b
        k = x.shape[rank - 1];
        boolean vecW = r.chance(0.2);
        wShape = vecW ? new long[] {k} : new long[] {m, k};
        out = vecW ? Arrays.copyOf(x.shape, rank - 1) : with(x.shape, rank - 1, m);
        if (!ok(out)) return false;
        Val w = tame(exact(wShape, -1, 1), 2);
        Val b = !vecW && r.chance(0.6) ? tame(exact(new long[] {m}, -1, 1), 2) : null;
        double bound = x.bound * w.bound * k + (b == null ? 0 : b.bound);
        if (bound > MAX_BOUND) return false;
        int ix = x.id, iw = w.id, ib = b == null ? -1 : b.id;
        boolean fn = r.chance(0.5);
        emit((fn ? "F.linear(" : "linear(") + x.n() + ", " + w.n() + (b == null ? "" : ", " + b.n()) + ")", out, bound,
            (env, t) -> fn ? (ib < 0 ? F.linear(env[ix], env[iw]) : F.linear(env[ix], env[iw], env[ib]))
                : env[ix].linear(env[iw], ib < 0 ? null : env[ib]));
        return true;
      }
      if (left) {
        k = x.shape[rank - 1];
        long[] batch = Arrays.copyOf(x.shape, rank - 1);
        switch (r.below(rank == 1 ? 3 : rank == 2 ? 3 : 2)) {
          case 0:
            wShape = new long[] {k};
            out = batch;
            break;
          case 1:
            wShape = new long[] {k, m};
            out = concat(batch, new long[] {m});
            break;
          default:
            long bb = r.range(1, 2);
            wShape = new long[] {bb, k, m};
            out = rank == 1 ? new long[] {bb, m} : new long[] {bb, x.shape[0], m};
        }
      } else {
        if (rank == 1) {
          k = x.shape[0];
          if (r.chance(0.5)) {
            wShape = new long[] {n, k};
            out = new long[] {n};
          } else {
            wShape = new long[] {k};
            out = new long[0];
          }
        } else {
          k = x.shape[rank - 2];
          wShape = new long[] {n, k};
          out = concat(Arrays.copyOf(x.shape, rank - 2), new long[] {n, x.shape[rank - 1]});
        }
      }
      if (numel(out) > MAX_NUMEL || out.length > MAX_RANK) return false;
      Val w = tame(exact(wShape, -1, 1), 2);
      double bound = x.bound * w.bound * k;
      if (bound > MAX_BOUND) return false;
      int ix = x.id, iw = w.id;
      if (left) emit("matmul(" + x.n() + ", " + w.n() + ")", out, bound, (env, t) -> env[ix].matmul(env[iw]));
      else emit("matmul(" + w.n() + ", " + x.n() + ")", out, bound, (env, t) -> env[iw].matmul(env[ix]));
      return true;
    }

    long[] shapeOfNumel(long n) {
      List<Long> dims = new ArrayList<>();
      long rem = n;
      while (rem > 1 && dims.size() < MAX_RANK - 1) {
        List<Long> divs = new ArrayList<>();
        for (long d = 2; d <= rem; d++)
          if (rem % d == 0) divs.add(d);
        long d = r.chance(0.3) ? rem : r.pick(divs);
        dims.add(r.below(dims.size() + 1), d);
        rem /= d;
      }
      if (rem > 1) dims.add(rem);
      while (dims.size() < MAX_RANK && r.chance(0.25)) dims.add(r.below(dims.size() + 1), 1L);
      return dims.stream().mapToLong(Long::longValue).toArray();
    }

    boolean view() {
      Val x = pick();
      int rank = x.rank();
      int id = x.id;
      switch (r.below(13)) {
        case 0: {
          long[] s = shapeOfNumel(numel(x.shape));
          long[] arg = s.clone();
          if (s.length > 0 && r.chance(0.3)) arg[r.below(s.length)] = -1;
          emit("reshape(" + x.n() + ", " + str(arg) + ")", s, x.bound, (env, t) -> env[id].reshape(arg));
          return true;
        }
        case 1: {
          long[] s = shapeOfNumel(numel(x.shape));
          emit("contiguous(" + x.n() + ").view(" + str(s) + ")", s, x.bound, (env, t) -> env[id].contiguous().view(s));
          return true;
        }
        case 2:
          emit("flatten(" + x.n() + ")", new long[] {numel(x.shape)}, x.bound, (env, t) -> env[id].flatten());
          return true;
        case 3: {
          List<Integer> l = new ArrayList<>();
          for (int i = 0; i < rank; i++) l.add(i);
          int[] perm = new int[rank];
          long[] s = new long[rank];
          for (int i = 0; i < rank; i++) {
            int p = l.remove(r.below(l.size()));
            s[i] = x.shape[p];
            perm[i] = dimArg(p, rank);
          }
          emit("permute(" + x.n() + ", " + dimsStr(perm) + ")", s, x.bound, (env, t) -> env[id].permute(perm));
          return true;
        }
        case 4: {
          if (rank == 0) return false;
          int a = r.below(rank), b = r.below(rank);
          long[] s = x.shape.clone();
          s[a] = x.shape[b];
          s[b] = x.shape[a];
          int da = dimArg(a, rank), db = dimArg(b, rank);
          emit("transpose(" + x.n() + ", " + da + ", " + db + ")", s, x.bound, (env, t) -> env[id].transpose(da, db));
          return true;
        }
        case 5: {
          if (rank > 2) return false;
          long[] s = rank == 2 ? new long[] {x.shape[1], x.shape[0]} : x.shape.clone();
          emit("t(" + x.n() + ")", s, x.bound, (env, t) -> env[id].t());
          return true;
        }
        case 6: {
          if (rank == 0) return false;
          int src = r.below(rank), dst = r.below(rank);
          long[] s = insert(remove(x.shape, src), dst, x.shape[src]);
          int sa = dimArg(src, rank), da = dimArg(dst, rank);
          emit("movedim(" + x.n() + ", " + sa + ", " + da + ")", s, x.bound, (env, t) -> env[id].movedim(sa, da));
          return true;
        }
        case 7: {
          if (rank == 0) return false;
          int d = r.below(rank);
          long size = x.shape[d];
          long st = r.below((int) size);
          long start = r.chance(0.3) ? st - size : st;
          long en = r.range((int) st + 1, (int) size + 1);
          long end = en > size ? size + r.range(0, 3) : (r.chance(0.3) ? en - size : en);
          if (end == 0) end = size;  // -0 would mean 0
          long step = r.chance(0.3) ? 2 : 1;
          long len = (Math.min(en, size) - st + step - 1) / step;
          long[] s = with(x.shape, d, len);
          int da = dimArg(d, rank);
          long fs = start, fe = end;
          emit("slice(" + x.n() + ", " + da + ", " + start + ", " + end + ", " + step + ")", s, x.bound,
              step == 1 && r.chance(0.5) ? (env, t) -> env[id].slice(da, fs, fe) : (env, t) -> env[id].slice(da, fs, fe, step));
          return true;
        }
        case 8: {
          if (rank == 0) return false;
          int d = r.below(rank);
          long size = x.shape[d];
          long idx = r.below((int) size);
          if (r.chance(0.3)) idx -= size;
          int da = dimArg(d, rank);
          long fi = idx;
          if (da == 0 && r.chance(0.3)) emit("get(" + x.n() + ", " + idx + ")", remove(x.shape, d), x.bound, (env, t) -> env[id].get(fi));
          else emit("select(" + x.n() + ", " + da + ", " + idx + ")", remove(x.shape, d), x.bound, (env, t) -> env[id].select(da, fi));
          return true;
        }
        case 9: {
          int lead = rank < MAX_RANK ? r.range(0, Math.min(2, MAX_RANK - rank)) : 0;
          long[] arg = new long[lead + rank], s = new long[lead + rank];
          for (int i = 0; i < lead; i++) arg[i] = s[i] = r.range(1, 3);
          for (int i = 0; i < rank; i++) {
            long sz = x.shape[i];
            long to = sz == 1 ? r.range(1, 3) : sz;
            s[lead + i] = to;
            arg[lead + i] = to == sz && r.chance(0.4) ? -1 : to;
          }
          if (!ok(s)) return false;
          emit("expand(" + x.n() + ", " + str(arg) + ")", s, x.bound, (env, t) -> env[id].expand(arg));
          return true;
        }
        case 10: {
          if (r.chance(0.4)) {
            long[] s = Arrays.stream(x.shape).filter(d -> d != 1).toArray();
            emit("squeeze(" + x.n() + ")", s, x.bound, (env, t) -> env[id].squeeze());
            return true;
          }
          if (rank == 0) return false;
          int[] dims = randomDims(rank);
          boolean[] gone = new boolean[rank];
          for (int d : dims) {
            int nd = d < 0 ? d + rank : d;
            gone[nd] = x.shape[nd] == 1;
          }
          List<Long> l = new ArrayList<>();
          for (int i = 0; i < rank; i++)
            if (!gone[i]) l.add(x.shape[i]);
          long[] s = l.stream().mapToLong(Long::longValue).toArray();
          emit("squeeze(" + x.n() + ", " + dimsStr(dims) + ")", s, x.bound, (env, t) -> env[id].squeeze(dims));
          return true;
        }
        case 11: {
          if (rank >= MAX_RANK) return false;
          int d = r.range(0, rank);
          int da = r.chance(0.3) ? d - rank - 1 : d;
          emit("unsqueeze(" + x.n() + ", " + da + ")", insert(x.shape, d, 1), x.bound, (env, t) -> env[id].unsqueeze(da));
          return true;
        }
        default:
          emit("contiguous(" + x.n() + ")", x.shape, x.bound, (env, t) -> env[id].contiguous());
          return true;
      }
    }

    boolean catStack() {
      Val x = pick();
      int rank = x.rank();
      if (r.chance(0.5) && rank > 0) {
        int d = r.below(rank);
        int extra = r.range(1, 2);
        List<Val> parts = new ArrayList<>();
        parts.add(x);
        long total = x.shape[d];
        for (int i = 0; i < extra; i++) {
          List<Val> c = new ArrayList<>();
          for (Val v : floats(false))
            if (v.rank() == rank && Arrays.equals(with(v.shape, d, 0), with(x.shape, d, 0))) c.add(v);
          Val p;
          if (!c.isEmpty() && r.chance(0.5)) {
            p = r.pick(c);
            used[p.id] = true;
          } else {
            p = constant(with(x.shape, d, r.range(1, 2)), -1, 1);
          }
          parts.add(r.below(parts.size() + 1), p);
          total += p.shape[d];
        }
        long[] s = with(x.shape, d, total);
        if (!ok(s)) return false;
        int[] ids = parts.stream().mapToInt(v -> v.id).toArray();
        double bound = parts.stream().mapToDouble(v -> v.bound).max().orElse(1);
        int da = dimArg(d, rank);
        emit("cat(" + names(parts) + ", " + da + ")", s, bound, (env, t) -> Tensor.cat(gather(env, ids), da));
        return true;
      }
      if (rank >= MAX_RANK) return false;
      int count = r.range(1, 3);
      List<Val> parts = new ArrayList<>();
      parts.add(x);
      for (int i = 1; i < count; i++) parts.add(r.below(parts.size() + 1), exact(x.shape, -1, 1));
      int d = r.range(0, rank);
      int da = r.chance(0.3) ? d - rank - 1 : d;
      long[] s = insert(x.shape, d, count);
      if (!ok(s)) return false;
      int[] ids = parts.stream().mapToInt(v -> v.id).toArray();
      double bound = parts.stream().mapToDouble(v -> v.bound).max().orElse(1);
      emit("stack(" + names(parts) + ", " + da + ")", s, bound, (env, t) -> Tensor.stack(gather(env, ids), da));
      return true;
    }

    static String names(List<Val> l) {
      StringBuilder b = new StringBuilder("[");
      for (int i = 0; i < l.size(); i++) b.append(i > 0 ? ", " : "").append(l.get(i).n());
      return b.append("]").toString();
    }

    static List<Tensor> gather(Tensor[] env, int[] ids) {
      List<Tensor> l = new ArrayList<>(ids.length);
      for (int i : ids) l.add(env[i]);
      return l;
    }

    boolean indexSelect() {
      Val x = pick();
      int rank = x.rank();
      if (rank == 0) return false;
      int d = r.below(rank);
      long size = x.shape[d];
      int da = dimArg(d, rank);
      int id = x.id;
      if (r.chance(0.2)) {
        long i0 = r.below((int) size);
        emit("index_select(" + x.n() + ", " + da + ", " + i0 + " (0-d))", with(x.shape, d, 1), x.bound,
            (env, t) -> env[id].indexSelect(da, Tensor.fromArray(new long[] {i0})));
        return true;
      }
      int len = r.range(1, 4);
      long[] idx = new long[len];
      for (int i = 0; i < len; i++) idx[i] = r.below((int) size);
      long[] s = with(x.shape, d, len);
      if (!ok(s)) return false;
      emit("index_select(" + x.n() + ", " + da + ", " + Arrays.toString(idx) + ")", s, x.bound,
          (env, t) -> env[id].indexSelect(da, Tensor.of(idx)));
      return true;
    }

    /** index_select with the int64 argument as the index. */
    boolean indexByArg() {
      if (intArg < 0) return false;
      long hi = intHi[intArg];
      List<Val> c = new ArrayList<>();
      List<Integer> cd = new ArrayList<>();
      for (Val v : floats(false))
        for (int d = 0; d < v.rank(); d++)
          if (v.shape[d] == hi) {
            c.add(v);
            cd.add(d);
          }
      int k = r.below(c.size());
      Val x = c.get(k);
      int d = cd.get(k);
      used[x.id] = true;
      used[intArg] = true;
      long[] is = argShapes[intArg];
      long[] s = with(x.shape, d, is.length == 0 ? 1 : is[0]);
      if (!ok(s)) return false;
      int id = x.id, ia = intArg, da = dimArg(d, x.rank());
      emit("index_select(" + x.n() + ", " + da + ", v" + ia + ")", s, x.bound, (env, t) -> env[id].indexSelect(da, env[ia]));
      return true;
    }

    List<Val> raws() {
      List<Val> l = new ArrayList<>();
      for (Val v : vals)
        if (v.raw) l.add(v);
      return l;
    }

    boolean where() {
      Val a = pick();
      Val b = r.chance(0.2) ? a : partner(a.shape);
      long[] ab = bcast(a.shape, b.shape);
      if (!ok(ab)) return false;
      List<Val> rc = new ArrayList<>();
      for (Val v : raws())
        if (ok(bcast(ab, v.shape))) rc.add(v);
      int ia = a.id, ib = b.id;
      if (!rc.isEmpty() && r.chance(0.6)) {
        Val c = r.pick(rc);
        used[c.id] = true;
        long[] s = bcast(ab, c.shape);
        double th = THRESHOLDS[r.below(THRESHOLDS.length)];
        int cmp = r.below(4), ic = c.id;
        String[] cn = {"gt", "lt", "ge", "le"};
        boolean tensorTh = r.chance(0.3);
        emit("where(" + cn[cmp] + "(" + c.n() + ", " + th + (tensorTh ? " as tensor" : "") + "), " + a.n() + ", " + b.n() + ")", s,
            Math.max(a.bound, b.bound), (env, t) -> {
              Tensor x = env[ic];
              Tensor cond;
              if (tensorTh) {
                Tensor tt = Tensor.full(th, t, c.shape);
                cond = cmp == 0 ? x.gt(tt) : cmp == 1 ? x.lt(tt) : cmp == 2 ? x.ge(tt) : x.le(tt);
              } else {
                cond = cmp == 0 ? x.gt(th) : cmp == 1 ? x.lt(th) : cmp == 2 ? x.ge(th) : x.le(th);
              }
              return Tensor.where(cond, env[ia], env[ib]);
            });
        return true;
      }
      long[] cs = compatShape(ab);
      long[] s = bcast(ab, cs);
      if (!ok(s)) return false;
      boolean[] mask = new boolean[(int) numel(cs)];
      for (int i = 0; i < mask.length; i++) mask[i] = r.chance(0.5);
      emit("where(mask" + str(cs) + ", " + a.n() + ", " + b.n() + ")", s, Math.max(a.bound, b.bound),
          (env, t) -> Tensor.where(boolConst(mask, cs), env[ia], env[ib]));
      return true;
    }

    /** Ops with kinks, only on raw arguments (their values keep away from the kinks). */
    boolean kinked() {
      List<Val> rs = raws();
      if (rs.isEmpty()) return false;
      Val x = r.pick(rs);
      used[x.id] = true;
      int id = x.id;
      int rank = x.rank();
      switch (r.below(6)) {
        case 0:
          return r.chance(0.5) ? un(x, "relu", x.bound, Tensor::relu) : un(x, "F.relu", x.bound, F::relu);
        case 1:
          return un(x, "abs", x.bound, Tensor::abs);
        case 2:
          return un(x, "sign", 1, Tensor::sign);
        case 3: {
          double th = THRESHOLDS[r.below(THRESHOLDS.length)];
          return un(x, "leaky(" + x.n() + ", " + th + ")", x.bound, t -> Tensor.where(t.gt(th), t, t.mul(0.1)), true);
        }
        default: {
          // amax: raw values are pairwise distinct, so there are no ties
          if (rank == 0 || r.chance(0.25)) {
            emit("amax(" + x.n() + ")", new long[0], x.bound, (env, t) -> env[id].amax());
            return true;
          }
          int[] dims = randomDims(rank);
          boolean keep = r.chance(0.4);
          long[] s = x.shape.clone();
          boolean[] gone = new boolean[rank];
          for (int d : dims) {
            int nd = d < 0 ? d + rank : d;
            gone[nd] = true;
            s[nd] = 1;
          }
          if (!keep) {
            List<Long> l = new ArrayList<>();
            for (int i = 0; i < rank; i++)
              if (!gone[i]) l.add(x.shape[i]);
            s = l.stream().mapToLong(Long::longValue).toArray();
          }
          emit("amax(" + x.n() + ", " + dimsStr(dims) + ", keepdim=" + keep + ")", s, x.bound, (env, t) -> env[id].amax(dims, keep));
          return true;
        }
      }
    }

    boolean crossEntropy() {
      Val x = pick();
      int rank = x.rank();
      if (rank < 1 || rank > 2) return false;
      long c = x.shape[rank - 1];
      long[] target;
      long[] tShape;
      if (rank == 2) {
        target = new long[(int) x.shape[0]];
        tShape = new long[] {x.shape[0]};
      } else {
        target = new long[1];
        tShape = new long[0];
      }
      for (int i = 0; i < target.length; i++) target[i] = r.below((int) c);
      double bound = 2 * x.bound + Math.log(c) + 0.01;
      if (bound > MAX_BOUND) return false;
      int id = x.id;
      emit("F.crossEntropy(" + x.n() + ", " + Arrays.toString(target) + ")", new long[0], bound,
          (env, t) -> F.crossEntropy(env[id], Tensor.fromArray(target, tShape)));
      return true;
    }

    boolean castRoundTrip() {
      if (dt != DType.FLOAT32) return false;
      Val x = pick();
      double s = r.uniform(0.5, 1.5);
      int id = x.id;
      emit("to(to(" + x.n() + ", float64) * " + fmt(s) + ", float32)", x.shape, x.bound * s,
          (env, t) -> env[id].to(DType.FLOAT64).mul(s).to(t));
      return true;
    }

    boolean step() {
      switch (r.weighted(20, 18, 10, 6, 8, 22, 6, 5, 5, 5, 1, 1, 3)) {
        case 0:
          return unary();
        case 1:
          return binary();
        case 2:
          return reduce();
        case 3:
          return softmax();
        case 4:
          return matmul();
        case 5:
          return view();
        case 6:
          return catStack();
        case 7:
          return indexSelect();
        case 8:
          return where();
        case 9:
          return kinked();
        case 10:
          return crossEntropy();
        case 11:
          return castRoundTrip();
        default:
          return indexByArg();
      }
    }
  }

  /** Distinct values away from the thresholds (so that amax has no ties and where/relu no kinks). */
  static double[] rawValues(Rng r, int n, boolean f32) {
    double[] v = new double[n];
    double gap = Math.min(0.02, 1.0 / (n + 1));
    for (int i = 0; i < n; i++) {
      double x;
      boolean good;
      do {
        x = r.uniform(-1.6, 1.6);
        if (f32) x = (float) x;
        good = true;
        for (double t : THRESHOLDS) good &= Math.abs(x - t) > 0.06;
        for (int j = 0; j < i && good; j++) good = Math.abs(x - v[j]) > gap;
      } while (!good);
      v[i] = x;
    }
    return v;
  }

  static Program generateProgram(Rng r, DType dt) {
    int k = r.weighted(40, 35, 25) + 1;
    boolean withInt = r.chance(0.2);
    int nargs = k + (withInt ? 1 : 0);
    Gen g = new Gen(r, dt, 200);
    g.argShapes = new long[nargs][];
    g.isInt = new boolean[nargs];
    g.intHi = new long[nargs];
    for (int i = 0; i < k; i++) {
      long[] s;
      do {
        int rank = r.weighted(15, 35, 35, 15);
        s = new long[rank];
        for (int d = 0; d < rank; d++) s[d] = r.chance(0.25) ? 1 : r.range(2, 3);
      } while (numel(s) > 12);
      g.argShapes[i] = s;
      g.vals.add(new Val(i, s, 1.6, true, false));
      g.stepOfVal.add(0);
    }
    g.nslots = nargs;
    if (withInt) {
      // an int64 index argument, used by index_select on a value with a dim of its range
      List<int[]> src = new ArrayList<>();
      for (int i = 0; i < k; i++)
        for (int d = 0; d < g.argShapes[i].length; d++) src.add(new int[] {i, d});
      if (src.isEmpty()) {
        withInt = false;
        nargs = k;
        g.argShapes = Arrays.copyOf(g.argShapes, k);
        g.isInt = Arrays.copyOf(g.isInt, k);
        g.intHi = Arrays.copyOf(g.intHi, k);
        g.nslots = k;
      } else {
        int[] sd = r.pick(src);
        g.intArg = k;
        g.isInt[k] = true;
        g.intHi[k] = g.argShapes[sd[0]][sd[1]];
        g.argShapes[k] = r.chance(0.25) ? new long[0] : new long[] {r.range(1, 3)};
        g.intSrcArg = sd[0];
        g.intSrcDim = sd[1];
      }
    }
    int nsteps = r.range(2, 12);
    int done = 0, attempts = 0;
    while (done < nsteps && attempts++ < 200)
      if (g.step()) done++;
    if (g.intArg >= 0 && !g.used[g.intArg]) g.indexByArg();
    Val out = g.last();
    // Shrink the output and let every argument matter.
    while (numel(out.shape) > MAX_OUT_NUMEL) {
      int d = 0;
      for (int i = 1; i < out.rank(); i++)
        if (out.shape[i] > out.shape[d]) d = i;
      int id = out.id, fd = d;
      Val o = g.tame(out, MAX_BOUND / out.shape[d]);
      int oid = o.id;
      out = g.emit("sum(" + o.n() + ", [" + fd + "])", remove(o.shape, fd), o.bound * o.shape[fd], (env, t) -> env[oid].sum(fd));
    }
    for (int i = 0; i < k; i++) {
      if (g.used[i] || !r.chance(0.8)) continue;
      int ia = i, io = out.id;
      if (out.bound + numel(g.argShapes[i]) > MAX_BOUND) break;
      out = g.emit("add(" + out.n() + ", sum(sin(v" + i + ")))", out.shape, out.bound + numel(g.argShapes[i]),
          (env, t) -> env[io].add(env[ia].sin().sum()));
    }
    Program p = new Program(g.argShapes, g.isInt, g.intHi, g.steps, out.id, g.nslots, out.shape, dt);
    for (int i = 0; i < g.vals.size(); i++)
      if (!g.vals.get(i).isConst) {
        p.values.add(g.vals.get(i));
        p.after.add(g.stepOfVal.get(i));
      }
    return p;
  }

  // ======================================================================== invalid programs

  enum Mut {
    // one bad op in the plain program
    P_SHAPE(ShapeMismatchException.class), P_INDEX(InvalidIndexException.class), P_ARG(AdjointArgumentException.class),
    P_DTYPE(DTypeMismatchException.class), P_CLOSED(IllegalStateException.class), P_ESCAPED(IllegalStateException.class),
    P_RANDOM(IllegalStateException.class), P_READ(IllegalStateException.class),
    // one bad transform call
    ARGNUM_OOR(InvalidIndexException.class), ARGNUM_REPEAT(AdjointArgumentException.class), INDIMS_OOR(InvalidIndexException.class),
    INDIMS_COUNT(AdjointArgumentException.class), INDIMS_NONE(AdjointArgumentException.class), INDIMS_0D(InvalidIndexException.class),
    SIZES_DIFFER(ShapeMismatchException.class), OUTDIMS_OOR(InvalidIndexException.class), TAN_SHAPE(ShapeMismatchException.class),
    TAN_DTYPE(DTypeMismatchException.class), TAN_COUNT(AdjointArgumentException.class), COT_SHAPE(ShapeMismatchException.class),
    COT_DTYPE(DTypeMismatchException.class), NONSCALAR(ShapeMismatchException.class), INT_DIFF(DTypeMismatchException.class),
    ESCAPED_ARG(IllegalStateException.class), CLOSED_ARG(IllegalStateException.class);

    final Class<? extends Throwable> expected;

    Mut(Class<? extends Throwable> expected) {
      this.expected = expected;
    }

    boolean inProgram() {
      return name().startsWith("P_");
    }
  }

  /** A tracer whose transform has returned (kept out of its scope on purpose). */
  static Tensor escaped(long[] shape, DType dt, int how) {
    Tensor[] box = new Tensor[1];
    Tensor z = Tensor.ones(dt, shape);
    switch (how % 3) {
      case 0:
        Func.grad(x -> {
          box[0] = x.mul(2.0).keep();
          return x.sum();
        }).apply(z);
        break;
      case 1:
        Func.vmap(x -> {
          box[0] = x.mul(2.0).keep();
          return x;
        }).apply(z.unsqueeze(0).expand(concat(new long[] {2}, shape)));
        break;
      default:
        Func.jvp(x -> {
          box[0] = x.sin().keep();
          return x;
        }, z, z);
    }
    return box[0];
  }

  static Tensor closed(long[] shape, DType dt) {
    Tensor c = Tensor.ones(dt, shape);
    c.close();
    return c;
  }

  /** A shape different from s (for tangents and cotangents). */
  static long[] badShape(Rng r, long[] s) {
    if (s.length == 0 || r.chance(0.3)) return r.chance(0.5) || s.length == 0 ? insert(s, r.range(0, s.length), 2) : remove(s, r.below(s.length));
    int d = r.below(s.length);
    return with(s, d, s[d] + 1);
  }

  /** Inserts one poisoned op into the program (it must throw m.expected); false if none fits. */
  static boolean poison(Rng r, Program p, Mut m, int readArg) {
    List<Step> steps = p.steps;
    for (int attempt = 0; attempt < 30; attempt++) {
      int j = r.below(p.values.size());
      long[] s = p.values.get(j).shape;
      int id = p.values.get(j).id, pos = r.range(p.after.get(j), steps.size());
      if (m == Mut.P_READ) {
        id = readArg;
        s = p.argShapes[readArg];
        pos = r.range(0, steps.size());
      }
      Step st = poisonStep(r, m, id, s);
      if (st == null) continue;
      steps.add(pos, st);
      return true;
    }
    return false;
  }

  static Step poisonStep(Rng r, Mut m, int id, long[] s) {
    int rank = s.length;
    String v = "v" + id;
    List<Integer> big = new ArrayList<>();
    for (int i = 0; i < rank; i++)
      if (s[i] >= 2) big.add(i);
    switch (m) {
      case P_SHAPE:
        switch (r.below(9)) {
          case 0: {
            if (big.isEmpty()) return null;
            int d = r.pick(big);
            long[] c = with(s, d, s[d] == 2 ? 3 : 2);
            int op = r.below(5);
            String[] names = {"add", "mul", "sub", "where", "lt"};
            boolean swap = r.chance(0.5);
            return bad(names[op] + "(" + v + ", const" + str(c) + ")", (env, t) -> {
              Tensor a = env[id], b = Tensor.ones(t, c);
              Tensor x = swap ? b : a, y = swap ? a : b;
              switch (op) {
                case 0:
                  return x.add(y);
                case 1:
                  return x.mul(y);
                case 2:
                  return x.sub(y);
                case 3:
                  return Tensor.where(Tensor.ones(DType.BOOL, c), x, y);
                default:
                  return x.lt(y);
              }
            });
          }
          case 1: {
            if (rank == 0) return bad("matmul(" + v + " (0-d), const[2])", (env, t) -> env[id].matmul(Tensor.ones(t, 2)));
            long k = s[rank - 1];
            return bad("matmul(" + v + ", const[" + (k + 1) + ", 2])", (env, t) -> env[id].matmul(Tensor.ones(t, k + 1, 2)));
          }
          case 2: {
            if (rank == 0) return bad("linear(" + v + " (0-d), const[2, 1])", (env, t) -> env[id].linear(Tensor.ones(t, 2, 1), null));
            long k = s[rank - 1];
            return bad("linear(" + v + ", const[2, " + (k + 1) + "])", (env, t) -> env[id].linear(Tensor.ones(t, 2, k + 1), null));
          }
          case 3: {
            if (rank == 0) return bad("cat([" + v + ", " + v + "] (0-d), 0)", (env, t) -> Tensor.cat(List.of(env[id], env[id]), 0));
            long[] c = rank >= 2 ? with(s, rank - 1, s[rank - 1] + 1) : new long[] {s[0], 2};
            return bad("cat([" + v + ", const" + str(c) + "], 0)", (env, t) -> Tensor.cat(List.of(env[id], Tensor.ones(t, c)), 0));
          }
          case 4: {
            long[] c = insert(s, 0, 2);
            return bad("stack([" + v + ", const" + str(c) + "], 0)", (env, t) -> Tensor.stack(List.of(env[id], Tensor.ones(t, c)), 0));
          }
          case 5: {
            long n = numel(s);
            return r.chance(0.5) ? bad("reshape(" + v + ", [" + (n + 1) + "])", (env, t) -> env[id].reshape(n + 1))
                : bad("reshape(" + v + ", [-1, " + (n + 1) + "])", (env, t) -> env[id].reshape(-1, n + 1));
          }
          case 6: {
            if (!big.isEmpty() && r.chance(0.6)) {
              int d = r.pick(big);
              long[] c = with(s, d, s[d] + 1);
              return bad("expand(" + v + ", " + str(c) + ")", (env, t) -> env[id].expand(c));
            }
            if (rank == 0) return null;
            long[] c = Arrays.copyOfRange(s, 1, rank);
            return bad("expand(" + v + ", " + str(c) + ")", (env, t) -> env[id].expand(c));
          }
          case 7: {
            if (rank < 3) return null;
            return bad("t(" + v + ")", (env, t) -> env[id].t());
          }
          default: {
            if (rank == 0) return null;
            return bad("index_select(" + v + ", 0, [[0]])", (env, t) -> env[id].indexSelect(0, Tensor.fromArray(new long[] {0}, 1, 1)));
          }
        }
      case P_INDEX: {
        int over = r.chance(0.5) ? Math.max(rank, 1) : -Math.max(rank, 1) - 1;
        switch (r.below(11)) {
          case 0: {
            int k = r.below(4);
            String[] n = {"sum", "mean", "logsumexp", "amax"};
            boolean keep = r.chance(0.5);
            return bad(n[k] + "(" + v + ", [" + over + "])", (env, t) -> {
              Tensor x = env[id];
              int[] d = {over};
              return k == 0 ? x.sum(d, keep) : k == 1 ? x.mean(d, keep) : k == 2 ? x.logsumexp(d, keep) : x.amax(d, keep);
            });
          }
          case 1:
            return r.chance(0.5) ? bad("softmax(" + v + ", " + over + ")", (env, t) -> env[id].softmax(over))
                : bad("logSoftmax(" + v + ", " + over + ")", (env, t) -> env[id].logSoftmax(over));
          case 2:
            if (rank == 0) return null;
            return r.chance(0.5) ? bad("transpose(" + v + ", 0, " + over + ")", (env, t) -> env[id].transpose(0, over))
                : bad("movedim(" + v + ", " + over + ", 0)", (env, t) -> env[id].movedim(over, 0));
          case 3: {
            if (rank == 0) return bad("select(" + v + " (0-d), 0, 0)", (env, t) -> env[id].select(0, 0));
            int d = r.below(rank);
            long i = r.chance(0.5) ? s[d] : -s[d] - 1;
            return r.chance(0.5) ? bad("select(" + v + ", " + d + ", " + i + ")", (env, t) -> env[id].select(d, i))
                : bad("select(" + v + ", " + over + ", 0)", (env, t) -> env[id].select(over, 0));
          }
          case 4:
            if (rank == 0) return bad("slice(" + v + " (0-d), 0, 0, 1)", (env, t) -> env[id].slice(0, 0, 1));
            return bad("slice(" + v + ", " + over + ", 0, 1)", (env, t) -> env[id].slice(over, 0, 1));
          case 5:
            if (rank == 0) return null;
            return bad("squeeze(" + v + ", [" + over + "])", (env, t) -> env[id].squeeze(over));
          case 6: {
            int d = r.chance(0.5) ? rank + 1 : -rank - 2;
            return bad("unsqueeze(" + v + ", " + d + ")", (env, t) -> env[id].unsqueeze(d));
          }
          case 7: {
            if (rank == 0) return bad("index_select(" + v + " (0-d), 0, [0])", (env, t) -> env[id].indexSelect(0, Tensor.of(0L)));
            int d = r.below(rank);
            long i = r.chance(0.5) ? s[d] : -1;
            return r.chance(0.6) ? bad("index_select(" + v + ", " + d + ", [0, " + i + "])", (env, t) -> env[id].indexSelect(d, Tensor.of(0L, i)))
                : bad("index_select(" + v + ", " + over + ", [0])", (env, t) -> env[id].indexSelect(over, Tensor.of(0L)));
          }
          case 8:
            if (rank == 0) return null;
            return bad("cat([" + v + ", " + v + "], " + over + ")", (env, t) -> Tensor.cat(List.of(env[id], env[id]), over));
          case 9: {
            int d = r.chance(0.5) ? rank + 1 : -rank - 2;
            return bad("stack([" + v + ", " + v + "], " + d + ")", (env, t) -> Tensor.stack(List.of(env[id], env[id]), d));
          }
          default: {
            if (rank == 0) return null;
            int[] perm = new int[rank];
            for (int i = 0; i < rank; i++) perm[i] = i;
            perm[r.below(rank)] = rank;
            return bad("permute(" + v + ", " + dimsStr(perm) + ")", (env, t) -> env[id].permute(perm));
          }
        }
      }
      case P_ARG:
        switch (r.below(7)) {
          case 0: {
            if (rank < 2) {
              int[] perm = new int[rank + 1];
              for (int i = 0; i <= rank; i++) perm[i] = i;
              return bad("permute(" + v + ", " + dimsStr(perm) + ") (wrong length)", (env, t) -> env[id].permute(perm));
            }
            int[] perm = new int[rank];
            for (int i = 0; i < rank; i++) perm[i] = i;
            perm[1] = r.chance(0.5) ? 0 : -rank;
            return bad("permute(" + v + ", " + dimsStr(perm) + ")", (env, t) -> env[id].permute(perm));
          }
          case 1: {
            if (rank == 0) return null;
            int d = r.below(rank);
            int[] dims = {d, d - rank};
            int k = r.below(4);
            return bad("reduce#" + k + "(" + v + ", " + dimsStr(dims) + ")", (env, t) -> {
              Tensor x = env[id];
              return k == 0 ? x.sum(dims, false) : k == 1 ? x.mean(dims, true) : k == 2 ? x.logsumexp(dims, false) : x.amax(dims, false);
            });
          }
          case 2:
            return bad("reshape(" + v + ", [-1, -1])", (env, t) -> env[id].reshape(-1, -1));
          case 3: {
            if (rank == 0) return null;
            long step = r.chance(0.5) ? 0 : -1;
            return bad("slice(" + v + ", 0, 0, " + s[0] + ", " + step + ")", (env, t) -> env[id].slice(0, 0, s[0], step));
          }
          case 4:
            return r.chance(0.5) ? bad("cat([], 0)", (env, t) -> Tensor.cat(List.of(), 0)) : bad("stack([], 0)", (env, t) -> Tensor.stack(List.of(), 0));
          case 5: {
            long[] c = insert(s, 0, -1);
            return bad("expand(" + v + ", " + str(c) + ")", (env, t) -> env[id].expand(c));
          }
          default:
            return bad("reshape(" + v + ", [-2])", (env, t) -> env[id].reshape(-2));
        }
      case P_DTYPE:
        switch (r.below(8)) {
          case 0: {  // mixed float dtypes promote (PromotionTest); a bool operand of sub is refused, as in torch
            boolean swap = r.chance(0.5);
            return bad("sub(" + v + ", bool const)", (env, t) -> {
              Tensor c = Tensor.ones(DType.BOOL, s);
              return swap ? c.sub(env[id]) : env[id].sub(c);
            });
          }
          case 1: {
            if (rank == 0) return null;
            long k = s[rank - 1];
            return bad("matmul(" + v + ", const[" + k + "] of the other dtype)", (env, t) -> env[id].matmul(Tensor.ones(other(t), k)));
          }
          case 2:
            return bad("where(" + v + " as the condition, ...)", (env, t) -> Tensor.where(env[id], env[id], env[id]));
          case 3:
            if (rank == 0) return null;
            return bad("index_select(" + v + ", 0, float index)", (env, t) -> env[id].indexSelect(0, Tensor.zeros(t, 1)));
          case 4:
            if (rank == 0) return null;
            return bad("cat([" + v + ", other dtype], 0)", (env, t) -> Tensor.cat(List.of(env[id], Tensor.ones(other(t), s)), 0));
          case 5:
            return bad("exp(to(" + v + ", int64))", (env, t) -> env[id].to(DType.INT64).exp());
          case 6:
            return bad("pow(gt(" + v + ", 0), gt(" + v + ", 0)) (bool arithmetic)", (env, t) -> env[id].gt(0.0).pow(env[id].gt(0.0)));
          default:
            return bad("mean(to(" + v + ", int64))", (env, t) -> env[id].to(DType.INT64).mean());
        }
      case P_CLOSED: {
        int k = r.below(3);
        return bad("op#" + k + "(" + v + ", a closed tensor)", (env, t) -> {
          Tensor c = closed(s, t);
          return k == 0 ? env[id].add(c) : k == 1 ? c.mul(env[id]) : Tensor.stack(List.of(env[id], c), 0);
        });
      }
      case P_ESCAPED: {
        int how = r.below(3);
        boolean swap = r.chance(0.5);
        String[] hn = {"grad", "vmap", "jvp"};
        return bad("add(" + v + ", a tracer escaped from " + hn[how] + ")", (env, t) -> {
          Tensor e = escaped(s, t, how);
          return swap ? e.add(env[id]) : env[id].add(e);
        });
      }
      case P_RANDOM: {
        boolean n = r.chance(0.5);
        return bad("add(" + v + ", " + (n ? "randn" : "rand") + str(s) + ")",
            (env, t) -> env[id].add(n ? Tensor.randn(t, s) : Tensor.rand(t, s)));
      }
      case P_READ: {
        int k = r.below(3);
        return bad("read the values of " + v + " (#" + k + ")", (env, t) -> {
          Tensor x = env[id];
          if (k == 0) x.toDoubleArray();
          else if (k == 1) x.sum().item();
          else x.toFloatArray();
          return null;
        });
      }
      default:
        throw new IllegalStateException(m.name());
    }
  }

  static Step bad(String text, Eval e) {
    return new Step("POISON " + text, -1, e);
  }

  // ======================================================================== transform nestings

  enum Kind { GRAD, VJP, JVP, VMAP, JACREV, JACFWD, JACOBIAN, HESSIAN, HVP }

  abstract static class Node {
    long[][] args;
    boolean[] isInt;
    long[] intHi;
    long[] out;
    int order;
    double cost;
    boolean hasVmap;
    DType dt;
    Mut mut;
    int mutArg = -1;  // ESCAPED_ARG / CLOSED_ARG: which argument is replaced

    void inherit(Node c) {
      dt = c.dt;
      order = c.order;
      cost = c.cost;
      hasVmap = c.hasVmap;
    }

    /** The transformed function; with loop = true every vmap is replaced by a Java loop. */
    abstract Tensor apply(Tensor[] a, boolean loop);

    /** The same values from the plain program by finite differences and loops. */
    abstract Arr ref(Arr[] a, double h);

    abstract String text();

    int nargs() {
      return args.length;
    }

    List<Integer> floatArgs() {
      List<Integer> l = new ArrayList<>();
      for (int i = 0; i < args.length; i++)
        if (!isInt[i]) l.add(i);
      return l;
    }

    /** The arguments as passed to the transform (with the ESCAPED_ARG / CLOSED_ARG defect). */
    Object[] objects(Tensor[] a) {
      Object[] o = new Object[a.length];
      System.arraycopy(a, 0, o, 0, a.length);
      if (mut == Mut.ESCAPED_ARG) o[mutArg] = escaped(a[mutArg].shape(), a[mutArg].dtype(), mutArg);
      if (mut == Mut.CLOSED_ARG) o[mutArg] = closed(a[mutArg].shape(), a[mutArg].dtype());
      return o;
    }

    String mutText() {
      return mut == null ? "" : " !" + mut + (mutArg >= 0 ? "@" + mutArg : "");
    }
  }

  static Tensor[] tensors(Object[] xs) {
    Tensor[] t = new Tensor[xs.length];
    for (int i = 0; i < xs.length; i++) t[i] = (Tensor) xs[i];
    return t;
  }

  static Tensor flatCat(List<?> parts) {
    List<Tensor> l = new ArrayList<>();
    for (Object p : parts) l.add(((Tensor) p).reshape(-1));
    return Tensor.cat(l, 0);
  }

  static final class BaseNode extends Node {
    final Program p;

    BaseNode(Program p) {
      this.p = p;
      args = p.argShapes;
      isInt = p.isInt;
      intHi = p.intHi;
      out = p.outShape;
      dt = p.dtype;
      cost = 1;
    }

    @Override
    Tensor apply(Tensor[] a, boolean loop) {
      return p.run(a, dt);
    }

    @Override
    Arr ref(Arr[] a, double h) {
      try (Scope s = Scope.open()) {
        Tensor[] t = new Tensor[a.length];
        for (int i = 0; i < a.length; i++) {
          if (isInt[i]) {
            long[] l = new long[a[i].v.length];
            for (int k = 0; k < l.length; k++) l[k] = (long) a[i].v[k];
            t[i] = Tensor.fromArray(l, a[i].shape);
          } else {
            t[i] = Tensor.fromArray(a[i].v, a[i].shape);
          }
        }
        Tensor y = p.run(t, DType.FLOAT64);
        return new Arr(y.shape(), y.toDoubleArray());
      }
    }

    @Override
    String text() {
      return "f";
    }
  }

  /** sum(child * w): a scalar for grad / hessian of a non-scalar function. */
  static final class ProjectNode extends Node {
    final Node c;
    final double[] w;  // null: plain sum

    ProjectNode(Node c, double[] w) {
      this.c = c;
      this.w = w;
      inherit(c);
      args = c.args;
      isInt = c.isInt;
      intHi = c.intHi;
      out = new long[0];
    }

    @Override
    Tensor apply(Tensor[] a, boolean loop) {
      Tensor y = c.apply(a, loop);
      return w == null ? y.sum() : y.mul(constT(w, c.out, dt)).sum();
    }

    @Override
    Arr ref(Arr[] a, double h) {
      Arr y = c.ref(a, h);
      double s = 0;
      for (int i = 0; i < y.v.length; i++) s += y.v[i] * (w == null ? 1 : w[i]);
      return new Arr(new long[0], new double[] {s});
    }

    @Override
    String text() {
      return (w == null ? "sum" : "dot_w") + "(" + c.text() + ")";
    }
  }

  static int resolve(int a, int n) {
    return a < 0 ? a + n : a;
  }

  static Argnums argnums(int[] an, boolean multiple) {
    return multiple ? Argnums.of(an[0], Arrays.copyOfRange(an, 1, an.length)) : Argnums.of(an[0]);
  }

  /** The function with an aux output: List.of(y, 2 y) (hasAux transforms pass 2 y through). */
  static FnN withAux(FnN f) {
    return xs -> {
      Tensor y = (Tensor) f.apply(xs);
      return List.of(y, y.mul(2.0));
    };
  }

  static Arr twice(Arr y) {
    double[] v = y.v.clone();
    for (int i = 0; i < v.length; i++) v[i] *= 2;
    return new Arr(y.shape, v);
  }

  /** grad / gradAndValue with respect to argnums, optionally with aux. */
  static final class GradNode extends Node {
    final Node c;
    final int[] an, idx;
    final boolean multiple, withValue, aux;
    final int typed;

    GradNode(Node c, int[] an, boolean multiple, boolean withValue, boolean aux, int typed) {
      this.c = c;
      this.an = an;
      this.multiple = multiple;
      this.withValue = withValue;
      this.aux = aux;
      this.typed = typed;
      inherit(c);
      args = c.args;
      isInt = c.isInt;
      intHi = c.intHi;
      idx = new int[an.length];
      long total = 0;
      for (int i = 0; i < an.length; i++) {
        idx[i] = resolve(an[i], args.length);
        if (idx[i] >= 0 && idx[i] < args.length) total += numel(args[idx[i]]);
      }
      boolean plain = !multiple && !withValue && !aux;
      out = plain && idx[0] >= 0 && idx[0] < args.length ? args[idx[0]] : new long[] {total + (withValue ? 1 : 0) + (aux ? 1 : 0)};
      order = c.order + 1;
      cost = c.cost * 2 * total;
    }

    @Override
    Tensor apply(Tensor[] a, boolean loop) {
      Object[] o = objects(a);
      FnN f = xs -> c.apply(tensors(xs), loop);
      if (withValue || aux) {
        Argnums A = argnums(an, multiple);
        if (aux) A = A.withAux();
        Object res = (withValue ? Func.gradAndValue(aux ? withAux(f) : f, A) : Func.grad(withAux(f), A)).apply(o);
        return flatCat(Pytree.leaves(res));  // grads..., value, aux
      }
      if (typed == 1 && !multiple) {
        switch (a.length) {
          case 1:
            if (an[0] == 0) return Func.grad(x -> c.apply(new Tensor[] {x}, loop)).apply((Tensor) o[0]);
            break;
          case 2:
            return Func.grad((x, y) -> c.apply(new Tensor[] {x, y}, loop), an[0]).apply((Tensor) o[0], (Tensor) o[1]);
          case 3:
            return Func.grad((x, y, z) -> c.apply(new Tensor[] {x, y, z}, loop), an[0]).apply((Tensor) o[0], (Tensor) o[1], (Tensor) o[2]);
          default:
        }
      }
      Object res = Func.grad(f, argnums(an, multiple)).apply(o);
      return multiple ? flatCat((List<?>) res) : (Tensor) res;
    }

    @Override
    Arr ref(Arr[] a, double h) {
      List<Arr> parts = new ArrayList<>();
      for (int i : idx) {
        Arr g = new Arr(args[i]);
        for (int e = 0; e < g.v.length; e++) {
          int fi = i, fe = e;
          g.v[e] = deriv(t -> c.ref(withDelta(a, fi, fe, t), h).v, h)[0];
        }
        parts.add(g);
      }
      if (withValue || aux) {
        Arr y = c.ref(a, h);
        if (withValue) parts.add(y);
        if (aux) parts.add(twice(y));
      }
      return !multiple && !withValue && !aux ? parts.get(0) : Arr.flatCat(parts);
    }

    @Override
    String text() {
      return (withValue ? "gradAndValue" : "grad") + (typed == 1 ? "~typed" : "") + "(argnums=" + (multiple ? dimsStr(an) : an[0])
          + (aux ? ", hasAux" : "") + mutText() + ")(" + c.text() + ")";
    }
  }

  /** vjp over the arguments in diff (the rest are closed over); the cotangent is the last argument. */
  static final class VjpNode extends Node {
    final Node c;
    final int[] diff;
    final boolean twice, withPrimal, typed, aux;
    final int nc;

    VjpNode(Node c, int[] diff, boolean twice, boolean withPrimal, boolean aux, boolean typed, long[] cotShape) {
      this.c = c;
      this.diff = diff;
      this.twice = twice;
      this.withPrimal = withPrimal;
      this.aux = aux;
      this.typed = typed && !aux;
      inherit(c);
      nc = c.args.length;
      args = Arrays.copyOf(c.args, nc + 1);
      args[nc] = cotShape;
      isInt = Arrays.copyOf(c.isInt, nc + 1);
      intHi = Arrays.copyOf(c.intHi, nc + 1);
      long total = 0;
      for (int i : diff) total += numel(c.args[i]);
      out = !withPrimal && !aux && diff.length == 1 ? c.args[diff[0]]
          : new long[] {total + (withPrimal ? numel(c.out) : 0) + (aux ? numel(c.out) : 0)};
      order = c.order + 1;
      cost = c.cost * (2 * total + 1);
    }

    @Override
    Tensor apply(Tensor[] a, boolean loop) {
      Object[] o = objects(a);
      Tensor u = (Tensor) o[nc];
      if (mut == Mut.COT_DTYPE) u = u.to(other(dt));
      FnN f = ps -> {
        Tensor[] x = tensors(Arrays.copyOf(o, nc));
        for (int j = 0; j < diff.length; j++) x[diff[j]] = (Tensor) ps[j];
        return c.apply(x, loop);
      };
      Object[] primals = new Object[diff.length];
      for (int j = 0; j < diff.length; j++) primals[j] = o[diff[j]];
      VjpResult v = aux ? Func.vjpWithAux(withAux(f), primals)
          : typed && diff.length == 1 ? Func.vjp(x -> (Tensor) f.apply(x), (Tensor) primals[0]) : Func.vjp(f, primals);
      if (twice) v.apply(u.mul(2.0));
      List<Object> cts = v.apply(u);
      if (!withPrimal && !aux && diff.length == 1) return (Tensor) cts.get(0);
      List<Object> parts = new ArrayList<>();
      if (withPrimal) parts.add(v.output());
      parts.addAll(cts);
      if (aux) parts.add(v.aux());
      return flatCat(parts);
    }

    @Override
    Arr ref(Arr[] a, double h) {
      Arr[] x = Arrays.copyOf(a, nc);
      double[] u = a[nc].v;
      List<Arr> parts = new ArrayList<>();
      Arr y = withPrimal || aux ? c.ref(x, h) : null;
      if (withPrimal) parts.add(y);
      for (int i : diff) {
        Arr g = new Arr(c.args[i]);
        for (int e = 0; e < g.v.length; e++) {
          int fi = i, fe = e;
          g.v[e] = deriv(t -> new double[] {dot(u, c.ref(withDelta(x, fi, fe, t), h).v)}, h)[0];
        }
        parts.add(g);
      }
      if (aux) parts.add(twice(y));
      return !withPrimal && !aux && diff.length == 1 ? parts.get(0) : Arr.flatCat(parts);
    }

    @Override
    String text() {
      return "vjp" + (typed ? "~typed" : "") + "(primals=" + dimsStr(diff) + (twice ? ", pullback twice" : "") + (withPrimal ? ", +output" : "")
          + (aux ? ", hasAux" : "") + mutText() + ")(" + c.text() + ")";
    }
  }

  /** jvp (or linearize) over the arguments in diff (the rest are closed over); tangents are the trailing arguments. */
  static final class JvpNode extends Node {
    final Node c;
    final int[] diff;
    final boolean withPrimal, typed, aux, linearize;
    final int nc;

    JvpNode(Node c, int[] diff, boolean withPrimal, boolean aux, boolean linearize, boolean typed, int badTangent, long[] badShape) {
      this.c = c;
      this.diff = diff;
      this.withPrimal = withPrimal;
      this.aux = aux && !linearize;
      this.linearize = linearize && diff.length == 1;
      this.typed = typed && !aux;
      inherit(c);
      nc = c.args.length;
      args = Arrays.copyOf(c.args, nc + diff.length);
      isInt = Arrays.copyOf(c.isInt, nc + diff.length);
      intHi = Arrays.copyOf(c.intHi, nc + diff.length);
      for (int j = 0; j < diff.length; j++) {
        args[nc + j] = j == badTangent ? badShape : c.args[diff[j]];
        isInt[nc + j] = false;
      }
      int copies = 1 + (withPrimal ? 1 : 0) + (this.aux ? 1 : 0);
      out = copies > 1 ? new long[] {copies * numel(c.out)} : c.out;
      order = c.order + 1;
      cost = c.cost * (copies > 1 ? 3 : 2);
    }

    @Override
    Tensor apply(Tensor[] a, boolean loop) {
      Object[] o = objects(a);
      FnN f = ps -> {
        Tensor[] x = tensors(Arrays.copyOf(o, nc));
        for (int j = 0; j < diff.length; j++) x[diff[j]] = (Tensor) ps[j];
        return c.apply(x, loop);
      };
      List<Object> primals = new ArrayList<>(), tangents = new ArrayList<>();
      for (int j = 0; j < diff.length; j++) {
        primals.add(o[diff[j]]);
        Tensor t = (Tensor) o[nc + j];
        if (mut == Mut.TAN_DTYPE && j == diff.length - 1) t = t.to(other(dt));
        if (mut != Mut.TAN_COUNT || j < diff.length - 1) tangents.add(t);
      }
      if (linearize && mut != Mut.TAN_COUNT) {
        Func.Linearized lin = Func.linearize(x -> (Tensor) f.apply(x), (Tensor) primals.get(0));
        Tensor tan = lin.jvpFn().apply((Tensor) tangents.get(0));
        return withPrimal ? flatCat(List.of(lin.output(), tan)) : tan;
      }
      JvpResult r = aux ? Func.jvpWithAux(withAux(f), primals, tangents)
          : typed && diff.length == 1 && mut != Mut.TAN_COUNT
              ? Func.jvp(x -> (Tensor) f.apply(x), (Tensor) primals.get(0), (Tensor) tangents.get(0))
              : Func.jvp(f, primals, tangents);
      if (!withPrimal && !aux) return r.tangent();
      List<Object> parts = new ArrayList<>();
      if (withPrimal) parts.add(r.output());
      parts.add(r.tangent());
      if (aux) parts.add(r.aux());
      return flatCat(parts);
    }

    @Override
    Arr ref(Arr[] a, double h) {
      Arr[] x = Arrays.copyOf(a, nc), tans = Arrays.copyOfRange(a, nc, nc + diff.length);
      Arr d = new Arr(c.out, deriv(t -> c.ref(along(x, diff, tans, t), h).v, h));
      if (!withPrimal && !aux) return d;
      Arr y = c.ref(x, h);
      List<Arr> parts = new ArrayList<>();
      if (withPrimal) parts.add(y);
      parts.add(d);
      if (aux) parts.add(twice(y));
      return Arr.flatCat(parts);
    }

    @Override
    String text() {
      return (linearize ? "linearize" : "jvp") + (typed ? "~typed" : "") + "(primals=" + dimsStr(diff) + (withPrimal ? ", +output" : "")
          + (aux ? ", hasAux" : "") + mutText() + ")(" + c.text() + ")";
    }
  }

  /** hvp / vhp of a scalar function over all its arguments; the vectors are the trailing arguments. */
  static final class HvpNode extends Node {
    final Node c;
    final int nc;
    final boolean vhp, typed;

    HvpNode(Node c, boolean vhp, boolean typed) {
      this.c = c;
      this.vhp = vhp;
      this.typed = typed;
      inherit(c);
      nc = c.args.length;
      args = Arrays.copyOf(c.args, 2 * nc);
      isInt = new boolean[2 * nc];
      intHi = new long[2 * nc];
      long total = 0;
      for (int i = 0; i < nc; i++) {
        args[nc + i] = c.args[i];
        total += numel(c.args[i]);
      }
      out = nc == 1 ? c.args[0] : new long[] {total};
      order = c.order + 2;
      cost = c.cost * 4 * total;
    }

    @Override
    Tensor apply(Tensor[] a, boolean loop) {
      Object[] o = objects(a);
      if (typed && nc == 1) {
        Fn1 f = x -> c.apply(new Tensor[] {x}, loop);
        return vhp ? Func.vhp(f, (Tensor) o[0], (Tensor) o[1]) : Func.hvp(f, (Tensor) o[0], (Tensor) o[1]);
      }
      FnN f = xs -> c.apply(tensors(xs), loop);
      List<Object> primals = Arrays.asList(Arrays.copyOf(o, nc)), vs = Arrays.asList(Arrays.copyOfRange(o, nc, 2 * nc));
      if (vhp) {
        List<Object> r = Func.vhp(f, primals, nc == 1 ? vs.get(0) : vs);
        return nc == 1 ? (Tensor) r.get(0) : flatCat(r);
      }
      Object r = Func.hvp(f, primals, vs);
      return nc == 1 ? (Tensor) r : flatCat((List<?>) r);
    }

    /** The gradient of c at x (finite differences). */
    List<Arr> gradRef(Arr[] x, double h) {
      List<Arr> g = new ArrayList<>();
      for (int i = 0; i < nc; i++) {
        Arr gi = new Arr(c.args[i]);
        for (int e = 0; e < gi.v.length; e++) {
          int fi = i, fe = e;
          gi.v[e] = deriv(t -> c.ref(withDelta(x, fi, fe, t), h).v, h)[0];
        }
        g.add(gi);
      }
      return g;
    }

    @Override
    Arr ref(Arr[] a, double h) {
      Arr[] x = Arrays.copyOf(a, nc), vs = Arrays.copyOfRange(a, nc, 2 * nc);
      int[] all = new int[nc];
      for (int i = 0; i < nc; i++) all[i] = i;
      double[] hv = deriv(t -> Arr.flatCat(gradRef(along(x, all, vs, t), h)).v, h);  // H v: the gradient's derivative along v
      return nc == 1 ? new Arr(c.args[0], hv) : new Arr(out, hv);
    }

    @Override
    String text() {
      return (vhp ? "vhp" : "hvp") + (typed ? "~typed" : "") + "(" + mutText() + ")(" + c.text() + ")";
    }
  }

  static final class VmapNode extends Node {
    final Node c;
    final Integer[] inDims;  // as passed (may be negative); null: not mapped
    final int[] inNorm;      // normalised against the mapped argument's rank; -1: not mapped
    final int batch, outDim, outNorm, pack;
    final Integer chunk;
    Object[] passDims;       // what vmap gets (differs from inDims for the INDIMS_* defects)
    Object passOut;

    VmapNode(Node c, Integer[] inDims, int batch, int outDim, Integer chunk, int pack, int biggerArg) {
      this.c = c;
      this.inDims = inDims;
      this.batch = batch;
      this.outDim = outDim;
      this.chunk = chunk;
      this.pack = pack;
      inherit(c);
      hasVmap = true;
      isInt = c.isInt;
      intHi = c.intHi;
      args = new long[c.args.length][];
      inNorm = new int[c.args.length];
      for (int i = 0; i < args.length; i++) {
        if (inDims[i] == null) {
          args[i] = c.args[i];
          inNorm[i] = -1;
        } else {
          int r = c.args[i].length + 1;
          inNorm[i] = resolve(inDims[i], r);
          args[i] = insert(c.args[i], inNorm[i], i == biggerArg ? batch + 1 : batch);
        }
      }
      outNorm = resolve(outDim, c.out.length + 1);
      out = insert(c.out, outNorm, batch);
      cost = c.cost * batch;
      passDims = inDims.clone();
      passOut = outDim;
    }

    @Override
    Tensor apply(Tensor[] a, boolean loop) {
      if (loop) {
        List<Tensor> outs = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
          Tensor[] s = new Tensor[a.length];
          for (int i = 0; i < a.length; i++) s[i] = inNorm[i] < 0 ? a[i] : a[i].select(inNorm[i], b);
          outs.add(c.apply(s, true));
        }
        return Tensor.stack(outs, outNorm);
      }
      Object[] o = objects(a);
      VmapOptions opt = (pack == 1 ? VmapOptions.inDims((Object) Arrays.asList(passDims)) : VmapOptions.inDims(passDims)).outDims(passOut);
      if (chunk != null) opt = opt.chunkSize(chunk);
      if (pack == 1) {
        FnN f = xs -> c.apply(((List<?>) xs[0]).toArray(new Tensor[0]), false);
        return Func.vmap(f, opt).applyTensor((Object) Arrays.asList(o));
      }
      if (pack == 2) {
        switch (a.length) {
          case 1:
            return Func.vmap(x -> c.apply(new Tensor[] {x}, false), opt).apply((Tensor) o[0]);
          case 2:
            return Func.vmap((x, y) -> c.apply(new Tensor[] {x, y}, false), opt).apply((Tensor) o[0], (Tensor) o[1]);
          case 3:
            return Func.vmap((x, y, z) -> c.apply(new Tensor[] {x, y, z}, false), opt).apply((Tensor) o[0], (Tensor) o[1], (Tensor) o[2]);
          case 4:
            return Func.vmap((x, y, z, w) -> c.apply(new Tensor[] {x, y, z, w}, false), opt)
                .apply((Tensor) o[0], (Tensor) o[1], (Tensor) o[2], (Tensor) o[3]);
          default:
        }
      }
      FnN f = xs -> c.apply(tensors(xs), false);
      return Func.vmap(f, opt).applyTensor(o);
    }

    @Override
    Arr ref(Arr[] a, double h) {
      List<Arr> outs = new ArrayList<>();
      for (int b = 0; b < batch; b++) {
        Arr[] s = new Arr[a.length];
        for (int i = 0; i < a.length; i++) s[i] = inNorm[i] < 0 ? a[i] : a[i].select(inNorm[i], b);
        outs.add(c.ref(s, h));
      }
      return Arr.stack(outs, outNorm);
    }

    @Override
    String text() {
      return "vmap(inDims=" + Arrays.toString(passDims) + ", outDims=" + passOut + ", B=" + batch + (chunk != null ? ", chunk=" + chunk : "")
          + (pack == 1 ? ", as a list" : pack == 2 ? ", typed" : "") + mutText() + ")(" + c.text() + ")";
    }
  }

  enum JacMode { REV, FWD, AUTO }

  static final class JacNode extends Node {
    final Node c;
    final JacMode mode;
    final int[] an, idx;
    final boolean multiple, typed, aux;
    final Integer chunk;

    JacNode(Node c, JacMode mode, int[] an, boolean multiple, Integer chunk, boolean aux, boolean typed) {
      this.c = c;
      this.mode = mode;
      this.an = an;
      this.multiple = multiple;
      this.chunk = chunk;
      this.aux = aux;
      this.typed = typed && !aux;
      inherit(c);
      args = c.args;
      isInt = c.isInt;
      intHi = c.intHi;
      idx = new int[an.length];
      long total = 0;
      for (int i = 0; i < an.length; i++) {
        idx[i] = resolve(an[i], args.length);
        if (idx[i] >= 0 && idx[i] < args.length) total += numel(args[idx[i]]);
      }
      out = !multiple && !aux && idx[0] >= 0 && idx[0] < args.length ? concat(c.out, args[idx[0]])
          : new long[] {numel(c.out) * (total + (aux ? 1 : 0))};
      order = c.order + 1;
      cost = c.cost * 2 * total;
    }

    @Override
    Tensor apply(Tensor[] a, boolean loop) {
      Object[] o = objects(a);
      if (typed && !multiple && chunk == null) {
        if (a.length == 1 && an[0] == 0) {
          Fn1 f = x -> c.apply(new Tensor[] {x}, loop);
          return (mode == JacMode.REV ? Func.jacrev(f) : mode == JacMode.FWD ? Func.jacfwd(f) : Func.jacobian(f)).apply((Tensor) o[0]);
        }
        if (a.length == 2 && mode != JacMode.AUTO) {
          Fn2 f = (x, y) -> c.apply(new Tensor[] {x, y}, loop);
          return (mode == JacMode.REV ? Func.jacrev(f, an[0]) : Func.jacfwd(f, an[0])).apply((Tensor) o[0], (Tensor) o[1]);
        }
        if (a.length == 3) {
          Fn3 f = (x, y, z) -> c.apply(new Tensor[] {x, y, z}, loop);
          return (mode == JacMode.REV ? Func.jacrev(f, an[0]) : mode == JacMode.FWD ? Func.jacfwd(f, an[0]) : Func.jacobian(f, an[0]))
              .apply((Tensor) o[0], (Tensor) o[1], (Tensor) o[2]);
        }
      }
      Argnums A = argnums(an, multiple);
      if (chunk != null) A = A.chunkSize(chunk);
      if (aux) A = A.withAux();
      FnN f0 = xs -> c.apply(tensors(xs), loop), f = aux ? withAux(f0) : f0;
      Object res = (mode == JacMode.REV ? Func.jacrev(f, A) : mode == JacMode.FWD ? Func.jacfwd(f, A) : Func.jacobian(f, A)).apply(o);
      if (aux) return flatCat(Pytree.leaves(res));  // jacobians..., aux
      return multiple ? flatCat((List<?>) res) : (Tensor) res;
    }

    @Override
    Arr ref(Arr[] a, double h) {
      List<Arr> parts = new ArrayList<>();
      int m = (int) numel(c.out);
      for (int i : idx) {
        int n = (int) numel(args[i]);
        Arr j = new Arr(concat(c.out, args[i]));
        for (int e = 0; e < n; e++) {
          int fe = e;
          double[] col = deriv(t -> c.ref(withDelta(a, i, fe, t), h).v, h);
          for (int k = 0; k < m; k++) j.v[k * n + e] = col[k];
        }
        parts.add(j);
      }
      if (aux) parts.add(twice(c.ref(a, h)));
      return multiple || aux ? Arr.flatCat(parts) : parts.get(0);
    }

    @Override
    String text() {
      String n = mode == JacMode.REV ? "jacrev" : mode == JacMode.FWD ? "jacfwd" : "jacobian";
      return n + (typed ? "~typed" : "") + "(argnums=" + (multiple ? dimsStr(an) : an[0]) + (chunk != null ? ", chunk=" + chunk : "")
          + (aux ? ", hasAux" : "") + mutText()
          + ")(" + c.text() + ")";
    }
  }

  static final class HessianNode extends Node {
    final Node c;
    final int an, i;
    final boolean typed;

    HessianNode(Node c, int an, boolean typed) {
      this.c = c;
      this.an = an;
      this.typed = typed;
      inherit(c);
      args = c.args;
      isInt = c.isInt;
      intHi = c.intHi;
      i = resolve(an, args.length);
      long[] in = i >= 0 && i < args.length ? args[i] : new long[0];
      out = concat(c.out, in, in);
      order = c.order + 2;
      cost = c.cost * 4 * numel(in) * numel(in);
    }

    @Override
    Tensor apply(Tensor[] a, boolean loop) {
      Object[] o = objects(a);
      if (typed) {
        switch (a.length) {
          case 1:
            if (an == 0) return Func.hessian(x -> c.apply(new Tensor[] {x}, loop)).apply((Tensor) o[0]);
            break;
          case 2:
            return Func.hessian((x, y) -> c.apply(new Tensor[] {x, y}, loop), an).apply((Tensor) o[0], (Tensor) o[1]);
          case 3:
            return Func.hessian((x, y, z) -> c.apply(new Tensor[] {x, y, z}, loop), an).apply((Tensor) o[0], (Tensor) o[1], (Tensor) o[2]);
          default:
        }
      }
      return (Tensor) Func.hessian(xs -> c.apply(tensors(xs), loop), Argnums.of(an)).apply(o);
    }

    @Override
    Arr ref(Arr[] a, double h) {
      int n = (int) numel(args[i]), m = (int) numel(c.out);
      Arr r = new Arr(out);
      for (int p = 0; p < n; p++)
        for (int q = 0; q < n; q++) {
          int fp = p, fq = q;
          double[] d2 = deriv(tq -> deriv(tp -> c.ref(withDelta(withDelta(a, i, fp, tp), i, fq, tq), h).v, h), h);
          for (int k = 0; k < m; k++) r.v[(k * n + p) * n + q] = d2[k];
        }
      return r;
    }

    @Override
    String text() {
      return "hessian" + (typed ? "~typed" : "") + "(argnums=" + an + mutText() + ")(" + c.text() + ")";
    }
  }

  // ======================================================================== building a case

  static final class Case {
    final long seed;
    Program program;
    Node node;
    Mut mut;  // null: a valid program
    String note = "";

    Case(long seed) {
      this.seed = seed;
    }

    String describe() {
      return (mut == null ? "valid " : "invalid (" + mut + ", expects " + mut.expected.getSimpleName() + ") ") + node.text() + "  [" + program.dtype.displayName()
          + ", order " + node.order + ", cost " + (long) node.cost + "]" + note + "\n  " + program.text();
    }
  }

  static boolean within(Node n) {
    return n.order <= MAX_ORDER && n.cost <= MAX_COST && n.args.length <= MAX_ARITY && numel(n.out) <= MAX_NODE_NUMEL
        && n.out.length <= MAX_NODE_RANK;
  }

  static List<Kind> kindsFor(Mut m) {
    if (m == null) return List.of(Kind.values());
    switch (m) {
      case ARGNUM_OOR:
        return List.of(Kind.GRAD, Kind.JACREV, Kind.JACFWD, Kind.JACOBIAN, Kind.HESSIAN);
      case ARGNUM_REPEAT:
        return List.of(Kind.GRAD, Kind.JACREV, Kind.JACFWD, Kind.JACOBIAN);
      case INDIMS_OOR:
      case INDIMS_COUNT:
      case INDIMS_NONE:
      case INDIMS_0D:
      case SIZES_DIFFER:
      case OUTDIMS_OOR:
        return List.of(Kind.VMAP);
      case TAN_SHAPE:
      case TAN_DTYPE:
      case TAN_COUNT:
        return List.of(Kind.JVP);
      case COT_SHAPE:
      case COT_DTYPE:
        return List.of(Kind.VJP);
      case NONSCALAR:
        return List.of(Kind.GRAD);
      case INT_DIFF:
        return List.of(Kind.GRAD, Kind.VJP, Kind.JVP, Kind.JACREV, Kind.JACFWD, Kind.JACOBIAN, Kind.HESSIAN);
      case P_RANDOM:
        return List.of(Kind.VMAP, Kind.JACFWD, Kind.HESSIAN);
      case P_READ:
        return List.of(Kind.VMAP);
      default:
        return List.of(Kind.values());
    }
  }

  static Kind randomKind(Rng r) {
    return Kind.values()[r.weighted(14, 14, 14, 26, 9, 9, 4, 6, 4)];
  }

  static int[] subset(Rng r, List<Integer> from, int min, int max) {
    List<Integer> l = new ArrayList<>(from);
    if (Math.min(max, l.size()) < min) return new int[0];
    int k = r.range(min, Math.min(max, l.size()));
    int[] s = new int[k];
    for (int i = 0; i < k; i++) s[i] = l.remove(r.below(l.size()));
    return s;
  }

  static double[] weights(Rng r, long[] shape) {
    double[] w = new double[(int) numel(shape)];
    for (int i = 0; i < w.length; i++) w[i] = r.uniform(-1, 1);
    return w;
  }

  /** Argnums over float arguments (negative with some probability), with the argnum defects. */
  static int[] chooseArgnums(Rng r, Node c, boolean multiple, Mut m) {
    int n = c.nargs();
    List<Integer> fl = c.floatArgs();
    int[] an = multiple ? subset(r, fl, 2, 3) : new int[] {r.pick(fl)};
    for (int i = 0; i < an.length; i++)
      if (r.chance(0.3)) an[i] -= n;
    if (m == Mut.ARGNUM_OOR) an[r.below(an.length)] = r.chance(0.5) ? n + r.below(2) : -n - 1 - r.below(2);
    if (m == Mut.ARGNUM_REPEAT) {
      int k = r.range(1, an.length - 1);
      int src = resolve(an[r.below(k)], n);
      an[k] = r.chance(0.5) ? src : src - n;
    }
    if (m == Mut.INT_DIFF) {
      int ii = -1;
      for (int i = 0; i < n; i++)
        if (c.isInt[i]) ii = i;
      an[r.below(an.length)] = ii;
    }
    return an;
  }

  /** One transform around c; null if it does not apply (or m cannot be put there). */
  static Node wrap(Rng r, Node c, Kind k, Mut m) {
    List<Integer> fl = c.floatArgs();
    boolean hasInt = fl.size() < c.nargs();
    if (fl.isEmpty()) return null;
    if (m == Mut.INT_DIFF && !hasInt) return null;
    Node n;
    switch (k) {
      case GRAD: {
        boolean multiple = m == Mut.ARGNUM_REPEAT || (fl.size() >= 2 && r.chance(0.3));
        if (multiple && fl.size() < 2 && m == Mut.ARGNUM_REPEAT) multiple = true;
        Node s = c;
        if (c.out.length > 0 || r.chance(0.1)) {
          if (m == Mut.NONSCALAR) {
            if (c.out.length == 0) return null;
          } else {
            s = new ProjectNode(c, r.chance(0.3) ? null : weights(r, c.out));
          }
        } else if (m == Mut.NONSCALAR) {
          return null;
        }
        if (m == Mut.ARGNUM_REPEAT && fl.size() < 2) {
          int a = r.pick(fl);
          n = new GradNode(s, new int[] {a, r.chance(0.5) ? a : a - c.nargs()}, true, false, false, 0);
        } else {
          int[] an = chooseArgnums(r, c, multiple, m);
          n = new GradNode(s, an, multiple, r.chance(0.15), r.chance(0.15), r.chance(0.25) ? 1 : 0);
        }
        break;
      }
      case VJP: {
        int[] diff = subset(r, fl, 1, 3);
        if (m == Mut.INT_DIFF) {
          for (int i = 0; i < c.nargs(); i++)
            if (c.isInt[i]) diff[r.below(diff.length)] = i;
        }
        long[] cot = m == Mut.COT_SHAPE ? badShape(r, c.out) : c.out;
        n = new VjpNode(c, diff, r.chance(0.2), r.chance(0.2), r.chance(0.15), r.chance(0.25), cot);
        break;
      }
      case JVP: {
        int[] diff = subset(r, fl, 1, Math.min(3, MAX_ARITY - c.nargs()));
        if (diff.length == 0) return null;
        if (m == Mut.INT_DIFF) {
          for (int i = 0; i < c.nargs(); i++)
            if (c.isInt[i]) diff[r.below(diff.length)] = i;
        }
        int bad = m == Mut.TAN_SHAPE ? r.below(diff.length) : -1;
        n = new JvpNode(c, diff, r.chance(0.2), r.chance(0.15), r.chance(0.15), r.chance(0.25), bad, bad >= 0 ? badShape(r, c.args[diff[bad]]) : null);
        break;
      }
      case VMAP: {
        int nargs = c.nargs();
        Integer[] in = new Integer[nargs];
        int mapped = 0;
        for (int i = 0; i < nargs; i++) {
          if (r.chance(0.65) || (i == nargs - 1 && mapped == 0)) {
            int rank = c.args[i].length + 1;
            int d = r.below(rank);
            in[i] = r.chance(0.3) ? d - rank : d;
            mapped++;
          }
        }
        int batch = r.weighted(15, 45, 40) + 1;
        int ro = c.out.length + 1;
        int od = r.below(ro);
        int outDim = r.chance(0.3) ? od - ro : od;
        Integer chunk = r.chance(0.2) ? r.range(1, batch) : null;
        int pack = r.weighted(60, 20, 20);
        int bigger = -1;
        if (m == Mut.SIZES_DIFFER) {
          List<Integer> ms = new ArrayList<>();
          for (int i = 0; i < nargs; i++)
            if (in[i] != null) ms.add(i);
          if (ms.size() < 2) return null;
          bigger = ms.get(r.range(1, ms.size() - 1));
        }
        Integer[] declared = in.clone();
        if (m == Mut.INDIMS_NONE) Arrays.fill(declared, null);
        int zeroD = -1;
        if (m == Mut.INDIMS_0D) {
          for (int i = 0; i < nargs; i++)
            if (c.args[i].length == 0 && !c.isInt[i]) zeroD = i;
          if (zeroD < 0) return null;
          declared[zeroD] = null;
        }
        VmapNode v = new VmapNode(c, declared, batch, outDim, chunk, pack, bigger);
        if (m == Mut.INDIMS_NONE) v.passDims = new Object[nargs];
        if (m == Mut.INDIMS_0D) v.passDims[zeroD] = r.chance(0.5) ? 0 : -1;
        if (m == Mut.INDIMS_OOR) {
          List<Integer> ms = new ArrayList<>();
          for (int i = 0; i < nargs; i++)
            if (in[i] != null) ms.add(i);
          int i = r.pick(ms);
          int rank = c.args[i].length + 1;
          v.passDims[i] = r.chance(0.5) ? rank + r.below(2) : -rank - 1 - r.below(2);
        }
        if (m == Mut.INDIMS_COUNT) {
          Object[] p = v.passDims;
          v.passDims = r.chance(0.5) || p.length == 1 ? Arrays.copyOf(p, p.length + 1) : Arrays.copyOf(p, p.length - 1);
          if (v.passDims.length > p.length) v.passDims[p.length] = 0;
        }
        if (m == Mut.OUTDIMS_OOR) v.passOut = r.chance(0.5) ? ro + r.below(2) : -ro - 1 - r.below(2);
        n = v;
        break;
      }
      case JACREV:
      case JACFWD:
      case JACOBIAN: {
        boolean multiple = m == Mut.ARGNUM_REPEAT || (fl.size() >= 2 && r.chance(0.3));
        JacMode mode = k == Kind.JACREV ? JacMode.REV : k == Kind.JACFWD ? JacMode.FWD : JacMode.AUTO;
        int[] an;
        if (m == Mut.ARGNUM_REPEAT && fl.size() < 2) {
          int a = r.pick(fl);
          an = new int[] {a, r.chance(0.5) ? a : a - c.nargs()};
        } else {
          an = chooseArgnums(r, c, multiple, m);
        }
        n = new JacNode(c, mode, an, multiple, r.chance(0.2) ? r.range(1, 4) : null, r.chance(0.15), r.chance(0.25));
        break;
      }
      case HVP: {
        if (hasInt || 2 * c.nargs() > MAX_ARITY) return null;
        Node s = c.out.length > 0 ? new ProjectNode(c, r.chance(0.2) ? null : weights(r, c.out)) : c;
        n = new HvpNode(s, r.chance(0.5), r.chance(0.25));
        break;
      }
      default: {
        Node s = c.out.length > 0 ? new ProjectNode(c, weights(r, c.out)) : c;
        if (r.chance(0.3) && c.out.length > 0 && numel(c.out) <= 3) s = c;  // hessian of a vector function
        int[] an = chooseArgnums(r, c, false, m == Mut.ARGNUM_REPEAT ? null : m);
        n = new HessianNode(s, an[0], r.chance(0.25));
      }
    }
    if (m == Mut.ESCAPED_ARG || m == Mut.CLOSED_ARG) {
      List<Integer> cand = inspected(n);
      if (cand.isEmpty()) return null;
      n.mutArg = r.pick(cand);
    }
    n.mut = m != null && !m.inProgram() ? m : null;
    if (m != null && !m.inProgram()) {
      // the defect must not depend on data, so the output shape of a broken node is only nominal
      return n.order <= MAX_ORDER + 1 && n.args.length <= MAX_ARITY + 1 ? n : null;
    }
    return within(n) ? n : null;
  }

  /** The float arguments a transform reads itself (so that a closed or escaped one must be rejected). */
  static List<Integer> inspected(Node n) {
    List<Integer> l = new ArrayList<>();
    if (n instanceof GradNode g) for (int i : g.idx) l.add(i);
    else if (n instanceof JacNode j) for (int i : j.idx) l.add(i);
    else if (n instanceof HessianNode h) l.add(h.i);
    else if (n instanceof HvpNode h) for (int i = 0; i < n.nargs(); i++) l.add(i);
    else if (n instanceof VjpNode v) {
      for (int i : v.diff) l.add(i);
      l.add(v.nc);
    } else if (n instanceof JvpNode j) {
      for (int i : j.diff) l.add(i);
      for (int k = 0; k < j.diff.length; k++) l.add(j.nc + k);
    } else if (n instanceof VmapNode v) {
      for (int i = 0; i < v.inNorm.length; i++)
        if (v.inNorm[i] >= 0) l.add(i);
    }
    l.removeIf(i -> i < 0 || i >= n.nargs() || n.isInt[i]);
    return l;
  }

  static Case generate(long seed, double invalidRatio) {
    Rng r = new Rng(seed);
    for (int attempt = 0; attempt < 50; attempt++) {
      Case cs = new Case(seed);
      DType dt = r.chance(0.2) ? DType.FLOAT32 : DType.FLOAT64;
      Mut m = r.chance(invalidRatio) ? Mut.values()[r.below(Mut.values().length)] : null;
      Program p = generateProgram(r, dt);
      if (m == Mut.INT_DIFF && !hasInt(p)) continue;
      int depth = r.weighted(35, 40, 25) + 1;
      int mutLevel = m == null ? -1 : m == Mut.P_READ ? 1 : r.range(1, depth);
      Node node = new BaseNode(p);
      boolean ok = true;
      for (int level = 1; level <= depth && ok; level++) {
        Node next = null;
        boolean here = level == mutLevel;
        for (int t = 0; t < 12 && next == null; t++) {
          Kind k = here ? r.pick(kindsFor(m)) : randomKind(r);
          if (here && m.inProgram() && m != Mut.P_RANDOM && m != Mut.P_READ) k = randomKind(r);
          next = wrap(r, node, k, here ? m : null);
          if (next != null && here && m == Mut.P_READ) {
            VmapNode v = (VmapNode) next;
            boolean any = false;
            for (int i = 0; i < p.nargs; i++) any |= !p.isInt[i] && v.inNorm[i] >= 0;
            if (!any) next = null;
          }
        }
        if (next == null) ok = false;
        else node = next;
      }
      if (!ok) continue;
      if (m != null && m.inProgram()) {
        int readArg = -1;
        if (m == Mut.P_READ) {
          Node n1 = node;
          while (!(n1 instanceof VmapNode && ((VmapNode) n1).c instanceof BaseNode)) n1 = child(n1);
          VmapNode v = (VmapNode) n1;
          List<Integer> ms = new ArrayList<>();
          for (int i = 0; i < p.nargs; i++)
            if (!p.isInt[i] && v.inNorm[i] >= 0) ms.add(i);
          readArg = r.pick(ms);
        }
        if (!poison(r, p, m, readArg)) continue;
      }
      cs.program = p;
      cs.node = node;
      cs.mut = m;
      return cs;
    }
    throw new IllegalStateException("seed " + seed + ": no program could be generated");
  }

  static Node child(Node n) {
    if (n instanceof GradNode g) return g.c;
    if (n instanceof VjpNode v) return v.c;
    if (n instanceof JvpNode j) return j.c;
    if (n instanceof VmapNode v) return v.c;
    if (n instanceof JacNode j) return j.c;
    if (n instanceof HessianNode h) return h.c;
    if (n instanceof HvpNode h) return h.c;
    if (n instanceof ProjectNode p) return p.c;
    return null;
  }

  static boolean hasInt(Program p) {
    for (boolean b : p.isInt)
      if (b) return true;
    return false;
  }

  // ======================================================================== running a case

  static final class Stats {
    long valid, invalid, refChecks, loopChecks, failures, leakChecks, rechecked;
    final Map<Kind, Long> kinds = new EnumMap<>(Kind.class);
    final Map<Mut, Long> muts = new EnumMap<>(Mut.class);
    final Map<String, Long> thrown = new TreeMap<>();
    final double[][] worstRatio = new double[2][MAX_ORDER + 1];  // [float64, float32][order]
    final long[][] byOrder = new long[2][MAX_ORDER + 1];
    long f32;
  }

  static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Failure(String msg) {
      super(msg);
    }

    Failure(String msg, Throwable cause) {
      super(msg, cause);
    }
  }

  static void countKinds(Node n, Stats st) {
    for (Node x = n; x != null; x = child(x)) {
      Kind k = x instanceof GradNode ? Kind.GRAD : x instanceof VjpNode ? Kind.VJP : x instanceof JvpNode ? Kind.JVP
          : x instanceof VmapNode ? Kind.VMAP : x instanceof HessianNode ? Kind.HESSIAN : x instanceof HvpNode ? Kind.HVP
          : x instanceof JacNode j ? (j.mode == JacMode.REV ? Kind.JACREV : j.mode == JacMode.FWD ? Kind.JACFWD : Kind.JACOBIAN) : null;
      if (k != null) st.kinds.merge(k, 1L, Long::sum);
    }
  }

  static Arr[] inputs(Rng r, Node n) {
    Arr[] a = new Arr[n.nargs()];
    for (int i = 0; i < a.length; i++) {
      int cnt = (int) numel(n.args[i]);
      double[] v;
      if (n.isInt[i]) {
        v = new double[cnt];
        for (int k = 0; k < cnt; k++) v[k] = r.below((int) n.intHi[i]);
      } else {
        v = rawValues(r, cnt, n.dt == DType.FLOAT32);
      }
      a[i] = new Arr(n.args[i], v);
    }
    return a;
  }

  static Tensor[] toTensors(Arr[] a, Node n) {
    Tensor[] t = new Tensor[a.length];
    for (int i = 0; i < a.length; i++) {
      if (n.isInt[i]) {
        long[] l = new long[a[i].v.length];
        for (int k = 0; k < l.length; k++) l[k] = (long) a[i].v[k];
        t[i] = Tensor.fromArray(l, a[i].shape);
      } else {
        t[i] = constT(a[i].v, a[i].shape, n.dt);
      }
    }
    return t;
  }

  /** max |got - want| / (tol * max(1, max |want|)); > 1 fails. */
  static double compare(String what, long[] shape, Tensor got, DType dt, Arr want, double tol) {
    if (!Arrays.equals(got.shape(), shape))
      throw new Failure(what + ": shape " + str(got.shape()) + ", expected " + str(shape));
    if (got.dtype() != dt) throw new Failure(what + ": dtype " + got.dtype().displayName() + ", expected " + dt.displayName());
    double[] g = got.toDoubleArray();
    double scale = 1;
    for (double x : want.v) scale = Math.max(scale, Math.abs(x));
    double worst = 0;
    for (int i = 0; i < g.length; i++) {
      double d = Math.abs(g[i] - want.v[i]);
      if (!(d <= tol * scale))
        throw new Failure(String.format(Locale.ROOT, "%s: element %d of %s is %.17g, expected %.17g (|diff| %.3g > tol %.1g * scale %.3g)", what, i,
            str(shape), g[i], want.v[i], d, tol, scale));
      worst = Math.max(worst, d / (tol * scale));
    }
    return worst;
  }

  static void runCase(Case cs, Stats st, boolean verbose, PrintStream out) {
    Rng r = new Rng(cs.seed ^ 0x5DEECE66DL);
    Node n = cs.node;
    Scope outer = Scope.current();
    long liveBefore = dev.adjoint.Adjoint.memoryStats().liveTensors();
    try (Scope scope = Scope.open()) {
      Arr[] a = inputs(r, n);
      Tensor[] t = toTensors(a, n);
      if (cs.mut != null) {
        Throwable got = null;
        try {
          n.apply(t, false);
        } catch (Throwable e) {
          got = e;
        }
        if (got instanceof Failure f) throw f;
        if (got == null) throw new Failure("expected " + cs.mut.expected.getSimpleName() + ", nothing was thrown");
        if (got.getClass() != cs.mut.expected)
          throw new Failure("expected " + cs.mut.expected.getSimpleName() + ", got " + got.getClass().getName() + ": " + got.getMessage(), got);
        String msg = got.getMessage();
        if (msg == null || msg.isEmpty() || msg.startsWith("adjoint internal error"))
          throw new Failure("bad message for " + got.getClass().getSimpleName() + ": " + msg, got);
        if (got instanceof AdjointArgumentException e && (e.op() == null || !msg.startsWith(e.op() + ": ")))
          throw new Failure("message does not start with the op '" + e.op() + ": ': " + msg, got);
        st.thrown.merge(got.getClass().getSimpleName(), 1L, Long::sum);
        if (verbose) out.println("  threw as expected: " + got.getClass().getSimpleName() + ": " + msg);
      } else {
        Tensor y;
        try {
          y = n.apply(t, false);
        } catch (Failure f) {
          throw f;
        } catch (Throwable e) {
          throw new Failure("valid program threw " + e.getClass().getName() + ": " + e.getMessage(), e);
        }
        boolean f32 = n.dt == DType.FLOAT32;
        double h = FD_STEP[Math.max(1, n.order)];
        Arr want;
        try {
          want = n.ref(a, h);
        } catch (Throwable e) {
          throw new Failure("the reference (plain program) threw " + e.getClass().getName() + ": " + e.getMessage(), e);
        }
        double tol = (f32 ? FD_TOL32 : FD_TOL64)[n.order];
        double ratio;
        try {
          ratio = compare("vs finite differences of the plain program", n.out, y, n.dt, want, tol);
        } catch (Failure f) {
          // Steep programs (x^12, say) defeat 2-point differences: re-check with 4 points (at h and
          // h / 2) before calling it a bug. A real bug does not go away with a better reference.
          ratio = -1;
          fourPoint = true;
          try {
            for (double hh : new double[] {h, h / 2}) {
              try {
                ratio = compare("4-point", n.out, y, n.dt, n.ref(a, hh), tol);
                break;
              } catch (Failure again) {
                // try the next step
              }
            }
          } finally {
            fourPoint = false;
          }
          if (ratio < 0) throw f;
          st.rechecked++;
        }
        st.worstRatio[f32 ? 1 : 0][n.order] = Math.max(st.worstRatio[f32 ? 1 : 0][n.order], ratio);
        st.byOrder[f32 ? 1 : 0][n.order]++;
        st.refChecks++;
        if (n.hasVmap) {
          Tensor l;
          try {
            l = n.apply(t, true);
          } catch (Throwable e) {
            throw new Failure("the loop version threw " + e.getClass().getName() + ": " + e.getMessage(), e);
          }
          if (!Arrays.equals(l.shape(), n.out)) throw new Failure("the loop version has shape " + str(l.shape()) + ", expected " + str(n.out));
          compare("vmap vs a loop", n.out, y, n.dt, new Arr(l.shape(), l.toDoubleArray()), f32 ? LOOP_TOL32 : LOOP_TOL64);
          st.loopChecks++;
        }
        if (verbose) out.printf(Locale.ROOT, "  ok: %s, worst error %.3g of the tolerance%n", str(n.out), ratio);
      }
    } finally {
      if (NativeCore.adj_level_depth() != 0) throw new Failure("transform levels left on the stack: " + NativeCore.adj_level_depth());
      if (Scope.current() != outer) throw new Failure("a transform left a scope open");
    }
    long liveAfter = dev.adjoint.Adjoint.memoryStats().liveTensors();
    if (liveAfter > liveBefore) {
      // pullbacks release their level through a Cleaner; give it a chance before calling it a leak
      System.gc();
      liveAfter = dev.adjoint.Adjoint.memoryStats().liveTensors();
      st.leakChecks++;
      if (liveAfter > liveBefore) throw new Failure((liveAfter - liveBefore) + " native tensors outlived the program's scope");
    }
  }

  // ======================================================================== main

  static void printCause(Throwable e, PrintStream out) {
    Throwable cause = e instanceof Failure ? e.getCause() : e;
    if (cause != null) {
      java.io.StringWriter w = new java.io.StringWriter();
      cause.printStackTrace(new java.io.PrintWriter(w));
      String[] lines = w.toString().split("\n");
      for (int i = 0; i < Math.min(lines.length, 14); i++) out.println("    " + lines[i]);
    }
  }

  public static void main(String[] argv) {
    long seed = 1, count = Long.MAX_VALUE;
    double seconds = Double.POSITIVE_INFINITY, invalidRatio = 0.35;
    int maxFailures = 5, dedicated = -1;
    boolean verbose = false, progress = false;
    SpecialCase.Category only = null;
    java.util.EnumSet<SpecialCase.Category> enabled = java.util.EnumSet.allOf(SpecialCase.Category.class);
    for (int i = 0; i < argv.length; i++) {
      switch (argv[i]) {
        case "--seed":
          seed = Long.parseLong(argv[++i]);
          break;
        case "--count":
          count = Long.parseLong(argv[++i]);
          break;
        case "--seconds":
          seconds = Double.parseDouble(argv[++i]);
          break;
        case "--max-failures":
          maxFailures = Integer.parseInt(argv[++i]);
          break;
        case "--invalid-ratio":
          invalidRatio = Double.parseDouble(argv[++i]);
          break;
        case "--category":
          only = SpecialCase.Category.byKey(argv[++i]);
          break;
        case "--off":
          for (String k : argv[++i].split(","))
            if (!k.isBlank()) enabled.remove(SpecialCase.Category.byKey(k.trim()));
          break;
        case "--dedicated":
          dedicated = Integer.parseInt(argv[++i]);
          break;
        case "--verbose":
          verbose = true;
          break;
        case "--progress":
          progress = true;
          break;
        default:
          System.err.println("unknown argument " + argv[i] + "; usage: ProgramFuzzer [--seed FIRST] [--count N] [--seconds S] [--max-failures K]"
              + " [--invalid-ratio P] [--category " + String.join("|", SpecialCase.Category.keys()) + "] [--off NAME,...] [--dedicated K]"
              + " [--verbose] [--progress]");
          System.exit(2);
      }
    }
    boolean ok = run(seed, count, seconds, invalidRatio, maxFailures, verbose, progress, only, enabled, System.out);
    // The dedicated set: the first K seeds of every special category switched on, whatever the main
    // run drew (K: the category's default, or --dedicated); a run of one seed has none.
    if (only == null && count > 1)
      for (SpecialCase.Category c : enabled) {
        int k = dedicated >= 0 ? dedicated : c.dedicated;
        if (k > 0) ok &= run(1, k, Double.POSITIVE_INFINITY, invalidRatio, maxFailures, verbose, progress, c, enabled, System.out);
      }
    System.exit(ok ? 0 : 1);
  }

  /** Runs seeds seed, seed+1, ... until count programs ran or the time is up; true if all passed. */
  static boolean run(long seed, long count, double seconds, double invalidRatio, int maxFailures, boolean verbose, boolean progress,
      SpecialCase.Category only, java.util.EnumSet<SpecialCase.Category> enabled, PrintStream out) {
    Stats st = new Stats();
    SpecialCase.Tally special = new SpecialCase.Tally();
    String tag = only == null ? "" : only.key + ":";
    String reproFlags = only == null ? "" : " -Dfuzz.category=" + only.key;
    long t0 = System.nanoTime();
    long deadline = Double.isInfinite(seconds) ? Long.MAX_VALUE : t0 + (long) (seconds * 1e9);
    List<Long> failed = new ArrayList<>();
    long s = seed, ran = 0;
    for (; ran < count && System.nanoTime() < deadline && failed.size() < maxFailures; s++, ran++) {
      if (progress) {
        out.println("@seed " + tag + s);
        out.flush();
      }
      SpecialCase.Category cat = only != null ? only : SpecialCase.pick(s, enabled);
      if (cat != null) {
        SpecialCase.Ctx[] ctx = new SpecialCase.Ctx[1];
        long c0 = System.nanoTime();
        try {
          if (verbose) out.println("seed " + tag + s + ": " + cat.key + " case");
          special.byCategory.merge(cat.key, 1L, Long::sum);
          SpecialCase.run(s, cat, verbose, out, special.thrown, ctx);
        } catch (Throwable e) {
          failed.add(s);
          st.failures++;
          out.println("FAIL seed=" + s + " (" + cat.key + "): " + SpecialCase.firstLine(e instanceof Failure ? e.getMessage() : e.toString()));
          if (ctx[0] != null) out.println("  " + ctx[0].describe());
          printCause(e, out);
          out.println("  reproduce: mvn -B -f java/pom.xml test -Dtest=FuzzTest" + (only == null ? "" : reproFlags) + " -Dfuzz.seed=" + s
              + " -Dfuzz.count=1 -Dfuzz.verbose=true");
          if (NativeCore.adj_level_depth() != 0) {
            out.println("  the transform level stack is broken; stopping");
            break;
          }
        } finally {
          special.seconds.merge(cat.key, (System.nanoTime() - c0) / 1e9, Double::sum);
        }
        continue;
      }
      Case cs = null;
      try {
        cs = generate(s, invalidRatio);
        if (verbose) out.println("seed " + s + ": " + cs.describe());
        if (cs.mut == null) st.valid++;
        else {
          st.invalid++;
          st.muts.merge(cs.mut, 1L, Long::sum);
        }
        if (cs.program.dtype == DType.FLOAT32) st.f32++;
        countKinds(cs.node, st);
        runCase(cs, st, verbose, out);
      } catch (Throwable e) {
        failed.add(s);
        st.failures++;
        out.println("FAIL seed=" + s + ": " + e.getMessage());
        if (cs != null) out.println("  " + cs.describe());
        printCause(e, out);
        out.println("  reproduce: mvn -B -f java/pom.xml test -Dtest=FuzzTest -Dfuzz.seed=" + s + " -Dfuzz.count=1 -Dfuzz.verbose=true");
        if (NativeCore.adj_level_depth() != 0) {
          out.println("  the transform level stack is broken; stopping");
          break;
        }
      }
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    if (only != null) {
      out.printf(Locale.ROOT, "fuzz: %s: seeds %d..%d: %d cases in %.1f s, %d failures%n", only.key, seed, s - 1, ran, secs, st.failures);
      out.println("fuzz: " + only.key + ": exceptions thrown as expected: " + special.thrown);
      if (!failed.isEmpty())
        out.println("fuzz: " + only.key + ": FAILED seeds (" + failed.size() + "): " + (failed.size() > 40 ? failed.subList(0, 40) + " ..." : failed)
            + " (reproduce with -Dfuzz.category=" + only.key + ")");
      out.flush();
      return failed.isEmpty();
    }
    out.printf(Locale.ROOT, "fuzz: seeds %d..%d: %d programs (%d valid, %d invalid; %d float32) in %.1f s, %d failures%n", seed, s - 1, ran, st.valid,
        st.invalid, st.f32, secs, st.failures);
    StringBuilder sc = new StringBuilder("fuzz: special categories (cases, seconds):");
    for (Map.Entry<String, Long> e : special.byCategory.entrySet())
      sc.append(String.format(Locale.ROOT, " %s %d (%.1f s)", e.getKey(), e.getValue(), special.seconds.getOrDefault(e.getKey(), 0.0)));
    java.util.EnumSet<SpecialCase.Category> off = java.util.EnumSet.complementOf(enabled);
    if (!off.isEmpty()) sc.append("; switched off: ").append(off);
    out.println(sc);
    if (!special.thrown.isEmpty()) out.println("fuzz: special categories: exceptions thrown as expected: " + special.thrown);
    out.println("fuzz: checks: " + st.refChecks + " vs finite differences (" + st.rechecked + " needed 4-point differences), " + st.loopChecks
        + " vmap vs loop; transforms used: " + st.kinds);
    for (int k = 0; k < 2; k++) {
      StringBuilder b = new StringBuilder("fuzz: " + (k == 0 ? "float64" : "float32") + ": worst error / tolerance by derivative order (programs):");
      for (int o = 0; o <= MAX_ORDER; o++) b.append(String.format(Locale.ROOT, " %d: %.3g (%d)", o, st.worstRatio[k][o], st.byOrder[k][o]));
      out.println(b);
    }
    out.println("fuzz: native tensor counts checked after every program; " + st.leakChecks + " needed a GC for Cleaner-held pullbacks");
    out.println("fuzz: invalid programs by defect: " + st.muts);
    out.println("fuzz: exceptions thrown as expected: " + st.thrown);
    if (!failed.isEmpty()) out.println("fuzz: FAILED seeds: " + failed);
    out.flush();
    return failed.isEmpty();
  }
}
