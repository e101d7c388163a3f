// SmallVector<T, N>: N elements inline, heap only beyond. Per-op argument arrays are almost always
// 1-3 long; this keeps the interpreters' hot path free of allocations.
#pragma once
#include <cstddef>
#include <new>
#include <type_traits>

namespace adjoint {

// NOTE: only the n elements in use are constructed (value-initialised: zero / null), in raw inline
// storage: a backward pass sizes its work arrays at 32 inline for any tape of up to 32 nodes, and
// constructing and destroying all 32 Tensors for a 3-node tape showed in its cost.
template <class T, int N>
class SmallVector {
 public:
  explicit SmallVector(int n) : n_(n) {
    if (n > N) {
      p_ = new T[size_t(n)]();
    } else {
      p_ = reinterpret_cast<T*>(inline_);
      for (int i = 0; i < n; i++) new (&p_[i]) T();
    }
  }
  ~SmallVector() {
    if (n_ > N) {
      delete[] p_;
    } else {
      for (int i = 0; i < n_; i++) p_[i].~T();
    }
  }
  SmallVector(const SmallVector&) = delete;
  SmallVector& operator=(const SmallVector&) = delete;
  T& operator[](int i) { return p_[i]; }
  const T& operator[](int i) const { return p_[i]; }
  T* data() { return p_; }
  const T* data() const { return p_; }
  T* begin() { return p_; }
  T* end() { return p_ + n_; }
  const T* begin() const { return p_; }
  const T* end() const { return p_ + n_; }
  int size() const { return n_; }

 private:
  alignas(T) unsigned char inline_[sizeof(T) * N];
  T* p_;  // inline_ or, beyond N, a heap array (no std::vector member to build and destroy)
  int n_;
};

}  // namespace adjoint
