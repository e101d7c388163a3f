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
    register_view_ops(rows);
    register_index_ops(rows);
    // NOTE: every primitive must have a forward rule; a missing one is a build-time bug caught here
    // (and by the registry test) rather than a null call at run time.
    for (const OpDef& d : rows)
      if (!d.eval) throw Error(ErrorKind::Internal, d.name, "primitive has no eval rule");
  }
};

}  // namespace

const OpDef& op_def(OpId id) {
  static const Table table;
  return table.rows[int(id)];
}

}  // namespace adjoint
