package dev.adjoint;

/** The native core could not allocate a tensor; the message names the op and the size. */
public class NativeOutOfMemoryException extends RuntimeException {
  /** @param message the whole message, naming the op and the size */
  public NativeOutOfMemoryException(String message) {
    super(message);
  }
}
