package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Shapes whose element count does not fit in a long are rejected by every op that makes one, with
 * an AdjointArgumentException naming the op and the shape. Before, reshape, view and expand
 * accepted them with a count that wrapped: {@code Tensor.of(1.0).reshape(7, 7905747460161236407L)}
 * "held" 7 * 7905747460161236407 = 1 (mod 2^64) element, and summing it read out of bounds (SIGSEGV).
 * A shape with a size-0 dim holds no elements whatever its other sizes, as in torch.
 */
class ShapeOverflowTest {
  static final long BIG = 7905747460161236407L;  // 7 * BIG wraps to 1
  static final long P32 = 1L << 32, P40 = 1L << 40, P62 = 1L << 62;
  static final String TOO_MANY = "has more elements than int64 can count";

  private Scope scope;

  @BeforeEach
  void openScope() {
    scope = Scope.open();
  }

  @AfterEach
  void closeScope() {
    scope.close();
  }

  /** body must throw exactly AdjointArgumentException for op, with the fragments in its message. */
  static void rejects(String op, Executable body, String... fragments) {
    AdjointArgumentException e = assertThrowsExactly(AdjointArgumentException.class, body, op + " should reject the shape");
    String msg = e.getMessage();
    assertTrue(msg.startsWith(op + ": "), () -> "message does not start with '" + op + ": ': " + msg);
    assertEquals(op, e.op(), () -> "op() of: " + msg);
    for (String f : fragments) assertTrue(msg.contains(f), () -> "message lacks '" + f + "': " + msg);
    // the thread carries on
    assertArrayEquals(new double[] {2, 3}, Tensor.of(1.0, 2.0).add(1.0).toDoubleArray());
  }

  @Test
  void reshapeAndViewRejectCountsThatWrap() {
    Tensor one = Tensor.of(1.0);
    rejects("reshape", () -> one.reshape(7, BIG).sum(1), "[7, 7905747460161236407]", TOO_MANY);
    rejects("view", () -> one.view(7, BIG), "[7, 7905747460161236407]", TOO_MANY);
    rejects("reshape", () -> Tensor.ones(3).reshape(-1, P62, 4), "[1, 4611686018427387904, 4]", TOO_MANY);
    rejects("reshape", () -> Tensor.ones(1, 1).reshape(P32, P32), "[4294967296, 4294967296]");
  }

  @Test
  void expandRejectsCountsThatWrap() {
    Tensor one = Tensor.of(1.0);
    rejects("expand", () -> one.expand(7, BIG).sum(), "[7, 7905747460161236407]", TOO_MANY);  // summed to 1.0 before
    rejects("expand", () -> one.expand(P32, P32), "[4294967296, 4294967296]", TOO_MANY);     // had numel 0 before
    rejects("expand", () -> Tensor.ones(1, 1).expand(P40, P40), "[1099511627776, 1099511627776]");
    assertEquals(Long.MAX_VALUE, one.expand(Long.MAX_VALUE).numel());  // the largest count that fits
  }

  @Test
  void opsThatCombineShapesRejectCountsThatWrap() {
    Tensor col = Tensor.ones(1, 1).expand(P40, 1), row = Tensor.ones(1, 1).expand(1, P40);
    rejects("add", () -> col.add(row), "[1099511627776, 1099511627776]", TOO_MANY);
    rejects("mul", () -> row.mul(col), "[1099511627776, 1099511627776]");
    rejects("where", () -> Tensor.where(Tensor.ones(1, 1).gt(0.0).expand(P40, 1), row, Tensor.of(0f)), "[1099511627776, 1099511627776]");
    Tensor a = Tensor.ones(1, 1, 1, 1).expand(P40, 1, 1, 1), b = Tensor.ones(1, 1, 1, 1).expand(1, P40, 1, 1);
    rejects("matmul", () -> a.matmul(b), "[1099511627776, 1099511627776, 1, 1]");
    Tensor half = Tensor.ones(1).expand(P62);
    rejects("cat", () -> Tensor.cat(List.of(half, half), 0), "dim 0 add up to more than int64 can count");
    rejects("stack", () -> Tensor.stack(List.of(half, half, half, half), 0), "[4, 4611686018427387904]", TOO_MANY);
    rejects("sum", () -> Tensor.zeros(0, P62, P62).sum(0), "[4611686018427387904, 4611686018427387904]");
  }

  @Test
  void creationRejectsCountsThatWrap() {
    rejects("full", () -> Tensor.zeros(P40, P40), "[1099511627776, 1099511627776]", TOO_MANY);
    rejects("full", () -> Tensor.full(2.0, 7, BIG), "[7, 7905747460161236407]");
    rejects("randn", () -> Tensor.randn(P32, P32), "[4294967296, 4294967296]");
    rejects("rand", () -> Tensor.rand(P32, P32), "[4294967296, 4294967296]");
    rejects("eye", () -> Tensor.eye(P40, P40, DType.FLOAT32), "[1099511627776, 1099511627776]");
    rejects("arange", () -> Tensor.arange(0, 1e300, 1, DType.FLOAT64), TOO_MANY);
    // representable but too large for memory: still out of memory
    assertThrowsExactly(NativeOutOfMemoryException.class, () -> Tensor.zeros(1L << 59, 8));
  }

  @Test
  void transformsRejectCountsThatWrap() {
    Fn1 reshape = t -> t.reshape(7, BIG);
    Fn1 expand = t -> t.expand(P32, P32);
    rejects("reshape", () -> Func.vmap(reshape).apply(Tensor.ones(3, 1)), "[7, 7905747460161236407]");
    rejects("expand", () -> Func.vmap(expand).apply(Tensor.ones(3, 1)), "[3, 4294967296, 4294967296]");
    Fn1 reshapeSum = t -> t.reshape(7, BIG).sum();
    rejects("reshape", () -> Func.grad(reshapeSum).apply(Tensor.ones(1)), "[7, 7905747460161236407]");
    rejects("expand", () -> Func.jvp(expand, Tensor.ones(1), Tensor.ones(1)), "[4294967296, 4294967296]");
    rejects("vmap", () -> Func.vmap(t -> t).apply(Tensor.zeros(0, P62, P62)), "[4611686018427387904, 4611686018427387904]");
  }

  @Test
  void zeroSizeDimsWithHugeOnesAreLegal() {
    Tensor e = Tensor.zeros(0, P62, P62);
    assertEquals(0, e.numel());
    assertArrayEquals(new long[] {0, P62, P62}, e.shape());
    assertEquals(0.0, e.sum().item(), 0.0);
    assertArrayEquals(new long[] {0}, e.sum(new int[] {1, 2}, false).shape());
    assertArrayEquals(new long[] {0, P62, P62}, e.add(1.0).exp().shape());
    assertArrayEquals(new long[] {0, P62, P62}, Tensor.zeros(0).reshape(0, P62, P62).shape());
    assertArrayEquals(new long[] {0, P62}, Tensor.zeros(0, 1).expand(0, P62).shape());
    assertArrayEquals(new long[] {P62, P62, 0}, e.transpose(0, 2).contiguous().shape());
    assertArrayEquals(new long[] {2, 0, P62, P62}, Tensor.stack(List.of(e, e), 0).shape());
    assertArrayEquals(new long[] {0, P62, P62}, e.softmax(1).shape());
  }
}
