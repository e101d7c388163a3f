package dev.adjoint;

/**
 * A function of 3 tensor arguments returning a tensor: what users write as a lambda and what
 * the transforms in {@link Func} take and return, e.g.
 * {@code Fn3 f = (a, b, c) -> c.linear(a, b).tanh(); Fn3 j = Func.jacrev(f, 2);}
 *
 * <p>It is also an {@code Fn3Of<Tensor, Tensor, Tensor, Tensor>} and so an {@link FnN} (arguments and result as
 * pytrees): it goes wherever one does;
 * a plain lambda {@code (a, b, c) -> ...} passed to a transform is typed as this interface.
 */
@FunctionalInterface
public interface Fn3 extends Fn3Of<Tensor, Tensor, Tensor, Tensor> {
  /** Calls the function. */
  Tensor apply(Tensor a, Tensor b, Tensor c);

  /**
   * This function called with pytree arguments: there must be 3, each a tensor.
   *
   * <p>NOTE: Fn3 extends {@link Fn3Of}, which extends {@link FnN}, so that {@code grad(x -> ...)}
   * and the other transforms resolve to the tensor overload: Java picks the overload whose
   * functional interface is a subtype of the others' when a lambda's parameters are not typed
   * (JLS 15.12.2.5); with unrelated interfaces of 3 parameters each the call would be ambiguous.
   * Overridden (not Fn3Of's unchecked casts) so that a non-tensor argument is named.
   */
  @Override
  default Object apply(Object... args) {
    FnN.checkArity("function", args, 3);
    return apply(Pytree.expectTensor(args[0], "argument 0"), Pytree.expectTensor(args[1], "argument 1"), Pytree.expectTensor(args[2], "argument 2"));
  }
}
