// The three interpreters. Each processes one primitive call whose top level is its own: it
// unwraps its tracers, runs the op's rule one level down (rules call ops, so outer levels see
// them), and wraps the result.
#pragma once
#include "interp/level.h"
#include "interp/rules.h"
#include "ops/op.h"

namespace adjoint {

Tensor jvp_process(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& attrs);
Tensor batch_process(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& attrs);
Tensor grad_process(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& attrs);

// --- jvp ---
Tensor jvp_wrap(Level* level, const Tensor& primal, const Tensor& tangent);  // tangent may be undefined (zero)
// primal and tangent of y at `level` (a zero tangent is materialised as zeros).
void jvp_unwrap(Level* level, const Tensor& y, Tensor* primal, Tensor* tangent);

// --- vmap ---
Tensor batch_wrap(Level* level, const Tensor& x, int64_t in_dim);
Tensor batch_unwrap(Level* level, const Tensor& y, int64_t out_dim);
// batch_wrap_physical: interp/rules.h
// Rows [start, start + batch) of the n x n identity, batched at `level`, kept in one-hot form.
Tensor batch_basis(Level* level, int64_t n, int64_t start, DType dtype);
// One-hot batched values (see batch.cpp): construction, inspection, densification, and the
// dispatch to the op's structured rule (OpDef::onehot; undefined when none applies).
Tensor batch_wrap_onehot(Level* level, const Tensor& index, const Tensor& scale, const Dims& shape);
bool batch_is_onehot(const Tensor& t, Level* level, Tensor* index, Tensor* scale);
Tensor onehot_densify(const Tensor& index, const Tensor& scale, const Dims& shape);
Tensor onehot_process(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& attrs);

// --- grad / vjp ---
Tensor grad_wrap(Level* level, const Tensor& x);
Tensor grad_unwrap(Level* level, const Tensor& y);  // the primal value
// Cotangents of `ins` (leaves made by grad_wrap) given cotangents of `outs`; runs one level down,
// so the result is itself differentiable by enclosing levels. Works after the level has ended.
std::vector<Tensor> grad_backward(Level* level, const std::vector<Tensor>& outs, const std::vector<Tensor>& cots,
                                  const std::vector<Tensor>& ins);
// The same over arrays, cotangents of ins written to grads[0..nin) (no allocation for small tapes).
void grad_backward(Level* level, const Tensor* outs, const Tensor* cots, int nout, const Tensor* ins, int nin, Tensor* grads);

// Reverse-mode Jacobians of outs (traced at grad_level, which has ended) w.r.t. its leaves ins:
// one entry per (output k, input j), k-major, shaped [out_k..., in_j...]; chunk <= 0: all rows.
std::vector<Tensor> jacrev_backward(Level* grad_level, const std::vector<Tensor>& outs, const std::vector<Tensor>& ins,
                                    int64_t chunk);

// every_value_of: interp/rules.h

// The innermost live vmap level of this thread, if any (random ops consult it).
Level* innermost_batch_level();

}  // namespace adjoint
