package dev.adjoint;

/**
 * A function of 3 tensor arguments returning a tensor: what users write as a lambda and what
 * the transforms in {@link Func} take and return, e.g.
 * {@code Fn3 f = (a, b, c) -> c.linear(a, b).tanh(); Fn3 j = Func.jacrev(f, 2);}
 *
 * <p>It is also an {@link FnN} (arguments and result as pytrees), so it goes wherever one does;
 * a plain lambda {@code (a, b, c) -> ...} passed to a transform is typed as this interface.
 */
@FunctionalInterface
public interface Fn3 extends FnN {
  Tensor apply(Tensor a, Tensor b, Tensor c);

  /**
   * This function called with pytree arguments: there must be 3, each a tensor.
   *
   * <p>NOTE: Fn1..Fn4 extend {@link FnN} so that {@code grad(x -> ...)} and the other
   * transforms resolve to the typed overload: Java picks the overload whose functional interface
   * is a subtype of the other's when a lambda's parameters are not typed (JLS 15.12.2.5); with two
   * unrelated interfaces of one parameter each the call was ambiguous.
   */
  @Override
  default Object apply(Object... args) {
    FnN.checkArity("function", args, 3);
    return apply(Pytree.expectTensor(args[0], "argument 0"), Pytree.expectTensor(args[1], "argument 1"), Pytree.expectTensor(args[2], "argument 2"));
  }

  /** This function as a general {@link FnN}: itself. */
  default FnN asFnN() {
    return this;
  }
}
