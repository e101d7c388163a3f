package dev.adjoint;

/**
 * A function of 1 tensor argument returning a tensor: what users write as a lambda and what
 * the transforms in {@link Func} take and return, e.g.
 * {@code Fn1 f = x -> x.sin().sum(); Fn1 g = Func.grad(f);}
 *
 * <p>It is also an {@link FnN} (arguments and result as pytrees), so it goes wherever one does;
 * a plain lambda {@code x -> ...} passed to a transform is typed as this interface.
 */
@FunctionalInterface
public interface Fn1 extends FnN {
  Tensor apply(Tensor x);

  /**
   * This function called with pytree arguments: there must be 1, each a tensor.
   *
   * <p>NOTE: Fn1..Fn4 extend {@link FnN} so that {@code grad(x -> ...)} and the other
   * transforms resolve to the typed overload: Java picks the overload whose functional interface
   * is a subtype of the other's when a lambda's parameters are not typed (JLS 15.12.2.5); with two
   * unrelated interfaces of one parameter each the call was ambiguous.
   */
  @Override
  default Object apply(Object... args) {
    FnN.checkArity("function", args, 1);
    return apply(Pytree.expectTensor(args[0], "argument 0"));
  }

  /** This function as a general {@link FnN}: itself. */
  default FnN asFnN() {
    return this;
  }
}
