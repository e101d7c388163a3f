// Transform levels: each active transform (jvp, grad/vjp, vmap) is a Level on a per-thread stack.
// A tracer belongs to exactly one level; the level id orders them, so an op is processed by the
// highest level among its inputs and everything else is a constant to it (no perturbation
// confusion). When a transform returns its level dies; tracers that escaped it are rejected.
#pragma once
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/ref.h"
#include "core/tensor.h"

namespace adjoint {

// NOTE: numeric values are part of the C API (ADJ_LEVEL_*).
enum class LevelKind : int { Jvp = 0, Grad = 1, Batch = 2 };
enum class Randomness : int { Error = 0, Different = 1, Same = 2 };

struct Level {
  std::atomic<int32_t> refs{1};
  int64_t id = 0;  // strictly increasing per thread: nesting order
  LevelKind kind = LevelKind::Jvp;
  bool alive = true;
  std::thread::id thread;
  int64_t batch_size = 0;  // Batch levels
  Randomness randomness = Randomness::Error;
  int64_t next_node = 0;  // Grad levels: creation order of tape nodes
  bool handleless = false;  // begun by adj_vjp_begin: its traced input is the only handle to it
  ADJ_POOLED_OBJECT       // one per transform call: not through malloc and its arena lock
};

// Pushes a new level on this thread's stack.
Ref<Level> push_level(LevelKind kind, int64_t batch_size = 0, Randomness r = Randomness::Error);
// Pops `level`, which must be the innermost live level of this thread; marks it dead.
void pop_level(Level* level, const char* transform);
const std::vector<Ref<Level>>& level_stack();
const char* level_name(LevelKind k);

// Base of tracer payloads: the level a tracer belongs to.
struct Tracer : TracerBase {
  Ref<Level> level;
  // The value this tracer stands for, for reading it out (jvp/grad: the primal). A vmap tracer has
  // no single value and throws.
  virtual Tensor value_for_read(const char* op) const = 0;
  // True if every number this tracer carries (primal, tangent, every example) is finite, and
  // nonzero when asked; lets structured rules prove they match the dense ones (interp/onehot.h).
  virtual bool all_finite(bool nonzero_too) const = 0;
};

// all_finite for any tensor: reads concrete values, asks tracers.
bool all_finite_deep(const Tensor& t, bool nonzero_too);

// A tensor whose values are traced by `payload`'s level, with the given per-example metadata;
// `op` names the transform in the error for a shape with no element count (numel_of).
Tensor make_tracer(Ref<TracerBase> payload, const Dims& shape, DType dtype, Device device, const char* op);
inline Tracer* tracer_of(const Tensor& t) { return static_cast<Tracer*>(t.impl()->tracer.get()); }
// Throws (State) if t is a tracer of another thread's transform or of one that has already
// returned; `what` (and `index` when >= 0) name t in the message. Plain tensors always pass.
void check_usable(const Tensor& t, const char* op, const char* what, int index = -1);
// True if t is a tracer of exactly this level.
inline bool belongs_to(const Tensor& t, const Level* l) { return t.is_tracer() && tracer_of(t)->level.get() == l; }
// For an op with OpDef::passes_input_through whose eval gave `out`: the input k whose unwrapped
// value `out` is (the very tensor) when in[k] is traced by `level` and every other input is a
// constant there, so that the op is the identity on in[k]; else -1.
inline int passed_through(const Level* l, const Tensor& out, const Tensor* unwrapped, const Tensor* in, int nin) {
  int k = -1;
  for (int i = 0; i < nin; i++) {
    if (!belongs_to(in[i], l)) continue;
    if (k >= 0 || out.impl() != unwrapped[i].impl()) return -1;  // a second traced input, or not this one
    k = i;
  }
  return k;
}

}  // namespace adjoint
