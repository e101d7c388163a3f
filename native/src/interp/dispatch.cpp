#include "interp/dispatch.h"

#include "core/error.h"
#include "interp/interpreters.h"
#include "ops/promotion.h"

namespace adjoint {

namespace {

// NOTE: a fused primitive (OpDef::decompose) runs as its composite under a transform that has no
// rule of its own for it: jvp always, grad unless it has a vjp (linear). Under vmap it runs its own
// batch rule (its kernel on the batched values: one pass, e.g. relu's backward inside
// vmap(grad)) unless an input is a structured one-hot basis, whose rules only the parts have.
bool decomposes(Level* top, const OpDef& def, const Tensor* in, int nin) {
  switch (top->kind) {
    case LevelKind::Grad: return !def.vjp;
    case LevelKind::Batch: {
      if (!def.batch) return true;
      Tensor index, scale;
      for (int i = 0; i < nin; i++)
        if (batch_is_onehot(in[i], top, &index, &scale)) return true;
      return false;
    }
    default: return true;
  }
}

}  // namespace

// NOTE: the top level among the inputs processes the op; inputs of lower levels (and concrete
// tensors) are constants to it. A tracer whose level has ended, or that belongs to another
// thread's transform, is rejected here, before any rule runs: it would otherwise give a wrong
// number silently.
Tensor apply(OpId op, const Tensor* in, int nin, const Attrs& attrs) {
  const OpDef& def = op_def(op);
  Level* top = nullptr;
  for (int i = 0; i < nin; i++) {
    ADJ_CHECK(in[i].defined(), ErrorKind::State, def.name, "input " << i << " is undefined");
    if (!in[i].is_tracer()) continue;
    check_usable(in[i], def.name, "input", i);
    Level* l = tracer_of(in[i])->level.get();
    if (!top || l->id > top->id) top = l;
  }
  // NOTE: type promotion (ops/promotion.h) runs once per op call, before any level or kernel
  // works on mixed dtypes: for concrete inputs in the op's eval, whose dtype check finds the
  // mismatch (nothing added when dtypes agree: the hot path of a float64 op on float64 tensors);
  // for traced inputs here, before the top level processes the op, so no rule ever sees mixed
  // dtypes. Either way it reads the shapes the caller sees (a vmap tracer's are per example: a 0-d
  // example promotes as a 0-d tensor, as in functorch; the physical values a batching rule passes
  // on already agree), and its casts are Cast ops dispatched like any other, so every transform
  // differentiates and batches them.
  if (!top) return def.eval(in, nin, attrs);
  if (needs_promotion(def.promotion, in)) return apply_promoted(def, in, nin, attrs);
  if (def.decompose && decomposes(top, def, in, nin)) return def.decompose(in, nin, attrs);
  switch (top->kind) {
    case LevelKind::Jvp: return jvp_process(top, def, in, nin, attrs);
    case LevelKind::Batch: return batch_process(top, def, in, nin, attrs);
    case LevelKind::Grad: return grad_process(top, def, in, nin, attrs);
  }
  throw Error(ErrorKind::Internal, def.name, "unknown level kind");
}

}  // namespace adjoint
