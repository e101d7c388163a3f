// torch's type promotion: the dtype rule of the binary elementwise ops (OpDef::promotion) and of a
// tensor combined with a Java scalar (the C API's scalar ops). One rule, applied once, before an
// op runs: the inputs that need it are cast by Cast ops, so every transform sees differentiable
// casts (the cotangent of a promoted input comes back in the input's own dtype).
//
// The rule (torch 1.13, "Type promotion" in torch's docs; tests/reference/gen_promotion_table.py
// records its answers): dtypes rank bool < int64 < float32 < float64, in three categories (bool,
// integer, floating). Operands stand as dimensioned tensors (rank >= 1), 0-d tensors, or scalars,
// in that priority. The highest-priority group that is present decides the dtype within its
// category; a lower group only raises the category: a 0-d float64 tensor or a Java double leaves
// a float32 tensor float32, but makes an int64 tensor floating (a 0-d tensor: its own dtype; a
// Java double: the default float dtype).
#pragma once
#include "core/dtype.h"
#include "core/tensor.h"
#include "ops/op.h"

namespace adjoint {

// Where an operand stands in the rule, lowest priority first.
enum class Standing : uint8_t { Scalar, ZeroDim, Dimensioned };

struct Operand {
  DType dtype;
  Standing standing;
  const Dims* shape = nullptr;  // a tensor's, for messages
};

inline Operand operand_of(const Tensor& t) {
  return {t.dtype(), t.ndim() > 0 ? Standing::Dimensioned : Standing::ZeroDim, &t.shape()};
}

// The common dtype of the operands (torch.result_type). A Java double scalar is {Float64, Scalar};
// a Java long scalar {Int64, Scalar}.
DType result_type(const Operand* ops, int n);

// The dtype `op` computes in for these operands: result_type, then the op's own rule (true
// division and the other Promotion::TrueDiv ops, atan2, give integers the default float dtype;
// subtraction refuses bool operands, as torch does). Throws a DType error naming the op and the operands when the op has no such dtype.
DType promoted_dtype(OpId op, const Operand* ops, int n);

// The float dtype integers promote to (true division, an integer tensor with a Java double), like
// torch.get_default_dtype(). Process-wide, as in torch: float32 unless set to float64.
DType default_float_dtype();
// Float32 or Float64; anything else is an Argument error naming `op`.
void set_default_float_dtype(DType d, const char* op);

// For a call with traced inputs, dispatch asks this before the top level processes the op (the
// op's eval promotes concrete inputs itself): true when apply_promoted must run first. One byte
// compare for an op without a Promotion, a few more for one whose dtypes already agree.
inline bool needs_promotion(Promotion p, const Tensor* in) {
  if (__builtin_expect(p == Promotion::None, 1)) return false;  // most ops: one byte compare
  const Tensor* v = in + (p == Promotion::Where ? 1 : 0);
  return v[0].dtype() != v[1].dtype() || (p == Promotion::TrueDiv && !is_floating(v[0].dtype()));
}

// Casts the inputs of the op that take part in its promotion to the promoted dtype and applies the
// op to the result (which then needs no promotion). Out of line: dispatch only calls it.
Tensor apply_promoted(const OpDef& def, const Tensor* in, int nin, const Attrs& attrs);

// A Java scalar: a double, or a long (kept exact: 2^53 + 1 stays itself in int64 arithmetic).
struct Scalar {
  bool integral = false;
  double f = 0;
  int64_t i = 0;
  static Scalar of(double v) { return {false, v, 0}; }
  static Scalar of_long(int64_t v) { return {true, double(v), v}; }
};

// x (op) s, or s (op) x when `reverse`, for a binary primitive op (arithmetic or comparison):
// promoted like torch's tensor-with-Python-number ops.
Tensor apply_scalar(OpId op, const Tensor& x, const Scalar& s, bool reverse);

}  // namespace adjoint
