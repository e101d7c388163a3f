// The cost of single ops and taped steps in the C++ core, without Java: the native part of what
// OpOverheadBench and W1's row loop measure from Java (README, "Cheap ops"). One line per case:
// mean ns per iteration over 2M iterations, float32, 16 elements (linear: 16x16 with bias).
// Build and run after `mvn -B install -DskipTests` (the static core and OpenBLAS are under java/target):
//   OB=java/target/openblas/org/bytedeco/openblas/linux-x86_64
//   g++ -O2 -std=c++17 -Inative/src -Inative/include bench/op_costs.cpp java/target/native/libadjoint_core.a \
//       $OB/libopenblas.so.0 -Wl,-rpath,$OB -lpthread -o bench/target/op_costs && OPENBLAS_NUM_THREADS=1 bench/target/op_costs
#include <chrono>
#include <cstdio>

#include "core/random.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;

template <class F>
void report(const char* name, F f, int n = 2000000) {
  for (int i = 0; i < n / 10; i++) f();  // warm the pools and caches
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; i++) f();
  auto t1 = std::chrono::steady_clock::now();
  std::printf("%-34s %7.1f ns\n", name, std::chrono::duration<double, std::nano>(t1 - t0).count() / n);
}

int main() {
  const int64_t d = 16;
  Generator g(0);
  Tensor w = O::randn(g, Dims{d, d}, DType::Float32), b = O::randn(g, Dims{d}, DType::Float32);
  Tensor x = O::randn(g, Dims{d}, DType::Float32), u = O::randn(g, Dims{d}, DType::Float32);
  report("tanh", [&] { Tensor y = O::tanh(x); });
  report("add", [&] { Tensor y = O::add(x, b); });
  report("linear 16x16 + bias", [&] { Tensor y = O::linear(x, w, &b); });
  report("select (a view)", [&] { Tensor y = O::select(w, 0, 3); });
  report("grad level begin + end", [&] {
    Ref<Level> l = push_level(LevelKind::Grad);
    pop_level(l.get(), "vjp");
  });
  report("  + wrap the input", [&] {
    Ref<Level> l = push_level(LevelKind::Grad);
    Tensor t = grad_wrap(l.get(), x);
    pop_level(l.get(), "vjp");
  });
  report("  + taped tanh", [&] {
    Ref<Level> l = push_level(LevelKind::Grad);
    Tensor t = grad_wrap(l.get(), x), y = O::tanh(t);
    pop_level(l.get(), "vjp");
  });
  report("  + taped linear", [&] {
    Ref<Level> l = push_level(LevelKind::Grad);
    Tensor t = grad_wrap(l.get(), x), y = O::linear(t, w, &b);
    pop_level(l.get(), "vjp");
  });
  report("vjp of tanh (forward + backward)", [&] {
    Ref<Level> l = push_level(LevelKind::Grad);
    Tensor t = grad_wrap(l.get(), x), y = O::tanh(t), r;
    pop_level(l.get(), "vjp");
    grad_backward(l.get(), &y, &u, 1, &t, 1, &r);
  });
  report("vjp of linear", [&] {
    Ref<Level> l = push_level(LevelKind::Grad);
    Tensor t = grad_wrap(l.get(), x), y = O::linear(t, w, &b), r;
    pop_level(l.get(), "vjp");
    grad_backward(l.get(), &y, &u, 1, &t, 1, &r);
  });
  report("vjp of tanh(linear) (a W1 row)", [&] {
    Ref<Level> l = push_level(LevelKind::Grad);
    Tensor t = grad_wrap(l.get(), x), y = O::tanh(O::linear(t, w, &b)), r;
    pop_level(l.get(), "vjp");
    grad_backward(l.get(), &y, &u, 1, &t, 1, &r);
  });
}
