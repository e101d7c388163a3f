package dev.adjoint;

import java.util.List;

/**
 * What {@link Func#vjp} returns: the function's output, its pullback, and the aux value when the
 * function has one. The pullback can be called any number of times, also inside other transforms
 * (e.g. {@code vmap(vjp.pullback())} computes a Jacobian row by row in one vectorised pass).
 */
public final class VjpResult {
  private final Object output;
  private final Object aux;
  // For the pullback and jacrev: the ended grad level (0: the level of the traced input, for the
  // native calls), its traced outputs/inputs (they keep the level alive), the traced output's
  // structure and the primals.
  final long level;
  final List<Tensor> outLeaves, inLeaves;
  final Object outStructure;
  final Object[] primals;
  /** One tensor primal and one tensor output: the pullback is one native call. */
  final boolean singleTensors;
  private FnN pullback;  // made on first request

  VjpResult(Object output, Object outStructure, Object aux, long level, List<Tensor> outLeaves, List<Tensor> inLeaves, Object[] primals) {
    this.output = output;
    this.outStructure = outStructure;
    this.aux = aux;
    this.level = level;
    this.outLeaves = outLeaves;
    this.inLeaves = inLeaves;
    this.primals = primals;
    this.singleTensors = primals.length == 1 && primals[0] instanceof Tensor && inLeaves.size() == 1 && outStructure instanceof Tensor;
  }

  /** The output, which must be a single tensor. */
  public Tensor output() {
    return Pytree.expectTensor(output, "vjp output");
  }

  /** The output pytree. */
  public Object outputTree() {
    return output;
  }

  /** The aux value (null without hasAux). */
  public Object aux() {
    return aux;
  }

  /**
   * The pullback as a function: given a cotangent with the output's structure, returns a list
   * with the cotangent of each primal (like functorch's {@code vjp_fn(ct)} tuple).
   */
  public FnN pullback() {
    FnN p = pullback;
    if (p == null) pullback = p = cts -> Transforms.pullback(this, cts);
    return p;
  }

  /** The cotangents of the primals for cotangent {@code ct} of the output. */
  @SuppressWarnings("unchecked")
  public List<Object> apply(Object ct) {
    return (List<Object>) Transforms.pullback(this, new Object[] {ct});
  }

  /** For a single tensor primal: its cotangent. */
  public Tensor applyTensor(Tensor ct) {
    if (ct != null && singleTensors) return Transforms.pullback1(this, ct);
    List<Object> r = apply(ct);
    return Pytree.expectTensor(r.get(0), "vjp cotangent");
  }
}
