package dev.adjoint;

/** A dim or an index out of range for the tensor it applies to. */
public class InvalidIndexException extends AdjointArgumentException {
  /**
   * @param op      the op that rejected its input
   * @param message the whole message, starting with the op's name
   */
  public InvalidIndexException(String op, String message) {
    super(op, message);
  }
}
