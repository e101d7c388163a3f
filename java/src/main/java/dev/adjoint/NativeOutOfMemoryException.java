package dev.adjoint;

/**
 * The native core could not allocate a tensor, even after a garbage collection and the Cleaner's
 * releases: the message names the op, the bytes asked for, the bytes native tensors hold and the
 * process's memory limit with its source (see {@link Adjoint#memoryLimit()}).
 */
public class NativeOutOfMemoryException extends RuntimeException {
  /** @param message the whole message, naming the op and the size */
  public NativeOutOfMemoryException(String message) {
    super(message);
  }
}
