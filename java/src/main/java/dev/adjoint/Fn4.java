package dev.adjoint;

/**
 * A function of 4 tensor argument(s) returning a tensor: what users write as a lambda and what
 * the transforms in {@link Func} take and return, e.g.
 * {@code Fn4 f = (a, b, c, d) -> ...; Fn4 g = Func.grad(f);}.
 */
@FunctionalInterface
public interface Fn4 {
  /** Calls the function. */
  Tensor apply(Tensor a, Tensor b, Tensor c, Tensor d);

  /** This function as a general {@link FnN} (arguments and result as pytrees). */
  default FnN asFnN() {
    return args -> {
      FnN.checkArity("function", args, 4);
      return apply(Pytree.expectTensor(args[0], "argument 0"), Pytree.expectTensor(args[1], "argument 1"), Pytree.expectTensor(args[2], "argument 2"), Pytree.expectTensor(args[3], "argument 3"));
    };
  }
}
