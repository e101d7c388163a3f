package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every transform ends the native level it began, whatever the user's function does: throws,
 * closes its traced input (then throws or returns), returns a closed tensor, or returns a tensor
 * of a transform that has already returned. The user's exception is the one thrown (an error in
 * cleaning up rides along as suppressed), and the thread's level stack is back to empty.
 */
class TransformLevelPairingTest extends ScopedTest {

  @AfterEach
  void stackIsEmpty() {
    assertEquals(0, NativeCore.adj_level_depth(), "transform levels left on this thread's stack");
  }

  /** The transforms, each applied to a function of one tensor at x = [0.5, -1, 2] (batched as [1, 3] for vmap). */
  private static Map<String, Function<Fn1, Executable>> transforms() {
    Tensor x = Tensor.of(0.5, -1.0, 2.0), xs = x.unsqueeze(0), v = Tensor.of(1.0, 0.0, 0.0);
    Map<String, Function<Fn1, Executable>> m = new LinkedHashMap<>();
    m.put("grad", f -> () -> grad(f).apply(x));
    m.put("vjp (pytree)", f -> () -> vjp(f.asFnN(), x));
    m.put("jvp", f -> () -> jvp(f, x, v));
    m.put("vmap", f -> () -> vmap(f).apply(xs));
    m.put("vmap chunked", f -> () -> vmap(f, VmapOptions.inDims(0).chunkSize(1)).apply(xs.expand(2, 3)));
    m.put("jacrev", f -> () -> jacrev(f).apply(x));
    m.put("jacrev chunked", f -> () -> jacrev(f.asFnN(), argnums(0).chunkSize(1)).apply(x));
    m.put("jacfwd", f -> () -> jacfwd(f).apply(x));
    m.put("jacobian", f -> () -> jacobian(f).apply(x));
    m.put("hessian", f -> () -> hessian(f).apply(x));
    m.put("hvp", f -> () -> hvp(f, x, v));
    m.put("vhp", f -> () -> vhp(f, x, v));
    m.put("vmap(grad)", f -> () -> vmap(grad(f)).apply(xs));
    m.put("grad(grad)", f -> () -> grad(u -> grad(f).apply(u).sum()).apply(x));
    return m;
  }

  /** The user's exception comes out, the same object, and the stack is empty again. */
  private static void userExceptionWins(String label, Executable call, RuntimeException boom) {
    Throwable e = assertThrows(Throwable.class, call, label);
    assertSame(boom, e, () -> label + ": the user's exception was replaced by " + e);
    assertEquals(0, NativeCore.adj_level_depth(), () -> label + ": transform level left on the stack");
  }

  @Test
  void functionThrows() {
    transforms().forEach((label, t) -> {
      RuntimeException boom = new RuntimeException("boom");
      userExceptionWins(label, t.apply(u -> {
        throw boom;
      }), boom);
    });
  }

  @Test
  void functionClosesItsInputThenThrows() {
    transforms().forEach((label, t) -> {
      RuntimeException boom = new RuntimeException("boom");
      userExceptionWins(label, t.apply(u -> {
        u.close();
        throw boom;
      }), boom);
    });
  }

  @Test
  void manyFailingCallsLeaveNoLevels() {
    // The symptom reported: one level left per call, 200,000 after 200,000 calls.
    Tensor x = Tensor.of(0.5, -1.0, 2.0);
    RuntimeException boom = new RuntimeException("boom");
    for (int i = 0; i < 2000; i++) {
      try (Scope s = Scope.open()) {
        assertThrows(RuntimeException.class, () -> vjp((FnN) a -> {
          ((Tensor) a[0]).close();
          throw boom;
        }, x));
        assertThrows(RuntimeException.class, () -> grad(u -> {
          u.close();
          throw boom;
        }).apply(x));
      }
    }
    assertEquals(0, NativeCore.adj_level_depth());
  }

  @Test
  void functionClosesItsInputAndReturns() {
    Tensor x = Tensor.of(0.5, -1.0, 2.0);
    Fn1 closesInput = u -> {
      Tensor y = u.sin().sum();
      u.close();
      return y;
    };
    // Reverse mode needs the traced input for its backward pass: a clear error, the level ended.
    for (Executable c : List.<Executable>of(() -> grad(closesInput).apply(x), () -> vjp(closesInput.asFnN(), x),
        () -> jacrev(closesInput).apply(x), () -> jacobian(closesInput).apply(x))) {
      IllegalStateException e = assertThrowsExactly(IllegalStateException.class, c);
      assertTrue(e.getMessage().contains("closed its traced input"), e.getMessage());
      assertEquals(0, NativeCore.adj_level_depth());
    }
    // Forward mode and vmap are done with the input once the function returns.
    assertEquals(Math.cos(0.5) - Math.cos(-1.0) + 0, jvp(closesInput, x, Tensor.of(1.0, -1.0, 0.0)).tangent().item(), 1e-15);
    assertArrayEquals(new double[] {Math.sin(0.5) + Math.sin(-1.0) + Math.sin(2.0)},
        vmap(closesInput).apply(x.unsqueeze(0)).toDoubleArray(), 1e-15);
  }

  @Test
  void functionReturnsAClosedTensor() {
    Fn1 closedOut = u -> {
      Tensor y = u.sin().sum();
      y.close();
      return y;
    };
    transforms().forEach((label, t) -> {
      AdjointArgumentException e = assertThrows(AdjointArgumentException.class, t.apply(closedOut), label);
      assertTrue(e.getMessage().contains("closed tensor"), () -> label + ": " + e.getMessage());
      assertEquals(0, NativeCore.adj_level_depth(), label);
    });
    // the one-tensor vjp too, when its input is still open
    Tensor x = Tensor.of(0.5, -1.0, 2.0);
    AdjointArgumentException e = assertThrowsExactly(AdjointArgumentException.class, () -> vjp(closedOut, x));
    assertEquals("vjp: the function returned a closed tensor", e.getMessage());
  }

  /** A tracer of a grad that has already returned. */
  private static Tensor escapedTracer() {
    Tensor[] box = new Tensor[1];
    grad(u -> {
      box[0] = u.sin().sum().keep();  // kept past the grad's end
      return u.sum();
    }).apply(Tensor.of(0.5, -1.0, 2.0));
    return box[0];
  }

  @Test
  void functionReturnsATensorOfAFinishedTransform() {
    Tensor escaped = escapedTracer();
    transforms().forEach((label, t) -> {
      try {
        t.apply(u -> escaped).execute();
      } catch (IllegalStateException e) {
        assertTrue(e.getMessage().contains("escaped"), () -> label + ": " + e.getMessage());
      } catch (Throwable e) {
        fail(label + ": " + e);
      }
      assertEquals(0, NativeCore.adj_level_depth(), label);
    });
    try {
      vjp(u -> escaped, Tensor.of(1.0));  // the one-tensor vjp
    } catch (IllegalStateException e) {
      assertTrue(e.getMessage().contains("escaped"), e.getMessage());
    }
    assertEquals(0, NativeCore.adj_level_depth());
  }

  @Test
  void aTensorOfAFinishedTransformIsRejectedAsAnOutput() {
    Tensor escaped = escapedTracer();
    transforms().forEach((label, t) -> {
      IllegalStateException e = assertThrows(IllegalStateException.class, t.apply(u -> escaped), label);
      assertTrue(e.getMessage().contains("escaped"), () -> label + ": " + e.getMessage());
    });
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> vjp(u -> escaped, Tensor.of(1.0)));
    assertTrue(e.getMessage().contains("escaped"), e.getMessage());
  }

  @Test
  void aFailureToEndTheLevelIsSuppressedUnderTheUsersException() throws Exception {
    // A function that leaves a level of its own on the stack (through the internal API) makes
    // ending the transform's level fail. Run on a thread of its own: that thread's stack stays dirty.
    AtomicReference<Throwable> seen = new AtomicReference<>();
    List<String> notes = new ArrayList<>();
    Thread t = new Thread(() -> {
      try (Scope s = Scope.open()) {
        Tensor x = Tensor.of(0.5, -1.0, 2.0);
        for (Function<Fn1, Executable> tr : List.<Function<Fn1, Executable>>of(f -> () -> grad(f).apply(x), f -> () -> vjp(f, x),
            f -> () -> jvp(f, x, x), f -> () -> vmap(f).apply(x.unsqueeze(0)))) {
          RuntimeException boom = new RuntimeException("boom");
          long[] rogue = {0};
          Throwable e = assertThrows(Throwable.class, tr.apply(u -> {
            rogue[0] = NativeCore.adj_level_begin(1, 0, 0);
            throw boom;
          }));
          assertSame(boom, e);
          assertEquals(1, e.getSuppressed().length, () -> "suppressed: " + List.of(e.getSuppressed()));
          notes.add(e.getSuppressed()[0].getMessage());
          NativeCore.adj_level_close(rogue[0]);
        }
      } catch (Throwable e) {
        seen.set(e);
      }
    });
    t.start();
    t.join();
    if (seen.get() != null) throw new AssertionError(seen.get());
    assertEquals(4, notes.size());
    for (String n : notes) assertTrue(n.contains("innermost"), n);
  }

  // ------------------------------------------------------------------ the one-tensor vjp

  /** Runs body on a fresh thread (a leaked level then stays on that thread) and rethrows what it threw. */
  private static void onOwnThread(Executable body) throws Throwable {
    AtomicReference<Throwable> seen = new AtomicReference<>();
    Thread t = new Thread(() -> {
      try (Scope s = Scope.open()) {
        body.execute();
      } catch (Throwable e) {
        seen.set(e);
      }
    });
    t.start();
    t.join();
    if (seen.get() != null) throw seen.get();
  }

  @Test
  void vjpOfOneTensorEndsItsLevelWhenItsInputIsOpen() {
    Tensor x = Tensor.of(0.5, -1.0, 2.0);
    RuntimeException boom = new RuntimeException("boom");
    userExceptionWins("vjp", () -> vjp(u -> {
      throw boom;
    }, x), boom);
    for (int i = 0; i < 2000; i++) assertThrows(RuntimeException.class, () -> vjp(u -> {
      throw boom;
    }, x));
    assertEquals(0, NativeCore.adj_level_depth());
  }

  @Test
  void vjpOfOneTensorReportsItsClosedInputWithoutLosingTheUsersException() throws Throwable {
    onOwnThread(() -> {
      Tensor x = Tensor.of(0.5, -1.0, 2.0);
      RuntimeException boom = new RuntimeException("boom");
      Throwable e = assertThrows(Throwable.class, () -> vjp(u -> {
        u.close();
        throw boom;
      }, x));
      assertSame(boom, e);
      IllegalStateException e2 = assertThrowsExactly(IllegalStateException.class, () -> vjp(u -> {
        Tensor y = u.sin();
        u.close();
        return y;
      }, x));
      assertTrue(e2.getMessage().startsWith("vjp: the function closed its traced input"), e2.getMessage());
    });
  }

  @Test
  void vjpOfOneTensorEndsItsLevelWhenTheFunctionClosedItsInput() throws Throwable {
    onOwnThread(() -> {
      Tensor x = Tensor.of(0.5, -1.0, 2.0);
      RuntimeException boom = new RuntimeException("boom");
      for (int i = 0; i < 100; i++) {
        Throwable e = assertThrows(Throwable.class, () -> vjp(u -> {
          u.close();
          throw boom;
        }, x));
        assertSame(boom, e);
      }
      AdjointArgumentException e = assertThrowsExactly(AdjointArgumentException.class, () -> vjp(u -> {
        u.close();
        return u;
      }, x));
      assertEquals("vjp: the function returned a closed tensor", e.getMessage());
      assertEquals(0, NativeCore.adj_level_depth());
    });
  }
}
