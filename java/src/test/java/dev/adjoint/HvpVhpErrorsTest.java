package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** hvp and vhp name themselves when v does not fit x (they were reported as jvp's / vjp's errors). */
class HvpVhpErrorsTest extends ScopedTest {
  private static final Fn1 F = x -> x.sin().sum();

  @Test
  void wrongShapeOrDtypeOfVNamesHvpAndVhp() {
    Tensor x = Tensor.fromArray(new double[] {0.1, 0.2, 0.3}, 3);
    Tensor bad = Tensor.fromArray(new double[] {1, 2}, 2), f32 = Tensor.fromArray(new float[] {1, 2, 3}, 3);
    for (String op : List.of("hvp", "vhp")) {
      ShapeMismatchException s = assertThrows(ShapeMismatchException.class, () -> call(op, x, bad));
      assertTrue(s.getMessage().startsWith(op + ": ") && s.getMessage().contains("[2]") && s.getMessage().contains("[3]"), s.getMessage());
      DTypeMismatchException d = assertThrows(DTypeMismatchException.class, () -> call(op, x, f32));
      assertTrue(d.getMessage().startsWith(op + ": ") && d.getMessage().contains("float32") && d.getMessage().contains("float64"), d.getMessage());
    }
    FnN g = a -> ((Tensor) a[0]).sin().mul((Tensor) a[1]).sum();
    ShapeMismatchException s = assertThrows(ShapeMismatchException.class, () -> hvp(g, List.of(x, x), List.of(x, bad)));
    assertTrue(s.getMessage().startsWith("hvp: "), s.getMessage());
  }

  @Test
  void rightVStillGivesHv() {
    Tensor x = Tensor.fromArray(new double[] {0.1, 0.2, 0.3}, 3), v = Tensor.fromArray(new double[] {1, -1, 2}, 3);
    double[] hv = hvp(F, x, v).toDoubleArray(), vh = vhp(F, x, v).toDoubleArray();
    double[] xs = {0.1, 0.2, 0.3}, vs = {1, -1, 2};
    for (int i = 0; i < 3; i++) {
      assertEquals(-Math.sin(xs[i]) * vs[i], hv[i], 1e-15);
      assertEquals(-Math.sin(xs[i]) * vs[i], vh[i], 1e-15);
    }
  }

  private static Tensor call(String op, Tensor x, Tensor v) {
    return op.equals("hvp") ? hvp(F, x, v) : vhp(F, x, v);
  }
}
