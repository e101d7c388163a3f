#include "core/error.h"
#include "ops/op.h"

namespace adjoint {
namespace {

struct Table {
  OpDef rows[kNumOps];
  Table() {
#define ADJ_ROW_(id_, name_, arity_) rows[int(OpId::id_)] = OpDef{OpId::id_, name_, arity_, nullptr};
    ADJ_PRIMITIVES(ADJ_ROW_)
#undef ADJ_ROW_
    register_elementwise_ops(rows);
    register_reduce_ops(rows);
    register_linalg_ops(rows);
    register_linalg_solve_ops(rows);
    register_linalg_decomp_ops(rows);
    register_linalg_orthogonal_ops(rows);
    register_view_ops(rows);
    register_index_ops(rows);
    // NOTE: every primitive must have all its rules; a missing one is caught here, at the first
    // op call (and by the registry test), rather than as a null call inside a transform.
    for (const OpDef& d : rows) {
      if (!d.eval || (!d.batch && !d.decompose)) throw Error(ErrorKind::Internal, d.name, "primitive lacks an eval or batching rule");
      if (d.differentiable && !d.decompose && (!d.vjp || !d.jvp))
        throw Error(ErrorKind::Internal, d.name, "primitive lacks a jvp or vjp rule");
    }
  }
};

}  // namespace

const OpDef& op_def(OpId id) {
  static const Table table;
  return table.rows[int(id)];
}

}  // namespace adjoint
