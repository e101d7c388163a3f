package dev.adjoint;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Tensor.gather, scatter, scatterAdd, indexAdd and einsum against torch 1.13 (index_reference.txt,
 * made by tests/reference/gen_index_reference.py), with NnReferenceTest's checks: values, the vjp
 * of a random cotangent against torch's autograd, and for float64 cases vmap == loop and jacfwd ==
 * jacrev. The einsum cases cover 29 equations (batch matmul, outer, trace, diagonal, bilinear,
 * ellipsis broadcasting, sums, transposes, three operands, implicit outputs, spaces).
 */
class IndexReferenceTest {
  static Tensor call(String fn, Map<String, String> a, List<Tensor> x) {
    int dim = a.containsKey("dim") ? Integer.parseInt(a.get("dim")) : 0;
    return switch (fn) {
      case "gather" -> x.get(0).gather(dim, x.get(1));
      case "scatter" -> x.get(0).scatter(dim, x.get(1), x.get(2));
      case "scatterValue" -> x.get(0).scatter(dim, x.get(1), NnReferenceTest.d(a, "value"));
      case "scatterAdd" -> x.get(0).scatterAdd(dim, x.get(1), x.get(2));
      case "indexAdd" -> x.get(0).indexAdd(dim, x.get(1), x.get(2));
      case "einsum" -> Tensor.einsum(a.get("eq").replace('_', ' '), x.toArray(new Tensor[0]));
      default -> throw new AssertionError("no Java call for " + fn);
    };
  }

  @TestFactory
  Stream<DynamicTest> againstTorch() throws Exception {
    return NnReferenceTest.cases("index_reference.txt").stream()
        .map(c -> DynamicTest.dynamicTest(c.name(), () -> NnReferenceTest.check(c, IndexReferenceTest::call)));
  }
}
