package dev.adjoint;

/**
 * A function of 2 arguments of declared pytree types returning a pytree of type {@code R}: the
 * typed form of {@link FnN}, for functions of records, maps or lists of tensors, e.g. with
 * {@code record Params(Tensor w, Tensor b)}:
 *
 * <pre>{@code
 * record Params(Tensor w, Tensor b) {}
 * Fn2Of<Params, Tensor, Tensor> predict = (p, x) -> F.linear(x, p.w(), p.b()).tanh();
 * Tensor out = Func.vmap(predict, Func.inDims(null, 0)).apply(new Params(w, b), xs);
 * }</pre>
 *
 * <p>The transforms in {@link Func} keep the declared types: {@code grad} of an
 * {@code Fn2Of<A, B, Tensor>} is an {@code Fn2Of<A, B, A>} (the gradient with respect to
 * argument 0 has its structure), {@code vmap} keeps {@code R}; the transforms whose results have
 * no declared type (the gradient with respect to another argument, Jacobians, Hessians) return
 * {@code Object}. {@link Fn2} (tensors in, a tensor out) is an {@code Fn2Of<Tensor, Tensor, Tensor>}.
 * A type argument should be {@code Tensor}, a record, a registered class or an interface
 * ({@code Map<String, Tensor>}, {@code List<Tensor>}): the transforms call the function with
 * pytrees they rebuilt (a record through its canonical constructor, a map or a list as some
 * {@code Map} or {@code List}).
 */
@FunctionalInterface
public interface Fn2Of<A, B, R> extends FnN {
  R apply(A a, B b);

  /**
   * This function called with pytree arguments: there must be 2, of the declared types.
   *
   * <p>NOTE: Fn2Of extends {@link FnN} and {@link Fn2} extends Fn2Of, so that a lambda written
   * into a transform's call without parameter types, {@code grad(x -> ...)}, resolves to the
   * tensor overload (Fn2), a declared Fn2Of to the typed one and an FnN to the pytree one: Java
   * picks the overload whose functional interface is a subtype of the others' (JLS 15.12.2.5).
   */
  @Override
  @SuppressWarnings("unchecked")
  default Object apply(Object... args) {
    FnN.checkArity("function", args, 2);
    return apply((A) args[0], (B) args[1]);
  }

  /** This function as a general {@link FnN}: itself. */
  default FnN asFnN() {
    return this;
  }
}
