// Batching: a tracer carries a value whose dim 0 is the batch (normalised on entry, so rules only
// ever see bdim 0 or "unbatched"); its own shape is the per-example shape.
#include "core/error.h"
#include "core/small_vector.h"
#include "interp/dispatch.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

namespace adjoint {
namespace {

struct BatchTracer : Tracer {
  Tensor value;  // batch in dim 0
  Tensor value_for_read(const char* op) const override {
    ADJ_CHECK(level->thread == std::this_thread::get_id(), ErrorKind::State, op,
              "the tensor belongs to a vmap transform running in another thread");
    ADJ_CHECK(level->alive, ErrorKind::State, op,
              "the tensor escaped from a vmap transform that has already returned (a tensor created inside a transform was kept and used after it ended)");
    throw Error(ErrorKind::State, op,
                "cannot read the values of a tensor inside vmap: it stands for a whole batch (return it from the mapped function instead)");
  }
};

BatchTracer* batch_of(const Tensor& t) { return static_cast<BatchTracer*>(t.impl()->tracer.get()); }

}  // namespace

Tensor batch_wrap_physical(Level* level, const Tensor& value) {
  ADJ_CHECK(value.ndim() >= 1 && value.size(0) == level->batch_size, ErrorKind::Internal, "vmap", "bad physical batch value");
  auto* p = new BatchTracer();
  p->level = Ref<Level>::borrow(level);
  p->value = value;
  Dims logical = value.shape();
  logical.erase(0);
  return make_tracer(Ref<TracerBase>::adopt(p), logical, value.dtype(), value.device());
}

Tensor batch_process(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& attrs) {
  SmallVector<Tensor, 4> vals(nin);
  SmallVector<int, 4> bdims(nin);
  for (int i = 0; i < nin; i++) {
    if (belongs_to(in[i], level)) {
      vals[i] = batch_of(in[i])->value;
      bdims[i] = 0;
    } else {
      vals[i] = in[i];
      bdims[i] = -1;
    }
  }
  Tensor r = def.batch(vals.data(), bdims.data(), nin, attrs, level->batch_size);
  return batch_wrap_physical(level, r);
}

Tensor batch_wrap(Level* level, const Tensor& x, int64_t in_dim) {
  check_usable(x, "vmap", "input");
  ADJ_CHECK(x.ndim() >= 1, ErrorKind::Index, "vmap", "cannot map over dim " << in_dim << " of a 0-d tensor");
  int d = wrap_dim(in_dim, x.ndim(), "vmap");
  ADJ_CHECK(x.size(d) == level->batch_size, ErrorKind::Shape, "vmap",
            "mapped dim " << in_dim << " of an input of shape " << x.shape().str() << " has size " << x.size(d)
                          << ", but the batch size is " << level->batch_size);
  return batch_wrap_physical(level, d == 0 ? x : ops::movedim(x, d, 0));
}

Tensor batch_unwrap(Level* level, const Tensor& y, int64_t out_dim) {
  Tensor phys;
  if (belongs_to(y, level)) {
    phys = batch_of(y)->value;
  } else {
    // An output that does not depend on the mapped inputs is the same for every example.
    Dims shape = y.shape();
    shape.insert(0, level->batch_size);
    phys = ops::expand(ops::unsqueeze(y, 0), shape);
  }
  int d = wrap_dim(out_dim, phys.ndim(), "vmap");
  return d == 0 ? phys : ops::movedim(phys, 0, d);
}

Level* innermost_batch_level() {
  const auto& st = level_stack();
  for (auto it = st.rbegin(); it != st.rend(); ++it)
    if ((*it)->kind == LevelKind::Batch) return it->get();
  return nullptr;
}

}  // namespace adjoint
