package dev.adjoint.fuzz;

import dev.adjoint.Argnums;
import dev.adjoint.DType;
import dev.adjoint.FnN;
import dev.adjoint.Func;
import dev.adjoint.JvpResult;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import dev.adjoint.VjpResult;
import dev.adjoint.VmapOptions;
import dev.adjoint.fuzz.ProgramFuzzer.Failure;
import dev.adjoint.fuzz.ProgramFuzzer.Rng;
import dev.adjoint.fuzz.SpecialCase.Ctx;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Long chains: programs of at least {@link #MIN_OPS} elementwise ops (a chain of add(1.0), of
 * mul(c), a random step of add/mul/tanh/sin repeated, an unrolled recurrence {@code y = tanh(w y + x)},
 * an explicit Euler integrator of {@code y' = x - y^3} from {@code y(0) = w}) under one of: no
 * transform, grad, vjp (the pullback applied), vjp whose result is dropped unused and left to the
 * Cleaner, jvp, vmap, grad(grad), or the function throwing after it built the whole chain.
 *
 * <p>Contract: the values match the reference, the function's own exception comes out unchanged,
 * and nothing is left behind (no level, no scope, no native tensor once the Cleaner ran). A native
 * recursion over the tape (building, differentiating or releasing it) overflows the stack here.
 *
 * <p>Reference: every op is elementwise, so each element is a scalar recurrence in (x_e, w_e); it
 * is run in Java doubles on second-order jets (value, first and second partial derivatives), which
 * gives the chain's value and exact derivatives without finite differences (whose rounding noise
 * over 10^5 steps would swamp a float64 tolerance). The add chain is also checked against its
 * closed form x + n.
 */
final class LongChainCases {
  private LongChainCases() {}

  /** Ops per chain (at least); -Dfuzz.chain.ops=N in the fuzzer's JVM overrides it (to bisect a length). */
  static final int MIN_OPS = Integer.getInteger("fuzz.chain.ops", 100_000);

  enum Variant { ADD, MUL, MIXED, RNN, EULER }

  enum Mode { VALUE, GRAD, VJP, VJP_DROPPED, JVP, VMAP, GRADGRAD, THROW }

  // ======================================================================== second-order jets in (a = x_e, b = w_e)

  /** A value with its partials in a and b and the second partials (aa, ab, bb). */
  record Jet(double v, double a, double b, double aa, double ab, double bb) {
    static Jet varA(double x) {
      return new Jet(x, 1, 0, 0, 0, 0);
    }

    static Jet varB(double w) {
      return new Jet(w, 0, 1, 0, 0, 0);
    }

    Jet add(Jet o) {
      return new Jet(v + o.v, a + o.a, b + o.b, aa + o.aa, ab + o.ab, bb + o.bb);
    }

    Jet addc(double c) {
      return new Jet(v + c, a, b, aa, ab, bb);
    }

    Jet mulc(double c) {
      return new Jet(v * c, a * c, b * c, aa * c, ab * c, bb * c);
    }

    Jet mul(Jet o) {
      return new Jet(v * o.v, a * o.v + v * o.a, b * o.v + v * o.b, aa * o.v + 2 * a * o.a + v * o.aa,
          ab * o.v + a * o.b + b * o.a + v * o.ab, bb * o.v + 2 * b * o.b + v * o.bb);
    }

    /** f(this) given f, f', f'' at v. */
    Jet apply(double f, double f1, double f2) {
      return new Jet(f, f1 * a, f1 * b, f2 * a * a + f1 * aa, f2 * a * b + f1 * ab, f2 * b * b + f1 * bb);
    }

    Jet tanh() {
      double t = Math.tanh(v), d = 1 - t * t;
      return apply(t, d, -2 * t * d);
    }

    Jet sin() {
      double s = Math.sin(v), c = Math.cos(v);
      return apply(s, c, -s);
    }

    Jet cube() {
      return apply(v * v * v, 3 * v * v, 6 * v);
    }
  }

  // ======================================================================== the chain

  /** One op of a step, as a tensor op and as a jet op; x and w are the function's inputs. */
  record Op(String text, TensorOp t, JetOp j) {}

  interface TensorOp {
    Tensor run(Tensor y, Tensor x, Tensor w);
  }

  interface JetOp {
    Jet run(Jet y, Jet x, Jet w);
  }

  static Op addc(double c) {
    return new Op(String.format(Locale.ROOT, "add(%.6g)", c), (y, x, w) -> y.add(c), (y, x, w) -> y.addc(c));
  }

  static Op mulc(double c) {
    return new Op(String.format(Locale.ROOT, "mul(%.9g)", c), (y, x, w) -> y.mul(c), (y, x, w) -> y.mulc(c));
  }

  static final Op TANH = new Op("tanh", (y, x, w) -> y.tanh(), (y, x, w) -> y.tanh());
  static final Op SIN = new Op("sin", (y, x, w) -> y.sin(), (y, x, w) -> y.sin());

  /** A chain: y0 = x (or w for Euler), then {@code steps} repetitions of the step's ops. */
  static final class Chain {
    final Variant variant;
    final List<Op> step = new ArrayList<>();
    final boolean hasW;
    int steps;
    double h;  // Euler's step

    Chain(Variant variant, boolean hasW) {
      this.variant = variant;
      this.hasW = hasW;
    }

    int ops() {
      return steps * (variant == Variant.EULER ? 4 : variant == Variant.RNN ? 3 : step.size());
    }

    String text() {
      switch (variant) {
        case RNN:
          return "y = x; " + steps + " times: y = tanh(y * w + x)";
        case EULER:
          return String.format(Locale.ROOT, "y = w; %d times: y = y + %.3g * (x - y^3)", steps, h);
        default:
          StringBuilder b = new StringBuilder("y = x; " + steps + " times: y = y");
          for (Op o : step) b.append('.').append(o.text);
          return b.toString();
      }
    }

    Tensor run(Tensor x, Tensor w) {
      switch (variant) {
        case RNN: {
          Tensor y = x;
          for (int i = 0; i < steps; i++) y = y.mul(w).add(x).tanh();
          return y;
        }
        case EULER: {
          Tensor y = w;
          for (int i = 0; i < steps; i++) y = y.add(x.sub(y.pow(3.0)).mul(h));
          return y;
        }
        default: {
          Tensor y = x;
          for (int i = 0; i < steps; i++)
            for (Op o : step) y = o.t.run(y, x, w);
          return y;
        }
      }
    }

    Jet jet(double x, double w) {
      Jet jx = Jet.varA(x), jw = Jet.varB(w);
      switch (variant) {
        case RNN: {
          Jet y = jx;
          for (int i = 0; i < steps; i++) y = y.mul(jw).add(jx).tanh();
          return y;
        }
        case EULER: {
          Jet y = jw;
          for (int i = 0; i < steps; i++) y = y.add(jx.add(y.cube().mulc(-1)).mulc(h));
          return y;
        }
        default: {
          Jet y = jx;
          for (int i = 0; i < steps; i++)
            for (Op o : step) y = o.j.run(y, jx, jw);
          return y;
        }
      }
    }
  }

  static Chain randomChain(Rng r, Variant v) {
    Chain c = new Chain(v, v == Variant.RNN || v == Variant.EULER);
    switch (v) {
      case ADD:
        c.step.add(addc(1.0));
        break;
      case MUL:
        c.step.add(mulc(1 + r.sign() * r.uniform(0.2e-5, 1e-5)));  // c^n stays within e^(+-1)
        break;
      case MIXED: {
        int len = r.range(2, 4);
        for (int i = 0; i < len; i++) {
          switch (r.below(4)) {
            case 0:
              c.step.add(mulc(r.sign() * r.uniform(0.5, 1.5)));
              break;
            case 1:
              c.step.add(addc(r.uniform(-0.3, 0.3)));
              break;
            case 2:
              c.step.add(TANH);
              break;
            default:
              c.step.add(SIN);
          }
        }
        if (!c.step.contains(TANH) && !c.step.contains(SIN)) c.step.set(r.below(len), TANH);  // keeps the values bounded
        break;
      }
      case EULER:
        c.h = r.uniform(0.5e-4, 1e-4);
        break;
      default:
        break;
    }
    int per = v == Variant.EULER ? 4 : v == Variant.RNN ? 3 : c.step.size();
    c.steps = (MIN_OPS + per - 1) / per + r.below(2000);
    return c;
  }

  // ======================================================================== a case

  /** The user's own exception: it must come out of every transform unchanged. */
  static final class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UserError(String msg) {
      super(msg);
    }
  }

  static final double TOL = 1e-8;

  static void run(Ctx ctx) {
    Rng r = ctx.r;
    // 5 variants and 8 modes: any 8 consecutive seeds cover every mode, any 40 every combination.
    Variant v = Variant.values()[(int) Math.floorMod(ctx.seed, Variant.values().length)];
    Mode mode = Mode.values()[(int) Math.floorMod(ctx.seed, Mode.values().length)];
    Chain ch = randomChain(r, v);
    long[] shape = r.chance(0.2) ? new long[0] : new long[] {r.range(1, 3)};
    int k = (int) ProgramFuzzer.numel(shape);
    double[] xs = new double[k], ws = new double[k], cs = new double[k], ts = new double[k], tw = new double[k];
    for (int e = 0; e < k; e++) {
      xs[e] = r.uniform(-1, 1);
      ws[e] = v == Variant.RNN ? r.uniform(-0.8, 0.8) : r.uniform(-1, 1);
      cs[e] = r.uniform(-1, 1);
      ts[e] = r.uniform(-1, 1);
      tw[e] = r.uniform(-1, 1);
    }
    ctx.say("%s chain of %d ops under %s, x%s float64: %s", v, ch.ops(), mode, Arrays.toString(shape), ch.text());
    Jet[] ref = new Jet[k];
    for (int e = 0; e < k; e++) ref[e] = ch.jet(xs[e], ws[e]);
    if (v == Variant.ADD)
      for (int e = 0; e < k; e++)  // the reference against the closed form x + n
        if (Math.abs(ref[e].v - (xs[e] + ch.steps)) > 1e-9 * ch.steps) throw new IllegalStateException("jet reference of the add chain is off");

    switch (mode) {
      case VALUE:
        try (Scope s = Scope.open()) {
          Tensor x = Tensor.fromArray(xs, shape), w = Tensor.fromArray(ws, shape);
          Tensor y = ctx.expectOk("the plain chain", () -> ch.run(x, w));
          SpecialCase.check("plain chain value", y, shape, DType.FLOAT64, map(ref, Jet::v), TOL, 1);
        }
        break;
      case GRAD:
        try (Scope s = Scope.open()) {
          Tensor x = Tensor.fromArray(xs, shape), w = Tensor.fromArray(ws, shape), c = Tensor.fromArray(cs, shape);
          FnN loss = a -> ch.run((Tensor) a[0], (Tensor) a[1]).mul(c).sum();
          Argnums an = ch.hasW ? Argnums.of(0, 1) : Argnums.of(0);
          Object g = ctx.expectOk("grad of the chain", () -> Func.grad(loss, an).apply(x, w));
          List<Tensor> gs = g instanceof Tensor t ? List.of(t) : leaves(g);
          double[] gx = new double[k], gw = new double[k];
          for (int e = 0; e < k; e++) {
            gx[e] = cs[e] * ref[e].a;
            gw[e] = cs[e] * ref[e].b;
          }
          SpecialCase.check("grad wrt x", gs.get(0), shape, DType.FLOAT64, gx, TOL, 1e-300);
          if (ch.hasW) SpecialCase.check("grad wrt w", gs.get(1), shape, DType.FLOAT64, gw, TOL, 1e-300);
        }
        break;
      case VJP:
        try (Scope s = Scope.open()) {
          Tensor x = Tensor.fromArray(xs, shape), w = Tensor.fromArray(ws, shape), c = Tensor.fromArray(cs, shape);
          VjpResult res = ctx.expectOk("vjp of the chain", () -> ch.hasW ? Func.vjp(a -> ch.run((Tensor) a[0], (Tensor) a[1]), x, w)
              : Func.vjp(t -> ch.run(t, w), x));
          SpecialCase.check("vjp output", res.output(), shape, DType.FLOAT64, map(ref, Jet::v), TOL, 1);
          List<Object> cot = ctx.expectOk("the pullback", () -> res.apply(c));
          double[] gx = new double[k], gw = new double[k];
          for (int e = 0; e < k; e++) {
            gx[e] = cs[e] * ref[e].a;
            gw[e] = cs[e] * ref[e].b;
          }
          SpecialCase.check("vjp cotangent of x", (Tensor) cot.get(0), shape, DType.FLOAT64, gx, TOL, 1e-300);
          if (ch.hasW) SpecialCase.check("vjp cotangent of w", (Tensor) cot.get(1), shape, DType.FLOAT64, gw, TOL, 1e-300);
          // and a second time: the pullback may be called again
          Tensor again = ctx.expectOk("the pullback, again", () -> (Tensor) res.apply(c).get(0));
          SpecialCase.check("vjp cotangent of x, second call", again, shape, DType.FLOAT64, gx, TOL, 1e-300);
        }
        break;
      case VJP_DROPPED: {
        // Outside any scope: the result, its tape and the inputs are the Cleaner's to release.
        ctx.cleanerHeld = true;
        dropVjp(ctx, ch, xs, ws, shape);
        ctx.say("the VjpResult (and its tape of %d ops) was dropped unused", ch.ops());
        break;
      }
      case JVP:
        try (Scope s = Scope.open()) {
          Tensor x = Tensor.fromArray(xs, shape), w = Tensor.fromArray(ws, shape);
          Tensor tx = Tensor.fromArray(ts, shape), twT = Tensor.fromArray(tw, shape);
          JvpResult res = ctx.expectOk("jvp of the chain", () -> ch.hasW
              ? Func.jvp(a -> ch.run((Tensor) a[0], (Tensor) a[1]), List.of(x, w), List.of(tx, twT))
              : Func.jvp(t -> ch.run(t, w), x, tx));
          double[] dt = new double[k];
          for (int e = 0; e < k; e++) dt[e] = ref[e].a * ts[e] + (ch.hasW ? ref[e].b * tw[e] : 0);
          SpecialCase.check("jvp output", res.output(), shape, DType.FLOAT64, map(ref, Jet::v), TOL, 1);
          SpecialCase.check("jvp tangent", res.tangent(), shape, DType.FLOAT64, dt, TOL, 1e-300);
        }
        break;
      case VMAP:
        try (Scope s = Scope.open()) {
          // x batched [B, ...], w shared: the reference per example is the jet at (x_b, w).
          int b = r.range(2, 4);
          double[] xb = new double[b * k], want = new double[b * k];
          for (int i = 0; i < b; i++)
            for (int e = 0; e < k; e++) {
              xb[i * k + e] = i == 0 ? xs[e] : r.uniform(-1, 1);
              want[i * k + e] = ch.jet(xb[i * k + e], ws[e]).v;
            }
          long[] bshape = ProgramFuzzer.insert(shape, 0, b);
          Tensor x = Tensor.fromArray(xb, bshape), w = Tensor.fromArray(ws, shape);
          ctx.say("vmap over x%s, w%s not mapped", Arrays.toString(bshape), Arrays.toString(shape));
          Tensor y = ctx.expectOk("vmap of the chain", () -> Func.vmap((a, ww) -> ch.run(a, ww), VmapOptions.inDims(0, null)).apply(x, w));
          SpecialCase.check("vmap of the chain", y, bshape, DType.FLOAT64, want, TOL, 1);
        }
        break;
      case GRADGRAD:
        try (Scope s = Scope.open()) {
          // inner: g(x) = d/dx sum(c * chain(x, w)) = c * dy/dx; outer: d/dx sum(d * g) = d * c * d2y/dx2
          Tensor x = Tensor.fromArray(xs, shape), w = Tensor.fromArray(ws, shape), c = Tensor.fromArray(cs, shape);
          Tensor d = Tensor.fromArray(ts, shape);
          FnN loss = a -> ch.run((Tensor) a[0], (Tensor) a[1]).mul(c).sum();
          FnN inner = Func.grad(loss, Argnums.of(0));
          FnN outer = Func.grad(a -> ((Tensor) inner.apply(a[0], a[1])).mul(d).sum(), Argnums.of(0));
          Tensor gg = ctx.expectOk("grad(grad) of the chain", () -> (Tensor) outer.apply(x, w));
          double[] want = new double[k];
          for (int e = 0; e < k; e++) want[e] = ts[e] * cs[e] * ref[e].aa;
          SpecialCase.check("grad(grad) wrt x", gg, shape, DType.FLOAT64, want, 1e-7, 1e-300);
        }
        break;
      case THROW:
        try (Scope s = Scope.open()) {
          Tensor x = Tensor.fromArray(xs, shape), w = Tensor.fromArray(ws, shape);
          UserError boom = new UserError("the user's function failed after " + ch.ops() + " ops (seed " + ctx.seed + ")");
          int which = r.below(5);
          String[] names = {"grad", "vjp", "jvp", "vmap", "jacrev"};
          ctx.say("the function throws its own exception under %s after building the chain", names[which]);
          Throwable got = null;
          try {
            switch (which) {
              case 0:
                Func.grad((Tensor t) -> {
                  ch.run(t, w).sum();
                  throw boom;
                }).apply(x);
                break;
              case 1:
                Func.vjp((Tensor t) -> {
                  ch.run(t, w);
                  throw boom;
                }, x);
                break;
              case 2:
                Func.jvp((Tensor t) -> {
                  ch.run(t, w);
                  throw boom;
                }, x, Tensor.onesLike(x));
                break;
              case 3:
                Func.vmap((Tensor t) -> {
                  ch.run(t, w);
                  throw boom;
                }).apply(x.unsqueeze(0).expand(ProgramFuzzer.insert(shape, 0, 2)));
                break;
              default:
                Func.jacrev((Tensor t) -> {
                  ch.run(t, w);
                  throw boom;
                }).apply(x);
            }
          } catch (Throwable e) {
            got = e;
          }
          if (got != boom)
            throw new Failure("the function's own exception did not come out of " + names[which] + ": got "
                + (got == null ? "no exception" : got.getClass().getName() + ": " + got.getMessage()), got);
        }
        break;
      default:
        throw new IllegalStateException();
    }
  }

  /** vjp outside any scope, its result dropped at once (a separate frame, so nothing stays reachable). */
  static void dropVjp(Ctx ctx, Chain ch, double[] xs, double[] ws, long[] shape) {
    Tensor x = Tensor.fromArray(xs, shape), w = Tensor.fromArray(ws, shape);
    ctx.expectOk("vjp of the chain (result dropped)", () -> ch.hasW ? Func.vjp(a -> ch.run((Tensor) a[0], (Tensor) a[1]), x, w)
        : Func.vjp(t -> ch.run(t, w), x));
  }

  static double[] map(Jet[] j, java.util.function.ToDoubleFunction<Jet> f) {
    double[] d = new double[j.length];
    for (int i = 0; i < d.length; i++) d[i] = f.applyAsDouble(j[i]);
    return d;
  }

  static List<Tensor> leaves(Object o) {
    List<Tensor> l = new ArrayList<>();
    for (Object e : (List<?>) o) l.add((Tensor) e);
    return l;
  }
}
