// The convolution's float32 products on AVX-512, reading the convolution's buffers in place (see
// conv_gemm.h). C = A B register-tiled: 8 rows of C (up to 12 for the last tile) x 32 columns (2
// vectors) held in registers; per step of the sum two vectors of a row of B and one broadcast
// element of A per row of C. B's rows are read where they lie (the columns' rows, P floats apart;
// for the shifted-plane product the input planes themselves, under a lane mask per tap; for the
// grid product A's rows are a padded plane's), in blocks of kKc rows so a block of 32 columns
// stays in L1 while A's rows pass. Edges: the last columns by masked loads and stores, the last
// rows by a smaller tile. The dot-product form (nt) serves products with few columns.
#include "backends/cpu/conv_gemm.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "backends/cpu/vector_math.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ADJ_CONV_GEMM_X86 1
#else
#define ADJ_CONV_GEMM_X86 0
#endif

namespace adjoint::cpu {

#if ADJ_CONV_GEMM_X86
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
namespace {

constexpr int kMr = 12;       // the most rows of C in one tile (tile_rows)
constexpr int64_t kKc = 256;  // rows of B per block (32 columns of them: 32 KiB)
// NOTE: the shifted-plane product's B rows overlap (a channel's taps read the same few rows of its
// plane: ~1 KiB per channel and block of 32 positions), so far longer sums stay in L1; blocks of
// kKc split an input gradient's 288 (32 channels x 9) into 256 + 32, the second mostly loads and
// stores of C.
constexpr int64_t kKcShifted = 1152;

// NOTE: the rows of C go in tiles of 8, the last tile taking up to 12 (9 to 12 rows as one tile,
// 13 as 8 + 5). Measured on W11's products (forward 32 rows, input gradient 16, weight gradient
// 144): 8-row tiles ran at 169-182 GFLOP/s where 12-row ones ran at 144-178 (a 12-row tile with
// the shifted product's offsets and masks spills registers), and 32 rows as 8 x 4 beat 12 + 12 + 8
// by 15%.
inline int64_t tile_rows(int64_t m, int64_t i) {
  const int64_t left = m - i;
  return left > kMr ? 8 : left;
}

inline __mmask16 lanes(int64_t left) { return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1); }

// NOTE: nn_tile, shifted_tile and grid_tile repeat the same register tile (zero, fma step, masked
// store) on purpose: sharing it through an always-inline Tile struct with a lambda for A's element
// made the shifted product 25% slower (W11's conv2 forward 0.69 -> 0.88 ms; GCC 12 then kept
// fewer of the tile's operands in registers).
// C[0..R) x [0, 32) (masks m0, m1: the columns present) (=, +=) A[0..R) x [0, kc) B[0, kc) x [0, 32);
// V = 1: the first 16 columns only (m1 empty: a product 16 wide, as Winograd's input gradient's,
// would spend half its multiplies on zeros). TA: A stored transposed, A[r][p] at a[p lda + r].
template <int R, int V, bool TA = false>
void nn_tile(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, bool acc, float* c, int64_t ldc, __mmask16 m0,
             __mmask16 m1) {
  __m512 c0[R], c1[R];
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) c0[r] = c1[r] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_maskz_loadu_ps(m0, b + p * ldb);
    const __m512 b1 = V == 2 ? _mm512_maskz_loadu_ps(m1, b + p * ldb + 16) : b0;
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
      const __m512 av = _mm512_set1_ps(TA ? a[p * lda + r] : a[r * lda + p]);
      c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
      if constexpr (V == 2) c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) {
    float* cr = c + r * ldc;
    if (acc) {
      c0[r] = _mm512_add_ps(c0[r], _mm512_maskz_loadu_ps(m0, cr));
      if constexpr (V == 2) c1[r] = _mm512_add_ps(c1[r], _mm512_maskz_loadu_ps(m1, cr + 16));
    }
    _mm512_mask_storeu_ps(cr, m0, c0[r]);
    if constexpr (V == 2) _mm512_mask_storeu_ps(cr + 16, m1, c1[r]);
  }
}

using NnTile = void (*)(int64_t, const float*, int64_t, const float*, int64_t, bool, float*, int64_t, __mmask16, __mmask16);
template <int V, bool TA>
constexpr NnTile kNnTiles[kMr + 1] = {nullptr,
                                      nn_tile<1, V, TA>,
                                      nn_tile<2, V, TA>,
                                      nn_tile<3, V, TA>,
                                      nn_tile<4, V, TA>,
                                      nn_tile<5, V, TA>,
                                      nn_tile<6, V, TA>,
                                      nn_tile<7, V, TA>,
                                      nn_tile<8, V, TA>,
                                      nn_tile<9, V, TA>,
                                      nn_tile<10, V, TA>,
                                      nn_tile<11, V, TA>,
                                      nn_tile<12, V, TA>};

// C (=, +=) A B, or A^T B (ta: A [k, m] stored, lda apart).
void nn(bool ta, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool accumulate, float* c,
        int64_t ldc) {
  for (int64_t k0 = 0; k0 < k; k0 += kKc) {
    const int64_t kc = std::min(kKc, k - k0);
    const bool acc = accumulate || k0 > 0;
    for (int64_t j = 0; j < n; j += 32) {
      const __mmask16 m0 = lanes(n - j), m1 = lanes(n - j - 16 < 0 ? 0 : n - j - 16);
      const NnTile* tiles = ta ? (n - j > 16 ? kNnTiles<2, true> : kNnTiles<1, true>) : (n - j > 16 ? kNnTiles<2, false> : kNnTiles<1, false>);
      for (int64_t i = 0, rows; i < m; i += rows) {
        rows = tile_rows(m, i);
        tiles[rows](kc, ta ? a + k0 * lda + i : a + i * lda + k0, lda, b + k0 * ldb + j, ldb, acc, c + i * ldc + j, ldc, m0, m1);
      }
    }
  }
}

// The shifted-plane product (ShiftedPlanes::product): as nn_tile, with row p of B the 32 floats at
// x + koff[p] (its channel's plane, shifted by its tap) in the lanes of tmask[ktap[p]] (the output
// positions whose input lies inside the plane, and inside the columns present) and zero elsewhere.
// NOTE: the masked loads never touch a lane outside its mask, so the shifted address may point
// before or past the plane (AVX-512 suppresses faults on masked lanes).
template <int R>
void shifted_tile(int64_t kc, const float* a, int64_t lda, const float* x, const int64_t* koff, const int* ktap,
                  const uint32_t* tmask, bool acc, float* c, int64_t ldc, __mmask16 m0, __mmask16 m1) {
  __m512 c0[R], c1[R];
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) c0[r] = c1[r] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    const float* bp = x + koff[p];
    // the two halves of the tap's mask straight into mask registers (kmovw from memory: through a
    // general register the loop ran 15% slower)
    __mmask16* mk = reinterpret_cast<__mmask16*>(const_cast<uint32_t*>(tmask + ktap[p]));
    const __m512 b0 = _mm512_maskz_loadu_ps(_load_mask16(mk), bp), b1 = _mm512_maskz_loadu_ps(_load_mask16(mk + 1), bp + 16);
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
      const __m512 av = _mm512_set1_ps(a[r * lda + p]);
      c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) {
    float* cr = c + r * ldc;
    if (acc) {
      c0[r] = _mm512_add_ps(c0[r], _mm512_maskz_loadu_ps(m0, cr));
      c1[r] = _mm512_add_ps(c1[r], _mm512_maskz_loadu_ps(m1, cr + 16));
    }
    _mm512_mask_storeu_ps(cr, m0, c0[r]);
    _mm512_mask_storeu_ps(cr + 16, m1, c1[r]);
  }
}

using ShiftedTile = void (*)(int64_t, const float*, int64_t, const float*, const int64_t*, const int*, const uint32_t*, bool, float*,
                             int64_t, __mmask16, __mmask16);
const ShiftedTile kShiftedTiles[kMr + 1] = {nullptr,         shifted_tile<1>, shifted_tile<2>,  shifted_tile<3>,  shifted_tile<4>,
                                            shifted_tile<5>, shifted_tile<6>, shifted_tile<7>,  shifted_tile<8>,  shifted_tile<9>,
                                            shifted_tile<10>, shifted_tile<11>, shifted_tile<12>};

// As nn_tile, with row r of A at a[r] and the sum over a grid of positions (y, x), y < ny, x < nx:
// A's entries at a[r][y * S + x] (rows of a padded plane, S apart), B's rows at b + (y nx + x) ldb.
template <int R>
void grid_tile(int64_t ny, int64_t nx, int64_t S, const float* const* a, const float* b, int64_t ldb, bool acc, float* c, int64_t ldc,
               __mmask16 m0, __mmask16 m1) {
  __m512 c0[R], c1[R];
  const float* ar[R];
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) c0[r] = c1[r] = _mm512_setzero_ps(), ar[r] = a[r];
  for (int64_t y = 0; y < ny; y++, b += nx * ldb) {
    for (int64_t x = 0; x < nx; x++) {
      const __m512 b0 = _mm512_maskz_loadu_ps(m0, b + x * ldb), b1 = _mm512_maskz_loadu_ps(m1, b + x * ldb + 16);
#pragma GCC unroll 12
      for (int r = 0; r < R; r++) {
        const __m512 av = _mm512_set1_ps(ar[r][x]);
        c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
        c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
      }
    }
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) ar[r] += S;
  }
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) {
    float* cr = c + r * ldc;
    if (acc) {
      c0[r] = _mm512_add_ps(c0[r], _mm512_maskz_loadu_ps(m0, cr));
      c1[r] = _mm512_add_ps(c1[r], _mm512_maskz_loadu_ps(m1, cr + 16));
    }
    _mm512_mask_storeu_ps(cr, m0, c0[r]);
    _mm512_mask_storeu_ps(cr + 16, m1, c1[r]);
  }
}

using GridTile = void (*)(int64_t, int64_t, int64_t, const float* const*, const float*, int64_t, bool, float*, int64_t, __mmask16,
                          __mmask16);
const GridTile kGridTiles[kMr + 1] = {nullptr,      grid_tile<1>,  grid_tile<2>,  grid_tile<3>, grid_tile<4>,
                                      grid_tile<5>, grid_tile<6>,  grid_tile<7>,  grid_tile<8>, grid_tile<9>,
                                      grid_tile<10>, grid_tile<11>, grid_tile<12>};

// The sum in blocks of whole grid rows, about kKc positions each (B's block stays in L1).
void grid_nn(int64_t m, int64_t n, int64_t ny, int64_t nx, int64_t S, const float* const* a, const float* b, int64_t ldb,
             bool accumulate, float* c, int64_t ldc) {
  const int64_t rows_per_block = std::max<int64_t>(1, kKc / nx);
  std::vector<const float*> ab(static_cast<size_t>(m));
  for (int64_t y0 = 0; y0 < ny; y0 += rows_per_block) {
    const int64_t nyb = std::min(rows_per_block, ny - y0);
    const bool acc = accumulate || y0 > 0;
    for (int64_t i = 0; i < m; i++) ab[size_t(i)] = a[i] + y0 * S;
    for (int64_t j = 0; j < n; j += 32) {
      const __mmask16 m0 = lanes(n - j), m1 = lanes(n - j - 16 < 0 ? 0 : n - j - 16);
      for (int64_t i = 0, rows; i < m; i += rows) {
        rows = tile_rows(m, i);
        kGridTiles[rows](nyb, nx, S, ab.data() + i, b + y0 * nx * ldb + j, ldb, acc, c + i * ldc + j, ldc, m0, m1);
      }
    }
  }
}

// C [m, P] = A [m, K] B with B's rows shifted planes (ShiftedPlanes::product), blocked as nn.
void shifted(int64_t m, int64_t P, int64_t K, const float* a, int64_t lda, const float* x, int64_t xlen, const int64_t* koff,
             const int* ktap, const uint32_t* tmask, int taps, float* c) {
  // NOTE: the planes are read in a pattern the hardware prefetcher does not follow (a few rows of
  // every channel per block), so each new image's first reads waited on memory (2.5x slower than
  // from cache); asking for all of them first, in order, costs a pass of prefetches.
  for (int64_t i = 0; i < xlen; i += 16) _mm_prefetch(reinterpret_cast<const char*>(x + i), _MM_HINT_T0);
  const int64_t blocks = (P + 31) / 32;
  const int64_t blocks_k = (K + kKcShifted - 1) / kKcShifted, kb = (K + blocks_k - 1) / blocks_k;  // even blocks
  for (int64_t k0 = 0; k0 < K; k0 += kb) {
    const int64_t kc = std::min(kb, K - k0);
    for (int64_t b = 0; b < blocks; b++) {
      const int64_t j = b * 32;
      const __mmask16 m0 = lanes(P - j), m1 = lanes(P - j - 16 < 0 ? 0 : P - j - 16);
      for (int64_t i = 0, rows; i < m; i += rows) {
        rows = tile_rows(m, i);
        kShiftedTiles[rows](kc, a + i * lda + k0, lda, x + j, koff + k0, ktap + k0, tmask + b * taps, k0 > 0, c + i * P + j, P, m0, m1);
      }
    }
  }
}

// The sum of a vector's 16 lanes by halves (GCC 12's _mm512_reduce_add_ps and the shuffle
// intrinsics warn of an uninitialised value; vector_math_kernels.inc's hsum does the same).
inline float hsum(__m512 v) {
  typedef float V16 __attribute__((vector_size(64)));
  typedef float V8 __attribute__((vector_size(32)));
  typedef float V4 __attribute__((vector_size(16)));
  const V16 x = V16(v);
  const V8 h = __builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15);
  const V4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
  return (q[0] + q[2]) + (q[1] + q[3]);
}

// C[0..RA) x [0..RB) (=, +=) the dot products of A's rows and B's rows over [0, k), 16 lanes at a
// time (the last step masked), each sum reduced across its lanes at the end.
template <int RA, int RB>
void nt_tile(int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool acc, float* c, int64_t ldc) {
  __m512 s[RA][RB];
#pragma GCC unroll 2
  for (int i = 0; i < RA; i++)
#pragma GCC unroll 9
    for (int j = 0; j < RB; j++) s[i][j] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; p += 16) {
    const __mmask16 m = lanes(k - p);
    __m512 av[RA];
#pragma GCC unroll 2
    for (int i = 0; i < RA; i++) av[i] = _mm512_maskz_loadu_ps(m, a + i * lda + p);
#pragma GCC unroll 9
    for (int j = 0; j < RB; j++) {
      const __m512 bv = _mm512_maskz_loadu_ps(m, b + j * ldb + p);
#pragma GCC unroll 2
      for (int i = 0; i < RA; i++) s[i][j] = _mm512_fmadd_ps(av[i], bv, s[i][j]);
    }
  }
#pragma GCC unroll 2
  for (int i = 0; i < RA; i++)
#pragma GCC unroll 9
    for (int j = 0; j < RB; j++) {
      const float v = hsum(s[i][j]);
      c[i * ldc + j] = acc ? c[i * ldc + j] + v : v;
    }
}

using NtTile = void (*)(int64_t, const float*, int64_t, const float*, int64_t, bool, float*, int64_t);
constexpr int kNtRows = 2, kNtCols = 9;  // 18 sums in registers; 11 loads per 18 multiply-adds
template <int RA, int... RB>
constexpr std::array<NtTile, kNtCols + 1> nt_row(std::integer_sequence<int, RB...>) {
  return {nullptr, nt_tile<RA, RB + 1>...};
}
const std::array<NtTile, kNtCols + 1> kNtTiles[kNtRows + 1] = {
    {}, nt_row<1>(std::make_integer_sequence<int, kNtCols>()), nt_row<2>(std::make_integer_sequence<int, kNtCols>())};

void nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool acc, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; i += kNtRows) {
    const int ra = int(std::min<int64_t>(kNtRows, m - i));
    for (int64_t j = 0; j < n; j += kNtCols) {
      const int rb = int(std::min<int64_t>(kNtCols, n - j));
      kNtTiles[ra][size_t(rb)](k, a + i * lda, lda, b + j * ldb, ldb, acc, c + i * ldc + j, ldc);
    }
  }
}

// dst [cols x rows] (ld rows) = src [rows x cols] (ld lds)^T in 8 x 8 blocks (unpack, shuffle,
// swap 128-bit halves: the textbook AVX transpose), the edges element by element.
void transpose(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst) {
  int64_t i = 0;
  for (; i + 8 <= rows; i += 8) {
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8) {
      const float* s = src + i * lds + j;
      const __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + lds), r2 = _mm256_loadu_ps(s + 2 * lds),
                   r3 = _mm256_loadu_ps(s + 3 * lds), r4 = _mm256_loadu_ps(s + 4 * lds), r5 = _mm256_loadu_ps(s + 5 * lds),
                   r6 = _mm256_loadu_ps(s + 6 * lds), r7 = _mm256_loadu_ps(s + 7 * lds);
      const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
                   t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
                   t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
      const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee), u2 = _mm256_shuffle_ps(t1, t3, 0x44),
                   u3 = _mm256_shuffle_ps(t1, t3, 0xee), u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee),
                   u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
      float* d = dst + j * rows + i;
      _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
      _mm256_storeu_ps(d + rows, _mm256_permute2f128_ps(u1, u5, 0x20));
      _mm256_storeu_ps(d + 2 * rows, _mm256_permute2f128_ps(u2, u6, 0x20));
      _mm256_storeu_ps(d + 3 * rows, _mm256_permute2f128_ps(u3, u7, 0x20));
      _mm256_storeu_ps(d + 4 * rows, _mm256_permute2f128_ps(u0, u4, 0x31));
      _mm256_storeu_ps(d + 5 * rows, _mm256_permute2f128_ps(u1, u5, 0x31));
      _mm256_storeu_ps(d + 6 * rows, _mm256_permute2f128_ps(u2, u6, 0x31));
      _mm256_storeu_ps(d + 7 * rows, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
    for (; j < cols; j++)
      for (int64_t r = i; r < i + 8; r++) dst[j * rows + r] = src[r * lds + j];
  }
  for (; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) dst[j * rows + i] = src[i * lds + j];
}

// dst[0, n) += src[0, n), 16 lanes at a time.
void add_to(float* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_add_ps(_mm512_loadu_ps(dst + i), _mm512_loadu_ps(src + i)));
  if (i < n) {
    const __mmask16 m = lanes(n - i);
    _mm512_mask_storeu_ps(dst + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + i), _mm512_maskz_loadu_ps(m, src + i)));
  }
}

// c [m, n] (dense) row r += v[r], 16 lanes at a time.
void add_rows(float* c, int64_t m, int64_t n, const float* v) {
  for (int64_t r = 0; r < m; r++, c += n) {
    const __m512 b = _mm512_set1_ps(v[r]);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(c + i, _mm512_add_ps(_mm512_loadu_ps(c + i), b));
    if (i < n) {
      const __mmask16 k = lanes(n - i);
      _mm512_mask_storeu_ps(c + i, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, c + i), b));
    }
  }
}

}  // namespace
#pragma GCC pop_options
#endif

bool conv_gemm_available() {
#if ADJ_CONV_GEMM_X86
  static const bool ok = vm::active_isa() == vm::Isa::Avx512;
  return ok;
#else
  return false;
#endif
}

namespace {
// NOTE: an empty sum (k = 0) still sets C (to zero, or leaves it for +=), like BLAS with beta 0.
void product(bool ta, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool accumulate,
             float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; i++) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
#if ADJ_CONV_GEMM_X86
  nn(ta, m, n, k, a, lda, b, ldb, accumulate, c, ldc);
#else
  (void)ta, (void)a, (void)lda, (void)b, (void)ldb;
#endif
}
}  // namespace

void conv_sgemm_nn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool accumulate,
                   float* c, int64_t ldc) {
  product(false, m, n, k, a, lda, b, ldb, accumulate, c, ldc);
}

void conv_sgemm_tn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool accumulate,
                   float* c, int64_t ldc) {
  product(true, m, n, k, a, lda, b, ldb, accumulate, c, ldc);
}

ShiftedPlanes::ShiftedPlanes(int64_t cin, int64_t ih, int64_t iw, int64_t oh, const int64_t* dy, const int64_t* dx, int taps)
    : cin_(cin), ih_(ih), oh_(oh), iw_(iw), taps_(taps), blocks_((oh * iw + 31) / 32) {
  const int64_t K = cin * taps;
  koff_.resize(size_t(K));
  ktap_.resize(size_t(K));
  for (int64_t ci = 0; ci < cin; ci++)
    for (int t = 0; t < taps; t++) {
      koff_[size_t(ci * taps + t)] = ci * ih * iw + dy[t] * iw + dx[t];
      ktap_[size_t(ci * taps + t)] = t;
    }
  // tmask_[b * taps + t]: bit l set when output position 32 b + l exists and its input through tap
  // t lies inside the plane (row oy + dy, column ox + dx): per output row, one range of columns.
  // NOTE: set by ranges, not lane by lane: a per-lane division was 50 us per 28x28 image, paid
  // once per call (per image in a loop of grad calls).
  tmask_.assign(size_t(blocks_ * taps), 0u);
  for (int t = 0; t < taps; t++) {
    const int64_t lo = std::max<int64_t>(0, -dx[t]), hi = std::min<int64_t>(iw, iw - dx[t]);
    if (lo >= hi) continue;
    for (int64_t oy = std::max<int64_t>(0, -dy[t]); oy < std::min<int64_t>(oh, ih - dy[t]); oy++)
      for (int64_t p = oy * iw + lo, e = oy * iw + hi; p < e;) {  // [p, e) word by word
        const int64_t w = p / 32, end = std::min(e, (w + 1) * 32);
        const int bits = int(end - p), from = int(p % 32);
        tmask_[size_t(w * taps + t)] |= (bits == 32 ? ~uint32_t(0) : ((uint32_t(1) << bits) - 1)) << from;
        p = end;
      }
  }
}

void ShiftedPlanes::product(int64_t m, const float* a, int64_t lda, const float* x, float* c) const {
  const int64_t K = cin_ * taps_, P = oh_ * iw_;
  if (m <= 0 || P <= 0) return;
  if (K <= 0) {
    for (int64_t i = 0; i < m; i++) std::fill(c + i * P, c + (i + 1) * P, 0.0f);
    return;
  }
#if ADJ_CONV_GEMM_X86
  shifted(m, P, K, a, lda, x, cin_ * ih_ * iw_, koff_.data(), ktap_.data(), tmask_.data(), taps_, c);
#else
  (void)a, (void)lda, (void)x, (void)c;
#endif
}

void conv_sgemm_grid(int64_t m, int64_t n, int64_t ny, int64_t nx, int64_t S, const float* const* a, const float* b, int64_t ldb,
                     bool accumulate, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (ny <= 0 || nx <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; i++) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
#if ADJ_CONV_GEMM_X86
  grid_nn(m, n, ny, nx, S, a, b, ldb, accumulate, c, ldc);
#else
  (void)a, (void)b, (void)ldb, (void)c, (void)ldc, (void)S;
#endif
}

void conv_sgemm_nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, bool accumulate,
                   float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
#if ADJ_CONV_GEMM_X86
  nt(m, n, k, a, lda, b, ldb, accumulate, c, ldc);  // k = 0: sums of nothing, 0
#else
  (void)k, (void)a, (void)lda, (void)b, (void)ldb, (void)accumulate, (void)c, (void)ldc;
#endif
}

void conv_transpose(const float* src, int64_t rows, int64_t cols, int64_t lds, float* dst) {
#if ADJ_CONV_GEMM_X86
  transpose(src, rows, cols, lds, dst);
#endif
}

void conv_add_rows(float* c, int64_t m, int64_t n, const float* v) {
#if ADJ_CONV_GEMM_X86
  add_rows(c, m, n, v);
#else
  (void)c, (void)m, (void)n, (void)v;
#endif
}

void conv_add(float* dst, const float* src, int64_t n) {
#if ADJ_CONV_GEMM_X86
  add_to(dst, src, n);
#endif
}

}  // namespace adjoint::cpu
