// detach (stop_gradient): the identity on values, with no derivative at any differentiating level.
#include "interp/rules.h"
#include "ops/ops.h"

namespace adjoint {
namespace {

// The same tensor: values are immutable, so sharing it is a copy in all but cost.
Tensor eval_detach(const Tensor* in, int, const Attrs&) { return in[0]; }

// NOTE: detach stays batched under vmap but drops derivatives at every level. Marked not
// differentiable, the jvp and grad interpreters hand back the unwrapped value (a zero tangent, no
// tape node); vmap keeps the batch and asks the levels below again, so a jvp or grad level under
// the vmap drops its derivative too (vmap(grad(f)) and grad(vmap(f)) alike).
Tensor batch_detach(const Tensor* v, const int*, int, const Attrs&, int64_t) { return ops::detach(v[0]); }

}  // namespace

static Meta meta_detach(const Meta* in, int, const Attrs&) { return in[0]; }

void register_detach_op(OpDef* t) {
  OpDef& d = define_op(t, OpId::Detach, "detach", 1);
  d.meta = meta_detach;
  d.eval = eval_detach;
  d.batch = batch_detach;
  d.differentiable = false;
}

namespace ops {
Tensor detach(const Tensor& x) { return apply1(OpId::Detach, x); }
}  // namespace ops

}  // namespace adjoint
