package dev.adjoint;

/**
 * A function of 4 tensor arguments returning a tensor: what users write as a lambda and what
 * the transforms in {@link Func} take and return, e.g.
 * {@code Fn4 f = (a, b, c, d) -> a.mul(b).add(c.mul(d)); Fn4 g = Func.vmap(f, Func.inDims(0, 0, 0, 0));}
 *
 * <p>It is also an {@link FnN} (arguments and result as pytrees), so it goes wherever one does;
 * a plain lambda {@code (a, b, c, d) -> ...} passed to a transform is typed as this interface.
 */
@FunctionalInterface
public interface Fn4 extends FnN {
  Tensor apply(Tensor a, Tensor b, Tensor c, Tensor d);

  /**
   * This function called with pytree arguments: there must be 4, each a tensor.
   *
   * <p>NOTE: Fn1..Fn4 extend {@link FnN} so that {@code grad(x -> ...)} and the other
   * transforms resolve to the typed overload: Java picks the overload whose functional interface
   * is a subtype of the other's when a lambda's parameters are not typed (JLS 15.12.2.5); with two
   * unrelated interfaces of one parameter each the call was ambiguous.
   */
  @Override
  default Object apply(Object... args) {
    FnN.checkArity("function", args, 4);
    return apply(Pytree.expectTensor(args[0], "argument 0"), Pytree.expectTensor(args[1], "argument 1"), Pytree.expectTensor(args[2], "argument 2"), Pytree.expectTensor(args[3], "argument 3"));
  }

  /** This function as a general {@link FnN}: itself. */
  default FnN asFnN() {
    return this;
  }
}
