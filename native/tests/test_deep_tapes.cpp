// Long chains of traced ops: building, differentiating and dropping them must not recurse once per
// op. Each chain below is 10^5 or 10^6 ops long; torn down recursively (a tape node releasing its
// input node, which releases its own, ...) they overflow the stack long before the end. The tests
// also run on a thread with a 256 KiB stack, so that a recursion of even a few thousand frames
// fails here rather than only at the default 8 MiB.
#include <pthread.h>

#include <functional>
#include <vector>

#include "check.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;

namespace {

constexpr int64_t kLong = 100000;
#if defined(__SANITIZE_ADDRESS__)
constexpr int64_t kVeryLong = 200000;  // ~50 s under the sanitizers otherwise; kLong already overflows their larger frames
#else
constexpr int64_t kVeryLong = 1000000;
#endif

Tensor vec(std::vector<double> v) { return O::from_data(v.data(), Dims{int64_t(v.size())}, DType::Float64); }
std::vector<double> values(const Tensor& t) {
  Tensor c = O::contiguous(t);
  return std::vector<double>(c.data<double>(), c.data<double>() + c.numel());
}
Tensor one() { return O::scalar(1.0, DType::Float64); }

// y = x + 1 + 1 + ... (n times): every step is one tape node whose input is the previous one.
Tensor add_chain(const Tensor& x, int64_t n) {
  Tensor y = x, c = one();
  for (int64_t i = 0; i < n; i++) y = O::add(y, c);
  return y;
}

// Runs f on a thread with a small stack and reports what it threw (as a check failure).
void on_small_stack(const std::function<void()>& f) {
  struct Arg {
    const std::function<void()>* f;
    std::string error;
  } arg{&f, ""};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t th;
  auto body = [](void* p) -> void* {
    auto* a = static_cast<Arg*>(p);
    try {
      (*a->f)();
    } catch (const std::exception& e) {
      a->error = e.what();
    }
    return nullptr;
  };
  CHECK(pthread_create(&th, &attr, body, &arg) == 0);
  pthread_join(th, nullptr);
  pthread_attr_destroy(&attr);
  if (!arg.error.empty()) {
    std::printf("  unexpected exception on the small-stack thread: %s\n", arg.error.c_str());
    check::failures()++;
  }
}

// A grad level that is popped when the test body leaves, also by an exception.
struct GradLevel {
  Ref<Level> l = push_level(LevelKind::Grad);
  bool live = true;
  void end() { live = false; pop_level(l.get(), "grad"); }
  ~GradLevel() {
    if (live) pop_level(l.get(), "grad");
  }
};

Tensor grad_of_sum(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  GradLevel g;
  Tensor tx = grad_wrap(g.l.get(), x);
  Tensor y = O::sum(f(tx), Dims{}, false);
  g.end();
  return grad_backward(g.l.get(), {y}, {O::ones(y.shape(), y.dtype())}, {tx})[0];
}

}  // namespace

TEST(grad_of_a_chain_of_1e5_adds) {
  on_small_stack([] {
    Tensor g = grad_of_sum([](const Tensor& t) { return add_chain(t, kLong); }, vec({1, 2, 3}));
    CHECK(values(g) == (std::vector<double>{1, 1, 1}));
  });
}

TEST(grad_of_a_chain_of_1e6_adds) {
  Tensor g = grad_of_sum([](const Tensor& t) { return add_chain(t, kVeryLong); }, vec({1, 2}));
  CHECK(values(g) == (std::vector<double>{1, 1}));
}

// A chain through unary ops and two inputs per node: x * 0.999 + sin(x)*0 ... keeps values bounded.
TEST(vjp_of_a_chain_of_mixed_ops) {
  on_small_stack([] {
    const int64_t n = kLong / 2;
    const double a = 0.9999;
    Tensor s = O::scalar(a, DType::Float64);
    GradLevel g;
    Tensor tx = grad_wrap(g.l.get(), vec({0.5, -0.25}));
    Tensor y = tx;
    for (int64_t i = 0; i < n; i++) y = O::mul(O::neg(y), s);  // two nodes per step
    g.end();
    Tensor ct = vec({1, 2});
    Tensor r = grad_backward(g.l.get(), {y}, {ct}, {tx})[0];
    const double d = std::pow(a, double(n));  // (-a)^n with n even
    CHECK_NEAR(values(r)[0], d, 1e-12);
    CHECK_NEAR(values(r)[1], 2 * d, 1e-12);
  });
}

// The tape dropped without a backward pass (a vjp result never pulled back), also after its level
// ended, and a traced value kept alive past the others.
TEST(dropping_a_long_tape) {
  on_small_stack([] {
    {
      GradLevel g;
      Tensor tx = grad_wrap(g.l.get(), vec({1}));
      Tensor y = add_chain(tx, kLong);
      g.end();
    }  // y (holding the whole tape) released here
    {
      GradLevel g;
      Tensor y = add_chain(grad_wrap(g.l.get(), vec({1})), kLong);
    }  // released while the level is still live (the level pops after)
  });
}

// The traced function throws after building a long tape: the tape is released while unwinding.
TEST(exception_after_a_long_tape) {
  on_small_stack([] {
    bool threw = false;
    try {
      GradLevel g;
      Tensor y = add_chain(grad_wrap(g.l.get(), vec({1, 2})), kLong);
      O::add(y, vec({1, 2, 3}));  // shapes [2] and [3]
    } catch (const Error& e) {
      threw = e.kind() == ErrorKind::Shape;
    }
    CHECK(threw);
    CHECK(level_stack().empty());
  });
}

// grad of grad over a long chain: the inner backward pass is itself taped by the outer level, so
// both levels hold chains of kLong nodes, each node's values tracers of the outer level.
TEST(grad_of_grad_of_a_long_chain) {
  on_small_stack([] {
    // f(x) = sum(x^2 + n) through n adds: f'' = 2 everywhere.
    auto inner = [](const Tensor& t) {
      return grad_of_sum([](const Tensor& u) { return add_chain(O::mul(u, u), kLong); }, t);
    };
    Tensor g2 = grad_of_sum(inner, vec({1, -2}));
    CHECK(values(g2) == (std::vector<double>{2, 2}));
  });
}

// jvp and vmap over a long grad chain: their tracers are the values inside the tape nodes.
TEST(jvp_and_vmap_of_a_long_grad_chain) {
  on_small_stack([] {
    auto grad_f = [](const Tensor& t) {
      return grad_of_sum([](const Tensor& u) { return add_chain(O::mul(u, u), kLong); }, t);
    };
    {  // jvp of grad: H v = 2 v
      Ref<Level> l = push_level(LevelKind::Jvp);
      Tensor y = grad_f(jvp_wrap(l.get(), vec({1, 2}), vec({3, -1})));
      Tensor p, t;
      jvp_unwrap(l.get(), y, &p, &t);
      pop_level(l.get(), "jvp");
      CHECK(values(p) == (std::vector<double>{2, 4}));
      CHECK(values(t) == (std::vector<double>{6, -2}));
    }
    {  // vmap of grad: per-row 2x
      Ref<Level> l = push_level(LevelKind::Batch, 2);
      Tensor x = O::reshape(vec({1, 2, 3, 4}), Dims{2, 2});
      Tensor y = grad_f(batch_wrap(l.get(), x, 0));
      Tensor r = batch_unwrap(l.get(), y, 0);
      pop_level(l.get(), "vmap");
      CHECK(values(r) == (std::vector<double>{2, 4, 6, 8}));
    }
  });
}

// grad inside jvp inside grad...: a long chain at the outer grad level whose node values are jvp
// tracers carrying grad tracers (grad of a jvp), dropped at once.
TEST(grad_of_jvp_of_a_long_chain) {
  on_small_stack([] {
    auto jvp_tangent_sum = [](const Tensor& x) {
      Ref<Level> l = push_level(LevelKind::Jvp);
      Tensor y = add_chain(O::mul(jvp_wrap(l.get(), x, O::ones(x.shape(), x.dtype())), x), kLong);
      Tensor p, t;
      jvp_unwrap(l.get(), y, &p, &t);
      pop_level(l.get(), "jvp");
      return t;  // d/de (x + e)x = x
    };
    Tensor g = grad_of_sum(jvp_tangent_sum, vec({5, 7}));
    CHECK(values(g) == (std::vector<double>{1, 1}));
  });
}

int main() { return check::run_all(); }
