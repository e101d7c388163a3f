// Reverse mode: the grad level records a tape. Each tracer's payload is the tape node that produced
// it (holding its primal); backward walks nodes newest-first and runs VJP rules one level down, so the
// backward pass is itself traced by every enclosing transform (grad of grad, vmap of vjp, ...).
#include <algorithm>

#include "core/error.h"
#include "core/small_vector.h"
#include "interp/custom.h"
#include "interp/dispatch.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

namespace adjoint {
namespace {

// NOTE: a traced value's tape node is its tracer payload. The node keeps the value its op computed
// (`out`) for the VJP anyway, and that value is the tracer's primal: one object per traced op, not
// a node plus a payload holding the same primal (a pooled object and two count pairs fewer).
struct Node : Tracer {
  explicit Node(int nin) : primals(nin), inputs(nin) {}
  int64_t seq = 0;   // creation order within the level
  const OpDef* def = nullptr;  // null for a leaf (an input of the transform) and a custom call
  Attrs attrs;
  Ref<CustomBackward> custom;  // a custom call's backward (interp/custom.cpp), instead of def's vjp
  SmallVector<Tensor, 3> primals;    // saved inputs (one level down)
  Tensor out;                        // the traced value (one level down); a leaf's is its input
  SmallVector<Ref<Node>, 3> inputs;  // producer of each input at this level, or null (a constant)
  Tensor value_for_read(const char*) const override { return out; }
  bool all_finite(bool nz) const override { return all_finite_deep(out, nz); }
  bool is_leaf() const { return !def && !custom; }
  ADJ_POOLED_OBJECT
};

Node* grad_of(const Tensor& t) { return static_cast<Node*>(t.impl()->tracer.get()); }

// The tracer of node n's value; n->out is set.
Tensor make_grad(Level* level, Ref<Node> n) {
  n->level = Ref<Level>::borrow(level);
  const Tensor& v = n->out;
  const Dims& shape = v.shape();
  const DType dtype = v.dtype();
  const Device device = v.device();
  return make_tracer(Ref<TracerBase>::adopt(n.release()), shape, dtype, device, "grad");
}

}  // namespace

Tensor grad_process(Level* level, const OpDef& def, const Tensor* in, int nin, const Attrs& attrs) {
  // The node is built up front: its arrays are where the unwrapped inputs live (no copies).
  Ref<Node> n = Ref<Node>::adopt(new Node(nin));
  bool any = false;
  for (int i = 0; i < nin; i++) {
    if (belongs_to(in[i], level)) {
      n->primals[i] = grad_of(in[i])->out;
      n->inputs[i] = Ref<Node>::borrow(grad_of(in[i]));
      any = true;
    } else {
      n->primals[i] = in[i];
    }
  }
  Tensor out = apply(def.id, n->primals.data(), nin, attrs);
  if (!any || !def.differentiable || !is_floating(out.dtype())) return out;
  if (def.passes_input_through) {
    const int k = passed_through(level, out, n->primals.data(), in, nin);
    if (k >= 0) return in[k];
  }
  n->seq = level->next_node++;
  n->def = &def;
  n->attrs = attrs;
  n->out = std::move(out);
  return make_grad(level, std::move(n));
}

Tensor grad_wrap(Level* level, const Tensor& x) {
  check_usable(x, "grad", "input");
  ADJ_CHECK(is_floating(x.dtype()), ErrorKind::DType, "grad",
            "cannot differentiate with respect to a " << dtype_name(x.dtype()) << " input " << x.shape().str()
                                                      << " (floating point only)");
  Ref<Node> n = Ref<Node>::adopt(new Node(0));
  n->seq = level->next_node++;
  n->out = x;
  return make_grad(level, std::move(n));
}

Tensor grad_unwrap(Level* level, const Tensor& y) {
  if (belongs_to(y, level)) return grad_of(y)->out;
  check_usable(y, "vjp", "output");  // a tracer that escaped a finished transform is no constant
  return y;
}

// acc += g, where an undefined acc is zero; g by value: a dead cotangent is moved in, not counted.
static void accumulate(Tensor& acc, Tensor g) { acc = acc.defined() ? ops::add(acc, g) : std::move(g); }

std::vector<Tensor> grad_backward(Level* level, const std::vector<Tensor>& outs, const std::vector<Tensor>& cots,
                                  const std::vector<Tensor>& ins) {
  ADJ_CHECK(cots.size() == outs.size(), ErrorKind::Internal, "vjp", outs.size() << " outputs but " << cots.size() << " cotangents");
  std::vector<Tensor> result(ins.size());
  grad_backward(level, outs.data(), cots.data(), int(outs.size()), ins.data(), int(ins.size()), result.data());
  return result;
}

void grad_backward(Level* level, const Tensor* outs, const Tensor* cots, int nout, const Tensor* ins, int nin, Tensor* result) {
  // Cotangents and visit marks are indexed by node seq (dense within the level): no hashing. Each
  // node is pushed at most once (seen), so the work lists need n_nodes entries; inline for small
  // tapes, so that a small backward pass allocates nothing here.
  const int n_nodes = int(level->next_node);
  SmallVector<Tensor, 32> grads(n_nodes);
  SmallVector<char, 32> seen(n_nodes);  // zeros (SmallVector value-initialises)
  SmallVector<Node*, 32> order(n_nodes), stack(n_nodes);
  int n_order = 0, n_stack = 0;
  for (int k = 0; k < nout; k++) {
    check_usable(cots[k], "vjp", "cotangent", int(k));  // also when the output does not need it
    ADJ_CHECK(cots[k].shape() == outs[k].shape(), ErrorKind::Shape, "vjp",
              "cotangent " << k << " has shape " << cots[k].shape().str() << " but the output has shape " << outs[k].shape().str());
    ADJ_CHECK(cots[k].dtype() == outs[k].dtype(), ErrorKind::DType, "vjp",
              "cotangent " << k << " has dtype " << dtype_name(cots[k].dtype()) << " but the output has dtype " << dtype_name(outs[k].dtype()));
    if (!belongs_to(outs[k], level)) {  // output independent of the inputs (if it is usable at all)
      check_usable(outs[k], "vjp", "output", k);
      continue;
    }
    Node* n = grad_of(outs[k]);
    accumulate(grads[n->seq], cots[k]);
    if (!seen[n->seq]) { seen[n->seq] = 1; stack[n_stack++] = n; }
  }
  // Collect the nodes reachable from the outputs.
  int max_nin = 0;
  while (n_stack > 0) {
    Node* n = stack[--n_stack];
    order[n_order++] = n;
    max_nin = std::max(max_nin, int(n->inputs.size()));
    for (auto& in : n->inputs)
      if (in && !seen[in->seq]) { seen[in->seq] = 1; stack[n_stack++] = in.get(); }
  }
  // NOTE: seq increases with creation, so newest-first is a reverse topological order.
  std::sort(order.begin(), order.begin() + n_order, [](Node* a, Node* b) { return a->seq > b->seq; });
  // One set of rule arguments for every node (emptied after each), not one per node.
  SmallVector<char, 8> need_buf(max_nin);
  SmallVector<Tensor, 8> in_grads_buf(max_nin);
  bool* need = reinterpret_cast<bool*>(need_buf.data());
  Tensor* in_grads = in_grads_buf.data();
  for (int oi = 0; oi < n_order; oi++) {
    Node* n = order[oi];
    if (n->is_leaf()) continue;  // its gradient stays in `grads`
    Tensor g = std::move(grads[n->seq]);  // frees the intermediate cotangent early
    if (!g.defined()) continue;
    const int nin = int(n->primals.size());
    bool any = false;
    for (int i = 0; i < nin; i++) any |= (need[i] = bool(n->inputs[i]));
    if (!any) continue;
    if (n->custom) n->custom->vjp(g, n->primals.data(), nin, n->out, need, in_grads);
    else n->def->vjp(g, n->primals.data(), nin, n->out, n->attrs, need, in_grads);
    for (int i = 0; i < nin; i++) {
      Tensor gi = std::move(in_grads[i]);  // leaves the slot empty for the next node
      if (!need[i] || !gi.defined()) continue;
      ADJ_CHECK(gi.shape() == n->primals[i].shape(), ErrorKind::Internal, n->def ? n->def->name : n->custom->rule->name,
                "vjp rule gave input " << i << " a cotangent of shape " << gi.shape().str() << " for shape "
                                       << n->primals[i].shape().str());
      accumulate(grads[n->inputs[i]->seq], std::move(gi));
    }
  }
  for (int i = 0; i < nin; i++) {
    const Tensor& x = ins[i];
    ADJ_CHECK(belongs_to(x, level), ErrorKind::Internal, "vjp", "input is not a leaf of this transform");
    Tensor& g = grads[grad_of(x)->seq];
    bool again = false;  // the same leaf asked for later too: copy, else hand the count over
    for (int j = i + 1; j < nin && !again; j++) again = belongs_to(ins[j], level) && grad_of(ins[j]) == grad_of(x);
    result[i] = !g.defined() ? ops::zeros_like(grad_of(x)->out) : again ? g : std::move(g);
  }
}

Tensor grad_record_custom(Level* level, const Tensor* in, const Tensor* primals, int nin, Tensor out, Ref<CustomBackward> bw) {
  Ref<Node> n = Ref<Node>::adopt(new Node(nin));
  for (int i = 0; i < nin; i++) {
    n->primals[i] = primals[i];
    if (belongs_to(in[i], level)) n->inputs[i] = Ref<Node>::borrow(grad_of(in[i]));
  }
  n->seq = level->next_node++;
  n->custom = std::move(bw);
  n->out = std::move(out);
  return make_grad(level, std::move(n));
}

// NOTE: replay walks the nodes reachable from the outputs oldest-first (seq order is a topological
// order) and applies each node's op, through dispatch, to its inputs' new values and to the
// constants it saved; so an enclosing transform (vmap of linearize's jvpFn) traces the replay as
// it would any computation. Nothing here reads a node's old value except a leaf's shape.
void grad_replay(const Tensor* leaves, const Tensor* values, int nleaf, const Tensor* outs, int nout, Tensor* results) {
  Level* level = nullptr;
  for (int i = 0; i < nleaf; i++) {
    ADJ_CHECK(leaves[i].is_tracer() && tracer_of(leaves[i])->level->kind == LevelKind::Grad && grad_of(leaves[i])->is_leaf(),
              ErrorKind::Internal, "linearize", "replay input " << i << " is not a leaf of a tape");
    ADJ_CHECK(!level || tracer_of(leaves[i])->level.get() == level, ErrorKind::Internal, "linearize", "replay inputs of different tapes");
    level = tracer_of(leaves[i])->level.get();
    // named as jvp names them: linearize's jvpFn is a jvp
    check_usable(values[i], "jvp", "tangent", i);
    ADJ_CHECK(values[i].shape() == leaves[i].shape(), ErrorKind::Shape, "jvp",
              "tangent " << i << " has shape " << values[i].shape().str() << " but primal " << i << " has shape " << leaves[i].shape().str()
                         << " (linearize's jvpFn)");
    ADJ_CHECK(values[i].dtype() == leaves[i].dtype(), ErrorKind::DType, "jvp",
              "tangent " << i << " has dtype " << dtype_name(values[i].dtype()) << " but primal " << i << " has dtype "
                         << dtype_name(leaves[i].dtype()) << " (linearize's jvpFn)");
  }
  for (int k = 0; k < nout; k++) results[k] = outs[k];
  if (!level) return;
  const int n_nodes = int(level->next_node);
  std::vector<Tensor> vals(static_cast<size_t>(n_nodes));
  std::vector<char> seen(static_cast<size_t>(n_nodes));
  std::vector<Node*> order, stack;
  for (int i = 0; i < nleaf; i++) {
    Node* n = grad_of(leaves[i]);
    vals[size_t(n->seq)] = values[i];
    seen[size_t(n->seq)] = 1;  // a leaf's producers are not walked: it has none
  }
  for (int k = 0; k < nout; k++)
    if (belongs_to(outs[k], level) && !seen[size_t(grad_of(outs[k])->seq)]) {
      seen[size_t(grad_of(outs[k])->seq)] = 1;
      stack.push_back(grad_of(outs[k]));
    }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    order.push_back(n);
    for (auto& in : n->inputs)
      if (in && !seen[size_t(in->seq)]) { seen[size_t(in->seq)] = 1; stack.push_back(in.get()); }
  }
  std::sort(order.begin(), order.end(), [](Node* a, Node* b) { return a->seq < b->seq; });
  std::vector<Tensor> args;
  for (Node* n : order) {
    ADJ_CHECK(!n->is_leaf(), ErrorKind::Internal, "linearize", "the tangent map depends on a tape input that was not given");
    const int nin = int(n->primals.size());
    args.assign(n->primals.begin(), n->primals.end());
    for (int i = 0; i < nin; i++)
      if (n->inputs[i]) args[size_t(i)] = vals[size_t(n->inputs[i]->seq)];
    vals[size_t(n->seq)] = n->custom ? custom_call(n->custom->rule, args.data(), nin) : apply(n->def->id, args.data(), nin, n->attrs);
  }
  for (int k = 0; k < nout; k++)
    if (belongs_to(outs[k], level)) results[k] = vals[size_t(grad_of(outs[k])->seq)];
}

}  // namespace adjoint
