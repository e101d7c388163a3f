// The W11 convolution layer's parts, timed in the C++ core without Java: the three conv kernels of
// a [64, 16, 28, 28] x [32, 16, 3, 3] pad-1 layer (forward, input gradient, weight gradient: float32
// runs on conv_gemm's AVX-512 kernel where the CPU has it), the per-image column helpers, and the
// same products as OpenBLAS sgemm calls on their own (what the layer reached before conv_gemm),
// against sgemm 1024^3 (the limit). Thread CPU time (so a busy machine's waits do not
// count), best of 7 blocks; GFLOP/s counts 2 m n k per product.
// Build and run after `mvn -B install -DskipTests` (as bench/op_costs.cpp):
//   OB=java/target/openblas/org/bytedeco/openblas/linux-x86_64
//   g++ -O2 -std=c++17 -Inative/src bench/conv_costs.cpp java/target/native/libadjoint_core.a \
//       $OB/libopenblas.so.0 -Wl,-rpath,$OB -lpthread -o bench/target/conv_costs && OPENBLAS_NUM_THREADS=1 bench/target/conv_costs
#include <cblas.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "backends/cpu/conv.h"
#include "backends/kernels.h"
#include "core/random.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;

static double cpu_s() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

template <class F>
double best_of(F f, int calls) {
  f();
  double best = 1e30;
  for (int b = 0; b < 7; b++) {
    double t0 = cpu_s();
    for (int i = 0; i < calls; i++) f();
    best = std::min(best, (cpu_s() - t0) / calls);
  }
  return best;
}

static void line(const char* name, double s, double flops) {
  if (flops > 0) std::printf("%-52s %8.3f ms  %6.1f GFLOP/s\n", name, s * 1e3, flops / s * 1e-9);
  else std::printf("%-52s %8.3f ms\n", name, s * 1e3);
}

static ConvGeom geom(int64_t n, int64_t c, int64_t o, int64_t hw, int64_t groups) {
  ConvGeom g;
  g.n = n, g.c = c, g.o = o, g.groups = groups, g.h = g.w = hw, g.kh = g.kw = 3, g.sh = g.sw = 1, g.ph = g.pw = 1;
  g.dh = g.dw = 1, g.oh = g.ow = hw;
  return g;
}

int main() {
  openblas_set_num_threads(1);
  Generator gen(0);
  const int64_t N = 64, C = 16, OC = 32, HW = 28, K = C * 9, P = HW * HW;
  const double layer = 2.0 * N * OC * K * P;
  Tensor x = O::randn(gen, Dims{N, C, HW, HW}, DType::Float32), w = O::randn(gen, Dims{OC, C, 3, 3}, DType::Float32);
  Tensor u = O::randn(gen, Dims{N, OC, HW, HW}, DType::Float32);
  Tensor y = Tensor::empty(u.shape(), DType::Float32, Device{}, "b"), gx = Tensor::empty(x.shape(), DType::Float32, Device{}, "b");
  Tensor gw = Tensor::empty(w.shape(), DType::Float32, Device{}, "b");
  const ConvGeom g = geom(N, C, OC, HW, 1);
  double tf = best_of([&] { kernels::conv2d.cpu(x, w, g, y); }, 3);
  double ti = best_of([&] { kernels::conv2d_input_grad.cpu(u, w, g, gx); }, 3);
  double tw = best_of([&] { kernels::conv2d_weight_grad.cpu(x, u, g, gw); }, 3);
  std::printf("layer [64,16,28,28] x [32,16,3,3] pad 1, float32, 1 thread\n");
  line("conv2d forward", tf, layer);
  line("conv2d input grad", ti, layer);
  line("conv2d weight grad", tw, layer);
  line("sum of the three", tf + ti + tw, 3 * layer);

  std::vector<float> col(size_t(K * P)), big(size_t(N * K * P)), ys(size_t(N * OC * P)), gws(size_t(OC * K));
  const float* xp = x.data<float>();
  double tc = best_of([&] { for (int64_t n = 0; n < N; n++) cpu::im2col(xp + n * C * P, C, g, col.data()); }, 3);
  double t2 = best_of([&] { for (int64_t n = 0; n < N; n++) cpu::col2im(col.data(), C, g, gx.data<float>() + n * C * P); }, 3);
  line("im2col x 64 images", tc, 0);
  line("col2im x 64 images", t2, 0);
  for (int64_t n = 0; n < N; n++) cpu::im2col(xp + n * C * P, C, g, big.data() + n * K * P);
  const float* wp = w.data<float>();
  const float* up = u.data<float>();
  double gf = best_of([&] {
    for (int64_t n = 0; n < N; n++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, P, K, 1.f, wp, K, big.data() + n * K * P, P, 0.f, ys.data() + n * OC * P, P);
  }, 3);
  double gi = best_of([&] {
    for (int64_t n = 0; n < N; n++)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, OC, 1.f, wp, K, up + n * OC * P, P, 0.f, big.data() + n * K * P, P);
  }, 3);
  double gwt = best_of([&] {
    for (int64_t n = 0; n < N; n++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, K, P, 1.f, up + n * OC * P, P, big.data() + n * K * P, P, n ? 1.f : 0.f, gws.data(), K);
  }, 3);
  line("sgemm fwd  [32x144]x[144x784] x 64", gf, layer);
  // the same product asked for column-major (C^T = B^T A^T): OpenBLAS's sgemm_direct path takes
  // only row-major NN calls with beta 0
  double gfc = best_of([&] {
    for (int64_t n = 0; n < N; n++)
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, P, OC, K, 1.f, big.data() + n * K * P, P, wp, K, 0.f, ys.data() + n * OC * P, P);
  }, 3);
  line("sgemm fwd as column-major x 64", gfc, layer);
  line("sgemm dx   [144x32]x[32x784] x 64", gi, layer);
  line("sgemm dw   [32x784]x[784x144] x 64", gwt, layer);
  // one product over the whole batch: columns of all images side by side [K, N*P]
  std::vector<float> wide(size_t(K * N * P)), ywide(size_t(OC * N * P));
  double g1 = best_of([&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, N * P, K, 1.f, wp, K, wide.data(), N * P, 0.f, ywide.data(), N * P);
  }, 3);
  line("sgemm fwd one call [32x144]x[144x50176]", g1, layer);
  double g2 = best_of([&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, K, N * P, 1.f, ywide.data(), N * P, wide.data(), N * P, 0.f, gws.data(), K);
  }, 3);
  line("sgemm dw one call [32x50176]x[50176x144]", g2, layer);
  double g3 = best_of([&] {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N * P, OC, 1.f, wp, K, ywide.data(), N * P, 0.f, wide.data(), N * P);
  }, 3);
  line("sgemm dx one call [144x32]x[32x50176]", g3, layer);
  // transposed forms (col^T W^T: the output position as the long m)
  double g4 = best_of([&] {
    for (int64_t n = 0; n < N; n++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, P, OC, K, 1.f, big.data() + n * K * P, K, wp, K, 0.f, ys.data() + n * OC * P, OC);
  }, 3);
  line("sgemm fwd rows [784x144]x[144x32] x 64", g4, layer);
  std::vector<float> a(1024 * 1024, 1.f), b(1024 * 1024, 1.f), c(1024 * 1024);
  double gs = best_of([&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1024, 1024, 1024, 1.f, a.data(), 1024, b.data(), 1024, 0.f, c.data(), 1024);
  }, 3);
  line("sgemm 1024^3", gs, 2.0 * 1024 * 1024 * 1024);
  return 0;
}
