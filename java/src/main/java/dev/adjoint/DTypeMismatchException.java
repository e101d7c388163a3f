package dev.adjoint;

/** Dtypes that do not fit together, or a dtype an op does not accept. */
public class DTypeMismatchException extends AdjointArgumentException {
  public DTypeMismatchException(String op, String message) {
    super(op, message);
  }
}
