// Forward mode: a tracer carries (primal, tangent); an undefined tangent is a symbolic zero and
// costs nothing. Rules run one level down on the unwrapped values.
#include "core/error.h"
#include "core/small_vector.h"
#include "interp/dispatch.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

namespace adjoint {
namespace {

struct JvpTracer : Tracer {
  Tensor primal, tangent;
  Tensor value_for_read(const char*) const override { return primal; }
  bool all_finite(bool nz) const override { return all_finite_deep(primal, nz) && all_finite_deep(tangent, false); }
};

JvpTracer* jvp_of(const Tensor& t) { return static_cast<JvpTracer*>(t.impl()->tracer.get()); }

// By value: callers move dead results in (see make_grad).
Tensor make_jvp(Level* level, Tensor primal, Tensor tangent) {
  auto* p = new JvpTracer();
  p->level = Ref<Level>::borrow(level);
  p->primal = std::move(primal);
  p->tangent = std::move(tangent);
  const Tensor& v = p->primal;
  return make_tracer(Ref<TracerBase>::adopt(p), v.shape(), v.dtype(), v.device(), "jvp");
}

}  // namespace

Tensor jvp_process(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& attrs) {
  // Borrowed: the input tracers hold their primals and tangents for the whole call.
  BorrowedSlots<4> primals(nin), tangents(nin);
  bool any = false;
  for (int i = 0; i < nin; i++) {
    if (belongs_to(in[i], level)) {
      primals.borrow(i, jvp_of(in[i])->primal);
      tangents.borrow(i, jvp_of(in[i])->tangent);
      any |= tangents[i].defined();
    } else {
      primals.borrow(i, in[i]);
    }
  }
  Tensor out = apply(def.id, primals.data(), nin, attrs);
  if (!any || !def.differentiable) return out;
  if (def.passes_input_through) {
    const int k = passed_through(level, out, primals.data(), in, nin);
    if (k >= 0) return in[k];
  }
  Tensor t = def.jvp(primals.data(), tangents.data(), nin, out, attrs);
  if (!t.defined()) return out;
  ADJ_CHECK(t.shape() == out.shape(), ErrorKind::Internal, def.name,
            "jvp rule produced a tangent of shape " << t.shape().str() << " for an output of shape " << out.shape().str());
  return make_jvp(level, std::move(out), std::move(t));
}

Tensor jvp_wrap(Level* level, const Tensor& primal, const Tensor& tangent) {
  check_usable(primal, "jvp", "primal");
  if (tangent.defined()) {
    check_usable(tangent, "jvp", "tangent");
    ADJ_CHECK(tangent.shape() == primal.shape(), ErrorKind::Shape, "jvp",
              "tangent shape " << tangent.shape().str() << " does not match primal shape " << primal.shape().str());
    ADJ_CHECK(tangent.dtype() == primal.dtype(), ErrorKind::DType, "jvp",
              "tangent dtype " << dtype_name(tangent.dtype()) << " does not match primal dtype " << dtype_name(primal.dtype()));
    ADJ_CHECK(is_floating(primal.dtype()), ErrorKind::DType, "jvp",
              "primal of dtype " << dtype_name(primal.dtype()) << " cannot carry a tangent (floating point only)");
  }
  return make_jvp(level, primal, tangent);
}

void jvp_unwrap(Level* level, const Tensor& y, Tensor* primal, Tensor* tangent) {
  if (belongs_to(y, level)) {
    *primal = jvp_of(y)->primal;
    *tangent = jvp_of(y)->tangent;
  } else {
    check_usable(y, "jvp", "output");  // a tracer that escaped a finished transform is no constant
    *primal = y;
  }
  if (!tangent->defined()) *tangent = ops::zeros_like(*primal);
}

}  // namespace adjoint
