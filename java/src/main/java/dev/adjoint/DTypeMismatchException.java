package dev.adjoint;

/** Dtypes that do not fit together, or a dtype an op does not accept. */
public class DTypeMismatchException extends AdjointArgumentException {
  /**
   * @param op      the op that rejected its input
   * @param message the whole message, starting with the op's name
   */
  public DTypeMismatchException(String op, String message) {
    super(op, message);
  }
}
