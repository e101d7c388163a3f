// Batching: a tracer carries a value whose dim 0 is the batch (normalised on entry, so rules only
// ever see bdim 0 or "unbatched"); its own shape is the per-example shape.
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/small_vector.h"
#include "interp/dispatch.h"
#include "interp/interpreters.h"
#include "interp/onehot.h"
#include "ops/ops.h"

namespace adjoint {
namespace {

// NOTE: a batched value is either dense (`value`, batch in dim 0) or one-hot: example k is zero
// except for `scale[k]` at flat position `index[k]` of the per-example shape (index -1: all zero).
// A multi-hot value has index and scale [B, K]: example k is the sum of its K entries (positions
// may repeat; -1 entries add nothing), the form an expanded one-hot takes.
// The one-hot form is what jacrev/jacfwd feed in (the rows of an identity); the ops' structured
// rules (OpDef::onehot, interp/onehot.h) keep it through the ops that preserve it (scaling, views,
// sums) and turn matmuls with it into gathers, so a Jacobian never multiplies by a materialised
// identity. Any other op densifies it first, so results never depend on which form a value had.
struct BatchTracer : Tracer {
  Tensor value;  // batch in dim 0 (undefined while one-hot)
  Tensor index;  // one-hot form: concrete int64 [B] (or [B, K]) on the host
  Tensor scale;  // one-hot form: [B] (or [B, K]), may be a tracer of an enclosing level
  // A one-hot value also holds exact zeros: finite, but never "nonzero".
  bool all_finite(bool nz) const override { return value.defined() ? all_finite_deep(value, nz) : !nz && all_finite_deep(scale, false); }
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

// The dense physical value of a batch tracer (materialising a one-hot one, once).
const Tensor& dense_of(const Tensor& t) {
  BatchTracer* b = batch_of(t);
  if (!b->value.defined()) b->value = onehot_densify(b->index, b->scale, t.shape());
  return b->value;
}

}  // namespace

Tensor batch_wrap_onehot(Level* level, const Tensor& index, const Tensor& scale, const Dims& shape) {
  auto* p = new BatchTracer();
  p->level = Ref<Level>::borrow(level);
  p->index = index;
  p->scale = scale;
  return make_tracer(Ref<TracerBase>::adopt(p), shape, scale.dtype(), scale.device(), "vmap");
}

bool batch_is_onehot(const Tensor& t, Level* level, Tensor* index, Tensor* scale) {
  if (!belongs_to(t, level)) return false;
  BatchTracer* b = batch_of(t);
  if (!b->index.defined()) return false;
  *index = b->index;
  *scale = b->scale;
  return true;
}

Tensor batch_basis(Level* level, int64_t n, int64_t start, DType dtype) {
  const int64_t count = level->batch_size;
  ADJ_CHECK(start >= 0 && start + count <= n, ErrorKind::Argument, "vmap", "basis rows [" << start << ", " << start + count << ") out of [0, " << n << ")");
  Tensor index = onehot::arange_index(start, start + count);
  return batch_wrap_onehot(level, index, ops::ones(Dims{count}, dtype), Dims{n});
}

Tensor batch_wrap_physical(Level* level, Tensor value) {
  ADJ_CHECK(value.ndim() >= 1 && value.size(0) == level->batch_size, ErrorKind::Internal, "vmap", "bad physical batch value");
  auto* p = new BatchTracer();
  p->level = Ref<Level>::borrow(level);
  p->value = std::move(value);
  const Tensor& v = p->value;
  Dims logical = v.shape();
  logical.erase(0);
  return make_tracer(Ref<TracerBase>::adopt(p), logical, v.dtype(), v.device(), "vmap");
}

namespace {

Tensor batch_process_physical(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& attrs) {
  BorrowedSlots<4> vals(nin);  // the tracers (or the caller) hold these for the whole call
  SmallVector<int, 4> bdims(nin);
  bool any_onehot = false;
  for (int i = 0; i < nin; i++) any_onehot |= belongs_to(in[i], level) && batch_of(in[i])->index.defined();
  if (any_onehot) {
    Tensor r = onehot_process(level, def, in, nin, attrs);
    if (r.defined()) return r;
  }
  for (int i = 0; i < nin; i++) {
    if (belongs_to(in[i], level)) {
      vals.borrow(i, dense_of(in[i]));
      bdims[i] = 0;
    } else {
      vals.borrow(i, in[i]);
      bdims[i] = -1;
    }
  }
  Tensor r = def.batch(vals.data(), bdims.data(), nin, attrs, level->batch_size);
  return batch_wrap_physical(level, std::move(r));
}

// The error `batched` (a shape or index error raised while the op ran on batched values) as the
// user would see it without vmap, or nullptr when the op accepts the per-example shapes (the
// batched error is then the batching's own, and stands).
std::unique_ptr<Error> per_example_error(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& attrs,
                                         const Error& batched) {
  std::vector<Tensor> stand_ins;
  std::string hint = " (inside vmap over a batch of " + std::to_string(level->batch_size) + (nin == 1 ? "; the batched shape is " : "; the batched shapes are ");
  for (int i = 0; i < nin; i++) {
    // Zeros broadcast from one element: the shape and dtype, without data of that size.
    stand_ins.push_back(ops::expand(ops::zeros(Dims{}, in[i].dtype(), in[i].device()), in[i].shape()));
    Dims phys = in[i].shape();
    if (belongs_to(in[i], level)) phys.insert(0, level->batch_size);
    hint += (i ? (i + 1 == nin ? " and " : ", ") : "") + phys.str();
  }
  hint += ")";
  try {
    def.eval(stand_ins.data(), nin, attrs);
  } catch (const Error& e) {
    if (e.kind() != batched.kind()) return nullptr;
    std::string msg = e.what();
    const std::string prefix = e.op() + ": ";
    if (msg.compare(0, prefix.size(), prefix) == 0) msg.erase(0, prefix.size());
    return std::make_unique<Error>(e.kind(), e.op(), msg + hint);
  } catch (...) {
  }
  return nullptr;
}

}  // namespace

// NOTE: an op inside vmap runs on batched values, so a shape error raised there names shapes the
// user never wrote ([5, 3] for an example of shape [3], a dim shifted by one). Such an error is
// re-derived from the per-example shapes: the op's forward rule runs once more on stand-ins of the
// shapes this level's caller sees, and its error replaces the batched one, with the batched shapes
// added as a hint. Nested vmaps do this at each level, the innermost (the user's view) last. Only
// on the error path: the try costs nothing on success.
Tensor batch_process(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& attrs) {
  try {
    return batch_process_physical(level, def, in, nin, attrs);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Shape && e.kind() != ErrorKind::Index) throw;
    std::unique_ptr<Error> mapped = per_example_error(level, def, in, nin, attrs, e);
    if (!mapped) throw;
    throw Error(*mapped);
  }
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
    phys = dense_of(y);
  } else {
    // An output that does not depend on the mapped inputs is the same for every example.
    Dims shape = y.shape();
    shape.insert(0, level->batch_size);
    phys = ops::expand(ops::unsqueeze(y, 0), shape);
  }
  int d = wrap_dim(out_dim, phys.ndim(), "vmap");
  return d == 0 ? phys : ops::movedim(phys, 0, d);
}

Tensor every_value_of(const Tensor& t, const char* op) {
  Tensor v = t;
  while (v.is_tracer()) {
    check_usable(v, op, "input");
    Tracer* tr = tracer_of(v);
    v = tr->level->kind == LevelKind::Batch ? dense_of(v) : tr->value_for_read(op);
  }
  return v;
}

Level* innermost_batch_level() {
  const auto& st = level_stack();
  for (auto it = st.rbegin(); it != st.rend(); ++it)
    if ((*it)->kind == LevelKind::Batch) return it->get();
  return nullptr;
}

}  // namespace adjoint
