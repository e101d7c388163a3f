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
   * batched or not. Target values are not read: each must lie in {@code [0, C)} (one outside
   * contributes only its logsumexp term, where torch would raise).
   *
   * @throws ShapeMismatchException if the shapes are not [N, C] / [N] or [C] / []
   * @throws DTypeMismatchException if {@code target} is not int64 or {@code logits} not floating point
   */
  public static Tensor crossEntropy(Tensor logits, Tensor target) {
    int nd = logits.ndim();
    if (nd < 1 || nd > 2 || target.ndim() != nd - 1 || (nd == 2 && target.size(0) != logits.size(0)))
      throw new ShapeMismatchException("crossEntropy", "crossEntropy: expects logits [N, C] with target [N], or logits [C] with a 0-d target; got logits "
          + java.util.Arrays.toString(logits.shape()) + " and target " + java.util.Arrays.toString(target.shape()));
    if (target.dtype() != DType.INT64)
      throw new DTypeMismatchException("crossEntropy", "crossEntropy: target must be int64 class indices, got " + target.dtype());
    DType dt = logits.dtype();
    if (dt != DType.FLOAT32 && dt != DType.FLOAT64)
      throw new DTypeMismatchException("crossEntropy", "crossEntropy: logits must be float32 or float64, got " + dt);
    long classes = logits.size(nd - 1);
    Tensor oneHot = target.unsqueeze(-1).eq(Tensor.arange(classes)).to(dt);  // [N, C] or [C]
    Tensor picked = logits.mul(oneHot).sum(-1);                                 // logits[i, target[i]]
    return logits.logsumexp(-1).sub(picked).mean();
  }
}
