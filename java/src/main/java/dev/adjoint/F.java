package dev.adjoint;

/**
 * Functional forms of the neural-network ops, named after {@code torch.nn.functional}.
 *
 * <pre>{@code
 * import static dev.adjoint.F.*;
 * Tensor y = linear(x, weight, bias).tanh();   // F.linear(x, weight, bias).tanh()
 * }</pre>
 */
public final class F {
  private F() {}

  /** {@code x @ weight^T + bias} (bias may be null). */
  public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
    return x.linear(weight, bias);
  }

  /** {@code x @ weight^T}. */
  public static Tensor linear(Tensor x, Tensor weight) {
    return x.linear(weight, null);
  }

  /** max(x, 0). */
  public static Tensor relu(Tensor x) {
    return x.relu();
  }

  /** 1 / (1 + e^-x). */
  public static Tensor sigmoid(Tensor x) {
    return x.sigmoid();
  }

  /** tanh(x). */
  public static Tensor tanh(Tensor x) {
    return x.tanh();
  }

  /** Softmax along {@code dim}. */
  public static Tensor softmax(Tensor x, int dim) {
    return x.softmax(dim);
  }

  /** Log-softmax along {@code dim}. */
  public static Tensor logSoftmax(Tensor x, int dim) {
    return x.logSoftmax(dim);
  }

  /**
   * Cross-entropy of unnormalised {@code logits} against class indices, averaged over the batch,
   * like {@code torch.nn.functional.cross_entropy(logits, target)} (reduction "mean", no weights):
   * {@code mean_i(logsumexp(logits[i]) - logits[i, target[i]])}.
   *
   * <pre>{@code
   * Tensor loss = F.crossEntropy(F.linear(h, w2, b2), labels);   // logits [N, C], labels [N] int64
   * }</pre>
   *
   * <p>Shapes: {@code logits} [N, C] (float32 or float64) with {@code target} [N] int64, or a
   * single example, {@code logits} [C] with a 0-d int64 {@code target}; the result is a 0-d tensor
   * of the logits' dtype. The class is picked with a one-hot mask ({@code target} compared with
   * {@code 0..C-1}), so the function is made of tensor ops only and works under every transform
   * ({@code grad}, {@code vjp}, {@code jvp}, {@code vmap}, {@code hessian}, ...), with the target
   * batched or not. Every target value is checked to lie in {@code [0, C)}, also under transforms
   * (targets are data: behind a vmap tracer all examples are checked), as torch raises "Target 5 is
   * out of bounds"; torch's {@code ignore_index} is not supported.
   *
   * @throws ShapeMismatchException if the shapes are not [N, C] / [N] or [C] / []
   * @throws DTypeMismatchException if {@code target} is not int64 or {@code logits} not floating point
   * @throws InvalidIndexException if a target is negative or at least C, naming the value and C
   */
  public static Tensor crossEntropy(Tensor logits, Tensor target) {
    Tensor picked = pickClass("crossEntropy", logits, target);  // logits[i, target[i]]
    return logits.logsumexp(-1).sub(picked).mean();
  }

  /**
   * Negative log-likelihood of log-probabilities against class indices, averaged over the batch,
   * like {@code torch.nn.functional.nll_loss(logProbs, target)} (reduction "mean", no weights):
   * {@code -mean_i(logProbs[i, target[i]])}. {@code crossEntropy(z, t)} equals
   * {@code nllLoss(z.logSoftmax(-1), t)}.
   *
   * <pre>{@code
   * Tensor loss = F.nllLoss(F.linear(h, w2, b2).logSoftmax(-1), labels);   // [N, C] with [N] int64
   * }</pre>
   *
   * <p>Shapes, dtypes, transforms and the check of the target values as for
   * {@link #crossEntropy(Tensor, Tensor)}.
   *
   * @throws ShapeMismatchException if the shapes are not [N, C] / [N] or [C] / []
   * @throws DTypeMismatchException if {@code target} is not int64 or {@code logProbs} not floating point
   * @throws InvalidIndexException if a target is negative or at least C, naming the value and C
   */
  public static Tensor nllLoss(Tensor logProbs, Tensor target) {
    return pickClass("nllLoss", logProbs, target).mean().neg();
  }

  /** scores[..., target[...]] for [N, C] / [N] or [C] / [], after the checks of the class losses. */
  private static Tensor pickClass(String op, Tensor scores, Tensor target) {
    int nd = scores.ndim();
    if (nd < 1 || nd > 2 || target.ndim() != nd - 1 || (nd == 2 && target.size(0) != scores.size(0)))
      throw new ShapeMismatchException(op, op + ": expects input [N, C] with target [N], or input [C] with a 0-d target; got input "
          + java.util.Arrays.toString(scores.shape()) + " and target " + java.util.Arrays.toString(target.shape()));
    if (target.dtype() != DType.INT64)
      throw new DTypeMismatchException(op, op + ": target must be int64 class indices, got " + target.dtype().displayName());
    DType dt = scores.dtype();
    if (!dt.isFloatingPoint())
      throw new DTypeMismatchException(op, op + ": input must be float32 or float64, got " + dt.displayName());
    long classes = scores.size(nd - 1);
    target.checkClassTargets(classes, op);
    Tensor oneHot = target.unsqueeze(-1).eq(Tensor.arange(classes)).to(dt);  // [N, C] or [C]
    return scores.mul(oneHot).sum(-1);
  }
}
