// torch's type promotion (see promotion.h for the rule).
#include "ops/promotion.h"

#include <atomic>
#include <string>

#include "core/error.h"
#include "interp/rules.h"
#include "ops/ops.h"

namespace adjoint {
namespace {

// NOTE: process-wide like torch.set_default_dtype, so a setting made on one thread holds on every
// thread; atomic so that a change while other threads compute is seen whole (their later ops use
// it), never torn. Relaxed: it orders nothing else.
std::atomic<DType> g_default_float{DType::Float32};

// The lattice of our four dtypes is a chain: promoting two dtypes takes the higher rank.
int rank_of(DType d) {
  switch (d) {
    case DType::Bool: return 0;
    case DType::Int64: return 1;
    case DType::Float32: return 2;
    case DType::Float64: return 3;
  }
  return 0;
}
constexpr DType kByRank[] = {DType::Bool, DType::Int64, DType::Float32, DType::Float64};

// torch's combine_categories on ranks (-1: no operand of that standing): a higher-priority group
// keeps its dtype unless it is of a lower category than the other.
int combine(int higher, int lower) {
  if (higher < 0) return lower;
  if (lower < 0) return higher;
  if (higher >= rank_of(DType::Float32)) return higher;  // floating: nothing raises it
  if (higher == rank_of(DType::Bool) || lower >= rank_of(DType::Float32)) return std::max(higher, lower);
  return higher;  // integer over bool or integer
}

std::string describe(const Operand& o) {
  std::string s = dtype_name(o.dtype);
  switch (o.standing) {
    case Standing::Scalar: return s == "float64" ? "a double scalar" : "a long scalar";
    case Standing::ZeroDim: return s + " 0-d tensor";
    case Standing::Dimensioned: return s + " tensor" + (o.shape ? " " + o.shape->str() : std::string());
  }
  return s;
}

}  // namespace

DType default_float_dtype() { return g_default_float.load(std::memory_order_relaxed); }

void set_default_float_dtype(DType d, const char* op) {
  ADJ_CHECK(is_floating(d), ErrorKind::DType, op,
            "the default dtype must be float32 or float64, got " << dtype_name(d) << " (as torch.set_default_dtype)");
  g_default_float.store(d, std::memory_order_relaxed);
}

DType result_type(const Operand* ops, int n) {
  int best[3] = {-1, -1, -1};  // per Standing: the promoted rank of that group
  for (int i = 0; i < n; i++) {
    // A floating scalar counts as the default float dtype (torch: a Python float is a wrapped
    // float64 that promotes like get_default_dtype()).
    const DType d = ops[i].standing == Standing::Scalar && is_floating(ops[i].dtype) ? default_float_dtype() : ops[i].dtype;
    int& b = best[int(ops[i].standing)];
    b = std::max(b, rank_of(d));
  }
  const int r = combine(best[int(Standing::Dimensioned)], combine(best[int(Standing::ZeroDim)], best[int(Standing::Scalar)]));
  return kByRank[r < 0 ? 0 : r];
}

DType promoted_dtype(OpId op, const Operand* ops, int n) {
  if (op == OpId::Sub)
    for (int i = 0; i < n; i++)
      ADJ_CHECK(ops[i].dtype != DType::Bool, ErrorKind::DType, op_name(op),
                "subtraction with a bool operand is not supported (as in torch): " << describe(ops[0]) << " - " << describe(ops[1])
                                                                                  << "; convert it with to(dtype), or use where");
  const DType r = result_type(ops, n);
  return op_def(op).promotion == Promotion::TrueDiv && !is_floating(r) ? default_float_dtype() : r;
}

Tensor apply_promoted(const OpDef& def, const Tensor* in, int nin, const Attrs& attrs) {
  const OpId op = def.id;
  const int first = def.promotion == Promotion::Where ? 1 : 0;
  ADJ_CHECK(nin == first + 2, ErrorKind::Internal, def.name, "promotion of " << nin << " inputs");
  const Operand o[2] = {operand_of(in[first]), operand_of(in[first + 1])};
  const DType to = promoted_dtype(op, o, 2);
  Tensor args[3];
  for (int i = 0; i < nin; i++) args[i] = i < first || in[i].dtype() == to ? in[i] : ops::to(in[i], to);
  // NOTE: the op runs again on the promoted inputs, which must need no promotion: a rule that
  // disagreed with needs_promotion would recurse until the stack overflows (a JVM crash).
  ADJ_CHECK(!needs_promotion(def.promotion, args), ErrorKind::Internal, def.name, "promotion to " << dtype_name(to) << " left the inputs unpromoted");
  return apply(op, args, nin, attrs);
}

Tensor apply_scalar(OpId op, const Tensor& x, const Scalar& s, bool reverse) {
  DType to = x.dtype();
  if (!is_floating(to)) {  // a floating tensor keeps its dtype with any scalar: the common case asks nothing
    const Operand o[2] = {operand_of(x), {s.integral ? DType::Int64 : DType::Float64, Standing::Scalar}};
    to = promoted_dtype(op, o, 2);
    ADJ_CHECK(!(op == OpId::Pow && !reverse && to == DType::Int64 && s.i < 0 && s.integral), ErrorKind::Argument, op_name(op),
              "integers to negative integer powers are not allowed (as in torch): " << describe(o[0]) << " to the power " << s.i
                                                                                     << "; use a floating exponent, e.g. pow(" << s.i << ".0)");
  }
  Tensor cast;  // x itself is used when it has the dtype already (no reference count taken)
  if (to != x.dtype()) cast = ops::to(x, to);
  const Tensor& xv = cast.defined() ? cast : x;
  // int64 scalars from their exact value (a double holds integers exactly only up to 2^53)
  const Tensor c = to == DType::Int64 && s.integral ? ops::from_data(&s.i, Dims{}, DType::Int64, x.device()) : ops::scalar(s.integral ? double(s.i) : s.f, to, x.device());
  return reverse ? apply2(op, c, xv) : apply2(op, xv, c);
}

}  // namespace adjoint
