#include "core/object_pool.h"

#include <new>

namespace adjoint {
namespace {

constexpr size_t kPoolGrain = 64;
constexpr int kPoolBins = int(kPoolMaxSize / kPoolGrain);
constexpr int kPoolPerBin = 1024;

struct Node {
  Node* next;
};

// NOTE: a thread's lists are freed by its thread_local destructor; objects released later in that
// thread's exit (other thread_local destructors dropping tensors) see `dead` and go straight to
// ::operator delete, so nothing is pushed onto a drained list and nothing leaks.
struct PoolLists {
  Node* head[kPoolBins] = {};
  int count[kPoolBins] = {};
  bool dead = false;
  ~PoolLists() {
    dead = true;
    for (int b = 0; b < kPoolBins; b++) {
      while (head[b]) {
        Node* n = head[b];
        head[b] = n->next;
        ::operator delete(n);
      }
      count[b] = 0;
    }
  }
};

PoolLists& lists() {
  static thread_local PoolLists l;
  return l;
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
  PoolLists& l = lists();
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
  PoolLists& l = lists();
  const int b = bin_of(size);
  if (l.dead || l.count[b] >= kPoolPerBin) return ::operator delete(p);
  Node* n = static_cast<Node*>(p);
  n->next = l.head[b];
  l.head[b] = n;
  l.count[b]++;
}
#endif

}  // namespace adjoint
