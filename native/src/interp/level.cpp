#include "interp/level.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/tls.h"
#include "backends/backend.h"
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
  l->id = (*tls_address(t_next_id))++;
  l->kind = kind;
  l->thread = std::this_thread::get_id();
  l->batch_size = batch_size;
  l->randomness = r;
  Ref<Level> ref = Ref<Level>::adopt(l);
  tls_address(t_stack)->push_back(ref);
  return ref;
}

void pop_level(Level* level, const char* transform) {
  ADJ_CHECK(level->thread == std::this_thread::get_id(), ErrorKind::State, transform,
            "a transform level must end on the thread that started it");
  std::vector<Ref<Level>>& stack = *tls_address(t_stack);
  ADJ_CHECK(!stack.empty() && stack.back().get() == level, ErrorKind::State, transform,
            "transforms must end innermost first (level " << level->id << " is not the innermost)");
  level->alive = false;
  stack.pop_back();
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
  const uint8_t want = nonzero_too ? value_fact::kAllFiniteNonzero : value_fact::kAllFinite;
  Storage* st = t.impl()->storage.get();
  const size_t isz = itemsize(t.dtype());
  const bool whole = t.offset() == 0 && size_t(t.numel()) * isz == st->nbytes;
  const uint8_t known = st->value_facts.load(std::memory_order_relaxed);
  if (known & value_fact::kFloatKnown) {
    if (known & want) return true;  // every value of the storage has the property, so t's have
    if (whole && t.is_dense()) return false;
  }
  if (t.numel() == 0) return true;
  Tensor c = t.is_dense() ? t : ops::contiguous(t);  // transposes etc. are scanned in place
  const uint8_t facts = backend_for(c.device()).value_facts(c);
  if (c.impl() == t.impl() && whole) st->value_facts.store(uint8_t(facts | value_fact::kFloatKnown), std::memory_order_relaxed);
  return facts & want;
}

Tensor make_tracer(Ref<TracerBase> payload, const Dims& shape, DType dtype, Device device, const char* op) {
  numel_of(shape, op);  // see numel_of's NOTE: a per-example shape is a shape too
  auto* impl = new TensorImpl();
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  impl->device = device;
  impl->tracer = std::move(payload);
  return Tensor(Ref<TensorImpl>::adopt(impl));
}

}  // namespace adjoint
