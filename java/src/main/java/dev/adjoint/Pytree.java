package dev.adjoint;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Pytrees: a {@link Tensor} is a leaf; {@link List}s, {@link Map}s and arrays are nodes whose
 * children are pytrees; anything else (numbers, strings, null) is a constant leaf that transforms
 * leave alone. Transforms flatten arguments and results into their tensors and rebuild the same
 * structure (maps keep their iteration order; rebuilt maps are {@link LinkedHashMap}s, lists are
 * unmodifiable).
 *
 * <p>A pytree must not contain itself: a list, map or array that is its own descendant is
 * rejected with an {@link AdjointArgumentException} naming the container's class and where it
 * recurs. The same container may appear more than once as long as it is not its own descendant.
 *
 * <p>NOTE: every walk here is iterative (an explicit stack of the containers being visited, on
 * the heap), so a deep structure cannot overflow the thread's stack; the containers on the stack
 * are the current path, which is what the cycle check looks at (by identity).
 */
public final class Pytree {
  private Pytree() {}

  /** The tensors of {@code tree} in depth-first order. */
  public static List<Tensor> leaves(Object tree) {
    return leaves("pytree", "tree", tree);
  }

  /** {@code tree} with every tensor replaced by {@code f(tensor)}. */
  public static Object map(Object tree, Function<Tensor, Object> f) {
    return map("pytree", "tree", tree, f);
  }

  /** Rebuilds {@code structure} with its tensors replaced, in order, by {@code leaves}. */
  public static Object unflatten(Object structure, List<?> leaves) {
    int[] next = {0};
    Object r = map("pytree", "structure", structure, x -> next[0] < leaves.size() ? leaves.get(next[0]++) : tooFew(leaves.size()));
    if (next[0] != leaves.size())
      throw new AdjointArgumentException("pytree", "pytree: " + leaves.size() + " leaves for a structure with " + next[0] + " tensors");
    return r;
  }

  private static Object tooFew(int n) {
    throw new AdjointArgumentException("pytree", "pytree: " + n + " leaves for a structure with more tensors");
  }

  /** {@link #leaves(Object)}; {@code op} and {@code what} name the tree in errors (a cycle). */
  static List<Tensor> leaves(String op, String what, Object tree) {
    List<Tensor> out = new ArrayList<>();
    if (tree instanceof Tensor t) {  // the common case, without a walk
      out.add(t);
      return out;
    }
    walk(op, what, tree, false, (w, v, s) -> {
      if (v instanceof Tensor t) out.add(t);
      return null;
    });
    return out;
  }

  /** {@link #map(Object, Function)}; {@code op} and {@code what} name the tree in errors. */
  static Object map(String op, String what, Object tree, Function<Tensor, Object> f) {
    if (tree instanceof Tensor t) return f.apply(t);
    return walk(op, what, tree, true, (w, v, s) -> v instanceof Tensor t ? f.apply(t) : v);
  }

  /**
   * The leaves of a function's result where only tensors are allowed (a transform's output): every
   * leaf must be an open tensor. Throws naming {@code op}, {@code what} and the path of the first
   * leaf that is null, not a tensor, or closed.
   */
  static List<Tensor> tensorLeaves(String op, String what, Object tree) {
    List<Tensor> out = new ArrayList<>();
    if (tree instanceof Tensor t && !t.isClosed()) {
      out.add(t);
      return out;
    }
    walk(op, what, tree, false, (w, v, s) -> {
      if (!(v instanceof Tensor t) || t.isClosed())
        throw new AdjointArgumentException(op, op + ": " + what + w.path() + " is " + (v instanceof Tensor ? "a closed tensor" : describe(v))
            + "; the function must return tensors (a tensor, or lists, maps and arrays of tensors), each open");
      out.add(t);
      return null;
    });
    return out;
  }

  /**
   * The tensors of {@code tree} in the order of {@code structure}'s tensors, checking that
   * {@code tree} has the same structure: lists and arrays of the same length, maps with the same
   * keys (paired by key, whatever their iteration order), a tensor wherever {@code structure} has
   * one; a non-tensor leaf of {@code structure} accepts anything that holds no tensor.
   */
  static List<Tensor> leavesLike(String op, String what, Object tree, String structureWhat, Object structure) {
    List<Tensor> out = new ArrayList<>();
    walkPaired(op, structureWhat, structure, tree, false, new Visit() {
      @Override
      public Object leaf(Walk w, Object s, Object t) {
        boolean ok = s instanceof Tensor ? t instanceof Tensor : !(t instanceof Tensor) && (!isNode(t) || leaves(op, what + w.path(), t).isEmpty());
        if (!ok) throw mismatch(w, s, t);
        if (t instanceof Tensor x) out.add(x);
        return null;
      }

      @Override
      public RuntimeException mismatch(Walk w, Object s, Object t) {
        String p = w.path();
        return new AdjointArgumentException(op, op + ": " + what + p + " (" + describe(t) + ") does not match the structure of "
            + structureWhat + p + " (" + describe(s) + ")");
      }
    });
    return out;
  }

  /** broadcastSpec for argument {@code index} (what "[index]", path "[index]"): the strings are built only for nested specs. */
  static List<Object> broadcastSpec(String op, String what, int index, Object spec, Object tree) {
    boolean flat = spec == null || spec instanceof Integer;  // nothing is named then
    return broadcastSpec(op, flat ? what : what + "[" + index + "]", spec, tree, flat ? "" : "[" + index + "]");
  }

  /**
   * Zips a pytree of per-leaf specs (e.g. vmap's in_dims) against {@code tree}: a single spec
   * (an Integer or null) applies to every tensor below it; a List/Map/array spec must match the
   * tree's structure. Returns one spec per tensor of {@code tree}, in order.
   */
  static List<Object> broadcastSpec(String op, String what, Object spec, Object tree, String path) {
    List<Object> out = new ArrayList<>();
    walkPaired(op, what, spec, tree, true, new Visit() {  // one spec per tensor in the tree's order
      @Override
      public Object leaf(Walk w, Object s, Object t) {
        if (!(s == null || s instanceof Integer)) throw mismatch(w, s, t);
        int n = t instanceof Tensor ? 1 : isNode(t) ? leaves(op, "argument" + path + w.path(), t).size() : 0;
        for (int i = n; i > 0; i--) out.add(s);
        return null;
      }

      @Override
      public RuntimeException mismatch(Walk w, Object s, Object t) {
        return new AdjointArgumentException(op, op + ": " + what + " " + describe(s) + " does not match the structure of argument" + path
            + w.path() + " (" + describe(t) + ")");
      }
    });
    return out;
  }

  /** The path (e.g. {@code [1]["w"]}) of the k-th tensor of {@code tree} in depth-first order, for messages. */
  static String pathOfLeaf(Object tree, int k) {
    String[] found = {""};
    int[] n = {0};
    walk("pytree", "tree", tree, false, (w, v, s) -> {
      if (v instanceof Tensor && n[0]++ == k) found[0] = w.path();
      return null;
    });
    return found[0];
  }

  static String describe(Object t) {
    if (t == null) return "null";
    if (t instanceof Tensor x) return x.isClosed() ? "closed tensor" : "tensor " + Arrays.toString(x.shape());
    if (t instanceof List<?> l) return "list of " + l.size();
    if (t instanceof Map<?, ?> m) return "map with keys " + m.keySet();
    if (t instanceof Object[] a) return "array of " + a.length;
    return t.getClass().getSimpleName() + " " + t;
  }

  static Tensor expectTensor(Object o, String what) {
    if (o instanceof Tensor t) return t;
    throw new AdjointArgumentException("function", "function: " + what + " must be a Tensor, got " + describe(o));
  }

  // ------------------------------------------------------------------ the walk

  private static boolean isNode(Object o) {
    return o instanceof List<?> || o instanceof Map<?, ?> || o instanceof Object[];
  }

  /** What a walk does: {@code value} is a leaf of the walked tree, {@code paired} the paired tree's value there. */
  private interface Visit {
    Object leaf(Walk w, Object value, Object paired);

    /** The paired tree has no container like {@code node} at the walk's current place. */
    default RuntimeException mismatch(Walk w, Object node, Object paired) {
      throw new IllegalStateException("unpaired walk");
    }
  }

  /** A container being walked: its children (and a map's keys) in order, the paired tree's children, the rebuilt ones. */
  private static final class Node {
    final Object container;
    final Object[] keys, kids, paired, built;
    int next;

    Node(Object container, Object[] keys, Object[] kids, Object[] paired, boolean rebuild) {
      this.container = container;
      this.keys = keys;
      this.kids = kids;
      this.paired = paired;
      this.built = rebuild ? new Object[kids.length] : null;
    }

    Object build() {
      if (container instanceof Object[] a) return sameArrayType(a, built);
      if (container instanceof List<?>) return Collections.unmodifiableList(Arrays.asList(built));
      Map<Object, Object> m = new LinkedHashMap<>();
      for (int i = 0; i < keys.length; i++) m.put(keys[i], built[i]);
      return Collections.unmodifiableMap(m);
    }

    /** {@code built} as an array of {@code like}'s type (a Tensor[] rebuilt is a Tensor[]) when its elements fit. */
    private static Object[] sameArrayType(Object[] like, Object[] built) {
      Class<?> c = like.getClass().getComponentType();
      if (c == Object.class) return built;
      for (Object o : built) if (o != null && !c.isInstance(o)) return built;
      return Arrays.copyOf(built, built.length, like.getClass());
    }

    String segment(int i) {
      return keys == null ? "[" + i + "]" : "[\"" + keys[i] + "\"]";
    }
  }

  /** The stack of containers from the root to the current place. */
  private static final class Walk {
    // NOTE: the containers on the stack are exactly the current path, so a container met again
    // while on it is its own descendant (a cycle); one met again elsewhere is merely shared. A
    // linear scan answers for shallow paths; deeper ones use an identity map kept alongside.
    private static final int SCAN_DEPTH = 32;
    final String op, what;
    final boolean pairedOrder;  // a map's entries in the paired map's order (else in its own)
    Node[] stack = new Node[8];
    int depth;
    IdentityHashMap<Object, Integer> onPath;

    Walk(String op, String what, boolean pairedOrder) {
      this.op = op;
      this.what = what;
      this.pairedOrder = pairedOrder;
    }

    Node top() {
      return stack[depth - 1];
    }

    void push(Object c, Object pairedWith, boolean paired, boolean rebuild, Visit v) {
      int seen = -1;
      if (onPath == null && depth >= SCAN_DEPTH) {
        onPath = new IdentityHashMap<>();
        for (int i = 0; i < depth; i++) onPath.put(stack[i].container, i);
      }
      if (onPath != null) {
        Integer i = onPath.get(c);
        if (i != null) seen = i;
      } else {
        for (int i = 0; i < depth && seen < 0; i++) if (stack[i].container == c) seen = i;
      }
      if (seen >= 0)
        throw new AdjointArgumentException(op, op + ": " + what + " is a cyclic pytree: the " + c.getClass().getTypeName() + " at " + what
            + pathTo(seen) + " contains itself at " + what + pathTo(depth));
      Object[] keys = null, kids, pk = null;
      if (c instanceof List<?> l) {
        kids = l.toArray();
        if (paired) {
          if (!(pairedWith instanceof List<?> pl) || pl.size() != kids.length) throw v.mismatch(this, c, pairedWith);
          pk = pl.toArray();
        }
      } else if (c instanceof Object[] a) {
        kids = a;
        if (paired) {
          if (!(pairedWith instanceof Object[] pa) || pa.length != a.length) throw v.mismatch(this, c, pairedWith);
          pk = pa;
        }
      } else {
        Map<?, ?> m = (Map<?, ?>) c;
        Map<?, ?> pm = null;
        if (paired) {
          if (!(pairedWith instanceof Map<?, ?> x) || !x.keySet().equals(m.keySet())) throw v.mismatch(this, c, pairedWith);
          pm = x;
        }
        keys = (pairedOrder ? pm : m).keySet().toArray();
        kids = new Object[keys.length];
        if (paired) pk = new Object[keys.length];
        for (int j = 0; j < keys.length; j++) {  // paired by key, not by order
          kids[j] = m.get(keys[j]);
          if (paired) pk[j] = pm.get(keys[j]);
        }
      }
      if (depth == stack.length) stack = Arrays.copyOf(stack, depth * 2);
      stack[depth++] = new Node(c, keys, kids, pk, rebuild);
      if (onPath != null) onPath.put(c, depth - 1);
    }

    void pop() {
      Node n = stack[--depth];
      stack[depth] = null;
      if (onPath != null) onPath.remove(n.container);
    }

    /** The path of the current element (the child last taken from each container on the stack). */
    String path() {
      return pathTo(depth);
    }

    /** The path from the root to the container at stack depth d (d == depth: the current element). */
    String pathTo(int d) {
      StringBuilder b = new StringBuilder();
      // A very deep path is shortened to its ends.
      for (int i = 0; i < d; i++) {
        if (d > 24 && i == 8) {
          b.append("...(").append(d - 16).append(" levels)...");
          i = d - 8;
        }
        Node n = stack[i];
        b.append(n.segment(n.next - 1));
      }
      return b.toString();
    }
  }

  /**
   * Walks {@code tree} depth first, without recursion, calling {@code v} at every leaf (anything
   * but a list, map or array); with {@code rebuild} returns the tree rebuilt from what {@code v}
   * returned. With {@code paired}, {@code pairedTree} is walked alongside and must have the same
   * containers ({@code v.mismatch} otherwise); {@code v} gets its value at each leaf.
   */
  private static Object walk(String op, String what, Object tree, Object pairedTree, boolean paired, boolean pairedOrder, boolean rebuild,
      Visit v) {
    Walk w = new Walk(op, what, pairedOrder);
    if (!isNode(tree)) return v.leaf(w, tree, pairedTree);
    w.push(tree, pairedTree, paired, rebuild, v);
    while (true) {
      Node n = w.top();
      if (n.next < n.kids.length) {
        int i = n.next++;
        Object c = n.kids[i], p = paired ? n.paired[i] : null;
        if (isNode(c)) {
          w.push(c, p, paired, rebuild, v);
        } else {
          Object r = v.leaf(w, c, p);
          if (rebuild) n.built[i] = r;
        }
      } else {
        Object built = rebuild ? n.build() : null;
        w.pop();
        if (w.depth == 0) return built;
        Node parent = w.top();
        if (rebuild) parent.built[parent.next - 1] = built;
      }
    }
  }

  /** An unpaired walk. */
  private static Object walk(String op, String what, Object tree, boolean rebuild, Visit v) {
    return walk(op, what, tree, null, false, false, rebuild, v);
  }

  /**
   * A walk of {@code tree} with {@code pairedTree} alongside (which may be null, and then
   * mismatches); maps in {@code pairedTree}'s order with {@code pairedOrder}, else in tree's.
   */
  private static void walkPaired(String op, String what, Object tree, Object pairedTree, boolean pairedOrder, Visit v) {
    walk(op, what, tree, pairedTree, true, pairedOrder, false, v);
  }
}
