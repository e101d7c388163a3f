package dev.adjoint;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The pieces of a custom derivative rule, as {@link Func#customVjp} and {@link Func#customJvp}
 * take them (like {@code jax.custom_vjp}'s fwd/bwd and {@code jax.custom_jvp}'s rule). Users write
 * them as lambdas and seldom name these types:
 *
 * <pre>{@code
 * // log(1 + exp(x)) with a derivative that stays finite for large x (JAX's example)
 * Fn1 log1pexp = Func.customJvp(
 *     y -> y.exp().add(1).log(),
 *     (y, dy) -> JvpResult.of(y.exp().add(1).log(), y.sigmoid().mul(dy)));
 *
 * // the identity whose gradient is clipped to [-1, 1] in the backward pass
 * Fn1 clipGrad = Func.customVjp(
 *     y -> y,
 *     y -> Custom.fwd(y, null),                          // output, residuals (none)
 *     (r, ct) -> Tensor.where(ct.abs().gt(1.0), ct.sign(), ct));
 * }</pre>
 *
 * <p>The typed forms ({@link VjpFwd1}, {@link VjpBwd1}, {@link JvpRule1}) are also pytree forms,
 * so an implicitly typed lambda given with a one-tensor function picks them.
 */
public final class Custom {
  private Custom() {}

  /** What a vjp rule's fwd returns: the function's output and the residuals its bwd needs. */
  public record Fwd<R>(Object output, R residuals) {}

  /** {@code new Fwd<>(output, residuals)}: the function's output (a tensor or pytree) and the residuals (any pytree). */
  public static <R> Fwd<R> fwd(Object output, R residuals) {
    return new Fwd<>(output, residuals);
  }

  /** fwd of a pytree function: the output and residuals for the given arguments. */
  @FunctionalInterface
  public interface VjpFwd<R> {
    Fwd<R> apply(Object... args);
  }

  /** fwd of a one-tensor function. */
  @FunctionalInterface
  public interface VjpFwd1<R> extends VjpFwd<R> {
    Fwd<R> apply(Tensor x);

    @Override
    default Fwd<R> apply(Object... args) {
      FnN.checkArity("customVjp fwd", args, 1);
      return apply(Pytree.expectTensor(args[0], "argument 0"));
    }
  }

  /**
   * bwd of a pytree function: given the residuals and the cotangent of the output (the output's
   * structure), the cotangent of each argument, in order (null: zero; an argument's own structure).
   */
  @FunctionalInterface
  public interface VjpBwd<R> {
    List<?> apply(R residuals, Object cotangent);
  }

  /** bwd of a one-tensor function: the cotangent of its argument (null: zero). */
  @FunctionalInterface
  public interface VjpBwd1<R> extends VjpBwd<R> {
    Tensor apply(R residuals, Tensor cotangent);

    @Override
    default List<?> apply(R residuals, Object cotangent) {
      return Collections.singletonList(apply(residuals, Pytree.expectTensor(cotangent, "cotangent")));
    }
  }

  /**
   * A jvp rule of a pytree function: given the arguments and a tangent for each (the argument's
   * structure; zeros where an argument has no tangent), the output and its tangent
   * ({@link JvpResult#of}), the tangent linear in the tangents.
   */
  @FunctionalInterface
  public interface JvpRule {
    JvpResult apply(Object[] primals, Object[] tangents);
  }

  /** A jvp rule of a one-tensor function: {@code (x, t) -> JvpResult.of(f(x), J t)}. */
  @FunctionalInterface
  public interface JvpRule1 extends JvpRule {
    JvpResult apply(Tensor x, Tensor t);

    @Override
    default JvpResult apply(Object[] primals, Object[] tangents) {
      FnN.checkArity("customJvp rule", primals, 1);
      return apply(Pytree.expectTensor(primals[0], "primal 0"), Pytree.expectTensor(tangents[0], "tangent 0"));
    }
  }

  /** Cotangents of several arguments for a bwd, any of which may be null (zero). */
  public static List<Object> cotangents(Object... perArgument) {
    return Collections.unmodifiableList(Arrays.asList(perArgument));
  }
}
