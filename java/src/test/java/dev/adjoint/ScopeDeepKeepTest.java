package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Scope.keep walks deep and cyclic user structures without recursion (and without looping). */
class ScopeDeepKeepTest {
  @Test
  void keepsTensorsInADeepAndACyclicStructure() {
    Tensor deepLeaf, cycleLeaf;
    List<Object> deep, cyclic;
    try (Scope s = Scope.open()) {
      deepLeaf = Tensor.of(1.0, 2.0);
      List<Object> l = new ArrayList<>(List.of(deepLeaf));
      for (int i = 0; i < 200_000; i++) l = new ArrayList<>(List.of(l));
      deep = l;
      cycleLeaf = Tensor.of(3.0);
      cyclic = new ArrayList<>();
      cyclic.add(cycleLeaf);
      cyclic.add(cyclic);
      s.keep(deep);
      s.keep(cyclic);
    }
    assertFalse(deepLeaf.isClosed());
    assertFalse(cycleLeaf.isClosed());
    assertEquals(3.0, cycleLeaf.item());
    deepLeaf.close();
    cycleLeaf.close();
  }
}
