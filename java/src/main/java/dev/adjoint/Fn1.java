package dev.adjoint;

/**
 * A function of 1 tensor argument returning a tensor: what users write as a lambda and what
 * the transforms in {@link Func} take and return, e.g.
 * {@code Fn1 f = x -> x.sin().sum(); Fn1 g = Func.grad(f);}
 *
 * <p>It is also an {@code Fn1Of<Tensor, Tensor>} and so an {@link FnN} (arguments and result as
 * pytrees): it goes wherever one does;
 * a plain lambda {@code x -> ...} passed to a transform is typed as this interface.
 */
@FunctionalInterface
public interface Fn1 extends Fn1Of<Tensor, Tensor> {
  /** Calls the function. */
  Tensor apply(Tensor x);

  /**
   * This function called with pytree arguments: there must be 1, each a tensor.
   *
   * <p>NOTE: Fn1 extends {@link Fn1Of}, which extends {@link FnN}, so that {@code grad(x -> ...)}
   * and the other transforms resolve to the tensor overload: Java picks the overload whose
   * functional interface is a subtype of the others' when a lambda's parameters are not typed
   * (JLS 15.12.2.5); with unrelated interfaces of 1 parameter each the call would be ambiguous.
   * Overridden (not Fn1Of's unchecked casts) so that a non-tensor argument is named.
   */
  @Override
  default Object apply(Object... args) {
    FnN.checkArity("function", args, 1);
    return apply(Pytree.expectTensor(args[0], "argument 0"));
  }
}
