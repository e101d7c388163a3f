package dev.adjoint;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Tensor's reductions with positions, scans and sorting against torch 1.13 (reduce_reference.txt,
 * made by tests/reference/gen_reduce_reference.py), checked as NnReferenceTest checks its cases:
 * values, the vjp of a random cotangent against torch's autograd (the gradient of max(dim) to the
 * selected element, prod's and cumprod's with zeros), and for float64 vmap == loop, jacfwd == jacrev.
 */
class ReduceReferenceTest {
  static int i(Map<String, String> a, String k) { return Integer.parseInt(a.get(k)); }

  static boolean flag(Map<String, String> a, String k) { return a.containsKey(k) && i(a, k) == 1; }

  /** The Java call for each function name of the reference file. */
  static Tensor call(String fn, Map<String, String> a, List<Tensor> in) {
    Tensor x = in.get(0);
    return switch (fn) {
      case "prod" -> x.prod(i(a, "dim"), flag(a, "keepdim"));
      case "prodAll" -> x.prod();
      case "cumsum" -> x.cumsum(i(a, "dim"));
      case "cumprod" -> x.cumprod(i(a, "dim"));
      case "logcumsumexp" -> x.logcumsumexp(i(a, "dim"));
      case "maxValues" -> x.max(i(a, "dim"), flag(a, "keepdim")).values();
      case "maxIndices" -> x.max(i(a, "dim"), flag(a, "keepdim")).indices();
      case "minValues" -> x.min(i(a, "dim"), flag(a, "keepdim")).values();
      case "minIndices" -> x.min(i(a, "dim"), flag(a, "keepdim")).indices();
      case "argmax" -> x.argmax(i(a, "dim"), flag(a, "keepdim"));
      case "argmin" -> x.argmin(i(a, "dim"), flag(a, "keepdim"));
      case "argmaxAll" -> x.argmax();
      case "argminAll" -> x.argmin();
      case "sortValues" -> x.sort(i(a, "dim"), flag(a, "descending")).values();
      case "sortIndices" -> x.sort(i(a, "dim"), flag(a, "descending")).indices();
      case "topkValues" -> x.topk(i(a, "k"), i(a, "dim"), flag(a, "largest"), true).values();
      case "topkIndices" -> x.topk(i(a, "k"), i(a, "dim"), flag(a, "largest"), true).indices();
      default -> throw new AssertionError("no Java call for " + fn);
    };
  }

  @TestFactory
  Stream<DynamicTest> againstTorch() throws Exception {
    return NnReferenceTest.cases("reduce_reference.txt").stream()
        .map(c -> DynamicTest.dynamicTest(c.name(), () -> NnReferenceTest.check(c, ReduceReferenceTest::call)));
  }
}
