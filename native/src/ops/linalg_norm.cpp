// torch.linalg's norms, as composites (they need no rules of their own): vector norms over any
// dims, and matrix norms over the last two dims (the spectral and nuclear ones through svdvals).
//
// NOTE: torch's derivative conventions at the kinks: at x = 0 every p-norm has a zero
// subgradient, never NaN. The root is taken through where(s == 0, ...) on both sides, so that
// neither its value nor any order of its derivative meets 0^(1/p - 1) (rules::zero_safe_pow), and
// so is |x|^p for p < 1; |x| at 0 has the zero subgradient of abs (sign(0) = 0).
#include <cmath>

#include "ops/linalg_util.h"
#include "ops/rule_util.h"

namespace adjoint::ops {
namespace {

// s^(1/p), with value and derivatives 0 where s == 0.
Tensor safe_root(const Tensor& s, double p) { return rules::zero_safe_pow(s, 1 / p); }

}  // namespace

Tensor linalg_vector_norm(const Tensor& x, double ord, const Dims& dims, bool keepdim) {
  const char* op = "linalg.vector_norm";
  ADJ_CHECK(is_floating(x.dtype()), ErrorKind::DType, op,
            "expected a float32 or float64 tensor, got " << dtype_name(x.dtype()) << " " << x.shape().str());
  ADJ_CHECK(!std::isnan(ord), ErrorKind::Argument, op, "ord must be a number, got NaN");
  if (std::isinf(ord)) {
    ADJ_CHECK(x.numel() > 0 || ord > 0, ErrorKind::Argument, op,
              "the norm of order -inf of an empty tensor " << x.shape().str() << " is not defined");
    return ord > 0 ? amax(abs(x), dims, keepdim) : amin(abs(x), dims, keepdim);
  }
  if (ord == 0) return sum(to(compare(OpId::Ne, x, rules::scalar_like(0, x)), x.dtype()), dims, keepdim);
  if (ord == 1) return sum(abs(x), dims, keepdim);
  if (ord == 2) return safe_root(sum(mul(x, x), dims, keepdim), 2);
  // 0 < ord < 1: |x|^ord has an infinite derivative at x = 0; torch's subgradient there is 0.
  Tensor s = sum(ord > 0 && ord < 1 ? rules::zero_safe_pow(abs(x), ord) : pow(abs(x), rules::scalar_like(ord, x)), dims, keepdim);
  return ord > 0 ? safe_root(s, ord) : pow(s, rules::scalar_like(1 / ord, s));
}

// kind: 0 = the numeric `ord` (1, -1, 2, -2, inf, -inf), 1 = Frobenius, 2 = nuclear.
Tensor linalg_matrix_norm(const Tensor& a, double ord, int kind, bool keepdim) {
  const char* op = "linalg.matrix_norm";
  ADJ_CHECK(is_floating(a.dtype()), ErrorKind::DType, op,
            "expected a float32 or float64 tensor, got " << dtype_name(a.dtype()) << " " << a.shape().str());
  ADJ_CHECK(a.ndim() >= 2, ErrorKind::Shape, op, "A must have at least 2 dimensions ([..., m, n]), got " << a.shape().str());
  const Dims last2{-2, -1};
  auto keep = [&](Tensor r) { return keepdim ? unsqueeze(unsqueeze(r, -1), -1) : r; };
  if (kind == 1) return linalg_vector_norm(a, 2, last2, keepdim);
  if (kind == 2) return keep(sum(linalg_svdvals(a), Dims{-1}, false));
  ADJ_CHECK(kind == 0, ErrorKind::Argument, op, "unknown norm kind " << kind);
  if (ord == 2 || ord == -2) {
    Tensor s = linalg_svdvals(a);
    return keep(ord > 0 ? amax(s, Dims{-1}, false) : amin(s, Dims{-1}, false));
  }
  ADJ_CHECK(ord == 1 || ord == -1 || std::isinf(ord), ErrorKind::Argument, op,
            "order " << ord << " not supported: use 1, -1, 2, -2, inf, -inf, \"fro\" or \"nuc\"");
  // 1: the largest column sum of |A|; inf: the largest row sum (the minimum for -1, -inf)
  Tensor sums = sum(abs(a), Dims{std::isinf(ord) ? -1 : -2}, false);
  return keep(ord > 0 ? amax(sums, Dims{-1}, false) : amin(sums, Dims{-1}, false));
}

}  // namespace adjoint::ops
