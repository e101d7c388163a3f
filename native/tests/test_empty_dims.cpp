// Reductions over empty dims follow torch 1.13 (values from torch, see each case): sum of nothing
// is 0, mean of nothing nan, logsumexp of nothing -inf, softmax/log_softmax along an empty dim an
// empty result, amax of nothing an error. And every transform handles zero-size inputs and
// outputs: a Jacobian with no entries is an empty tensor shaped [out..., in...], from jacrev
// (jacrev_backward) as from jacfwd (a vmap over a basis of zero rows).
#include <cmath>
#include <functional>
#include <vector>

#include "check.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;
using Fn = std::function<Tensor(const Tensor&)>;

namespace {

const double kInf = INFINITY;

Tensor zeros(Dims s) { return O::zeros(s, DType::Float64); }
std::vector<double> values(const Tensor& t) {
  Tensor c = O::contiguous(O::to(t, DType::Float64));
  return std::vector<double>(c.data<double>(), c.data<double>() + c.numel());
}
bool all_nan(const Tensor& t) {
  for (double v : values(t))
    if (!std::isnan(v)) return false;
  return true;
}

// A level popped when the test body leaves, also by an exception.
struct LevelScope {
  Ref<Level> l;
  bool live = true;
  LevelScope(LevelKind k, int64_t batch = 0) : l(push_level(k, batch)) {}
  Level* get() const { return l.get(); }
  void pop() { live = false; pop_level(l.get(), "test"); }
  ~LevelScope() {
    if (live) pop_level(l.get(), "test");
  }
};

Tensor grad(const Fn& f, const Tensor& x) {
  LevelScope g(LevelKind::Grad);
  Tensor tx = grad_wrap(g.get(), x);
  Tensor y = f(tx);
  g.pop();
  return grad_backward(g.get(), {y}, {O::ones(y.shape(), y.dtype())}, {tx})[0];
}

// jacrev as Func.jacrev runs it: one forward pass, then jacrev_backward over the output rows.
Tensor jacrev(const Fn& f, const Tensor& x, int64_t chunk = 0) {
  LevelScope g(LevelKind::Grad);
  Tensor tx = grad_wrap(g.get(), x);
  Tensor y = f(tx);
  g.pop();
  return jacrev_backward(g.get(), {y}, {tx}, chunk)[0];
}

// jacfwd as Func.jacfwd runs it: jvp vmapped over the one-hot rows of the input identity, then
// [n, out...] -> [in..., out...] -> [out..., in...].
Tensor jacfwd(const Fn& f, const Tensor& x) {
  const int64_t n = x.numel();
  LevelScope v(LevelKind::Batch, n);
  Tensor row = O::reshape(batch_basis(v.get(), n, 0, x.dtype()), x.shape());
  Tensor t;
  {
    LevelScope j(LevelKind::Jvp);
    Tensor y = f(jvp_wrap(j.get(), x, row)), p;
    jvp_unwrap(j.get(), y, &p, &t);
    j.pop();
  }
  Tensor r = batch_unwrap(v.get(), t, 0);
  v.pop();
  Dims shape = x.shape(), perm;
  for (int d = 1; d < r.ndim(); d++) shape.push_back(r.size(d));
  const int out_rank = r.ndim() - 1, in_rank = x.ndim();
  for (int d = 0; d < out_rank; d++) perm.push_back(in_rank + d);
  for (int d = 0; d < in_rank; d++) perm.push_back(d);
  return O::permute(O::reshape(r, shape), perm);
}

Tensor vmap(const Fn& f, const Tensor& x) {
  LevelScope v(LevelKind::Batch, x.size(0));
  Tensor r = batch_unwrap(v.get(), f(batch_wrap(v.get(), x, 0)), 0);
  v.pop();
  return r;
}

}  // namespace

// torch.logsumexp(torch.zeros(3, 0), 1) = [-inf, -inf, -inf]; over (0, 1): -inf; over 0: shape (0,);
// torch.logsumexp(torch.zeros(0, 3), 0) = [-inf, -inf, -inf].
TEST(logsumexp_of_nothing_is_minus_inf) {
  Tensor z = zeros({3, 0});
  Tensor r = O::logsumexp(z, Dims{1}, false);
  CHECK(r.shape() == (Dims{3}));
  CHECK(values(r) == (std::vector<double>{-kInf, -kInf, -kInf}));
  CHECK(O::logsumexp(z, Dims{1}, true).shape() == (Dims{3, 1}));
  CHECK(values(O::logsumexp(z, Dims{1}, true)) == (std::vector<double>{-kInf, -kInf, -kInf}));
  Tensor all = O::logsumexp(z, Dims{0, 1}, false);
  CHECK(all.shape() == (Dims{}) && values(all) == (std::vector<double>{-kInf}));
  CHECK(values(O::logsumexp(z, Dims{}, false)) == (std::vector<double>{-kInf}));
  CHECK(O::logsumexp(z, Dims{0}, false).shape() == (Dims{0}));
  CHECK(values(O::logsumexp(zeros({0, 3}), Dims{0}, false)) == (std::vector<double>{-kInf, -kInf, -kInf}));
  CHECK(O::logsumexp(zeros({0, 3}), Dims{1}, false).shape() == (Dims{0}));
  Tensor f32 = O::logsumexp(O::zeros(Dims{2, 0}, DType::Float32), Dims{-1}, false);
  CHECK(f32.dtype() == DType::Float32 && values(f32) == (std::vector<double>{-kInf, -kInf}));
  // a dim out of range is still an error, named after logsumexp
  CHECK_THROWS(O::logsumexp(z, Dims{2}, false), ErrorKind::Index, "logsumexp: dim 2 out of range");
}

// torch.softmax / log_softmax of torch.zeros(3, 0) along 1 or 0: shape (3, 0).
TEST(softmax_along_an_empty_dim_is_empty) {
  Tensor z = zeros({3, 0});
  for (int64_t d : {0, 1, -1}) {
    CHECK(O::softmax(z, d).shape() == (Dims{3, 0}));
    CHECK(O::log_softmax(z, d).shape() == (Dims{3, 0}));
  }
  CHECK(O::softmax(zeros({0}), 0).shape() == (Dims{0}));
  CHECK_THROWS(O::softmax(z, 2), ErrorKind::Index, "softmax: dim 2 out of range");
}

// torch: zeros(3, 0).sum(1) = [0, 0, 0], .sum() = 0 (bool and int64 sum to int64 zeros);
// .mean(1) = [nan, nan, nan], .mean() = nan, .mean(0) has shape (0,);
// .amax(1) and .amax() raise, .amax(0) has shape (0,).
TEST(sum_mean_amax_over_empty_dims) {
  Tensor z = zeros({3, 0});
  CHECK(values(O::sum(z, Dims{1}, false)) == (std::vector<double>{0, 0, 0}));
  CHECK(values(O::sum(z, Dims{}, false)) == (std::vector<double>{0}));
  Tensor b = O::sum(O::zeros(Dims{3, 0}, DType::Bool), Dims{1}, false);
  CHECK(b.dtype() == DType::Int64 && values(b) == (std::vector<double>{0, 0, 0}));
  CHECK(values(O::sum(O::zeros(Dims{3, 0}, DType::Int64), Dims{1}, false)) == (std::vector<double>{0, 0, 0}));
  Tensor m = O::mean(z, Dims{1}, false);
  CHECK(m.shape() == (Dims{3}) && all_nan(m));
  CHECK(all_nan(O::mean(z, Dims{}, false)) && O::mean(z, Dims{}, false).numel() == 1);
  CHECK(O::mean(z, Dims{0}, false).shape() == (Dims{0}));
  CHECK_THROWS(O::amax(z, Dims{1}, false), ErrorKind::Argument, "amax: cannot reduce over dim 1 of size 0");
  CHECK_THROWS(O::amax(z, Dims{}, false), ErrorKind::Argument, "amax: cannot reduce over dim 1 of size 0");
  CHECK(O::amax(z, Dims{0}, false).shape() == (Dims{0}));
  CHECK(O::amax(zeros({0, 3}), Dims{1}, false).shape() == (Dims{0}));
}

// The composites over empty dims under every transform: gradients of an empty input are empty
// (torch.autograd.grad(torch.logsumexp(x, 1).sum(), x) has shape (3, 0)), vmap maps them per
// example (vmap(lambda x: torch.logsumexp(x, 0))(torch.zeros(2, 0)) = [-inf, -inf]).
TEST(empty_reductions_under_transforms) {
  Tensor z = zeros({3, 0});
  Fn lse = [](const Tensor& x) { return O::sum(O::logsumexp(x, Dims{1}, false), Dims{}, false); };
  Fn sm = [](const Tensor& x) { return O::sum(O::softmax(x, 1), Dims{}, false); };
  Fn lsm = [](const Tensor& x) { return O::sum(O::log_softmax(x, 0), Dims{}, false); };
  Fn mean = [](const Tensor& x) { return O::mean(x, Dims{}, false); };
  for (const Fn& f : {lse, sm, lsm, mean}) {
    Tensor g = grad(f, z);
    CHECK(g.shape() == (Dims{3, 0}) && g.dtype() == DType::Float64);
    // grad of grad, and jvp of grad
    Fn gsum = [&](const Tensor& x) { return O::sum(grad(f, x), Dims{}, false); };
    CHECK(grad(gsum, z).shape() == (Dims{3, 0}));
  }
  CHECK(values(vmap([](const Tensor& x) { return O::logsumexp(x, Dims{0}, false); }, zeros({2, 0}))) ==
        (std::vector<double>{-kInf, -kInf}));
  CHECK(vmap([](const Tensor& x) { return O::softmax(x, 0); }, zeros({2, 0})).shape() == (Dims{2, 0}));
  CHECK(vmap([](const Tensor& x) { return O::log_softmax(x, -1); }, zeros({2, 3, 0})).shape() == (Dims{2, 3, 0}));
  CHECK(all_nan(vmap([](const Tensor& x) { return O::mean(x, Dims{}, false); }, zeros({2, 0}))));
  // vmap over a batch of no examples
  CHECK(vmap([](const Tensor& x) { return O::sum(x, Dims{}, false); }, zeros({0, 3})).shape() == (Dims{0}));
  CHECK(vmap([](const Tensor& x) { return O::logsumexp(x, Dims{0}, false); }, zeros({0, 3})).shape() == (Dims{0}));
  // jvp: the tangent of logsumexp over nothing is 0 (it does not depend on x)
  LevelScope j(LevelKind::Jvp);
  Tensor y = O::logsumexp(jvp_wrap(j.get(), z, zeros({3, 0})), Dims{1}, false), p, t;
  jvp_unwrap(j.get(), y, &p, &t);
  j.pop();
  CHECK(values(p) == (std::vector<double>{-kInf, -kInf, -kInf}));
  CHECK(values(t) == (std::vector<double>{0, 0, 0}));
}

// Jacobians with no entries, shaped [out..., in...] by jacrev and jacfwd alike (functorch:
// jacrev(sin)(zeros(0)) has shape (0, 0), jacrev(lambda x: x[:0])(zeros(3)) (0, 3),
// jacrev(lambda x: x.sum(0))(zeros(0, 2)) (2, 0, 2), jacrev(lambda x: logsumexp(x, 1))(zeros(3, 0)) (3, 3, 0)).
TEST(jacobians_of_zero_size_inputs_and_outputs) {
  struct Case {
    const char* name;
    Fn f;
    Dims in, jac;
  };
  const std::vector<Case> cases = {
      {"sin of an empty input", [](const Tensor& x) { return O::sin(x); }, {0}, {0, 0}},
      {"an empty slice of the input", [](const Tensor& x) { return O::slice(x, 0, 0, 0, 1); }, {3}, {0, 3}},
      {"sum over the empty dim", [](const Tensor& x) { return O::sum(x, Dims{0}, false); }, {0, 2}, {2, 0, 2}},
      {"logsumexp over the empty dim", [](const Tensor& x) { return O::logsumexp(x, Dims{1}, false); }, {3, 0}, {3, 3, 0}},
      {"softmax of an empty input", [](const Tensor& x) { return O::softmax(x, 1); }, {3, 0}, {3, 0, 3, 0}},
      {"matmul with an empty inner dim", [](const Tensor& x) { return O::matmul(x, zeros({0, 2})); }, {3, 0}, {3, 2, 3, 0}},
      {"a 0-d output of an empty input", [](const Tensor& x) { return O::mean(x, Dims{}, false); }, {2, 0}, {2, 0}},
      {"an empty output of a 0-d input", [](const Tensor& x) { return O::expand(O::unsqueeze(x, 0), Dims{0}); }, {}, {0}},
  };
  for (const Case& c : cases) {
    Tensor x = zeros(c.in);
    for (int64_t chunk : {0, 1}) {
      Tensor jr = jacrev(c.f, x, chunk);
      if (!(jr.shape() == c.jac && jr.dtype() == DType::Float64)) {
        std::printf("  %s: jacrev has shape %s, expected %s\n", c.name, jr.shape().str().c_str(), c.jac.str().c_str());
        check::failures()++;
      }
    }
    Tensor jf = jacfwd(c.f, x);
    if (!(jf.shape() == c.jac)) {
      std::printf("  %s: jacfwd has shape %s, expected %s\n", c.name, jf.shape().str().c_str(), c.jac.str().c_str());
      check::failures()++;
    }
    // and the same (no) values
    CHECK(values(jacrev(c.f, x)) == values(jf));
  }
  // hessian (jacfwd of jacrev) of an empty input: functorch gives shape (0, 0)
  Fn grad_sin_sum = [](const Tensor& x) { return grad([](const Tensor& u) { return O::sum(O::sin(u), Dims{}, false); }, x); };
  CHECK(jacfwd(grad_sin_sum, zeros({0})).shape() == (Dims{0, 0}));
  CHECK(jacrev(grad_sin_sum, zeros({0})).shape() == (Dims{0, 0}));
}

int main() { return check::run_all(); }
