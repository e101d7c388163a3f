package dev.adjoint;

/** The native core could not allocate a tensor; the message names the op and the size. */
public class NativeOutOfMemoryException extends RuntimeException {
  public NativeOutOfMemoryException(String message) {
    super(message);
  }
}
