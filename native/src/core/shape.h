// Sizes and strides: a fixed-capacity inline vector so that tensor metadata never touches the heap.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>

namespace adjoint {

// NOTE: rank is capped so that shape/stride storage is inline (no allocation per op). Every op that
// can grow rank checks against kMaxDims and raises a clear error instead of overflowing.
constexpr int kMaxDims = 16;

struct Dims {
  int64_t v[kMaxDims];
  int n = 0;

  Dims() = default;
  Dims(std::initializer_list<int64_t> l);
  static Dims of(const int64_t* p, int n);  // checks n <= kMaxDims

  int size() const { return n; }
  bool empty() const { return n == 0; }
  int64_t& operator[](int i) { return v[i]; }
  int64_t operator[](int i) const { return v[i]; }
  const int64_t* begin() const { return v; }
  const int64_t* end() const { return v + n; }
  int64_t* data() { return v; }
  const int64_t* data() const { return v; }
  void push_back(int64_t x);
  void insert(int pos, int64_t x);
  void erase(int pos);
  int64_t back() const { return v[n - 1]; }
  bool operator==(const Dims& o) const;
  bool operator!=(const Dims& o) const { return !(*this == o); }
  std::string str() const;  // "[2, 3]"
};

int64_t numel_of(const Dims& shape);              // checks for overflow
Dims contiguous_strides(const Dims& shape);
// Normalises a possibly negative dim against rank; throws naming op on out-of-range.
int wrap_dim(int64_t dim, int rank, const char* op);
// NumPy broadcasting of two shapes; throws naming op and both shapes on mismatch.
Dims broadcast_shapes(const Dims& a, const Dims& b, const char* op);

}  // namespace adjoint
