package dev.adjoint;

/**
 * A function of 1 argument of declared pytree types returning a pytree of type {@code R}: the
 * typed form of {@link FnN}, for functions of records, maps or lists of tensors, e.g. with
 * {@code record Params(Tensor w, Tensor b)}:
 *
 * <pre>{@code
 * record Params(Tensor w, Tensor b) {}
 * Fn1Of<Params, Tensor> l2 = p -> p.w().pow(2).sum().add(p.b().pow(2).sum());
 * Params g = Func.grad(l2).apply(new Params(w, b));                // typed: no casts
 * }</pre>
 *
 * <p>The transforms in {@link Func} keep the declared types: {@code grad} of an
 * {@code Fn1Of<A, Tensor>} is an {@code Fn1Of<A, A>} (the gradient with respect to
 * argument 0 has its structure), {@code vmap} keeps {@code R}; the transforms whose results have
 * no declared type (the gradient with respect to another argument, Jacobians, Hessians) return
 * {@code Object}. {@link Fn1} (tensors in, a tensor out) is an {@code Fn1Of<Tensor, Tensor>}.
 * A type argument should be {@code Tensor}, a record, a registered class or an interface
 * ({@code Map<String, Tensor>}, {@code List<Tensor>}): the transforms call the function with
 * pytrees they rebuilt (a record through its canonical constructor, a map or a list as some
 * {@code Map} or {@code List}).
 */
@FunctionalInterface
public interface Fn1Of<A, R> extends FnN {
  R apply(A a);

  /**
   * This function called with pytree arguments: there must be 1, of the declared types.
   *
   * <p>NOTE: Fn1Of extends {@link FnN} and {@link Fn1} extends Fn1Of, so that a lambda written
   * into a transform's call without parameter types, {@code grad(x -> ...)}, resolves to the
   * tensor overload (Fn1), a declared Fn1Of to the typed one and an FnN to the pytree one: Java
   * picks the overload whose functional interface is a subtype of the others' (JLS 15.12.2.5).
   */
  @Override
  @SuppressWarnings("unchecked")
  default Object apply(Object... args) {
    FnN.checkArity("function", args, 1);
    return apply((A) args[0]);
  }

  /** This function as a general {@link FnN}: itself. */
  default FnN asFnN() {
    return this;
  }
}
