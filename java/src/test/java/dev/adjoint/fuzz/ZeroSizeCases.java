package dev.adjoint.fuzz;

import dev.adjoint.Argnums;
import dev.adjoint.DType;
import dev.adjoint.Fn1;
import dev.adjoint.FnN;
import dev.adjoint.Func;
import dev.adjoint.JvpResult;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import dev.adjoint.VjpResult;
import dev.adjoint.VmapOptions;
import dev.adjoint.fuzz.ProgramFuzzer.Rng;
import dev.adjoint.fuzz.SpecialCase.Ctx;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Zero-size dims through every transform: grad of a sum (or of a sum of squares, or of a
 * logsumexp) over an empty tensor is an empty tensor (zeros where the tensor is not empty);
 * jacrev/jacfwd/jacobian/hessian of functions with zero-size inputs or outputs are empty
 * Jacobians of shape [out..., in...]; vmap over inputs with empty non-batch dims; jvp/vjp with
 * empty tangents and cotangents; logsumexp over an empty dim is -inf, sum 0, mean NaN, softmax
 * and logSoftmax along (or across) an empty dim are empty; matmul/linear over an empty inner dim
 * are zeros (plus the bias); cat with empty parts; index_select with an empty index.
 *
 * <p>Contract: the exact shape and dtype, and the closed-form values (zeros where the math says
 * so: an uninitialised buffer returned for an empty reduction shows up as garbage there).
 */
final class ZeroSizeCases {
  private ZeroSizeCases() {}

  enum Jac { JACREV, JACFWD, JACOBIAN }

  /** A random shape of rank 1..3 with at least one zero dim. */
  static long[] emptyShape(Rng r) {
    int rank = r.range(1, 3);
    long[] s = new long[rank];
    for (int i = 0; i < rank; i++) s[i] = r.range(1, 3);
    s[r.below(rank)] = 0;
    if (rank > 1 && r.chance(0.2)) s[r.below(rank)] = 0;
    return s;
  }

  static int n(long[] s) {
    return (int) ProgramFuzzer.numel(s);
  }

  static Tensor randT(Rng r, long[] s, DType dt) {
    double[] v = new double[n(s)];
    for (int i = 0; i < v.length; i++) v[i] = r.uniform(-1, 1);
    Tensor t = Tensor.fromArray(v, s);
    return dt == DType.FLOAT64 ? t : t.to(dt);
  }

  static Tensor jac(Jac m, Fn1 f, Tensor x) {
    switch (m) {
      case JACREV:
        return Func.jacrev(f).apply(x);
      case JACFWD:
        return Func.jacfwd(f).apply(x);
      default:
        return Func.jacobian(f).apply(x);
    }
  }

  static void run(Ctx ctx) {
    int probes = ctx.r.range(1, 3);
    for (int i = 0; i < probes; i++) {
      try (Scope s = Scope.open()) {
        probe(ctx, ctx.r);
      }
    }
  }

  static void probe(Ctx ctx, Rng r) {
    DType dt = r.chance(0.3) ? DType.FLOAT32 : DType.FLOAT64;
    double tol = dt == DType.FLOAT32 ? 1e-6 : 1e-14;
    long[] s = emptyShape(r);
    Tensor x = randT(r, s, dt);
    String xs = Arrays.toString(s) + " " + dt.displayName();
    int kind = r.below(11);
    if (!SpecialCase.probeAllowed(kind)) return;
    switch (kind) {
      case 0: { // grad of reductions over an empty tensor, with a non-empty second argument
        int k = r.below(3);
        String[] body = {"x.sum()", "x.mul(x).sum()", "x.logsumexp()"};
        double[] value = {0, 0, Double.NEGATIVE_INFINITY};
        long[] ws = {r.range(1, 3)};
        Tensor w = randT(r, ws, dt);
        ctx.say("gradAndValue of (x, w) -> %s + w.sin().sum(), x %s, w %s", body[k], xs, Arrays.toString(ws));
        FnN f = a -> {
          Tensor t = (Tensor) a[0];
          Tensor red = k == 0 ? t.sum() : k == 1 ? t.mul(t).sum() : t.logsumexp();
          return red.add(((Tensor) a[1]).sin().sum());
        };
        List<?> res = (List<?>) ctx.expectOk("gradAndValue", () -> Func.gradAndValue(f, Argnums.of(0, 1)).apply(x, w));
        List<?> grads = (List<?>) res.get(0);
        SpecialCase.check("grad wrt the empty x", (Tensor) grads.get(0), s, dt, new double[0], 0, 1);
        double[] wv = ((Tensor) w).toDoubleArray(), cw = new double[wv.length];
        double sinSum = 0;
        for (int i = 0; i < wv.length; i++) {
          cw[i] = Math.cos(wv[i]);
          sinSum += Math.sin(wv[i]);
        }
        SpecialCase.check("grad wrt w", (Tensor) grads.get(1), ws, dt, cw, dt == DType.FLOAT32 ? 1e-6 : 1e-14, 1);
        SpecialCase.check("value", (Tensor) res.get(1), new long[0], dt, new double[] {value[k] + sinSum}, dt == DType.FLOAT32 ? 1e-6 : 1e-14, 1);
        break;
      }
      case 1: { // Jacobian of an elementwise function of an empty tensor: [s..., s...], empty
        Jac m = r.pick(List.of(Jac.values()));
        ctx.say("%s of x -> x.tanh().mul(2), x %s", m, xs);
        Tensor j = ctx.expectOk(m.toString(), () -> jac(m, t -> t.tanh().mul(2.0), x));
        SpecialCase.check(m + " (empty in, empty out)", j, ProgramFuzzer.concat(s, s), dt, new double[0], 0, 1);
        break;
      }
      case 2: { // empty input, non-empty output: sum over the zero dim gives zeros; Jacobian [out..., in...] is empty
        int zd = zeroDim(s);
        long[] outS = ProgramFuzzer.remove(s, zd);
        Jac m = r.pick(List.of(Jac.values()));
        ctx.say("%s of x -> x.sum(%d) (zeros %s), x %s", m, zd, Arrays.toString(outS), xs);
        SpecialCase.check("sum over the zero dim", ctx.expectOk("sum", () -> x.sum(zd)), outS, dt, new double[n(outS)], 0, 1);
        Tensor j = ctx.expectOk(m.toString(), () -> jac(m, t -> t.sum(zd), x));
        SpecialCase.check(m + " (empty in)", j, ProgramFuzzer.concat(outS, s), dt, new double[0], 0, 1);
        break;
      }
      case 3: { // non-empty input, empty output: x.matmul(E) with E [n, 0]; Jacobian [0, n] empty; vjp gives zeros
        long nn = r.range(1, 4);
        Tensor xin = randT(r, new long[] {nn}, dt);
        Tensor e = Tensor.zeros(dt, nn, 0);
        Jac m = r.pick(List.of(Jac.values()));
        ctx.say("%s and vjp of x -> x.matmul(E), x [%d], E [%d, 0]", m, nn, nn);
        Tensor j = ctx.expectOk(m.toString(), () -> jac(m, t -> t.matmul(e), xin));
        SpecialCase.check(m + " (empty out)", j, new long[] {0, nn}, dt, new double[0], 0, 1);
        VjpResult v = ctx.expectOk("vjp", () -> Func.vjp(t -> t.matmul(e), xin));
        SpecialCase.check("vjp output", v.output(), new long[] {0}, dt, new double[0], 0, 1);
        Tensor ct = ctx.expectOk("the pullback of an empty cotangent", () -> v.applyTensor(Tensor.zeros(dt, 0)));
        SpecialCase.check("the pullback of an empty cotangent (zeros)", ct, new long[] {nn}, dt, new double[(int) nn], 0, 1);
        break;
      }
      case 4: { // matmul over an empty inner dim: zeros (and their Jacobian is exactly the broadcast)
        long a = r.range(1, 3), b = r.range(1, 3);
        Tensor p = randT(r, new long[] {a, 0}, dt), q = randT(r, new long[] {0, b}, dt);
        ctx.say("[%d, 0] @ [0, %d] = zeros; then jacrev of x -> x.add(P @ Q), x [%d]", a, b, b);
        SpecialCase.check("matmul over an empty inner dim", ctx.expectOk("matmul", () -> p.matmul(q)), new long[] {a, b}, dt, new double[(int) (a * b)], 0, 1);
        Tensor xin = randT(r, new long[] {b}, dt);
        Jac m = r.pick(List.of(Jac.values()));
        Tensor j = ctx.expectOk(m.toString(), () -> jac(m, t -> t.add(p.matmul(q)), xin));
        double[] want = new double[(int) (a * b * b)];  // J[i][j][k] = (j == k)
        for (int i = 0; i < a; i++)
          for (int jj = 0; jj < b; jj++) want[(int) ((i * b + jj) * b + jj)] = 1;
        SpecialCase.check(m + " of x + P @ Q", j, new long[] {a, b, b}, dt, want, 0, 1);
        long o = r.range(1, 3);
        Tensor w = randT(r, new long[] {o, 0}, dt), bias = randT(r, new long[] {o}, dt), xe = randT(r, new long[] {a, 0}, dt);
        ctx.say("linear of x [%d, 0] with weight [%d, 0] and a bias [%d]: the bias broadcast", a, o, o);
        double[] bv = bias.toDoubleArray(), lw = new double[(int) (a * o)];
        for (int i = 0; i < a; i++)
          for (int k = 0; k < o; k++) lw[(int) (i * o + k)] = bv[k];
        SpecialCase.check("linear over an empty inner dim", ctx.expectOk("linear", () -> xe.linear(w, bias)), new long[] {a, o}, dt, lw, 0, 1);
        Tensor gb = ctx.expectOk("grad wrt the bias", () -> Func.grad((Tensor bb) -> xe.linear(w, bb).sum()).apply(bias));
        SpecialCase.check("grad of sum(linear) wrt the bias", gb, new long[] {o}, dt, SpecialCase.filled((int) o, a), tol, 1);
        break;
      }
      case 5: { // hessian of a scalar function of an empty tensor
        ctx.say("hessian of x -> x.mul(x).sum(), x %s", xs);
        Tensor h = ctx.expectOk("hessian", () -> Func.hessian((Tensor t) -> t.mul(t).sum()).apply(x));
        SpecialCase.check("hessian (empty)", h, ProgramFuzzer.concat(s, s), dt, new double[0], 0, 1);
        break;
      }
      case 6: { // vmap over examples with empty non-batch dims
        int b = r.range(1, 3);
        int inDim = r.below(s.length + 1);
        long[] bs = ProgramFuzzer.insert(s, inDim, b);
        Tensor xb = randT(r, bs, dt);
        int zd = zeroDim(s);
        int k = r.below(6);
        String[] names = {"t.sum(" + zd + ")", "t.tanh()", "t.sum()", "t.logsumexp(" + zd + ")", "t.softmax(" + zd + ")", "grad(t -> t.sum())"};
        long[] per = k == 0 || k == 3 ? ProgramFuzzer.remove(s, zd) : k == 2 ? new long[0] : s;
        double fill = k == 3 ? Double.NEGATIVE_INFINITY : 0;
        ctx.say("vmap(t -> %s, inDims(%d)) over x %s", names[k], inDim, Arrays.toString(bs));
        Fn1 f;
        switch (k) {
          case 0:
            f = t -> t.sum(zd);
            break;
          case 1:
            f = Tensor::tanh;
            break;
          case 2:
            f = Tensor::sum;
            break;
          case 3:
            f = t -> t.logsumexp(zd);
            break;
          case 4:
            f = t -> t.softmax(zd);
            break;
          default:
            f = Func.grad((Tensor t) -> t.sum());
        }
        Tensor y = ctx.expectOk("vmap", () -> Func.vmap(f, VmapOptions.inDims(inDim)).apply(xb));
        long[] outS = ProgramFuzzer.insert(per, 0, b);
        SpecialCase.check("vmap over empty examples", y, outS, dt, SpecialCase.filled(n(outS), fill), 0, 1);
        // and the loop: each example alone
        List<Tensor> rows = new ArrayList<>();
        for (int i = 0; i < b; i++) rows.add(f.apply(xb.select(inDim, i)));
        Tensor loop = Tensor.stack(rows, 0);
        SpecialCase.check("the loop over the examples", loop, outS, dt, SpecialCase.filled(n(outS), fill), 0, 1);
        break;
      }
      case 7: { // reductions and softmax along an empty dim
        int zd = zeroDim(s);
        long[] red = ProgramFuzzer.remove(s, zd);
        boolean keep = r.chance(0.3);
        long[] redS = keep ? ProgramFuzzer.with(s, zd, 1) : red;
        ctx.say("logsumexp/sum/mean/softmax/logSoftmax of x %s along its empty dim %d (keepdim %b)", xs, zd, keep);
        SpecialCase.check("logsumexp along an empty dim", ctx.expectOk("logsumexp", () -> x.logsumexp(new int[] {zd}, keep)), redS, dt,
            SpecialCase.filled(n(redS), Double.NEGATIVE_INFINITY), 0, 1);
        SpecialCase.check("sum along an empty dim", ctx.expectOk("sum", () -> x.sum(new int[] {zd}, keep)), redS, dt, new double[n(redS)], 0, 1);
        SpecialCase.check("mean along an empty dim", ctx.expectOk("mean", () -> x.mean(new int[] {zd}, keep)), redS, dt,
            SpecialCase.filled(n(redS), Double.NaN), 0, 1);
        SpecialCase.check("logsumexp of an empty tensor", ctx.expectOk("logsumexp", () -> x.logsumexp()), new long[0], dt,
            new double[] {Double.NEGATIVE_INFINITY}, 0, 1);
        int sd = r.below(s.length);
        SpecialCase.check("softmax along dim " + sd, ctx.expectOk("softmax", () -> x.softmax(sd)), s, dt, new double[0], 0, 1);
        SpecialCase.check("logSoftmax along dim " + sd, ctx.expectOk("logSoftmax", () -> x.logSoftmax(sd)), s, dt, new double[0], 0, 1);
        ctx.say("jvp of x -> x.logsumexp(%d): tangent zeros; grad of its sum: empty", zd);
        JvpResult jr = ctx.expectOk("jvp of logsumexp", () -> Func.jvp((Tensor t) -> t.logsumexp(zd), x, Tensor.onesLike(x)));
        SpecialCase.check("jvp output", jr.output(), red, dt, SpecialCase.filled(n(red), Double.NEGATIVE_INFINITY), 0, 1);
        SpecialCase.check("jvp tangent", jr.tangent(), red, dt, new double[n(red)], 0, 1);
        Tensor g = ctx.expectOk("grad of softmax", () -> Func.grad((Tensor t) -> t.softmax(sd).sum()).apply(x));
        SpecialCase.check("grad of softmax(...).sum()", g, s, dt, new double[0], 0, 1);
        break;
      }
      case 8: { // cat with empty parts and index_select with an empty index
        int zd = zeroDim(s);
        long[] other = ProgramFuzzer.with(s, zd, r.range(1, 3));
        Tensor full = randT(r, other, dt);
        ctx.say("cat([x %s, y %s], %d) = y; grad through it; index_select with an empty index", Arrays.toString(s), Arrays.toString(other), zd);
        Tensor c = ctx.expectOk("cat", () -> Tensor.cat(r.chance(0.5) ? List.of(x, full) : List.of(full, x), zd));
        SpecialCase.check("cat with an empty part", c, other, dt, full.toDoubleArray(), 0, 1);
        @SuppressWarnings("unchecked")
        List<Tensor> g = (List<Tensor>) ctx.expectOk("grad through cat",
            () -> Func.grad(a -> Tensor.cat(List.of((Tensor) a[0], (Tensor) a[1]), zd).mul(2.0).sum(), Argnums.of(0, 1)).apply(x, full));
        SpecialCase.check("grad wrt the empty part", g.get(0), s, dt, new double[0], 0, 1);
        SpecialCase.check("grad wrt the other part", g.get(1), other, dt, SpecialCase.filled(n(other), 2), 0, 1);
        Tensor idx = Tensor.fromArray(new long[0], 0);
        int d = r.below(other.length);
        long[] sel = ProgramFuzzer.with(other, d, 0);
        SpecialCase.check("index_select with an empty index", ctx.expectOk("indexSelect", () -> full.indexSelect(d, idx)), sel, dt, new double[0], 0, 1);
        Tensor gi = ctx.expectOk("grad through index_select", () -> Func.grad((Tensor t) -> t.indexSelect(d, idx).sum()).apply(full));
        SpecialCase.check("grad through an empty index_select (zeros)", gi, other, dt, new double[n(other)], 0, 1);
        break;
      }
      case 9: { // jvp and vjp of functions of empty tensors
        ctx.say("jvp of x -> x.exp().sum() and vjp of x -> x.sin(), x %s", xs);
        JvpResult jr = ctx.expectOk("jvp", () -> Func.jvp((Tensor t) -> t.exp().sum(), x, Tensor.onesLike(x)));
        SpecialCase.check("jvp output", jr.output(), new long[0], dt, new double[] {0}, 0, 1);
        SpecialCase.check("jvp tangent", jr.tangent(), new long[0], dt, new double[] {0}, 0, 1);
        VjpResult v = ctx.expectOk("vjp", () -> Func.vjp((Tensor t) -> t.sin(), x));
        SpecialCase.check("vjp output", v.output(), s, dt, new double[0], 0, 1);
        SpecialCase.check("vjp cotangent", ctx.expectOk("pullback", () -> v.applyTensor(Tensor.zerosLike(x))), s, dt, new double[0], 0, 1);
        ctx.say("hvp and vhp of x -> x.pow(3).sum()");
        SpecialCase.check("hvp", ctx.expectOk("hvp", () -> Func.hvp((Tensor t) -> t.pow(3.0).sum(), x, Tensor.onesLike(x))), s, dt, new double[0], 0, 1);
        SpecialCase.check("vhp", ctx.expectOk("vhp", () -> Func.vhp((Tensor t) -> t.pow(3.0).sum(), x, Tensor.onesLike(x))), s, dt, new double[0], 0, 1);
        break;
      }
      default: { // vmap of jacrev over examples with an empty dim: [B, out..., in...]
        int b = r.range(1, 3);
        long[] bs = ProgramFuzzer.insert(s, 0, b);
        Tensor xb = randT(r, bs, dt);
        Jac m = r.pick(List.of(Jac.values()));
        ctx.say("vmap(%s(t -> t.exp())) over x %s", m, Arrays.toString(bs));
        Tensor j = ctx.expectOk("vmap of " + m, () -> Func.vmap((Tensor t) -> jac(m, u -> u.exp(), t)).apply(xb));
        SpecialCase.check("vmap of " + m, j, ProgramFuzzer.concat(new long[] {b}, s, s), dt, new double[0], 0, 1);
      }
    }
  }

  static int zeroDim(long[] s) {
    for (int i = 0; i < s.length; i++)
      if (s[i] == 0) return i;
    throw new IllegalStateException("no zero dim in " + Arrays.toString(s));
  }
}
