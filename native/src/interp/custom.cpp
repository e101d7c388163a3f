// Custom derivative rules (interp/custom.h): how each interpreter applies a CustomRule.
#include "interp/custom.h"

#include <string>

#include "core/error.h"
#include "interp/dispatch.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

namespace adjoint {

// NOTE: a custom call is dispatched like a primitive: the innermost level among its inputs
// processes it, running the rule's functions one level down, where the levels below see their ops
// as ordinary ops (as JAX's custom_jvp_call / custom_vjp_call are processed by each trace):
//   no level: F.
//   grad:     a vjp rule runs Fwd one level down and records a tape node whose backward is Bwd on
//             the residuals (run one level down too, so that higher derivatives differentiate
//             Bwd's ops, as JAX does). A jvp rule's output is the custom call again one level
//             down (the levels below apply the rule too); its node's backward is the transpose of
//             the tangent map t -> Jvp(x, t).tangent, taken by reverse mode on a fresh grad level
//             (the map is linear in t, so its vjp at any point is its transpose).
//   jvp:      a jvp rule runs Jvp on (primals, tangents). A vjp rule has no tangents to give:
//             refused as JAX refuses it, except for checkpoint (jvp_runs_f), whose F is then run
//             on the jvp tracers as written, differentiated by its ops.
//   vmap:     the custom call again one level down, on the physical values (batch in dim 0),
//             with a rule whose functions run the original ones under a fresh vmap level
//             (BatchedRule): every level below still applies the custom rule, and the user's
//             functions still see per-example shapes. Cotangents of inputs that were not batched
//             are summed over the batch.
// The user's functions must take every traced value they use as an argument: a value they close
// over is a constant to the rule's levels (as with jax.custom_vjp without closure_convert).

const char* custom_call_name(CustomCall c) {
  switch (c) {
    case CustomCall::F: return "function";
    case CustomCall::Fwd: return "fwd";
    case CustomCall::Bwd: return "bwd";
    case CustomCall::Jvp: return "jvp rule";
  }
  return "?";
}

namespace {

// Ends a level pushed here on every path; on an error path it must still be the innermost
// (everything the rule began in between has ended: Java ends its levels on every path).
struct LevelScope {
  Ref<Level> level;
  const char* name;
  LevelScope(LevelKind kind, int64_t batch, Randomness r, const char* n) : level(push_level(kind, batch, r)), name(n) {}
  void end() {
    if (level->alive) pop_level(level.get(), name);
  }
  ~LevelScope() {
    const auto& st = level_stack();
    if (level->alive && !st.empty() && st.back().get() == level.get()) pop_level(level.get(), name);
  }
};

void check_outputs(const CustomRule& rule, CustomCall what, const std::vector<Tensor>& r, size_t want_at_least, size_t want_at_most) {
  ADJ_CHECK(r.size() >= want_at_least && r.size() <= want_at_most, ErrorKind::Internal, rule.name,
            "the " << custom_call_name(what) << " gave " << r.size() << " results");
  if (what != CustomCall::Bwd) ADJ_CHECK(r[0].defined(), ErrorKind::Argument, rule.name, "the " << custom_call_name(what) << " gave no output");
}

// NOTE: what a rule's function returns is one level down from the level applying the rule. A
// result traced by that level (or a newer one still open) can only come from a traced tensor the
// function captured instead of getting it as an argument; wrapped again by its own level it would
// give wrong derivatives silently, so it is refused here.
void check_not_captured(const Level* level, const CustomRule& rule, CustomCall what, const std::vector<Tensor>& r) {
  for (const Tensor& t : r)
    ADJ_CHECK(!t.defined() || !t.is_tracer() || tracer_of(t)->level->id < level->id, ErrorKind::Argument, rule.name,
              "the " << custom_call_name(what) << " returned a value traced by the " << level_name(level->kind)
                     << " transform that applies the rule: it used a traced tensor it did not get as an argument (one it captured). "
                        "Pass every traced tensor the function uses as an argument");
}

// The rule's functions run under a fresh vmap level on the physical values of one (see the NOTE).
struct BatchedRule : CustomRule {
  Ref<CustomRule> base;
  int64_t batch = 0;
  Randomness randomness = Randomness::Error;
  std::vector<int> in_bdims;  // per input: 0 batched (physical, batch in dim 0), -1 not

  std::vector<Tensor> call(CustomCall what, std::vector<Tensor> args, Ref<CustomState>* state) override {
    LevelScope l(LevelKind::Batch, batch, randomness, "vmap");
    const size_t n = args.size();
    for (size_t i = 0; i < n; i++) {
      // F, Fwd: the inputs; Jvp: the inputs, then their tangents (batched alike); Bwd: residuals
      // and cotangent, which come from this rule's Fwd and output (batched in dim 0).
      const int bdim = what == CustomCall::Bwd ? 0 : in_bdims[i % size_t(nin)];
      if (bdim >= 0) args[i] = batch_wrap(l.level.get(), args[i], 0);
    }
    std::vector<Tensor> r = base->call(what, std::move(args), state);
    for (size_t k = 0; k < r.size(); k++) {
      if (!r[k].defined()) continue;
      r[k] = batch_unwrap(l.level.get(), r[k], 0);
      // The cotangent of an input shared by every example is the sum of theirs.
      if (what == CustomCall::Bwd && k < size_t(nin) && in_bdims[k] < 0) r[k] = ops::sum(r[k], Dims{0}, false);
    }
    l.end();
    return r;
  }
};

// Backward of a vjp rule's node: Bwd on the residuals and the output's cotangent.
struct VjpBackward : CustomBackward {
  std::vector<Tensor> residuals;
  Ref<CustomState> state;

  void vjp(const Tensor& g, const Tensor* primals, int nin, const Tensor&, const bool* need, Tensor* grads) override {
    std::vector<Tensor> args = residuals;
    args.push_back(g);
    Ref<CustomState> st = state;
    std::vector<Tensor> r = rule->call(CustomCall::Bwd, std::move(args), &st);
    ADJ_CHECK(int(r.size()) == nin, ErrorKind::Argument, rule->name,
              "bwd returned " << r.size() << " cotangents for " << nin << " inputs");
    for (int i = 0; i < nin; i++) {
      if (!need[i] || !r[size_t(i)].defined()) continue;
      const Tensor& ct = r[size_t(i)];
      ADJ_CHECK(ct.shape() == primals[i].shape(), ErrorKind::Shape, rule->name,
                "bwd returned a cotangent of shape " << ct.shape().str() << " for input " << i << " of shape " << primals[i].shape().str());
      ADJ_CHECK(ct.dtype() == primals[i].dtype(), ErrorKind::DType, rule->name,
                "bwd returned a cotangent of dtype " << dtype_name(ct.dtype()) << " for input " << i << " of dtype "
                                                     << dtype_name(primals[i].dtype()));
      grads[i] = ct;
    }
  }
};

// The (output, tangent) of a Jvp call, checked against each other.
void check_jvp_result(const CustomRule& rule, const std::vector<Tensor>& r) {
  check_outputs(rule, CustomCall::Jvp, r, 2, 2);
  ADJ_CHECK(r[1].defined(), ErrorKind::Argument, rule.name, "the jvp rule gave no tangent");
  ADJ_CHECK(r[1].shape() == r[0].shape(), ErrorKind::Shape, rule.name,
            "the jvp rule gave a tangent of shape " << r[1].shape().str() << " for an output of shape " << r[0].shape().str());
  ADJ_CHECK(r[1].dtype() == r[0].dtype(), ErrorKind::DType, rule.name,
            "the jvp rule gave a tangent of dtype " << dtype_name(r[1].dtype()) << " for an output of dtype " << dtype_name(r[0].dtype()));
}

// Backward of a jvp rule's node: the transpose of t -> Jvp(primals, t).tangent (see the NOTE).
struct JvpTransposeBackward : CustomBackward {
  void vjp(const Tensor& g, const Tensor* primals, int nin, const Tensor& out, const bool* need, Tensor* grads) override {
    LevelScope l(LevelKind::Grad, 0, Randomness::Error, rule->name);
    std::vector<Tensor> args(primals, primals + nin), leaves;
    std::vector<int> leaf_of;
    for (int i = 0; i < nin; i++) {
      Tensor t = ops::zeros_like(primals[i]);
      if (need[i] && is_floating(t.dtype())) {
        t = grad_wrap(l.level.get(), t);
        leaves.push_back(t);
        leaf_of.push_back(i);
      }
      args.push_back(std::move(t));
    }
    Ref<CustomState> none;
    std::vector<Tensor> r = rule->call(CustomCall::Jvp, std::move(args), &none);
    check_jvp_result(*rule, r);
    ADJ_CHECK(r[0].shape() == out.shape() && r[0].dtype() == out.dtype(), ErrorKind::Shape, rule->name,
              "the jvp rule gave an output " << dtype_name(r[0].dtype()) << " " << r[0].shape().str() << " where the function gives "
                                             << dtype_name(out.dtype()) << " " << out.shape().str());
    l.end();
    if (leaves.empty() || !belongs_to(r[1], l.level.get())) return;  // a tangent that is zero for every t
    std::vector<Tensor> gs = grad_backward(l.level.get(), {r[1]}, {g}, leaves);
    for (size_t j = 0; j < leaves.size(); j++) grads[leaf_of[j]] = std::move(gs[j]);
  }
};

Tensor custom_grad(Level* level, const Ref<CustomRule>& rule, const Tensor* in, int nin) {
  std::vector<Tensor> primals(static_cast<size_t>(nin));
  for (int i = 0; i < nin; i++) primals[size_t(i)] = belongs_to(in[i], level) ? grad_unwrap(level, in[i]) : in[i];
  Tensor out;
  Ref<CustomBackward> bw;
  if (rule->kind == CustomRule::Kind::Vjp) {
    auto* v = new VjpBackward();
    bw = Ref<CustomBackward>::adopt(v);
    std::vector<Tensor> r = rule->call(CustomCall::Fwd, primals, &v->state);
    check_outputs(*rule, CustomCall::Fwd, r, 1, size_t(-1));
    check_not_captured(level, *rule, CustomCall::Fwd, r);
    out = std::move(r[0]);
    v->residuals.assign(std::make_move_iterator(r.begin() + 1), std::make_move_iterator(r.end()));
  } else {
    out = custom_call(rule, primals.data(), nin);
    check_not_captured(level, *rule, CustomCall::F, {out});
    bw = Ref<CustomBackward>::adopt(new JvpTransposeBackward());
  }
  if (!is_floating(out.dtype())) return out;
  bw->rule = rule;
  return grad_record_custom(level, in, primals.data(), nin, std::move(out), std::move(bw));
}

Tensor custom_jvp(Level* level, const Ref<CustomRule>& rule, const Tensor* in, int nin) {
  Ref<CustomState> none;
  if (rule->kind == CustomRule::Kind::Vjp) {
    ADJ_CHECK(rule->jvp_runs_f, ErrorKind::Unsupported, rule->name,
              "a function with a custom vjp cannot be differentiated in forward mode (jvp, jacfwd, linearize, or a jacfwd or "
              "hessian around it): its rule gives cotangents, not tangents. Give it a custom jvp (customJvp) instead, or "
              "differentiate it in reverse mode (grad, vjp, jacrev), as JAX's custom_vjp requires");
    std::vector<Tensor> r = rule->call(CustomCall::F, std::vector<Tensor>(in, in + nin), &none);
    check_outputs(*rule, CustomCall::F, r, 1, 1);
    return r[0];
  }
  std::vector<Tensor> args(static_cast<size_t>(2 * nin));
  for (int i = 0; i < nin; i++) jvp_unwrap(level, in[i], &args[size_t(i)], &args[size_t(nin + i)]);
  std::vector<Tensor> r = rule->call(CustomCall::Jvp, std::move(args), &none);
  check_jvp_result(*rule, r);
  check_not_captured(level, *rule, CustomCall::Jvp, r);
  if (!is_floating(r[0].dtype())) return r[0];
  return jvp_wrap(level, r[0], r[1]);
}

Tensor custom_batch(Level* level, const Ref<CustomRule>& rule, const Tensor* in, int nin) {
  auto* b = new BatchedRule();
  Ref<CustomRule> batched = Ref<CustomRule>::adopt(b);
  b->kind = rule->kind;
  b->jvp_runs_f = rule->jvp_runs_f;
  b->name = rule->name;
  b->nin = nin;
  b->base = rule;
  b->batch = level->batch_size;
  b->randomness = level->randomness;
  std::vector<Tensor> phys(static_cast<size_t>(nin));
  for (int i = 0; i < nin; i++) {
    const bool mapped = belongs_to(in[i], level);
    b->in_bdims.push_back(mapped ? 0 : -1);
    phys[size_t(i)] = mapped ? batch_unwrap(level, in[i], 0) : in[i];
  }
  Tensor r = custom_call(batched, phys.data(), nin);
  check_not_captured(level, *rule, CustomCall::F, {r});
  return batch_wrap_physical(level, std::move(r));
}

}  // namespace

Tensor custom_call(const Ref<CustomRule>& rule, const Tensor* in, int nin) {
  ADJ_CHECK(nin == rule->nin, ErrorKind::Internal, rule->name, "called with " << nin << " inputs, made for " << rule->nin);
  Level* top = nullptr;
  for (int i = 0; i < nin; i++) {
    ADJ_CHECK(in[i].defined(), ErrorKind::State, rule->name, "input " << i << " is undefined");
    if (!in[i].is_tracer()) continue;
    check_usable(in[i], rule->name, "input", i);
    Level* l = tracer_of(in[i])->level.get();
    if (!top || l->id > top->id) top = l;
  }
  if (!top) {
    Ref<CustomState> none;
    std::vector<Tensor> r = rule->call(CustomCall::F, std::vector<Tensor>(in, in + nin), &none);
    check_outputs(*rule, CustomCall::F, r, 1, 1);
    return r[0];
  }
  switch (top->kind) {
    case LevelKind::Grad: return custom_grad(top, rule, in, nin);
    case LevelKind::Jvp: return custom_jvp(top, rule, in, nin);
    case LevelKind::Batch: return custom_batch(top, rule, in, nin);
  }
  throw Error(ErrorKind::Internal, rule->name, "unknown level kind");
}

}  // namespace adjoint
