// An op is a table row: name, arity, and its rules. The forward rule (`eval`) checks arguments,
// computes the output's metadata and calls the backend kernel. Interpreters look rules up here;
// they never switch on ops.
#pragma once
#include "core/dtype.h"
#include "core/shape.h"
#include "core/tensor.h"
#include "ops/op_list.h"

namespace adjoint {

// Non-tensor arguments of an op call. Which fields an op reads is part of its definition.
struct Attrs {
  Dims ints;           // dims, shape, permutation or slice parameters
  double scalar = 0;   // fill values, exponents
  bool flag = false;   // keepdim
  DType dtype = DType::Float32;
};

using EvalRule = Tensor (*)(const Tensor* in, int nin, const Attrs& attrs);

struct OpDef {
  OpId id;
  const char* name;
  int arity;  // -1: variadic
  EvalRule eval = nullptr;
};

const OpDef& op_def(OpId id);
inline const char* op_name(OpId id) { return op_def(id).name; }

// Each op family file fills in its rows.
void register_elementwise_ops(OpDef* table);
void register_reduce_ops(OpDef* table);
void register_linalg_ops(OpDef* table);
void register_view_ops(OpDef* table);
void register_index_ops(OpDef* table);

}  // namespace adjoint
