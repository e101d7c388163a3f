package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/**
 * Issue 14's elementwise ops at their kinks: the derivative conventions of torch 1.13 (values
 * below computed with it, float64): maximum/minimum share a tie evenly, clamp passes the derivative
 * on the bounds, the rounding ops have derivative 0, fmod/remainder's divisor derivative is
 * -trunc(a / b) / -floor(a / b). Away from the kinks the rules sweep (native/tests) checks every
 * op against finite differences and OpsReferenceTest the values against torch.
 */
class ElementwiseKinksTest extends ScopedTest {

  private static Tensor t(double... v) { return Tensor.of(v); }

  private static void assertGrad(double[] want, Tensor got) { assertArrayEquals(want, got.toDoubleArray(), 0); }

  @Test
  void maximumAndMinimumShareTiesEvenly() {
    Tensor a = t(1, 2, 0, 3), b = t(1, 1, 0, 4);
    Fn2 max = (x, y) -> x.maximum(y).sum(), min = (x, y) -> x.minimum(y).sum();
    assertGrad(new double[] {0.5, 1, 0.5, 0}, Func.grad(max, 0).apply(a, b));
    assertGrad(new double[] {0.5, 0, 0.5, 1}, Func.grad(max, 1).apply(a, b));
    assertGrad(new double[] {0.5, 0, 0.5, 1}, Func.grad(min, 0).apply(a, b));
    assertGrad(new double[] {0.5, 1, 0.5, 0}, Func.grad(min, 1).apply(a, b));
    // forward mode agrees: the jvp of each input's ones tangent is its gradient's sum here
    assertGrad(new double[] {0.5, 1, 0.5, 0}, Func.jvp(x -> x.maximum(b), a, t(1, 1, 1, 1)).tangent());
  }

  @Test
  void clampPassesTheDerivativeOnItsBounds() {
    Tensor x = t(-2, -1, 0, 1, 2);
    assertGrad(new double[] {0, 1, 1, 1, 0}, Func.grad(v -> v.clamp(-1, 1).sum()).apply(x));
    assertGrad(new double[] {0, 0, 1, 1, 1}, Func.grad(v -> v.clampMin(0).sum()).apply(x));
    assertGrad(new double[] {1, 1, 1, 0, 0}, Func.grad(v -> v.clampMax(0).sum()).apply(x));
    Tensor lo = t(-1, -1, -1, -1, -1), hi = t(1, 1, 1, 1, 1);
    Fn3 f = (v, l, h) -> v.clamp(l, h).sum();
    assertGrad(new double[] {0, 1, 1, 1, 0}, Func.grad(f, 0).apply(x, lo, hi));
    assertGrad(new double[] {1, 0, 0, 0, 0}, Func.grad(f, 1).apply(x, lo, hi));
    assertGrad(new double[] {0, 0, 0, 0, 1}, Func.grad(f, 2).apply(x, lo, hi));
    // crossed bounds (lo > hi): every element is hi, and only hi has a derivative
    Tensor x2 = t(0.5, -1.5), lo2 = t(1, 1), hi2 = t(-1, -1);
    assertGrad(new double[] {0, 0}, Func.grad(f, 0).apply(x2, lo2, hi2));
    assertGrad(new double[] {0, 0}, Func.grad(f, 1).apply(x2, lo2, hi2));
    assertGrad(new double[] {1, 1}, Func.grad(f, 2).apply(x2, lo2, hi2));
  }

  @Test
  void roundingOpsHaveZeroDerivativeAndFmodRemainderTheirQuotients() {
    Tensor x = t(1.5, -2.5, 0.3);
    assertGrad(new double[] {0, 0, 0}, Func.grad(v -> v.floor().add(v.round()).add(v.ceil()).add(v.trunc()).sum()).apply(x));
    Tensor a = t(5.5, -5.5), b = t(2, 2);
    Fn2 fmod = (p, q) -> p.fmod(q).sum(), rem = (p, q) -> p.remainder(q).sum();
    assertGrad(new double[] {1, 1}, Func.grad(fmod, 0).apply(a, b));
    assertGrad(new double[] {-2, 2}, Func.grad(fmod, 1).apply(a, b));
    assertGrad(new double[] {-2, 3}, Func.grad(rem, 1).apply(a, b));
  }

  @Test
  void hessiansThroughTheNewPrimitivesMatchClosedForms() {
    Tensor x = t(0.3, -0.7, 1.1);
    // d^2/dx^2 log1p(x) = -1 / (1 + x)^2; d^2/dx^2 erf(x) = -4x / sqrt(pi) e^(-x^2); atan: -2x / (1 + x^2)^2
    double[] xs = x.toDoubleArray();
    double[] l = new double[9], e = new double[9], a = new double[9];
    for (int i = 0; i < 3; i++) {
      l[i * 4] = -1 / ((1 + xs[i]) * (1 + xs[i]));
      e[i * 4] = -4 * xs[i] / Math.sqrt(Math.PI) * Math.exp(-xs[i] * xs[i]);
      a[i * 4] = -2 * xs[i] / ((1 + xs[i] * xs[i]) * (1 + xs[i] * xs[i]));
    }
    assertArrayEquals(l, Func.hessian(v -> v.log1p().sum()).apply(x).toDoubleArray(), 1e-12);
    assertArrayEquals(e, Func.hessian(v -> v.erf().sum()).apply(x).toDoubleArray(), 1e-12);
    assertArrayEquals(a, Func.hessian(v -> v.atan().sum()).apply(x).toDoubleArray(), 1e-12);
  }
}
