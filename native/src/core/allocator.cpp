#include "core/allocator.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/tls.h"

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

// NOTE: statistics counters are per thread (no atomic read-modify-write on the hot path) and
// summed on demand; a thread's counts are folded into the retired totals when it exits. Counts
// may go negative on a thread that frees what another made; only the sum means anything.
struct ThreadStats;
struct StatsRegistry {
  std::mutex mu;
  std::vector<ThreadStats*> threads;
  int64_t retired_live = 0, retired_tensors = 0, retired_local_cached = 0;
};
StatsRegistry& stats_registry() {
  static StatsRegistry* r = new StatsRegistry();  // leaked: used by thread exits after main
  return *r;
}
struct ThreadStats {
  std::atomic<int64_t> live{0}, tensors{0}, local_cached{0};  // written by the owner thread only
};

// NOTE: a per-thread front cache for small blocks: most temporaries of small workloads are freed
// by the thread that made them, so the common alloc/free pair takes no lock. Blocks are binned by
// exact rounded size in a handful of classes; each bin holds at most local_bin_capacity(b) blocks
// and the rest goes to the shared cache. Its bytes count as cached in memory_stats(). The bins up
// to 512 bytes hold 256 (at most 576 KiB in all): a transform call over small tensors keeps ~100
// of them alive until it returns (16 Jacobian rows of W1: the rows, their tapes' values), and with
// 32 each call sent the rest through the shared cache's lock and back.
constexpr size_t kLocalMaxBlock = 64 << 10;
constexpr int kLocalBins = 16;  // 64, 128, ..., 512 bytes by 64; then 1 KiB .. 64 KiB by powers of two
constexpr int kLocalSmallPerBin = 256, kLocalLargePerBin = 32;
constexpr int kLocalSlots = 8 * kLocalSmallPerBin + 8 * kLocalLargePerBin;

size_t local_bin_size(int b) { return b < 8 ? size_t(b + 1) * 64 : size_t(1024) << (b - 8); }
int local_bin_capacity(int b) { return b < 8 ? kLocalSmallPerBin : kLocalLargePerBin; }
int local_bin_offset(int b) { return b < 8 ? b * kLocalSmallPerBin : 8 * kLocalSmallPerBin + (b - 8) * kLocalLargePerBin; }

int local_bin(size_t sz) {
  if (sz <= 512) return int(sz / 64) - 1;  // 0..7
  int b = 8;
  for (size_t r = 1024; r < sz; r <<= 1) b++;
  return b;  // 8..14 for 1 KiB..64 KiB
}


struct LocalCache {
  void* slots[kLocalSlots];  // bin b: slots[local_bin_offset(b) ...], count[b] of them in use
  int count[kLocalBins];
  void*& at(int b, int i) { return slots[local_bin_offset(b) + i]; }
};

// NOTE: a thread's allocator state, constant-initialised and trivially destructible, so that the
// hot paths reach it with one thread-local lookup and no initialisation guard (a function-local
// thread_local with a constructor or destructor costs two lookups per use, several per op). The
// work a constructor and destructor would do (entering the stats registry; at thread exit,
// retiring the counts and returning the cached blocks) is done by enter() on the first use that
// counts anything and by ThreadExit's destructor.
// The front cache itself is on the heap, made by enter(): the library's thread-local block stays
// a few hundred bytes, small enough for the loader to place it in the static TLS block, where
// each lookup is a short call into the loader instead of __tls_get_addr (ADJOINT_PIC_FLAGS in
// CMakeLists.txt).
struct ThreadState {
  ThreadStats stats;
  LocalCache* cache;  // null before enter(), after ThreadExit, or if it could not be allocated
  void* free_impls;   // TensorImpl blocks for reuse, linked through their first word
  int n_free_impls;
  bool entered;       // in the stats registry, with a ThreadExit armed
  bool exited;        // ThreadExit has run: frees bypass the front cache
};
constexpr int kMaxFreeImpls = 1024;
thread_local ThreadState t_state{};

void retire_thread();
struct ThreadExit {
  ~ThreadExit() { retire_thread(); }
};

[[gnu::noinline]] void enter(ThreadState& t) {
  static thread_local ThreadExit exit_hook;  // its destructor runs at this thread's exit
  (void)&exit_hook;
  std::lock_guard<std::mutex> g(stats_registry().mu);
  stats_registry().threads.push_back(&t.stats);
  t.cache = static_cast<LocalCache*>(std::calloc(1, sizeof(LocalCache)));  // none: no front cache
  t.entered = true;
}

// The state of this thread, entered in the registry.
inline ThreadState& state() {
  ThreadState& t = *tls_address(t_state);
  if (__builtin_expect(!t.entered, 0)) enter(t);
  return t;
}

// A count of this thread's; after its exit hook ran (frees from later thread_local destructors),
// straight into the retired totals, its own counts having left the registry.
[[gnu::noinline]] void add_retired(int64_t StatsRegistry::*total, int64_t d) {
  std::lock_guard<std::mutex> g(stats_registry().mu);
  stats_registry().*total += d;
}
inline void add(ThreadState& t, std::atomic<int64_t> ThreadStats::*c, int64_t StatsRegistry::*total, int64_t d) {
  if (__builtin_expect(t.exited, 0)) return add_retired(total, d);
  std::atomic<int64_t>& v = t.stats.*c;
  v.store(v.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
}
inline void add_live(ThreadState& t, int64_t d) { add(t, &ThreadStats::live, &StatsRegistry::retired_live, d); }
inline void add_tensors(ThreadState& t, int64_t d) { add(t, &ThreadStats::tensors, &StatsRegistry::retired_tensors, d); }
inline void add_local_cached(ThreadState& t, int64_t d) {
  add(t, &ThreadStats::local_cached, &StatsRegistry::retired_local_cached, d);
}

size_t physical_memory() {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? size_t(pages) * size_t(size) : size_t(-1);
}

}  // namespace

// NOTE: under AddressSanitizer, data blocks are neither rounded up nor recycled: each tensor gets
// a block of exactly its size that goes back to the sanitizer's heap when freed, so a read past
// the end or a use after free of tensor data is reported (the caches would hide both). The
// accounting stays in rounded sizes, as in the normal build.
#if defined(__SANITIZE_ADDRESS__)
#define ADJ_ASAN_EXACT_BLOCKS 1
#endif

void* host_alloc(size_t nbytes, const char* op) {
  size_t sz = round_size(nbytes == 0 ? 1 : nbytes);
  ThreadState& t = state();
  if (sz <= kLocalMaxBlock && t.cache) {  // (empty under ASan: host_free caches nothing there)
    LocalCache& lc = *t.cache;
    int b = local_bin(sz);
    if (lc.count[b] > 0) {
      add_local_cached(t, -int64_t(sz));
      add_live(t, int64_t(sz));
      return lc.at(b, --lc.count[b]);
    }
  }
  static const size_t phys = physical_memory();
  ADJ_CHECK(sz <= phys, ErrorKind::OutOfMemory, op,
            "cannot allocate " << nbytes << " bytes: more than this machine's physical memory (" << phys << " bytes)");
#ifdef ADJ_ASAN_EXACT_BLOCKS
  {
    void* p = nullptr;
    ADJ_CHECK(posix_memalign(&p, kAlign, nbytes == 0 ? 1 : nbytes) == 0 && p, ErrorKind::OutOfMemory, op,
              "out of memory allocating " << nbytes << " bytes");
    add_live(t, int64_t(sz));
    return p;
  }
#endif
  Cache& c = cache();
  if (sz <= kMaxCachedBlock) {
    std::lock_guard<std::mutex> g(c.mu);
    auto it = c.bins.find(sz);
    if (it != c.bins.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached -= sz;
      add_live(t, int64_t(sz));
      return p;
    }
  }
  void* p = std::aligned_alloc(kAlign, sz);
  if (!p) {
    host_empty_cache();
    p = std::aligned_alloc(kAlign, sz);
  }
  ADJ_CHECK(p, ErrorKind::OutOfMemory, op, "out of memory allocating " << nbytes << " bytes");
  add_live(t, int64_t(sz));
  return p;
}

void host_free(void* p, size_t nbytes) {
  if (!p) return;
  size_t sz = round_size(nbytes == 0 ? 1 : nbytes);
  ThreadState& t = state();
  add_live(t, -int64_t(sz));
#ifdef ADJ_ASAN_EXACT_BLOCKS
  std::free(p);
  return;
#endif
  if (sz <= kLocalMaxBlock && t.cache) {
    LocalCache& lc = *t.cache;
    int b = local_bin(sz);
    if (lc.count[b] < local_bin_capacity(b)) {
      lc.at(b, lc.count[b]++) = p;
      add_local_cached(t, int64_t(sz));
      return;
    }
  }
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
  {
    // This thread's front cache goes back first (other threads' drain when they exit).
    ThreadState& t = state();
    LocalCache* lc = t.cache;
    for (int b = 0; lc && b < kLocalBins; b++) {
      size_t sz = local_bin_size(b);
      for (int i = 0; i < lc->count[b]; i++) {
        add_local_cached(t, -int64_t(sz));
        std::free(lc->at(b, i));
      }
      lc->count[b] = 0;
    }
  }
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
  int64_t cached = int64_t(c.cached);
  StatsRegistry& r = stats_registry();
  std::lock_guard<std::mutex> g2(r.mu);
  MemoryStats m{r.retired_live, cached + r.retired_local_cached, r.retired_tensors};
  for (ThreadStats* t : r.threads) {
    m.live_bytes += t->live.load(std::memory_order_relaxed);
    m.cached_bytes += t->local_cached.load(std::memory_order_relaxed);
    m.live_tensors += t->tensors.load(std::memory_order_relaxed);
  }
  return m;
}

// NOTE: TensorImpls get their own free list here, beside the live-tensor count, so that making
// or dropping one takes one thread-local lookup (the object pool and a separate count took two:
// ~20 lookups per W1 row). Every TensorImpl has the same size; any thread may free one.
#if defined(__SANITIZE_ADDRESS__)  // not recycled, so that a use after free is still reported
void* tensor_impl_alloc(size_t size) {
  void* p = ::operator new(size);
  add_tensors(state(), 1);
  return p;
}
void tensor_impl_free(void* p, size_t) {
  add_tensors(state(), -1);
  ::operator delete(p);
}
#else
void* tensor_impl_alloc(size_t size) {
  ThreadState& t = state();
  void* p = t.free_impls;
  if (p) {
    t.free_impls = *static_cast<void**>(p);
    t.n_free_impls--;
  } else {
    p = ::operator new(size);
  }
  add_tensors(t, 1);
  return p;
}
void tensor_impl_free(void* p, size_t) {
  ThreadState& t = state();
  add_tensors(t, -1);
  if (t.exited || t.n_free_impls >= kMaxFreeImpls) return ::operator delete(p);
  *static_cast<void**>(p) = t.free_impls;
  t.free_impls = p;
  t.n_free_impls++;
}
#endif

namespace {

// NOTE: runs at a thread's exit (ThreadExit). The thread's counts go to the retired totals and
// leave the registry, its cached blocks go to the shared cache; frees by thread_local destructors
// that run later bypass the front cache and count straight into the retired totals (t.exited).
// t_state itself has no destructor, so it stays valid until the thread is gone.
void retire_thread() {
  ThreadState& t = *tls_address(t_state);
  {
    StatsRegistry& r = stats_registry();
    std::lock_guard<std::mutex> g(r.mu);
    r.retired_live += t.stats.live.exchange(0);
    r.retired_tensors += t.stats.tensors.exchange(0);
    r.retired_local_cached += t.stats.local_cached.exchange(0);
    for (auto& p : r.threads)
      if (p == &t.stats) { p = r.threads.back(); r.threads.pop_back(); break; }
    t.exited = true;
  }
  while (void* p = t.free_impls) {
    t.free_impls = *static_cast<void**>(p);
    ::operator delete(p);
  }
  t.n_free_impls = 0;
  Cache& c = cache();
  LocalCache* lc = t.cache;
  t.cache = nullptr;
  for (int b = 0; lc && b < kLocalBins; b++) {
    const size_t sz = local_bin_size(b);
    for (int i = 0; i < lc->count[b]; i++) {
      add_local_cached(t, -int64_t(sz));
      std::lock_guard<std::mutex> g(c.mu);
      if (c.cached + sz <= kMaxCached) {
        c.bins[sz].push_back(lc->at(b, i));
        c.cached += sz;
      } else {
        std::free(lc->at(b, i));
      }
    }
  }
  std::free(lc);
}

}  // namespace

}  // namespace adjoint
