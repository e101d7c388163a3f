package dev.adjoint;

import java.util.List;

/**
 * A general function: arguments and result are pytrees, i.e. a {@link Tensor}, or
 * {@link java.util.List}s, {@link java.util.Map}s, arrays and records nesting tensors (see
 * {@link Pytree}; other values pass through as constants). Every transform in {@link Func} accepts
 * one and returns one, so they nest freely. The typed functions {@link Fn1}..{@link Fn4} are FnNs
 * too.
 *
 * <pre>{@code
 * FnN loss = args -> {
 *   Map<String, Tensor> p = (Map<String, Tensor>) args[0];
 *   Tensor x = (Tensor) args[1], t = (Tensor) args[2];
 *   return F.crossEntropy(F.linear(x, p.get("w"), p.get("b")), t);
 * };
 * Map<String, Tensor> g = (Map<String, Tensor>) Func.grad(loss).apply(params, x, t);
 * }</pre>
 *
 * <p>With a fixed number of arguments of known types, {@link Fn1Of}..{@link Fn4Of} say the
 * same without casts ({@code Fn3Of<Map<String, Tensor>, Tensor, Tensor, Tensor> loss = (p, x, t) -> ...}),
 * and the transforms keep the types. A lambda written straight into a transform's call,
 * {@code grad(a -> ...)}, is an {@link Fn1} (a function of one tensor): give a pytree function
 * its type by declaring it, as above, or with a cast, {@code grad((FnN) a -> ...)}.
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
