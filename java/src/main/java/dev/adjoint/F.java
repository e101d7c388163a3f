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
}
