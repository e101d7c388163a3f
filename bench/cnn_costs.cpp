// W11's CNN per-sample gradients (vmap(grad(loss))) in the C++ core without Java, for profilers
// (perf, callgrind: the Java library is stripped). The loss as in Workloads.java LOSS11, with the
// cross-entropy as log_softmax times a one-hot target (F.crossEntropy picks with a one-hot mask).
// Prints the mean thread CPU time per call; `cnn_costs N` runs N calls.
// Build after `mvn -B install -DskipTests` (as bench/op_costs.cpp):
//   OB=java/target/openblas/org/bytedeco/openblas/linux-x86_64
//   g++ -O2 -g -std=c++17 -Inative/src bench/cnn_costs.cpp java/target/native/libadjoint_core.a \
//       $OB/libopenblas.so.0 -Wl,-rpath,$OB -lpthread -o bench/target/cnn_costs && OPENBLAS_NUM_THREADS=1 bench/target/cnn_costs
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/random.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;

static double cpu_s() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static Tensor loss(const std::vector<Tensor>& p, const Tensor& x, const Tensor& onehot) {
  const Dims one{1}, pad{1}, none{0};
  Tensor h = O::max_pool2d(O::relu(O::conv2d(O::unsqueeze(x, 0), p[0], &p[1], one, pad, one, 1)), 2, 2);
  h = O::max_pool2d(O::relu(O::conv2d(h, p[2], &p[3], one, pad, one, 1)), 2, 2);
  Tensor z = O::linear(O::reshape(h, Dims{1, -1}), p[4], &p[5]);
  return O::neg(O::sum(O::mul(O::log_softmax(z, -1), onehot), Dims{}, false));
}

static std::vector<Tensor> per_sample_grads(const std::vector<Tensor>& params, const Tensor& xs, const Tensor& hot) {
  Ref<Level> vl = push_level(LevelKind::Batch, xs.size(0));
  Tensor x = batch_wrap(vl.get(), xs, 0), t = batch_wrap(vl.get(), hot, 0);
  Ref<Level> gl = push_level(LevelKind::Grad);
  std::vector<Tensor> wrapped;
  for (const Tensor& p : params) wrapped.push_back(grad_wrap(gl.get(), p));
  Tensor l = loss(wrapped, x, t);
  pop_level(gl.get(), "grad");
  std::vector<Tensor> g = grad_backward(gl.get(), {l}, {O::ones(l.shape(), l.dtype())}, wrapped);
  std::vector<Tensor> out;
  for (const Tensor& gi : g) out.push_back(batch_unwrap(vl.get(), gi, 0));
  pop_level(vl.get(), "vmap");
  return out;
}

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 50;
  const int64_t B = 64;
  Generator gen(0);
  const DType f = DType::Float32;
  std::vector<Tensor> params = {O::randn(gen, Dims{16, 1, 3, 3}, f), O::zeros(Dims{16}, f), O::randn(gen, Dims{32, 16, 3, 3}, f),
                                O::zeros(Dims{32}, f), O::randn(gen, Dims{10, 32 * 7 * 7}, f), O::zeros(Dims{10}, f)};
  Tensor xs = O::randn(gen, Dims{B, 1, 28, 28}, f);
  std::vector<float> hot(size_t(B * 10), 0.f);
  for (int64_t i = 0; i < B; i++) hot[size_t(i * 10 + (7 * i) % 10)] = 1.f;
  Tensor t = Tensor::empty(Dims{B, 1, 10}, f, Device{}, "cnn_costs");
  std::copy(hot.begin(), hot.end(), t.data<float>());
  for (int i = 0; i < 5; i++) per_sample_grads(params, xs, t);
  const double t0 = cpu_s();
  for (int i = 0; i < calls; i++) per_sample_grads(params, xs, t);
  std::printf("W11 vmap(grad) CNN B=64: %.3f ms per call (thread CPU time, %d calls)\n", (cpu_s() - t0) / calls * 1e3, calls);
  return 0;
}
