package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The lifecycle of {@link TransformLevel}: begun, closed exactly once whatever path is taken (a
 * second close does nothing; a native call that ended or closed the level is not repeated), and in
 * try-with-resources the body's exception wins with a failure to end the level suppressed.
 */
class TransformLevelTest extends ScopedTest {
  @AfterEach
  void stackIsEmpty() {
    assertEquals(0, NativeCore.adj_level_depth(), "transform levels left on this thread's stack");
  }

  @Test
  void closeEndsAnOpenLevelOnceAndThenDoesNothing() {
    TransformLevel lv = TransformLevel.begin(TransformLevel.GRAD, 0, Randomness.ERROR);
    assertEquals(1, NativeCore.adj_level_depth());
    lv.close();
    assertEquals(0, NativeCore.adj_level_depth());
    lv.close();  // a second close would release the handle twice (ASan) or end another level
    assertEquals(0, NativeCore.adj_level_depth());
  }

  @Test
  void aLevelEndedByANativeCallIsOnlyReleased() {
    TransformLevel outer = TransformLevel.begin(TransformLevel.JVP, 0, Randomness.ERROR);
    TransformLevel lv = TransformLevel.begin(TransformLevel.GRAD, 0, Randomness.ERROR);
    Tensor x = Tensor.of(1.0, 2.0);
    Tensor t = Tensor.wrap(NativeCore.adj_grad_wrap(lv.handle(), x.h()));
    long y = t.sum().h(), th = t.h();
    // grad's backward pass: ends the level in the same call
    Tensor g = Tensor.wrap(NativeCore.adj_grad_backward1(lv.ending(false), y, 0, th, NativeCore.ADJ_BACKWARD_END));
    assertArrayEquals(new double[] {1, 1}, g.toDoubleArray());
    assertEquals(1, NativeCore.adj_level_depth());
    lv.close();  // releases the handle; must not end `outer`, now the innermost level
    assertEquals(1, NativeCore.adj_level_depth());
    outer.close();
  }

  @Test
  void aLevelClosedByANativeCallIsLeftAlone() {
    TransformLevel lv = TransformLevel.begin(TransformLevel.GRAD, 0, Randomness.ERROR);
    Tensor x = Tensor.of(1.0, 2.0);
    Tensor t = Tensor.wrap(NativeCore.adj_grad_wrap(lv.handle(), x.h()));
    Tensor y = lv.unwrapClose(t.mul(2.0));  // unwraps and closes the level in one call
    assertArrayEquals(new double[] {2, 4}, y.toDoubleArray());
    assertEquals(0, NativeCore.adj_level_depth());
    lv.close();
  }

  @Test
  void aVjpLevelWithoutAHandleEndsThroughItsTracedInput() {
    Tensor x = Tensor.of(1.0, 2.0);
    // closed on a failure path, the traced input open: ended through it
    TransformLevel a = TransformLevel.vjpOf(x);
    assertEquals(1, NativeCore.adj_level_depth());
    assertEquals(0L, a.handleIfAny());
    a.close();
    assertEquals(0, NativeCore.adj_level_depth());
    // the function closed its traced input: ended as the innermost level
    TransformLevel b = TransformLevel.vjpOf(x);
    b.tracedInput().close();
    b.close();
    assertEquals(0, NativeCore.adj_level_depth());
    // a handle taken for several outputs: closed through the handle
    TransformLevel c = TransformLevel.vjpOf(x);
    Tensor y = c.unwrapGrad(c.tracedInput().exp());
    assertNotEquals(0L, c.handleIfAny());
    c.close();
    assertEquals(0, NativeCore.adj_level_depth());
    assertArrayEquals(new double[] {Math.exp(1), Math.exp(2)}, y.toDoubleArray(), 1e-15);
  }

  @Test
  void theBodysExceptionWinsAndAFailureToEndIsSuppressed() throws Exception {
    // a level of the body's own left on the stack makes ending the transform's level fail; on a
    // thread of its own, whose stack then stays dirty
    AtomicReference<Throwable> seen = new AtomicReference<>();
    Thread th = new Thread(() -> {
      RuntimeException boom = new RuntimeException("boom");
      try (TransformLevel lv = TransformLevel.begin(TransformLevel.VMAP, 2, Randomness.ERROR)) {
        NativeCore.adj_level_begin(TransformLevel.GRAD, 0, 0);
        throw boom;
      } catch (Throwable e) {
        seen.set(e);
      }
    });
    th.start();
    th.join();
    Throwable e = seen.get();
    assertEquals("boom", e.getMessage());
    assertEquals(1, e.getSuppressed().length);
    assertTrue(e.getSuppressed()[0].getMessage().contains("innermost"), e.getSuppressed()[0].getMessage());
    // without an exception of the body, the failure to end is thrown
    seen.set(null);
    Thread th2 = new Thread(() -> {
      try (TransformLevel lv = TransformLevel.begin(TransformLevel.VMAP, 2, Randomness.ERROR)) {
        NativeCore.adj_level_begin(TransformLevel.GRAD, 0, 0);
      } catch (Throwable x) {
        seen.set(x);
      }
    });
    th2.start();
    th2.join();
    assertInstanceOf(IllegalStateException.class, seen.get());
    assertTrue(seen.get().getMessage().contains("innermost"), seen.get().getMessage());
  }
}
