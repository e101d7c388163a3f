package dev.adjoint;

/**
 * A function of 1 tensor argument(s) returning a tensor: what users write as a lambda and what
 * the transforms in {@link Func} take and return, e.g.
 * {@code Fn1 f = (x) -> ...; Fn1 g = Func.grad(f);}.
 */
@FunctionalInterface
public interface Fn1 {
  /** Calls the function. */
  Tensor apply(Tensor x);

  /** This function as a general {@link FnN} (arguments and result as pytrees). */
  default FnN asFnN() {
    return args -> {
      FnN.checkArity("function", args, 1);
      return apply(Pytree.expectTensor(args[0], "argument 0"));
    };
  }
}
