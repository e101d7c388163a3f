package dev.adjoint.examples;

import dev.adjoint.Adjoint;
import dev.adjoint.F;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;

/**
 * The seed notebook's setup in Java: the same draws as {@code torch.manual_seed(0)}, the same
 * {@code predict}, the same printout.
 *
 * <pre>
 * _ = torch.manual_seed(0)
 * def predict(weight, bias, x):
 *     return F.linear(x, weight, bias).tanh()
 * D = 16
 * weight = torch.randn(D, D); bias = torch.randn(D); x = torch.randn(D)
 * </pre>
 */
public final class Quickstart {
  static Tensor predict(Tensor weight, Tensor bias, Tensor x) {
    return F.linear(x, weight, bias).tanh();
  }

  public static void main(String[] args) {
    try (Scope scope = Scope.open()) {
      Adjoint.manualSeed(0);
      int D = 16;
      Tensor weight = Tensor.randn(D, D);
      Tensor bias = Tensor.randn(D);
      Tensor x = Tensor.randn(D);  // feature vector

      System.out.println("weight[0] = " + weight.get(0));
      System.out.println("predict(weight, bias, x) =");
      System.out.println(predict(weight, bias, x));

      // Batched: the same predict over 4 feature vectors at once (F.linear broadcasts).
      Tensor xs = Tensor.randn(4, D);
      Tensor ys = predict(weight, bias, xs);
      System.out.println("batched output shape: " + java.util.Arrays.toString(ys.shape()));
      System.out.println(ys.softmax(-1).sum(-1));
    }
  }
}
