// Winograd F(2x2, 3x3) for float32 on AVX-512 (see conv_winograd.h's NOTE). Per image: the
// planes transposed into a channels-last buffer with a zero border (the padding), each 4x4 input
// block's B^T d B for 16 channels at a time, the 16 products on conv_gemm's nn kernel, each
// block's A^T m A (+ bias) into a channels-last output, transposed back into planes.
#include "backends/cpu/conv_winograd.h"

#include <algorithm>
#include <cstring>

#include "backends/cpu/conv_gemm.h"
#include "core/tensor.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ADJ_WINOGRAD_X86 1
#else
#define ADJ_WINOGRAD_X86 0
#endif

namespace adjoint::cpu {

bool winograd_available() { return conv_gemm_available(); }

namespace {
int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

// NOTE: the products go in blocks of about kBlockTiles tiles (rows), each block's 16 products
// followed by its output transform, so the products (16 x 12 x 32 floats: 24 KiB) are read back
// from L1; over the whole image (16 x 49 x 32 for a 14x14 one: 100 KiB) they came from L2 and the
// output transform took as long as the products. 12 rows is conv_gemm's largest tile.
constexpr int64_t kBlockTiles = 12;
}  // namespace

WinogradF2x3::WinogradF2x3(int64_t cin, int64_t cout, int64_t h, int64_t w)
    : cin_(cin), cout_(cout), h_(h), w_(w), th_((h + 1) / 2), tw_(w / 2), tiles_(th_ * tw_), cp_(round16(cin)), op_(round16(cout)) {
  // the padded input: rows -1 .. 2 th of the input (2 th + 2), columns -1 .. w (w + 2), cp
  // channels each; its border and the channels past cin stay zero (image() rewrites the rest)
  const int64_t nu = 16 * cin * cout, npad = (2 * th_ + 2) * (w_ + 2) * cp_, nv = 16 * tiles_ * cp_,
                nm = 16 * kBlockTiles * op_,
                nq = std::max({2 * th_ * w_ * op_, 9 * cin * op_, h * w * cp_});  // output; taps (weight_grad_end); image (pack)
  buf_ = Tensor::empty(Dims{nu + npad + nv + nm + nq + op_}, DType::Float32, Device{}, "conv2d");
  u_ = buf_.data<float>(), pad_ = u_ + nu, v_ = pad_ + npad, m_ = v_ + nv, q_ = m_ + nm, bias_ = q_ + nq;
  std::fill(pad_, pad_ + npad, 0.0f);
  std::fill(m_, m_ + nm, 0.0f);  // the lanes past cout of each product row are read, never written
  std::fill(bias_, bias_ + op_, 0.0f);
}

#if ADJ_WINOGRAD_X86
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
namespace {

// V[xi][t][c..c+16) = (B^T d B)[xi] for the 4x4 block d at p (its rows `row` floats apart, columns `col`):
// B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]].
inline void input_block(const float* p, int64_t row, int64_t col, float* v, int64_t vstride) {
  __m512 t[4][4];
  for (int j = 0; j < 4; j++) {
    const __m512 d0 = _mm512_loadu_ps(p + j * col), d1 = _mm512_loadu_ps(p + row + j * col),
                 d2 = _mm512_loadu_ps(p + 2 * row + j * col), d3 = _mm512_loadu_ps(p + 3 * row + j * col);
    t[0][j] = _mm512_sub_ps(d0, d2);
    t[1][j] = _mm512_add_ps(d1, d2);
    t[2][j] = _mm512_sub_ps(d2, d1);
    t[3][j] = _mm512_sub_ps(d1, d3);
  }
  for (int i = 0; i < 4; i++) {
    _mm512_storeu_ps(v + (i * 4 + 0) * vstride, _mm512_sub_ps(t[i][0], t[i][2]));
    _mm512_storeu_ps(v + (i * 4 + 1) * vstride, _mm512_add_ps(t[i][1], t[i][2]));
    _mm512_storeu_ps(v + (i * 4 + 2) * vstride, _mm512_sub_ps(t[i][2], t[i][1]));
    _mm512_storeu_ps(v + (i * 4 + 3) * vstride, _mm512_sub_ps(t[i][1], t[i][3]));
  }
}

// The 2x2 outputs (A^T m A)[a][b] + bias of one block for 16 output channels, m[xi] mstride apart:
// A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]; stored at q (row qrow apart, column qcol apart).
inline void output_block(const float* m, int64_t mstride, __m512 bias, float* q, int64_t qrow, int64_t qcol) {
  __m512 s[2][4];
  for (int j = 0; j < 4; j++) {
    const __m512 m0 = _mm512_loadu_ps(m + j * mstride), m1 = _mm512_loadu_ps(m + (4 + j) * mstride),
                 m2 = _mm512_loadu_ps(m + (8 + j) * mstride), m3 = _mm512_loadu_ps(m + (12 + j) * mstride);
    s[0][j] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
    s[1][j] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
  }
  for (int a = 0; a < 2; a++) {
    const __m512 y0 = _mm512_add_ps(_mm512_add_ps(s[a][0], s[a][1]), _mm512_add_ps(s[a][2], bias));
    const __m512 y1 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[a][1], s[a][2]), s[a][3]), bias);
    _mm512_storeu_ps(q + a * qrow, y0);
    _mm512_storeu_ps(q + a * qrow + qcol, y1);
  }
}

// U = G g G^T of a 3x3 kernel g (for V = __m512: of 16 kernels, lane by lane):
// G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
template <class V>
inline void kernel_transform(const V (&g)[3][3], V (&u)[16]) {
  V t[4][3];
  for (int j = 0; j < 3; j++) {
    t[0][j] = g[0][j];
    t[1][j] = 0.5f * (g[0][j] + g[1][j] + g[2][j]);
    t[2][j] = 0.5f * (g[0][j] - g[1][j] + g[2][j]);
    t[3][j] = g[2][j];
  }
  for (int i = 0; i < 4; i++) {
    u[i * 4 + 0] = t[i][0];
    u[i * 4 + 1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
    u[i * 4 + 2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
    u[i * 4 + 3] = t[i][2];
  }
}

}  // namespace

// NOTE: 16 output channels at a time, their kernels gathered (so apart): per kernel this was 60
// scalar operations and 16 scattered stores, as long as the convolution itself for one 28x28 image
// of 32 x 64 channels (a loop of per-example gradient calls pays it every call).
void WinogradF2x3::set_weight(const float* w, int64_t so, int64_t sc, int64_t sk, int64_t sj) {
  const __m512i at = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                        _mm512_set1_epi32(int(so)));
  const __m512 zero = _mm512_setzero_ps();
  __m512 nonfinite = zero;
  for (int64_t o = 0; o < cout_; o += 16) {
    const __mmask16 k = __mmask16(cout_ - o >= 16 ? 0xffff : (1u << (cout_ - o)) - 1);
    for (int64_t c = 0; c < cin_; c++) {
      const float* b = w + o * so + c * sc;
      __m512 g[3][3], u[16];
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
          g[i][j] = _mm512_mask_i32gather_ps(zero, k, at, b + i * sk + j * sj, 4);
          nonfinite = _mm512_add_ps(nonfinite, _mm512_mul_ps(g[i][j], zero));
        }
      kernel_transform(g, u);
      for (int xi = 0; xi < 16; xi++) _mm512_mask_storeu_ps(u_ + (xi * cin_ + c) * cout_ + o, k, u[xi]);
    }
  }
  finite_ = finite_ && _mm512_cmp_ps_mask(nonfinite, zero, _CMP_NEQ_UQ) == 0;
}

// x * 0 is 0 for every finite x and NaN for +-Inf and NaN: the sum stays 0 while all are finite.
void WinogradF2x3::check_finite(const float* p, int64_t n) {
  const __m512 zero = _mm512_setzero_ps();
  __m512 acc = zero;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(p + i), zero));
  acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_maskz_loadu_ps(__mmask16((1u << (n - i)) - 1), p + i), zero));
  finite_ = finite_ && _mm512_cmp_ps_mask(acc, zero, _CMP_NEQ_UQ) == 0;
}

void WinogradF2x3::input_transform(const float* x) {
  const int64_t W2 = w_ + 2, P = h_ * w_;
  float *pad = pad_, *v = v_, *q = q_;
  // the planes channels-last into the padded buffer (row r + 1, column 1 on); the rows past h (an
  // odd height's last block) stay zero. NOTE: one transpose of the whole image, then a copy per
  // row: a transpose per row (14 positions) left most of each row to the transpose's scalar tail.
  conv_transpose(x, cin_, P, P, q);  // q is free until the output transform
  check_finite(q, P * cin_);
  for (int64_t r = 0; r < h_; r++) {
    float* dst = pad + ((r + 1) * W2 + 1) * cp_;
    if (cp_ == cin_) std::memcpy(dst, q + r * w_ * cin_, size_t(w_ * cin_) * sizeof(float));
    else
      for (int64_t j = 0; j < w_; j++) std::memcpy(dst + j * cp_, q + (r * w_ + j) * cin_, size_t(cin_) * sizeof(float));
  }
  const int64_t vstride = tiles_ * cp_;
  for (int64_t ty = 0; ty < th_; ty++)
    for (int64_t tx = 0; tx < tw_; tx++)
      for (int64_t c = 0; c < cp_; c += 16)
        input_block(pad + (2 * ty * W2 + 2 * tx) * cp_ + c, W2 * cp_, cp_, v + (ty * tw_ + tx) * cp_ + c, vstride);
}

void WinogradF2x3::image(const float* x, const float* bias, float* y) {
  input_transform(x);
  const int64_t P = h_ * w_, vstride = tiles_ * cp_;
  float *v = v_, *m = m_, *q = q_;
  if (bias) std::memcpy(bias_, bias, size_t(cout_) * sizeof(float));
  const int64_t blocks = (tiles_ + kBlockTiles - 1) / kBlockTiles;
  for (int64_t b = 0; b < blocks; b++) {
    const int64_t t0 = tiles_ * b / blocks, nt = tiles_ * (b + 1) / blocks - t0, mstride = nt * op_;
    for (int xi = 0; xi < 16; xi++)
      conv_sgemm_nn(nt, cout_, cin_, v + xi * vstride + t0 * cp_, cp_, u_ + xi * cin_ * cout_, cout_, false, m + xi * mstride, op_);
    for (int64_t o = 0; o < op_; o += 16) {
      const __m512 bv = _mm512_loadu_ps(bias_ + o);
      for (int64_t t = t0; t < t0 + nt; t++) {
        const int64_t ty = t / tw_, tx = t - ty * tw_;
        output_block(m + (t - t0) * op_ + o, mstride, bv, q + (2 * ty * w_ + 2 * tx) * op_ + o, w_ * op_, op_);
      }
    }
  }
  conv_transpose(q, P, cout_, op_, y);
}

void WinogradF2x3::weight_grad_image(const float* x, const float* gy, bool accumulate) {
  input_transform(x);
  if (!gbuf_.defined()) gbuf_ = Tensor::empty(Dims{16 * tiles_ * op_}, DType::Float32, Device{}, "conv2d_weight_grad");
  float *gt = gbuf_.data<float>(), *q = q_;
  const int64_t P = h_ * w_, gstride = tiles_ * op_, vstride = tiles_ * cp_;
  // gy channels-last (an odd height's missing last row: zeros)
  conv_transpose(gy, cout_, P, P, q);
  check_finite(q, P * cout_);
  std::fill(q + P * cout_, q + 2 * th_ * w_ * cout_, 0.0f);
  // A g A^T per block, 16 output channels at a time: A = [[1, 0], [1, 1], [1, -1], [0, -1]]
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t o = 0; o < cout_; o += 16) {
    const __mmask16 k = __mmask16(cout_ - o >= 16 ? 0xffff : (1u << (cout_ - o)) - 1);
    for (int64_t ty = 0; ty < th_; ty++)
      for (int64_t tx = 0; tx < tw_; tx++) {
        const float* g = q + (2 * ty * w_ + 2 * tx) * cout_ + o;
        const __m512 g00 = _mm512_maskz_loadu_ps(k, g), g01 = _mm512_maskz_loadu_ps(k, g + cout_),
                     g10 = _mm512_maskz_loadu_ps(k, g + w_ * cout_), g11 = _mm512_maskz_loadu_ps(k, g + (w_ + 1) * cout_);
        const __m512 r[4][2] = {{g00, g01},
                                {_mm512_add_ps(g00, g10), _mm512_add_ps(g01, g11)},
                                {_mm512_sub_ps(g00, g10), _mm512_sub_ps(g01, g11)},
                                {_mm512_sub_ps(zero, g10), _mm512_sub_ps(zero, g11)}};
        float* dst = gt + (ty * tw_ + tx) * op_ + o;
        for (int i = 0; i < 4; i++) {
          _mm512_storeu_ps(dst + (i * 4 + 0) * gstride, r[i][0]);
          _mm512_storeu_ps(dst + (i * 4 + 1) * gstride, _mm512_add_ps(r[i][0], r[i][1]));
          _mm512_storeu_ps(dst + (i * 4 + 2) * gstride, _mm512_sub_ps(r[i][0], r[i][1]));
          _mm512_storeu_ps(dst + (i * 4 + 3) * gstride, _mm512_sub_ps(zero, r[i][1]));
        }
      }
  }
  // dU[xi] [cin, cout] (+)= V[xi]^T [cin, tiles] (A g A^T)[xi] [tiles, cout]
  for (int xi = 0; xi < 16; xi++)
    conv_sgemm_tn(cin_, cout_, tiles_, v_ + xi * vstride, cp_, gt + xi * gstride, op_, accumulate, u_ + xi * cin_ * cout_, cout_);
}

// gw = G^T dU G per (o, c), 16 output channels in the lanes: G^T = [[1, 1/2, 1/2, 0], [0, 1/2,
// -1/2, 0], [0, 1/2, 1/2, 1]]; the taps written as [cin 9, cout] (in the product's buffer q, free
// now) and transposed into gw (scattering each tap to its place was 20% of the weight gradient).
void WinogradF2x3::weight_grad_end(float* gw) {
  const int64_t stride = cin_ * cout_;
  const __m512 half = _mm512_set1_ps(0.5f);
  float* taps = q_;
  for (int64_t o = 0; o < op_; o += 16)
    for (int64_t c = 0; c < cin_; c++) {
      const float* d = u_ + c * cout_ + o;
      const __mmask16 k = __mmask16(cout_ - o >= 16 ? 0xffff : (1u << (cout_ - o)) - 1);
      __m512 t[3][4];
      for (int j = 0; j < 4; j++) {
        const __m512 d0 = _mm512_maskz_loadu_ps(k, d + j * stride), d1 = _mm512_maskz_loadu_ps(k, d + (4 + j) * stride),
                     d2 = _mm512_maskz_loadu_ps(k, d + (8 + j) * stride), d3 = _mm512_maskz_loadu_ps(k, d + (12 + j) * stride);
        const __m512 s = _mm512_mul_ps(half, _mm512_add_ps(d1, d2));
        t[0][j] = _mm512_add_ps(d0, s);
        t[1][j] = _mm512_mul_ps(half, _mm512_sub_ps(d1, d2));
        t[2][j] = _mm512_add_ps(s, d3);
      }
      float* out = taps + c * 9 * op_ + o;
      for (int i = 0; i < 3; i++) {
        const __m512 s = _mm512_mul_ps(half, _mm512_add_ps(t[i][1], t[i][2]));
        _mm512_storeu_ps(out + (i * 3 + 0) * op_, _mm512_add_ps(t[i][0], s));
        _mm512_storeu_ps(out + (i * 3 + 1) * op_, _mm512_mul_ps(half, _mm512_sub_ps(t[i][1], t[i][2])));
        _mm512_storeu_ps(out + (i * 3 + 2) * op_, _mm512_add_ps(s, t[i][3]));
      }
    }
  conv_transpose(taps, cin_ * 9, cout_, op_, gw);
}
#pragma GCC pop_options
#else
void WinogradF2x3::set_weight(const float*, int64_t, int64_t, int64_t, int64_t) {}
void WinogradF2x3::image(const float*, const float*, float*) {}
void WinogradF2x3::weight_grad_image(const float*, const float*, bool) {}
void WinogradF2x3::weight_grad_end(float*) {}
#endif

}  // namespace adjoint::cpu
