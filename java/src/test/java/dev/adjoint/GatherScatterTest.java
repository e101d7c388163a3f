package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/**
 * gather, scatter, scatterAdd, indexAdd and einsum from Java: the Javadoc examples' values, and bad
 * input as exceptions naming the op and the offending value or shapes (an out-of-range index under
 * vmap too, where the index is batched). Values and derivatives against torch are in
 * IndexReferenceTest; every rule in the C++ rules sweep.
 */
class GatherScatterTest {
  static Tensor longs(long[] v, long... shape) { return Tensor.fromArray(v, shape); }

  static Tensor doubles(double[] v, long... shape) { return Tensor.fromArray(v, shape); }

  @Test
  void javadocExamples() {
    try (Scope s = Scope.open()) {
      Tensor x = doubles(new double[] {1, 2, 3, 4}, 2, 2);
      assertArrayEquals(new double[] {1, 1, 4, 3}, x.gather(1, longs(new long[] {0, 0, 1, 0}, 2, 2)).toDoubleArray());
      Tensor sc = Tensor.zeros(DType.FLOAT64, 3).scatter(0, longs(new long[] {2, 0}, 2), doubles(new double[] {5, 7}, 2));
      assertArrayEquals(new double[] {7, 0, 5}, sc.toDoubleArray());
      assertArrayEquals(new double[] {1, 0, 2}, Tensor.zeros(3).scatterAdd(0, longs(new long[] {2, 2, 0}, 3), Tensor.ones(3)).toDoubleArray());
      Tensor ia = Tensor.zeros(3, 2).indexAdd(0, longs(new long[] {2, 0, 2}, 3), Tensor.ones(3, 2));
      assertArrayEquals(new double[] {1, 1, 0, 0, 2, 2}, ia.toDoubleArray());
      assertArrayEquals(new double[] {-1, 2, -1, 4}, x.scatter(1, longs(new long[] {0, 0}, 2, 1), -1.0).toDoubleArray());
      assertEquals(5.0, Tensor.einsum("ii", x).item(), 0.0);
    }
  }

  @Test
  void outOfRangeIndexNamesOpValueAndSize() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.ones(DType.FLOAT64, 2, 3);
      InvalidIndexException g = assertThrows(InvalidIndexException.class, () -> x.gather(1, longs(new long[] {0, 5}, 1, 2)));
      assertEquals("gather: index 5 is out of bounds for dimension 1 with size 3", g.getMessage());
      InvalidIndexException neg = assertThrows(InvalidIndexException.class, () -> x.gather(1, longs(new long[] {0, -1}, 1, 2)));
      assertTrue(neg.getMessage().contains("index -1 is out of bounds"), neg.getMessage());
      InvalidIndexException sc = assertThrows(InvalidIndexException.class,
          () -> x.scatter(0, longs(new long[] {0, 2}, 1, 2), Tensor.ones(DType.FLOAT64, 1, 2)));
      assertEquals("scatter: index 2 is out of bounds for dimension 0 with size 2", sc.getMessage());
      InvalidIndexException sa = assertThrows(InvalidIndexException.class,
          () -> x.scatterAdd(-1, longs(new long[] {3}, 1, 1), Tensor.ones(DType.FLOAT64, 1, 1)));
      assertEquals("scatter_add: index 3 is out of bounds for dimension 1 with size 3", sa.getMessage());
      InvalidIndexException ia = assertThrows(InvalidIndexException.class,
          () -> x.indexAdd(0, longs(new long[] {1, 7}, 2), Tensor.ones(DType.FLOAT64, 2, 3)));
      assertEquals("index_add: index 7 is out of bounds for dimension 0 with size 2", ia.getMessage());
    }
  }

  @Test
  void outOfRangeIndexUnderVmapIsCheckedPerExample() {
    try (Scope s = Scope.open()) {
      Tensor xs = Tensor.ones(DType.FLOAT64, 3, 4);
      Tensor ok = longs(new long[] {0, 3, 1, 2, 3, 0}, 3, 2);
      Fn2 pick = (x, i) -> x.gather(0, i);
      assertArrayEquals(new long[] {3, 2}, vmap(pick).apply(xs, ok).shape());
      Tensor bad = longs(new long[] {0, 3, 1, 2, 4, 0}, 3, 2);  // example 2 picks 4 of 4
      InvalidIndexException e = assertThrows(InvalidIndexException.class, () -> vmap(pick).apply(xs, bad));
      assertTrue(e.getMessage().startsWith("gather: index 4 is out of bounds"), e.getMessage());
      // a batched index into an unbatched tensor, through grad too
      Tensor w = Tensor.ones(DType.FLOAT64, 4);
      Fn1 loss = i -> grad(v -> v.gather(0, i).sum()).apply(w);
      InvalidIndexException e2 = assertThrows(InvalidIndexException.class, () -> vmap(loss).apply(bad));
      assertTrue(e2.getMessage().contains("index 4"), e2.getMessage());
    }
  }

  @Test
  void shapeAndDtypeErrorsNameTheOp() {
    try (Scope s = Scope.open()) {
      Tensor x = Tensor.ones(DType.FLOAT64, 2, 3);
      ShapeMismatchException rank = assertThrows(ShapeMismatchException.class, () -> x.gather(0, longs(new long[] {0}, 1)));
      assertTrue(rank.getMessage().startsWith("gather: index tensor must have the same number of dimensions") && rank.getMessage().contains("[2, 3]"),
          rank.getMessage());
      ShapeMismatchException big = assertThrows(ShapeMismatchException.class, () -> x.gather(1, Tensor.zeros(DType.INT64, 3, 1)));
      assertTrue(big.getMessage().contains("expected index [3, 1] to be smaller than self [2, 3] apart from dimension 1"), big.getMessage());
      assertThrows(DTypeMismatchException.class, () -> x.gather(0, Tensor.zeros(2, 3)));
      DTypeMismatchException dt = assertThrows(DTypeMismatchException.class,
          () -> x.scatter(0, Tensor.zeros(DType.INT64, 1, 3), Tensor.ones(DType.FLOAT32, 1, 3)));
      assertTrue(dt.getMessage().startsWith("scatter: expected self.dtype to be equal to src.dtype"), dt.getMessage());
      ShapeMismatchException src = assertThrows(ShapeMismatchException.class,
          () -> x.scatterAdd(0, Tensor.zeros(DType.INT64, 1, 3), Tensor.ones(DType.FLOAT64, 1, 2)));
      assertTrue(src.getMessage().contains("smaller size than src [1, 2]"), src.getMessage());
      ShapeMismatchException ia = assertThrows(ShapeMismatchException.class,
          () -> x.indexAdd(0, Tensor.zeros(DType.INT64, 2), Tensor.ones(DType.FLOAT64, 2, 4)));
      assertEquals("index_add: source shape [2, 4] must match self shape [2, 3] except in dim 0", ia.getMessage());
      ShapeMismatchException n = assertThrows(ShapeMismatchException.class,
          () -> x.indexAdd(0, Tensor.zeros(DType.INT64, 3), Tensor.ones(DType.FLOAT64, 2, 3)));
      assertTrue(n.getMessage().contains("number of indices (3) should be equal to source.size(dim) (2)"), n.getMessage());
      assertThrows(DTypeMismatchException.class, () -> x.indexAdd(0, Tensor.zeros(DType.INT64, 2), Tensor.ones(2, 3)));
    }
  }

  @Test
  void einsumErrorsNameTheEquationAndOperand() {
    try (Scope s = Scope.open()) {
      Tensor a = Tensor.ones(2, 3), b = Tensor.ones(4, 5);
      AdjointArgumentException count = assertThrows(AdjointArgumentException.class, () -> Tensor.einsum("ij,jk->ik", a));
      assertTrue(count.getMessage().startsWith("einsum: ") && count.getMessage().contains("\"ij,jk->ik\""), count.getMessage());
      ShapeMismatchException rank = assertThrows(ShapeMismatchException.class, () -> Tensor.einsum("ijk", a));
      assertTrue(rank.getMessage().contains("operand 0 [2, 3]") && rank.getMessage().contains("\"ijk\""), rank.getMessage());
      ShapeMismatchException sizes = assertThrows(ShapeMismatchException.class, () -> Tensor.einsum("ij,jk->ik", a, b));
      assertTrue(sizes.getMessage().contains("operand 1") && sizes.getMessage().contains("[4, 5]"), sizes.getMessage());
      ShapeMismatchException diag = assertThrows(ShapeMismatchException.class, () -> Tensor.einsum("ii", a));
      assertTrue(diag.getMessage().contains("subscript i is repeated for operand 0"), diag.getMessage());
      AdjointArgumentException chr = assertThrows(AdjointArgumentException.class, () -> Tensor.einsum("i1", a));
      assertTrue(chr.getMessage().contains("invalid subscript '1'"), chr.getMessage());
      AdjointArgumentException out = assertThrows(AdjointArgumentException.class, () -> Tensor.einsum("ij->ik", a));
      assertTrue(out.getMessage().contains("output subscript k does not appear"), out.getMessage());
      assertThrows(DTypeMismatchException.class, () -> Tensor.einsum("ij,jk", a, Tensor.ones(DType.FLOAT64, 3, 2)));
    }
  }

  @Test
  void einsumUnderHessianMatchesClosedForm() {
    try (Scope s = Scope.open()) {
      // f(x) = x^T A x through einsum: hessian A + A^T
      Tensor a = doubles(new double[] {1, 2, 0, -1, 3, 4, 0.5, 0, 2}, 3, 3);
      Tensor x = doubles(new double[] {0.3, -1, 2}, 3);
      Tensor h = hessian(v -> Tensor.einsum("i,ij,j->", v, a, v)).apply(x);
      assertArrayEquals(a.add(a.t()).toDoubleArray(), h.toDoubleArray(), 1e-12);
    }
  }
}
