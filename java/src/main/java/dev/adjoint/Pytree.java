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
 * Pytrees: a {@link Tensor} is a leaf; {@link List}s, {@link Map}s, arrays, Java records and
 * classes registered with {@link #register} are nodes whose children are pytrees; anything else
 * (numbers, strings, null, ...) is a constant leaf that transforms leave alone. Transforms flatten
 * arguments and results into their tensors and rebuild the same structure (maps keep their
 * iteration order; rebuilt maps are {@link LinkedHashMap}s, lists are unmodifiable).
 *
 * <p>A record's children are its components in declaration order (read through its accessors),
 * and it is rebuilt through its canonical constructor; components that are no tensors pass through
 * unchanged, like JAX's static fields:
 *
 * <pre>{@code
 * record Params(Tensor w, Tensor b, String activation) {}
 * Params p = new Params(Tensor.randn(3, 4), Tensor.zeros(3), "tanh");
 * List<Tensor> ts = Pytree.leaves(p);                                   // [w, b]
 * Params q = (Params) Pytree.map(p, t -> t.mul(2.0));                   // activation kept
 * }</pre>
 *
 * <p>When a rebuilt child no longer fits its component's declared type (a Jacobian of a record
 * valued output holds a pytree where the record declares a Tensor, as in a {@code hessian} of a
 * function of a record), the record is rebuilt as a {@link Map} from component name to child, in
 * declaration order; a registered class whose unflatten function throws a ClassCastException then
 * is rebuilt as the {@link List} of its children.
 *
 * <p>Any other object that holds tensors (in a field, or in a collection in a field, found by
 * reflection a few levels deep) is refused where a transform takes its arguments and results
 * apart, with an {@link AdjointArgumentException} that names its class and where it was found,
 * e.g. {@code grad: argument 0.model is a com.example.Model holding tensors (a tensor at .w); make
 * it a record or register its class with Pytree.register}: its tensors would otherwise be taken
 * for constants. Aux values may hold anything.
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

  /**
   * Makes instances of {@code type} (exactly that class) pytree nodes, like JAX's
   * {@code jax.tree_util.register_pytree_node}: {@code flatten} gives a node's children in order
   * (tensors, other pytrees, or constants that pass through, such as configuration values), and
   * {@code unflatten} builds a node from children in that order. For instance:
   *
   * <pre>{@code
   * final class Layer {
   *   final Tensor w, b;
   *   final String name;
   *   Layer(Tensor w, Tensor b, String name) { this.w = w; this.b = b; this.name = name; }
   * }
   * Pytree.register(Layer.class, l -> List.of(l.w, l.b, l.name),
   *     kids -> new Layer((Tensor) kids.get(0), (Tensor) kids.get(1), (String) kids.get(2)));
   * }</pre>
   *
   * @throws AdjointArgumentException if the class is registered already, or is a record, list,
   *     map, array, tensor or interface (those are pytrees, leaves, or have no instances)
   */
  public static <T> void register(Class<T> type, Function<? super T, ? extends List<?>> flatten,
      Function<? super List<Object>, ? extends T> unflatten) {
    PytreeNodes.register(type, flatten, unflatten);
  }

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

  /**
   * {@link #leaves(Object)}; {@code op} and {@code what} name the tree in errors (a cycle, an
   * object that hides tensors).
   */
  static List<Tensor> leaves(String op, String what, Object tree) {
    return leaves(op, what, tree, true);
  }

  /** The tensors of an aux value or of a checked tree: objects that hide tensors are left alone (aux values may hold anything). */
  static List<Tensor> leavesLenient(String op, String what, Object tree) {
    return leaves(op, what, tree, false);
  }

  private static List<Tensor> leaves(String op, String what, Object tree, boolean strict) {
    List<Tensor> out = new ArrayList<>();
    if (tree instanceof Tensor t) {  // the common case, without a walk
      out.add(t);
      return out;
    }
    walk(op, what, tree, null, false, false, false, strict, (w, v, s) -> {
      if (v instanceof Tensor t) out.add(t);
      return null;
    });
    return out;
  }

  /** {@link #map(Object, Function)}; {@code op} and {@code what} name the tree in errors. */
  static Object map(String op, String what, Object tree, Function<Tensor, Object> f) {
    if (tree instanceof Tensor t) return f.apply(t);
    return walk(op, what, tree, null, false, false, true, true, (w, v, s) -> v instanceof Tensor t ? f.apply(t) : v);
  }

  /** {@link #map(String, String, Object, Function)} of an aux value: objects that hide tensors are left alone. */
  static Object mapLenient(String op, String what, Object tree, Function<Tensor, Object> f) {
    if (tree instanceof Tensor t) return f.apply(t);
    return walk(op, what, tree, null, false, false, true, false, (w, v, s) -> v instanceof Tensor t ? f.apply(t) : v);
  }

  /**
   * The leaves of a function's result where only tensors are allowed (a transform's output): every
   * leaf must be an open tensor, except the components of records and registered classes that are
   * no tensors (static values, which pass through). Throws naming {@code op}, {@code what} and the
   * path of the first leaf that is null, not a tensor, or closed.
   */
  static List<Tensor> tensorLeaves(String op, String what, Object tree) {
    List<Tensor> out = new ArrayList<>();
    if (tree instanceof Tensor t && !t.isClosed()) {
      out.add(t);
      return out;
    }
    walk(op, what, tree, null, false, false, false, true, (w, v, s) -> {
      if (v instanceof Tensor t && !t.isClosed()) {
        out.add(t);
        return null;
      }
      if (!(v instanceof Tensor) && w.depth > 0 && w.top().hasFields()) return null;  // a record's static component
      throw new AdjointArgumentException(op, op + ": " + what + w.path() + " is " + (v instanceof Tensor ? "a closed tensor" : describe(v))
          + "; the function must return tensors (a tensor, or lists, maps, arrays and records of tensors), each open");
    });
    return out;
  }

  /**
   * The tensors of {@code tree} in the order of {@code structure}'s tensors, checking that
   * {@code tree} has the same structure: lists and arrays of the same length, maps with the same
   * keys (paired by key, whatever their iteration order), records and registered nodes of the same
   * class, a tensor wherever {@code structure} has one; a non-tensor leaf of {@code structure}
   * accepts anything that holds no tensor.
   */
  static List<Tensor> leavesLike(String op, String what, Object tree, String structureWhat, Object structure) {
    List<Tensor> out = new ArrayList<>();
    walk(op, structureWhat, structure, tree, true, false, false, true, new Visit() {
      @Override
      public Object leaf(Walk w, Object s, Object t) {
        boolean ok = s instanceof Tensor ? t instanceof Tensor : !(t instanceof Tensor) && holdsNoTensor(op, what + w.path(), t);
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

  /** True if {@code t} holds no tensor; a tensor hidden in another object is refused, naming {@code at}. */
  private static boolean holdsNoTensor(String op, String at, Object t) {
    PytreeNodes.Kind k = PytreeNodes.kindOf(t);
    if (PytreeNodes.isNode(k)) return leaves(op, at, t).isEmpty();
    if (PytreeNodes.mayHoldTensors(k)) refuseHidden(op, at, t);
    return true;
  }

  /** broadcastSpec for argument {@code index} (what "[index]", path "[index]"): the strings are built only for nested specs. */
  static List<Object> broadcastSpec(String op, String what, int index, Object spec, Object tree) {
    boolean flat = spec == null || spec instanceof Integer;  // nothing is named then
    return broadcastSpec(op, flat ? what : what + "[" + index + "]", spec, tree, flat ? "" : "[" + index + "]");
  }

  /**
   * Zips a pytree of per-leaf specs (e.g. vmap's in_dims) against {@code tree}: a single spec
   * (an Integer or null) applies to every tensor below it; a List/Map/array spec must match the
   * tree's structure (a List or array matches a record's components or a registered node's
   * children, in order). Returns one spec per tensor of {@code tree}, in order.
   */
  static List<Object> broadcastSpec(String op, String what, Object spec, Object tree, String path) {
    List<Object> out = new ArrayList<>();
    Visit visit = new Visit() {  // one spec per tensor in the tree's order
      @Override
      public Object leaf(Walk w, Object s, Object t) {
        if (!(s == null || s instanceof Integer)) throw mismatch(w, s, t);
        int n = t instanceof Tensor ? 1 : PytreeNodes.isNode(PytreeNodes.kindOf(t)) ? leaves(op, "argument" + path + w.path(), t).size() : 0;
        for (int i = n; i > 0; i--) out.add(s);
        return null;
      }

      @Override
      public RuntimeException mismatch(Walk w, Object s, Object t) {
        return new AdjointArgumentException(op, op + ": " + what + " " + describe(s) + " does not match the structure of argument" + path
            + w.path() + " (" + describe(t) + ")");
      }
    };
    Walk w = new Walk(op, what, true, true);
    w.specs = true;
    walk(w, spec, tree, true, false, visit);
    return out;
  }

  /** The path (e.g. {@code [1]["w"]}) of the k-th tensor of {@code tree} in depth-first order, for messages. */
  static String pathOfLeaf(Object tree, int k) {
    String[] found = {""};
    int[] n = {0};
    walk("pytree", "tree", tree, null, false, false, false, false, (w, v, s) -> {
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
    if (t instanceof Record) return "record " + t.getClass().getName();
    if (PytreeNodes.kindOf(t) == PytreeNodes.Kind.REGISTERED) return t.getClass().getName() + " (a registered pytree node)";
    return t.getClass().getSimpleName() + " " + t;
  }

  static Tensor expectTensor(Object o, String what) {
    if (o instanceof Tensor t) return t;
    throw new AdjointArgumentException("function", "function: " + what + " must be a Tensor, got " + describe(o));
  }

  /** Refuses {@code v}, found at {@code at}, when it holds tensors without being a pytree node. */
  private static void refuseHidden(String op, String at, Object v) {
    String inner = PytreeNodes.tensorPath(v);
    if (inner == null) return;
    String fix = v instanceof java.util.Collection<?> || v instanceof java.util.Optional<?>
        ? "pytrees hold tensors in lists, maps, arrays, records and registered classes"
        : "make it a record or register its class with Pytree.register";
    throw new AdjointArgumentException(op, op + ": " + at + " is a " + v.getClass().getName() + " holding tensors (a tensor at "
        + (inner.isEmpty() ? "itself" : inner) + "); " + fix);
  }

  // ------------------------------------------------------------------ the walk

  /** What a walk does: {@code value} is a leaf of the walked tree, {@code paired} the paired tree's value there. */
  private interface Visit {
    Object leaf(Walk w, Object value, Object paired);

    /** The paired tree has no container like {@code node} at the walk's current place. */
    default RuntimeException mismatch(Walk w, Object node, Object paired) {
      throw new IllegalStateException("unpaired walk");
    }
  }

  /** A container being walked: its children (and a map's keys, a record's component names) in order, the paired tree's children, the rebuilt ones. */
  private static final class Node {
    final Object container;
    final PytreeNodes.Kind kind;
    final Object[] keys, kids, paired, built;
    int next;

    Node(Object container, PytreeNodes.Kind kind, Object[] keys, Object[] kids, Object[] paired, boolean rebuild) {
      this.container = container;
      this.kind = kind;
      this.keys = keys;
      this.kids = kids;
      this.paired = paired;
      this.built = rebuild ? new Object[kids.length] : null;
    }

    /** A record or a registered node: its non-tensor children are static values. */
    boolean hasFields() {
      return kind == PytreeNodes.Kind.RECORD || kind == PytreeNodes.Kind.REGISTERED;
    }

    Object build() {
      switch (kind) {
        case ARRAY: return sameArrayType((Object[]) container, built);
        case LIST: return Collections.unmodifiableList(Arrays.asList(built));
        case MAP: {
          Map<Object, Object> m = new LinkedHashMap<>();
          for (int i = 0; i < keys.length; i++) m.put(keys[i], built[i]);
          return Collections.unmodifiableMap(m);
        }
        default: return PytreeNodes.rebuild(container, kind, built);
      }
    }

    /** {@code built} as an array of {@code like}'s type (a Tensor[] rebuilt is a Tensor[]) when its elements fit. */
    private static Object[] sameArrayType(Object[] like, Object[] built) {
      Class<?> c = like.getClass().getComponentType();
      if (c == Object.class) return built;
      for (Object o : built) if (o != null && !c.isInstance(o)) return built;
      return Arrays.copyOf(built, built.length, like.getClass());
    }

    String segment(int i) {
      if (kind == PytreeNodes.Kind.MAP) return "[\"" + keys[i] + "\"]";
      if (kind == PytreeNodes.Kind.RECORD) return "." + keys[i];
      return "[" + i + "]";
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
    final boolean strict;  // leaves that hide tensors in other objects are refused
    boolean specs;  // the walked tree is a spec (inDims): its lists and arrays may pair with records and registered nodes
    Node[] stack = new Node[8];
    int depth;
    IdentityHashMap<Object, Integer> onPath;

    Walk(String op, String what, boolean pairedOrder, boolean strict) {
      this.op = op;
      this.what = what;
      this.pairedOrder = pairedOrder;
      this.strict = strict;
    }

    Node top() {
      return stack[depth - 1];
    }

    void push(Object c, PytreeNodes.Kind kind, Object pairedWith, boolean paired, boolean rebuild, Visit v) {
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
      switch (kind) {
        case LIST:
        case ARRAY: {
          kids = c instanceof List<?> l ? l.toArray() : (Object[]) c;
          if (paired) {
            if (kind == PytreeNodes.Kind.LIST ? pairedWith instanceof List<?> : pairedWith instanceof Object[]) {
              pk = pairedWith instanceof List<?> pl ? pl.toArray() : (Object[]) pairedWith;
            } else if (specs && pairedWith != null && hasChildren(PytreeNodes.kindOf(pairedWith))) {
              pk = PytreeNodes.children(pairedWith, PytreeNodes.kindOf(pairedWith));
            }
            if (pk == null || pk.length != kids.length) throw v.mismatch(this, c, pairedWith);
          }
          break;
        }
        case MAP: {
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
          break;
        }
        default: {  // a record or a registered node: the paired tree has one of the same class there
          kids = PytreeNodes.children(c, kind);
          keys = PytreeNodes.names(c, kind);
          if (paired) {
            if (pairedWith == null || pairedWith.getClass() != c.getClass()) throw v.mismatch(this, c, pairedWith);
            pk = PytreeNodes.children(pairedWith, kind);
            if (pk.length != kids.length) throw v.mismatch(this, c, pairedWith);
          }
        }
      }
      if (depth == stack.length) stack = Arrays.copyOf(stack, depth * 2);
      stack[depth++] = new Node(c, kind, keys, kids, pk, rebuild);
      if (onPath != null) onPath.put(c, depth - 1);
    }

    void pop() {
      Node n = stack[--depth];
      stack[depth] = null;
      if (onPath != null) onPath.remove(n.container);
    }

    /** Refuses leaf {@code v} if it hides tensors (a strict walk). */
    void checkLeaf(Object v, PytreeNodes.Kind k) {
      if (strict && PytreeNodes.mayHoldTensors(k)) refuseHidden(op, what + path(), v);
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

  private static boolean hasChildren(PytreeNodes.Kind k) {
    return k == PytreeNodes.Kind.RECORD || k == PytreeNodes.Kind.REGISTERED;
  }

  /**
   * Walks {@code tree} depth first, without recursion, calling {@code v} at every leaf (anything
   * but a list, map, array, record or registered node); with {@code rebuild} returns the tree
   * rebuilt from what {@code v} returned. With {@code paired}, {@code pairedTree} is walked
   * alongside and must have the same containers ({@code v.mismatch} otherwise); {@code v} gets
   * its value at each leaf. A strict walk refuses leaves that hide tensors in other objects.
   */
  private static Object walk(String op, String what, Object tree, Object pairedTree, boolean paired, boolean pairedOrder, boolean rebuild,
      boolean strict, Visit v) {
    return walk(new Walk(op, what, pairedOrder, strict), tree, pairedTree, paired, rebuild, v);
  }

  private static Object walk(Walk w, Object tree, Object pairedTree, boolean paired, boolean rebuild, Visit v) {
    PytreeNodes.Kind rootKind = PytreeNodes.kindOf(tree);
    if (!PytreeNodes.isNode(rootKind)) {
      w.checkLeaf(tree, rootKind);
      return v.leaf(w, tree, pairedTree);
    }
    w.push(tree, rootKind, pairedTree, paired, rebuild, v);
    while (true) {
      Node n = w.top();
      if (n.next < n.kids.length) {
        int i = n.next++;
        Object c = n.kids[i], p = paired ? n.paired[i] : null;
        PytreeNodes.Kind k = PytreeNodes.kindOf(c);
        if (PytreeNodes.isNode(k)) {
          w.push(c, k, p, paired, rebuild, v);
        } else {
          w.checkLeaf(c, k);
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
}
