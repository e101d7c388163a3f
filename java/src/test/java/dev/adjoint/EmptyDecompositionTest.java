package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Factorizations and constructors at the edges of size: the full SVD of a matrix with no rows or
 * no columns has the identity for U or Vh, as in torch 1.13 (it was zeros: LAPACK refused the zero
 * leading dimension, printing to stderr, and left them unwritten); a linspace too large to hold is
 * the out-of-memory error naming linspace (it was an internal std::length_error).
 */
class EmptyDecompositionTest extends ScopedTest {

  private static double[] eye(int n) {
    double[] r = new double[n * n];
    for (int i = 0; i < n; i++) r[i * n + i] = 1;
    return r;
  }

  @Test
  void fullSvdOfAnEmptyMatrixHasIdentityFactors() {
    Linalg.SVD r = Linalg.svd(Tensor.zeros(DType.FLOAT64, 0, 3));
    assertArrayEquals(new long[] {0, 0}, r.u().shape());
    assertEquals(0, r.s().numel());
    assertArrayEquals(eye(3), r.vh().toDoubleArray(), 0);
    Linalg.SVD c = Linalg.svd(Tensor.zeros(3, 0));
    assertArrayEquals(eye(3), c.u().toDoubleArray(), 0);
    assertArrayEquals(new long[] {0, 0}, c.vh().shape());
    Linalg.SVD b = Linalg.svd(Tensor.zeros(DType.FLOAT64, 2, 0, 3));
    assertArrayEquals(new long[] {2, 3, 3}, b.vh().shape());
    assertArrayEquals(eye(3), b.vh().select(0, 1).toDoubleArray(), 0);
    // the reduced SVD is empty throughout
    Linalg.SVD red = Linalg.svd(Tensor.zeros(DType.FLOAT64, 0, 3), false);
    assertArrayEquals(new long[] {0, 3}, red.vh().shape());
  }

  @Test
  void linspaceTooLargeIsAnOutOfMemoryErrorNamingIt() {
    NativeOutOfMemoryException e = assertThrows(NativeOutOfMemoryException.class, () -> Tensor.linspace(0, 1, Long.MAX_VALUE));
    assertTrue(e.getMessage().startsWith("linspace:"), e.getMessage());
    assertArrayEquals(new double[] {0, 0.25, 0.5, 0.75, 1}, Tensor.linspace(0, 1, 5, DType.FLOAT64).toDoubleArray(), 0);
    assertArrayEquals(new float[] {-1, -0.5f, 0, 0.5f, 1}, Tensor.linspace(-1, 1, 5, DType.FLOAT32).toFloatArray(), 0);
  }
}
