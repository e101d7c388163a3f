package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Pytrees that contain themselves are refused with a clear IllegalArgumentException naming the
 * container's class and where it recurs (never a StackOverflowError), wherever a transform walks
 * one: arguments, tangents, in_dims, outputs, aux. Containers shared without a cycle are fine, and
 * deep acyclic structures (100,000 nested lists) are walked without running out of stack.
 */
class PytreeCycleTest extends ScopedTest {

  @AfterEach
  void stackIsEmpty() {
    assertEquals(0, NativeCore.adj_level_depth(), "transform levels left on this thread's stack");
  }

  private static final Tensor X = Tensor.of(0.5, -1.0, 2.0).keep();

  private static void cyclic(String op, Executable body, String... fragments) {
    // NOTE: nothing here prints the structures: List.toString itself recurses forever on them.
    AdjointArgumentException e = assertThrows(AdjointArgumentException.class, body, op);
    String msg = e.getMessage();
    assertTrue(msg.startsWith(op + ": "), () -> "message does not start with '" + op + ": ': " + msg);
    assertTrue(msg.contains("cyclic"), msg);
    for (String f : fragments) assertTrue(msg.contains(f), () -> "message lacks '" + f + "': " + msg);
    assertEquals(0, NativeCore.adj_level_depth());
  }

  private static List<Object> selfList() {
    List<Object> l = new ArrayList<>();
    l.add(X);
    l.add(l);
    return l;
  }

  @Test
  void containersThatContainThemselves() {
    cyclic("pytree", () -> Pytree.leaves(selfList()), "the java.util.ArrayList at tree contains itself at tree[1]");
    cyclic("pytree", () -> Pytree.map(selfList(), t -> t), "java.util.ArrayList", "tree[1]");
    cyclic("pytree", () -> Pytree.unflatten(selfList(), List.of(X)), "java.util.ArrayList", "structure[1]");
    // through another list
    List<Object> a = new ArrayList<>(), b = new ArrayList<>();
    a.add(X);
    a.add(b);
    b.add(List.of(X, a));
    cyclic("pytree", () -> Pytree.leaves(a), "the java.util.ArrayList at tree contains itself at tree[1][0][1]");
    // a map, by key
    Map<String, Object> m = new HashMap<>();
    m.put("w", X);
    m.put("self", m);
    cyclic("pytree", () -> Pytree.leaves(m), "the java.util.HashMap at tree contains itself at tree[\"self\"]");
    // an array, below the top
    Object[] arr = {X, null};
    arr[1] = arr;
    cyclic("pytree", () -> Pytree.leaves(List.of((Object) arr)), "the java.lang.Object[] at tree[0] contains itself at tree[0][1]");
  }

  @Test
  void sharedContainersAreNotCycles() {
    List<Object> shared = List.of(X, List.of(X));
    List<Object> tree = List.of(shared, shared, Map.of("again", shared));
    assertEquals(6, Pytree.leaves(tree).size());
    Object doubled = Pytree.map(tree, t -> t.mul(2.0));
    assertEquals(6, Pytree.leaves(doubled).size());
    // the gradient of sum over all six leaves: each occurrence gets its own gradient 1
    FnN f = args -> {
      Tensor s = null;
      for (Tensor t : Pytree.leaves(args[0])) s = s == null ? t.sum() : s.add(t.sum());
      return s;
    };
    for (Tensor g : Pytree.leaves(grad(f).apply(tree))) assertArrayEquals(new double[] {1, 1, 1}, g.toDoubleArray(), 0.0);
  }

  @Test
  void transformsNameTheCyclicValue() {
    FnN first = a -> Pytree.leaves(List.of(a[0])).get(0).sin().sum();  // never reached
    cyclic("grad", () -> grad(first).apply(selfList()), "argument 0 is a cyclic pytree", "argument 0[1]");
    cyclic("vjp", () -> vjp(first, X, selfList()), "primal 1 is a cyclic pytree", "primal 1[1]");
    cyclic("jacrev", () -> jacrev(first, argnums(0)).apply(selfList()), "argument 0 is a cyclic pytree");
    cyclic("jacfwd", () -> jacfwd(first, argnums(0)).apply(selfList()), "argument 0 is a cyclic pytree");
    cyclic("vmap", () -> vmap(first).apply(selfList()), "argument 0 is a cyclic pytree");
    cyclic("jvp", () -> jvp(first, List.of(selfList()), List.of(selfList())), "primal 0 is a cyclic pytree");
    // a tangent where the primal holds a constant
    cyclic("jvp", () -> jvp((FnN) a -> ((Tensor) ((List<?>) a[0]).get(0)).sin(), List.of(List.of(X, "c")), List.of(List.of(X, selfList()))),
        "tangent 0[1] is a cyclic pytree");
    // a cyclic in_dims spec
    List<Object> spec = new ArrayList<>();
    spec.add(0);
    spec.add(spec);
    cyclic("vmap", () -> vmap(first, VmapOptions.inDims(spec)).apply(List.of(X.unsqueeze(0), List.of(X.unsqueeze(0)))), "inDims[0]",
        "java.util.ArrayList");
    // cyclic results
    FnN cyclicOut = a -> {
      List<Object> l = new ArrayList<>();
      l.add(((Tensor) a[0]).sin());
      l.add(l);
      return l;
    };
    cyclic("vmap", () -> vmap(cyclicOut).apply(X.unsqueeze(0)), "output is a cyclic pytree", "at output[1]");
    cyclic("jvp", () -> jvp(cyclicOut, List.of(X), List.of(X)), "output is a cyclic pytree");
    cyclic("vjp", () -> vjp(cyclicOut, X), "output is a cyclic pytree");
    cyclic("jacrev", () -> jacrev(cyclicOut, argnums(0)).apply(X), "output is a cyclic pytree");
    cyclic("grad", () -> grad((FnN) a -> List.of(((Tensor) a[0]).sum(), selfList()), argnums(0).withAux()).apply(X), "aux is a cyclic pytree");
  }

  // ------------------------------------------------------------------ deep structures

  private static final int DEEP = 100_000;

  private static Object nest(Object leaf, int depth) {
    Object t = leaf;
    for (int i = 0; i < depth; i++) t = List.of(t);
    return t;
  }

  /** The innermost value of a structure made by nest (a loop: a recursive dig would overflow too). */
  private static Object dig(Object t) {
    while (t instanceof List<?> l) t = l.get(0);
    return t;
  }

  @Test
  void deepStructuresDoNotOverflowTheStack() {
    Object deep = nest(X, DEEP);
    assertSame(X, Pytree.leaves(deep).get(0));
    Object mapped = Pytree.map(deep, t -> t.mul(2.0));
    assertArrayEquals(new double[] {1.0, -2.0, 4.0}, ((Tensor) dig(mapped)).toDoubleArray(), 0.0);
    assertSame(X, dig(Pytree.unflatten(deep, List.of(X))));
    FnN f = a -> ((Tensor) dig(a[0])).sin().sum();
    Object g = grad(f).apply(deep);
    assertArrayEquals(new double[] {Math.cos(0.5), Math.cos(-1.0), Math.cos(2.0)}, ((Tensor) dig(g)).toDoubleArray(), 1e-15);
    // vmap over a deep argument, returning a deep result
    Object batched = vmap((FnN) a -> nest(((Tensor) dig(a[0])).mul(3.0), DEEP)).apply(nest(X.unsqueeze(0), DEEP));
    assertArrayEquals(new long[] {1, 3}, ((Tensor) dig(batched)).shape());
    // jvp with deep primals and tangents, vjp with a deep output
    JvpResult r = jvp((FnN) a -> nest(((Tensor) dig(a[0])).sin(), DEEP), List.of(deep), List.of(nest(Tensor.of(1.0, 1.0, 1.0), DEEP)));
    assertArrayEquals(new double[] {Math.cos(0.5), Math.cos(-1.0), Math.cos(2.0)}, ((Tensor) dig(r.tangentTree())).toDoubleArray(), 1e-15);
    VjpResult v = vjp((FnN) a -> nest(((Tensor) a[0]).exp(), DEEP), X);
    Tensor ct = ((Tensor) v.apply(nest(Tensor.of(1.0, 0.0, 0.0), DEEP)).get(0));
    assertArrayEquals(new double[] {Math.exp(0.5), 0, 0}, ct.toDoubleArray(), 1e-15);
    // a cycle far down is still found, and its path is shortened in the message
    List<Object> bottom = new ArrayList<>();
    bottom.add(X);
    Object deepCycle = nest(bottom, DEEP);
    bottom.add(deepCycle);
    AdjointArgumentException e = assertThrows(AdjointArgumentException.class, () -> Pytree.leaves(deepCycle));
    assertTrue(e.getMessage().contains("levels)") && e.getMessage().length() < 500, e.getMessage());
  }
}
