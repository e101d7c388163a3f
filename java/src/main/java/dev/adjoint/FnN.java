package dev.adjoint;

import java.util.List;

/**
 * A general function: arguments and result are pytrees, i.e. a {@link Tensor}, or a
 * {@link java.util.List}, {@link java.util.Map} or array nesting tensors (other values pass through
 * as constants). Every transform in {@link Func} accepts one and returns one, so they nest freely.
 *
 * <pre>{@code
 * FnN loss = args -> { Map<String, Tensor> p = (Map<String, Tensor>) args[0]; ... return l; };
 * Map<String, Tensor> g = (Map<String, Tensor>) Func.grad(loss).apply(params, x, t);
 * }</pre>
 */
@FunctionalInterface
public interface FnN {
  /** Calls the function on pytree arguments; returns a pytree. */
  Object apply(Object... args);

  /** Calls the function and returns its result, which must be a single tensor. */
  default Tensor applyTensor(Object... args) {
    return Pytree.expectTensor(apply(args), "result");
  }

  /** Calls the function and returns the tensors of its result, flattened in order. */
  default List<Tensor> applyTensors(Object... args) {
    return Pytree.leaves(apply(args));
  }

  /**
   * Throws an {@link AdjointArgumentException} naming {@code what} unless there are {@code n}
   * arguments (used by the typed functions' {@code asFnN}).
   *
   * @param what the function, for the message
   * @param args the arguments received
   * @param n    the number expected
   */
  static void checkArity(String what, Object[] args, int n) {
    if (args.length != n)
      throw new AdjointArgumentException(what, what + ": expected " + n + " argument(s), got " + args.length);
  }
}
