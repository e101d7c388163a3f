// Caching host allocator: temporaries of small workloads are reused instead of paying for fresh
// pages (first touch of a 4 KiB page costs ~11 us here, far more than a whole small op).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/memory_limit.h"

namespace adjoint {

struct MemoryStats {
  int64_t live_bytes;     // handed out and not yet returned
  int64_t cached_bytes;   // returned and kept for reuse
  int64_t live_tensors;   // TensorImpl objects alive
};

// 64-byte aligned. Throws OutOfMemory naming the op, the bytes asked for, the live bytes and the
// process's memory limit when the request cannot be met even after the out-of-memory handler ran.
void* host_alloc(size_t nbytes, const char* op);
void host_free(void* p, size_t nbytes);
void host_empty_cache();
MemoryStats memory_stats();
// What a tensor costs natively beyond its data block, for the memory pressure count: a TensorImpl
// and a storage object (shape and strides of kMaxDims, inline data; tensor.cpp checks the sizes).
constexpr int64_t kTensorObjectBytes = 512;
// TensorImpl's operator new and delete: a per-thread free list that also keeps live_tensors.
void* tensor_impl_alloc(size_t size);
void tensor_impl_free(void* p, size_t size);

// ---- the process's memory limit, garbage-collection hints and the out-of-memory handler
// (allocator.cpp's NOTE on memory pressure)

// The limit detected at the first use (memory_limit.h), or the one set below.
MemoryLimit memory_limit();
// Replaces the limit (tests; the hint threshold and the cache's cap follow it).
void set_memory_limit(const MemoryLimit& limit);
// Net growth of native memory, in bytes, that raises the hint flag: limit / 64 within [32, 256] MiB.
int64_t gc_hint_threshold();
// Net bytes allocated since the last hint (never below 0; per-thread parts of < 1 MiB not yet in).
int64_t gc_hint_pressure();
// What the pressure counts, in all: live bytes plus kTensorObjectBytes per live tensor.
int64_t gc_hint_footprint();
// The flag, 0 or 1, that the Java layer reads in place after making an unscoped tensor.
int32_t* gc_hint_flag();
// Called by whoever acted on the flag (asked for a garbage collection): clears flag and pressure.
void gc_hint_taken();
// Bytes this allocator holds from the system: live blocks and cached ones.
int64_t held_bytes();

// Called by an allocation that failed (over the limit, or refused by the system), before it is
// retried once: the Java layer runs a garbage collection and waits for the Cleaner's releases.
using OomHandler = int (*)(int64_t nbytes);
void set_oom_handler(OomHandler h);
// While one lives on a thread, allocations there do not call the handler: a JNI critical region
// (JavaCPP's @CriticalRegion entry points) must not call back into Java.
class NoOomUpcall {
 public:
  NoOomUpcall();
  ~NoOomUpcall();
  NoOomUpcall(const NoOomUpcall&) = delete;
  NoOomUpcall& operator=(const NoOomUpcall&) = delete;

 private:
  bool was_;
};

}  // namespace adjoint
