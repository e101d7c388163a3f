package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reductions over empty dims give what torch 1.13 gives (values from torch, quoted per case), and
 * every transform takes zero-size inputs and outputs: a Jacobian with no entries is an empty
 * tensor shaped [out..., in...].
 */
class EmptyDimsTest {
  static final double NEG_INF = Double.NEGATIVE_INFINITY;

  private Scope scope;

  @BeforeEach
  void openScope() {
    scope = Scope.open();
  }

  @AfterEach
  void closeScope() {
    scope.close();
  }

  static Tensor z(long... shape) {
    return Tensor.zeros(DType.FLOAT64, shape);
  }

  @Test
  void logsumexpOfNothingIsMinusInf() {
    // torch.logsumexp(torch.zeros(3, 0), 1) = [-inf, -inf, -inf]; over (0, 1): -inf; over 0: shape (0,)
    assertArrayEquals(new double[] {NEG_INF, NEG_INF, NEG_INF}, z(3, 0).logsumexp(1).toDoubleArray());
    assertArrayEquals(new long[] {3, 1}, z(3, 0).logsumexp(new int[] {1}, true).shape());
    assertArrayEquals(new double[] {NEG_INF}, z(3, 0).logsumexp().toDoubleArray());
    assertArrayEquals(new long[] {0}, z(3, 0).logsumexp(0).shape());
    // torch.logsumexp(torch.zeros(0, 3), 0) = [-inf, -inf, -inf]
    assertArrayEquals(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY},
        Tensor.zeros(0, 3).logsumexp(0).toFloatArray());
  }

  @Test
  void softmaxAlongAnEmptyDimIsEmpty() {
    // torch.softmax(torch.zeros(3, 0), 1) and log_softmax along 0 or 1: shape (3, 0)
    for (int d : new int[] {0, 1, -1}) {
      assertArrayEquals(new long[] {3, 0}, z(3, 0).softmax(d).shape());
      assertArrayEquals(new long[] {3, 0}, z(3, 0).logSoftmax(d).shape());
    }
  }

  @Test
  void sumMeanAmaxOverEmptyDims() {
    // torch: zeros(3, 0).sum(1) = [0, 0, 0], .mean(1) = [nan, nan, nan], .mean() = nan,
    // .amax(1) raises "Expected reduction dim 1 to have non-zero size", .amax(0) has shape (0,)
    assertArrayEquals(new double[] {0, 0, 0}, z(3, 0).sum(1).toDoubleArray());
    assertEquals(0.0, z(3, 0).sum().item());
    for (double m : z(3, 0).mean(1).toDoubleArray()) assertTrue(Double.isNaN(m));
    assertTrue(Double.isNaN(z(3, 0).mean().item()));
    AdjointArgumentException e = assertThrowsExactly(AdjointArgumentException.class, () -> z(3, 0).amax(1));
    assertTrue(e.getMessage().startsWith("amax: cannot reduce over dim 1 of size 0"), e.getMessage());
    assertArrayEquals(new long[] {0}, z(3, 0).amax(0).shape());
  }

  @Test
  void gradientsAndBatchesOfEmptyReductions() {
    Fn1 lse = x -> x.logsumexp(1).sum();
    Fn1 sm = x -> x.softmax(1).sum();
    Fn1 mean = x -> x.mean();
    for (Fn1 f : List.of(lse, sm, mean)) {
      // torch.autograd.grad(torch.logsumexp(x, 1).sum(), x) for x of shape (3, 0): shape (3, 0)
      assertArrayEquals(new long[] {3, 0}, Func.grad(f).apply(z(3, 0)).shape());
      Fn1 gradSum = x -> Func.grad(f).apply(x).sum();
      assertArrayEquals(new long[] {3, 0}, Func.grad(gradSum).apply(z(3, 0)).shape());
    }
    // functorch: vmap(lambda x: torch.logsumexp(x, 0))(torch.zeros(2, 0)) = [-inf, -inf]
    Fn1 lse0 = x -> x.logsumexp(0);
    assertArrayEquals(new double[] {NEG_INF, NEG_INF}, Func.vmap(lse0).apply(z(2, 0)).toDoubleArray());
    Fn1 sm0 = x -> x.softmax(0);
    assertArrayEquals(new long[] {2, 0}, Func.vmap(sm0).apply(z(2, 0)).shape());
    // a batch of no examples: vmap(lambda x: x.sum())(torch.zeros(0, 3)) has shape (0,)
    Fn1 sum = Tensor::sum;
    assertArrayEquals(new long[] {0}, Func.vmap(sum).apply(z(0, 3)).shape());
    // logsumexp of nothing is a constant: its tangent is 0 (torch's forward AD raises here)
    JvpResult r = Func.jvp(lse0, z(0, 3), z(0, 3));
    assertArrayEquals(new double[] {NEG_INF, NEG_INF, NEG_INF}, r.output().toDoubleArray());
    assertArrayEquals(new double[] {0, 0, 0}, r.tangent().toDoubleArray());
  }

  /** Shapes of functorch's jacrev/jacfwd for the same functions and inputs. */
  @Test
  void jacobiansOfZeroSizeInputsAndOutputs() {
    record Case(String name, Fn1 f, long[] in, long[] jac) {}
    List<Case> cases = List.of(
        new Case("sin of an empty input", Tensor::sin, new long[] {0}, new long[] {0, 0}),           // jacrev(sin)(zeros(0)): (0, 0)
        new Case("an empty slice", x -> x.slice(0, 0, 0), new long[] {3}, new long[] {0, 3}),       // jacrev(lambda x: x[:0])(zeros(3)): (0, 3)
        new Case("sum over the empty dim", x -> x.sum(0), new long[] {0, 2}, new long[] {2, 0, 2}),  // (2, 0, 2)
        new Case("logsumexp over it", x -> x.logsumexp(1), new long[] {3, 0}, new long[] {3, 3, 0}), // (3, 3, 0)
        new Case("an empty matmul", x -> x.matmul(z(0, 2)), new long[] {3, 0}, new long[] {3, 2, 3, 0}));
    for (Case c : cases) {
      Tensor x = z(c.in());
      assertArrayEquals(c.jac(), Func.jacrev(c.f()).apply(x).shape(), "jacrev, " + c.name());
      assertArrayEquals(c.jac(), Func.jacfwd(c.f()).apply(x).shape(), "jacfwd, " + c.name());
      assertArrayEquals(c.jac(), Func.jacobian(c.f()).apply(x).shape(), "jacobian, " + c.name());
    }
    // hessian(lambda x: x.sin().sum())(zeros(0)): shape (0, 0)
    Fn1 sinSum = x -> x.sin().sum();
    assertArrayEquals(new long[] {0, 0}, Func.hessian(sinSum).apply(z(0)).shape());
  }
}
