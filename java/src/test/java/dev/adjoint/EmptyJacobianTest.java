package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.adjoint.internal.NativeCore;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Jacobians with no element: a zero-size input or output gives the empty Jacobian of shape
 * {@code [out..., in...]}, in reverse and forward mode alike, as torch.func does (the shapes and
 * dtypes below are torch 1.13 functorch's for the same calls); and vmap over a batch of size 0.
 */
class EmptyJacobianTest extends ScopedTest {

  @AfterEach
  void stackIsEmpty() {
    assertEquals(0, NativeCore.adj_level_depth(), "transform levels left on this thread's stack");
  }

  private static Tensor zeros64(long... shape) {
    return Tensor.zeros(DType.FLOAT64, shape);
  }

  private static void assertEmpty(long[] shape, DType dtype, Object jac) {
    Tensor t = assertInstanceOf(Tensor.class, jac);
    assertArrayEquals(shape, t.shape());
    assertEquals(dtype, t.dtype());
    assertEquals(0, t.numel());
  }

  private static final Tensor X = Tensor.of(1.0, 2.0, 3.0).keep();
  private static final Fn1 SIN = v -> v.sin();
  private static final Fn1 NONE_OF = v -> v.slice(0, 0, 0);  // an empty output of a non-empty input

  @Test
  void zeroSizeOutput() {
    // torch: jacrev(lambda v: v[0:0])(x).shape == (0, 3)
    assertEmpty(new long[] {0, 3}, DType.FLOAT64, jacrev(NONE_OF).apply(X));
    assertEmpty(new long[] {0, 3}, DType.FLOAT64, jacfwd(NONE_OF).apply(X));
    assertEmpty(new long[] {0, 3}, DType.FLOAT64, jacobian(NONE_OF).apply(X));
    assertEmpty(new long[] {0, 3}, DType.FLOAT64, jacrev(NONE_OF.asFnN(), argnums(0).chunkSize(2)).apply(X));
    assertEmpty(new long[] {0, 3, 3}, DType.FLOAT64, hessian(NONE_OF).apply(X));
    // several empty outputs, one of them 2-d
    List<Tensor> two = jacrev((FnN) a -> List.of(((Tensor) a[0]).slice(0, 0, 0), ((Tensor) a[0]).slice(0, 0, 0).reshape(0, 2)), argnums(0))
        .applyTensors(X);
    assertEmpty(new long[] {0, 3}, DType.FLOAT64, two.get(0));
    assertEmpty(new long[] {0, 2, 3}, DType.FLOAT64, two.get(1));
    // reverse mode gives the input's dtype, forward mode the output's (torch: float32 and float64)
    Tensor x32 = Tensor.of(1f, 2f, 3f);
    Fn1 to64 = v -> v.to(DType.FLOAT64).slice(0, 0, 0);
    assertEmpty(new long[] {0, 3}, DType.FLOAT32, jacrev(to64).apply(x32));
    assertEmpty(new long[] {0, 3}, DType.FLOAT64, jacfwd(to64).apply(x32));
  }

  @Test
  void zeroSizeInput() {
    Tensor e = zeros64(0);
    assertEmpty(new long[] {0, 0}, DType.FLOAT64, jacrev(SIN).apply(e));
    assertEmpty(new long[] {0, 0}, DType.FLOAT64, jacfwd(SIN).apply(e));
    assertEmpty(new long[] {0, 0}, DType.FLOAT64, jacobian(SIN).apply(e));
    assertEmpty(new long[] {0, 0}, DType.FLOAT64, jacrev(SIN.asFnN(), argnums(0).chunkSize(1)).apply(e));
    assertEmpty(new long[] {0, 0}, DType.FLOAT64, hessian(v -> v.sin().sum()).apply(e));
    assertEmpty(new long[] {0, 0, 0}, DType.FLOAT64, hessian(SIN).apply(e));
    // torch: jacrev(sin)(zeros(2, 0)).shape == (2, 0, 2, 0)
    assertEmpty(new long[] {2, 0, 2, 0}, DType.FLOAT64, jacrev(SIN).apply(zeros64(2, 0)));
    assertEmpty(new long[] {2, 0, 2, 0}, DType.FLOAT64, jacfwd(SIN).apply(zeros64(2, 0)));
    // a scalar output of an empty input
    assertEmpty(new long[] {0}, DType.FLOAT64, jacrev(v -> v.sum().mul(2.0)).apply(e));
    // one empty input among others: the other Jacobian is the real one
    List<Tensor> j = jacrev((FnN) a -> ((Tensor) a[0]).sin().sum().add(((Tensor) a[1]).sum()), argnums(0, 1)).applyTensors(X, e);
    assertArrayEquals(new double[] {Math.cos(1), Math.cos(2), Math.cos(3)}, j.get(0).toDoubleArray(), 1e-15);
    assertEmpty(new long[] {0}, DType.FLOAT64, j.get(1));
  }

  @Test
  void vmapOfEmptyJacobians() {
    // torch: vmap(jacrev(sin))(zeros(2, 0)).shape == (2, 0, 0)
    assertEmpty(new long[] {2, 0, 0}, DType.FLOAT64, vmap(jacrev(SIN)).apply(zeros64(2, 0)));
    assertEmpty(new long[] {2, 0, 0}, DType.FLOAT64, vmap(jacfwd(SIN)).apply(zeros64(2, 0)));
    assertEmpty(new long[] {2, 0, 0}, DType.FLOAT64, vmap(jacrev(SIN.asFnN(), argnums(0).chunkSize(1))).applyTensor(zeros64(2, 0)));
    assertEmpty(new long[] {2, 0, 3}, DType.FLOAT64, vmap(jacrev(NONE_OF)).apply(zeros64(2, 3)));
    assertEmpty(new long[] {2, 0, 0}, DType.FLOAT64, vmap(hessian(v -> v.sin().sum())).apply(zeros64(2, 0)));
    // an empty Jacobian inside a derivative contributes nothing
    assertArrayEquals(new double[] {0, 0, 0}, grad(v -> jacrev(NONE_OF).apply(v).sum().add(v.sum().mul(0.0))).apply(X).toDoubleArray());
  }

  @Test
  void vmapOverABatchOfSizeZero() {
    Tensor b0 = zeros64(0, 3);
    // torch: vmap(sin)(zeros(0, 3)).shape == (0, 3); vmap(sum) -> (0,); vmap(jacrev(sin)) -> (0, 3, 3)
    assertEmpty(new long[] {0, 3}, DType.FLOAT64, vmap(SIN).apply(b0));
    assertEmpty(new long[] {0}, DType.FLOAT64, vmap(v -> v.sum()).apply(b0));
    assertEmpty(new long[] {0, 3, 3}, DType.FLOAT64, vmap(jacrev(SIN)).apply(b0));
    assertEmpty(new long[] {0, 3, 3}, DType.FLOAT64, vmap(jacfwd(SIN)).apply(b0));
    assertEmpty(new long[] {0, 3, 3}, DType.FLOAT64, vmap(hessian(v -> v.sin().sum())).apply(b0));
    assertEmpty(new long[] {0, 3}, DType.FLOAT64, vmap(grad(v -> v.sin().sum())).apply(b0));
    assertEmpty(new long[] {3, 0}, DType.FLOAT64, vmap(SIN, VmapOptions.inDims(0).outDims(1)).apply(b0));
    assertEmpty(new long[] {0, 3}, DType.FLOAT64, vmap(SIN, VmapOptions.inDims(0).chunkSize(2)).apply(b0));
    assertEmpty(new long[] {0, 3}, DType.FLOAT64, vmap(v -> X).apply(b0));  // an output that ignores the batch
    assertEmpty(new long[] {0, 2, 3}, DType.FLOAT64, vmap(vmap(SIN)).apply(zeros64(0, 2, 3)));
    assertEmpty(new long[] {2, 0, 3}, DType.FLOAT64, vmap(vmap(SIN)).apply(zeros64(2, 0, 3)));
    assertEmpty(new long[] {0, 3}, DType.FLOAT64,
        vmap(v -> v.add(Tensor.randn(DType.FLOAT64, 3)), VmapOptions.inDims(0).randomness(Randomness.DIFFERENT)).apply(b0));
    // differentiating through a vmap over nothing
    assertEmpty(new long[] {0, 3, 0, 3}, DType.FLOAT64, jacrev(v -> vmap(SIN).apply(v)).apply(b0));
    assertEmpty(new long[] {0, 3}, DType.FLOAT64, vjp(v -> vmap(SIN).apply(v), b0).applyTensor(b0));
  }
}
