#include "core/object_pool.h"
#include "core/tls.h"

#include <new>

namespace adjoint {
namespace {

constexpr size_t kPoolGrain = 64;
constexpr int kPoolBins = int(kPoolMaxSize / kPoolGrain);
constexpr int kPoolPerBin = 1024;

struct Node {
  Node* next;
};

// NOTE: a thread's lists are constant-initialised and trivially destructible, so that every
// alloc/free reaches them with one thread-local lookup and no initialisation guard (see
// allocator.cpp's ThreadState). They are drained at thread exit by a hook armed on the first free
// that keeps a block; objects released later in that thread's exit (other thread_local
// destructors dropping tensors) see `dead` and go straight to ::operator delete, so nothing is
// pushed onto a drained list and nothing leaks.
struct PoolLists {
  Node* head[kPoolBins];
  int count[kPoolBins];
  bool armed;  // the exit hook is registered
  bool dead;   // drained: bypass the lists
};
thread_local PoolLists t_lists{};

struct PoolExit {
  ~PoolExit() {
    PoolLists& l = *tls_address(t_lists);
    l.dead = true;
    for (int b = 0; b < kPoolBins; b++) {
      while (l.head[b]) {
        Node* n = l.head[b];
        l.head[b] = n->next;
        ::operator delete(n);
      }
      l.count[b] = 0;
    }
  }
};

[[gnu::noinline]] void arm(PoolLists& l) {
  static thread_local PoolExit exit_hook;  // its destructor runs at this thread's exit
  (void)&exit_hook;
  l.armed = true;
}

int bin_of(size_t size) { return int((size + kPoolGrain - 1) / kPoolGrain) - 1; }

}  // namespace

// Under AddressSanitizer objects are not recycled, so a use after free is still reported.
#if defined(__SANITIZE_ADDRESS__)
void* pool_alloc(size_t size) { return ::operator new(size); }
void pool_free(void* p, size_t) { ::operator delete(p); }
#else
void* pool_alloc(size_t size) {
  if (size == 0 || size > kPoolMaxSize) return ::operator new(size);
  PoolLists& l = *tls_address(t_lists);
  const int b = bin_of(size);
  if (Node* n = l.head[b]) {
    l.head[b] = n->next;
    l.count[b]--;
    return n;
  }
  return ::operator new((size_t(b) + 1) * kPoolGrain);  // the bin's size: any block of the bin fits
}

void pool_free(void* p, size_t size) {
  if (!p) return;
  if (size == 0 || size > kPoolMaxSize) return ::operator delete(p);
  PoolLists& l = *tls_address(t_lists);
  const int b = bin_of(size);
  if (l.dead || l.count[b] >= kPoolPerBin) return ::operator delete(p);
  if (__builtin_expect(!l.armed, 0)) arm(l);
  Node* n = static_cast<Node*>(p);
  n->next = l.head[b];
  l.head[b] = n;
  l.count[b]++;
}
#endif

}  // namespace adjoint
