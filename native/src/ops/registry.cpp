#include "core/error.h"
#include "ops/op.h"

namespace adjoint {
namespace {

struct Table {
  OpDef rows[kNumOps];
  Table() {
    register_unary_ops(rows);
    register_binary_ops(rows);
    register_where_cast_ops(rows);
    register_reduce_ops(rows);
    register_linalg_ops(rows);
    register_linalg_solve_ops(rows);
    register_linalg_decomp_ops(rows);
    register_linalg_orthogonal_ops(rows);
    register_conv_ops(rows);
    register_pool_ops(rows);
    register_view_ops(rows);
    register_index_ops(rows);
    register_detach_op(rows);
    register_gather_scatter_ops(rows);
    register_scan_ops(rows);
    register_sort_ops(rows);
    // NOTE: every primitive must have its definition and all its rules; a missing one is caught
    // here, at the first op call (and by the registry test), rather than as a null call inside a
    // transform or a nameless op in an error message.
    for (int i = 0; i < kNumOps; i++) {
      const OpDef& d = rows[i];
      if (!d.name || int(d.id) != i) throw Error(ErrorKind::Internal, "registry", "primitive " + std::to_string(i) + " has no definition");
      if (!d.meta || !d.eval || (!d.batch && !d.decompose))
        throw Error(ErrorKind::Internal, d.name, "primitive lacks a meta, eval or batching rule");
      if (d.differentiable && !d.decompose && (!d.vjp || !d.jvp))
        throw Error(ErrorKind::Internal, d.name, "primitive lacks a jvp or vjp rule");
    }
  }
};

}  // namespace

OpDef& define_op(OpDef* table, OpId id, const char* name, int arity) {
  OpDef& d = table[int(id)];
  if (d.name) throw Error(ErrorKind::Internal, name, "primitive defined twice");
  d.id = id;
  d.name = name;
  d.arity = arity;
  return d;
}

const OpDef& op_def(OpId id) {
  static const Table table;
  return table.rows[int(id)];
}

}  // namespace adjoint
