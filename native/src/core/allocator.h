// Caching host allocator: temporaries of small workloads are reused instead of paying for fresh
// pages (first touch of a 4 KiB page costs ~11 us here, far more than a whole small op).
#pragma once
#include <cstddef>
#include <cstdint>

namespace adjoint {

struct MemoryStats {
  int64_t live_bytes;     // handed out and not yet returned
  int64_t cached_bytes;   // returned and kept for reuse
  int64_t live_tensors;   // TensorImpl objects alive
};

void* host_alloc(size_t nbytes, const char* op);  // 64-byte aligned; throws OutOfMemory with op name
void host_free(void* p, size_t nbytes);
void host_empty_cache();
MemoryStats memory_stats();
// TensorImpl's operator new and delete: a per-thread free list that also keeps live_tensors.
void* tensor_impl_alloc(size_t size);
void tensor_impl_free(void* p, size_t size);

}  // namespace adjoint
