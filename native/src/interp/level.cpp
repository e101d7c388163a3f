#include "interp/level.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "ops/ops.h"

namespace adjoint {
namespace {

thread_local std::vector<Ref<Level>> t_stack;
thread_local int64_t t_next_id = 1;

}  // namespace

const char* level_name(LevelKind k) {
  switch (k) {
    case LevelKind::Jvp: return "jvp";
    case LevelKind::Grad: return "grad";
    case LevelKind::Batch: return "vmap";
  }
  return "?";
}

Ref<Level> push_level(LevelKind kind, int64_t batch_size, Randomness r) {
  auto* l = new Level();
  l->id = t_next_id++;
  l->kind = kind;
  l->thread = std::this_thread::get_id();
  l->batch_size = batch_size;
  l->randomness = r;
  Ref<Level> ref = Ref<Level>::adopt(l);
  t_stack.push_back(ref);
  return ref;
}

void pop_level(Level* level, const char* transform) {
  ADJ_CHECK(level->thread == std::this_thread::get_id(), ErrorKind::State, transform,
            "a transform level must end on the thread that started it");
  ADJ_CHECK(!t_stack.empty() && t_stack.back().get() == level, ErrorKind::State, transform,
            "transforms must end innermost first (level " << level->id << " is not the innermost)");
  level->alive = false;
  t_stack.pop_back();
}

const std::vector<Ref<Level>>& level_stack() { return t_stack; }

void check_usable(const Tensor& t, const char* op, const char* what, int index) {
  if (!t.is_tracer()) return;
  const Level* l = tracer_of(t)->level.get();
  // NOTE: the thread first: `alive` is only ever written by the level's own thread.
  ADJ_CHECK(l->thread == std::this_thread::get_id(), ErrorKind::State, op,
            what << (index >= 0 ? " " + std::to_string(index) : "") << " belongs to a " << level_name(l->kind)
                 << " transform running in another thread");
  ADJ_CHECK(l->alive, ErrorKind::State, op,
            what << (index >= 0 ? " " + std::to_string(index) : "") << " " << t.shape().str() << " escaped from a " << level_name(l->kind)
                 << " transform that has already returned (a tensor created inside a transform was kept and used after it ended)");
}

bool all_finite_deep(const Tensor& t, bool nonzero_too) {
  if (!t.defined()) return true;
  if (t.is_tracer()) return tracer_of(t)->all_finite(nonzero_too);
  if (!is_floating(t.dtype())) return !nonzero_too;
  Tensor c = t.is_contiguous() ? t : ops::contiguous(t);  // scanned in place, no conversion
  auto scan = [&](auto* p) {
    bool ok = true;  // no early exit: a branch-free loop vectorises
    for (int64_t i = 0, n = c.numel(); i < n; i++) ok &= std::isfinite(p[i]) && !(nonzero_too && p[i] == 0);
    return ok;
  };
  return c.dtype() == DType::Float32 ? scan(c.data<float>()) : scan(c.data<double>());
}

Tensor make_tracer(Ref<TracerBase> payload, const Dims& shape, DType dtype, Device device) {
  auto* impl = new TensorImpl();
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  impl->device = device;
  impl->tracer = std::move(payload);
  return Tensor(Ref<TensorImpl>::adopt(impl));
}

}  // namespace adjoint
