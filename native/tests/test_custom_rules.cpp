// C++ tests of detach, custom rules (interp/custom.h) and tape replay, alone and nested; the Java
// tests (CustomRulesTest, ...) cover the same through the callback.
#include <cmath>
#include <functional>
#include <vector>

#include "check.h"
#include "interp/custom.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;
using Fn = std::function<Tensor(const Tensor&)>;
using Args = std::vector<Tensor>;

namespace {

Tensor vec(std::vector<double> v, Dims shape = {}) {
  if (shape.empty()) shape = Dims{int64_t(v.size())};
  return O::from_data(v.data(), shape, DType::Float64);
}
std::vector<double> values(const Tensor& t) {
  Tensor c = O::contiguous(t);
  return std::vector<double>(c.data<double>(), c.data<double>() + c.numel());
}
bool close(const std::vector<double>& a, const std::vector<double>& b, double tol = 1e-9) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (!(std::fabs(a[i] - b[i]) <= tol * (1 + std::fabs(b[i])))) return false;
  return true;
}
Tensor sum(const Tensor& x) { return O::sum(x, Dims{}, false); }
Tensor scalar(double v) { return O::scalar(v, DType::Float64); }

Fn grad(Fn f) {
  return [f](const Tensor& x) {
    Ref<Level> l = push_level(LevelKind::Grad);
    Tensor tx = grad_wrap(l.get(), x);
    Tensor y = f(tx);
    pop_level(l.get(), "grad");
    return grad_backward(l.get(), {y}, {O::ones(y.shape(), y.dtype())}, {tx})[0];
  };
}
Tensor jvp(Fn f, const Tensor& x, const Tensor& t) {
  Ref<Level> l = push_level(LevelKind::Jvp);
  Tensor y = f(jvp_wrap(l.get(), x, t));
  Tensor p, tan;
  jvp_unwrap(l.get(), y, &p, &tan);
  pop_level(l.get(), "jvp");
  return tan;
}
Fn vmap(Fn f) {
  return [f](const Tensor& x) {
    Ref<Level> l = push_level(LevelKind::Batch, x.size(0));
    Tensor y = f(batch_wrap(l.get(), x, 0));
    Tensor r = batch_unwrap(l.get(), y, 0);
    pop_level(l.get(), "vmap");
    return r;
  };
}

// Central differences of a scalar function of x (float64).
std::vector<double> fd_grad(const std::function<double(const std::vector<double>&)>& f, std::vector<double> x) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); i++) {
    const double h = 1e-6, xi = x[i];
    x[i] = xi + h;
    const double up = f(x);
    x[i] = xi - h;
    const double dn = f(x);
    x[i] = xi;
    g[i] = (up - dn) / (2 * h);
  }
  return g;
}

// A custom rule made of C++ functions; counts its calls.
struct TestRule : CustomRule {
  std::function<Tensor(const Args&)> f;
  std::function<Args(const Args&)> fwd, bwd, jvp;
  int calls[4] = {0, 0, 0, 0};
  Args call(CustomCall what, Args a, Ref<CustomState>*) override {
    calls[int(what)]++;
    switch (what) {
      case CustomCall::F: return {f(a)};
      case CustomCall::Fwd: return fwd(a);
      case CustomCall::Bwd: return bwd(a);
      case CustomCall::Jvp: return jvp(a);
    }
    return {};
  }
};

// sin with a vjp rule that returns `factor` times the true cotangent (so its use is visible).
Ref<CustomRule> sin_vjp(double factor, TestRule** out = nullptr) {
  auto* r = new TestRule();
  r->kind = CustomRule::Kind::Vjp;
  r->nin = 1;
  r->f = [](const Args& a) { return O::sin(a[0]); };
  r->fwd = [](const Args& a) { return Args{O::sin(a[0]), O::cos(a[0])}; };
  r->bwd = [factor](const Args& a) { return Args{O::mul(O::mul(a[1], a[0]), scalar(factor))}; };
  if (out) *out = r;
  return Ref<CustomRule>::adopt(r);
}
Tensor call1(const Ref<CustomRule>& r, const Tensor& x) { return custom_call(r, &x, 1); }

// log(1 + exp(x)) written naively (inf and nan derivatives for large x) with the stable jvp rule
// of the JAX documentation: tangent (1 - 1 / (1 + exp(x))) t.
Ref<CustomRule> log1pexp() {
  auto* r = new TestRule();
  r->kind = CustomRule::Kind::Jvp;
  r->nin = 1;
  r->name = "customJvp";
  r->f = [](const Args& a) { return O::log(O::add(O::exp(a[0]), scalar(1))); };
  r->jvp = [r](const Args& a) {
    Tensor out = r->f({a[0]});
    Tensor d = O::sub(scalar(1), O::div(scalar(1), O::add(O::exp(a[0]), scalar(1))));
    return Args{out, O::mul(d, a[1])};
  };
  return Ref<CustomRule>::adopt(r);
}

}  // namespace

TEST(detach_has_no_derivative_at_any_level) {
  Tensor x = vec({0.5, -1.0, 2.0});
  // grad(x -> sum(x * detach(x))) = detach(x) = x
  Fn f = [](const Tensor& x) { return sum(O::mul(x, O::detach(x))); };
  CHECK(close(values(grad(f)(x)), values(x)));
  CHECK(close(values(jvp([](const Tensor& x) { return O::detach(x); }, x, vec({1, 1, 1}))), {0, 0, 0}));
  // under vmap it stays batched: vmap(grad(f)) over rows
  Tensor xs = vec({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(close(values(vmap(grad(f))(xs)), values(xs)));
  CHECK(close(values(vmap([](const Tensor& x) { return O::detach(O::mul(x, x)); })(xs)), {1, 4, 9, 16, 25, 36}));
  // grad outside vmap: d/dx sum(vmap(x * detach(x))) = x
  CHECK(close(values(grad([&](const Tensor& x) { return sum(vmap([](const Tensor& r) { return O::mul(r, O::detach(r)); })(x)); })(xs)),
              values(xs)));
  // second order: grad(grad) of sum(x^2 * detach(x)) = 2 detach(x)
  Fn g2 = [](const Tensor& x) { return sum(grad([](const Tensor& y) { return sum(O::mul(O::mul(y, y), O::detach(y))); })(x)); };
  CHECK(close(values(grad(g2)(x)), {1.0, -2.0, 4.0}));
}

TEST(custom_vjp_rule_is_used_under_grad) {
  TestRule* r = nullptr;
  Ref<CustomRule> rule = sin_vjp(2.0, &r);
  Tensor x = vec({0.3, -1.2});
  Tensor g = grad([&](const Tensor& x) { return sum(call1(rule, x)); })(x);
  CHECK(close(values(g), {2 * std::cos(0.3), 2 * std::cos(-1.2)}));
  CHECK(r->calls[int(CustomCall::Fwd)] == 1 && r->calls[int(CustomCall::Bwd)] == 1 && r->calls[int(CustomCall::F)] == 0);
  // no transform: the function itself
  CHECK(close(values(call1(rule, x)), {std::sin(0.3), std::sin(-1.2)}));
}

TEST(custom_vjp_nested_grad_differentiates_bwd) {
  Ref<CustomRule> rule = sin_vjp(1.0);
  Tensor x = vec({0.3, -1.2});
  // grad(sum(grad(sum(sin)))) = grad(sum(cos)) = -sin: the outer level differentiates bwd's ops
  Fn g2 = [&](const Tensor& x) { return sum(grad([&](const Tensor& y) { return sum(call1(rule, y)); })(x)); };
  CHECK(close(values(grad(g2)(x)), {-std::sin(0.3), -std::sin(-1.2)}));
  // forward over reverse too (the custom call is at the grad level, jvp below it)
  CHECK(close(values(jvp(grad([&](const Tensor& y) { return sum(call1(rule, y)); }), x, vec({1, 1}))), {-std::sin(0.3), -std::sin(-1.2)}));
}

TEST(custom_vjp_under_vmap) {
  TestRule* r = nullptr;
  Ref<CustomRule> rule = sin_vjp(3.0, &r);
  Tensor xs = vec({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {3, 2});
  // vmap of grad: per row 3 cos(x)
  Tensor a = vmap(grad([&](const Tensor& x) { return sum(call1(rule, x)); }))(xs);
  std::vector<double> want;
  for (double v : values(xs)) want.push_back(3 * std::cos(v));
  CHECK(close(values(a), want));
  // grad of vmap: the batched rule runs fwd and bwd under a fresh vmap level
  Tensor b = grad([&](const Tensor& x) { return sum(vmap([&](const Tensor& row) { return call1(rule, row); })(x)); })(xs);
  CHECK(close(values(b), want));
  // plain vmap: F per example
  std::vector<double> s;
  for (double v : values(xs)) s.push_back(std::sin(v));
  CHECK(close(values(vmap([&](const Tensor& row) { return call1(rule, row); })(xs)), s));
}

TEST(custom_vjp_unbatched_input_sums_cotangents) {
  // f(x, w) = x * w with the exact rule; w is shared by every row of a vmap, so its cotangent
  // from grad outside the vmap is the sum over rows.
  auto* r = new TestRule();
  Ref<CustomRule> rule = Ref<CustomRule>::adopt(r);
  r->kind = CustomRule::Kind::Vjp;
  r->nin = 2;
  r->f = [](const Args& a) { return O::mul(a[0], a[1]); };
  r->fwd = [](const Args& a) { return Args{O::mul(a[0], a[1]), a[0], a[1]}; };
  r->bwd = [](const Args& a) { return Args{O::mul(a[2], a[1]), O::mul(a[2], a[0])}; };
  Tensor xs = vec({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor w = vec({0.5, -2});
  Tensor gw = grad([&](const Tensor& w) {
    return sum(vmap([&](const Tensor& row) { Tensor in[2] = {row, w}; return custom_call(rule, in, 2); })(xs));
  })(w);
  CHECK(close(values(gw), {1 + 3 + 5, 2 + 4 + 6}));
}

TEST(custom_vjp_refused_in_forward_mode) {
  Ref<CustomRule> rule = sin_vjp(1.0);
  const size_t depth = level_stack().size();
  CHECK_THROWS(jvp([&](const Tensor& x) { return call1(rule, x); }, vec({0.1}), vec({1})), ErrorKind::Unsupported, "forward mode");
  // the driver's own level is left on the stack by the throw; the rule pushed none of its own
  CHECK(level_stack().size() == depth + 1);
  pop_level(level_stack().back().get(), "jvp");
  // checkpoint's rule runs f as written instead
  auto* r = new TestRule();
  Ref<CustomRule> ck = Ref<CustomRule>::adopt(r);
  r->kind = CustomRule::Kind::Vjp;
  r->jvp_runs_f = true;
  r->name = "checkpoint";
  r->nin = 1;
  r->f = [](const Args& a) { return O::sin(a[0]); };
  CHECK(close(values(jvp([&](const Tensor& x) { return call1(ck, x); }, vec({0.1}), vec({2}))), {2 * std::cos(0.1)}));
}

TEST(custom_vjp_bad_cotangent_is_named) {
  auto* r = new TestRule();
  Ref<CustomRule> rule = Ref<CustomRule>::adopt(r);
  r->kind = CustomRule::Kind::Vjp;
  r->nin = 1;
  r->fwd = [](const Args& a) { return Args{O::sin(a[0])}; };
  r->bwd = [](const Args& a) { return Args{O::sum(a[0], Dims{}, false)}; };  // [] for a [2] input
  Tensor x = vec({0.3, -1.2});
  CHECK_THROWS(grad([&](const Tensor& x) { return sum(call1(rule, x)); })(x), ErrorKind::Shape, "customVjp: bwd returned a cotangent of shape []");
}

TEST(captured_tracers_are_refused) {
  // fwd uses the traced x through a capture instead of its argument
  Tensor captured;
  auto* r = new TestRule();
  Ref<CustomRule> rule = Ref<CustomRule>::adopt(r);
  r->kind = CustomRule::Kind::Vjp;
  r->nin = 1;
  r->fwd = [&](const Args& a) { return Args{O::mul(a[0], captured)}; };
  r->bwd = [](const Args& a) { return Args{a[0]}; };
  Tensor x = vec({0.3, -1.2});
  CHECK_THROWS(grad([&](const Tensor& x) { captured = x; return sum(call1(rule, x)); })(x), ErrorKind::Argument,
               "it used a traced tensor it did not get as an argument");
  pop_level(level_stack().back().get(), "grad");
  captured = Tensor();
  CHECK(level_stack().empty());
}

TEST(custom_jvp_log1pexp_is_stable) {
  Ref<CustomRule> rule = log1pexp();
  Fn f = [&](const Tensor& x) { return call1(rule, x); };
  Tensor x = vec({0.0, 3.0, 1000.0});
  const auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  // jvp uses the rule: finite where the naive derivative is nan
  CHECK(close(values(jvp(f, x, vec({1, 1, 1}))), {0.5, sig(3.0), 1.0}));
  // grad: the transpose of the rule's tangent map
  CHECK(close(values(grad([&](const Tensor& x) { return sum(f(x)); })(x)), {0.5, sig(3.0), 1.0}));
  // hessian diagonal, forward over reverse: d/dx sigmoid = sig (1 - sig) (the rule's own
  // derivative, which is nan at 1000 as in JAX's example: exp overflows there)
  x = vec({0.0, 3.0, -2.0});
  Tensor h = jvp(grad([&](const Tensor& x) { return sum(f(x)); }), x, vec({1, 1, 1}));
  CHECK(close(values(h), {0.25, sig(3.0) * (1 - sig(3.0)), sig(-2.0) * (1 - sig(-2.0))}));
  // reverse over reverse
  Tensor h2 = grad([&](const Tensor& x) { return sum(grad([&](const Tensor& y) { return sum(f(y)); })(x)); })(x);
  CHECK(close(values(h2), values(h)));
  // vmap of grad, and grad of vmap
  Tensor xs = vec({0.5, -1, 2, 4}, {2, 2});
  std::vector<double> want;
  for (double v : values(xs)) want.push_back(sig(v));
  CHECK(close(values(vmap(grad([&](const Tensor& x) { return sum(f(x)); }))(xs)), want));
  CHECK(close(values(grad([&](const Tensor& x) { return sum(vmap(f)(x)); })(xs)), want));
}

TEST(custom_jvp_matches_finite_differences_two_inputs) {
  // f(a, b) = sin(a) * b with its exact rule, checked against central differences under grad
  auto* r = new TestRule();
  Ref<CustomRule> rule = Ref<CustomRule>::adopt(r);
  r->kind = CustomRule::Kind::Jvp;
  r->nin = 2;
  r->name = "customJvp";
  r->f = [](const Args& a) { return O::mul(O::sin(a[0]), a[1]); };
  r->jvp = [](const Args& a) {
    Tensor out = O::mul(O::sin(a[0]), a[1]);
    return Args{out, O::add(O::mul(O::mul(O::cos(a[0]), a[1]), a[2]), O::mul(O::sin(a[0]), a[3]))};
  };
  Tensor b = vec({1.5, -0.5});
  std::vector<double> x0 = {0.4, 1.1};
  Tensor g = grad([&](const Tensor& a) { Tensor in[2] = {a, b}; return sum(O::mul(custom_call(rule, in, 2), custom_call(rule, in, 2))); })(vec(x0));
  auto plain = [](const std::vector<double>& a) { double s = 0, bb[2] = {1.5, -0.5}; for (int i = 0; i < 2; i++) s += std::pow(std::sin(a[i]) * bb[i], 2); return s; };
  CHECK(close(values(g), fd_grad(plain, x0), 1e-6));
}

TEST(replay_is_the_tangent_map) {
  // The tape of jvp(f) with tangents traced by a grad level, replayed for new tangents.
  Fn f = [](const Tensor& x) { return O::mul(O::sin(x), x); };
  Tensor x = vec({0.3, -0.8, 1.5});
  Ref<Level> rec = push_level(LevelKind::Grad);
  Tensor t = grad_wrap(rec.get(), O::zeros_like(x));
  Ref<Level> fwd = push_level(LevelKind::Jvp);
  Tensor y = f(jvp_wrap(fwd.get(), x, t));
  Tensor p, tan;
  jvp_unwrap(fwd.get(), y, &p, &tan);
  pop_level(fwd.get(), "jvp");
  pop_level(rec.get(), "linearize");
  for (auto v : {std::vector<double>{1, 0, 0}, std::vector<double>{0.5, -2, 3}}) {
    Tensor nv = vec(v), r;
    grad_replay(&t, &nv, 1, &tan, 1, &r);
    CHECK(close(values(r), values(jvp(f, x, nv))));
  }
  // under vmap: a batch of tangents
  Tensor ts = vec({1, 0, 0, 0, 1, 0}, {2, 3});
  Tensor batched = vmap([&](const Tensor& v) { Tensor r; grad_replay(&t, &v, 1, &tan, 1, &r); return r; })(ts);
  std::vector<double> want = values(jvp(f, x, vec({1, 0, 0})));
  for (double v : values(jvp(f, x, vec({0, 1, 0})))) want.push_back(v);
  CHECK(close(values(batched), want));
  // a wrong shape is refused
  Tensor bad = vec({1, 2}), r;
  CHECK_THROWS(grad_replay(&t, &bad, 1, &tan, 1, &r), ErrorKind::Shape, "jvp: tangent 0 has shape [2] but primal 0 has shape [3]");
}

int main() { return check::run_all(); }
