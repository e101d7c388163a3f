package dev.adjoint.fuzz;

import dev.adjoint.Argnums;
import dev.adjoint.DType;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.Fn1;
import dev.adjoint.FnN;
import dev.adjoint.Func;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import dev.adjoint.VjpResult;
import dev.adjoint.fuzz.ProgramFuzzer.Rng;
import dev.adjoint.fuzz.SpecialCase.Ctx;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Integer outputs and inputs under the differentiating transforms: a function whose output (or
 * one of whose outputs) is int64 or bool — a comparison, a cast, a constant arange — under grad,
 * gradAndValue, vjp, jacrev, jacfwd, jacobian, hessian, hvp, vhp, also inside vmap; and int64 or
 * bool inputs at the differentiated argnums.
 *
 * <p>Contract: {@link DTypeMismatchException} from every one of them (for vjp: from the vjp call
 * or, at the latest, from the pullback; never a cotangent), with a message starting with the op.
 * And the legal neighbours still work: an integer aux value passes through grad unchanged, and an
 * int64 argument that is not differentiated is just used.
 */
final class IntegerOutputCases {
  private IntegerOutputCases() {}

  static final List<String> TRANSFORMS = List.of("grad", "gradAndValue", "vjp", "jacrev", "jacfwd", "jacobian", "hessian", "hvp", "vhp", "vmap(grad)",
      "vmap(jacrev)", "jvp(grad)");

  static void run(Ctx ctx) {
    Rng r = ctx.r;
    try (Scope s = Scope.open()) {
      switch (r.below(4)) {
        case 0:
        case 1:
          integerOutput(ctx, r);
          break;
        case 2:
          integerInput(ctx, r);
          break;
        default:
          legalNeighbours(ctx, r);
      }
    }
  }

  static Tensor floats(Rng r, long[] s, DType dt) {
    double[] v = new double[(int) ProgramFuzzer.numel(s)];
    for (int i = 0; i < v.length; i++) v[i] = r.uniform(-1, 1);
    Tensor t = Tensor.fromArray(v, s);
    return dt == DType.FLOAT64 ? t : t.to(dt);
  }

  /** An integer-valued function of a float tensor: scalar when {@code scalar} (for grad-like transforms). */
  static Fn1 intFunction(Rng r, boolean scalar, StringBuilder text) {
    int k = r.below(5);
    switch (k) {
      case 0:
        text.append(scalar ? "x.sum().gt(0.0)  (bool)" : "x.gt(0.0)  (bool)");
        return scalar ? x -> x.sum().gt(0.0) : x -> x.gt(0.0);
      case 1:
        text.append(scalar ? "x.sum().to(INT64)" : "x.mul(3.0).to(INT64)");
        return scalar ? x -> x.sum().to(DType.INT64) : x -> x.mul(3.0).to(DType.INT64);
      case 2:
        text.append(scalar ? "x.sin().sum().to(BOOL)" : "x.to(BOOL)");
        return scalar ? x -> x.sin().sum().to(DType.BOOL) : x -> x.to(DType.BOOL);
      case 3:
        text.append(scalar ? "arange(3).sum()  (int64, not depending on x)" : "arange(3)  (int64, not depending on x)");
        return scalar ? x -> Tensor.arange(3).sum() : x -> Tensor.arange(3);
      default:
        text.append(scalar ? "x.mul(x).sum().lt(x.sum())  (bool)" : "x.mul(x).le(x)  (bool)");
        return scalar ? x -> x.mul(x).sum().lt(x.sum()) : x -> x.mul(x).le(x);
    }
  }

  static void integerOutput(Ctx ctx, Rng r) {
    DType dt = r.chance(0.3) ? DType.FLOAT32 : DType.FLOAT64;
    long[] s = r.chance(0.2) ? new long[0] : new long[] {r.range(1, 3)};
    Tensor x = floats(r, s, dt);
    String tr = r.pick(TRANSFORMS);
    boolean scalarNeeded = tr.contains("grad") || tr.equals("hessian") || tr.equals("hvp") || tr.equals("vhp");
    StringBuilder text = new StringBuilder();
    Fn1 f = intFunction(r, scalarNeeded && (tr.contains("grad") || tr.equals("hvp") || tr.equals("vhp") || r.chance(0.5)), text);
    boolean listOut = !scalarNeeded && r.chance(0.3) && !tr.equals("vjp");  // one float and one integer output
    ctx.say("%s of x -> %s%s, x %s %s", tr, listOut ? "List.of(x.sin(), " : "", text + (listOut ? ")" : ""), Arrays.toString(s), dt.displayName());
    FnN fn = listOut ? a -> List.of(((Tensor) a[0]).sin(), f.apply((Tensor) a[0])) : a -> f.apply((Tensor) a[0]);
    Tensor v = floats(r, s, dt);
    Supplier<?> body;
    switch (tr) {
      case "grad":
        body = () -> r.chance(0.5) ? Func.grad(f).apply(x) : Func.grad(fn, Argnums.of(0)).apply(x);
        break;
      case "gradAndValue":
        body = () -> Func.gradAndValue(fn, Argnums.of(0)).apply(x);
        break;
      case "vjp": {
        // the vjp call or the pullback: one of them must refuse
        ctx.expectThrows("vjp (or its pullback) of an integer output", () -> {
          VjpResult res = r.chance(0.5) ? Func.vjp(f, x) : Func.vjp(fn, x);
          ctx.say("  vjp returned; the pullback must refuse");
          Tensor out = res.output();
          return res.apply(Tensor.onesLike(out).to(out.dtype()));
        }, DTypeMismatchException.class);
        return;
      }
      case "jacrev":
        body = () -> listOut ? Func.jacrev(fn, Argnums.of(0)).apply(x) : Func.jacrev(f).apply(x);
        break;
      case "jacfwd":
        body = () -> listOut ? Func.jacfwd(fn, Argnums.of(0)).apply(x) : Func.jacfwd(f).apply(x);
        break;
      case "jacobian":
        body = () -> listOut ? Func.jacobian(fn, Argnums.of(0)).apply(x) : Func.jacobian(f).apply(x);
        break;
      case "hessian":
        body = () -> Func.hessian(f).apply(x);
        break;
      case "hvp":
        body = () -> Func.hvp(f, x, v);
        break;
      case "vhp":
        body = () -> Func.vhp(f, x, v);
        break;
      case "vmap(grad)":
        body = () -> Func.vmap(Func.grad(f)).apply(x.unsqueeze(0).expand(ProgramFuzzer.insert(s, 0, 2)));
        break;
      case "vmap(jacrev)":
        body = () -> Func.vmap(Func.jacrev(f)).apply(x.unsqueeze(0).expand(ProgramFuzzer.insert(s, 0, 2)));
        break;
      default: // jvp(grad): forward over reverse
        body = () -> Func.jvp(Func.grad(f), x, v);
    }
    ctx.expectThrows(tr + " of an integer output", body, DTypeMismatchException.class);
  }

  static void integerInput(Ctx ctx, Rng r) {
    long[] s = r.chance(0.2) ? new long[0] : new long[] {r.range(1, 3)};
    int n = (int) ProgramFuzzer.numel(s);
    boolean bool = r.chance(0.4);
    long[] l = new long[n];
    for (int i = 0; i < n; i++) l[i] = bool ? r.below(2) : r.range(-3, 3);
    Tensor xi = Tensor.fromArray(l, s);
    Tensor x = bool ? xi.to(DType.BOOL) : xi;
    Tensor w = floats(r, s, DType.FLOAT64);
    String tr = r.pick(List.of("grad", "gradAndValue", "vjp", "jvp", "jacrev", "jacfwd", "jacobian", "hessian", "hvp", "vhp"));
    ctx.say("%s with respect to a %s argument %s", tr, bool ? "bool" : "int64", Arrays.toString(s));
    // f(a, b) = sum(a.to(float64) * b): a is the integer argument, differentiated (argnum 0)
    FnN f = a -> ((Tensor) a[0]).to(DType.FLOAT64).mul((Tensor) a[1]).sum();
    Fn1 f1 = t -> t.to(DType.FLOAT64).mul(w).sum();
    Supplier<?> body;
    switch (tr) {
      case "grad":
        body = () -> Func.grad(f, Argnums.of(r.chance(0.5) ? 0 : -2)).apply(x, w);
        break;
      case "gradAndValue":
        body = () -> Func.gradAndValue(f, Argnums.of(0, 1)).apply(x, w);
        break;
      case "vjp":
        body = () -> r.chance(0.5) ? Func.vjp(f1, x) : Func.vjp(f, x, w);
        break;
      case "jvp":
        body = () -> Func.jvp(f1, x, x);
        break;
      case "jacrev":
        body = () -> Func.jacrev(f, Argnums.of(0)).apply(x, w);
        break;
      case "jacfwd":
        body = () -> Func.jacfwd(f, Argnums.of(0)).apply(x, w);
        break;
      case "jacobian":
        body = () -> Func.jacobian(f, Argnums.of(0)).apply(x, w);
        break;
      case "hessian":
        body = () -> Func.hessian(f1).apply(x);
        break;
      case "hvp":
        body = () -> Func.hvp(f1, x, x);
        break;
      default:
        body = () -> Func.vhp(f1, x, Tensor.scalar(1.0, DType.FLOAT64));
    }
    ctx.expectThrows(tr + " wrt an integer argument", body, DTypeMismatchException.class);
  }

  /** What must keep working: an integer aux passes through grad, an int64 argument not differentiated is used. */
  static void legalNeighbours(Ctx ctx, Rng r) {
    long n = r.range(1, 4);
    Tensor x = floats(r, new long[] {n}, DType.FLOAT64);
    double[] xv = x.toDoubleArray();
    if (r.chance(0.5)) {
      ctx.say("grad with an integer aux: x -> List.of(x.mul(x).sum(), x.gt(0.0)), x [%d]", n);
      @SuppressWarnings("unchecked")
      List<Tensor> res = (List<Tensor>) ctx.expectOk("grad withAux",
          () -> Func.grad(a -> List.of(((Tensor) a[0]).mul((Tensor) a[0]).sum(), ((Tensor) a[0]).gt(0.0)), Argnums.of(0).withAux()).apply(x));
      double[] g = new double[(int) n], aux = new double[(int) n];
      for (int i = 0; i < n; i++) {
        g[i] = 2 * xv[i];
        aux[i] = xv[i] > 0 ? 1 : 0;
      }
      SpecialCase.check("grad", res.get(0), new long[] {n}, DType.FLOAT64, g, 1e-15, 1);
      SpecialCase.check("the integer aux", res.get(1), new long[] {n}, DType.BOOL, aux, 0, 1);
    } else {
      long[] idx = new long[(int) n];
      for (int i = 0; i < n; i++) idx[i] = r.below((int) n);
      Tensor ix = Tensor.fromArray(idx, n);
      String tr = r.pick(List.of("grad", "jacrev", "jacfwd"));
      ctx.say("%s wrt x of (x, idx) -> x.indexSelect(0, idx).mul(2).sum(), idx int64 %s not differentiated", tr, Arrays.toString(idx));
      FnN f = a -> ((Tensor) a[0]).indexSelect(0, (Tensor) a[1]).mul(2.0).sum();
      Tensor g = (Tensor) ctx.expectOk(tr, () -> tr.equals("grad") ? Func.grad(f, Argnums.of(0)).apply(x, ix)
          : tr.equals("jacrev") ? Func.jacrev(f, Argnums.of(0)).apply(x, ix) : Func.jacfwd(f, Argnums.of(0)).apply(x, ix));
      double[] want = new double[(int) n];
      for (long i : idx) want[(int) i] += 2;
      SpecialCase.check(tr + " with an int64 argument not differentiated", g, new long[] {n}, DType.FLOAT64, want, 1e-15, 1);
    }
  }
}
