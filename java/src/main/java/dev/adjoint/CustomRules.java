package dev.adjoint;

import dev.adjoint.internal.Errors;
import dev.adjoint.internal.NativeCore;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Java end of custom derivative rules ({@link Func#customVjp}, {@link Func#customJvp},
 * {@link Func#checkpoint}).
 *
 * <p>NOTE: the rule lives in the native core's interpreters (native/src/interp/custom.cpp, whose
 * NOTE says what each level does with it); Java only runs the user's functions when the core calls
 * back. A call of a custom function registers a {@link Site} (its rules and the structure of its
 * arguments) under an id and hands the tensors of the arguments to {@code adj_custom_call}; the
 * core then asks, through the one callback {@link #upcall}, for F, Fwd, Bwd or Jvp of that site on
 * tensors it chooses (tracers of the levels below the one applying the rule, or per-example values
 * of a fresh vmap level), and keeps the site, and the residuals' structure a Fwd registers, for as
 * long as a tape node needs them; ids it no longer holds come back through a queue drained here.
 * A user's exception in a callback is kept for this thread ({@link Errors#setCallbackFailure})
 * while the core unwinds with ADJ_ERR_CALLBACK, and rethrown unchanged where the native call
 * returns, after every level has ended.
 *
 * <p>A function with several output tensors is packed: the core sees one flat tensor (the leaves
 * flattened and joined, which must share a dtype), the caller gets the structure back as views.
 */
final class CustomRules {
  static final int F = 0, FWD = 1, BWD = 2, JVP = 3;  // ADJ_CUSTOM_CALL_*

  private CustomRules() {}

  /** The pieces of one custom function (pytree forms). */
  static final class Rules {
    final String name;
    final int kind;  // ADJ_CUSTOM_VJP or ADJ_CUSTOM_JVP
    final int flags;
    final FnN f;
    final Custom.VjpFwd<Object> fwd;
    final Custom.VjpBwd<Object> bwd;
    final Custom.JvpRule jvp;

    @SuppressWarnings("unchecked")
    Rules(String name, int kind, int flags, FnN f, Custom.VjpFwd<?> fwd, Custom.VjpBwd<?> bwd, Custom.JvpRule jvp) {
      this.name = name;
      this.kind = kind;
      this.flags = flags;
      this.f = f;
      this.fwd = (Custom.VjpFwd<Object>) fwd;
      this.bwd = (Custom.VjpBwd<Object>) bwd;
      this.jvp = jvp;
    }
  }

  /** One call of a custom function: its rules, its arguments' structure, and its output's (from the first callback). */
  static final class Site {
    final Rules rules;
    final Object[] args;  // skeletons (see PLACE)
    final int[] leafCounts;
    Object outStructure;  // the output's skeleton, from the first callback that gave one
    long[][] outShapes;

    Site(Rules rules, Object[] args, int[] leafCounts) {
      this.rules = rules;
      this.args = args;
      this.leafCounts = leafCounts;
    }
  }

  /** The residuals of one Fwd: their skeleton, for the Bwd calls that get their tensors back. */
  private record Residuals(Object structure) {}

  // NOTE: the structures kept here (a site's arguments and output, the residuals) have their
  // tensors replaced by this closed placeholder, whose only use is to mark a leaf's place for
  // Pytree.unflatten: a registered structure must not keep the user's tensors reachable (an
  // unscoped one would outlive its last use, until the Cleaner saw the site go).
  private static final Tensor PLACE = closedPlaceholder();

  private static Tensor closedPlaceholder() {
    Tensor t = Tensor.scalar(0);
    t.close();
    return t;
  }

  private static Object skeleton(Object tree) {
    return tree instanceof Tensor ? PLACE : Pytree.map(tree, t -> PLACE);
  }

  private static final ConcurrentHashMap<Long, Object> LIVE = new ConcurrentHashMap<>();
  private static final AtomicLong NEXT_ID = new AtomicLong(1);
  private static final NativeCore.CustomCallback CALLBACK;

  static {
    NativeCore.CustomCallback.handler = CustomRules::upcall;
    CALLBACK = new NativeCore.CustomCallback();  // held by this class: the core keeps its address
    NativeCore.adj_custom_set_callback(CALLBACK);
  }

  private static long register(Object o) {
    long id = NEXT_ID.getAndIncrement();
    LIVE.put(id, o);
    return id;
  }

  /** Forgets the sites and residuals the core has given back. */
  private static void drainReleased() {
    long[] ids = new long[64];
    int n;
    do {
      n = NativeCore.adj_custom_released(ids, ids.length);
      for (int i = 0; i < n; i++) LIVE.remove(ids[i]);
    } while (n == ids.length);
  }

  /** Number of sites and residual structures the core still holds (tests: they must not leak). */
  static int liveCount() {
    drainReleased();
    return LIVE.size();
  }

  // ------------------------------------------------------------------ the caller's side

  /** The custom function applied to {@code args}: one native call, whose levels call back. */
  static Object apply(Rules rules, Object[] args) {
    drainReleased();
    List<Tensor> leaves = new ArrayList<>();
    int[] counts = new int[args.length];
    for (int i = 0; i < args.length; i++) {
      List<Tensor> ls = Pytree.leaves(rules.name, "argument " + i, args[i]);
      for (Tensor t : ls)
        if (t.isClosed()) throw new IllegalStateException(rules.name + ": argument " + i + " holds a closed tensor");
      counts[i] = ls.size();
      leaves.addAll(ls);
    }
    Object[] skeletons = new Object[args.length];
    for (int i = 0; i < args.length; i++) skeletons[i] = skeleton(args[i]);
    Site site = new Site(rules, skeletons, counts);
    try (Scope scope = Scope.open()) {
      // The core calls back into Java inside this call: a nested frame (ThreadState's NOTE), so the
      // handles read here stay protected and valid until it returns.
      long[] hs = new long[leaves.size()];
      for (int i = 0; i < hs.length; i++) hs[i] = leaves.get(i).h();
      long id = register(site);  // given back by the core when its last holder goes, even on failure
      Tensor out = Tensor.wrap(NativeCore.adj_custom_call(rules.kind, rules.flags, id, hs, hs.length), leaves);
      return scope.keep(unpack(site, out));
    }
  }

  /** The caller's view of a result the core computed for {@code site}: the output's structure, from the packed tensor. */
  private static Object unpack(Site site, Tensor packed) {
    if (site.outStructure instanceof Tensor) return packed;
    List<Tensor> parts = new ArrayList<>(site.outShapes.length);
    long off = 0;
    for (long[] shape : site.outShapes) {
      long n = 1;
      for (long d : shape) n *= d;
      parts.add(packed.slice(0, off, off + n).reshape(shape));
      off += n;
    }
    return Pytree.unflatten(site.outStructure, parts);
  }

  // ------------------------------------------------------------------ checkpoint

  /**
   * checkpoint as a vjp rule whose residuals are the arguments themselves and whose bwd runs f's
   * vjp again (forward recomputed and traced, then pulled back); under jvp the core runs f as it is
   * (ADJ_CUSTOM_JVP_RUNS_F). NOTE: random ops in f draw the same numbers again in the recompute:
   * fwd saves the global generator's state and bwd replays f from it, then puts back the state it
   * found (torch.utils.checkpoint's preserve_rng_state; other generators are not saved, as there).
   */
  static FnN checkpoint(FnN f) {
    Custom.VjpFwd<Object[]> fwd = args -> {
      Generator before = new Generator().copyStateFrom(Generator.global());
      return Custom.fwd(f.apply(args), new Object[] {args, before});
    };
    Custom.VjpBwd<Object[]> bwd = (saved, ct) -> {
      Generator after = new Generator().copyStateFrom(Generator.global());
      Generator.global().copyStateFrom((Generator) saved[1]);
      try {
        return recompute(f, (Object[]) saved[0], ct);
      } finally {
        Generator.global().copyStateFrom(after);
      }
    };
    Rules r = new Rules("checkpoint", NativeCore.ADJ_CUSTOM_VJP, NativeCore.ADJ_CUSTOM_JVP_RUNS_F, f, fwd, bwd, null);
    return args -> apply(r, args);
  }

  /** The cotangents of f's arguments for ct: f's vjp with respect to their floating-point tensors. */
  private static List<?> recompute(FnN f, Object[] args, Object ct) {
    List<List<Tensor>> perArg = new ArrayList<>(args.length);
    List<Tensor> primals = new ArrayList<>();
    for (Object a : args) {
      List<Tensor> ls = Pytree.leaves(a);
      perArg.add(ls);
      for (Tensor t : ls) if (t.dtype().isFloatingPoint()) primals.add(t);
    }
    List<Object> cts = new ArrayList<>(args.length);
    if (primals.isEmpty()) {
      for (int i = 0; i < args.length; i++) cts.add(null);
      return cts;
    }
    FnN g = ps -> {
      Object[] a = new Object[args.length];
      int k = 0;
      for (int i = 0; i < args.length; i++) {
        List<Tensor> mine = new ArrayList<>(perArg.get(i));
        for (int j = 0; j < mine.size(); j++) if (mine.get(j).dtype().isFloatingPoint()) mine.set(j, (Tensor) ps[k++]);
        a[i] = args[i] instanceof Tensor ? mine.get(0) : Pytree.unflatten(args[i], mine);
      }
      return f.apply(a);
    };
    List<Object> g0 = Func.vjp(g, primals.toArray()).apply(ct);
    int k = 0;
    for (int i = 0; i < args.length; i++) {
      List<Tensor> mine = new ArrayList<>(perArg.get(i));
      for (int j = 0; j < mine.size(); j++)
        mine.set(j, mine.get(j).dtype().isFloatingPoint() ? (Tensor) g0.get(k++) : Tensor.zerosLike(mine.get(j)));  // ignored: not differentiable
      cts.add(args[i] instanceof Tensor ? mine.get(0) : Pytree.unflatten(args[i], mine));
    }
    return cts;
  }

  // ------------------------------------------------------------------ the core's side

  /** The callback (ADJ_CUSTOM_CALL_* {@code what} of the site); 0, or -1 with the failure kept. */
  private static int upcall(long siteId, int what, long stateId, long ctx) {
    ThreadState ts = ThreadState.current();
    int frame = ts.enterCallback();
    try {
      Site site = (Site) LIVE.get(siteId);
      if (site == null) throw new IllegalStateException("custom rule: call site " + siteId + " is no longer registered");
      try (Scope scope = Scope.open()) {
        int n = Errors.check(NativeCore.adj_custom_nargs(ctx));
        Tensor[] a = new Tensor[n];
        for (int i = 0; i < n; i++) a[i] = Tensor.wrap(NativeCore.adj_custom_arg(ctx, i));
        Rules r = site.rules;
        switch (what) {
          case F -> push(ctx, pack(site, "the function", r.f.apply(rebuildArgs(site, a, 0))));
          case FWD -> {
            Custom.Fwd<Object> res = r.fwd.apply(rebuildArgs(site, a, 0));
            if (res == null) throw new AdjointArgumentException(r.name, r.name + ": fwd returned null instead of Custom.fwd(output, residuals)");
            push(ctx, pack(site, "fwd's output", res.output()));
            for (Tensor t : Pytree.leaves(r.name, "fwd's residuals", res.residuals())) {
              if (t.isClosed()) throw new AdjointArgumentException(r.name, r.name + ": fwd's residuals hold a closed tensor");
              push(ctx, t);
            }
            Errors.check(NativeCore.adj_custom_set_state(ctx, register(new Residuals(skeleton(res.residuals())))));
          }
          case BWD -> bwd(site, stateId, a, ctx);
          case JVP -> {
            int m = n / 2;
            JvpResult res = r.jvp.apply(rebuildArgs(site, a, 0), rebuildArgs(site, a, m));
            if (res == null) throw new AdjointArgumentException(r.name, r.name + ": the jvp rule returned null instead of JvpResult.of(output, tangent)");
            Tensor out = pack(site, "the jvp rule's output", res.outputTree());
            List<Tensor> tan = res.outputTree() instanceof Tensor && res.tangentTree() instanceof Tensor t ? List.of(t)
                : Pytree.leavesLike(r.name, "the jvp rule's tangent", res.tangentTree(), "its output", res.outputTree());
            push(ctx, out);
            push(ctx, res.outputTree() instanceof Tensor ? tan.get(0) : packLeaves(r.name, "the jvp rule's tangent", tan));
          }
          default -> throw new IllegalStateException("custom rule: unknown call " + what);
        }
      }
      return 0;
    } catch (Throwable e) {
      Errors.setCallbackFailure(e);
      return -1;
    } finally {
      ts.leaveCallback(frame);
    }
  }

  private static void bwd(Site site, long stateId, Tensor[] a, long ctx) {
    Rules r = site.rules;
    Residuals res = (Residuals) LIVE.get(stateId);
    if (res == null) throw new IllegalStateException(r.name + ": the residuals of this call are no longer registered");
    Object residuals = Pytree.unflatten(res.structure(), Arrays.asList(a).subList(0, a.length - 1));
    Object ct = unpack(site, a[a.length - 1]);
    List<?> cts = r.bwd.apply(residuals, ct);
    if (cts == null || cts.size() != site.args.length)
      throw new AdjointArgumentException(r.name, r.name + ": bwd must return one cotangent per argument (" + site.args.length
          + "), got " + (cts == null ? "null" : cts.size()));
    for (int i = 0; i < site.args.length; i++) {
      Object c = cts.get(i);
      if (c == null) {  // zero for every tensor of the argument
        for (int k = 0; k < site.leafCounts[i]; k++) push(ctx, null);
        continue;
      }
      List<Tensor> ls = site.args[i] instanceof Tensor && c instanceof Tensor t ? List.of(t)
          : Pytree.leavesLike(r.name, "bwd's cotangent " + i, c, "argument " + i, site.args[i]);
      for (Tensor t : ls) push(ctx, t);
    }
  }

  /** The arguments' structure rebuilt with a[from .. from + leaves). */
  private static Object[] rebuildArgs(Site site, Tensor[] a, int from) {
    Object[] args = new Object[site.args.length];
    int k = from;
    for (int i = 0; i < args.length; i++) {
      int n = site.leafCounts[i];
      args[i] = site.args[i] instanceof Tensor ? a[k] : Pytree.unflatten(site.args[i], Arrays.asList(a).subList(k, k + n));
      k += n;
    }
    return args;
  }

  /** The one tensor the core sees of an output; records (or checks) the output's structure on the site. */
  private static Tensor pack(Site site, String what, Object out) {
    String name = site.rules.name;
    if (out == null) throw new AdjointArgumentException(name, name + ": " + what + " is null instead of a tensor (or a pytree of tensors)");
    List<Tensor> leaves = Pytree.tensorLeaves(name, what, out);
    if (leaves.isEmpty()) throw new AdjointArgumentException(name, name + ": " + what + " holds no tensor");
    long[][] shapes = new long[leaves.size()][];
    for (int i = 0; i < shapes.length; i++) shapes[i] = leaves.get(i).shape();
    if (site.outStructure == null) {
      site.outStructure = skeleton(out);
      site.outShapes = shapes;
    } else if ((out instanceof Tensor) != (site.outStructure instanceof Tensor) || !Arrays.deepEquals(shapes, site.outShapes)) {
      throw new ShapeMismatchException(name, name + ": " + what + " (" + Pytree.describe(out) + ") does not have the structure and shapes of "
          + "the function's output (" + Pytree.describe(site.outStructure) + ")");
    }
    return out instanceof Tensor t ? t : packLeaves(name, what, leaves);
  }

  /** Several tensors as one flat tensor (views for one); they must share a dtype. */
  private static Tensor packLeaves(String name, String what, List<Tensor> leaves) {
    if (leaves.size() == 1 && leaves.get(0).ndim() == 1) return leaves.get(0);
    DType dt = leaves.get(0).dtype();
    List<Tensor> flat = new ArrayList<>(leaves.size());
    for (Tensor t : leaves) {
      if (t.dtype() != dt)
        throw new DTypeMismatchException(name, name + ": " + what + " holds tensors of dtypes " + dt.displayName() + " and "
            + t.dtype().displayName() + "; the tensors of a custom function's output must share one dtype");
      flat.add(t.reshape(-1));
    }
    return flat.size() == 1 ? flat.get(0) : Tensor.cat(flat, 0);
  }

  /** Hands t (null: a zero cotangent) to the core, which takes its own reference. */
  private static void push(long ctx, Tensor t) {
    Errors.check(NativeCore.adj_custom_push(ctx, t == null ? 0 : t.h()));
    Reference.reachabilityFence(t);
  }
}
