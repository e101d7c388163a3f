package dev.adjoint;

/** A dim or an index out of range for the tensor it applies to. */
public class InvalidIndexException extends AdjointArgumentException {
  public InvalidIndexException(String op, String message) {
    super(op, message);
  }
}
