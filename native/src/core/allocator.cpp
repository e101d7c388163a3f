#include "core/allocator.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace adjoint {
namespace {

// NOTE: blocks are binned by their rounded size; a freed block goes back to its bin unless the
// cache already holds kMaxCached bytes, so cached memory is bounded and stats stay exact.
constexpr size_t kAlign = 64;
constexpr size_t kMaxCached = size_t(1) << 30;
constexpr size_t kMaxCachedBlock = size_t(256) << 20;

size_t round_size(size_t n) {
  if (n <= 512) return (n + 63) & ~size_t(63);
  // Powers of two up to 1 MiB, then 1 MiB granules: bounded waste, good reuse.
  if (n <= (size_t(1) << 20)) {
    size_t r = 1024;
    while (r < n) r <<= 1;
    return r;
  }
  return (n + (size_t(1) << 20) - 1) & ~((size_t(1) << 20) - 1);
}

struct Cache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> bins;
  size_t cached = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // leaked on purpose: outlives static destructors of users
  return *c;
}

std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_tensors{0};

size_t physical_memory() {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? size_t(pages) * size_t(size) : size_t(-1);
}

}  // namespace

void* host_alloc(size_t nbytes, const char* op) {
  size_t sz = round_size(nbytes == 0 ? 1 : nbytes);
  static const size_t phys = physical_memory();
  ADJ_CHECK(sz <= phys, ErrorKind::OutOfMemory, op,
            "cannot allocate " << nbytes << " bytes: more than this machine's physical memory (" << phys << " bytes)");
  Cache& c = cache();
  if (sz <= kMaxCachedBlock) {
    std::lock_guard<std::mutex> g(c.mu);
    auto it = c.bins.find(sz);
    if (it != c.bins.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached -= sz;
      g_live += int64_t(sz);
      return p;
    }
  }
  void* p = std::aligned_alloc(kAlign, sz);
  if (!p) {
    host_empty_cache();
    p = std::aligned_alloc(kAlign, sz);
  }
  ADJ_CHECK(p, ErrorKind::OutOfMemory, op, "out of memory allocating " << nbytes << " bytes");
  g_live += int64_t(sz);
  return p;
}

void host_free(void* p, size_t nbytes) {
  if (!p) return;
  size_t sz = round_size(nbytes == 0 ? 1 : nbytes);
  g_live -= int64_t(sz);
  if (sz <= kMaxCachedBlock) {
    Cache& c = cache();
    std::lock_guard<std::mutex> g(c.mu);
    if (c.cached + sz <= kMaxCached) {
      c.bins[sz].push_back(p);
      c.cached += sz;
      return;
    }
  }
  std::free(p);
}

void host_empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> g(c.mu);
  for (auto& kv : c.bins)
    for (void* p : kv.second) std::free(p);
  c.bins.clear();
  c.cached = 0;
}

MemoryStats memory_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> g(c.mu);
  return MemoryStats{g_live.load(), int64_t(c.cached), g_tensors.load()};
}

void count_tensor(int delta) { g_tensors += delta; }

}  // namespace adjoint
