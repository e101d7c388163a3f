// The convolution's CPU kernels: the AVX-512 products (nn, and nt as dot products) and transpose
// (backends/cpu/conv_gemm.h)
// against sums in double over every edge case of their tiling (rows not a multiple of 12, columns
// not of 32 or 16, sums longer than a block, leading dims wider than the rows, +=), and the
// float32 convolution kernels (own products where the CPU has AVX-512) against the float64 ones
// (OpenBLAS dgemm) on geometries with strides, padding, dilation, groups and 1x1 kernels, and the
// stride-1 "same width" ones that take the shifted-plane product (conv_gemm.h) or Winograd's
// F(2x2, 3x3) (conv_winograd.h), with non-finite values too; conv2d with its bias against the
// float64 convolution plus the bias.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "backends/cpu/conv_gemm.h"
#include "backends/kernels.h"
#include "check.h"
#include "core/tensor.h"

using namespace adjoint;

namespace {

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

}  // namespace

TEST(own_product_matches_a_double_sum) {
  if (!cpu::conv_gemm_available()) return std::printf("  (no AVX-512: OpenBLAS runs the products)\n"), void();
  std::mt19937 rng(3);
  for (int64_t m : {1, 5, 12, 13, 32, 37})
    for (int64_t n : {1, 7, 16, 17, 32, 33, 70})
      for (int64_t k : {0, 1, 9, 144, 300})
        for (bool acc : {false, true}) {
          const int64_t lda = k + 3, ldb = n + 5, ldc = n + 2;
          const std::vector<float> a = random_floats(size_t(m * lda), rng), b = random_floats(size_t(std::max<int64_t>(k, 1) * ldb), rng);
          std::vector<float> c = random_floats(size_t(m * ldc), rng), c0 = c;
          cpu::conv_sgemm_nn(m, n, k, a.data(), lda, b.data(), ldb, acc, c.data(), ldc);
          bool ok = true;
          for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < ldc; j++) {
              const float got = c[size_t(i * ldc + j)];
              if (j >= n) {  // past the columns: untouched
                ok &= got == c0[size_t(i * ldc + j)];
                continue;
              }
              double want = acc ? c0[size_t(i * ldc + j)] : 0.0;
              for (int64_t p = 0; p < k; p++) want += double(a[size_t(i * lda + p)]) * b[size_t(p * ldb + j)];
              ok &= std::fabs(got - want) <= 1e-5 * (1 + double(k));
            }
          CHECK(ok);
          if (!ok) std::printf("  m %lld n %lld k %lld acc %d\n", (long long)m, (long long)n, (long long)k, int(acc));
        }
}

TEST(own_dot_product_form_matches_a_double_sum) {
  if (!cpu::conv_gemm_available()) return;
  std::mt19937 rng(4);
  for (int64_t m : {1, 2, 3, 16, 17})
    for (int64_t n : {1, 8, 9, 10, 19})
      for (int64_t k : {0, 1, 15, 16, 17, 784})
        for (bool acc : {false, true}) {
          const int64_t lda = k + 3, ldb = k + 1, ldc = n + 2;
          const std::vector<float> a = random_floats(size_t(m * lda), rng), b = random_floats(size_t(n * ldb), rng);
          std::vector<float> c = random_floats(size_t(m * ldc), rng), c0 = c;
          cpu::conv_sgemm_nt(m, n, k, a.data(), lda, b.data(), ldb, acc, c.data(), ldc);
          bool ok = true;
          for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < ldc; j++) {
              const float got = c[size_t(i * ldc + j)];
              if (j >= n) {
                ok &= got == c0[size_t(i * ldc + j)];
                continue;
              }
              double want = acc ? c0[size_t(i * ldc + j)] : 0.0;
              for (int64_t p = 0; p < k; p++) want += double(a[size_t(i * lda + p)]) * b[size_t(j * ldb + p)];
              ok &= std::fabs(got - want) <= 1e-5 * (1 + double(k));
            }
          CHECK(ok);
          if (!ok) std::printf("  nt m %lld n %lld k %lld acc %d\n", (long long)m, (long long)n, (long long)k, int(acc));
        }
}

TEST(own_transpose_is_exact) {
  if (!cpu::conv_gemm_available()) return;
  std::mt19937 rng(5);
  for (int64_t rows : {1, 8, 9, 16, 33})
    for (int64_t cols : {1, 7, 8, 17, 196}) {
      const int64_t lds = cols + 4;
      const std::vector<float> src = random_floats(size_t(rows * lds), rng);
      std::vector<float> dst(size_t(rows * cols), -7.0f);
      cpu::conv_transpose(src.data(), rows, cols, lds, dst.data());
      bool ok = true;
      for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) ok &= dst[size_t(j * rows + i)] == src[size_t(i * lds + j)];
      CHECK(ok);
    }
}

namespace {

Tensor random_tensor(const Dims& shape, DType dt, std::mt19937& rng) {
  Tensor t = Tensor::empty(shape, dt, Device{}, "test");
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int64_t i = 0; i < t.numel(); i++) {
    const double v = u(rng);
    if (dt == DType::Float32) t.data<float>()[i] = float(v);
    else t.data<double>()[i] = double(float(v));  // the same values in both dtypes
  }
  return t;
}

Tensor as_double(const Tensor& t) {
  Tensor d = Tensor::empty(t.shape(), DType::Float64, Device{}, "test");
  for (int64_t i = 0; i < t.numel(); i++) d.data<double>()[i] = t.data<float>()[i];
  return d;
}

bool close(const Tensor& f, const Tensor& d, double tol) {
  for (int64_t i = 0; i < f.numel(); i++)
    if (!(std::fabs(double(f.data<float>()[i]) - d.data<double>()[i]) <= tol)) return false;
  return true;
}

}  // namespace

TEST(float32_convolution_kernels_match_float64) {
  std::mt19937 rng(11);
  struct Case {
    int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  };
  const Case cases[] = {
      {3, 16, 28, 28, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1},  // W11's layer, smaller batch
      {2, 1, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1},   // a first layer: 9 taps
      {1, 128, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 4}, // groups, 32 channels each
      {2, 5, 9, 11, 7, 3, 2, 2, 1, 1, 0, 1, 2, 1},     // strides, uneven padding, dilation
      {2, 6, 7, 5, 9, 1, 1, 1, 1, 0, 0, 1, 1, 3},      // 1x1, groups
      {1, 40, 6, 6, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1},    // 360 taps: more than one block of the sum
      // the shifted-plane product's cases (stride 1, output as wide as the input; the weight
      // gradient's padded planes from 32 taps on)
      {2, 6, 10, 12, 5, 3, 3, 1, 1, 0, 1, 1, 1, 1},    // no row padding: fewer output rows than input rows
      {1, 8, 9, 9, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2},      // dilation 2, padding 2, groups
      {2, 4, 3, 3, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1},      // an image smaller than one block of 32 positions
      {1, 3, 8, 7, 4, 5, 5, 1, 1, 2, 2, 1, 1, 1},      // 5x5
      {1, 4, 5, 6, 3, 3, 3, 1, 1, 3, 1, 1, 1, 1},      // more row padding than the kernel spans: input grad by columns
      {1, 12, 7, 9, 4, 3, 1, 1, 1, 1, 0, 1, 1, 1},     // 3x1
      {2, 2, 6, 7, 5, 1, 3, 1, 1, 0, 1, 1, 1, 1},      // 1x3, 6 taps (forward and input gradient in place)
  };
  for (const Case& k : cases) {
    ConvGeom g;
    g.n = k.n, g.c = k.c, g.h = k.h, g.w = k.w, g.o = k.o, g.kh = k.kh, g.kw = k.kw, g.sh = k.sh, g.sw = k.sw, g.ph = k.ph, g.pw = k.pw;
    g.dh = k.dh, g.dw = k.dw, g.groups = k.groups;
    g.oh = (g.h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1, g.ow = (g.w + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1;
    const Dims xs{g.n, g.c, g.h, g.w}, ws{g.o, g.c / g.groups, g.kh, g.kw}, ys{g.n, g.o, g.oh, g.ow};
    Tensor x = random_tensor(xs, DType::Float32, rng), w = random_tensor(ws, DType::Float32, rng), gy = random_tensor(ys, DType::Float32, rng);
    Tensor xd = as_double(x), wd = as_double(w), gyd = as_double(gy);
    const double tol = 1e-5 * double(g.c / g.groups * g.kh * g.kw + g.o + g.n * g.oh * g.ow);
    Tensor y = Tensor::empty(ys, DType::Float32, Device{}, "t"), yd = Tensor::empty(ys, DType::Float64, Device{}, "t");
    kernels::conv2d.cpu(x, w, g, y);
    kernels::conv2d.cpu(xd, wd, g, yd);
    CHECK(close(y, yd, tol));
    // with the bias added as each image is made: y + b per output channel
    Tensor b = random_tensor(Dims{g.o}, DType::Float32, rng), yb = Tensor::empty(ys, DType::Float32, Device{}, "t");
    kernels::conv2d_bias.cpu(x, w, b, g, yb);
    bool bias_ok = true;
    for (int64_t i = 0; i < yb.numel(); i++)
      bias_ok &= std::fabs(double(yb.data<float>()[i]) - (yd.data<double>()[i] + b.data<float>()[(i / (g.oh * g.ow)) % g.o])) <= tol;
    CHECK(bias_ok);
    Tensor gx = Tensor::empty(xs, DType::Float32, Device{}, "t"), gxd = Tensor::empty(xs, DType::Float64, Device{}, "t");
    kernels::conv2d_input_grad.cpu(gy, w, g, gx);
    kernels::conv2d_input_grad.cpu(gyd, wd, g, gxd);
    CHECK(close(gx, gxd, tol));
    Tensor gw = Tensor::empty(ws, DType::Float32, Device{}, "t"), gwd = Tensor::empty(ws, DType::Float64, Device{}, "t");
    kernels::conv2d_weight_grad.cpu(x, gy, g, gw);
    kernels::conv2d_weight_grad.cpu(xd, gyd, g, gwd);
    CHECK(close(gw, gwd, tol));
  }
}

// The three kernels of one geometry in x's dtype: the forward (with bias b when given), the input
// gradient and the weight gradient of gy.
struct ConvOutputs {
  Tensor y, gx, gw;
};
static ConvOutputs run_kernels(const ConvGeom& g, const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& gy) {
  ConvOutputs r{Tensor::empty(gy.shape(), x.dtype(), Device{}, "t"), Tensor::empty(x.shape(), x.dtype(), Device{}, "t"),
                Tensor::empty(w.shape(), x.dtype(), Device{}, "t")};
  if (b) kernels::conv2d_bias.cpu(x, w, *b, g, r.y);
  else kernels::conv2d.cpu(x, w, g, r.y);
  kernels::conv2d_input_grad.cpu(gy, w, g, r.gx);
  kernels::conv2d_weight_grad.cpu(x, gy, g, r.gw);
  return r;
}

// Every float32 kernel of one geometry (forward with bias, input and weight gradient) against
// float64 on random values; prints the geometry where one differs.
static bool matches_float64(const ConvGeom& g, std::mt19937& rng) {
  const Dims xs{g.n, g.c, g.h, g.w}, ws{g.o, g.c / g.groups, g.kh, g.kw}, ys{g.n, g.o, g.oh, g.ow};
  Tensor x = random_tensor(xs, DType::Float32, rng), w = random_tensor(ws, DType::Float32, rng), gy = random_tensor(ys, DType::Float32, rng);
  Tensor b = random_tensor(Dims{g.o}, DType::Float32, rng), bd = as_double(b);
  const double tol = 1e-5 * double(g.c / g.groups * g.kh * g.kw + g.o + g.n * g.oh * g.ow);
  const ConvOutputs f = run_kernels(g, x, w, &b, gy), d = run_kernels(g, as_double(x), as_double(w), &bd, as_double(gy));
  const bool ok = close(f.y, d.y, tol) && close(f.gx, d.gx, tol) && close(f.gw, d.gw, tol);
  if (!ok)
    std::printf("  n %lld c %lld o %lld groups %lld h %lld w %lld k %lldx%lld dil %lldx%lld pad %lldx%lld\n", (long long)g.n,
                (long long)g.c, (long long)g.o, (long long)g.groups, (long long)g.h, (long long)g.w, (long long)g.kh, (long long)g.kw,
                (long long)g.dh, (long long)g.dw, (long long)g.ph, (long long)g.pw);
  return ok;
}

// Random stride-1 convolutions as wide as their input (the in-place products' domain, and around
// it: 1-wide images, more row padding than the kernel spans, 1xk and kx1 kernels, dilation,
// groups), float32 against float64, every kernel.
TEST(random_same_width_convolutions_match_float64) {
  std::mt19937 rng(21);
  auto pick = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  int ran = 0;
  while (ran < 300) {
    ConvGeom g;
    g.groups = pick(1, 3), g.n = pick(1, 3), g.kh = pick(1, 5), g.kw = pick(1, 5), g.dh = pick(1, 2), g.dw = pick(1, 2);
    if (g.dw * (g.kw - 1) % 2 != 0) continue;  // same width needs 2 pw = dw (kw - 1)
    g.c = g.groups * pick(1, 12), g.o = g.groups * pick(1, 10), g.h = pick(1, 40), g.w = pick(1, 40);
    g.sh = g.sw = 1, g.pw = g.dw * (g.kw - 1) / 2, g.ph = pick(0, int(g.dh * (g.kh - 1)) + 1);
    g.oh = g.h + 2 * g.ph - g.dh * (g.kh - 1), g.ow = g.w;
    if (g.oh < 1) continue;
    ran++;
    CHECK(matches_float64(g, rng));
  }
}

// Random 3x3 pad-1 convolutions of 8 to 40 channels in and out (in and around Winograd's domain
// on AVX-512: conv_winograd.h): channel counts not a multiple of 16, odd heights, 2-wide images,
// images of more than one block of tiles, groups.
TEST(random_winograd_convolutions_match_float64) {
  std::mt19937 rng(33);
  auto pick = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  for (int ran = 0; ran < 150; ran++) {
    ConvGeom g;
    g.groups = pick(1, 2), g.n = pick(1, 3), g.kh = g.kw = 3, g.dh = g.dw = 1, g.sh = g.sw = 1, g.ph = g.pw = 1;
    g.c = g.groups * pick(8, 40), g.o = g.groups * pick(8, 40), g.h = pick(1, 33), g.w = 2 * pick(1, 18);
    g.oh = g.h, g.ow = g.w;
    CHECK(matches_float64(g, rng));
  }
}

// An infinite input reaches the weight gradient only through the taps that see it, as with the
// column matrix: the padded-plane form must not multiply it by a position outside the output.
TEST(weight_gradient_of_an_infinite_input_is_nonfinite_where_the_columns_say) {
  std::mt19937 rng(12);
  ConvGeom g;
  g.n = 2, g.c = 4, g.h = 6, g.w = 7, g.o = 3, g.kh = g.kw = 3, g.sh = g.sw = 1, g.ph = g.pw = 1, g.dh = g.dw = 1, g.groups = 1;
  g.oh = 6, g.ow = 7;
  const Dims xs{g.n, g.c, g.h, g.w}, ws{g.o, g.c, 3, 3}, ys{g.n, g.o, g.oh, g.ow};
  for (int64_t at : {int64_t(0), int64_t(6), int64_t(7 * 3), int64_t(7 * 6 - 1)}) {  // corners and edges of channel 0
    Tensor x = random_tensor(xs, DType::Float32, rng), gy = random_tensor(ys, DType::Float32, rng);
    x.data<float>()[at] = INFINITY;
    Tensor xd = as_double(x), gyd = as_double(gy);
    Tensor gw = Tensor::empty(ws, DType::Float32, Device{}, "t"), gwd = Tensor::empty(ws, DType::Float64, Device{}, "t");
    kernels::conv2d_weight_grad.cpu(x, gy, g, gw);
    kernels::conv2d_weight_grad.cpu(xd, gyd, g, gwd);
    bool same = true;
    for (int64_t i = 0; i < gw.numel(); i++) {
      const double a = gw.data<float>()[i], b = gwd.data<double>()[i];
      same &= std::isfinite(a) == std::isfinite(b) && std::isnan(a) == std::isnan(b);
    }
    CHECK(same);
  }
}

int main() { return check::run_all(); }

// Winograd's transforms take differences of inputs, so an infinite input there would make NaN
// where the direct sums give +-Inf: a non-finite input, output gradient or weight sends the whole
// call to the direct products (conv_winograd.h's NOTE). Every kernel of a Winograd geometry with
// one Inf (or NaN) against float64: the same infinities with the same signs, NaN where it has NaN.
TEST(winograd_convolutions_with_a_nonfinite_value_give_the_direct_sums) {
  std::mt19937 rng(14);
  ConvGeom g;
  g.n = 2, g.c = 16, g.h = 6, g.w = 8, g.o = 32, g.kh = g.kw = 3, g.sh = g.sw = 1, g.ph = g.pw = 1, g.dh = g.dw = 1, g.groups = 1;
  g.oh = 6, g.ow = 8;
  const Dims xs{g.n, g.c, g.h, g.w}, ws{g.o, g.c, 3, 3}, ys{g.n, g.o, g.oh, g.ow};
  auto same = [](const Tensor& f, const Tensor& d) {
    bool ok = true;
    for (int64_t i = 0; i < f.numel(); i++) {
      const double a = f.data<float>()[i], b = d.data<double>()[i];
      ok &= std::isnan(b) ? std::isnan(a) : std::isinf(b) ? a == b : std::fabs(a - b) <= 1e-3;
    }
    return ok;
  };
  const float bad[] = {INFINITY, -INFINITY, NAN};
  for (int where = 0; where < 3; where++)  // in x, in gy, in w
    for (int64_t at : {int64_t(0), int64_t(8 * 2 + 3), int64_t(8 * 6 - 1)})
      for (float v : bad) {
        Tensor x = random_tensor(xs, DType::Float32, rng), w = random_tensor(ws, DType::Float32, rng), gy = random_tensor(ys, DType::Float32, rng);
        (where == 0 ? x : where == 1 ? gy : w).data<float>()[at] = v;
        const ConvOutputs f = run_kernels(g, x, w, nullptr, gy), d = run_kernels(g, as_double(x), as_double(w), nullptr, as_double(gy));
        CHECK(same(f.y, d.y));
        CHECK(same(f.gx, d.gx));
        CHECK(same(f.gw, d.gw));
      }
}
