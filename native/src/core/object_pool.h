// Per-thread free lists for the small objects every op allocates (TensorImpl, Storage, tracer
// payloads). glibc's own per-thread cache holds 7 blocks per size, fewer than one transform call
// frees at a time, so its slower paths (_int_free, consolidation) showed at ~10% of small
// workloads; these lists keep up to kPoolPerBin blocks per size class per thread.
#pragma once
#include <cstddef>

namespace adjoint {

void* pool_alloc(size_t size);            // size <= kPoolMaxSize uses the pool, larger ones ::operator new
void pool_free(void* p, size_t size);     // size as given to pool_alloc; any thread may free

constexpr size_t kPoolMaxSize = 512;

// Class-scope operators that route a type's heap objects through the pool.
#define ADJ_POOLED_OBJECT                                                          \
  static void* operator new(size_t size) { return ::adjoint::pool_alloc(size); }   \
  static void operator delete(void* p, size_t size) { ::adjoint::pool_free(p, size); }

}  // namespace adjoint
