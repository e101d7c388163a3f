package dev.adjoint;

/**
 * A function of 3 arguments of declared pytree types returning a pytree of type {@code R}: the
 * typed form of {@link FnN}, for functions of records, maps or lists of tensors, e.g. with
 * {@code record Params(Tensor w, Tensor b)}:
 *
 * <pre>{@code
 * record Params(Tensor w, Tensor b) {}
 * Fn3Of<Params, Tensor, Tensor, Tensor> loss = (p, x, y) -> F.linear(x, p.w(), p.b()).sub(y).pow(2).mean();
 * Params g = Func.grad(loss).apply(new Params(w, b), xs, ys);      // gradient with respect to p
 * }</pre>
 *
 * <p>The transforms in {@link Func} keep the declared types: {@code grad} of an
 * {@code Fn3Of<A, B, C, Tensor>} is an {@code Fn3Of<A, B, C, A>} (the gradient with respect to
 * argument 0 has its structure), {@code vmap} keeps {@code R}; the transforms whose results have
 * no declared type (the gradient with respect to another argument, Jacobians, Hessians) return
 * {@code Object}. {@link Fn3} (tensors in, a tensor out) is an {@code Fn3Of<Tensor, Tensor, Tensor, Tensor>}.
 * A type argument should be {@code Tensor}, a record, a registered class or an interface
 * ({@code Map<String, Tensor>}, {@code List<Tensor>}): the transforms call the function with
 * pytrees they rebuilt (a record through its canonical constructor, a map or a list as some
 * {@code Map} or {@code List}).
 */
@FunctionalInterface
public interface Fn3Of<A, B, C, R> extends FnN {
  R apply(A a, B b, C c);

  /**
   * This function called with pytree arguments: there must be 3, of the declared types.
   *
   * <p>NOTE: Fn3Of extends {@link FnN} and {@link Fn3} extends Fn3Of, so that a lambda written
   * into a transform's call without parameter types, {@code grad(x -> ...)}, resolves to the
   * tensor overload (Fn3), a declared Fn3Of to the typed one and an FnN to the pytree one: Java
   * picks the overload whose functional interface is a subtype of the others' (JLS 15.12.2.5).
   */
  @Override
  @SuppressWarnings("unchecked")
  default Object apply(Object... args) {
    FnN.checkArity("function", args, 3);
    return apply((A) args[0], (B) args[1], (C) args[2]);
  }

  /** This function as a general {@link FnN}: itself. */
  default FnN asFnN() {
    return this;
  }
}
