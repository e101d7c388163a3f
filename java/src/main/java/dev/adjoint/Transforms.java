package dev.adjoint;

import dev.adjoint.internal.Errors;
import dev.adjoint.internal.NativeCore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The mechanics behind {@link Func}: pytree plumbing around the native levels. All tracing,
 * rules and batching happen in the core; this class only wraps inputs, calls the user's function,
 * and unwraps outputs.
 *
 * <p>NOTE: every transform opens a {@link Scope} around the user's function and keeps only its
 * results (tensor by tensor: see keepEach), so intermediate tracers
 * are released when the transform returns; and holds its native level as a {@link TransformLevel}
 * in the same try-with-resources statement, which ends it on every path (its NOTE), so an
 * exception leaves the level stack as it found it and is the one thrown. The user's function may
 * return anything: outputs are checked (tensors only, open, floating point where differentiated)
 * before the native unwrap sees them, and errors name the transform and the place in the tree.
 */
final class Transforms {
  private Transforms() {}

  // ------------------------------------------------------------------ checks of inputs and outputs

  /**
   * The tensors of input "{@code kind index}" (a pytree), each of which must be open and floating
   * point. The name is built only for a message (and a walk): one tensor costs no string.
   */
  private static List<Tensor> floatingInputs(String name, String kind, int index, Object tree) {
    List<Tensor> ls;
    if (tree instanceof Tensor t) {
      ls = new ArrayList<>(1);
      ls.add(t);
    } else {
      ls = Pytree.leaves(name, kind + " " + index, tree);
    }
    for (int k = 0; k < ls.size(); k++) floatingInput(name, kind, index, tree, ls.get(k), k);
    return ls;
  }

  /** Throws unless x, leaf k of input "{@code kind index}", is open and floating point: only those can be differentiated. */
  private static void floatingInput(String name, String kind, int index, Object tree, Tensor x, int k) {
    if (!x.isClosed() && x.dtype().isFloatingPoint()) return;
    String what = kind + " " + index;
    String at = tree instanceof Tensor ? what : what + Pytree.pathOfLeaf(tree, k);
    if (x.isClosed()) throw new IllegalStateException(name + ": " + at + " is a closed tensor");
    throw new DTypeMismatchException(name, name + ": " + at + " has dtype " + x.dtype().displayName() + " (shape "
        + Arrays.toString(x.shape()) + "): only floating-point inputs can be differentiated");
  }

  /**
   * The tensors of the function's output {@code out}: a tensor or a pytree whose every leaf is an
   * open tensor (torch.func accepts tensors only, too). Throws naming the transform and the place.
   */
  private static List<Tensor> outputs(String name, Object out) {
    if (out == null)
      throw new AdjointArgumentException(name, name + ": the function returned null instead of a tensor (or a list, map or array of tensors)");
    return Pytree.tensorLeaves(name, "output", out);
  }

  /**
   * Throws unless every output is floating point: integer and bool outputs have no derivative.
   * NOTE: every transform refuses them alike (torch.func's vjp and jacrev refuse them; its grad
   * returns zeros and its jvp/jacfwd integer zeros, which this library does not copy).
   */
  private static void floatingOutputs(String name, List<Tensor> outs, Object tree) {
    for (int k = 0; k < outs.size(); k++) {
      Tensor y = outs.get(k);
      if (!y.dtype().isFloatingPoint()) throw nonFloatingOutput(name, y, k, tree instanceof Tensor ? "" : Pytree.pathOfLeaf(tree, k));
    }
  }

  private static DTypeMismatchException nonFloatingOutput(String name, Tensor y, int k, String path) {
    return new DTypeMismatchException(name, name + ": output " + k + (path.isEmpty() ? "" : " (output" + path + ")") + " has dtype "
        + y.dtype().displayName() + " (shape " + Arrays.toString(y.shape()) + "): only floating-point outputs can be differentiated"
        + " (return other values as aux)");
  }

  /** The traced inputs must outlive the function: the backward pass starts from them. */
  private static void inputsOpen(String name, List<Tensor> traced) {
    for (int i = 0; i < traced.size(); i++)
      if (traced.get(i).isClosed())
        throw new IllegalStateException(name + ": the function closed its traced input (the tensor it was called with);"
            + " inputs must stay open until the transform returns");
  }

  /** {@code tree} rebuilt with {@code leaves}; a single tensor without a walk. */
  private static Object rebuild(Object tree, List<?> leaves) {
    return tree instanceof Tensor ? leaves.get(0) : Pytree.unflatten(tree, leaves);
  }

  /** aux with its tensors mapped by fn; closed ones are named. Other leaves pass through. */
  private static Object mapAux(String name, Object aux, java.util.function.Function<Tensor, Object> fn) {
    List<Tensor> ts = Pytree.leavesLenient(name, "aux", aux);
    for (Tensor t : ts)
      if (t.isClosed()) throw new AdjointArgumentException(name, name + ": aux" + Pytree.pathOfLeaf(aux, ts.indexOf(t))
          + " is a closed tensor");
    return Pytree.mapLenient(name, "aux", aux, fn);
  }

  /** A two-element list that may hold null (List.of may not: aux can be null). */
  private static List<Object> pair(Object a, Object b) {
    return Collections.unmodifiableList(Arrays.asList(a, b));
  }

  /**
   * Moves the tensors of {@code tree} out of {@code scope} and returns the tree. Flat: Scope.keep
   * would recurse into a deeply nested tree.
   */
  private static <T> T keepTree(Scope scope, T tree) {
    if (tree instanceof Tensor t) scope.keep(t);
    else keepEach(scope, Pytree.leavesLenient("pytree", "tree", tree));  // a checked result, or aux
    return tree;
  }

  /**
   * Moves each tensor of a flat list out of {@code scope}. NOTE: not Scope.keep(list), which walks
   * its argument as a tree with a stack and an identity set: two such walks were a sixth of a
   * one-tensor vjp's cost (a W1 row).
   */
  private static void keepEach(Scope scope, List<Tensor> ts) {
    for (int i = 0; i < ts.size(); i++) scope.keep(ts.get(i));
  }

  // ------------------------------------------------------------------ grad / vjp

  static Object grad(String name, FnN f, Argnums an, Object[] args, boolean withValue) {
    int[] idx = an.resolve(name, args.length);
    List<List<Tensor>> leaves = new ArrayList<>(idx.length);
    for (int i : idx) {
      if (args[i] == null) throw new AdjointArgumentException(name, name + ": argument " + i + " is null instead of a tensor");
      leaves.add(floatingInputs(name, "argument", i, args[i]));
    }
    try (Scope scope = Scope.open(); TransformLevel lv = TransformLevel.begin(TransformLevel.GRAD, 0, Randomness.ERROR)) {
      Object[] wrapped = args.clone();
      List<Tensor> all = new ArrayList<>();
      for (int j = 0; j < idx.length; j++) {
        List<Tensor> mine = wrapGrad(lv, leaves.get(j));
        all.addAll(mine);
        wrapped[idx[j]] = rebuild(args[idx[j]], mine);
      }
      Object out = f.apply(wrapped);
      Object aux = null;
      if (an.hasAux) {
        Object[] p = splitAux(name, out);
        out = p[0];
        aux = p[1];
      }
      Tensor y = scalarOutput(name, out);
      inputsOpen(name, all);
      // One call ends the level, runs backward from ones (null cotangents) and, when nothing is
      // unwrapped afterwards (the value, aux), releases the level handle.
      List<Tensor> g = backward(lv, !(withValue || an.hasAux), List.of(y), null, all);
      keepEach(scope, g);
      List<Object> perArg = new ArrayList<>();
      int k = 0;
      for (int j = 0; j < idx.length; j++) {
        perArg.add(rebuild(args[idx[j]], g.subList(k, k + leaves.get(j).size())));
        k += leaves.get(j).size();
      }
      Object grads = an.multiple ? List.copyOf(perArg) : perArg.get(0);
      Object value = withValue ? scope.keep(lv.unwrapGrad(y)) : null;
      Object auxOut = an.hasAux ? keepTree(scope, mapAux(name, aux, lv::unwrapGrad)) : null;
      lv.close();
      if (withValue) return pair(grads, an.hasAux ? pair(value, auxOut) : value);
      return an.hasAux ? pair(grads, auxOut) : grads;
    }
  }

  /** grad's output: an open, floating-point, 0-d tensor. */
  private static Tensor scalarOutput(String name, Object out) {
    if (out instanceof Tensor y && !y.isClosed()) {
      if (y.ndim() != 0)
        throw new ShapeMismatchException(name, name + ": the function must return a scalar (0-d) tensor, got " + Pytree.describe(out)
            + "; use vjp or jacrev for non-scalar outputs");
      if (!y.dtype().isFloatingPoint()) throw nonFloatingOutput(name, y, 0, "");
      return y;
    }
    if (out == null) throw new AdjointArgumentException(name, name + ": the function returned null instead of a scalar (0-d) tensor");
    if (out instanceof Tensor) throw new AdjointArgumentException(name, name + ": the function returned a closed tensor");
    throw new ShapeMismatchException(name, name + ": the function must return a scalar (0-d) tensor, got " + Pytree.describe(out)
        + "; use vjp or jacrev for non-scalar outputs");
  }

  /** The tensors xs traced by grad level lv; each tracer takes its input's cached shape and dtype. */
  private static List<Tensor> wrapGrad(TransformLevel lv, List<Tensor> xs) {
    long l = lv.handle();
    List<Tensor> r = new ArrayList<>(xs.size());
    for (Tensor x : xs) r.add(Tensor.wrap(NativeCore.adj_grad_wrap(l, x.h()), x).sameMetaAs(x));
    return r;
  }

  /**
   * grad's backward pass from ones: ends the level in the same native call (and releases its handle
   * when {@code release}), whatever happens to the call.
   */
  private static List<Tensor> backward(TransformLevel lv, boolean release, List<Tensor> outs, List<Tensor> cots, List<Tensor> ins) {
    int flags = NativeCore.ADJ_BACKWARD_END | (release ? NativeCore.ADJ_BACKWARD_RELEASE : 0);
    if (outs.size() == 1 && ins.size() == 1) {
      long y = outs.get(0).h(), c = cots == null ? 0 : cots.get(0).h(), x = ins.get(0).h();
      return List.of(Tensor.wrap(NativeCore.adj_grad_backward1(lv.ending(release), y, c, x, flags)));
    }
    long[][] a = backwardArrays(outs, cots, ins);
    return backwardResults(NativeCore.adj_grad_backward_ex(lv.ending(release), a[0], a[1], a[0].length, a[2], a[2].length, a[3], flags), a[3]);
  }

  /** A pullback's backward pass at an ended level ({@code level}: its handle, or 0 for the level of the first input). */
  private static List<Tensor> backward(long level, List<Tensor> outs, List<Tensor> cots, List<Tensor> ins) {
    if (outs.size() == 1 && ins.size() == 1)
      return List.of(Tensor.wrap(NativeCore.adj_grad_backward1(level, outs.get(0).h(), cots.get(0).h(), ins.get(0).h(), 0)));
    long[][] a = backwardArrays(outs, cots, ins);
    return backwardResults(NativeCore.adj_grad_backward_ex(level, a[0], a[1], a[0].length, a[2], a[2].length, a[3], 0), a[3]);
  }

  /** The handles of outputs, cotangents (0: ones) and inputs, and room for the gradients. */
  private static long[][] backwardArrays(List<Tensor> outs, List<Tensor> cots, List<Tensor> ins) {
    long[] o = new long[outs.size()], c = new long[outs.size()], x = new long[ins.size()], g = new long[ins.size()];
    for (int i = 0; i < o.length; i++) {
      o[i] = outs.get(i).h();
      c[i] = cots == null ? 0 : cots.get(i).h();
    }
    for (int i = 0; i < x.length; i++) x[i] = ins.get(i).h();
    return new long[][] {o, c, x, g};
  }

  private static List<Tensor> backwardResults(int status, long[] g) {
    Errors.check(status);
    List<Tensor> r = new ArrayList<>(g.length);
    for (long h : g) r.add(Tensor.wrap(h));
    return r;
  }

  private static Object[] splitAux(String name, Object out) {
    if (out instanceof List<?> l && l.size() == 2) return new Object[] {l.get(0), l.get(1)};
    if (out instanceof Object[] a && a.length == 2) return new Object[] {a[0], a[1]};
    throw new AdjointArgumentException(name, name + ": with hasAux the function must return List.of(output, aux), got " + Pytree.describe(out));
  }

  /**
   * The vjp: {@code f}'s output at the primals (pytrees) and what its pullback needs. Primal j is
   * named "argument argIndex[j]" in errors when argIndex is given (jacrev's argnums), else "primal j".
   *
   * <p>NOTE: one path for every vjp. The native calls differ only inside {@link TransformLevel}:
   * the vjp of one tensor (a Jacobian computed row by row calls this once per row) begins its level
   * and wraps its input in one call, without a level handle, and a single output is unwrapped and
   * the level closed in one call (which for that level also checks the output's dtype, saving the
   * query here). jacrev and jacobian (argIndex given) take a handle: their backward calls need one.
   */
  static VjpResult vjp(String name, FnN f, Object[] primals, boolean hasAux, int[] argIndex) {
    String kind = argIndex == null ? "primal" : "argument";
    boolean oneTensor = argIndex == null && primals.length == 1 && primals[0] instanceof Tensor;
    List<List<Tensor>> inTrees = oneTensor ? null : new ArrayList<>(primals.length);
    for (int j = 0; j < primals.length; j++) {
      int index = argIndex == null ? j : argIndex[j];
      if (primals[j] == null) throw new AdjointArgumentException(name, name + ": " + kind + " " + index + " is null instead of a tensor");
      if (oneTensor) floatingInput(name, kind, index, primals[j], (Tensor) primals[j], 0);
      else inTrees.add(floatingInputs(name, kind, index, primals[j]));
    }
    try (Scope scope = Scope.open();
        TransformLevel lv = oneTensor ? TransformLevel.vjpOf((Tensor) primals[0]) : TransformLevel.begin(TransformLevel.GRAD, 0, Randomness.ERROR)) {
      List<Tensor> traced;
      Object out;
      if (oneTensor) {
        Tensor t = lv.tracedInput();
        traced = List.of(t);
        out = f instanceof Fn1 g ? g.apply(t) : f.apply(t);  // a typed function without its pytree adapter
      } else {
        traced = new ArrayList<>();
        Object[] wrapped = new Object[primals.length];
        for (int j = 0; j < primals.length; j++) {
          List<Tensor> mine = wrapGrad(lv, inTrees.get(j));
          traced.addAll(mine);
          wrapped[j] = rebuild(primals[j], mine);
        }
        out = f.apply(wrapped);
      }
      Object aux = null;
      if (hasAux) {
        Object[] pair = splitAux(name, out);
        out = pair[0];
        aux = pair[1];
      }
      if (out instanceof Tensor y && y.isClosed()) throw new AdjointArgumentException(name, name + ": the function returned a closed tensor");
      boolean oneOut = out instanceof Tensor;
      List<Tensor> outLeaves = oneOut ? List.of((Tensor) out) : outputs(name, out);
      if (outLeaves.isEmpty()) throw new AdjointArgumentException(name, name + ": the function returned no tensor (" + Pytree.describe(out) + ")");
      boolean unwrapClose = oneOut && !hasAux;  // the output unwrapped and the level closed in one call
      if (!(unwrapClose && lv.checksOutputDType())) floatingOutputs(name, outLeaves, out);
      inputsOpen(name, traced);
      // Unwrapping reads the primals only; the level may still be on the stack.
      // NOTE: the traced inputs the pullback owns hold the native level alive; our handle's
      // reference can go with the end. A pullback without traced inputs never touches the level.
      Object primalOut, auxOut = null;
      if (unwrapClose) {
        primalOut = scope.keep(lv.unwrapClose((Tensor) out));
      } else {
        List<Tensor> ys = new ArrayList<>(outLeaves.size());
        for (Tensor t : outLeaves) ys.add(lv.unwrapGrad(t));
        primalOut = rebuild(out, ys);
        auxOut = hasAux ? mapAux(name, aux, lv::unwrapGrad) : null;
        lv.close();
        keepEach(scope, ys);
        keepTree(scope, auxOut);
      }
      // The pullback owns the traced inputs and outputs (they hold the tape).
      keepEach(scope, traced);
      keepEach(scope, outLeaves);
      return new VjpResult(primalOut, out, auxOut, lv.handleIfAny(), outLeaves, traced, primals);
    }
  }

  /** The pullback of a vjp result: given the output's cotangent, one cotangent per primal. */
  static Object pullback(VjpResult v, Object[] cts) {
    FnN.checkArity("vjp pullback", cts, 1);
    if (cts[0] instanceof Tensor ct && v.singleTensors)  // the cotangent is the result's one tensor
      return List.of(pullback1(v, ct));
    List<Tensor> ctLeaves = Pytree.leavesLike("vjp", "the cotangent", cts[0], "the output", v.outStructure);
    try (Scope s = Scope.open()) {
      List<Tensor> g = v.inLeaves.isEmpty() ? List.of() : backward(v.level, v.outLeaves, ctLeaves, v.inLeaves);
      keepEach(s, g);
      List<Object> perPrimal = new ArrayList<>();
      int k = 0;
      for (Object p : v.primals) {
        int n = p instanceof Tensor ? 1 : Pytree.leaves(p).size();
        perPrimal.add(rebuild(p, g.subList(k, k + n)));
        k += n;
      }
      return List.copyOf(perPrimal);
    }
  }

  /** The pullback of a one-tensor-to-one-tensor vjp result ({@link VjpResult#singleTensors}). */
  static Tensor pullback1(VjpResult v, Tensor ct) {
    Tensor y = v.outLeaves.get(0), x = v.inLeaves.get(0);
    return Tensor.wrap(NativeCore.adj_grad_backward1(v.level, y.h(), ct.h(), x.h(), 0), y, ct, x);
  }

  // ------------------------------------------------------------------ jvp

  /**
   * A tangent or cotangent {@code t} must have {@code ref}'s shape and dtype; the error names both
   * ({@code what} and {@code refWhat}, each followed by {@code index} unless it is negative). The
   * names are joined only on failure: jvp calls this per leaf.
   */
  static void checkFits(String name, Tensor t, String what, Tensor ref, String refWhat, int index) {
    if (!Arrays.equals(ref.shape(), t.shape()))
      throw new ShapeMismatchException(name, name + ": " + named(what, index) + " has shape " + Arrays.toString(t.shape()) + " but "
          + named(refWhat, index) + " has shape " + Arrays.toString(ref.shape()));
    if (ref.dtype() != t.dtype())
      throw new DTypeMismatchException(name, name + ": " + named(what, index) + " has dtype " + t.dtype().displayName() + " but "
          + named(refWhat, index) + " has dtype " + ref.dtype().displayName());
  }

  private static String named(String what, int index) {
    return index < 0 ? what : what + " " + index;
  }

  static JvpResult jvp(String name, FnN f, List<?> primals, List<?> tangents, boolean hasAux) {
    if (primals == null || tangents == null)
      throw new AdjointArgumentException(name, name + ": the " + (primals == null ? "primals" : "tangents") + " list is null");
    if (primals.size() != tangents.size())
      throw new AdjointArgumentException(name, name + ": " + primals.size() + " primals but " + tangents.size() + " tangents");
    List<List<Tensor>> ps = new ArrayList<>(), tans = new ArrayList<>();
    for (int i = 0; i < primals.size(); i++) {
      if (primals.get(i) == null) throw new AdjointArgumentException(name, name + ": primal " + i + " is null instead of a tensor");
      List<Tensor> p = floatingInputs(name, "primal", i, primals.get(i));
      // NOTE: paired by structure (maps by key), not by flattening order: a tangent map built in
      // another key order must not silently meet the wrong primals.
      List<Tensor> t = primals.get(i) instanceof Tensor && tangents.get(i) instanceof Tensor tt ? List.of(tt)
          : Pytree.leavesLike(name, "tangent " + i, tangents.get(i), "primal " + i, primals.get(i));
      for (int k = 0; k < p.size(); k++) {
        if (t.get(k).isClosed()) throw new IllegalStateException(name + ": tangent " + i + " is a closed tensor");
        checkFits(name, t.get(k), "tangent", p.get(k), "primal", i);
      }
      ps.add(p);
      tans.add(t);
    }
    try (Scope scope = Scope.open(); TransformLevel level = TransformLevel.begin(TransformLevel.JVP, 0, Randomness.ERROR)) {
      long lv = level.handle();
      Object[] wrapped = new Object[primals.size()];
      for (int i = 0; i < wrapped.length; i++) {
        List<Tensor> p = ps.get(i), t = tans.get(i);
        if (primals.get(i) instanceof Tensor) {  // no list to rebuild from
          wrapped[i] = Tensor.wrap(NativeCore.adj_jvp_wrap(lv, p.get(0).h(), t.get(0).h())).sameMetaAs(p.get(0));
          continue;
        }
        List<Tensor> mine = new ArrayList<>(p.size());
        for (int k = 0; k < p.size(); k++) mine.add(Tensor.wrap(NativeCore.adj_jvp_wrap(lv, p.get(k).h(), t.get(k).h())).sameMetaAs(p.get(k)));
        wrapped[i] = Pytree.unflatten(primals.get(i), mine);
      }
      Object out = f.apply(wrapped);
      Object aux = null;
      if (hasAux) {
        Object[] pair = splitAux(name, out);
        out = pair[0];
        aux = pair[1];
      }
      List<Tensor> outs = outputs(name, out);
      if (outs.isEmpty()) throw new AdjointArgumentException(name, name + ": the function returned no tensor (" + Pytree.describe(out) + ")");
      floatingOutputs(name, outs, out);
      List<Tensor> primalsOut = new ArrayList<>(outs.size()), tangentsOut = new ArrayList<>(outs.size());
      for (Tensor y : outs) {
        long[] pt = new long[2];
        Errors.check(NativeCore.adj_jvp_unwrap(lv, y.h(), pt));
        primalsOut.add(Tensor.wrap(pt[0]));
        tangentsOut.add(Tensor.wrap(pt[1]));
      }
      Object auxOut = hasAux ? mapAux(name, aux, x -> {
        long[] pt = new long[2];
        Errors.check(NativeCore.adj_jvp_unwrap(lv, x.h(), pt));
        NativeCore.adj_release(pt[1]);
        return Tensor.wrap(pt[0]);
      }) : null;
      level.close();
      keepEach(scope, primalsOut);
      keepEach(scope, tangentsOut);
      keepTree(scope, auxOut);
      return new JvpResult(rebuild(out, primalsOut), rebuild(out, tangentsOut), auxOut);
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
    List<List<Tensor>> leaves = new ArrayList<>();
    long batch = -1;
    int firstArg = -1, firstDim = 0;  // the first mapped leaf: named only in the error message
    Tensor firstX = null;
    for (int i = 0; i < args.length; i++) {
      List<Tensor> ls = Pytree.leaves("vmap", "argument " + i, args[i]);
      List<Object> sp = Pytree.broadcastSpec("vmap", "inDims", i, inDims[i], args[i]);
      for (int k = 0; k < ls.size(); k++) {
        if (sp.get(k) == null) continue;
        Tensor x = ls.get(k);
        if (x.isClosed()) throw new IllegalStateException("vmap: argument " + i + " holds a closed tensor");
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
      leaves.add(ls);
    }
    if (batch < 0)
      throw new AdjointArgumentException("vmap", "vmap: no argument is mapped (every inDims entry is null or the arguments hold no tensors)");
    // NOTE: randomness=SAME shares one sample across the whole batch; chunks are separate vmaps that
    // would each draw their own, so SAME runs in one vectorised call (chunkSize only bounds memory).
    if (o.chunkSize != null && batch > o.chunkSize && o.randomness != Randomness.SAME) return vmapChunked(f, o, args, specs, leaves, batch);
    try (Scope scope = Scope.open(); TransformLevel level = TransformLevel.begin(TransformLevel.VMAP, batch, o.randomness)) {
      long lv = level.handle();
      Object[] wrapped = new Object[args.length];
      for (int i = 0; i < args.length; i++) {
        List<Object> sp = specs.get(i);
        List<Tensor> ls = leaves.get(i), mine = new ArrayList<>(ls.size());
        for (int k = 0; k < ls.size(); k++) {
          Tensor x = ls.get(k);
          Object d = sp.get(k);
          mine.add(d == null ? x : Tensor.wrap(NativeCore.adj_vmap_wrap(lv, x.h(), (Integer) d)).sameDTypeAs(x));
        }
        wrapped[i] = rebuild(args[i], mine);
      }
      Object out = f.apply(wrapped);
      List<Tensor> outs = outputs("vmap", out);
      List<Object> outSpec = Pytree.broadcastSpec("vmap", "outDims", o.outDims, out, "");
      for (Object d : outSpec)
        if (d == null) throw new AdjointArgumentException("vmap", "vmap: outDims must give a dim for every output, got null");
      List<Tensor> results = new ArrayList<>(outs.size());
      for (int k = 0; k < outs.size(); k++) results.add(Tensor.wrap(NativeCore.adj_vmap_unwrap(lv, outs.get(k).h(), (Integer) outSpec.get(k))));
      level.close();
      keepEach(scope, results);
      return rebuild(out, results);
    }
  }

  /** vmap in chunks of o.chunkSize examples, concatenating the outputs along their out dims. */
  private static Object vmapChunked(FnN f, VmapOptions o, Object[] args, List<List<Object>> specs, List<List<Tensor>> leaves, long batch) {
    try (Scope scope = Scope.open()) {
      VmapOptions whole = VmapOptions.inDims(o.inDims == null ? zeros(args.length) : o.inDims).outDims(o.outDims).randomness(o.randomness);
      List<Object> parts = new ArrayList<>();
      for (long start = 0; start < batch; start += o.chunkSize) {
        long s0 = start, e0 = Math.min(batch, start + o.chunkSize);
        Object[] chunk = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
          List<Object> sp = specs.get(i);
          List<Tensor> ls = leaves.get(i), mine = new ArrayList<>(ls.size());
          for (int k = 0; k < ls.size(); k++) mine.add(sp.get(k) == null ? ls.get(k) : ls.get(k).slice((Integer) sp.get(k), s0, e0));
          chunk[i] = Pytree.unflatten(args[i], mine);
        }
        parts.add(vmap(f, whole, chunk));
      }
      List<Object> outSpec = Pytree.broadcastSpec("vmap", "outDims", o.outDims, parts.get(0), "");
      return keepTree(scope, catChunks(parts, k -> (Integer) outSpec.get(k)));
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

  /**
   * vmap of {@code f} over the rows of the n x n identity (in chunks if asked), results batched
   * in dim 0. The rows stay structured in the core (one-hot), so no identity is materialised.
   */
  private static Object vmapBasis(String name, FnN f, long n, DType dt, Integer chunk, Randomness r) {
    if (chunk == null || n <= chunk) return vmapBasisRows(name, f, n, 0, n, dt, r);
    if (r == Randomness.SAME) return vmapBasisRows(name, f, n, 0, n, dt, r);  // one sample for the whole batch
    try (Scope scope = Scope.open()) {
      List<Object> parts = new ArrayList<>();
      for (long start = 0; start < n; start += chunk) parts.add(vmapBasisRows(name, f, n, start, Math.min(chunk, n - start), dt, r));
      return keepTree(scope, catChunks(parts, k -> 0));
    }
  }

  private static Object vmapBasisRows(String name, FnN f, long n, long start, long count, DType dt, Randomness r) {
    try (Scope scope = Scope.open(); TransformLevel level = TransformLevel.begin(TransformLevel.VMAP, count, r)) {
      long lv = level.handle();
      Tensor rows = Tensor.wrap(NativeCore.adj_vmap_basis(lv, n, start, dt.code));
      Object out = f.apply(rows);
      List<Tensor> outs = outputs(name, out);
      List<Tensor> results = new ArrayList<>(outs.size());
      for (Tensor y : outs) results.add(Tensor.wrap(NativeCore.adj_vmap_unwrap(lv, y.h(), 0)));
      level.close();
      keepEach(scope, results);
      return Pytree.unflatten(out, results);
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
      VjpResult v = vjp(name, restrict(f, idx, args), select(args, idx), an.hasAux, idx);
      return keepTree(scope, jacrevFrom(name, v, an));
    }
  }

  /**
   * Reverse mode: the vjp's backward pass vmapped over the rows of the identity of the output
   * space, run by the core in one call (adj_jacrev_backward); here only the pytrees are rebuilt.
   * The vjp has checked the outputs (tensors, floating point).
   */
  private static Object jacrevFrom(String name, VjpResult v, Argnums an) {
    Object out = v.outputTree();
    List<Tensor> outs = v.outStructure instanceof Tensor ? List.of((Tensor) out) : Pytree.leaves(out);
    List<Tensor> ins = v.inLeaves;
    List<Object> perOut = new ArrayList<>();
    long chunk = an.chunkSize == null ? 0 : an.chunkSize;
    if (ins.isEmpty()) {
      for (Tensor y : outs) perOut.add(an.multiple ? List.copyOf(Arrays.asList(v.primals)) : v.primals[0]);
    } else if (outs.size() == 1 && ins.size() == 1 && v.primals.length == 1) {  // no arrays to pass
      long h = NativeCore.adj_jacrev_backward1(v.level, v.outLeaves.get(0).h(), ins.get(0).h(), chunk);
      Tensor jac = h != 0 ? Tensor.wrap(h) : emptyJacobians(outs, ins, Errors.last()).get(0);
      Object perArg = Pytree.unflatten(v.primals[0], List.of(jac));
      perOut.add(an.multiple ? List.of(perArg) : perArg);
    } else {
      long[] o = new long[outs.size()], x = new long[ins.size()], j = new long[outs.size() * ins.size()];
      for (int k = 0; k < o.length; k++) o[k] = v.outLeaves.get(k).h();
      for (int k = 0; k < x.length; k++) x[k] = ins.get(k).h();
      List<Tensor> jac;
      if (NativeCore.adj_jacrev_backward(v.level, o, o.length, x, x.length, chunk, j) >= 0) {
        jac = new ArrayList<>(j.length);
        for (long h : j) jac.add(Tensor.wrap(h));
      } else {
        jac = emptyJacobians(outs, ins, Errors.last());
      }
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
    return an.hasAux ? pair(jacTree, v.aux()) : jacTree;
  }

  /**
   * The Jacobians of outputs that hold no element at all (each {@code [out_k..., in_j...]}, in
   * the input's dtype as the backward pass gives them), output-major; rethrows {@code failure},
   * the native error, when some output has elements. NOTE: the core's reverse-mode Jacobian
   * cannot do zero rows (it joins its row chunks, of which there are none); torch.func returns
   * empty Jacobians then, and so do we, without asking the core.
   */
  private static List<Tensor> emptyJacobians(List<Tensor> outs, List<Tensor> ins, RuntimeException failure) {
    if (numel(outs) != 0) throw failure;
    List<Tensor> r = new ArrayList<>(outs.size() * ins.size());
    for (Tensor y : outs)
      for (Tensor x : ins) r.add(Tensor.zeros(x.dtype(), concat(y.shape(), x.shape(), 0)));
    return r;
  }

  /** Forward mode: one vectorised jvp over the rows of the identity of the input space. */
  static Object jacfwd(String name, FnN f, Argnums an, Object[] args) {
    int[] idx = an.resolve(name, args.length);
    Object[] primals = select(args, idx);
    List<Tensor> ins = new ArrayList<>();
    for (int j = 0; j < idx.length; j++) ins.addAll(floatingInputs(name, "argument", idx[j], primals[j]));
    DType dt = ins.isEmpty() ? DType.FLOAT32 : ins.get(0).dtype();
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
        if (an.hasAux) Pytree.tensorLeaves(name, "aux", r.aux());  // batched over the basis: tensors only
        return an.hasAux ? pair(r.tangentTree(), r.aux()) : r.tangentTree();
      };
      Object res = vmapBasis(name, push, total, dt, an.chunkSize, an.randomness);
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
      if (an.hasAux) result = pair(jac, Pytree.map(((List<?>) res).get(1), a -> a.select(0, 0)));
      return keepTree(scope, result);
    }
  }

  /**
   * Reverse mode when the output has at most as many elements as the inputs (a wide or square
   * Jacobian: N pullbacks), forward mode otherwise (a tall one: M pushforwards). The forward pass
   * of the vjp tells N; in reverse mode it is reused, so the choice costs nothing extra then.
   */
  static Object jacobian(String name, FnN f, Argnums an, Object[] args) {
    int[] idx = an.resolve(name, args.length);
    try (Scope scope = Scope.open()) {
      VjpResult v = vjp(name, restrict(f, idx, args), select(args, idx), an.hasAux, idx);
      long inputs = numel(v.inLeaves);
      long outputs = numel(Pytree.leaves(v.outputTree()));
      if (outputs <= inputs) return keepTree(scope, jacrevFrom(name, v, an));
      return keepTree(scope, jacfwd(name, f, an, args));
    }
  }
}
