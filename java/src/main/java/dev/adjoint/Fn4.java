package dev.adjoint;

/**
 * A function of 4 tensor arguments returning a tensor: what users write as a lambda and what
 * the transforms in {@link Func} take and return, e.g.
 * {@code Fn4 f = (a, b, c, d) -> a.mul(b).add(c.mul(d)); Fn4 g = Func.vmap(f, Func.inDims(0, 0, 0, 0));}
 *
 * <p>It is also an {@code Fn4Of<Tensor, Tensor, Tensor, Tensor, Tensor>} and so an {@link FnN} (arguments and result as
 * pytrees): it goes wherever one does;
 * a plain lambda {@code (a, b, c, d) -> ...} passed to a transform is typed as this interface.
 */
@FunctionalInterface
public interface Fn4 extends Fn4Of<Tensor, Tensor, Tensor, Tensor, Tensor> {
  /** Calls the function. */
  Tensor apply(Tensor a, Tensor b, Tensor c, Tensor d);

  /**
   * This function called with pytree arguments: there must be 4, each a tensor.
   *
   * <p>NOTE: Fn4 extends {@link Fn4Of}, which extends {@link FnN}, so that {@code grad(x -> ...)}
   * and the other transforms resolve to the tensor overload: Java picks the overload whose
   * functional interface is a subtype of the others' when a lambda's parameters are not typed
   * (JLS 15.12.2.5); with unrelated interfaces of 4 parameters each the call would be ambiguous.
   * Overridden (not Fn4Of's unchecked casts) so that a non-tensor argument is named.
   */
  @Override
  default Object apply(Object... args) {
    FnN.checkArity("function", args, 4);
    return apply(Pytree.expectTensor(args[0], "argument 0"), Pytree.expectTensor(args[1], "argument 1"), Pytree.expectTensor(args[2], "argument 2"), Pytree.expectTensor(args[3], "argument 3"));
  }
}
