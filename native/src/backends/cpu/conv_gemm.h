// The convolution's float32 products on AVX-512 without OpenBLAS's packing (conv_gemm.cpp). The
// operands are the convolution's own buffers, already laid out as the product reads them: the
// weight in L1, the columns (im2col) and images in L2, so the copy OpenBLAS makes of both before
// each product (its "packing": a large part of the time at these sizes) is skipped. Row-major,
// any sizes and leading dims; beta 0 (C =) or 1 (C +=).
#pragma once
#include <cstdint>
#include <vector>

namespace adjoint::cpu {

// Whether the kernels below run on this CPU (AVX-512F, and the vector kernels' ISA setting allows
// it: ADJOINT_VM_ISA); where not, the convolution calls OpenBLAS.
bool conv_gemm_available();

// NOTE: the functions below only run where conv_gemm_available() (elsewhere they are empty).
// C [m x n] (=, +=) A [m x k] B [k x n].
void conv_sgemm_nn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool accumulate,
                   float* c, int64_t ldc);
// C [m x n] (=, +=) A^T B with A [k x m] (lda apart): Winograd's weight gradient, whose left
// operand is the input transform's [blocks, channels] read down its columns.
void conv_sgemm_tn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool accumulate,
                   float* c, int64_t ldc);
// C [m x n] (=, +=) A B summed over a grid of ny x nx positions: row i of A holds position (y, x)
// at a[i][y * S + x] (a padded plane's rows, S >= nx apart), B's row for it is b + (y nx + x) ldb.
// A stride-1 convolution's weight gradient with each tap's columns read from a zero-padded copy of
// the image in place (conv.cpp).
void conv_sgemm_grid(int64_t m, int64_t n, int64_t ny, int64_t nx, int64_t S, const float* const* a, const float* b, int64_t ldb,
                     bool accumulate, float* c, int64_t ldc);

// C [m x n] (=, +=) A [m x k] B [n x k]^T, as dot products over k (rows of A and B both read
// along k): for few columns of C (a first layer's weight gradient has 9), where nn's 32-wide
// tiles would be mostly empty.
void conv_sgemm_nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool accumulate,
                   float* c, int64_t ldc);

// NOTE: a stride-1 convolution whose output is as wide as its input reads each tap's input as the
// plane itself shifted by one offset (dy iw + dx: conv.cpp's shifted_planes). This product reads
// the planes in place through that shift, with a lane mask per tap and block of 32 output
// positions for the ones that would see the padding: no column matrix is written or read (im2col
// was a fifth of the forward; col2im and the zeroing of the input gradient a third of that).
// C [m, oh * iw] = A [m, cin * taps] B, where B's row ci * taps + t holds x[ci, oy + dy[t],
// ox + dx[t]] for output position (oy, ox), zero outside the plane [cin, ih, iw]. Made once per
// geometry (the offsets and masks), used for every image and group.
class ShiftedPlanes {
 public:
  ShiftedPlanes(int64_t cin, int64_t ih, int64_t iw, int64_t oh, const int64_t* dy, const int64_t* dx, int taps);
  // C (dense, oh * iw per row) = A (lda apart) B over the planes at x.
  void product(int64_t m, const float* a, int64_t lda, const float* x, float* c) const;

 private:
  int64_t cin_, ih_, oh_, iw_;
  int taps_;
  int64_t blocks_;
  std::vector<int64_t> koff_;  // per row of B: its plane's offset plus its tap's shift
  std::vector<int> ktap_;       // per row of B: its tap
  std::vector<uint32_t> tmask_; // per block of 32 positions and tap: the lanes inside the plane
};

// dst [cols x rows] (dense) = src [rows x cols] (rows lds apart), transposed.
void conv_transpose(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst);

// c [m, n] (dense) row r += v[r] (a convolution's bias).
void conv_add_rows(float* c, int64_t m, int64_t n, const float* v);

// dst [n] += src [n] (col2im's rows: the library's baseline code is 128-bit).
void conv_add(float* dst, const float* src, int64_t n);

}  // namespace adjoint::cpu
