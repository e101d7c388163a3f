// Elementwise primitives: unary math, broadcasting binary math, comparisons, where, dtype cast.
#include "interp/onehot.h"
#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/promotion.h"
#include "ops/rule_util.h"

#include <initializer_list>

namespace adjoint {
namespace {

// NOTE: an elementwise result keeps the memory order of its first input that has the result's
// full shape and is a dense non-contiguous permutation (a transpose, a moved batch dim), like
// torch's TensorIterator, unless another full-shape input is contiguous (then the result is
// contiguous too: one of them is read across its layout either way, and row-major is what later
// reshapes and matmuls want). Chains of ops over a transposed value (jacfwd's tangents are
// basis-major, the Jacobian wants them last) then never transpose until a caller asks for
// contiguous(). Kernels walk such outputs in memory order (Loop's by_first).
Tensor empty_elementwise(const Dims& shape, DType dtype, Device device, const char* op, std::initializer_list<const Tensor*> ins) {
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
Tensor readable_broadcast(const Tensor& x, const Dims& shape) {
  if (x.shape() == shape || x.is_contiguous() || x.numel() * 2 > numel_of(shape)) return x;
  if (x.ndim() == shape.n && x.size(x.ndim() - 1) == 1 && shape[shape.n - 1] >= 16) return x;
  Tensor c = Tensor::empty(x.shape(), x.dtype(), x.device(), "contiguous");
  backend_of(x).copy(x, c);
  return c;
}

bool needs_floating(OpId op) {
  return op != OpId::Neg && op != OpId::Abs && op != OpId::Sign && op != OpId::Relu;
}

template <OpId Op>
Tensor eval_unary(const Tensor* in, int, const Attrs&) {
  const Tensor& x = in[0];
  const char* name = op_name(Op);
  if (needs_floating(Op)) check_floating(name, x);
  ADJ_CHECK(x.dtype() != DType::Bool, ErrorKind::DType, name, "not defined for bool tensors");
  Tensor out = empty_elementwise(x.shape(), x.dtype(), x.device(), name, {&x});
  backend_of(x).unary(Op, x, out);
  return out;
}

bool is_compare(OpId op) { return op >= OpId::Eq && op <= OpId::Ge; }

// A floating tensor whose every element is the one stored 1 (a ones cotangent spread by expand).
bool is_broadcast_one(const Tensor& t) {
  if (t.device().type != DeviceType::CPU || !is_floating(t.dtype()) || t.numel() == 0) return false;
  for (int i = 0; i < t.ndim(); i++)
    if (t.size(i) > 1 && t.strides()[i] != 0) return false;
  return t.dtype() == DType::Float32 ? t.data<float>()[0] == 1.0f : t.data<double>()[0] == 1.0;
}

// The promotion of concrete inputs, out of the way of eval's hot path (cold: inlining it there
// would cost the kernels' helpers their inlining).
[[gnu::noinline, gnu::cold]] Tensor eval_promoted(OpId op, const Tensor* in, int nin, const Attrs& at) {
  return apply_promoted(op_def(op), in, nin, at);
}

template <OpId Op>
Tensor eval_binary(const Tensor* in, int nin, const Attrs& at) {
  const Tensor &a = in[0], &b = in[1];
  const char* name = op_name(Op);
  constexpr bool fused = Op == OpId::TanhBackward || Op == OpId::SigmoidBackward;  // internal: no promotion
  // Concrete inputs of other dtypes are promoted here (see dispatch's NOTE): the compare this check
  // makes anyway is the whole cost when they agree.
  if (__builtin_expect(a.dtype() != b.dtype() || (Op == OpId::Div && !is_floating(a.dtype())), 0)) {
    if constexpr (!fused) return eval_promoted(Op, in, nin, at);
    check_same_dtype(name, a, b);
  }
  check_same_device(name, a, b);
  if (fused) check_floating(name, a);
  // bool + bool and bool * bool are logical or / and, as in torch; the rest has no bool meaning.
  if (!is_compare(Op) && Op != OpId::Add && Op != OpId::Mul)
    ADJ_CHECK(a.dtype() != DType::Bool, ErrorKind::DType, name,
              (Op == OpId::Sub ? "subtraction" : "arithmetic") << " is not defined for bool tensors (as in torch), got " << a.shape().str()
                                                             << " and " << b.shape().str());
  Dims shape = broadcast_shapes(a.shape(), b.shape(), name);
  // NOTE: x * 1 and x / 1 are x bit for bit (NaN, Inf and -0 included), so a product with a
  // broadcast one (grad's ones cotangent after sum's backward) is the other operand itself:
  // storages never change once returned, so sharing one is safe.
  if constexpr (Op == OpId::Mul || Op == OpId::Div) {
    if (a.shape() == shape && is_broadcast_one(b)) return a;
    if (Op == OpId::Mul && b.shape() == shape && is_broadcast_one(a)) return b;
  }
  Tensor out = empty_elementwise(shape, is_compare(Op) ? DType::Bool : a.dtype(), a.device(), name, {&a, &b});
  if (a.shape() == shape && b.shape() == shape) backend_of(a).binary(Op, a, b, out);  // no views to make
  else backend_of(a).binary(Op, broadcast_view(readable_broadcast(a, shape), shape), broadcast_view(readable_broadcast(b, shape), shape), out);
  return out;
}

Tensor eval_where(const Tensor* in, int nin, const Attrs& at) {
  const Tensor &c = in[0], &a = in[1], &b = in[2];
  ADJ_CHECK(c.dtype() == DType::Bool, ErrorKind::DType, "where",
            "condition must be a bool tensor, got " << dtype_name(c.dtype()) << " " << c.shape().str());
  if (__builtin_expect(a.dtype() != b.dtype(), 0)) return eval_promoted(OpId::Where, in, nin, at);  // concrete: promoted here
  check_same_device("where", a, b);
  check_same_device("where", c, a);
  Dims shape = broadcast_shapes(broadcast_shapes(c.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty_elementwise(shape, a.dtype(), a.device(), "where", {&a, &b, &c});
  backend_of(a).where(broadcast_view(readable_broadcast(c, shape), shape), broadcast_view(readable_broadcast(a, shape), shape),
                      broadcast_view(readable_broadcast(b, shape), shape), out);
  return out;
}

Tensor eval_cast(const Tensor* in, int, const Attrs& at) {
  const Tensor& x = in[0];
  if (x.dtype() == at.dtype) return x;
  Tensor out = empty_elementwise(x.shape(), at.dtype, x.device(), "to", {&x});
  backend_of(x).copy(x, out);
  return out;
}

}  // namespace

void register_elementwise_rules(OpDef* t);

void register_elementwise_ops(OpDef* t) {
#define ADJ_U_(id) t[int(OpId::id)].eval = eval_unary<OpId::id>;
  ADJ_U_(Neg) ADJ_U_(Exp) ADJ_U_(Log) ADJ_U_(Sin) ADJ_U_(Cos) ADJ_U_(Tanh)
  ADJ_U_(Sigmoid) ADJ_U_(Relu) ADJ_U_(Sqrt) ADJ_U_(Abs) ADJ_U_(Sign)
#undef ADJ_U_
#define ADJ_B_(id) t[int(OpId::id)].eval = eval_binary<OpId::id>;
  ADJ_B_(Add) ADJ_B_(Sub) ADJ_B_(Mul) ADJ_B_(Div) ADJ_B_(Pow)
  ADJ_B_(Eq) ADJ_B_(Ne) ADJ_B_(Lt) ADJ_B_(Le) ADJ_B_(Gt) ADJ_B_(Ge) ADJ_B_(TanhBackward) ADJ_B_(SigmoidBackward)
#undef ADJ_B_
  t[int(OpId::Where)].eval = eval_where;
  t[int(OpId::Cast)].eval = eval_cast;
  register_elementwise_rules(t);
}

}  // namespace adjoint

// ---------------------------------------------------------------- transform rules

namespace adjoint {
namespace {

namespace O = ops;
using rules::scalar_like;

// d out for each unary op, as a multiplier of the incoming (co)tangent; both modes use it.
Tensor unary_derivative(OpId op, const Tensor& x, const Tensor& out) {
  switch (op) {
    case OpId::Exp: return out;
    case OpId::Log: return O::div(scalar_like(1, x), x);
    case OpId::Sin: return O::cos(x);
    case OpId::Cos: return O::neg(O::sin(x));
    case OpId::Tanh: return O::sub(scalar_like(1, out), O::mul(out, out));
    case OpId::Sigmoid: return O::mul(out, O::sub(scalar_like(1, out), out));
    case OpId::Sqrt: return O::div(scalar_like(0.5, out), out);
    case OpId::Abs: return O::sign(x);
    default: throw Error(ErrorKind::Internal, op_name(op), "no derivative");
  }
}

Tensor apply_unary_linear(OpId op, const Tensor& t, const Tensor& x, const Tensor& out) {
  switch (op) {
    case OpId::Neg: return O::neg(t);
    // relu passes the (co)tangent where x > 0; at 0 the derivative is taken as 0, like PyTorch.
    case OpId::Relu: return O::where(O::compare(OpId::Gt, x, scalar_like(0, x)), t, scalar_like(0, t));
    case OpId::Sign: return O::mul(t, scalar_like(0, t));
    // One fused kernel when nothing is traced (a plain backward pass); else this same product.
    case OpId::Tanh: return apply2(OpId::TanhBackward, t, out);
    case OpId::Sigmoid: return apply2(OpId::SigmoidBackward, t, out);
    default: return O::mul(t, unary_derivative(op, x, out));
  }
}

// The fused derivatives' composite: t * f'(x), from f's output y (OpDef::decompose).
template <OpId F>
Tensor decompose_unary_backward(const Tensor* in, int, const Attrs&) {
  return O::mul(in[0], unary_derivative(F, Tensor(), in[1]));
}

template <OpId Op>
Tensor jvp_unary(const Tensor* p, const Tensor* t, int, const Tensor& out, const Attrs&) {
  if (Op == OpId::Sign) return Tensor();  // zero almost everywhere
  return apply_unary_linear(Op, t[0], p[0], out);
}

template <OpId Op>
void vjp_unary(const Tensor& g, const Tensor* p, int, const Tensor& out, const Attrs&, const bool*, Tensor* grads) {
  if (Op == OpId::Sign) return;
  grads[0] = apply_unary_linear(Op, g, p[0], out);
}

Tensor expand_to(const Tensor& t, const Dims& shape) { return t.shape() == shape ? t : O::expand(t, shape); }

// d/db a^b = a^b log a; taken as 0 where a == 0 (the limit for b > 0), like PyTorch. The log
// reads 1 there: a masked-off log(0) would still send 0 * inf = NaN into second derivatives.
Tensor pow_exponent_partial(const Tensor& a, const Tensor& out) {
  Tensor zero = O::compare(OpId::Eq, a, scalar_like(0, a));
  return O::where(zero, scalar_like(0, out), O::mul(out, O::log(O::where(zero, scalar_like(1, a), a))));
}

// Partial derivatives of binary ops: d out / d a and d out / d b, as multipliers.
Tensor binary_partial(OpId op, int which, const Tensor& a, const Tensor& b, const Tensor& out) {
  switch (op) {
    case OpId::Add: return Tensor();  // 1
    case OpId::Sub: return which == 0 ? Tensor() : scalar_like(-1, out);
    case OpId::Mul: return which == 0 ? b : a;
    case OpId::Div: return which == 0 ? O::div(scalar_like(1, b), b) : O::neg(O::div(out, b));
    case OpId::Pow:
      if (which == 0) {
        // d/da a^b = b a^(b-1), and 0 where b == 0 (a^0 is constant; torch and JAX mask it too),
        // with the base read as 1 there so that no derivative of the masked branch is 0 * 0^-1
        // (NaN e.g. in the third derivative of x^2 at x = 0).
        Tensor bz = O::compare(OpId::Eq, b, scalar_like(0, b));
        Tensor base = O::where(bz, scalar_like(1, a), a);
        return O::where(bz, scalar_like(0, out), O::mul(b, O::pow(base, O::sub(b, scalar_like(1, b)))));
      }
      return pow_exponent_partial(a, out);
    default: throw Error(ErrorKind::Internal, op_name(op), "no derivative");
  }
}

template <OpId Op>
Tensor jvp_binary(const Tensor* p, const Tensor* t, int, const Tensor& out, const Attrs&) {
  Tensor r;
  for (int i = 0; i < 2; i++) {
    if (!t[i].defined()) continue;
    Tensor m = binary_partial(Op, i, p[0], p[1], out);
    Tensor term = m.defined() ? O::mul(t[i], m) : t[i];
    r = r.defined() ? O::add(r, term) : term;
  }
  return expand_to(r, out.shape());
}

template <OpId Op>
void vjp_binary(const Tensor& g, const Tensor* p, int, const Tensor& out, const Attrs&, const bool* need, Tensor* grads) {
  for (int i = 0; i < 2; i++) {
    if (!need[i]) continue;
    Tensor m = binary_partial(Op, i, p[0], p[1], out);
    grads[i] = O::sum_to(m.defined() ? O::mul(g, m) : g, p[i].shape());
  }
}

Tensor jvp_where(const Tensor* p, const Tensor* t, int, const Tensor& out, const Attrs&) {
  Tensor ta = t[1].defined() ? t[1] : scalar_like(0, out), tb = t[2].defined() ? t[2] : scalar_like(0, out);
  return expand_to(O::where(p[0], ta, tb), out.shape());
}

void vjp_where(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs&, const bool* need, Tensor* grads) {
  Tensor zero = scalar_like(0, g);
  if (need[1]) grads[1] = O::sum_to(O::where(p[0], g, zero), p[1].shape());
  if (need[2]) grads[2] = O::sum_to(O::where(p[0], zero, g), p[2].shape());
}

Tensor jvp_cast(const Tensor*, const Tensor* t, int, const Tensor& out, const Attrs& at) {
  return is_floating(at.dtype) ? O::to(t[0], at.dtype) : Tensor();
}

void vjp_cast(const Tensor& g, const Tensor* p, int, const Tensor&, const Attrs&, const bool*, Tensor* grads) {
  if (is_floating(p[0].dtype())) grads[0] = O::to(g, p[0].dtype());
}

template <OpId Op>
Tensor batch_elementwise(const Tensor* v, const int* bd, int nin, const Attrs& at, int64_t) {
  return rules::batch_broadcasting(Op, v, bd, nin, at);
}

// Structured batching (interp/onehot.h): a one-hot input stays one-hot.

Tensor onehot_neg(const OnehotCall& c) { return c.wrap(c.index[c.oh], O::neg(c.scale[c.oh]), c.shape()); }

Tensor onehot_cast(const OnehotCall& c) {
  if (!is_floating(c.at.dtype)) return Tensor();
  return c.wrap(c.index[c.oh], O::to(c.scale[c.oh], c.at.dtype), c.shape());
}

// onehot * u, u * onehot, onehot / u with u unbatched: each entry scales by u at its position.
template <OpId Op>
Tensor onehot_scale(const OnehotCall& c) {
  if (c.n_oh != 1 || (Op == OpId::Div && c.oh != 0)) return Tensor();
  const Tensor &x = c.in[c.oh], &u = c.in[1 - c.oh];
  if (u.dtype() != x.dtype()) return Tensor();
  // u may add leading size-1 dims (a [1, n] cotangent times an [n] one-hot): the result has the
  // same elements in the same flat order, so each example keeps its positions.
  const Dims r = broadcast_shapes(c.shape(), u.shape(), op_name(Op));
  if (numel_of(r) != numel_of(c.shape())) return Tensor();
  if (!onehot::finite_operand(u, Op == OpId::Div)) return Tensor();
  Tensor g = onehot::gather(u, r, c.index[c.oh]);
  // 1 * g is g bit for bit (see eval_binary's NOTE): the basis's scale costs no pass.
  Tensor sc = Op == OpId::Mul ? (onehot::all_ones(c.scale[c.oh]) ? g : O::mul(c.scale[c.oh], g)) : O::div(c.scale[c.oh], g);
  return c.wrap(c.index[c.oh], onehot::mask_invalid(sc, c.index[c.oh]), r);
}

// Two one-hots with the same positions (cotangents accumulated in backward).
template <OpId Op>
Tensor onehot_accumulate(const OnehotCall& c) {
  if (c.n_oh != 2 || c.in[0].shape() != c.in[1].shape() || c.index[0].impl() != c.index[1].impl()) return Tensor();
  return c.wrap(c.index[0], Op == OpId::Add ? O::add(c.scale[0], c.scale[1]) : O::sub(c.scale[0], c.scale[1]), c.shape());
}

// where(cond, onehot, 0) / where(cond, 0, onehot) with cond unbatched: relu's rules use these.
Tensor onehot_where(const OnehotCall& c) {
  const int oh = c.oh;
  if (c.n_oh != 1 || oh == 0 || !onehot::is_zero_scalar(c.in[oh == 1 ? 2 : 1]) || c.in[0].dtype() != DType::Bool) return Tensor();
  if (broadcast_shapes(c.shape(), c.in[0].shape(), "where") != c.shape()) return Tensor();
  Tensor cond = onehot::gather(c.in[0], c.shape(), c.index[oh]);
  Tensor zero = O::scalar(0, c.in[oh].dtype(), c.in[oh].device());
  Tensor sc = oh == 1 ? O::where(cond, c.scale[oh], zero) : O::where(cond, zero, c.scale[oh]);
  return c.wrap(c.index[oh], onehot::mask_invalid(sc, c.index[oh]), c.shape());
}

}  // namespace

void register_elementwise_rules(OpDef* t) {
  t[int(OpId::TanhBackward)].decompose = decompose_unary_backward<OpId::Tanh>;
  t[int(OpId::SigmoidBackward)].decompose = decompose_unary_backward<OpId::Sigmoid>;
#define ADJ_U_(id)                                          \
  t[int(OpId::id)].jvp = jvp_unary<OpId::id>;               \
  t[int(OpId::id)].vjp = vjp_unary<OpId::id>;               \
  t[int(OpId::id)].batch = batch_elementwise<OpId::id>;
  ADJ_U_(Neg) ADJ_U_(Exp) ADJ_U_(Log) ADJ_U_(Sin) ADJ_U_(Cos) ADJ_U_(Tanh)
  ADJ_U_(Sigmoid) ADJ_U_(Relu) ADJ_U_(Sqrt) ADJ_U_(Abs) ADJ_U_(Sign)
#undef ADJ_U_
#define ADJ_B_(id)                                          \
  t[int(OpId::id)].jvp = jvp_binary<OpId::id>;              \
  t[int(OpId::id)].vjp = vjp_binary<OpId::id>;              \
  t[int(OpId::id)].batch = batch_elementwise<OpId::id>;
  ADJ_B_(Add) ADJ_B_(Sub) ADJ_B_(Mul) ADJ_B_(Div) ADJ_B_(Pow)
#undef ADJ_B_
#define ADJ_C_(id)                                          \
  t[int(OpId::id)].batch = batch_elementwise<OpId::id>;     \
  t[int(OpId::id)].differentiable = false;
  ADJ_C_(Eq) ADJ_C_(Ne) ADJ_C_(Lt) ADJ_C_(Le) ADJ_C_(Gt) ADJ_C_(Ge)
#undef ADJ_C_
  t[int(OpId::Where)].jvp = jvp_where;
  t[int(OpId::Where)].vjp = vjp_where;
  t[int(OpId::Where)].batch = batch_elementwise<OpId::Where>;
  t[int(OpId::Cast)].jvp = jvp_cast;
  t[int(OpId::Cast)].vjp = vjp_cast;
  t[int(OpId::Cast)].batch = batch_elementwise<OpId::Cast>;
  t[int(OpId::Neg)].onehot = onehot_neg;
  t[int(OpId::Cast)].onehot = onehot_cast;
  t[int(OpId::Mul)].onehot = onehot_scale<OpId::Mul>;
  t[int(OpId::Mul)].passes_input_through = true;  // eval_binary's x * 1 (see its NOTE)
  t[int(OpId::Div)].passes_input_through = true;  // x / 1
  t[int(OpId::Div)].onehot = onehot_scale<OpId::Div>;
  t[int(OpId::Add)].onehot = onehot_accumulate<OpId::Add>;
  t[int(OpId::Sub)].onehot = onehot_accumulate<OpId::Sub>;
  t[int(OpId::Where)].onehot = onehot_where;
  // The dtype rule (ops/promotion.h): mixed dtypes are cast to torch's common dtype before the op.
  for (OpId op : {OpId::Add, OpId::Sub, OpId::Mul, OpId::Pow, OpId::Eq, OpId::Ne, OpId::Lt, OpId::Le, OpId::Gt, OpId::Ge})
    t[int(op)].promotion = Promotion::Binary;
  t[int(OpId::Div)].promotion = Promotion::TrueDiv;
  t[int(OpId::Where)].promotion = Promotion::Where;
}

}  // namespace adjoint
