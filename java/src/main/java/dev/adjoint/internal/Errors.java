package dev.adjoint.internal;

import dev.adjoint.AdjointArgumentException;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.InvalidIndexException;
import dev.adjoint.NativeOutOfMemoryException;
import dev.adjoint.ShapeMismatchException;

/** Turns the native core's last error (kind + message, per thread) into a typed Java exception. */
public final class Errors {
  // NOTE: kinds mirror ADJ_ERR_* in native/include/adjoint/adjoint.h.
  static final int ARGUMENT = 1, SHAPE = 2, DTYPE = 3, INDEX = 4, STATE = 5, OOM = 6, UNSUPPORTED = 7, CALLBACK = 9;

  // NOTE: a custom rule's function that threw inside a callback from the core (CustomRules) leaves
  // its exception here while the core unwinds (ADJ_ERR_CALLBACK); the native call's caller gets
  // it back from last(), unchanged. Per thread; at most one is in flight, as the core stops at the
  // first failure.
  private static final ThreadLocal<Throwable> CALLBACK_FAILURE = new ThreadLocal<>();

  /** Keeps {@code t}, thrown by a function the core called back, for the caller of the native call. */
  public static void setCallbackFailure(Throwable t) {
    CALLBACK_FAILURE.set(t);
  }

  private Errors() {}

  /** Returns {@code handle} if nonzero, else throws the pending native error. */
  public static long check(long handle) {
    if (handle == 0) throw last();
    return handle;
  }

  /** Returns {@code status} if non-negative, else throws the pending native error. */
  public static int check(int status) {
    if (status < 0) throw last();
    return status;
  }

  /** The exception for the native error pending on this thread. */
  public static RuntimeException last() {
    int kind = NativeCore.adj_last_error_kind();
    String msg = NativeCore.adj_last_error_message();
    int colon = msg.indexOf(": ");
    String op = colon > 0 ? msg.substring(0, colon) : "adjoint";
    switch (kind) {
      case ARGUMENT: return new AdjointArgumentException(op, msg);
      case SHAPE: return new ShapeMismatchException(op, msg);
      case DTYPE: return new DTypeMismatchException(op, msg);
      case INDEX: return new InvalidIndexException(op, msg);
      case STATE: return new IllegalStateException(msg);
      case OOM: return new NativeOutOfMemoryException(msg);
      case UNSUPPORTED: return new UnsupportedOperationException(msg);
      case CALLBACK: return callbackFailure(msg);
      default: return new IllegalStateException("adjoint internal error: " + msg);
    }
  }

  /**
   * The exception a callback kept: a RuntimeException is returned as it is; an Error or a checked
   * exception (thrown sneakily) is thrown from here as it is, since it is no RuntimeException.
   */
  private static RuntimeException callbackFailure(String msg) {
    Throwable t = CALLBACK_FAILURE.get();
    CALLBACK_FAILURE.remove();
    if (t == null) return new IllegalStateException("adjoint: " + msg);
    if (t instanceof RuntimeException r) return r;
    throw Errors.<RuntimeException>sneaky(t);
  }

  @SuppressWarnings("unchecked")
  private static <T extends Throwable> T sneaky(Throwable t) throws T {
    throw (T) t;
  }
}
