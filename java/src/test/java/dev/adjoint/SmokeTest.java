package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class SmokeTest {
  @Test
  void linearTanhPrints() {
    Adjoint.manualSeed(0);
    Tensor w = Tensor.randn(16, 16), b = Tensor.randn(16), x = Tensor.randn(16);
    Tensor y = x.linear(w, b).tanh();
    System.out.println(w.get(0));
    System.out.println(y);
    assertArrayEquals(new long[] {16}, y.shape());
  }
}
