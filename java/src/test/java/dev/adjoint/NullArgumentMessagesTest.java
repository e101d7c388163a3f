package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Null arguments and out-of-range dims of the list and option taking methods are errors naming the
 * op and what is wrong: they were bare NullPointerExceptions ("Cannot invoke Tensor.h()",
 * "Cannot read the array length") or named "size" instead of split/chunk.
 */
class NullArgumentMessagesTest extends ScopedTest {

  private static <T extends AdjointArgumentException> void fails(Class<T> type, String op, Executable body, String fragment) {
    T e = assertThrowsExactly(type, body);
    assertTrue(e.getMessage().startsWith(op + ": ") && e.getMessage().contains(fragment), e.getMessage());
    assertEquals(op, e.op());
  }

  @Test
  void nullElementsAndArrays() {
    Tensor x = Tensor.ones(2, 3);
    fails(AdjointArgumentException.class, "cat", () -> Tensor.cat(Arrays.asList(x, null), 0), "tensor 1 of the list is null");
    fails(AdjointArgumentException.class, "stack", () -> Tensor.stack(null, 0), "the list of tensors is null");
    fails(AdjointArgumentException.class, "einsum", () -> Tensor.einsum("ij,jk->ik", x, null), "tensor 1 of the list is null");
    fails(AdjointArgumentException.class, "einsum", () -> Tensor.einsum(null, x), "the equation is null");
    fails(AdjointArgumentException.class, "layer_norm", () -> F.layerNorm(x, null, null, null, 1e-5), "normalized_shape is null");
    fails(AdjointArgumentException.class, "gelu", () -> F.gelu(x, null), "got null");
  }

  @Test
  void splitAndChunkNameThemselvesForABadDim() {
    Tensor x = Tensor.ones(2, 3);
    fails(InvalidIndexException.class, "split", () -> x.split(1, 2), "dim 2 out of range for a tensor of rank 2 (expected in [-2, 1])");
    fails(InvalidIndexException.class, "chunk", () -> x.chunk(2, -3), "dim -3 out of range");
    assertEquals(3, x.split(1, -1).size());
    assertEquals(List.of(2L, 1L), x.chunk(2, 1).stream().map(t -> t.size(1)).toList());
  }

  @Test
  void aminOfNothingSaysSo() {
    fails(AdjointArgumentException.class, "amin", () -> Tensor.zeros(0, 3).amin(0), "the maximum or minimum of nothing is undefined");
  }
}
