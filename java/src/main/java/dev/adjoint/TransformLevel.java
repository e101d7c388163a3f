package dev.adjoint;

import dev.adjoint.internal.Errors;
import dev.adjoint.internal.NativeCore;

/**
 * One native transform level for one call of a transform: begun, used by that call to wrap its
 * inputs and unwrap its outputs, and closed exactly once, on every path. Transforms hold it in a
 * try-with-resources statement.
 *
 * <p>NOTE (lifecycle): a level is OPEN (on this thread's level stack), then ENDED (popped: its
 * tracers are dead to new ops, while its handle may still unwrap values), then CLOSED (the handle
 * released too). Some native calls end a level as a side effect, whatever happens to them (a
 * backward pass with ADJ_BACKWARD_END, the unwrap-and-close calls): {@link #ending} advances the
 * state just before such a call, after every argument has been computed ({@link Tensor#h()} throws
 * for a closed tensor, and then the call is not made). {@link #close} finishes what is left: it
 * ends an OPEN level and releases an ENDED one's handle, and does nothing once CLOSED. So on the
 * failure path the user's exception is the one thrown and a failure to end the level is added to
 * it as suppressed (the rule of try-with-resources), and on the success path that failure is
 * thrown.
 *
 * <p>A vjp of one tensor begins its level and wraps the tensor in one native call
 * ({@link #vjpOf}): that level has no handle (its traced input holds it; the backward calls find
 * it there) until one is asked for ({@link #handle}, for several outputs or aux values).
 */
final class TransformLevel implements AutoCloseable {
  static final int JVP = 0, GRAD = 1, VMAP = 2;  // ADJ_LEVEL_*
  private static final int OPEN = 0, ENDED = 1, CLOSED = 2;

  private long handle;  // 0: a vjp level that has no handle of its own (yet)
  private final Tensor traced;  // vjpOf's traced input, else null
  private int state = OPEN;

  private TransformLevel(long handle, Tensor traced) {
    this.handle = handle;
    this.traced = traced;
  }

  /** Pushes a new level of the given kind on this thread's stack. */
  static TransformLevel begin(int kind, long batch, Randomness r) {
    long l = NativeCore.adj_level_begin(kind, batch, r.ordinal());
    if (l == 0) throw Errors.last();
    return new TransformLevel(l, null);
  }

  /** A grad level for the vjp of one tensor: begun, and {@code x} wrapped (see {@link #tracedInput}), in one native call. */
  static TransformLevel vjpOf(Tensor x) {
    return new TransformLevel(0, Tensor.wrap(NativeCore.adj_vjp_begin(x.h()), x).sameMetaAs(x));
  }

  /** The input traced by a {@link #vjpOf} level. */
  Tensor tracedInput() {
    return traced;
  }

  /** True for a {@link #vjpOf} level: {@link #unwrapClose} checks there that the output is floating point. */
  boolean checksOutputDType() {
    return traced != null && handle == 0;
  }

  /** The native handle, for wrapping and unwrapping; a {@link #vjpOf} level takes one now (a reference of its own). */
  long handle() {
    long h = handle;
    return h != 0 ? h : vjpHandle();
  }

  /** The handle if the level has one (0 otherwise), for the pullback: it stays valid while the level's tracers live. */
  long handleIfAny() {
    return handle;
  }

  private long vjpHandle() {
    long h = NativeCore.adj_vjp_level(traced.h());
    if (h == 0) throw Errors.last();
    return handle = h;
  }

  /**
   * For a native call about to be made that ends the level whatever happens (and releases its
   * handle when {@code releases}): records that, and returns the handle to pass (0 for a
   * {@link #vjpOf} level without one: the backward calls then take the level of their first input).
   */
  long ending(boolean releases) {
    state = releases ? CLOSED : ENDED;
    return handle;
  }

  /** {@code t} (a tensor of this grad level) unwrapped to its value; the level may have ended. */
  Tensor unwrapGrad(Tensor t) {
    long l = handle();
    return Tensor.wrap(NativeCore.adj_grad_unwrap(l, t.h()), t);
  }

  /** The one output {@code y} of a grad level unwrapped, and the level closed, in one native call. */
  Tensor unwrapClose(Tensor y) {
    long yh = y.h();
    if (checksOutputDType()) {
      long th = traced.h();
      state = CLOSED;
      return Tensor.wrap(NativeCore.adj_vjp_close(th, yh), y);  // also refuses a non-floating y, after the end
    }
    long l = ending(true);
    return Tensor.wrap(NativeCore.adj_grad_unwrap_close(l, yh), y);
  }

  /** Ends the level if it is still open and releases its handle; does nothing once closed. */
  @Override
  public void close() {
    int s = state;
    if (s == CLOSED) return;
    state = CLOSED;
    if (s == ENDED) {
      if (handle != 0) NativeCore.adj_level_release(handle);
    } else if (handle != 0) {
      Errors.check(NativeCore.adj_level_close(handle));  // releases the handle even when ending fails
    } else if (traced.isClosed()) {
      // The function closed the traced input, the level's only handle: end it as the innermost level.
      Errors.check(NativeCore.adj_vjp_abort());
    } else {
      long h = traced.h();
      long r = NativeCore.adj_vjp_close(h, h);
      if (r == 0) throw Errors.last();
      NativeCore.adj_release(r);
    }
  }
}
