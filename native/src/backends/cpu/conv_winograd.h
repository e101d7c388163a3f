// 3x3 stride-1 "same" convolutions in float32 by Winograd's F(2x2, 3x3) on AVX-512 (conv.cpp
// calls it for the forward and, as a convolution by the reversed weight, the input gradient).
//
// NOTE: F(2x2, 3x3) makes each 2x2 block of outputs from a 4x4 block of input with 16 products per
// channel pair instead of 36 (2.25x fewer): y = A^T [(G w G^T) . (B^T d B)] A. The 16 products of a
// block are 16 matrix products over the channels, one per point of the 4x4 "Winograd domain":
// M[xi] [tiles x cout] = V[xi] [tiles x cin] U[xi] [cin x cout], run on conv_gemm's nn kernel with
// the output channels in the vector lanes. The transforms (B^T d B of the input, A^T m A of the
// products) are additions only, the channels again in the lanes, so the image is first laid out
// channels-last in a zero-bordered buffer (the padding) and the result transposed back. The
// transforms' coefficients are 0, +-1 and (for G) 1/2, so float32 rounding stays at the direct
// convolution's level (test_conv_kernels checks against float64 sums).
//
// NOTE: a non-finite input or weight is not Winograd's to handle: its transforms take differences
// of inputs, so one infinite input makes Inf - Inf = NaN where the direct sum gives +-Inf (and a
// later relu would then give NaN instead of 0). Each call checks its inputs as it lays them out
// (finite()); where one is not finite the caller redoes the whole convolution directly.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace adjoint::cpu {

class WinogradF2x3 {
 public:
  // For images [cin, h, w] -> [cout, h, w] with zero padding 1 (w even: the output's blocks then
  // tile each row exactly; the caller keeps odd widths on the direct product).
  WinogradF2x3(int64_t cin, int64_t cout, int64_t h, int64_t w);

  // The weight in the Winograd domain, U [16, cin, cout], from the 3x3 kernels
  // w_eff(o, c, ki, kj) = w[o so + c sc + ki sk + kj sj] (strides may be negative: the input
  // gradient reads the forward's weight with channels swapped and taps reversed).
  void set_weight(const float* w, int64_t so, int64_t sc, int64_t sk, int64_t sj);

  // y [cout, h, w] = conv(x [cin, h, w]) (+ bias [cout] when not null), for one image.
  void image(const float* x, const float* bias, float* y);

  // The weight gradient, image by image: U's gradient dU [16, cin, cout] (=, += when accumulate)
  // from the image x [cin, h, w] and its output's gradient gy [cout, h, w] (dU = sum over blocks of
  // (A gy A^T) . (B^T d B)), then gw [cout, cin, 3, 3] = G^T dU G (weight_grad_end). dU lives
  // where set_weight puts U: one use or the other per object.
  void weight_grad_image(const float* x, const float* gy, bool accumulate);
  void weight_grad_end(float* gw);

  // Whether every input and weight seen so far was finite (else the results are not to be used).
  bool finite() const { return finite_; }

 private:
  void input_transform(const float* x);
  void check_finite(const float* p, int64_t n);

  int64_t cin_, cout_, h_, w_, th_, tw_, tiles_, cp_, op_;
  Tensor buf_;  // U, the padded input, V, a block's products, the output, the bias (scratch)
  float *u_, *pad_, *v_, *m_, *q_, *bias_;
  Tensor gbuf_;  // the weight gradient's A gy A^T [16, cout, tiles]
  bool finite_ = true;
};

// Whether it runs here (conv_gemm's kernels do: AVX-512).
bool winograd_available();

}  // namespace adjoint::cpu
