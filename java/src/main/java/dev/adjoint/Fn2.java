package dev.adjoint;

/**
 * A function of 2 tensor arguments returning a tensor: what users write as a lambda and what
 * the transforms in {@link Func} take and return, e.g.
 * {@code Fn2 f = (a, b) -> a.mul(b).sum(); Fn2 g = Func.grad(f, 1);}
 *
 * <p>It is also an {@code Fn2Of<Tensor, Tensor, Tensor>} and so an {@link FnN} (arguments and result as
 * pytrees): it goes wherever one does;
 * a plain lambda {@code (a, b) -> ...} passed to a transform is typed as this interface.
 */
@FunctionalInterface
public interface Fn2 extends Fn2Of<Tensor, Tensor, Tensor> {
  /** Calls the function. */
  Tensor apply(Tensor a, Tensor b);

  /**
   * This function called with pytree arguments: there must be 2, each a tensor.
   *
   * <p>NOTE: Fn2 extends {@link Fn2Of}, which extends {@link FnN}, so that {@code grad(x -> ...)}
   * and the other transforms resolve to the tensor overload: Java picks the overload whose
   * functional interface is a subtype of the others' when a lambda's parameters are not typed
   * (JLS 15.12.2.5); with unrelated interfaces of 2 parameters each the call would be ambiguous.
   * Overridden (not Fn2Of's unchecked casts) so that a non-tensor argument is named.
   */
  @Override
  default Object apply(Object... args) {
    FnN.checkArity("function", args, 2);
    return apply(Pytree.expectTensor(args[0], "argument 0"), Pytree.expectTensor(args[1], "argument 1"));
  }
}
