package dev.adjoint;

/** Shapes that do not fit together (broadcasting, matmul, reshape, cat, ...). */
public class ShapeMismatchException extends AdjointArgumentException {
  public ShapeMismatchException(String op, String message) {
    super(op, message);
  }
}
