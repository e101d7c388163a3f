#include "interp/dispatch.h"

#include "core/error.h"

namespace adjoint {

Tensor apply(OpId op, const Tensor* in, int nin, const Attrs& attrs) {
  const OpDef& def = op_def(op);
  for (int i = 0; i < nin; i++) {
    ADJ_CHECK(in[i].defined(), ErrorKind::State, def.name, "input " << i << " is undefined");
    ADJ_CHECK(!in[i].is_tracer(), ErrorKind::Unsupported, def.name, "transforms are not available in this build");
  }
  return def.eval(in, nin, attrs);
}

}  // namespace adjoint
