package dev.adjoint;

/**
 * What {@link Func#jvp} returns: the function's output and its directional derivative (both with
 * the output's pytree structure), and the aux value when the function has one.
 */
public record JvpResult(Object outputTree, Object tangentTree, Object aux) {
  /** An output and its tangent (no aux): what a {@link Custom.JvpRule} returns. */
  public static JvpResult of(Object output, Object tangent) {
    return new JvpResult(output, tangent, null);
  }

  /** The output, which must be a single tensor. */
  public Tensor output() {
    return Pytree.expectTensor(outputTree, "jvp output");
  }

  /** The tangent of the output, which must be a single tensor. */
  public Tensor tangent() {
    return Pytree.expectTensor(tangentTree, "jvp tangent");
  }
}
