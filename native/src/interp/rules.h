// What op rules may use of the interpreters, and the only interp/ header ops/ includes (a ctest
// checks it): dispatch (rules are written in ops, which re-enter it), the one-hot call and its
// helpers (OpDef::onehot), and the two questions ops ask of the transform stack: random ops follow
// each vmap level's randomness, value checks read every value behind the tracers.
#pragma once
#include "interp/dispatch.h"
#include "interp/level.h"
#include "interp/onehot.h"

namespace adjoint {

// A value batched at `level` with batch dim 0 (random ops under randomness = different).
Tensor batch_wrap_physical(Level* level, Tensor value);  // by value: callers move dead results in

// Every value `t` stands for, as a concrete tensor: a jvp or grad tracer's primal, a vmap tracer's
// batched value (all its examples, batch dims first). For checks of values that must hold for every
// example (class targets); throws (State) for a tracer of a finished or another thread's transform.
Tensor every_value_of(const Tensor& t, const char* op);

}  // namespace adjoint
