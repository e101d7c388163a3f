// The C API of custom derivative rules, detach and linearize's replay (include/adjoint/adjoint.h):
// custom rules whose functions live in the caller (Java), reached through one callback.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "adjoint/adjoint.h"
#include "api/handles.h"
#include "api/record.h"
#include "core/error.h"
#include "core/random.h"
#include "interp/custom.h"
#include "ops/ops.h"

using namespace adjoint;
using namespace adjoint::api;

namespace {

std::atomic<adj_custom_callback> g_callback{nullptr};

// NOTE: ids of the caller's objects (custom call sites, residual states) are given back through a
// queue, not a callback: the last reference to a rule or state may go anywhere (a tensor released
// by the Cleaner's thread, a tape torn down at a thread's exit), where calling into the JVM is not
// safe. The caller drains the queue when it registers new ones.
struct ReleaseQueue {
  std::mutex mu;
  std::vector<int64_t> ids;
};
ReleaseQueue& released() {
  static ReleaseQueue* q = new ReleaseQueue();  // leaked on purpose: used by destructors at exit
  return *q;
}
void give_back(int64_t id) {
  std::lock_guard<std::mutex> g(released().mu);
  released().ids.push_back(id);
}

struct JavaState : CustomState {
  int64_t id;
  explicit JavaState(int64_t i) : id(i) {}
  ~JavaState() override { give_back(id); }
};

// What one callback sees: its arguments, and the results it pushes.
struct CallbackContext {
  const std::vector<Tensor>* args;
  std::vector<Tensor> results;
  int64_t state_out = 0;
};

// A rule whose functions are the caller's, registered as `site`.
struct CallerRule : CustomRule {
  int64_t site = 0;
  ~CallerRule() override { give_back(site); }

  std::vector<Tensor> call(CustomCall what, std::vector<Tensor> args, Ref<CustomState>* state) override {
    adj_custom_callback cb = g_callback.load(std::memory_order_acquire);
    ADJ_CHECK(cb != nullptr, ErrorKind::Internal, name, "no callback set for custom rules");
    CallbackContext ctx;
    ctx.args = &args;
    const int64_t st = state && *state ? static_cast<JavaState*>(state->get())->id : 0;
    const int rc = cb(site, int(what), st, int64_t(reinterpret_cast<intptr_t>(&ctx)));
    // Adopted first, so that a state set before a failure is still given back.
    if (ctx.state_out != 0) {
      Ref<CustomState> s = Ref<CustomState>::adopt(new JavaState(ctx.state_out));
      if (what == CustomCall::Fwd && state) *state = std::move(s);
    }
    ADJ_CHECK(rc == 0, ErrorKind::Callback, name, "the " << custom_call_name(what) << " failed (the caller rethrows its error)");
    return std::move(ctx.results);
  }
};

CallbackContext& context(int64_t ctx) {
  ADJ_CHECK(ctx != 0, ErrorKind::State, "custom", "no callback in progress");
  return *reinterpret_cast<CallbackContext*>(intptr_t(ctx));
}

}  // namespace

extern "C" {

adj_t adj_detach(adj_t x) {
  return handle_call([&] { return ops::detach(in(x, "detach")); });
}

int adj_generator_copy_state(int64_t dst, int64_t src) {
  return api_guard(-1, [&] {
    gen(dst).copy_state_from(gen(src));
    return 0;
  });
}

void adj_custom_set_callback(adj_custom_callback cb) { g_callback.store(cb, std::memory_order_release); }

adj_t adj_custom_call(int kind, int flags, int64_t site, const adj_t* ins, int nin) {
  return api_guard<adj_t>(0, [&] {
    ADJ_CHECK(kind == ADJ_CUSTOM_VJP || kind == ADJ_CUSTOM_JVP, ErrorKind::Argument, "custom", "unknown custom rule kind " << kind);
    auto* r = new CallerRule();
    Ref<CustomRule> rule = Ref<CustomRule>::adopt(r);  // gives `site` back when the last holder goes
    r->site = site;
    r->kind = kind == ADJ_CUSTOM_VJP ? CustomRule::Kind::Vjp : CustomRule::Kind::Jvp;
    r->jvp_runs_f = (flags & ADJ_CUSTOM_JVP_RUNS_F) != 0;
    r->name = r->kind == CustomRule::Kind::Jvp ? "customJvp" : r->jvp_runs_f ? "checkpoint" : "customVjp";
    ADJ_CHECK(nin >= 0 && (nin == 0 || ins != nullptr), ErrorKind::Argument, r->name, "bad input count " << nin);
    r->nin = nin;
    std::vector<Tensor> x;
    x.reserve(size_t(nin));
    for (int i = 0; i < nin; i++) x.push_back(in(ins[i], r->name));
    return out(custom_call(rule, x.data(), nin));
  });
}

int adj_custom_nargs(int64_t ctx) {
  return api_guard(-1, [&] { return int(context(ctx).args->size()); });
}
adj_t adj_custom_arg(int64_t ctx, int i) {
  return api_guard<adj_t>(0, [&] {
    CallbackContext& c = context(ctx);
    ADJ_CHECK(i >= 0 && size_t(i) < c.args->size(), ErrorKind::Index, "custom", "argument " << i << " of " << c.args->size());
    return out((*c.args)[size_t(i)]);
  });
}
int adj_custom_push(int64_t ctx, adj_t t) {
  return api_guard(-1, [&] {
    CallbackContext& c = context(ctx);
    c.results.push_back(t == 0 ? Tensor() : Tensor(in(t, "custom")));
    return 0;
  });
}
int adj_custom_set_state(int64_t ctx, int64_t state) {
  return api_guard(-1, [&] { context(ctx).state_out = state; return 0; });
}
int adj_custom_released(int64_t* ids, int capacity) {
  std::lock_guard<std::mutex> g(released().mu);
  std::vector<int64_t>& q = released().ids;
  const int n = int(std::min(q.size(), size_t(capacity < 0 ? 0 : capacity)));
  for (int i = 0; i < n; i++) ids[i] = q[q.size() - 1 - size_t(i)];
  q.resize(q.size() - size_t(n));
  return n;
}

adj_t adj_replay1(adj_t leaf, adj_t o, adj_t value) {
  return api_guard<adj_t>(0, [&] {
    Tensor l = in(leaf, "linearize"), y = in(o, "linearize"), v = in(value, "linearize");
    Tensor r;
    grad_replay(&l, &v, 1, &y, 1, &r);
    return out(std::move(r));
  });
}

}  // extern "C"
