package dev.adjoint;

import java.util.Collections;
import java.util.List;

/**
 * Composable function transforms, named after {@code torch.func}: {@link #grad}, {@link #vjp},
 * {@link #jvp}, {@link #vmap}, {@link #jacrev}, {@link #jacfwd}, {@link #jacobian},
 * {@link #hessian}, {@link #hvp}, {@link #vhp}, {@link #linearize}. Each takes a function and
 * returns a function of the same kind, so they nest without limit:
 *
 * <pre>{@code
 * import static dev.adjoint.Func.*;
 *
 * Fn3 predict = (w, b, x) -> x.linear(w, b).tanh();
 * Tensor j  = jacrev(predict, 2).apply(weight, bias, x);                     // argnums=2
 * Tensor bj = vmap(jacrev(predict, 2), inDims(null, null, 0)).apply(weight, bias, xs);
 * Tensor h  = hessian(predict, 2).apply(weight, bias, x);                    // jacfwd(jacrev)
 * Tensor hv = jvp(grad(f), x, v).tangent();                                   // hvp
 * Fn1 df    = grad(x -> x.sin().sum());                                       // df.apply(x) is cos(x)
 * }</pre>
 *
 * <p>Three kinds of functions, each a subtype of the next:
 * <ul>
 *   <li>{@link Fn1}..{@link Fn4}: tensor arguments, a tensor result. A lambda written into the
 *       call needs no types or casts, as above: Java picks the most specific overload, this one.
 *   <li>{@link Fn1Of}..{@link Fn4Of}: arguments and result of declared pytree types, e.g. with
 *       {@code record Params(Tensor w, Tensor b)}:
 *       <pre>{@code
 * record Params(Tensor w, Tensor b) {}
 * Fn3Of<Params, Tensor, Tensor, Tensor> loss = (q, x, y) -> F.linear(x, q.w(), q.b()).tanh().sub(y).pow(2).mean();
 * Params g = grad(loss).apply(new Params(w, b), xs, ys);                                  // argument 0's type
 * Params perExample = vmap(grad(loss), inDims(null, 0, 0)).apply(new Params(w, b), xs, ys);  // the result's type
 * Object gx = grad(loss, 1).apply(new Params(w, b), xs, ys);                              // a Tensor here
 * }</pre>
 *       {@code grad(f)} is typed as argument 0 and {@code vmap} keeps the result type; what has no
 *       declared type is an {@code Object}: the gradient with respect to argument {@code argnum}
 *       (an int cannot select a type), Jacobians and Hessians ({@code jacrev}, {@code jacfwd},
 *       {@code hessian}: their pytrees are not the argument's). {@code vjp} and {@code jvp}
 *       take them as FnNs. They delegate to the FnN forms: no other transform logic.
 *   <li>{@link FnN}: arguments and results that are pytrees (lists, maps, arrays, records and
 *       registered classes holding tensors: see {@link Pytree}) with {@link Argnums} (several
 *       arguments, aux) and {@link VmapOptions}; the gradient of a function of a {@code Params} is
 *       a {@code Params} here too, as an {@code Object}.
 * </ul>
 * A pytree function is declared with its type (a lambda written into the call is an Fn1..Fn4).
 * A method reference to an overloaded method fits several of these: {@code Tensor::sin} is fine,
 * but {@code grad(Tensor::sum)} is ambiguous ({@code sum()}, {@code sum(dim)} and
 * {@code sum(dim, keepdim)} fit functions of 1, 2 and 3 arguments; so are {@code jacrev},
 * {@code jacfwd} and {@code hessian} of it, and {@code vmap} of it always was): write
 * {@code grad(x -> x.sum())} or {@code grad((Fn1) Tensor::sum)}.
 * All the tracing, the tape and the batching run in the native core; a transform of a transform
 * is traced by both.
 *
 * <p>Errors name the transform and what is wrong: {@code grad: the function must return a scalar
 * (0-d) tensor, got tensor [3]}, {@code vmap: mapped sizes differ: ...}, {@code jvp: tangent 0 has
 * shape [3] but primal 0 has shape [4]}, and a tensor that escaped a finished transform is rejected
 * when used or its values are read ({@link IllegalStateException} naming the transform).
 * Transform state is per thread.
 *
 * <p>A transformed function must return tensors (a tensor, or lists, maps, arrays and records of
 * them, a record's other components passing through; aux values may hold anything): null, another
 * value (a Double, a String, ...), a closed tensor or a pytree that contains itself is refused,
 * naming the transform and the place, e.g. {@code jvp: output[1] is null}. An object that holds
 * tensors without being a pytree node (not a record, not registered) is refused as an argument or
 * a result, naming its class and where it was found: its tensors would be taken for constants.
 * Only floating-point values have derivatives: an integer or bool output or differentiated
 * argument is refused by every transform alike ({@link DTypeMismatchException}, e.g.
 * {@code grad: output 0 has dtype int64 (shape [])}); return such values as aux. An empty input
 * or output gives an empty Jacobian of shape {@code [out..., in...]}.
 */
// NOTE: -Xlint:overloads flags each tensor overload (grad(Fn3, int)) as "potentially ambiguous"
// with its generic typed twin (grad(Fn3Of<A, B, C, Tensor>, int)); it is not: for a lambda written
// into the call Java picks the tensor overload, since Fn3 is a subtype of Fn3Of<Tensor, ...>
// (JLS 15.12.2.5), as TypedFunctionsTest checks by compiling such calls.
@SuppressWarnings("overloads")
public final class Func {
  private Func() {}

  // ------------------------------------------------------------------ options

  /** Differentiate with respect to argument {@code argnum}. */
  public static Argnums argnums(int argnum) {
    return Argnums.of(argnum);
  }

  /** Differentiate with respect to several arguments: results are lists, one entry per index. */
  public static Argnums argnums(int first, int... more) {
    return Argnums.of(first, more);
  }

  /** vmap's in_dims: one entry per argument (an Integer dim, null = not mapped, or a pytree of those). */
  public static VmapOptions inDims(Object... dims) {
    return VmapOptions.inDims(dims);
  }

  // ------------------------------------------------------------------ grad

  /**
   * Gradient of a scalar function of one tensor:
   *
   * <pre>{@code
   * Fn1 df = grad(x -> x.sin().sum());   // df.apply(x) is cos(x)
   * Tensor g = df.apply(Tensor.of(0.0, 1.0));
   * }</pre>
   */
  public static Fn1 grad(Fn1 f) {
    FnN g = grad(f.asFnN(), Argnums.of(0));
    return x -> g.applyTensor(x);
  }

  /** Gradient with respect to the first argument. */
  public static Fn2 grad(Fn2 f) {
    return grad(f, 0);
  }

  /** Gradient with respect to argument {@code argnum} (0 or 1). */
  public static Fn2 grad(Fn2 f, int argnum) {
    FnN g = grad(f.asFnN(), Argnums.of(argnum));
    return (a, b) -> g.applyTensor(a, b);
  }

  /** Gradient with respect to the first argument. */
  public static Fn3 grad(Fn3 f) {
    return grad(f, 0);
  }

  /** Gradient with respect to argument {@code argnum} (0..2). */
  public static Fn3 grad(Fn3 f, int argnum) {
    FnN g = grad(f.asFnN(), Argnums.of(argnum));
    return (a, b, c) -> g.applyTensor(a, b, c);
  }

  /** Gradient with respect to the first argument. */
  public static Fn4 grad(Fn4 f) {
    FnN g = grad(f.asFnN(), Argnums.of(0));
    return (a, b, c, d) -> g.applyTensor(a, b, c, d);
  }

  /**
   * Gradient of a typed function with respect to its first argument, typed as that argument:
   *
   * <pre>{@code
   * record Params(Tensor w, Tensor b) {}
   * Fn1Of<Params, Tensor> l2 = p -> p.w().pow(2).sum().add(p.b().pow(2).sum());
   * Params g = grad(l2).apply(new Params(w, b));   // 2w, 2b
   * }</pre>
   */
  public static <A> Fn1Of<A, A> grad(Fn1Of<A, Tensor> f) {
    FnN g = grad(f.asFnN(), Argnums.of(0));
    return a -> typed(g.apply(a));
  }

  /**
   * Gradient of a typed function with respect to its first argument, typed as that argument
   * (e.g. the parameters of {@code loss(params, x)}).
   */
  public static <A, B> Fn2Of<A, B, A> grad(Fn2Of<A, B, Tensor> f) {
    FnN g = grad(f.asFnN(), Argnums.of(0));
    return (a, b) -> typed(g.apply(a, b));
  }

  /**
   * Gradient of a typed function with respect to its first argument, typed as that argument:
   *
   * <pre>{@code
   * record Params(Tensor w, Tensor b) {}
   * Fn3Of<Params, Tensor, Tensor, Tensor> loss = (q, x, y) -> F.linear(x, q.w(), q.b()).sub(y).pow(2).mean();
   * Params g = grad(loss).apply(new Params(w, b), xs, ys);
   * Params perExample = vmap(grad(loss), inDims(null, 0, 0)).apply(new Params(w, b), xs, ys);
   * }</pre>
   */
  public static <A, B, C> Fn3Of<A, B, C, A> grad(Fn3Of<A, B, C, Tensor> f) {
    FnN g = grad(f.asFnN(), Argnums.of(0));
    return (a, b, c) -> typed(g.apply(a, b, c));
  }

  /** Gradient of a typed function with respect to its first argument, typed as that argument. */
  public static <A, B, C, D> Fn4Of<A, B, C, D, A> grad(Fn4Of<A, B, C, D, Tensor> f) {
    FnN g = grad(f.asFnN(), Argnums.of(0));
    return (a, b, c, d) -> typed(g.apply(a, b, c, d));
  }

  /**
   * Gradient of a typed function with respect to argument {@code argnum}. NOTE: the result is an
   * {@code Object} (the pytree of that argument's type; cast it, e.g. {@code (Tensor)}), since Java
   * cannot pick a type by an int's value; argument 0 keeps its type through {@link #grad(Fn2Of)}.
   */
  public static <A, B> Fn2Of<A, B, Object> grad(Fn2Of<A, B, Tensor> f, int argnum) {
    FnN g = grad(f.asFnN(), Argnums.of(argnum));
    return (a, b) -> g.apply(a, b);
  }

  /** Gradient of a typed function with respect to argument {@code argnum}, an {@code Object} (see {@link #grad(Fn2Of, int)}). */
  public static <A, B, C> Fn3Of<A, B, C, Object> grad(Fn3Of<A, B, C, Tensor> f, int argnum) {
    FnN g = grad(f.asFnN(), Argnums.of(argnum));
    return (a, b, c) -> g.apply(a, b, c);
  }

  /** Gradient with respect to the first argument (a pytree, e.g. a record: the gradient has its structure). */
  public static FnN grad(FnN f) {
    return grad(f, Argnums.of(0));
  }

  /**
   * Gradient of a function returning a scalar (0-d) tensor, with respect to the arguments in
   * {@code argnums}: one index gives that argument's structure (e.g. a {@code Map<String, Tensor>}
   * of parameters), several give a list. With {@code withAux()} the function returns
   * {@code List.of(loss, aux)} and the result is {@code List.of(grads, aux)}.
   */
  public static FnN grad(FnN f, Argnums argnums) {
    return args -> Transforms.grad("grad", f, argnums, args, false);
  }

  /** Gradient and value: the result is {@code List.of(grads, value)} (value = {@code List.of(loss, aux)} with aux). */
  public static FnN gradAndValue(FnN f, Argnums argnums) {
    return args -> Transforms.grad("gradAndValue", f, argnums, args, true);
  }

  // ------------------------------------------------------------------ vjp / jvp / linearize

  /** Output of {@code f} at {@code x} and its pullback: {@code vjp(f, x).applyTensor(ct)} = ct^T J. */
  public static VjpResult vjp(Fn1 f, Tensor x) {
    return Transforms.vjp("vjp", f, new Object[] {x}, false, null);
  }

  /** Output of {@code f} at {@code primals} (pytrees) and its pullback, which returns one cotangent per primal. */
  public static VjpResult vjp(FnN f, Object... primals) {
    return Transforms.vjp("vjp", f, primals, false, null);
  }

  /** Like {@link #vjp(FnN, Object...)} for a function returning {@code List.of(output, aux)}. */
  public static VjpResult vjpWithAux(FnN f, Object... primals) {
    return Transforms.vjp("vjp", f, primals, true, null);
  }

  /** Output of {@code f} at {@code x} and its derivative in direction {@code t}: J t. */
  public static JvpResult jvp(Fn1 f, Tensor x, Tensor t) {
    return Transforms.jvp("jvp", f.asFnN(), Collections.singletonList(x), Collections.singletonList(t), false);  // may be null: named
  }

  /** Output and directional derivative for pytree primals and matching tangents (one per argument). */
  public static JvpResult jvp(FnN f, List<?> primals, List<?> tangents) {
    return Transforms.jvp("jvp", f, primals, tangents, false);
  }

  /** Like {@link #jvp(FnN, List, List)} for a function returning {@code List.of(output, aux)}. */
  public static JvpResult jvpWithAux(FnN f, List<?> primals, List<?> tangents) {
    return Transforms.jvp("jvp", f, primals, tangents, true);
  }

  /**
   * The output of {@code f} at a point and its Jacobian-vector product there, as a function. It
   * holds the recorded tangent map: {@link Scope#keep} keeps it whole.
   */
  public record Linearized(Tensor output, Fn1 jvpFn) {}

  /**
   * {@code f(x)} and the linear map {@code t -> J t} at x, like {@code jax.linearize}: {@code f}
   * runs once, here; each {@code jvpFn} call applies only the recorded tangent map (no primal op),
   * and gives what {@code jvp(f, x, t).tangent()} gives. jvpFn works under every transform, e.g.
   * {@code vmap(lin.jvpFn())} for a batch of tangents. See Linearize's NOTE for how.
   *
   * <pre>{@code
   * Tensor x0 = Tensor.randn(3);
   * Func.Linearized lin = Func.linearize(y -> y.sin().mul(y), x0);
   * Tensor jt = lin.jvpFn().apply(Tensor.ones(3));   // = jvp(f, x0, ones).tangent(), f not run again
   * }</pre>
   */
  public static Linearized linearize(Fn1 f, Tensor x) {
    return Linearize.of(f, x);
  }

  // ------------------------------------------------------------------ vmap

  /** {@code f} mapped over dim 0 of its argument. */
  public static Fn1 vmap(Fn1 f) {
    return vmap(f, VmapOptions.defaults());
  }

  /** {@code f} mapped as the options say. */
  public static Fn1 vmap(Fn1 f, VmapOptions o) {
    FnN g = vmap(f.asFnN(), o);
    return x -> g.applyTensor(x);
  }

  /** {@code f} mapped over dim 0 of both arguments. */
  public static Fn2 vmap(Fn2 f) {
    return vmap(f, VmapOptions.defaults());
  }

  /** {@code f} mapped as the options say, e.g. {@code inDims(0, null)}. */
  public static Fn2 vmap(Fn2 f, VmapOptions o) {
    FnN g = vmap(f.asFnN(), o);
    return (a, b) -> g.applyTensor(a, b);
  }

  /** {@code f} mapped over dim 0 of every argument. */
  public static Fn3 vmap(Fn3 f) {
    return vmap(f, VmapOptions.defaults());
  }

  /** {@code f} mapped as the options say, e.g. {@code inDims(null, null, 0)}. */
  public static Fn3 vmap(Fn3 f, VmapOptions o) {
    FnN g = vmap(f.asFnN(), o);
    return (a, b, c) -> g.applyTensor(a, b, c);
  }

  /** {@code f} mapped over dim 0 of every argument. */
  public static Fn4 vmap(Fn4 f) {
    return vmap(f, VmapOptions.defaults());
  }

  /** {@code f} mapped as the options say. */
  public static Fn4 vmap(Fn4 f, VmapOptions o) {
    FnN g = vmap(f.asFnN(), o);
    return (a, b, c, d) -> g.applyTensor(a, b, c, d);
  }

  /** A typed function mapped over dim 0 of every tensor of its argument; the result keeps its type. */
  public static <A, R> Fn1Of<A, R> vmap(Fn1Of<A, R> f) {
    return vmap(f, VmapOptions.defaults());
  }

  /** A typed function mapped as the options say; the result keeps its type (its tensors batched). */
  public static <A, R> Fn1Of<A, R> vmap(Fn1Of<A, R> f, VmapOptions o) {
    FnN g = vmap(f.asFnN(), o);
    return a -> typed(g.apply(a));
  }

  /** A typed function mapped over dim 0 of every tensor of its arguments; the result keeps its type. */
  public static <A, B, R> Fn2Of<A, B, R> vmap(Fn2Of<A, B, R> f) {
    return vmap(f, VmapOptions.defaults());
  }

  /** A typed function mapped as the options say; the result keeps its type (its tensors batched). */
  public static <A, B, R> Fn2Of<A, B, R> vmap(Fn2Of<A, B, R> f, VmapOptions o) {
    FnN g = vmap(f.asFnN(), o);
    return (a, b) -> typed(g.apply(a, b));
  }

  /** A typed function mapped over dim 0 of every tensor of its arguments; the result keeps its type. */
  public static <A, B, C, R> Fn3Of<A, B, C, R> vmap(Fn3Of<A, B, C, R> f) {
    return vmap(f, VmapOptions.defaults());
  }

  /**
   * A typed function mapped as the options say; the result keeps its type (its tensors batched),
   * e.g. per-example gradients {@code Params g = vmap(grad(loss), inDims(null, 0, 0)).apply(p, xs, ys)}.
   */
  public static <A, B, C, R> Fn3Of<A, B, C, R> vmap(Fn3Of<A, B, C, R> f, VmapOptions o) {
    FnN g = vmap(f.asFnN(), o);
    return (a, b, c) -> typed(g.apply(a, b, c));
  }

  /** A typed function mapped over dim 0 of every tensor of its arguments; the result keeps its type. */
  public static <A, B, C, D, R> Fn4Of<A, B, C, D, R> vmap(Fn4Of<A, B, C, D, R> f) {
    return vmap(f, VmapOptions.defaults());
  }

  /** A typed function mapped as the options say; the result keeps its type (its tensors batched). */
  public static <A, B, C, D, R> Fn4Of<A, B, C, D, R> vmap(Fn4Of<A, B, C, D, R> f, VmapOptions o) {
    FnN g = vmap(f.asFnN(), o);
    return (a, b, c, d) -> typed(g.apply(a, b, c, d));
  }

  /** {@code f} mapped over dim 0 of every tensor of every argument. */
  public static FnN vmap(FnN f) {
    return vmap(f, VmapOptions.defaults());
  }

  /**
   * Vectorising map: runs {@code f} once on whole batches as if it ran per example. inDims gives
   * per argument the mapped dim (null: not mapped), or a pytree of them matching the argument's
   * (for a record: a List of per-component dims in declaration order); outDims where the batch
   * goes in the results.
   */
  public static FnN vmap(FnN f, VmapOptions o) {
    return args -> Transforms.vmap(f, o, args);
  }

  // ------------------------------------------------------------------ jacrev / jacfwd / jacobian

  /** Jacobian by reverse mode: {@code [out..., in...]}. */
  public static Fn1 jacrev(Fn1 f) {
    FnN g = jacrev(f.asFnN(), Argnums.of(0));
    return x -> g.applyTensor(x);
  }

  /** Jacobian with respect to the first argument, reverse mode. */
  public static Fn2 jacrev(Fn2 f) {
    return jacrev(f, 0);
  }

  /** Jacobian with respect to argument {@code argnum}, reverse mode. */
  public static Fn2 jacrev(Fn2 f, int argnum) {
    FnN g = jacrev(f.asFnN(), Argnums.of(argnum));
    return (a, b) -> g.applyTensor(a, b);
  }

  /** Jacobian with respect to the first argument, reverse mode. */
  public static Fn3 jacrev(Fn3 f) {
    return jacrev(f, 0);
  }

  /** Jacobian with respect to argument {@code argnum}, reverse mode. */
  public static Fn3 jacrev(Fn3 f, int argnum) {
    FnN g = jacrev(f.asFnN(), Argnums.of(argnum));
    return (a, b, c) -> g.applyTensor(a, b, c);
  }

  /** Jacobians with respect to several arguments: {@code jacrev(predict, argnums(0, 1)).applyTensors(w, b, x)}. */
  public static FnN jacrev(Fn3 f, Argnums argnums) {
    return jacrev(f.asFnN(), argnums);
  }

  /**
   * Reverse-mode Jacobian of a typed function with respect to its argument. NOTE: the result is an
   * {@code Object}: a Jacobian pytree (for each output tensor, the argument's structure holding
   * {@code [out..., in...]} blocks; a record whose components no longer fit becomes a map by
   * component name) has no declared type.
   */
  public static <A> Fn1Of<A, Object> jacrev(Fn1Of<A, ?> f) {
    FnN g = jacrev(f.asFnN(), Argnums.of(0));
    return a -> g.apply(a);
  }

  /** Reverse-mode Jacobian of a typed function with respect to argument {@code argnum}, an {@code Object} (see {@link #jacrev(Fn1Of)}). */
  public static <A, B> Fn2Of<A, B, Object> jacrev(Fn2Of<A, B, ?> f, int argnum) {
    FnN g = jacrev(f.asFnN(), Argnums.of(argnum));
    return (a, b) -> g.apply(a, b);
  }

  /** Reverse-mode Jacobian of a typed function with respect to argument {@code argnum}, an {@code Object} (see {@link #jacrev(Fn1Of)}). */
  public static <A, B, C> Fn3Of<A, B, C, Object> jacrev(Fn3Of<A, B, C, ?> f, int argnum) {
    FnN g = jacrev(f.asFnN(), Argnums.of(argnum));
    return (a, b, c) -> g.apply(a, b, c);
  }

  /**
   * Reverse-mode Jacobian: one vectorised pullback over the basis of the output space (vmap of
   * vjp). Layout as functorch: output dims first, then input dims.
   */
  public static FnN jacrev(FnN f, Argnums argnums) {
    return args -> Transforms.jacrev("jacrev", f, argnums, args);
  }

  /** Reverse-mode Jacobian with respect to the first argument (a pytree: the Jacobian has its structure). */
  public static FnN jacrev(FnN f) {
    return jacrev(f, Argnums.of(0));
  }

  /** Jacobian by forward mode: {@code [out..., in...]}. */
  public static Fn1 jacfwd(Fn1 f) {
    FnN g = jacfwd(f.asFnN(), Argnums.of(0));
    return x -> g.applyTensor(x);
  }

  /** Jacobian with respect to the first argument, forward mode. */
  public static Fn2 jacfwd(Fn2 f) {
    return jacfwd(f, 0);
  }

  /** Jacobian with respect to argument {@code argnum}, forward mode. */
  public static Fn2 jacfwd(Fn2 f, int argnum) {
    FnN g = jacfwd(f.asFnN(), Argnums.of(argnum));
    return (a, b) -> g.applyTensor(a, b);
  }

  /** Jacobian with respect to the first argument, forward mode. */
  public static Fn3 jacfwd(Fn3 f) {
    return jacfwd(f, 0);
  }

  /** Jacobian with respect to argument {@code argnum}, forward mode. */
  public static Fn3 jacfwd(Fn3 f, int argnum) {
    FnN g = jacfwd(f.asFnN(), Argnums.of(argnum));
    return (a, b, c) -> g.applyTensor(a, b, c);
  }

  /** Forward-mode Jacobians with respect to several arguments. */
  public static FnN jacfwd(Fn3 f, Argnums argnums) {
    return jacfwd(f.asFnN(), argnums);
  }

  /**
   * Forward-mode Jacobian of a typed function with respect to its argument. NOTE: the result is an
   * {@code Object}: a Jacobian pytree (for each output tensor, the argument's structure holding
   * {@code [out..., in...]} blocks; a record whose components no longer fit becomes a map by
   * component name) has no declared type.
   */
  public static <A> Fn1Of<A, Object> jacfwd(Fn1Of<A, ?> f) {
    FnN g = jacfwd(f.asFnN(), Argnums.of(0));
    return a -> g.apply(a);
  }

  /** Forward-mode Jacobian of a typed function with respect to argument {@code argnum}, an {@code Object} (see {@link #jacfwd(Fn1Of)}). */
  public static <A, B> Fn2Of<A, B, Object> jacfwd(Fn2Of<A, B, ?> f, int argnum) {
    FnN g = jacfwd(f.asFnN(), Argnums.of(argnum));
    return (a, b) -> g.apply(a, b);
  }

  /** Forward-mode Jacobian of a typed function with respect to argument {@code argnum}, an {@code Object} (see {@link #jacfwd(Fn1Of)}). */
  public static <A, B, C> Fn3Of<A, B, C, Object> jacfwd(Fn3Of<A, B, C, ?> f, int argnum) {
    FnN g = jacfwd(f.asFnN(), Argnums.of(argnum));
    return (a, b, c) -> g.apply(a, b, c);
  }

  /** Forward-mode Jacobian: one vectorised jvp over the basis of the input space (vmap of jvp). */
  public static FnN jacfwd(FnN f, Argnums argnums) {
    return args -> Transforms.jacfwd("jacfwd", f, argnums, args);
  }

  /** Forward-mode Jacobian with respect to the first argument (a pytree). */
  public static FnN jacfwd(FnN f) {
    return jacfwd(f, Argnums.of(0));
  }

  /**
   * The Jacobian by whichever mode is cheaper: reverse when the output has at most as many
   * elements as the differentiated inputs (N vector-Jacobian products), forward when it has more
   * (M Jacobian-vector products) — the notebook's "tall vs wide" rule, decided at run time from
   * the actual sizes.
   */
  public static Fn1 jacobian(Fn1 f) {
    FnN g = jacobian(f.asFnN(), Argnums.of(0));
    return x -> g.applyTensor(x);
  }

  /** {@link #jacobian(Fn1)} with respect to argument {@code argnum}. */
  public static Fn3 jacobian(Fn3 f, int argnum) {
    FnN g = jacobian(f.asFnN(), Argnums.of(argnum));
    return (a, b, c) -> g.applyTensor(a, b, c);
  }

  /** {@link #jacobian(Fn1)} for pytree functions. */
  public static FnN jacobian(FnN f, Argnums argnums) {
    return args -> Transforms.jacobian("jacobian", f, argnums, args);
  }

  // ------------------------------------------------------------------ hessian / hvp / vhp

  /** Hessian: {@code jacfwd(jacrev(f))}, layout {@code [out..., in..., in...]}. */
  public static Fn1 hessian(Fn1 f) {
    return jacfwd(jacrev(f));
  }

  /** Hessian with respect to argument {@code argnum}. */
  public static Fn2 hessian(Fn2 f, int argnum) {
    return jacfwd(jacrev(f, argnum), argnum);
  }

  /** Hessian with respect to the first argument. */
  public static Fn2 hessian(Fn2 f) {
    return hessian(f, 0);
  }

  /** Hessian with respect to the first argument. */
  public static Fn3 hessian(Fn3 f) {
    return hessian(f, 0);
  }

  /** Hessian with respect to argument {@code argnum}. */
  public static Fn3 hessian(Fn3 f, int argnum) {
    return jacfwd(jacrev(f, argnum), argnum);
  }

  /**
   * Hessian of a typed function with respect to its argument. NOTE: the result is an
   * {@code Object}, as for {@link #jacrev(Fn1Of)}: for a record argument, a map from component
   * name to records of second-derivative blocks (the inner record no longer fits its declared
   * tensor components, Pytree's fallback).
   */
  public static <A> Fn1Of<A, Object> hessian(Fn1Of<A, Tensor> f) {
    FnN h = hessian(f.asFnN(), Argnums.of(0));
    return a -> h.apply(a);
  }

  /** Hessian of a typed function with respect to argument {@code argnum}, an {@code Object} (see {@link #hessian(Fn1Of)}). */
  public static <A, B> Fn2Of<A, B, Object> hessian(Fn2Of<A, B, Tensor> f, int argnum) {
    FnN h = hessian(f.asFnN(), Argnums.of(argnum));
    return (a, b) -> h.apply(a, b);
  }

  /** Hessian of a typed function with respect to argument {@code argnum}, an {@code Object} (see {@link #hessian(Fn1Of)}). */
  public static <A, B, C> Fn3Of<A, B, C, Object> hessian(Fn3Of<A, B, C, Tensor> f, int argnum) {
    FnN h = hessian(f.asFnN(), Argnums.of(argnum));
    return (a, b, c) -> h.apply(a, b, c);
  }

  /** Hessian of a pytree function: {@code jacfwd(jacrev(f, argnums), argnums)}. */
  public static FnN hessian(FnN f, Argnums argnums) {
    return jacfwd(jacrev(f, argnums), argnums);
  }

  /** Hessian with respect to the first argument (a pytree). */
  public static FnN hessian(FnN f) {
    return hessian(f, Argnums.of(0));
  }

  /** Hessian-vector product H v of a scalar function, forward-over-reverse: {@code jvp(grad(f), x, v)}. */
  public static Tensor hvp(Fn1 f, Tensor x, Tensor v) {
    return Transforms.jvp("hvp", grad(f).asFnN(), Collections.singletonList(x), Collections.singletonList(v), false).tangent();
  }

  /**
   * Hessian-vector product for pytree primals (all arguments differentiated) and tangents of the
   * same structure; returns H v with the gradient's structure (a list when there are several primals).
   */
  public static Object hvp(FnN f, List<?> primals, List<?> tangents) {
    if (primals == null) throw new AdjointArgumentException("hvp", "hvp: the primals list is null");
    Argnums all = allArgnums(primals.size());
    return Transforms.jvp("hvp", grad(f, all), primals, tangents, false).tangentTree();
  }

  /** Vector-Hessian product v^T H, reverse-over-reverse: {@code vjp(grad(f), x)} pulled back along v. */
  public static Tensor vhp(Fn1 f, Tensor x, Tensor v) {
    VjpResult r = Transforms.vjp("vhp", grad(f), new Object[] {x}, false, null);  // checks x first (floating, open)
    // v is the cotangent of grad f(x), which has x's shape and dtype: checked here, naming vhp
    if (v == null) throw new AdjointArgumentException("vhp", "vhp: v is null");
    if (!v.isClosed()) Transforms.checkFits("vhp", v, "v", x, "x", -1);
    return r.applyTensor(v);
  }

  /** Vector-Hessian product for pytree primals; returns one entry per primal. */
  public static List<Object> vhp(FnN f, List<?> primals, Object v) {
    if (primals == null) throw new AdjointArgumentException("vhp", "vhp: the primals list is null");
    return Transforms.vjp("vhp", grad(f, allArgnums(primals.size())), primals.toArray(), false, null).apply(v);
  }

  /**
   * NOTE: the one unchecked step of the typed forms: a transform's result has the declared type
   * because it is rebuilt from the argument's (grad) or the function's (vmap) own tree, which the
   * pytree plumbing keeps; generics are erased, so nothing is checked here and a mismatch (a
   * function declared to return a Params that returns a Map) surfaces as a ClassCastException at
   * the caller's assignment.
   */
  @SuppressWarnings("unchecked")
  private static <T> T typed(Object tree) {
    return (T) tree;
  }

  private static Argnums allArgnums(int n) {
    if (n == 1) return Argnums.of(0);
    int[] more = new int[n - 1];
    for (int i = 1; i < n; i++) more[i - 1] = i;
    return Argnums.of(0, more);
  }

  // ------------------------------------------------------------------ custom rules and checkpoint

  /**
   * {@code f} with a custom vjp rule, like {@code jax.custom_vjp}: under grad, vjp and jacrev the
   * forward pass runs {@code fwd} (the output and the residuals bwd needs), and the backward pass
   * {@code bwd(residuals, cotangent)}, which returns the cotangent of the input. Without a transform
   * {@code f} itself runs; under vmap the three run per example (on batched tracers), and nesting
   * works as for any function (a higher derivative differentiates bwd's ops). Forward mode (jvp,
   * jacfwd, hessian, linearize) refuses it, as JAX does ({@link UnsupportedOperationException}): give
   * it a {@link #customJvp} instead. An exception thrown by f, fwd or bwd reaches the caller as it
   * is. The functions must take every traced value they use as an argument: a captured one is a
   * constant to the rule.
   *
   * <pre>{@code
   * Fn1 clipGrad = Func.customVjp(y -> y, y -> Custom.fwd(y, null),
   *     (r, ct) -> Tensor.where(ct.abs().gt(1.0), ct.sign(), ct));   // gradient clipped to [-1, 1]
   * }</pre>
   */
  public static <R> Fn1 customVjp(Fn1 f, Custom.VjpFwd1<R> fwd, Custom.VjpBwd1<R> bwd) {
    FnN g = customVjp(f == null ? null : f.asFnN(), fwd, bwd);
    return x -> Pytree.expectTensor(g.apply(x), "customVjp output");
  }

  /**
   * {@link #customVjp(Fn1, Custom.VjpFwd1, Custom.VjpBwd1)} for pytree arguments and outputs:
   * bwd returns one cotangent per argument (null for zero), each with its argument's structure.
   * Several output tensors must share one dtype.
   */
  public static <R> FnN customVjp(FnN f, Custom.VjpFwd<R> fwd, Custom.VjpBwd<R> bwd) {
    requireRules("customVjp", f, fwd, bwd);
    CustomRules.Rules r = new CustomRules.Rules("customVjp", dev.adjoint.internal.NativeCore.ADJ_CUSTOM_VJP, 0, f, fwd, bwd, null);
    return args -> CustomRules.apply(r, args);
  }

  /**
   * {@code f} with a custom jvp rule, like {@code jax.custom_jvp}: {@code rule(x, t)} returns
   * {@code JvpResult.of(f(x), tangent)}, the tangent linear in t. jvp and jacfwd use it; grad, vjp
   * and jacrev use its transpose (taken by reverse mode through the rule's ops), so hessian,
   * jvp-of-grad and grad-of-grad differentiate the rule; vmap runs it per example. An exception
   * thrown by f or the rule reaches the caller as it is.
   *
   * <pre>{@code
   * Fn1 log1pexp = Func.customJvp(y -> y.exp().add(1).log(),            // naive: nan gradient at 1000
   *     (y, dy) -> JvpResult.of(y.exp().add(1).log(), y.sigmoid().mul(dy)));
   * }</pre>
   */
  public static Fn1 customJvp(Fn1 f, Custom.JvpRule1 rule) {
    FnN g = customJvp(f == null ? null : f.asFnN(), rule);
    return x -> Pytree.expectTensor(g.apply(x), "customJvp output");
  }

  /** {@link #customJvp(Fn1, Custom.JvpRule1)} for pytree arguments and outputs (tangents with their structure). */
  public static FnN customJvp(FnN f, Custom.JvpRule rule) {
    requireRules("customJvp", f, rule, rule);
    CustomRules.Rules r = new CustomRules.Rules("customJvp", dev.adjoint.internal.NativeCore.ADJ_CUSTOM_JVP, 0, f, null, null, rule);
    return args -> CustomRules.apply(r, args);
  }

  /**
   * {@code f} recomputed in the backward pass instead of keeping its intermediates, like
   * {@code torch.utils.checkpoint} and {@code jax.checkpoint}: under grad, vjp and jacrev only its
   * inputs are kept, and its forward pass runs again (traced) when the backward pass reaches it. The
   * results are those of {@code f}; memory drops from all of f's intermediates to its inputs, for
   * one more forward pass. Under jvp and vmap it is {@code f}.
   *
   * <pre>{@code
   * Tensor weights = Tensor.randn(8, 8);
   * Fn1 block = h -> h.matmul(weights).tanh().matmul(weights).tanh();
   * Fn1 saved = Func.checkpoint(block);       // keep one tensor per block instead of four
   * }</pre>
   */
  public static Fn1 checkpoint(Fn1 f) {
    FnN g = checkpoint(f == null ? null : f.asFnN());
    return x -> Pytree.expectTensor(g.apply(x), "checkpoint output");
  }

  /** {@link #checkpoint(Fn1)} of a two-tensor function. */
  public static Fn2 checkpoint(Fn2 f) {
    FnN g = checkpoint(f == null ? null : f.asFnN());
    return (a, b) -> Pytree.expectTensor(g.apply(a, b), "checkpoint output");
  }

  /** {@link #checkpoint(Fn1)} of a pytree function. */
  public static FnN checkpoint(FnN f) {
    requireRules("checkpoint", f, f, f);
    return CustomRules.checkpoint(f);
  }

  private static void requireRules(String name, Object f, Object a, Object b) {
    if (f == null || a == null || b == null)
      throw new AdjointArgumentException(name, name + ": " + (f == null ? "the function" : "a rule") + " is null");
  }
}
