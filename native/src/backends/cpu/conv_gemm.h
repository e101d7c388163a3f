// The convolution's float32 products on AVX-512 without OpenBLAS's packing (conv_gemm.cpp). The
// operands are the convolution's own buffers, already laid out as the product reads them: the
// weight in L1, the columns (im2col) and images in L2, so the copy OpenBLAS makes of both before
// each product (its "packing": a large part of the time at these sizes) is skipped. Row-major,
// any sizes and leading dims; beta 0 (C =) or 1 (C +=).
#pragma once
#include <cstdint>

namespace adjoint::cpu {

// Whether the kernels below run on this CPU (AVX-512F, and the vector kernels' ISA setting allows
// it: ADJOINT_VM_ISA); where not, the convolution calls OpenBLAS.
bool conv_gemm_available();

// NOTE: the three below only run where conv_gemm_available() (elsewhere they are empty).
// C [m x n] (=, +=) A [m x k] B [k x n].
void conv_sgemm_nn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool accumulate,
                   float* c, int64_t ldc);
// dst [cols x rows] (dense) = src [rows x cols] (rows lds apart), transposed.
void conv_transpose(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst);

// dst [n] += src [n] (col2im's rows: the library's baseline code is 128-bit).
void conv_add(float* dst, const float* src, int64_t n);

}  // namespace adjoint::cpu
