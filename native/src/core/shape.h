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

// NOTE: the one element count of the core, and its check. A shape is valid when no size is
// negative and its element count fits in int64; a shape with a size-0 dim has 0 elements whatever
// its other sizes (torch.zeros(0, 2**62, 2**62) is legal). Every tensor's shape is checked once,
// where the tensor is made (Tensor::empty, Tensor::view_of, make_tracer, each given the op's
// name), so an overflowing shape from reshape, view, expand, broadcasting, cat, vmap's batch dims
// or a Jacobian's [out..., in...] is an Argument error naming the op and the shape, never a
// wrapped count that kernels would read out of bounds by. Without `op` (a tensor's own shape,
// already checked) failures name "shape".
int64_t numel_of(const Dims& shape, const char* op = "shape");
// Row-major strides. Sizes of 0 count as 1; the strides of a 0-element shape whose other sizes
// overflow when multiplied wrap (they address nothing).
Dims contiguous_strides(const Dims& shape);
// a * b, a + b for sizes and strides that may wrap (only for shapes with 0 elements, whose strides
// address nothing): defined behaviour, unlike signed overflow.
inline int64_t wrapping_mul(int64_t a, int64_t b) { return int64_t(uint64_t(a) * uint64_t(b)); }
inline int64_t wrapping_add(int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); }
// Normalises a possibly negative dim against rank; throws naming op on out-of-range.
int wrap_dim(int64_t dim, int rank, const char* op);
// NumPy broadcasting of two shapes; throws naming op and both shapes on mismatch.
Dims broadcast_shapes(const Dims& a, const Dims& b, const char* op);

}  // namespace adjoint
