package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A function whose result is not what the transform needs (null, a non-tensor where a tensor is
 * required, a closed tensor, nothing at all) is refused with an AdjointArgumentException naming
 * the transform and the place in the output tree; never a NullPointerException or a result full
 * of nulls. torch.func refuses the same (e.g. "jvp(f, primals, tangents): expected f(*primals) to
 * return only tensors, got unsupported type NoneType").
 */
class TransformOutputsTest extends ScopedTest {

  @AfterEach
  void stackIsEmpty() {
    assertEquals(0, NativeCore.adj_level_depth(), "transform levels left on this thread's stack");
  }

  private static final Tensor X = Tensor.of(0.5, -1.0, 2.0).keep();

  private static void refuses(String op, Executable body, String... fragments) {
    AdjointArgumentException e = assertThrows(AdjointArgumentException.class, body, op);
    String msg = e.getMessage();
    assertTrue(msg.startsWith(op + ": "), () -> "message does not start with '" + op + ": ': " + msg);
    assertEquals(op, e.op());
    for (String f : fragments) assertTrue(msg.contains(f), () -> "message lacks '" + f + "': " + msg);
    assertEquals(0, NativeCore.adj_level_depth());
  }

  @Test
  void nullResult() {
    Fn1 none = v -> null;
    FnN noneN = a -> null;
    refuses("jvp", () -> jvp(none, X, X), "returned null");
    refuses("jvp", () -> jvp(noneN, List.of(X), List.of(X)), "returned null");
    refuses("vjp", () -> vjp(noneN, X), "returned null");
    refuses("vjp", () -> vjp(none, X), "returned null");
    refuses("grad", () -> grad(none).apply(X), "returned null");
    refuses("vmap", () -> vmap(noneN).apply(X.unsqueeze(0)), "returned null");
    refuses("vmap", () -> vmap(none, VmapOptions.inDims(0).chunkSize(1)).apply(X.unsqueeze(0).expand(2, 3)), "returned null");
    refuses("jacrev", () -> jacrev(none).apply(X), "returned null");
    refuses("jacfwd", () -> jacfwd(none).apply(X), "returned null");
    refuses("jacobian", () -> jacobian(none).apply(X), "returned null");
    refuses("jacrev", () -> hessian(none).apply(X), "returned null");
    refuses("jvp", () -> linearize(v -> v.sin(), X).jvpFn().apply((Tensor) null), "tangent 0 (null)");
  }

  @Test
  void nullOrNonTensorInsideTheResult() {
    FnN withNull = a -> Arrays.asList(((Tensor) a[0]).sin(), null);
    refuses("jvp", () -> jvp(withNull, List.of(X), List.of(X)), "output[1] is null");
    refuses("vjp", () -> vjp(withNull, X), "output[1] is null");
    refuses("vmap", () -> vmap(withNull).apply(X.unsqueeze(0)), "output[1] is null");
    refuses("jacrev", () -> jacrev(withNull, argnums(0)).apply(X), "output[1] is null");
    refuses("jacfwd", () -> jacfwd(withNull, argnums(0)).apply(X), "output[1] is null");
    FnN withString = a -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("y", ((Tensor) a[0]).sin());
      m.put("note", List.of(((Tensor) a[0]).cos(), "text"));
      return m;
    };
    refuses("vmap", () -> vmap(withString).apply(X.unsqueeze(0)), "output[\"note\"][1] is String text");
    refuses("vjp", () -> vjp(withString, X), "output[\"note\"][1] is String text");
    refuses("jvp", () -> jvp(withString, List.of(X), List.of(X)), "output[\"note\"][1] is String text");
    FnN withNumber = a -> new Object[] {((Tensor) a[0]).sin(), 3};
    refuses("jacrev", () -> jacrev(withNumber, argnums(0)).apply(X), "output[1] is Integer 3");
    refuses("grad", () -> grad((FnN) a -> "loss").apply(X), "scalar (0-d) tensor", "String loss");
  }

  @Test
  void closedTensorsInTheResult() {
    FnN closedInside = a -> {
      Tensor c = ((Tensor) a[0]).cos();
      c.close();
      return List.of(((Tensor) a[0]).sin(), c);
    };
    refuses("vjp", () -> vjp(closedInside, X), "output[1] is a closed tensor");
    refuses("jvp", () -> jvp(closedInside, List.of(X), List.of(X)), "output[1] is a closed tensor");
    refuses("vmap", () -> vmap(closedInside).apply(X.unsqueeze(0)), "output[1] is a closed tensor");
    FnN closedAux = a -> {
      Tensor c = ((Tensor) a[0]).cos();
      c.close();
      return List.of(((Tensor) a[0]).sin().sum(), List.of(c));
    };
    refuses("grad", () -> grad(closedAux, argnums(0).withAux()).apply(X), "aux[0] is a closed tensor");
    refuses("vjp", () -> vjpWithAux(closedAux, X), "aux[0] is a closed tensor");
  }

  @Test
  void noTensorAtAll() {
    refuses("jvp", () -> jvp((FnN) a -> List.of(), List.of(X), List.of(X)), "no tensor", "list of 0");
    refuses("vjp", () -> vjp((FnN) a -> Map.of(), X), "no tensor");
    refuses("jacrev", () -> jacrev((FnN) a -> List.of(), argnums(0)).apply(X), "no tensor");
  }

  @Test
  void nullInputs() {
    refuses("jvp", () -> jvp(v -> v.sin(), null, X), "primal 0 is null");
    refuses("jvp", () -> jvp(v -> v.sin(), X, null), "tangent 0 (null)", "primal 0 (tensor [3])");
    refuses("jvp", () -> jvp((FnN) a -> a[0], null, List.of(X)), "primals");
    refuses("grad", () -> grad(v -> v.sum()).apply((Tensor) null), "argument 0 is null");
    refuses("vjp", () -> vjp(v -> v.sin(), (Tensor) null), "primal 0 is null");
  }

  @Test
  void nullAuxPassesThrough() {
    // torch: grad(f, has_aux=True) with aux None returns (grads, None)
    List<?> r = (List<?>) grad((FnN) a -> Arrays.asList(((Tensor) a[0]).sin().sum(), null), argnums(0).withAux()).apply(X);
    assertEquals(2, r.size());
    assertNull(r.get(1));
    assertArrayEquals(new double[] {Math.cos(0.5), Math.cos(-1.0), Math.cos(2.0)}, ((Tensor) r.get(0)).toDoubleArray(), 1e-15);
    List<?> v = (List<?>) gradAndValue((FnN) a -> Arrays.asList(((Tensor) a[0]).sum(), null), argnums(0).withAux()).apply(X);
    assertNull(((List<?>) v.get(1)).get(1));
    List<?> j = (List<?>) jacrev((FnN) a -> Arrays.asList(((Tensor) a[0]).sin(), null), argnums(0).withAux()).apply(X);
    assertNull(j.get(1));
  }
}
