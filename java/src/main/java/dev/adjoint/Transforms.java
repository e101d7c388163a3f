package dev.adjoint;

import dev.adjoint.internal.Errors;
import dev.adjoint.internal.NativeCore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The mechanics behind {@link Func}: pytree plumbing around the native levels. All tracing,
 * rules and batching happen in the core; this class only wraps inputs, calls the user's function,
 * and unwraps outputs.
 *
 * <p>NOTE: every transform opens a {@link Scope} around the user's function and keeps only its
 * results, so intermediate tracers are released when the transform returns; and ends its native
 * level in a finally block, so an exception leaves the level stack as it found it.
 */
final class Transforms {
  private static final int JVP = 0, GRAD = 1, VMAP = 2;

  private Transforms() {}

  private static long begin(int kind, long batch, Randomness r) {
    long l = NativeCore.adj_level_begin(kind, batch, r.ordinal());
    if (l == 0) throw Errors.last();
    return l;
  }

  /** Ends the level and releases its handle (also when ending fails). */
  private static void close(long level) {
    Errors.check(NativeCore.adj_level_close(level));
  }

  // ------------------------------------------------------------------ grad / vjp

  static Object grad(String name, FnN f, Argnums an, Object[] args, boolean withValue) {
    int[] idx = an.resolve(name, args.length);
    for (int i : idx) floatingDType(name, Pytree.leaves(args[i]), "argument", i);
    long lv = begin(GRAD, 0, Randomness.ERROR);
    boolean open = true, released = false;
    try (Scope scope = Scope.open()) {
      Object[] wrapped = args.clone();
      List<List<Tensor>> leaves = new ArrayList<>();
      for (int i : idx) {
        List<Tensor> mine = new ArrayList<>();
        wrapped[i] = Pytree.mapWithPath(args[i], "", (p, x) -> {
          Tensor t = wrapGrad(lv, x);
          mine.add(t);
          return t;
        });
        leaves.add(mine);
      }
      Object out = f.apply(wrapped);
      Object aux = null;
      if (an.hasAux) {
        Object[] pair = splitAux(name, out);
        out = pair[0];
        aux = pair[1];
      }
      if (!(out instanceof Tensor y) || y.ndim() != 0)
        throw new ShapeMismatchException(name, name + ": the function must return a scalar (0-d) tensor, got "
            + Pytree.describe(out) + "; use vjp or jacrev for non-scalar outputs");
      List<Tensor> all = new ArrayList<>();
      leaves.forEach(all::addAll);
      // One call ends the level, runs backward from ones (null cotangents) and, when nothing is
      // unwrapped afterwards, releases the level handle (also when it fails). The handles are
      // checked first, so that the call is surely made once the flags say so.
      y.h();
      for (Tensor t : all) t.h();
      int flags = NativeCore.ADJ_BACKWARD_END | (withValue || an.hasAux ? 0 : NativeCore.ADJ_BACKWARD_RELEASE);
      open = false;
      released = (flags & NativeCore.ADJ_BACKWARD_RELEASE) != 0;
      List<Tensor> g = backward(lv, flags, List.of(y), null, all);
      List<Object> perArg = new ArrayList<>();
      int k = 0;
      for (int j = 0; j < idx.length; j++) {
        perArg.add(Pytree.unflatten(args[idx[j]], g.subList(k, k + leaves.get(j).size())));
        k += leaves.get(j).size();
      }
      Object grads = an.multiple ? List.copyOf(perArg) : perArg.get(0);
      Object value = withValue ? unwrapGrad(lv, y) : null;
      Object auxOut = an.hasAux ? Pytree.map(aux, t -> unwrapGrad(lv, t)) : null;
      Object result;
      if (withValue) result = List.of(grads, an.hasAux ? List.of(value, auxOut) : value);
      else result = an.hasAux ? List.of(grads, auxOut) : grads;
      return scope.keep(result);
    } finally {
      if (open) close(lv);
      else if (!released) NativeCore.adj_level_release(lv);
    }
  }

  /** x traced by grad level lv; the tracer takes x's cached shape and dtype. */
  private static Tensor wrapGrad(long lv, Tensor x) {
    return Tensor.wrap(NativeCore.adj_grad_wrap(lv, x.h())).sameMetaAs(x);
  }

  private static Tensor unwrapGrad(long lv, Tensor t) {
    return Tensor.wrap(NativeCore.adj_grad_unwrap(lv, t.h()));
  }

  /** The backward pass, with adj_grad_backward_ex's flags (end the level first, release it after); null cots mean ones. */
  private static List<Tensor> backward(long lv, int flags, List<Tensor> outs, List<Tensor> cots, List<Tensor> ins) {
    if (outs.size() == 1 && ins.size() == 1)
      return List.of(Tensor.wrap(NativeCore.adj_grad_backward1(lv, outs.get(0).h(), cots == null ? 0 : cots.get(0).h(), ins.get(0).h(), flags)));
    long[] o = new long[outs.size()], c = new long[outs.size()], x = new long[ins.size()], g = new long[ins.size()];
    for (int i = 0; i < o.length; i++) {
      o[i] = outs.get(i).h();
      c[i] = cots == null ? 0 : cots.get(i).h();
    }
    for (int i = 0; i < x.length; i++) x[i] = ins.get(i).h();
    Errors.check(NativeCore.adj_grad_backward_ex(lv, o, c, o.length, x, x.length, g, flags));
    List<Tensor> r = new ArrayList<>(g.length);
    for (long h : g) r.add(Tensor.wrap(h));
    return r;
  }

  private static Object[] splitAux(String name, Object out) {
    if (out instanceof List<?> l && l.size() == 2) return new Object[] {l.get(0), l.get(1)};
    if (out instanceof Object[] a && a.length == 2) return new Object[] {a[0], a[1]};
    throw new AdjointArgumentException(name, name + ": with hasAux the function must return List.of(output, aux), got " + Pytree.describe(out));
  }

  static VjpResult vjp(String name, FnN f, Object[] primals, boolean hasAux) {
    // One tensor in and one tensor out (a Jacobian row, a hand-written backward pass) skip the
    // pytree walks: the same native calls either way.
    final boolean oneIn = primals.length == 1 && primals[0] instanceof Tensor;
    if (oneIn) floatingDType(name, (Tensor) primals[0], "input");
    else floatingDType(name, Pytree.leaves(primals), "input", -1);
    long lv = begin(GRAD, 0, Randomness.ERROR);
    boolean open = true;
    try (Scope scope = Scope.open()) {
      List<Tensor> leaves;
      Object[] wrapped = new Object[primals.length];
      if (oneIn) {
        Tensor x = (Tensor) primals[0];
        Tensor t = wrapGrad(lv, x);
        wrapped[0] = t;
        leaves = List.of(t);
      } else {
        List<Tensor> all = new ArrayList<>();
        for (int i = 0; i < primals.length; i++)
          wrapped[i] = Pytree.mapWithPath(primals[i], "", (p, x) -> {
            Tensor t = wrapGrad(lv, x);
            all.add(t);
            return t;
          });
        leaves = all;
      }
      Object out = f.apply(wrapped);
      Object aux = null;
      if (hasAux) {
        Object[] pair = splitAux(name, out);
        out = pair[0];
        aux = pair[1];
      }
      final boolean oneOut = out instanceof Tensor;
      List<Tensor> outLeaves = oneOut ? List.of((Tensor) out) : Pytree.leaves(out);
      final Object outStructure = out;
      // Unwrapping reads the primals only; the level may still be on the stack.
      // NOTE: the traced inputs the pullback owns hold the native level alive; our handle's
      // reference can go with the end. A pullback without traced inputs never touches the level.
      Object primalOut, auxOut = null;
      if (oneOut && !hasAux) {  // unwrap and close in one call, which closes the level in any case
        long y = ((Tensor) out).h();
        open = false;
        primalOut = Tensor.wrap(NativeCore.adj_grad_unwrap_close(lv, y));
      } else {
        primalOut = Pytree.map(out, t -> unwrapGrad(lv, t));
        auxOut = hasAux ? Pytree.map(aux, t -> unwrapGrad(lv, t)) : null;
        open = false;
        close(lv);
      }
      // The pullback owns the traced inputs and outputs (they hold the tape).
      scope.keep(leaves);
      scope.keep(outLeaves);
      return new VjpResult(scope.keep(primalOut), outStructure, scope.keep(auxOut), lv, outLeaves, leaves, primals);
    } finally {
      if (open) close(lv);
    }
  }

  /**
   * {@link #vjp} of a one-tensor function at one tensor: the same native calls without the pytree
   * walks and wrapper arrays (a Jacobian computed row by row calls this once per row).
   */
  static VjpResult vjp1(String name, Fn1 f, Tensor x) {
    if (x == null) throw new AdjointArgumentException(name, name + ": the input is null instead of a tensor");
    floatingDType(name, x, "input");
    // NOTE: no level handle: the traced input holds the level, and the native calls given level 0
    // take its level (one call to begin and wrap, none to release).
    try (Scope scope = Scope.open()) {
      Tensor t = Tensor.wrap(NativeCore.adj_vjp_begin(x.h()), x).sameMetaAs(x);
      boolean open = true;
      try {
        Tensor out = f.apply(t);
        if (out == null) throw new AdjointArgumentException(name, name + ": the function returned null instead of a tensor");
        long y = out.h();
        open = false;
        Tensor primalOut = Tensor.wrap(NativeCore.adj_vjp_close(t.h(), y), out);
        scope.keep(t);  // the pullback owns the traced input and output (they hold the tape)
        scope.keep(out);
        return new VjpResult(scope.keep(primalOut), out, null, 0, List.of(out), List.of(t), new Object[] {x});
      } finally {
        if (open) {  // f failed: end the level (closing on the input itself)
          long r = NativeCore.adj_vjp_close(t.h(), t.h());
          if (r == 0) throw Errors.last();
          NativeCore.adj_release(r);
        }
      }
    }
  }

  /** The pullback of a vjp result: given the output's cotangent, one cotangent per primal. */
  static Object pullback(VjpResult v, Object[] cts) {
    FnN.checkArity("vjp pullback", cts, 1);
    if (cts[0] instanceof Tensor ct && v.singleTensors)  // the cotangent is the result's one tensor
      return List.of(pullback1(v, ct));
    List<Tensor> ctLeaves = Pytree.leavesLike("vjp", "the cotangent", cts[0], "the output", v.outStructure);
    try (Scope s = Scope.open()) {
      List<Tensor> g = v.inLeaves.isEmpty() ? List.of() : backward(v.level, 0, v.outLeaves, ctLeaves, v.inLeaves);
      List<Object> perPrimal = new ArrayList<>();
      int k = 0;
      for (Object p : v.primals) {
        int n = Pytree.leaves(p).size();
        perPrimal.add(Pytree.unflatten(p, g.subList(k, k + n)));
        k += n;
      }
      return s.keep(List.copyOf(perPrimal));
    }
  }

  /** The pullback of a one-tensor-to-one-tensor vjp result ({@link VjpResult#singleTensors}). */
  static Tensor pullback1(VjpResult v, Tensor ct) {
    Tensor y = v.outLeaves.get(0), x = v.inLeaves.get(0);
    return Tensor.wrap(NativeCore.adj_grad_backward1(v.level, y.h(), ct.h(), x.h(), 0), y, ct, x);
  }

  // ------------------------------------------------------------------ jvp

  static JvpResult jvp(String name, FnN f, List<?> primals, List<?> tangents, boolean hasAux) {
    if (primals.size() != tangents.size())
      throw new AdjointArgumentException(name, name + ": " + primals.size() + " primals but " + tangents.size() + " tangents");
    List<List<Tensor>> tans = new ArrayList<>();
    for (int i = 0; i < primals.size(); i++) {
      List<Tensor> p = Pytree.leaves(primals.get(i));
      // NOTE: paired by structure (maps by key), not by flattening order: a tangent map built in
      // another key order must not silently meet the wrong primals.
      List<Tensor> t = primals.get(i) instanceof Tensor && tangents.get(i) instanceof Tensor tt ? List.of(tt)
          : Pytree.leavesLike(name, "tangent " + i, tangents.get(i), "primal " + i, primals.get(i));
      for (int k = 0; k < p.size(); k++) {
        if (!Arrays.equals(p.get(k).shape(), t.get(k).shape()))
          throw new ShapeMismatchException(name, name + ": tangent " + i + " has shape " + Arrays.toString(t.get(k).shape())
              + " but primal " + i + " has shape " + Arrays.toString(p.get(k).shape()));
        if (p.get(k).dtype() != t.get(k).dtype())
          throw new DTypeMismatchException(name, name + ": tangent " + i + " has dtype " + t.get(k).dtype().displayName()
              + " but primal " + i + " has dtype " + p.get(k).dtype().displayName());
      }
      tans.add(t);
    }
    long lv = begin(JVP, 0, Randomness.ERROR);
    boolean open = true;
    try (Scope scope = Scope.open()) {
      Object[] wrapped = new Object[primals.size()];
      for (int i = 0; i < wrapped.length; i++) {
        List<Tensor> t = tans.get(i);
        int[] k = {0};
        wrapped[i] = Pytree.map(primals.get(i), x -> Tensor.wrap(NativeCore.adj_jvp_wrap(lv, x.h(), t.get(k[0]++).h())).sameMetaAs(x));
      }
      Object out = f.apply(wrapped);
      Object aux = null;
      if (hasAux) {
        Object[] pair = splitAux(name, out);
        out = pair[0];
        aux = pair[1];
      }
      List<Tensor> ps = new ArrayList<>(), ts = new ArrayList<>();
      for (Tensor y : Pytree.leaves(out)) {
        long[] pt = new long[2];
        Errors.check(NativeCore.adj_jvp_unwrap(lv, y.h(), pt));
        ps.add(Tensor.wrap(pt[0]));
        ts.add(Tensor.wrap(pt[1]));
      }
      Object auxOut = hasAux ? Pytree.map(aux, x -> {
        long[] pt = new long[2];
        Errors.check(NativeCore.adj_jvp_unwrap(lv, x.h(), pt));
        NativeCore.adj_release(pt[1]);
        return Tensor.wrap(pt[0]);
      }) : null;
      open = false;
      close(lv);
      scope.keep(ps);
      scope.keep(ts);
      scope.keep(auxOut);
      return new JvpResult(Pytree.unflatten(out, ps), Pytree.unflatten(out, ts), auxOut);
    } finally {
      if (open) close(lv);
    }
  }

  // ------------------------------------------------------------------ vmap

  static Object vmap(FnN f, VmapOptions o, Object[] args) {
    Object[] inDims = o.inDims;
    if (inDims == null) {
      inDims = new Object[args.length];
      Arrays.fill(inDims, 0);
    }
    if (inDims.length != args.length)
      throw new AdjointArgumentException("vmap", "vmap: inDims has " + inDims.length + " entries but the function was called with "
          + args.length + " argument(s)");
    // One spec per tensor leaf of each argument; the batch size from the mapped ones.
    List<List<Object>> specs = new ArrayList<>();
    long batch = -1;
    int firstArg = -1, firstDim = 0;  // the first mapped leaf: named only in the error message
    Tensor firstX = null;
    for (int i = 0; i < args.length; i++) {
      List<Object> sp = Pytree.broadcastSpec("vmap", "inDims", i, inDims[i], args[i]);
      List<Tensor> ls = Pytree.leaves(args[i]);
      for (int k = 0; k < ls.size(); k++) {
        if (sp.get(k) == null) continue;
        Tensor x = ls.get(k);
        int d = (Integer) sp.get(k), r = x.ndim();
        if (r == 0 || d < -r || d >= r)
          throw new InvalidIndexException("vmap", "vmap: inDims " + d + " out of range for argument " + i + " of shape "
              + Arrays.toString(x.shape()));
        long n = x.size(d);
        if (batch < 0) {
          batch = n;
          firstArg = i;
          firstX = x;
          firstDim = d;
        } else if (n != batch) {
          String first = "argument " + firstArg + " " + Arrays.toString(firstX.shape()) + " at dim " + firstDim;
          String here = "argument " + i + " " + Arrays.toString(x.shape()) + " at dim " + d;
          throw new ShapeMismatchException("vmap", "vmap: mapped sizes differ: " + first + " has size " + batch + ", " + here
              + " has size " + n);
        }
      }
      specs.add(sp);
    }
    if (batch < 0)
      throw new AdjointArgumentException("vmap", "vmap: no argument is mapped (every inDims entry is null or the arguments hold no tensors)");
    // NOTE: randomness=SAME shares one sample across the whole batch; chunks are separate vmaps that
    // would each draw their own, so SAME runs in one vectorised call (chunkSize only bounds memory).
    if (o.chunkSize != null && batch > o.chunkSize && o.randomness != Randomness.SAME) return vmapChunked(f, o, args, specs, batch);
    long lv = begin(VMAP, batch, o.randomness);
    boolean open = true;
    try (Scope scope = Scope.open()) {
      Object[] wrapped = new Object[args.length];
      for (int i = 0; i < args.length; i++) {
        List<Object> sp = specs.get(i);
        int[] k = {0};
        wrapped[i] = Pytree.map(args[i], x -> {
          Object d = sp.get(k[0]++);
          return d == null ? x : Tensor.wrap(NativeCore.adj_vmap_wrap(lv, x.h(), (Integer) d)).sameDTypeAs(x);
        });
      }
      Object out = f.apply(wrapped);
      List<Object> outSpec = Pytree.broadcastSpec("vmap", "outDims", o.outDims, out, "");
      for (Object d : outSpec)
        if (d == null) throw new AdjointArgumentException("vmap", "vmap: outDims must give a dim for every output, got null");
      int[] k = {0};
      Object result = Pytree.map(out, y -> Tensor.wrap(NativeCore.adj_vmap_unwrap(lv, y.h(), (Integer) outSpec.get(k[0]++))));
      open = false;
      close(lv);
      return scope.keep(result);
    } finally {
      if (open) close(lv);
    }
  }

  /** vmap in chunks of o.chunkSize examples, concatenating the outputs along their out dims. */
  private static Object vmapChunked(FnN f, VmapOptions o, Object[] args, List<List<Object>> specs, long batch) {
    try (Scope scope = Scope.open()) {
      VmapOptions whole = VmapOptions.inDims(o.inDims == null ? zeros(args.length) : o.inDims).outDims(o.outDims).randomness(o.randomness);
      List<Object> parts = new ArrayList<>();
      for (long start = 0; start < batch; start += o.chunkSize) {
        long s0 = start, e0 = Math.min(batch, start + o.chunkSize);
        Object[] chunk = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
          List<Object> sp = specs.get(i);
          int[] k = {0};
          chunk[i] = Pytree.map(args[i], x -> {
            Object d = sp.get(k[0]++);
            return d == null ? x : x.slice((Integer) d, s0, e0);
          });
        }
        parts.add(vmap(f, whole, chunk));
      }
      List<Object> outSpec = Pytree.broadcastSpec("vmap", "outDims", o.outDims, parts.get(0), "");
      return scope.keep(catChunks(parts, k -> (Integer) outSpec.get(k)));
    }
  }

  /** Per-chunk results (same pytree each) joined leaf by leaf along each leaf's batch dim. */
  private static Object catChunks(List<Object> parts, java.util.function.IntFunction<Integer> dimOfLeaf) {
    List<List<Tensor>> byPart = new ArrayList<>();
    for (Object p : parts) byPart.add(Pytree.leaves(p));
    List<Tensor> joined = new ArrayList<>();
    for (int k = 0; k < byPart.get(0).size(); k++) {
      List<Tensor> pieces = new ArrayList<>();
      for (List<Tensor> l : byPart) pieces.add(l.get(k));
      joined.add(Tensor.cat(pieces, dimOfLeaf.apply(k)));
    }
    return Pytree.unflatten(parts.get(0), joined);
  }

  private static Object[] zeros(int n) {
    Object[] z = new Object[n];
    Arrays.fill(z, 0);
    return z;
  }

  // ------------------------------------------------------------------ Jacobians

  /** The function with the argnums arguments replaced by the given values. */
  private static FnN restrict(FnN f, int[] idx, Object[] args) {
    return ps -> {
      Object[] a = args.clone();
      for (int j = 0; j < idx.length; j++) a[idx[j]] = ps[j];
      return f.apply(a);
    };
  }

  private static Object[] select(Object[] args, int[] idx) {
    Object[] r = new Object[idx.length];
    for (int j = 0; j < idx.length; j++) r[j] = args[idx[j]];
    return r;
  }

  private static long numel(List<Tensor> ts) {
    long n = 0;
    for (Tensor t : ts) n += t.numel();
    return n;
  }

  /** The dtype of the first of ts (float32 if none); throws unless all are floating. what (index >= 0: "what index") names them. */
  private static void floatingDType(String name, Tensor t, String what) {
    if (!t.dtype().isFloatingPoint()) floatingDType(name, List.of(t), what, -1);
  }

  private static DType floatingDType(String name, List<Tensor> ts, String what, int index) {
    for (Tensor t : ts)
      if (!t.dtype().isFloatingPoint())
        throw new DTypeMismatchException(name, name + ": " + what + (index >= 0 ? " " + index : "") + " of dtype " + t.dtype().displayName() + " " + Arrays.toString(t.shape())
            + " has no derivative (floating point only)");
    return ts.isEmpty() ? DType.FLOAT32 : ts.get(0).dtype();
  }

  /**
   * vmap of {@code f} over the rows of the n x n identity (in chunks if asked), results batched
   * in dim 0. The rows stay structured in the core (one-hot), so no identity is materialised.
   */
  private static Object vmapBasis(FnN f, long n, DType dt, Integer chunk, Randomness r) {
    if (chunk == null || n <= chunk) return vmapBasisRows(f, n, 0, n, dt, r);
    if (r == Randomness.SAME) return vmapBasisRows(f, n, 0, n, dt, r);  // one sample for the whole batch
    try (Scope scope = Scope.open()) {
      List<Object> parts = new ArrayList<>();
      for (long start = 0; start < n; start += chunk) parts.add(vmapBasisRows(f, n, start, Math.min(chunk, n - start), dt, r));
      return scope.keep(catChunks(parts, k -> 0));
    }
  }

  private static Object vmapBasisRows(FnN f, long n, long start, long count, DType dt, Randomness r) {
    long lv = begin(VMAP, count, r);
    boolean open = true;
    try (Scope scope = Scope.open()) {
      Tensor rows = Tensor.wrap(NativeCore.adj_vmap_basis(lv, n, start, dt.code));
      Object out = f.apply(rows);
      Object result = Pytree.map(out, y -> Tensor.wrap(NativeCore.adj_vmap_unwrap(lv, y.h(), 0)));
      open = false;
      close(lv);
      return scope.keep(result);
    } finally {
      if (open) close(lv);
    }
  }

  /** Rows [off, off+n) of dim 0 of t (which has `total` rows) reshaped to `shape`; skips no-op views. */
  private static Tensor part(Tensor t, long off, long n, long total, long[] shape) {
    Tensor s = off == 0 && n == total ? t : t.slice(0, off, off + n);
    return Arrays.equals(s.shape(), shape) ? s : s.reshape(shape);
  }

  private static long[] concat(long[] a, long[] b, int bFrom) {
    long[] r = new long[a.length + b.length - bFrom];
    System.arraycopy(a, 0, r, 0, a.length);
    System.arraycopy(b, bFrom, r, a.length, b.length - bFrom);
    return r;
  }

  static Object jacrev(String name, FnN f, Argnums an, Object[] args) {
    int[] idx = an.resolve(name, args.length);
    try (Scope scope = Scope.open()) {
      VjpResult v = vjp(name, restrict(f, idx, args), select(args, idx), an.hasAux);
      return scope.keep(jacrevFrom(name, v, an));
    }
  }

  /**
   * Reverse mode: the vjp's backward pass vmapped over the rows of the identity of the output
   * space, run by the core in one call (adj_jacrev_backward); here only the pytrees are rebuilt.
   */
  private static Object jacrevFrom(String name, VjpResult v, Argnums an) {
    Object out = v.outputTree();
    List<Tensor> outs = Pytree.leaves(out);
    floatingDType(name, outs, "output", -1);
    List<Tensor> ins = v.inLeaves;
    List<Object> perOut = new ArrayList<>();
    if (ins.isEmpty()) {
      for (Tensor y : outs) perOut.add(an.multiple ? List.copyOf(Arrays.asList(v.primals)) : v.primals[0]);
    } else if (outs.size() == 1 && ins.size() == 1 && v.primals.length == 1) {  // no arrays to pass
      Tensor jac = Tensor.wrap(NativeCore.adj_jacrev_backward1(v.level, v.outLeaves.get(0).h(), ins.get(0).h(),
          an.chunkSize == null ? 0 : an.chunkSize));
      Object perArg = Pytree.unflatten(v.primals[0], List.of(jac));
      perOut.add(an.multiple ? List.of(perArg) : perArg);
    } else {
      long[] o = new long[outs.size()], x = new long[ins.size()], j = new long[outs.size() * ins.size()];
      for (int k = 0; k < o.length; k++) o[k] = v.outLeaves.get(k).h();
      for (int k = 0; k < x.length; k++) x[k] = ins.get(k).h();
      Errors.check(NativeCore.adj_jacrev_backward(v.level, o, o.length, x, x.length, an.chunkSize == null ? 0 : an.chunkSize, j));
      List<Tensor> jac = new ArrayList<>(j.length);
      for (long h : j) jac.add(Tensor.wrap(h));
      for (int k = 0; k < outs.size(); k++) {
        List<Object> perArg = new ArrayList<>();
        int at = k * ins.size();
        for (Object p : v.primals) {
          int n = Pytree.leaves(p).size();
          perArg.add(Pytree.unflatten(p, jac.subList(at, at + n)));
          at += n;
        }
        perOut.add(an.multiple ? List.copyOf(perArg) : perArg.get(0));
      }
    }
    Object jacTree = Pytree.unflatten(out, perOut);
    return an.hasAux ? List.of(jacTree, v.aux()) : jacTree;
  }

  /** Forward mode: one vectorised jvp over the rows of the identity of the input space. */
  static Object jacfwd(String name, FnN f, Argnums an, Object[] args) {
    int[] idx = an.resolve(name, args.length);
    Object[] primals = select(args, idx);
    List<Tensor> ins = Pytree.leaves(List.of(primals));
    DType dt = floatingDType(name, ins, "input", -1);
    long total = numel(ins);
    FnN g = restrict(f, idx, args);
    try (Scope scope = Scope.open()) {
      FnN push = rows -> {
        Tensor row = (Tensor) rows[0];
        long[] off = {0};
        List<Object> tangents = new ArrayList<>();
        for (Object p : primals)
          tangents.add(Pytree.map(p, x -> {
            Tensor t = part(row, off[0], x.numel(), total, x.shape());
            off[0] += x.numel();
            return t.dtype() == x.dtype() ? t : t.to(x.dtype());
          }));
        JvpResult r = jvp(name, g, Arrays.asList(primals), tangents, an.hasAux);
        return an.hasAux ? List.of(r.tangentTree(), r.aux()) : r.tangentTree();
      };
      Object res = vmapBasis(push, total, dt, an.chunkSize, an.randomness);
      Object tangents = an.hasAux ? ((List<?>) res).get(0) : res;
      Object jac = Pytree.map(tangents, t -> {
        // t: [M, S...] -> per argnum, per input leaf x: [S..., T...]
        int sRank = t.ndim() - 1;
        List<Object> perArg = new ArrayList<>();
        long o = 0;
        for (Object p : primals) {
          long[] start = {o};
          perArg.add(Pytree.map(p, x -> {
            long n = x.numel();
            Tensor part = part(t, start[0], n, total, concat(x.shape(), t.shape(), 1));
            start[0] += n;
            int tRank = x.ndim();
            int[] perm = new int[tRank + sRank];
            for (int i = 0; i < sRank; i++) perm[i] = tRank + i;
            for (int i = 0; i < tRank; i++) perm[sRank + i] = i;
            return part.permute(perm);
          }));
          o += Pytree.leaves(p).stream().mapToLong(Tensor::numel).sum();
        }
        return an.multiple ? List.copyOf(perArg) : perArg.get(0);
      });
      Object result = jac;
      if (an.hasAux) result = List.of(jac, Pytree.map(((List<?>) res).get(1), a -> a.select(0, 0)));
      return scope.keep(result);
    }
  }

  /**
   * Reverse mode when the output has at most as many elements as the inputs (a wide or square
   * Jacobian: N pullbacks), forward mode otherwise (a tall one: M pushforwards). The forward pass
   * of the vjp tells N; in reverse mode it is reused, so the choice costs nothing extra then.
   */
  static Object jacobian(String name, FnN f, Argnums an, Object[] args) {
    int[] idx = an.resolve(name, args.length);
    long inputs = numel(Pytree.leaves(List.of(select(args, idx))));
    try (Scope scope = Scope.open()) {
      VjpResult v = vjp(name, restrict(f, idx, args), select(args, idx), an.hasAux);
      long outputs = numel(Pytree.leaves(v.outputTree()));
      if (outputs <= inputs) return scope.keep(jacrevFrom(name, v, an));
      return scope.keep(jacfwd(name, f, an, args));
    }
  }
}
