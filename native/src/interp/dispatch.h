// The single entry point every primitive call goes through. Today it evaluates; the transform
// interpreters (jvp, vjp, vmap) hook in here, so that ops and their rules never know who is tracing.
#pragma once
#include <initializer_list>

#include "ops/op.h"

namespace adjoint {

Tensor apply(OpId op, const Tensor* in, int nin, const Attrs& attrs);

inline Tensor apply(OpId op, std::initializer_list<Tensor> in, const Attrs& attrs = Attrs{}) {
  return apply(op, in.begin(), int(in.size()), attrs);
}

}  // namespace adjoint
