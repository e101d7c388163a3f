// The elementwise families: what makes a unary op, a broadcasting binary op or a comparison one
// line in ops/unary.cpp or ops/binary.cpp. From the op's kernel and its derivative expression the
// family supplies the metadata rule, eval, jvp, vjp and batching (functorch's UNARY_POINTWISE,
// JAX's standard_unop + defjvp + defvectorized).
#pragma once
#include <initializer_list>

#include "interp/rules.h"
#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#include "ops/promotion.h"
#include "ops/rule_util.h"

namespace adjoint::elementwise {

// ---------------------------------------------------------------- shared by eval rules

// NOTE: an elementwise result keeps the memory order of its first input that has the result's
// full shape and is a dense non-contiguous permutation (a transpose, a moved batch dim), like
// torch's TensorIterator, unless another full-shape input is contiguous (then the result is
// contiguous too: one of them is read across its layout either way, and row-major is what later
// reshapes and matmuls want). Chains of ops over a transposed value (jacfwd's tangents are
// basis-major, the Jacobian wants them last) then never transpose until a caller asks for
// contiguous(). Kernels walk such outputs in memory order (Loop's by_first).
inline Tensor empty_elementwise(const Dims& shape, DType dtype, Device device, const char* op, std::initializer_list<const Tensor*> ins) {
  Tensor out = Tensor::empty(shape, dtype, device, op);
  if (shape.n < 2) return out;
  for (const Tensor* t : ins)
    if (t->shape() == shape && t->is_contiguous()) return out;
  for (const Tensor* t : ins) {
    if (t->shape() != shape || t->is_contiguous() || !t->is_dense()) continue;
    // Dims from innermost (smallest input stride) outwards get strides 1, size, size*size, ...
    int order[kMaxDims];
    for (int i = 0; i < shape.n; i++) {
      int j = i;
      for (; j > 0 && t->strides()[order[j - 1]] < t->strides()[i]; j--) order[j] = order[j - 1];
      order[j] = i;
    }
    int64_t stride = 1;
    for (int i = shape.n - 1; i >= 0; i--) {
      out.impl()->strides[order[i]] = stride;
      stride *= shape[order[i]];
    }
    break;
  }
  return out;
}

// A broadcast input is read once per copy; when strided (a transposed view) it is made row-major
// first, a copy of its own size, so the kernel's inner loop reads it with unit stride each time.
// One value per output row (size 1 in a last dim of 16 or more) is read once per row anyway.
inline Tensor readable_broadcast(const Tensor& x, const Dims& shape) {
  if (x.shape() == shape || x.is_contiguous() || x.numel() * 2 > numel_of(shape)) return x;
  if (x.ndim() == shape.n && x.size(x.ndim() - 1) == 1 && shape[shape.n - 1] >= 16) return x;
  Tensor c = Tensor::empty(x.shape(), x.dtype(), x.device(), "contiguous");
  backend_of(x).copy(x, c);
  return c;
}

// x viewed with the result's shape, laid out for the kernel (see readable_broadcast).
inline Tensor kernel_view(const Tensor& x, const Dims& shape) { return broadcast_view(readable_broadcast(x, shape), shape); }

// A floating tensor whose every element is the one stored 1 (a ones cotangent spread by expand).
inline bool is_broadcast_one(const Tensor& t) {
  if (t.device().type != DeviceType::CPU || !is_floating(t.dtype()) || t.numel() == 0) return false;
  for (int i = 0; i < t.ndim(); i++)
    if (t.size(i) > 1 && t.strides()[i] != 0) return false;
  return t.dtype() == DType::Float32 ? t.data<float>()[0] == 1.0f : t.data<double>()[0] == 1.0;
}

// The promotion of concrete inputs, out of the way of eval's hot path (cold: inlining it there
// would cost the kernels' helpers their inlining). In elementwise.cpp.
Tensor eval_promoted(OpId op, const Tensor* in, int nin, const Attrs& at);

// Where in the promotion rule a tensor of this shape stands.
inline Operand operand_of_meta(const Meta& m) { return {m.dtype, m.shape.n > 0 ? Standing::Dimensioned : Standing::ZeroDim, &m.shape}; }

// ---------------------------------------------------------------- unary

// The input dtypes a unary op takes (bool never: torch has no arithmetic on it).
enum class Domain : uint8_t {
  Floating,  // float32, float64 (exp, sin, ...)
  Numeric,   // and int64 (neg, abs, sign, relu)
};

template <Domain D>
void check_unary(const char* name, DType dt, const Dims& shape) {
  if (D == Domain::Floating)
    ADJ_CHECK(is_floating(dt), ErrorKind::DType, name,
              "expected a floating point tensor (float32 or float64), got " << dtype_name(dt) << " " << shape.str());
  ADJ_CHECK(dt != DType::Bool, ErrorKind::DType, name, "not defined for bool tensors");
}

template <OpId Op, Domain D>
Meta meta_unary(const Meta* in, int, const Attrs&) {
  check_unary<D>(op_name(Op), in[0].dtype, in[0].shape);
  return in[0];
}

template <OpId Op, Domain D>
Tensor eval_unary(const Tensor* in, int, const Attrs&) {
  const OpDef& d = op_def(Op);
  const Tensor& x = in[0];
  check_unary<D>(d.name, x.dtype(), x.shape());
  Tensor out = empty_elementwise(x.shape(), x.dtype(), x.device(), d.name, {&x});
  backend_of(x).unary(*d.unary_kernel, x, out);
  return out;
}

// The derivative of an elementwise op is diagonal, so one tangent map serves both modes.
template <OpId Op>
Tensor jvp_unary(const Tensor* p, const Tensor* t, int, const Tensor& out, const Attrs&) {
  return op_def(Op).tangent(t[0], p[0], out);
}

template <OpId Op>
void vjp_unary(const Tensor& g, const Tensor* p, int, const Tensor& out, const Attrs&, const bool*, Tensor* grads) {
  grads[0] = op_def(Op).tangent(g, p[0], out);
}

template <OpId Op>
Tensor batch_elementwise(const Tensor* v, const int* bd, int nin, const Attrs& at, int64_t) {
  return rules::batch_broadcasting(Op, v, bd, nin, at);
}

template <OpId Op, Domain D>
OpDef& unary(OpDef* table, const char* name, const UnaryKernel& kernel, TangentMap tangent) {
  OpDef& d = define_op(table, Op, name, 1);
  d.meta = meta_unary<Op, D>;
  d.eval = eval_unary<Op, D>;
  d.jvp = jvp_unary<Op>;
  d.vjp = vjp_unary<Op>;
  d.batch = batch_elementwise<Op>;
  d.unary_kernel = &kernel;
  d.tangent = tangent;
  return d;
}

// ---------------------------------------------------------------- predicates (bool results)

template <OpId Op>
Meta meta_predicate(const Meta* in, int, const Attrs&) { return {in[0].shape, DType::Bool}; }

template <OpId Op>
Tensor eval_predicate(const Tensor* in, int, const Attrs&) {
  const OpDef& d = op_def(Op);
  const Tensor& x = in[0];
  Tensor out = empty_elementwise(x.shape(), DType::Bool, x.device(), d.name, {&x});
  backend_of(x).unary(*d.unary_kernel, x, out);
  return out;
}

// A predicate of one input of any dtype (isnan, logical_not): bool, no derivative.
template <OpId Op>
OpDef& predicate(OpDef* table, const char* name, const UnaryKernel& kernel) {
  OpDef& d = define_op(table, Op, name, 1);
  d.meta = meta_predicate<Op>;
  d.eval = eval_predicate<Op>;
  d.batch = batch_elementwise<Op>;
  d.unary_kernel = &kernel;
  d.differentiable = false;
  return d;
}

// ---------------------------------------------------------------- binary, broadcasting

// What a binary op does beyond arithmetic on equal dtypes (template flags of the family).
enum BinaryFlags : unsigned {
  kBoolLogical = 1,        // bool operands allowed: + and maximum are or, * and minimum are and (as in torch)
  kToBool = 2,             // the result is bool (comparisons); not differentiable
  kRightOneIdentity = 4,   // x op 1 is x bit for bit (x * 1, x / 1)
  kLeftOneIdentity = 8,    // 1 op x is x (1 * x)
  kFused = 16,             // an internal fused primitive: floating, equal dtypes, no promotion
};

template <OpId Op, unsigned F>
void check_binary_bool(const char* name, DType dt, const Dims& a, const Dims& b) {
  if (!(F & (kBoolLogical | kToBool)))
    ADJ_CHECK(dt != DType::Bool, ErrorKind::DType, name,
              (Op == OpId::Sub ? "subtraction" : "arithmetic") << " is not defined for bool tensors (as in torch), got " << a.str()
                                                               << " and " << b.str());
}

template <OpId Op, Promotion P, unsigned F>
Meta meta_binary(const Meta* in, int, const Attrs&) {
  const char* name = op_name(Op);
  DType dt = in[0].dtype;
  if (F & kFused) {
    ADJ_CHECK(in[0].dtype == in[1].dtype, ErrorKind::DType, name,
              "dtype mismatch: " << dtype_name(in[0].dtype) << " " << in[0].shape.str() << " vs " << dtype_name(in[1].dtype) << " "
                                 << in[1].shape.str() << " (convert one with to(dtype))");
    ADJ_CHECK(is_floating(dt), ErrorKind::DType, name,
              "expected a floating point tensor (float32 or float64), got " << dtype_name(dt) << " " << in[0].shape.str());
  } else if (in[0].dtype != in[1].dtype || (P == Promotion::TrueDiv && !is_floating(dt))) {
    const Operand o[2] = {operand_of_meta(in[0]), operand_of_meta(in[1])};
    dt = promoted_dtype(Op, o, 2);
  }
  check_binary_bool<Op, F>(name, dt, in[0].shape, in[1].shape);
  return {broadcast_shapes(in[0].shape, in[1].shape, name), (F & kToBool) ? DType::Bool : dt};
}

template <OpId Op, Promotion P, unsigned F>
Tensor eval_binary(const Tensor* in, int nin, const Attrs& at) {
  const Tensor &a = in[0], &b = in[1];
  const OpDef& d = op_def(Op);
  const char* name = d.name;
  // Concrete inputs of other dtypes are promoted here (see dispatch's NOTE): the compare this check
  // makes anyway is the whole cost when they agree.
  if (__builtin_expect(a.dtype() != b.dtype() || (P == Promotion::TrueDiv && !is_floating(a.dtype())), 0)) {
    if constexpr (!(F & kFused)) return eval_promoted(Op, in, nin, at);
    check_same_dtype(name, a, b);
  }
  check_same_device(name, a, b);
  if (F & kFused) check_floating(name, a);
  check_binary_bool<Op, F>(name, a.dtype(), a.shape(), b.shape());
  Dims shape = broadcast_shapes(a.shape(), b.shape(), name);
  // NOTE: x * 1 and x / 1 are x bit for bit (NaN, Inf and -0 included), so a product with a
  // broadcast one (grad's ones cotangent after sum's backward) is the other operand itself:
  // storages never change once returned, so sharing one is safe (OpDef::passes_input_through).
  if constexpr ((F & kRightOneIdentity) != 0) {
    if (a.shape() == shape && is_broadcast_one(b)) return a;
  }
  if constexpr ((F & kLeftOneIdentity) != 0) {
    if (b.shape() == shape && is_broadcast_one(a)) return b;
  }
  Tensor out = empty_elementwise(shape, (F & kToBool) ? DType::Bool : a.dtype(), a.device(), name, {&a, &b});
  if (a.shape() == shape && b.shape() == shape) backend_of(a).binary(*d.binary_kernel, a, b, out);  // no views to make
  else backend_of(a).binary(*d.binary_kernel, kernel_view(a, shape), kernel_view(b, shape), out);
  return out;
}

inline Tensor expand_to(const Tensor& t, const Dims& shape) { return t.shape() == shape ? t : ops::expand(t, shape); }

template <OpId Op>
Tensor jvp_binary(const Tensor* p, const Tensor* t, int, const Tensor& out, const Attrs&) {
  const OpDef& d = op_def(Op);
  Tensor r;
  for (int i = 0; i < 2; i++) {
    if (!t[i].defined()) continue;
    Tensor m = d.partial[i](p[0], p[1], out);
    Tensor term = m.defined() ? ops::mul(t[i], m) : t[i];
    r = r.defined() ? ops::add(r, term) : term;
  }
  return expand_to(r, out.shape());
}

template <OpId Op>
void vjp_binary(const Tensor& g, const Tensor* p, int, const Tensor& out, const Attrs&, const bool* need, Tensor* grads) {
  const OpDef& d = op_def(Op);
  for (int i = 0; i < 2; i++) {
    if (!need[i]) continue;
    Tensor m = d.partial[i](p[0], p[1], out);
    grads[i] = ops::sum_to(m.defined() ? ops::mul(g, m) : g, p[i].shape());
  }
}

// A broadcasting binary op; da, db: d y / d a and d y / d b as multipliers (undefined = 1), or
// null for a comparison (kToBool: no derivative).
template <OpId Op, Promotion P, unsigned F>
OpDef& binary(OpDef* table, const char* name, const BinaryKernel& kernel, PartialRule da, PartialRule db) {
  OpDef& d = define_op(table, Op, name, 2);
  d.meta = meta_binary<Op, P, F>;
  d.eval = eval_binary<Op, P, F>;
  d.promotion = P;
  d.binary_kernel = &kernel;
  d.passes_input_through = (F & (kRightOneIdentity | kLeftOneIdentity)) != 0;
  d.batch = batch_elementwise<Op>;  // a fused op too: its kernel on the batched values (dispatch's NOTE)
  if (F & kFused) return d;         // else its composite under transforms (set decompose)
  if (F & kToBool) {
    d.differentiable = false;
    return d;
  }
  d.partial[0] = da;
  d.partial[1] = db;
  d.jvp = jvp_binary<Op>;
  d.vjp = vjp_binary<Op>;
  return d;
}

}  // namespace adjoint::elementwise

// One op a line. The derivative is an expression in ops (namespace O) of:
//   ADJ_UNARY:  t, the (co)tangent; x, the input; y, the output; it gives the output's (co)tangent.
//   ADJ_BINARY: a, b, the inputs; y, the output; it gives d y / d a (then d y / d b) as a multiplier.
#define ADJ_UNARY(Id, name, kernel, domain, tangent)                                                 \
  ::adjoint::elementwise::unary<OpId::Id, ::adjoint::elementwise::Domain::domain>(                   \
      table, name, ::adjoint::kernels::kernel, [](const Tensor& t, const Tensor& x, const Tensor& y) -> Tensor { return tangent; })
#define ADJ_BINARY(Id, name, kernel, promotion, flags, da, db)                                       \
  ::adjoint::elementwise::binary<OpId::Id, Promotion::promotion, (flags)>(                           \
      table, name, ::adjoint::kernels::kernel, [](const Tensor& a, const Tensor& b, const Tensor& y) -> Tensor { return da; }, \
      [](const Tensor& a, const Tensor& b, const Tensor& y) -> Tensor { return db; })
#define ADJ_PREDICATE(Id, name, kernel) ::adjoint::elementwise::predicate<OpId::Id>(table, name, ::adjoint::kernels::kernel)
#define ADJ_COMPARE(Id, name, kernel) \
  ::adjoint::elementwise::binary<OpId::Id, Promotion::Binary, ::adjoint::elementwise::kToBool>(table, name, ::adjoint::kernels::kernel, nullptr, nullptr)
