// Non-temporal stores for outputs much larger than the caches (Hessians, per-sample gradients):
// writing them through the cache first reads every line (read-for-ownership), which roughly
// halves the store bandwidth; streaming stores write the lines without reading them.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>
#define ADJ_HAVE_STREAM_STORES 1
#endif

namespace adjoint::cpu {

// Outputs at least as large as the last-level cache are written with streaming stores: they cannot
// stay cached for a later reader anyway. Smaller ones (intermediates a next op reads) are not — a
// lower threshold measured slower overall (W6 1.0 -> 1.8 ms at 8 MiB). Read once from sysfs
// (cpu0's L3, else L2), 32 MiB if unknown; ADJOINT_STREAM_BYTES in the environment overrides it.
int64_t stream_threshold_bytes();
// NOTE: of a streamed output, the last stream_cached_tail_bytes() (a quarter of the threshold) are
// written with ordinary stores: they stay in the last-level cache, which the streamed part passes
// by, so when the caching allocator hands the same block to the next call of the same shape (a
// Hessian in a loop), that part is written in cache, not through memory. ADJOINT_STREAM_TAIL_BYTES
// overrides it (0: stream it all).
int64_t stream_cached_tail_bytes();

// Elements per staging block: kernels compute a block into an L1-resident buffer, then stream it.
constexpr int64_t kStreamBlockBytes = 4096;

// Copy `bytes` from an L1-resident buffer to dst with streaming stores where dst is 16-byte aligned.
inline void stream_copy(void* dst, const void* src, size_t bytes) {
#ifdef ADJ_HAVE_STREAM_STORES
  char* d = static_cast<char*>(dst);
  const char* s = static_cast<const char*>(src);
  size_t head = (16 - (reinterpret_cast<uintptr_t>(d) & 15)) & 15;
  if (head > bytes) head = bytes;
  std::memcpy(d, s, head);
  d += head, s += head, bytes -= head;
  for (; bytes >= 64; d += 64, s += 64, bytes -= 64) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 32));
    __m128i e = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(d), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + 48), e);
  }
  for (; bytes >= 16; d += 16, s += 16, bytes -= 16)
    _mm_stream_si128(reinterpret_cast<__m128i*>(d), _mm_loadu_si128(reinterpret_cast<const __m128i*>(s)));
  std::memcpy(d, s, bytes);
#else
  std::memcpy(dst, src, bytes);
#endif
}

// Orders the streaming stores before anything the thread does next (they are weakly ordered).
inline void stream_fence() {
#ifdef ADJ_HAVE_STREAM_STORES
  _mm_sfence();
#endif
}

}  // namespace adjoint::cpu
