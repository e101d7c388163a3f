// CPU convolution by im2col + OpenBLAS gemm, and max-pooling windows (kernels::conv2d,
// conv2d_input_grad, conv2d_weight_grad, max_pool2d_gather, max_pool2d_scatter in conv.cpp).
// The column helpers are here for the kernels' own tests.
#pragma once
#include <cstdint>

#include "backends/kernels.h"

namespace adjoint::cpu {

// The columns of one image of one group: x [cg, h, w] -> col [cg * kh * kw, oh * ow], where
// row (ci * kh + ki) * kw + kj holds the input each output position sees through tap (ki, kj) of
// channel ci (zero in the padding).
template <class T>
void im2col(const T* x, int64_t cg, const ConvGeom& g, T* col);

// The adjoint of im2col: each column entry added back to the input place it came from
// (x [cg, h, w] += ...; the padding's entries are dropped).
template <class T>
void col2im(const T* col, int64_t cg, const ConvGeom& g, T* x);

}  // namespace adjoint::cpu
