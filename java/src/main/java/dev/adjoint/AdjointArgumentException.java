package dev.adjoint;

/**
 * Bad input to an op: the message starts with the op's name and names the offending shapes,
 * dtypes, dims or values, e.g. {@code add: shapes [3] and [2] cannot be broadcast (dim 0: 3 vs 2)}.
 * Subclasses say which kind of mismatch it is.
 */
public class AdjointArgumentException extends IllegalArgumentException {
  private final String op;

  /**
   * @param op      the op that rejected its input
   * @param message the whole message, starting with the op's name
   */
  public AdjointArgumentException(String op, String message) {
    super(message);
    this.op = op;
  }

  /** Name of the op that rejected its input, e.g. {@code "matmul"}. */
  public String op() {
    return op;
  }
}
