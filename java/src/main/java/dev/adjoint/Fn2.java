package dev.adjoint;

/**
 * A function of 2 tensor argument(s) returning a tensor: what users write as a lambda and what
 * the transforms in {@link Func} take and return, e.g.
 * {@code Fn2 f = (a, b) -> ...; Fn2 g = Func.grad(f);}.
 */
@FunctionalInterface
public interface Fn2 {
  /** Calls the function. */
  Tensor apply(Tensor a, Tensor b);

  /** This function as a general {@link FnN} (arguments and result as pytrees). */
  default FnN asFnN() {
    return args -> {
      FnN.checkArity("function", args, 2);
      return apply(Pytree.expectTensor(args[0], "argument 0"), Pytree.expectTensor(args[1], "argument 1"));
    };
  }
}
