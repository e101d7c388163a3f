// CPU convolution: each image's columns (im2col) times the weight by OpenBLAS gemm, group by
// group; the input gradient is the weight's transpose times g put back by col2im, the weight
// gradient g times the columns summed over the images. In float32 on AVX-512 the products run on
// conv_gemm's kernels, and stride-1 convolutions as wide as their input write no columns at all:
// the forward and the input gradient read the planes shifted in place, the weight gradient a
// zero-padded copy (conv_gemm.h's NOTE); 3x3 pad-1 ones with enough channels run Winograd's
// F(2x2, 3x3) (conv_winograd.h). (Max pooling: max_pool.cpp.)
#include "backends/cpu/conv.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "backends/cpu/conv_gemm.h"
#include "backends/cpu/conv_winograd.h"
#include "backends/cpu/cpu_backend.h"
#include "core/error.h"

namespace adjoint::cpu {
namespace {

// NOTE: a convolution's products are many small gemms (one per image and group: 16 x 784 x 9 for a
// first layer), below the size where OpenBLAS's threads pay; and the comparison that matters is
// against one thread. They run on the calling thread.
struct OneBlasThread {
  int prev;
  OneBlasThread() : prev(openblas_set_num_threads_local(1)) {}
  ~OneBlasThread() { openblas_set_num_threads_local(prev); }
};

// Whether conv_gemm's AVX-512 kernels run here (float32 on a CPU that has them).
template <class T>
bool own_kernels() {
  return std::is_same<T, float>::value && conv_gemm_available();
}

// NOTE: a convolution's float32 products run on conv_gemm's kernel (no packing of the operands:
// see conv_gemm.h) where it is the faster: measured against OpenBLAS 0.3.31 on this project's
// AVX-512 machine, 1.1-2.5x faster per image and group up to og x P x K = 2^25 multiply-adds
// (W11's layer: 32 x 784 x 144 = 3.6M, 188 vs 106 GFLOP/s), slower from about 2^26 on (64 x 3136
// x 576: 90 vs 109; 256 x 784 x 1152: 143 vs 157), where OpenBLAS's packing pays for itself. All
// three products have the same count, so one convolution takes one path for all three; all in the
// form C = A B: the input gradient's w^T g with each group's weight transposed once, the weight
// gradient as its transpose col g^T (conv_weight_grad).
template <class T>
bool own_products(const ConvGeom& g) {
  const double macs = double(g.o / g.groups) * double(g.oh * g.ow) * double(g.c / g.groups * g.kh * g.kw);
  return own_kernels<T>() && macs <= double(int64_t(1) << 25);
}

// dst [cols, rows] = src [rows, cols]^T (dense).
template <class T>
void transpose(const T* src, int64_t rows, int64_t cols, T* dst) {
  if constexpr (std::is_same<T, float>::value)
    if (own_kernels<T>()) return conv_transpose(src, rows, cols, cols, dst);
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) dst[j * rows + i] = src[i * cols + j];
}

// C = op(A) op(B) (beta 0) or C += (beta 1); `own`: conv_gemm's kernel (float32, nn only).
template <class T>
void gemm(bool own, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  if constexpr (std::is_same<T, float>::value) {
    if (own && ta == CblasNoTrans && tb == CblasNoTrans) return conv_sgemm_nn(m, n, k, a, lda, b, ldb, beta != 0, c, ldc);
  }
  if constexpr (std::is_same<T, float>::value)
    cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0f, a, int(lda), b, int(ldb), beta, c, int(ldc));
  else
    cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

// The output columns [lo, hi) whose input column ox * s + off lies inside [0, size).
void valid_range(int64_t off, int64_t s, int64_t size, int64_t out, int64_t* lo, int64_t* hi) {
  *lo = off >= 0 ? 0 : (-off + s - 1) / s;
  *hi = size - off - 1 >= 0 ? (size - off - 1) / s + 1 : 0;
  *lo = std::min(*lo, out);
  *hi = std::max(*lo, std::min(*hi, out));
}

// A 1x1 kernel with unit stride and no padding: the image itself is its column matrix.
bool pointwise(const ConvGeom& g) { return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0; }

Tensor scratch(int64_t n, DType dt, const char* op) { return Tensor::empty(Dims{n}, dt, Device{}, op); }

// The sizes of one group's products: cg input and og output channels per group, K taps per
// output (cg kh kw), P output positions (oh ow).
struct GroupSizes {
  int64_t cg, og, K, P;
};

// NOTE: BLAS takes int sizes: each gemm's m, n, k (and so its leading dims) must fit, else the
// call is refused rather than truncated. Only absurd geometries reach this (a 46341 x 46341 image
// plane, or a kernel of 2^31 taps).
GroupSizes blas_sizes(const ConvGeom& g, const char* op) {
  const int64_t cg = g.c / g.groups, og = g.o / g.groups, K = cg * g.kh * g.kw, P = g.oh * g.ow, lim = std::numeric_limits<int>::max();
  ADJ_CHECK(K <= lim && P <= lim && og <= lim, ErrorKind::Unsupported, op,
            "convolution too large for BLAS (int sizes): " << K << " taps per output, " << P << " output positions, " << og
                                                            << " output channels per group");
  return {cg, og, K, P};
}

// NOTE: with unit strides and an output as wide as the input ("same" width: 2 pw = dw (kw - 1)),
// the valid part of a column row is the input plane itself, shifted by one offset: row[j] =
// x[j + shift] for j = oy * w + ox. The shifted-plane products read it there; im2col (below) makes
// one copy of the whole range instead of a copy per output row (28 floats each for a 28x28 image)
// and then zeroes only the columns that read the padding (which the shifted copy filled with the
// neighbouring rows' ends).
bool shifted_planes(const ConvGeom& g) { return g.sh == 1 && g.sw == 1 && g.ow == g.w; }

// The own kernels' shifted-plane product reads the input planes in place (conv_gemm.h's NOTE):
// for stride-1 convolutions as wide as their input, except 1x1 ones (already direct). (The weight
// gradient takes it from 32 taps per output on: below, the dot-product form.)
template <class T>
bool shifted_product(const ConvGeom& g) {
  return own_products<T>(g) && shifted_planes(g) && !pointwise(g);
}

// Winograd F(2x2, 3x3) (conv_winograd.h): 3x3 kernels, stride 1, no dilation, padding 1, an even
// width.
bool winograd_geom(const ConvGeom& g) {
  return winograd_available() && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.ph == 1 &&
         g.pw == 1 && g.oh == g.h && g.ow == g.w && g.w % 2 == 0 && std::max(g.c, g.o) < (int64_t(1) << 23);  // int32 gathers: 15 x 9 c
}

// NOTE: where Winograd runs instead of the direct products, from timings of both on this
// project's AVX-512 machine (one thread, 2026-12-08; bench/RESULTS.md, "W11 with Winograd"): the forward and
// the input gradient (a convolution from cin to cout channels) gain 10-60% from 16 x 32 channels
// up and lose below (8 x 8: 3x slower, the channels padded to 16 lanes), and lose where the
// weight's 16 transformed copies (64 cin cout bytes) outgrow L2 on images of few 2x2 blocks (256 x
// 256 channels on 8x8 images: 20% slower, 512 x 512: 5x). The weight gradient gains from 12 input
// channels up (2x at 16 x 32) and tolerates larger weights (its products run once per image).
bool winograd_conv(const ConvGeom& g, int64_t cin, int64_t cout) {
  const int64_t blocks = (g.h + 1) / 2 * (g.w / 2);
  return winograd_geom(g) && cin >= 16 && cout >= 16 && cin * cout >= 400 && (cin * cout <= 8192 || blocks >= 48);
}

bool winograd_weight_grad(const ConvGeom& g, int64_t cg, int64_t og) {
  const int64_t blocks = (g.h + 1) / 2 * (g.w / 2);
  return winograd_geom(g) && cg >= 12 && og >= 8 && (cg * og <= 65536 || blocks >= 48);
}

// The shifted planes of a convolution's taps (ki, kj): input row oy + ki dh - ph, column ox + kj dw - pw.
ShiftedPlanes forward_planes(const ConvGeom& g, int64_t cg) {
  const int taps = int(g.kh * g.kw);
  std::vector<int64_t> dy(static_cast<size_t>(taps)), dx(static_cast<size_t>(taps));
  for (int64_t ki = 0; ki < g.kh; ki++)
    for (int64_t kj = 0; kj < g.kw; kj++) dy[size_t(ki * g.kw + kj)] = ki * g.dh - g.ph, dx[size_t(ki * g.kw + kj)] = kj * g.dw - g.pw;
  return ShiftedPlanes(cg, g.h, g.w, g.oh, dy.data(), dx.data(), taps);
}

// rows [0, m) of c (P apart) += bias[row]: right after the product wrote them (in cache)
template <class T>
void add_bias_rows(T* c, int64_t m, int64_t P, const T* bias) {
  if constexpr (std::is_same<T, float>::value)
    if (own_kernels<T>()) return conv_add_rows(c, m, P, bias);
  for (int64_t r = 0; r < m; r++)
    for (int64_t j = 0; j < P; j++) c[r * P + j] += bias[r];
}

// y = conv2d(x, w) (+ bias [o], when not null).
template <class T>
void conv_forward(const Tensor& x, const Tensor& wt, const ConvGeom& g, const Tensor& out, const T* bias) {
  const auto [cg, og, K, P] = blas_sizes(g, "conv2d");
  T* y = out.data<T>();
  if (out.numel() == 0) return;
  if (K == 0) {
    std::fill(y, y + out.numel(), T(0));
    if (bias)
      for (int64_t n = 0; n < g.n; n++) add_bias_rows(y + n * g.o * P, g.o, P, bias);
    return;
  }
  if constexpr (std::is_same<T, float>::value)
    if (winograd_conv(g, cg, og)) {
      WinogradF2x3 wg(cg, og, g.h, g.w);
      for (int64_t gi = 0; gi < g.groups; gi++) {
        wg.set_weight(wt.data<T>() + gi * og * K, K, g.kh * g.kw, g.kw, 1);
        for (int64_t n = 0; n < g.n; n++)
          wg.image(x.data<T>() + (n * g.c + gi * cg) * g.h * g.w, bias ? bias + gi * og : nullptr, y + (n * g.o + gi * og) * P);
      }
      if (wg.finite()) return;  // else the direct products below redo it (conv_winograd.h's NOTE)
    }
  if constexpr (std::is_same<T, float>::value)
    if (shifted_product<T>(g)) {
      const ShiftedPlanes sp = forward_planes(g, cg);
      for (int64_t n = 0; n < g.n; n++)
        for (int64_t gi = 0; gi < g.groups; gi++) {
          T* yi = y + (n * g.o + gi * og) * P;
          sp.product(og, wt.data<T>() + gi * og * K, K, x.data<T>() + (n * g.c + gi * cg) * g.h * g.w, yi);
          if (bias) add_bias_rows(yi, og, P, bias + gi * og);
        }
      return;
    }
  const bool direct = pointwise(g);
  Tensor buf = direct ? Tensor() : scratch(K * P, out.dtype(), "conv2d");
  T* col = direct ? nullptr : buf.data<T>();
  const bool own = own_products<T>(g);
  OneBlasThread one;
  for (int64_t n = 0; n < g.n; n++)
    for (int64_t gi = 0; gi < g.groups; gi++) {
      const T* xi = x.data<T>() + (n * g.c + gi * cg) * g.h * g.w;
      if (!direct) im2col(xi, cg, g, col);
      T* yi = y + (n * g.o + gi * og) * P;
      gemm<T>(own, CblasNoTrans, CblasNoTrans, og, P, K, wt.data<T>() + gi * og * K, K, direct ? xi : col, P, T(0), yi, P);
      if (bias) add_bias_rows(yi, og, P, bias + gi * og);
    }
}

// NOTE: a stride-1 convolution's input gradient is itself a convolution, of g by the weight with
// in and out channels swapped and taps reversed, padded dh (kh - 1) - ph (and likewise in width):
// gx[ci, y, x] = sum w[oi, ci, ki, kj] g[oi, y + ph - ki dh, x + pw - kj dw]. As wide as its input
// (as the forward), it runs as the shifted-plane product over g's planes, without the column
// matrix, col2im and the zeroing of gx. It needs that padding to be non-negative.
bool shifted_input_grad(const ConvGeom& g) { return g.ph <= g.dh * (g.kh - 1) && g.pw <= g.dw * (g.kw - 1); }

// NOTE: that convolution multiplies g's zero padding by the weight, where the input gradient's
// sum has no such terms: with an infinite weight 0 * Inf = NaN would replace the sum's +-Inf, so a
// non-finite weight takes the column path (whose col2im drops the padding's entries).
bool finite_values(const float* p, int64_t n) {
  bool ok = true;
  for (int64_t i = 0; i < n; i++) ok &= std::isfinite(p[i]);
  return ok;
}

// gx of one convolution as that forward: the reversed weight of each group [cg, og * kh * kw].
void input_grad_shifted(const float* gy, const float* w, const ConvGeom& g, int64_t cg, int64_t og, int64_t K, int64_t P, float* gx) {
  const int64_t taps = g.kh * g.kw, Kr = og * taps;
  Tensor wr_buf = scratch(g.groups * cg * Kr, DType::Float32, "conv2d_input_grad");
  float* wr = wr_buf.data<float>();
  for (int64_t gi = 0; gi < g.groups; gi++)
    for (int64_t oi = 0; oi < og; oi++)
      for (int64_t ci = 0; ci < cg; ci++)
        for (int64_t t = 0; t < taps; t++) wr[(gi * cg + ci) * Kr + oi * taps + t] = w[(gi * og + oi) * K + ci * taps + (taps - 1 - t)];
  std::vector<int64_t> dy(static_cast<size_t>(taps)), dx(static_cast<size_t>(taps));
  const int64_t ph = g.dh * (g.kh - 1) - g.ph, pw = g.dw * (g.kw - 1) - g.pw;
  for (int64_t i = 0; i < g.kh; i++)
    for (int64_t j = 0; j < g.kw; j++) dy[size_t(i * g.kw + j)] = i * g.dh - ph, dx[size_t(i * g.kw + j)] = j * g.dw - pw;
  const ShiftedPlanes sp(og, g.oh, g.ow, g.h, dy.data(), dx.data(), int(taps));
  for (int64_t n = 0; n < g.n; n++)
    for (int64_t gi = 0; gi < g.groups; gi++)
      sp.product(cg, wr + gi * cg * Kr, Kr, gy + (n * g.o + gi * og) * P, gx + (n * g.c + gi * cg) * g.h * g.w);
}

template <class T>
void conv_input_grad(const Tensor& gy, const Tensor& wt, const ConvGeom& g, const Tensor& out) {
  const auto [cg, og, K, P] = blas_sizes(g, "conv2d_input_grad");
  T* gx = out.data<T>();
  if (out.numel() == 0) return;
  if constexpr (std::is_same<T, float>::value)
    if (winograd_conv(g, og, cg) && P > 0) {
      // the forward's weight [og, cg, 3, 3] read as [cg, og, 3, 3] with its taps reversed
      WinogradF2x3 wg(og, cg, g.h, g.w);
      for (int64_t gi = 0; gi < g.groups; gi++) {
        wg.set_weight(wt.data<T>() + gi * og * K + 8, 9, K, -3, -1);
        for (int64_t n = 0; n < g.n; n++)
          wg.image(gy.data<T>() + (n * g.o + gi * og) * P, nullptr, gx + (n * g.c + gi * cg) * g.h * g.w);
      }
      if (wg.finite()) return;  // else the direct products below redo it (conv_winograd.h's NOTE)
    }
  if constexpr (std::is_same<T, float>::value)
    if (shifted_product<T>(g) && shifted_input_grad(g) && og > 0 && P > 0 && finite_values(wt.data<float>(), wt.numel()))
      return input_grad_shifted(gy.data<float>(), wt.data<float>(), g, cg, og, K, P, gx);
  const bool direct = pointwise(g);
  if (!direct || og == 0) std::fill(gx, gx + out.numel(), T(0));
  if (og == 0 || P == 0) return;
  Tensor buf = direct ? Tensor() : scratch(K * P, out.dtype(), "conv2d_input_grad");
  T* col = direct ? nullptr : buf.data<T>();
  // own kernels: w^T g as nn with each group's weight [og, K] transposed to [K, og] once
  const bool nn = own_products<T>(g);
  Tensor wt_t = nn ? scratch(g.o * K, out.dtype(), "conv2d_input_grad") : Tensor();
  if (nn)
    for (int64_t gi = 0; gi < g.groups; gi++) transpose(wt.data<T>() + gi * og * K, og, K, wt_t.data<T>() + gi * og * K);
  OneBlasThread one;
  for (int64_t n = 0; n < g.n; n++)
    for (int64_t gi = 0; gi < g.groups; gi++) {
      T* xi = gx + (n * g.c + gi * cg) * g.h * g.w;
      const T* gyi = gy.data<T>() + (n * g.o + gi * og) * P;
      if (nn) gemm<T>(true, CblasNoTrans, CblasNoTrans, K, P, og, wt_t.data<T>() + gi * og * K, og, gyi, P, T(0), direct ? xi : col, P);
      else gemm<T>(false, CblasTrans, CblasNoTrans, K, P, og, wt.data<T>() + gi * og * K, K, gyi, P, T(0), direct ? xi : col, P);
      if (!direct) col2im(col, cg, g, xi);
    }
}

// NOTE: the own kernels' weight gradient of a stride-1 convolution as wide as its input reads each
// tap's row of the column matrix in place from a zero-padded copy of the image: rows of iw values
// after pw zeros, S = iw + pw apart, below ph zero rows (a row's left padding is the right padding
// of the row before it: a tap reads at most pw past either end, as 2 pw = dw (kw - 1)). Tap
// (ki, kj) at output (oy, ox) is copy[(oy + ki dh) S + ox + kj dw]. Only output positions are
// summed (conv_sgemm_grid), so every product is one im2col's would have made (no 0 * Inf from
// positions outside the output); the copy is 1 / (kh kw) of the columns' size.
void weight_grad_planes(const float* x, const float* gy, const ConvGeom& g, int64_t cg, int64_t og, int64_t K, int64_t P, float* gw) {
  const int64_t S = g.w + g.pw, plane = (g.oh + g.dh * (g.kh - 1)) * S + 2 * g.pw;
  Tensor buf = scratch(cg * plane + P * og + K * og, DType::Float32, "conv2d_weight_grad");
  float *pad = buf.data<float>(), *gt = pad + cg * plane, *acc = gt + P * og;
  std::fill(pad, pad + cg * plane, 0.0f);  // the padding stays zero: only the rows of values are rewritten
  std::vector<const float*> rows(static_cast<size_t>(K));
  for (int64_t c = 0; c < cg; c++)
    for (int64_t ki = 0; ki < g.kh; ki++)
      for (int64_t kj = 0; kj < g.kw; kj++) rows[size_t((c * g.kh + ki) * g.kw + kj)] = pad + c * plane + ki * g.dh * S + kj * g.dw;
  for (int64_t gi = 0; gi < g.groups; gi++) {
    for (int64_t n = 0; n < g.n; n++) {
      const float* xi = x + (n * g.c + gi * cg) * g.h * g.w;
      for (int64_t c = 0; c < cg; c++)
        for (int64_t y = 0; y < g.h; y++)
          std::memcpy(pad + c * plane + (y + g.ph) * S + g.pw, xi + (c * g.h + y) * g.w, size_t(g.w) * sizeof(float));
      conv_transpose(gy + (n * g.o + gi * og) * P, og, P, P, gt);
      conv_sgemm_grid(K, og, g.oh, g.ow, S, rows.data(), gt, og, n > 0, acc, og);
    }
    conv_transpose(acc, K, og, og, gw + gi * og * K);
  }
}

template <class T>
void conv_weight_grad(const Tensor& x, const Tensor& gy, const ConvGeom& g, const Tensor& out) {
  const auto [cg, og, K, P] = blas_sizes(g, "conv2d_weight_grad");
  T* gw = out.data<T>();
  if (out.numel() == 0) return;
  if (g.n == 0 || P == 0) return (void)std::fill(gw, gw + out.numel(), T(0));
  // NOTE: a first layer's 9 taps: the dot-product form below took 0.124 ms for W11's, the padded
  // planes 0.241 (their 32-wide tiles mostly empty), while its forward is faster in place (0.100
  // vs 0.116 ms with im2col).
  if constexpr (std::is_same<T, float>::value)
    if (winograd_weight_grad(g, cg, og)) {
      WinogradF2x3 wg(cg, og, g.h, g.w);
      for (int64_t gi = 0; gi < g.groups; gi++) {
        for (int64_t n = 0; n < g.n; n++)
          wg.weight_grad_image(x.data<T>() + (n * g.c + gi * cg) * g.h * g.w, gy.data<T>() + (n * g.o + gi * og) * P, n > 0);
        wg.weight_grad_end(gw + gi * og * K);
      }
      if (wg.finite()) return;  // else the direct products below redo it (conv_winograd.h's NOTE)
    }
  if constexpr (std::is_same<T, float>::value)
    if (shifted_product<T>(g) && K >= 32)
      return weight_grad_planes(x.data<float>(), gy.data<float>(), g, cg, og, K, P, gw);
  const bool direct = pointwise(g);
  Tensor buf = direct ? Tensor() : scratch(K * P, out.dtype(), "conv2d_weight_grad");
  T* col = direct ? nullptr : buf.data<T>();
  if constexpr (std::is_same<T, float>::value)
    if (own_products<T>(g) && K < 32) {
      // few taps (a first layer's 9): gw [og, K] as dot products of g's rows with the columns'
      // rows (nt), no transposes; nn's 32-wide tiles would be mostly empty
      for (int64_t gi = 0; gi < g.groups; gi++)
        for (int64_t n = 0; n < g.n; n++) {
          const T* xi = x.data<T>() + (n * g.c + gi * cg) * g.h * g.w;
          if (!direct) im2col(xi, cg, g, col);
          conv_sgemm_nt(og, K, P, gy.data<T>() + (n * g.o + gi * og) * P, P, direct ? xi : col, P, n > 0, gw + gi * og * K, K);
        }
      return;
    }
  if (own_products<T>(g)) {
    // NOTE: the own kernels' weight gradient is its transpose gw^T [K, og] = col [K, P] g^T [P, og]
    // (nn, with g's image transposed first, small and in L2): the dot-product form (nt) of the
    // same sums measured at half the speed. gw is the transpose of the sum, taken at the end.
    Tensor tb = scratch(P * og + K * og, out.dtype(), "conv2d_weight_grad");
    T *gt = tb.data<T>(), *acc = gt + P * og;
    for (int64_t gi = 0; gi < g.groups; gi++) {
      for (int64_t n = 0; n < g.n; n++) {
        const T* xi = x.data<T>() + (n * g.c + gi * cg) * g.h * g.w;
        if (!direct) im2col(xi, cg, g, col);
        const T* gyi = gy.data<T>() + (n * g.o + gi * og) * P;
        transpose(gyi, og, P, gt);
        gemm<T>(true, CblasNoTrans, CblasNoTrans, K, og, P, direct ? xi : col, P, gt, og, n == 0 ? T(0) : T(1), acc, og);
      }
      transpose(acc, K, og, gw + gi * og * K);
    }
    return;
  }
  OneBlasThread one;
  for (int64_t gi = 0; gi < g.groups; gi++)
    for (int64_t n = 0; n < g.n; n++) {
      const T* xi = x.data<T>() + (n * g.c + gi * cg) * g.h * g.w;
      if (!direct) im2col(xi, cg, g, col);
      gemm<T>(false, CblasNoTrans, CblasTrans, og, K, P, gy.data<T>() + (n * g.o + gi * og) * P, P, direct ? xi : col, P,
              n == 0 ? T(0) : T(1), gw + gi * og * K, K);
    }
}

}  // namespace

// Sets the few elements of a row that see the padding (usually 0 to 2) to zero. NOTE: std::fill
// on them compiled to a memset call per output row and tap, 6% of a per-sample CNN gradient.
template <class T>
inline void zero_few(T* p, int64_t n) {
  if (n > 4) return (void)std::fill(p, p + n, T(0));
  if (n > 0) p[0] = T(0);
  if (n > 1) p[1] = T(0);
  if (n > 2) p[2] = T(0);
  if (n > 3) p[3] = T(0);
}

template <class T>
void im2col(const T* x, int64_t cg, const ConvGeom& g, T* col) {
  const int64_t P = g.oh * g.ow;
  const bool shifted = shifted_planes(g);
  for (int64_t c = 0; c < cg; c++)
    for (int64_t ki = 0; ki < g.kh; ki++)
      for (int64_t kj = 0; kj < g.kw; kj++) {
        T* row = col + ((c * g.kh + ki) * g.kw + kj) * P;
        const T* xc = x + c * g.h * g.w;
        const int64_t dx = kj * g.dw - g.pw;  // input column = ox * sw + dx
        int64_t lo, hi;
        valid_range(dx, g.sw, g.w, g.ow, &lo, &hi);
        if (shifted) {
          const int64_t dy = ki * g.dh - g.ph;  // input row = oy + dy
          int64_t oy0, oy1;
          valid_range(dy, 1, g.h, g.oh, &oy0, &oy1);
          std::fill(row, row + oy0 * g.ow, T(0));
          std::fill(row + oy1 * g.ow, row + P, T(0));
          const int64_t shift = dy * g.w + dx, j0 = std::max(oy0 * g.ow, -shift), j1 = std::min(oy1 * g.ow, g.h * g.w - shift);
          if (j1 > j0) std::memcpy(row + j0, xc + j0 + shift, size_t(j1 - j0) * sizeof(T));
          for (int64_t oy = oy0; oy < oy1; oy++) {
            T* r = row + oy * g.ow;
            zero_few(r, lo);
            zero_few(r + hi, g.ow - hi);
          }
          continue;
        }
        for (int64_t oy = 0; oy < g.oh; oy++, row += g.ow) {
          const int64_t iy = oy * g.sh - g.ph + ki * g.dh;
          if (iy < 0 || iy >= g.h) {
            std::fill(row, row + g.ow, T(0));
            continue;
          }
          const T* xr = xc + iy * g.w + dx;
          std::fill(row, row + lo, T(0));
          if (g.sw == 1) std::memcpy(row + lo, xr + lo, size_t(hi - lo) * sizeof(T));
          else
            for (int64_t ox = lo; ox < hi; ox++) row[ox] = xr[ox * g.sw];
          std::fill(row + hi, row + g.ow, T(0));
        }
      }
}

// NOTE: with shifted_planes, a column row goes back as one add over the whole shifted range (as
// im2col copies it), after its entries that saw the padding (ox outside [lo, hi): in the shifted
// range they would land on the neighbouring rows' ends) are set to zero in `col`. The short
// per-row loops (14 floats for a 14x14 image) cost more than the adds themselves.
template <class T>
void col2im(T* col, int64_t cg, const ConvGeom& g, T* x) {
  if (shifted_planes(g)) {
    const int64_t P = g.oh * g.ow;
    for (int64_t c = 0; c < cg; c++)
      for (int64_t ki = 0; ki < g.kh; ki++)
        for (int64_t kj = 0; kj < g.kw; kj++) {
          T* row = col + ((c * g.kh + ki) * g.kw + kj) * P;
          T* xc = x + c * g.h * g.w;
          const int64_t dx = kj * g.dw - g.pw, dy = ki * g.dh - g.ph;
          int64_t lo, hi, oy0, oy1;
          valid_range(dx, 1, g.w, g.ow, &lo, &hi);
          valid_range(dy, 1, g.h, g.oh, &oy0, &oy1);
          if (lo > 0 || hi < g.ow)
            for (int64_t oy = oy0; oy < oy1; oy++) {
              T* r = row + oy * g.ow;
              zero_few(r, lo);
              zero_few(r + hi, g.ow - hi);
            }
          const int64_t shift = dy * g.w + dx, j0 = std::max(oy0 * g.ow, -shift), j1 = std::min(oy1 * g.ow, g.h * g.w - shift);
          T* xs = xc + shift;
          if (j1 <= j0) continue;
          if constexpr (std::is_same<T, float>::value)
            if (own_kernels<T>()) {
              conv_add(xs + j0, row + j0, j1 - j0);
              continue;
            }
          for (int64_t j = j0; j < j1; j++) xs[j] += row[j];
        }
    return;
  }
  for (int64_t c = 0; c < cg; c++)
    for (int64_t ki = 0; ki < g.kh; ki++)
      for (int64_t kj = 0; kj < g.kw; kj++) {
        const T* row = col + ((c * g.kh + ki) * g.kw + kj) * g.oh * g.ow;
        T* xc = x + c * g.h * g.w;
        const int64_t dx = kj * g.dw - g.pw;
        int64_t lo, hi;
        valid_range(dx, g.sw, g.w, g.ow, &lo, &hi);
        for (int64_t oy = 0; oy < g.oh; oy++, row += g.ow) {
          const int64_t iy = oy * g.sh - g.ph + ki * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          T* xr = xc + iy * g.w + dx;
          if (g.sw == 1)  // unit stride: a loop the compiler vectorises
            for (int64_t ox = lo; ox < hi; ox++) xr[ox] += row[ox];
          else
            for (int64_t ox = lo; ox < hi; ox++) xr[ox * g.sw] += row[ox];
        }
      }
}

template void im2col<float>(const float*, int64_t, const ConvGeom&, float*);
template void im2col<double>(const double*, int64_t, const ConvGeom&, double*);
template void col2im<float>(float*, int64_t, const ConvGeom&, float*);
template void col2im<double>(double*, int64_t, const ConvGeom&, double*);

}  // namespace adjoint::cpu

namespace adjoint::kernels {

// NOTE: the op layer admits float32 and float64 only (ops/conv.cpp, ops/pool.cpp).
#define ADJ_FLOATING_(fn, ...) \
  (out.dtype() == DType::Float32 ? cpu::fn<float>(__VA_ARGS__) : cpu::fn<double>(__VA_ARGS__))

const ConvKernel conv2d{[](const Tensor& x, const Tensor& w, const ConvGeom& g, const Tensor& out) {
  ADJ_FLOATING_(conv_forward, x, w, g, out, nullptr);
}};
const ConvBiasKernel conv2d_bias{[](const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeom& g, const Tensor& out) {
  if (out.dtype() == DType::Float32) cpu::conv_forward<float>(x, w, g, out, b.data<float>());
  else cpu::conv_forward<double>(x, w, g, out, b.data<double>());
}};
const ConvKernel conv2d_input_grad{[](const Tensor& gy, const Tensor& w, const ConvGeom& g, const Tensor& out) {
  ADJ_FLOATING_(conv_input_grad, gy, w, g, out);
}};
const ConvKernel conv2d_weight_grad{[](const Tensor& x, const Tensor& gy, const ConvGeom& g, const Tensor& out) {
  ADJ_FLOATING_(conv_weight_grad, x, gy, g, out);
}};
#undef ADJ_FLOATING_

}  // namespace adjoint::kernels
