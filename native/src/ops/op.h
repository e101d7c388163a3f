// An op is a table row: name, arity, and its rules, filled in one block by its family's file
// (ops/unary.cpp, ops/binary.cpp, reduce.cpp, views.cpp, ...). The metadata rule (`meta`) says what
// the result is from the inputs' shapes and dtypes; the forward rule (`eval`) checks arguments,
// makes the output and runs the kernel the row names. Interpreters look rules up here; they never
// switch on ops, and backends never switch on them either (backends/kernels.h).
#pragma once
#include "backends/kernels.h"
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

// Which inputs take part in torch's type promotion before the op runs (ops/promotion.h). The
// promotion is the op's dtype rule: dispatch casts the inputs that need it, as Cast ops, once.
enum class Promotion : uint8_t {
  None,     // the op's own dtype checks decide (matmul, cat, index_select, ...)
  Binary,   // inputs 0 and 1 go to their common dtype (arithmetic, comparisons)
  TrueDiv,  // as Binary, and an integer or bool common dtype becomes the default float dtype
  Where,    // inputs 1 and 2, the values (the condition stays bool)
};

// The result's shape and dtype from the inputs' shapes and dtypes alone, with eval's checks and
// messages: no storage is read and no kernel runs (one-hot rules ask it of shapes they only know).
struct Meta {
  Dims shape;
  DType dtype;
};
using MetaRule = Meta (*)(const Meta* in, int nin, const Attrs& attrs);
// Forward: checks arguments, computes output metadata, runs the backend kernel.
using EvalRule = Tensor (*)(const Tensor* in, int nin, const Attrs& attrs);
// Forward mode: tangent of `out` given primals and tangents (undefined tangent = symbolic zero;
// never all undefined). Returns undefined for a non-differentiable output.
using JvpRule = Tensor (*)(const Tensor* primals, const Tensor* tangents, int nin, const Tensor& out, const Attrs& attrs);
// Reverse mode: cotangents of the inputs flagged in `need`, given the cotangent g of `out`.
using VjpRule = void (*)(const Tensor& g, const Tensor* primals, int nin, const Tensor& out, const Attrs& attrs,
                         const bool* need, Tensor* grads);
// Batching: `vals[i]` carries the batch in dim 0 when bdims[i] == 0, or is unbatched (bdim -1);
// at least one is batched. Returns the result with the batch in dim 0.
using BatchRule = Tensor (*)(const Tensor* vals, const int* bdims, int nin, const Attrs& attrs, int64_t batch);
// Structured batching: the result for one-hot batched inputs (jacrev/jacfwd's basis rows) in a
// cheaper exact form, or undefined to densify them and run `batch` (interp/onehot.h).
struct OnehotCall;
using OnehotRule = Tensor (*)(const OnehotCall& call);
// A fused primitive's composite: the same op in terms of other primitives, called on the inputs
// as given (tracers included), so that every interpreter sees the parts.
using DecomposeRule = Tensor (*)(const Tensor* in, int nin, const Attrs& attrs);
// Elementwise families (ops/elementwise.h): the derivative as the linear map of one (co)tangent t,
// given the input x and the output y (a diagonal map: the same for jvp and vjp); undefined = zero.
using TangentMap = Tensor (*)(const Tensor& t, const Tensor& x, const Tensor& y);
// Binary elementwise: d y / d a or d y / d b as a multiplier of the (co)tangent; undefined = 1.
using PartialRule = Tensor (*)(const Tensor& a, const Tensor& b, const Tensor& y);

// NOTE: every rule is written in ops (ops.h), never in kernels, so that a rule run by one
// interpreter is seen by the enclosing ones: that is what makes jvp-of-grad, vmap-of-jacrev and
// any other nesting work without special cases.
struct OpDef {
  OpId id = OpId::kCount;  // set by define_op
  const char* name = nullptr;
  int arity = 0;  // -1: variadic
  MetaRule meta = nullptr;
  EvalRule eval = nullptr;
  JvpRule jvp = nullptr;
  VjpRule vjp = nullptr;
  BatchRule batch = nullptr;
  OnehotRule onehot = nullptr;  // optional
  bool differentiable = true;  // false: output carries no derivative (comparisons)
  Promotion promotion = Promotion::None;
  // true: when eval returns one of its inputs itself (x * 1, x / 1 by a broadcast one), the result
  // is that input unchanged, so with every other input constant at a level the derivative is the
  // identity: the jvp and grad interpreters hand back that input's tracer (no node, no rule).
  bool passes_input_through = false;
  // NOTE: set for a fused primitive: one kernel for concrete inputs, and under transforms this
  // composite, so that interpreters need no rules of its own and keep every structured (one-hot)
  // rule of the parts. With a vjp rule too (linear), grad records it as one tape node instead;
  // with a batch rule (the fused elementwise ops), vmap runs it unless an input is one-hot
  // (interp/dispatch.cpp).
  DecomposeRule decompose = nullptr;
  // The kernel eval runs (backends/kernels.h), for the ops whose family eval is shared.
  const UnaryKernel* unary_kernel = nullptr;
  const BinaryKernel* binary_kernel = nullptr;
  const ReduceKernel* reduce_kernel = nullptr;
  const DimKernel* dim_kernel = nullptr;  // along one dim (ops/along_dim.h)
  // The derivative of an elementwise op, from which its family makes jvp and vjp.
  TangentMap tangent = nullptr;   // unary
  PartialRule partial[2] = {};    // binary: d y / d a, d y / d b
};

const OpDef& op_def(OpId id);
inline const char* op_name(OpId id) { return op_def(id).name; }

// Starts row `id` of the table: its name and arity. The family file then sets the rules.
OpDef& define_op(OpDef* table, OpId id, const char* name, int arity);

// Each op family file fills in its rows.
void register_unary_ops(OpDef* table);
void register_binary_ops(OpDef* table);
void register_where_cast_ops(OpDef* table);
void register_reduce_ops(OpDef* table);
void register_linalg_ops(OpDef* table);
void register_linalg_solve_ops(OpDef* table);   // ops/linalg_solve.cpp
void register_linalg_decomp_ops(OpDef* table);  // ops/linalg_decomp.cpp
void register_linalg_orthogonal_ops(OpDef* table);  // ops/linalg_orthogonal.cpp
void register_conv_ops(OpDef* table);
void register_pool_ops(OpDef* table);
void register_view_ops(OpDef* table);
void register_index_ops(OpDef* table);
void register_detach_op(OpDef* table);
void register_gather_scatter_ops(OpDef* table);  // ops/gather_scatter.cpp
void register_scan_ops(OpDef* table);  // ops/scan.cpp
void register_sort_ops(OpDef* table);  // ops/sort.cpp

}  // namespace adjoint
