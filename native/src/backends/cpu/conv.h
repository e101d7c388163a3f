// CPU convolution by im2col + gemm, or for stride-1 "same width" float32 on AVX-512 by products
// that read the input planes in place (kernels::conv2d, conv2d_bias, conv2d_input_grad,
// conv2d_weight_grad in conv.cpp; max pooling's kernels are in max_pool.cpp).
// The column helpers are here for the kernels' own tests.
#pragma once
#include <cstdint>

#include "backends/cpu/vector_math.h"
#include "backends/kernels.h"

namespace adjoint::cpu {

// The columns of one image of one group: x [cg, h, w] -> col [cg * kh * kw, oh * ow], where
// row (ci * kh + ki) * kw + kj holds the input each output position sees through tap (ki, kj) of
// channel ci (zero in the padding).
template <class T>
void im2col(const T* x, int64_t cg, const ConvGeom& g, T* col);

// The adjoint of im2col: each column entry added back to the input place it came from
// (x [cg, h, w] += ...; the padding's entries are dropped). It may overwrite those padding
// entries of `col` with zeros (a scratch buffer: see conv.cpp).
template <class T>
void col2im(T* col, int64_t cg, const ConvGeom& g, T* x);

// Max pooling (kernels::max_pool2d_gather with scatter false, max_pool2d_scatter with true) on a
// forced path, for the kernels' own tests: with `isa`'s row loops for 2x2 windows every 2 (the ISA
// must be supported: vm::isa_supported), or window by window for any window (the scan).
void max_pool2d_with(vm::Isa isa, bool scatter, const Tensor& v, const Tensor& x, const PoolGeom& g, const Tensor& out);
void max_pool2d_scan(bool scatter, const Tensor& v, const Tensor& x, const PoolGeom& g, const Tensor& out);

}  // namespace adjoint::cpu
