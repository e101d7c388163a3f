#include "core/allocator.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iomanip>
#include <new>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/tls.h"

namespace adjoint {
namespace {

// NOTE: blocks are binned by their rounded size; a freed block goes back to its bin unless the
// cache already holds kMaxCached bytes, so cached memory is bounded and stats stay exact.
constexpr size_t kAlign = 64;
constexpr size_t kMaxCached = size_t(1) << 30;  // or an eighth of the memory limit, if less
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
  int64_t pressure;   // net bytes not yet added to g_pressure (less than kPressureChunk either way)
  bool entered;       // in the stats registry, with a ThreadExit armed
  bool exited;        // ThreadExit has run: frees bypass the front cache
  bool no_upcall;     // a NoOomUpcall lives: do not call the out-of-memory handler
  bool in_upcall;     // inside the out-of-memory handler (an allocation there must not recurse)
};
constexpr int kMaxFreeImpls = 1024;
thread_local ThreadState t_state{};

// NOTE: memory pressure for tensors left to the Java garbage collector. The JVM cannot see native
// memory, so a loop that leaves its tensors to the Cleaner (no Scope, no close) would grow until
// the system kills the process, unless something asks for a collection. What asks is a count of
// native bytes: blocks handed out or given back past the per-thread caches (the shared cache and
// the system; the per-thread ones hold a few MiB at most) and tensor objects made or dropped past
// their free list (kTensorObjectBytes each) add to a per-thread figure, which joins the global
// g_pressure in steps of kPressureChunk (one atomic add per MiB). An op whose blocks and tensor
// objects come from and go back to this thread's caches (the hot path) counts nothing.
// g_pressure is the net growth since the last hint, held at 0 from below (memory returned before
// the growth does not count in advance). When it reaches the threshold (limit / 64, in [32 MiB, 256 MiB]) g_gc_flag goes to 1;
// the Java layer reads that flag in place (no JNI call) each time it hands a tensor to the
// Cleaner, asks for a collection, rate-limited, and clears flag and pressure (gc_hint_taken).
// Scoped code never looks at the flag: its memory comes back at scope close.
constexpr int64_t kPressureChunk = int64_t(1) << 20;
std::atomic<int64_t> g_pressure{0};
alignas(64) std::atomic<int32_t> g_gc_flag{0};
// Bytes held from the system (live and cached blocks): what the out-of-memory guard compares with
// the limit. Changed only where blocks come from or go back to the system (slow paths).
std::atomic<int64_t> g_held{0};
std::atomic<OomHandler> g_oom_handler{nullptr};

// The limit and what follows from it, detected at the first use.
struct Limits {
  std::mutex mu;  // guards source
  std::string source;
  std::atomic<int64_t> bytes{0}, threshold{0}, max_cached{0};
  void set(const MemoryLimit& l) {
    std::lock_guard<std::mutex> g(mu);
    source = l.source;
    bytes.store(l.bytes, std::memory_order_relaxed);
    threshold.store(std::clamp<int64_t>(l.bytes / 64, int64_t(32) << 20, int64_t(256) << 20), std::memory_order_relaxed);
    max_cached.store(std::min<int64_t>(int64_t(kMaxCached), l.bytes / 8), std::memory_order_relaxed);
  }
};
Limits& limits() {
  static Limits* l = [] {
    Limits* r = new Limits();  // leaked on purpose, as the cache
    r->set(detect_memory_limit(system_memory_limit_inputs()));
    return r;
  }();
  return *l;
}

[[gnu::noinline]] void flush_pressure(int64_t d) {
  if (d > 0) {
    int64_t v = g_pressure.fetch_add(d, std::memory_order_relaxed) + d;
    if (v >= limits().threshold.load(std::memory_order_relaxed) && g_gc_flag.load(std::memory_order_relaxed) == 0)
      g_gc_flag.store(1, std::memory_order_relaxed);
  } else {
    int64_t cur = g_pressure.load(std::memory_order_relaxed);
    while (!g_pressure.compare_exchange_weak(cur, std::max<int64_t>(0, cur + d), std::memory_order_relaxed)) {
    }
  }
}
// (After the thread's exit hook ran, t_state stays valid: its count still flushes by chunks.)
inline void note_pressure(ThreadState& t, int64_t d) {
  int64_t p = t.pressure + d;
  // p outside (-kPressureChunk, kPressureChunk), in one unsigned compare
  if (__builtin_expect(uint64_t(p + (kPressureChunk - 1)) > uint64_t(2 * kPressureChunk - 2), 0)) {
    t.pressure = 0;
    return flush_pressure(p);
  }
  t.pressure = p;
}

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

}  // namespace

// NOTE: under AddressSanitizer, data blocks are neither rounded up nor recycled: each tensor gets
// a block of exactly its size that goes back to the sanitizer's heap when freed, so a read past
// the end or a use after free of tensor data is reported (the caches would hide both). The
// accounting stays in rounded sizes, as in the normal build.
#if defined(__SANITIZE_ADDRESS__)
#define ADJ_ASAN_EXACT_BLOCKS 1
#endif

namespace {

// A block from the system; sz is the rounded size it is accounted at.
void* system_alloc(size_t sz, size_t nbytes) {
#ifdef ADJ_ASAN_EXACT_BLOCKS
  void* p = nullptr;
  if (posix_memalign(&p, kAlign, nbytes == 0 ? 1 : nbytes) != 0) p = nullptr;
#else
  void* p = std::aligned_alloc(kAlign, sz);
#endif
  if (p) g_held.fetch_add(int64_t(sz), std::memory_order_relaxed);
  return p;
}

void system_free(void* p, size_t sz) {
  g_held.fetch_sub(int64_t(sz), std::memory_order_relaxed);
  std::free(p);
}

// NOTE: the out-of-memory guard. Linux overcommits: a malloc beyond what the process may use
// succeeds and the process is killed later, when the pages are touched (by the kernel's OOM
// killer, or by its cgroup's). So a block from the system is refused up front when the bytes this
// allocator then holds (live and cached) would pass the process's memory limit (memory_limit.h:
// physical memory, cgroup, rlimits); the cache is emptied first. Refused, or refused by the
// system itself, the allocation calls the out-of-memory handler once (the Java layer: a garbage
// collection, then the Cleaner's releases; none inside a NoOomUpcall) and tries again before it
// throws. NOTE: no lock is held while the handler runs: the Cleaner's releases free blocks.
bool over_guard(size_t sz) {
  return g_held.load(std::memory_order_relaxed) + int64_t(sz) > limits().bytes.load(std::memory_order_relaxed);
}

// A block of sz bytes from the shared cache or the system, or null.
void* try_alloc(ThreadState& t, size_t sz, size_t nbytes) {
#ifndef ADJ_ASAN_EXACT_BLOCKS
  if (sz <= kMaxCachedBlock) {
    Cache& c = cache();
    std::lock_guard<std::mutex> g(c.mu);
    auto it = c.bins.find(sz);
    if (it != c.bins.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached -= sz;
      add_live(t, int64_t(sz));
      note_pressure(t, int64_t(sz));
      return p;
    }
  }
#endif
  if (over_guard(sz)) {
    host_empty_cache();
    if (over_guard(sz)) return nullptr;
  }
  void* p = system_alloc(sz, nbytes);
  if (!p) {
    host_empty_cache();
    p = system_alloc(sz, nbytes);
  }
  if (p) {
    add_live(t, int64_t(sz));
    note_pressure(t, int64_t(sz));
  }
  return p;
}

// Runs the out-of-memory handler if there is one and this thread may call it; true if it ran.
bool run_oom_handler(ThreadState& t, size_t nbytes) {
  OomHandler h = g_oom_handler.load(std::memory_order_acquire);
  if (!h || t.no_upcall || t.in_upcall) return false;
  t.in_upcall = true;
  h(int64_t(nbytes));
  t.in_upcall = false;
  return true;
}

std::string byte_figure(int64_t v) {
  std::ostringstream s;
  s << v << " bytes";
  const char* unit[] = {"KiB", "MiB", "GiB", "TiB"};
  double x = double(v);
  int u = -1;
  while (x >= 1024 && u < 3) x /= 1024, u++;
  if (u >= 0) s << " (" << std::fixed << std::setprecision(1) << x << " " << unit[u] << ")";
  return s.str();
}

std::string limit_text() {
  Limits& l = limits();
  std::lock_guard<std::mutex> g(l.mu);
  return byte_figure(l.bytes.load(std::memory_order_relaxed)) + ", from " + l.source;
}

[[gnu::noinline, noreturn]] void fail_out_of_memory(size_t nbytes, const char* op, bool handler_ran) {
  MemoryStats m = memory_stats();
  ADJ_FAIL(ErrorKind::OutOfMemory, op,
           "cannot allocate " << nbytes << " bytes: native tensors hold " << byte_figure(m.live_bytes) << " live (and "
                              << byte_figure(m.cached_bytes) << " cached) and the process's memory limit is " << limit_text()
                              << (handler_ran ? "; still so after a garbage collection and the Cleaner's releases"
                                              : "; no garbage collection could be asked for here")
                              << " (close tensors or use a Scope to release them sooner)");
}

// Everything but the per-thread front cache: the shared cache, the guard, the system, the handler.
[[gnu::noinline]] void* alloc_slow(ThreadState& t, size_t nbytes, size_t sz, const char* op) {
  const int64_t limit = limits().bytes.load(std::memory_order_relaxed);
  ADJ_CHECK(sz <= size_t(limit), ErrorKind::OutOfMemory, op,
            "cannot allocate " << nbytes << " bytes: more than the process's memory limit of " << limit_text());
  void* p = try_alloc(t, sz, nbytes);
  if (p) return p;
  const bool ran = run_oom_handler(t, nbytes);
  if (ran) p = try_alloc(t, sz, nbytes);
  if (!p) fail_out_of_memory(nbytes, op, ran);
  return p;
}

}  // namespace

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
  return alloc_slow(t, nbytes, sz, op);
}

void host_free(void* p, size_t nbytes) {
  if (!p) return;
  size_t sz = round_size(nbytes == 0 ? 1 : nbytes);
  ThreadState& t = state();
  add_live(t, -int64_t(sz));
#ifdef ADJ_ASAN_EXACT_BLOCKS
  note_pressure(t, -int64_t(sz));
  return system_free(p, sz);
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
  note_pressure(t, -int64_t(sz));
  if (sz <= kMaxCachedBlock) {
    Cache& c = cache();
    const size_t cap = size_t(limits().max_cached.load(std::memory_order_relaxed));
    std::lock_guard<std::mutex> g(c.mu);
    if (c.cached + sz <= cap) {
      c.bins[sz].push_back(p);
      c.cached += sz;
      return;
    }
  }
  system_free(p, sz);
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
        system_free(lc->at(b, i), sz);
      }
      lc->count[b] = 0;
    }
  }
  Cache& c = cache();
  std::lock_guard<std::mutex> g(c.mu);
  for (auto& kv : c.bins)
    for (void* p : kv.second) system_free(p, kv.first);
  c.bins.clear();
  c.cached = 0;
}

MemoryLimit memory_limit() {
  Limits& l = limits();
  std::lock_guard<std::mutex> g(l.mu);
  return MemoryLimit{l.bytes.load(std::memory_order_relaxed), l.source};
}
void set_memory_limit(const MemoryLimit& limit) { limits().set(limit); }
int64_t gc_hint_threshold() { return limits().threshold.load(std::memory_order_relaxed); }
int64_t gc_hint_pressure() { return g_pressure.load(std::memory_order_relaxed); }
int64_t gc_hint_footprint() {
  MemoryStats m = memory_stats();
  return m.live_bytes + m.live_tensors * kTensorObjectBytes;
}
int32_t* gc_hint_flag() {
  static_assert(sizeof(std::atomic<int32_t>) == sizeof(int32_t) && std::atomic<int32_t>::is_always_lock_free,
                "the flag is read in place as a plain int32");
  return reinterpret_cast<int32_t*>(&g_gc_flag);
}
void gc_hint_taken() {
  g_pressure.store(0, std::memory_order_relaxed);
  g_gc_flag.store(0, std::memory_order_relaxed);
}
int64_t held_bytes() { return g_held.load(std::memory_order_relaxed); }
void set_oom_handler(OomHandler h) { g_oom_handler.store(h, std::memory_order_release); }
NoOomUpcall::NoOomUpcall() {
  ThreadState& t = state();
  was_ = t.no_upcall;
  t.no_upcall = true;
}
NoOomUpcall::~NoOomUpcall() { state().no_upcall = was_; }

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
  ThreadState& t = state();
  add_tensors(t, 1);
  note_pressure(t, kTensorObjectBytes);
  return p;
}
void tensor_impl_free(void* p, size_t) {
  ThreadState& t = state();
  add_tensors(t, -1);
  note_pressure(t, -kTensorObjectBytes);
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
    note_pressure(t, kTensorObjectBytes);
  }
  add_tensors(t, 1);
  return p;
}
void tensor_impl_free(void* p, size_t) {
  ThreadState& t = state();
  add_tensors(t, -1);
  if (t.exited || t.n_free_impls >= kMaxFreeImpls) {
    note_pressure(t, -kTensorObjectBytes);
    return ::operator delete(p);
  }
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
      if (c.cached + sz <= size_t(limits().max_cached.load(std::memory_order_relaxed))) {
        c.bins[sz].push_back(lc->at(b, i));
        c.cached += sz;
      } else {
        system_free(lc->at(b, i), sz);
      }
    }
  }
  std::free(lc);
}

}  // namespace

}  // namespace adjoint
