package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/**
 * fmod and remainder of int64 by -1: 0 for every dividend, Long.MIN_VALUE included, whose quotient
 * overflows: x86-64's idiv traps there (SIGFPE), which killed the JVM (torch 1.13 dies the same
 * way). Java's own {@code %} gives 0, the values below.
 */
class IntegerRemainderOverflowTest extends ScopedTest {

  private static final long[] X = {Long.MIN_VALUE, Long.MAX_VALUE, -7, 0};

  @Test
  void byMinusOneIsZero() {
    long[] zeros = {0, 0, 0, 0};
    assertArrayEquals(zeros, Tensor.of(X).fmod(-1L).toLongArray());
    assertArrayEquals(zeros, Tensor.of(X).remainder(-1L).toLongArray());
    Tensor minusOne = Tensor.full(-1, DType.INT64, 4);
    assertArrayEquals(zeros, Tensor.of(X).fmod(minusOne).toLongArray());
    assertArrayEquals(zeros, Tensor.of(X).remainder(minusOne).toLongArray());
  }

  @Test
  void otherDivisorsOfTheExtremesFollowJava() {
    long[] d = {-2, 3, Long.MIN_VALUE, -3};
    long[] fmod = new long[4], rem = new long[4];
    for (int i = 0; i < 4; i++) {
      fmod[i] = X[i] % d[i];                                                // C's, the sign of x
      rem[i] = Math.floorMod(X[i], d[i]);                                   // Python's, the sign of d
    }
    assertArrayEquals(fmod, Tensor.of(X).fmod(Tensor.of(d)).toLongArray());
    assertArrayEquals(rem, Tensor.of(X).remainder(Tensor.of(d)).toLongArray());
  }
}
