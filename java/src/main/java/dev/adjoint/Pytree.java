package dev.adjoint;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Pytrees: a {@link Tensor} is a leaf; {@link List}s, {@link Map}s and arrays are nodes whose
 * children are pytrees; anything else (numbers, strings, null) is a constant leaf that transforms
 * leave alone. Transforms flatten arguments and results into their tensors and rebuild the same
 * structure (maps keep their iteration order; rebuilt maps are {@link LinkedHashMap}s, lists are
 * unmodifiable).
 */
public final class Pytree {
  private Pytree() {}

  /** The tensors of {@code tree} in depth-first order. */
  public static List<Tensor> leaves(Object tree) {
    List<Tensor> out = new ArrayList<>();
    collect(tree, out);
    return out;
  }

  private static void collect(Object t, List<Tensor> out) {
    if (t instanceof Tensor x) out.add(x);
    else if (t instanceof List<?> l) for (Object o : l) collect(o, out);
    else if (t instanceof Map<?, ?> m) for (Object o : m.values()) collect(o, out);
    else if (t instanceof Object[] a) for (Object o : a) collect(o, out);
  }

  /** {@code tree} with every tensor replaced by {@code f(tensor)}. */
  public static Object map(Object tree, java.util.function.Function<Tensor, Object> f) {
    return mapWithPath(tree, "", (path, x) -> f.apply(x));
  }

  /** Like {@link #map}, also passing a path such as {@code [0]["w1"]} for messages. */
  static Object mapWithPath(Object t, String path, BiFunction<String, Tensor, Object> f) {
    if (t instanceof Tensor x) return f.apply(path, x);
    if (t instanceof List<?> l) {
      List<Object> r = new ArrayList<>(l.size());
      for (int i = 0; i < l.size(); i++) r.add(mapWithPath(l.get(i), path + "[" + i + "]", f));
      return Collections.unmodifiableList(r);
    }
    if (t instanceof Map<?, ?> m) {
      Map<Object, Object> r = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) r.put(e.getKey(), mapWithPath(e.getValue(), path + "[\"" + e.getKey() + "\"]", f));
      return Collections.unmodifiableMap(r);
    }
    if (t instanceof Object[] a) {
      Object[] r = new Object[a.length];
      for (int i = 0; i < a.length; i++) r[i] = mapWithPath(a[i], path + "[" + i + "]", f);
      return r;
    }
    return t;
  }

  /** Rebuilds {@code structure} with its tensors replaced, in order, by {@code leaves}. */
  public static Object unflatten(Object structure, List<?> leaves) {
    int[] next = {0};
    Object r = map(structure, x -> leaves.get(next[0]++));
    if (next[0] != leaves.size())
      throw new AdjointArgumentException("pytree", "pytree: " + leaves.size() + " leaves for a structure with " + next[0] + " tensors");
    return r;
  }

  /**
   * The tensors of {@code tree} in the order of {@code structure}'s tensors, checking that
   * {@code tree} has the same structure: lists and arrays of the same length, maps with the same
   * keys (paired by key, whatever their iteration order), a tensor wherever {@code structure} has
   * one; a non-tensor leaf of {@code structure} accepts anything that holds no tensor.
   */
  static List<Tensor> leavesLike(String op, String what, Object tree, String structureWhat, Object structure) {
    List<Tensor> out = new ArrayList<>();
    zipLike(op, what, tree, structureWhat, structure, "", out);
    return out;
  }

  private static void zipLike(String op, String what, Object t, String sw, Object s, String path, List<Tensor> out) {
    boolean ok;
    if (s instanceof Tensor) {
      ok = t instanceof Tensor;
      if (ok) out.add((Tensor) t);
    } else if (s instanceof List<?> ls) {
      ok = t instanceof List<?> lt && lt.size() == ls.size();
      if (ok) for (int i = 0; i < ls.size(); i++) zipLike(op, what, ((List<?>) t).get(i), sw, ls.get(i), path + "[" + i + "]", out);
    } else if (s instanceof Object[] as) {
      ok = t instanceof Object[] at && at.length == as.length;
      if (ok) for (int i = 0; i < as.length; i++) zipLike(op, what, ((Object[]) t)[i], sw, as[i], path + "[" + i + "]", out);
    } else if (s instanceof Map<?, ?> ms) {
      ok = t instanceof Map<?, ?> mt && mt.keySet().equals(ms.keySet());
      if (ok)
        for (Map.Entry<?, ?> e : ms.entrySet())
          zipLike(op, what, ((Map<?, ?>) t).get(e.getKey()), sw, e.getValue(), path + "[\"" + e.getKey() + "\"]", out);
    } else {
      ok = leaves(t).isEmpty();
    }
    if (!ok)
      throw new AdjointArgumentException(op, op + ": " + what + path + " (" + describe(t) + ") does not match the structure of " + sw + path
          + " (" + describe(s) + ")");
  }

  /** broadcastSpec for argument {@code index} (what "[index]", path "[index]"): the strings are built only for nested specs. */
  static List<Object> broadcastSpec(String op, String what, int index, Object spec, Object tree) {
    boolean flat = spec == null || spec instanceof Integer;  // zipSpec names nothing then
    return broadcastSpec(op, flat ? what : what + "[" + index + "]", spec, tree, flat ? "" : "[" + index + "]");
  }

  /**
   * Zips a pytree of per-leaf specs (e.g. vmap's in_dims) against {@code tree}: a single spec
   * (an Integer or null) applies to every tensor below it; a List/Map/array spec must match the
   * tree's structure. Returns one spec per tensor of {@code tree}, in order.
   */
  static List<Object> broadcastSpec(String op, String what, Object spec, Object tree, String path) {
    List<Object> out = new ArrayList<>();
    zipSpec(op, what, spec, tree, path, out);
    return out;
  }

  private static void zipSpec(String op, String what, Object spec, Object t, String path, List<Object> out) {
    if (spec == null || spec instanceof Integer) {
      for (int i = leaves(t).size(); i > 0; i--) out.add(spec);
      return;
    }
    if (t instanceof List<?> l && spec instanceof List<?> s && s.size() == l.size()) {
      for (int i = 0; i < l.size(); i++) zipSpec(op, what, s.get(i), l.get(i), path + "[" + i + "]", out);
    } else if (t instanceof Object[] a && spec instanceof Object[] s && s.length == a.length) {
      for (int i = 0; i < a.length; i++) zipSpec(op, what, s[i], a[i], path + "[" + i + "]", out);
    } else if (t instanceof Map<?, ?> m && spec instanceof Map<?, ?> s && s.keySet().equals(m.keySet())) {
      for (Map.Entry<?, ?> e : m.entrySet()) zipSpec(op, what, s.get(e.getKey()), e.getValue(), path + "[\"" + e.getKey() + "\"]", out);
    } else {
      throw new AdjointArgumentException(op, op + ": " + what + " " + describe(spec) + " does not match the structure of argument" + path
          + " (" + describe(t) + ")");
    }
  }

  static String describe(Object t) {
    if (t == null) return "null";
    if (t instanceof Tensor x) return x.isClosed() ? "closed tensor" : "tensor " + java.util.Arrays.toString(x.shape());
    if (t instanceof List<?> l) return "list of " + l.size();
    if (t instanceof Map<?, ?> m) return "map with keys " + m.keySet();
    if (t instanceof Object[] a) return "array of " + a.length;
    return t.getClass().getSimpleName() + " " + t;
  }

  static Tensor expectTensor(Object o, String what) {
    if (o instanceof Tensor t) return t;
    throw new AdjointArgumentException("function", "function: " + what + " must be a Tensor, got " + describe(o));
  }
}
