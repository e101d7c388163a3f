package dev.adjoint.internal;

import dev.adjoint.AdjointArgumentException;
import dev.adjoint.DTypeMismatchException;
import dev.adjoint.InvalidIndexException;
import dev.adjoint.NativeOutOfMemoryException;
import dev.adjoint.ShapeMismatchException;

/** Turns the native core's last error (kind + message, per thread) into a typed Java exception. */
public final class Errors {
  // NOTE: kinds mirror ADJ_ERR_* in native/include/adjoint/adjoint.h.
  static final int ARGUMENT = 1, SHAPE = 2, DTYPE = 3, INDEX = 4, STATE = 5, OOM = 6, UNSUPPORTED = 7;

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
      default: return new IllegalStateException("adjoint internal error: " + msg);
    }
  }
}
