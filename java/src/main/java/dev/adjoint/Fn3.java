package dev.adjoint;

/**
 * A function of 3 tensor argument(s) returning a tensor: what users write as a lambda and what
 * the transforms in {@link Func} take and return, e.g.
 * {@code Fn3 f = (a, b, c) -> ...; Fn3 g = Func.grad(f);}.
 */
@FunctionalInterface
public interface Fn3 {
  /** Calls the function. */
  Tensor apply(Tensor a, Tensor b, Tensor c);

  /** This function as a general {@link FnN} (arguments and result as pytrees). */
  default FnN asFnN() {
    return args -> {
      FnN.checkArity("function", args, 3);
      return apply(Pytree.expectTensor(args[0], "argument 0"), Pytree.expectTensor(args[1], "argument 1"), Pytree.expectTensor(args[2], "argument 2"));
    };
  }
}
