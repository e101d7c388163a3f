// SmallVector<T, N>: N elements inline, heap only beyond. Per-op argument arrays are almost always
// 1-3 long; this keeps the interpreters' hot path free of allocations.
#pragma once
#include <vector>

namespace adjoint {

template <class T, int N>
class SmallVector {
 public:
  explicit SmallVector(int n) : n_(n) {
    if (n > N) {
      heap_.resize(size_t(n));
      p_ = heap_.data();
    } else {
      p_ = inline_;
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
  int size() const { return n_; }

 private:
  T inline_[N];
  std::vector<T> heap_;
  T* p_;
  int n_;
};

}  // namespace adjoint
