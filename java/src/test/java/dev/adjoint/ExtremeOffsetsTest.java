package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Offsets at the ends of long and a zero kernel: tril/triu with k = Long.MAX_VALUE or MIN_VALUE
 * keep everything or nothing (tril(MAX) failed with "value 9.22337e+18 cannot be converted to
 * int64"; torch 1.13 returns garbage there); diag of a vector with offset Long.MIN_VALUE is the
 * out-of-memory error naming diag (it overflowed and named an internal arange); a conv kernel with
 * a zero size says so, as torch (it said "padded height 3 &lt; the kernel's extent 0").
 */
class ExtremeOffsetsTest extends ScopedTest {

  @Test
  void triangleOffsetsBeyondTheMatrix() {
    Tensor x = Tensor.of(new double[][] {{1, 2, 3}, {4, 5, 6}});
    double[] all = x.toDoubleArray(), none = new double[6];
    assertArrayEquals(all, x.tril(Long.MAX_VALUE).toDoubleArray(), 0);
    assertArrayEquals(none, x.tril(Long.MIN_VALUE).toDoubleArray(), 0);
    assertArrayEquals(none, x.triu(Long.MAX_VALUE).toDoubleArray(), 0);
    assertArrayEquals(all, x.triu(Long.MIN_VALUE).toDoubleArray(), 0);
    // the edges of the clamp: k = n - 1 keeps all for tril, k = -m keeps nothing
    assertArrayEquals(all, x.tril(2).toDoubleArray(), 0);
    assertArrayEquals(none, x.tril(-2).toDoubleArray(), 0);
    assertArrayEquals(new double[] {0, 0, 3, 0, 0, 0}, x.triu(2).toDoubleArray(), 0);
    assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1}, Func.grad((Fn1) v -> v.tril(Long.MAX_VALUE).sum()).apply(x).toDoubleArray(), 0);
  }

  @Test
  void diagOffsetTooLargeIsAnErrorNamingDiag() {
    for (long offset : new long[] {Long.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE + 1}) {
      NativeOutOfMemoryException e = assertThrowsExactly(NativeOutOfMemoryException.class, () -> Tensor.diag(Tensor.ones(3), offset));
      assertTrue(e.getMessage().startsWith("diag: "), e.getMessage());
    }
    assertArrayEquals(new double[] {0, 0, 1, 0}, Tensor.diag(Tensor.ones(DType.FLOAT64, 1), -1).toDoubleArray(), 0);
  }

  @Test
  void zeroSizedKernelIsNamed() {
    ShapeMismatchException e = assertThrowsExactly(ShapeMismatchException.class,
        () -> F.conv2d(Tensor.ones(1, 2, 3, 3), Tensor.ones(2, 2, 0, 2), null, 1, 0));
    assertEquals("conv2d", e.op());
    assertTrue(e.getMessage().contains("kernel size should be greater than zero") && e.getMessage().contains("height 0"), e.getMessage());
  }
}
