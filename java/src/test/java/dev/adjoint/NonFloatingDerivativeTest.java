package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Integer and bool values have no derivative: every transform that differentiates an output or an
 * input refuses a non-floating one with a DTypeMismatchException naming the transform, which
 * output or argument (and where in its pytree), and the dtype. torch.func's vjp and jacrev refuse
 * such outputs too; its grad returns zeros and its jvp/jacfwd integer zeros, which would make the
 * transforms disagree with each other, so they refuse alike here. Non-floating values passed
 * through as aux, or arguments that are not differentiated, are fine.
 */
class NonFloatingDerivativeTest extends ScopedTest {

  @AfterEach
  void stackIsEmpty() {
    assertEquals(0, NativeCore.adj_level_depth(), "transform levels left on this thread's stack");
  }

  private static final Tensor X = Tensor.of(0.5, -1.0, 2.0).keep();

  private static void refuses(String op, Executable body, String... fragments) {
    DTypeMismatchException e = assertThrowsExactly(DTypeMismatchException.class, body, op);
    String msg = e.getMessage();
    assertTrue(msg.startsWith(op + ": "), () -> "message does not start with '" + op + ": ': " + msg);
    assertEquals(op, e.op());
    for (String f : fragments) assertTrue(msg.contains(f), () -> "message lacks '" + f + "': " + msg);
    assertEquals(0, NativeCore.adj_level_depth());
  }

  @Test
  void integerAndBoolOutputs() {
    Fn1 toInt = v -> v.to(DType.INT64), positive = v -> v.gt(0.0);
    Fn1 intSum = v -> v.sum().to(DType.INT64), boolSum = v -> v.sum().gt(0.0);
    refuses("grad", () -> grad(intSum).apply(X), "output 0", "int64", "shape []");
    refuses("grad", () -> grad(boolSum).apply(X), "output 0", "bool");
    refuses("gradAndValue", () -> gradAndValue(intSum.asFnN(), argnums(0)).apply(X), "output 0", "int64");
    refuses("vjp", () -> vjp(toInt.asFnN(), X), "output 0", "int64", "[3]");
    refuses("jvp", () -> jvp(toInt, X, X), "output 0", "int64", "[3]");
    refuses("jvp", () -> jvp(positive, X, X), "output 0", "bool");
    refuses("jacrev", () -> jacrev(toInt).apply(X), "output 0", "int64");
    refuses("jacrev", () -> jacrev(positive).apply(X), "output 0", "bool");
    refuses("jacfwd", () -> jacfwd(toInt).apply(X), "output 0", "int64");
    refuses("jacfwd", () -> jacfwd(positive).apply(X), "output 0", "bool");
    refuses("jacobian", () -> jacobian(toInt).apply(X), "output 0", "int64");
    refuses("jacrev", () -> hessian(intSum).apply(X), "output 0", "int64");  // jacfwd(jacrev(f)): the inner one sees it
    refuses("grad", () -> hvp(intSum, X, X), "int64");
    refuses("grad", () -> vhp(intSum, X, X), "int64");
    refuses("jacrev", () -> jacrev(toInt.asFnN(), argnums(0).chunkSize(1)).apply(X), "int64");
    // inside vmap the per-example shape is reported
    refuses("grad", () -> vmap(grad(intSum)).apply(X.unsqueeze(0)), "output 0", "int64", "shape []");
  }

  @Test
  void theOutputIsNamedInItsPytree() {
    FnN mixed = a -> List.of(((Tensor) a[0]).sin(), ((Tensor) a[0]).gt(0.0));
    refuses("vjp", () -> vjp(mixed, X), "output 1 (output[1])", "bool", "[3]");
    refuses("jacrev", () -> jacrev(mixed, argnums(0)).apply(X), "output 1 (output[1])", "bool");
    refuses("jacfwd", () -> jacfwd(mixed, argnums(0)).apply(X), "output 1 (output[1])", "bool");
    refuses("jvp", () -> jvp(mixed, List.of(X), List.of(X)), "output 1 (output[1])", "bool");
    FnN keyed = a -> {
      Map<String, Tensor> m = new LinkedHashMap<>();
      m.put("y", ((Tensor) a[0]).exp());
      m.put("n", ((Tensor) a[0]).to(DType.INT64));
      return m;
    };
    refuses("vjp", () -> vjp(keyed, X), "output 1 (output[\"n\"])", "int64");
  }

  @Test
  void integerValuesAsAuxAreFine() {
    FnN lossAndCount = a -> List.of(((Tensor) a[0]).sin().sum(), ((Tensor) a[0]).gt(0.0).to(DType.INT64).sum());
    List<?> r = (List<?>) grad(lossAndCount, argnums(0).withAux()).apply(X);
    assertArrayEquals(new double[] {Math.cos(0.5), Math.cos(-1.0), Math.cos(2.0)}, ((Tensor) r.get(0)).toDoubleArray(), 1e-15);
    assertEquals(2, ((Tensor) r.get(1)).itemLong());
    assertEquals(DType.INT64, ((Tensor) r.get(1)).dtype());
    FnN sinAndSign = a -> List.of(((Tensor) a[0]).sin(), ((Tensor) a[0]).gt(0.0));
    assertArrayEquals(new boolean[] {true, false, true}, ((Tensor) vjpWithAux(sinAndSign, X).aux()).toBooleanArray());
    assertArrayEquals(new boolean[] {true, false, true}, ((Tensor) jvpWithAux(sinAndSign, List.of(X), List.of(X)).aux()).toBooleanArray());
    List<?> j = (List<?>) jacrev(sinAndSign, argnums(0).withAux()).apply(X);
    assertArrayEquals(new boolean[] {true, false, true}, ((Tensor) j.get(1)).toBooleanArray());
    List<?> jf = (List<?>) jacfwd(sinAndSign, argnums(0).withAux()).apply(X);
    assertArrayEquals(new boolean[] {true, false, true}, ((Tensor) jf.get(1)).toBooleanArray());
    assertArrayEquals(((Tensor) j.get(0)).toDoubleArray(), ((Tensor) jf.get(0)).toDoubleArray(), 1e-15);
  }

  @Test
  void integerAndBoolInputs() {
    Tensor n = Tensor.of(1L, 2L, 3L), b = Tensor.of(true, false, true);
    FnN f = a -> ((Tensor) a[0]).mul(((Tensor) a[1]).to(DType.FLOAT64)).sum();
    refuses("grad", () -> grad(f, argnums(1)).apply(X, n), "argument 1", "int64", "[3]");
    refuses("grad", () -> grad(f, argnums(0, 1)).apply(X, b), "argument 1", "bool");
    refuses("jacrev", () -> jacrev(f, argnums(1)).apply(X, n), "argument 1", "int64");
    refuses("jacfwd", () -> jacfwd(f, argnums(1)).apply(X, n), "argument 1", "int64");
    refuses("jacobian", () -> jacobian(f, argnums(1)).apply(X, n), "argument 1", "int64");
    refuses("jacfwd", () -> hessian(f, argnums(1)).apply(X, n), "argument 1", "int64");
    refuses("vjp", () -> vjp(f, X, n), "primal 1", "int64");
    refuses("vjp", () -> vjp(v -> v.to(DType.FLOAT64), n), "primal 0", "int64");
    refuses("jvp", () -> jvp(f, List.of(X, n), List.of(X, n)), "primal 1", "int64");
    // inside a pytree argument: its place is named
    Map<String, Tensor> p = new LinkedHashMap<>();
    p.put("w", X);
    p.put("n", n);
    FnN g = a -> {
      @SuppressWarnings("unchecked")
      Map<String, Tensor> m = (Map<String, Tensor>) a[0];
      return m.get("w").mul(m.get("n").to(DType.FLOAT64)).sum();
    };
    refuses("grad", () -> grad(g).apply(p), "argument 0[\"n\"]", "int64");
    refuses("jacfwd", () -> jacfwd(g, argnums(0)).apply(p), "argument 0[\"n\"]", "int64");
    // not differentiated: fine
    assertArrayEquals(new double[] {1, 2, 3}, grad(f, argnums(0)).applyTensor(X, n).toDoubleArray(), 0.0);
  }

  @Test
  void oneTensorVjpOfAnIntegerOutput() {
    refuses("vjp", () -> vjp(v -> v.to(DType.INT64), X), "output 0", "int64");
  }
}
