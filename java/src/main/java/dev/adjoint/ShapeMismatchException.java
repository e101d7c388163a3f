package dev.adjoint;

/** Shapes that do not fit together (broadcasting, matmul, reshape, cat, ...). */
public class ShapeMismatchException extends AdjointArgumentException {
  /**
   * @param op      the op that rejected its input
   * @param message the whole message, starting with the op's name
   */
  public ShapeMismatchException(String op, String message) {
    super(op, message);
  }
}
