#include "core/shape.h"

#include <sstream>

#include "core/error.h"

namespace adjoint {

Dims::Dims(std::initializer_list<int64_t> l) {
  ADJ_CHECK(l.size() <= size_t(kMaxDims), ErrorKind::Unsupported, "shape", "rank " << l.size() << " exceeds the maximum of " << kMaxDims);
  for (int64_t x : l) v[n++] = x;
}

Dims Dims::of(const int64_t* p, int count) {
  ADJ_CHECK(count >= 0 && count <= kMaxDims, ErrorKind::Unsupported, "shape", "rank " << count << " exceeds the maximum of " << kMaxDims);
  Dims d;
  for (int i = 0; i < count; i++) d.v[i] = p[i];
  d.n = count;
  return d;
}

void Dims::push_back(int64_t x) {
  ADJ_CHECK(n < kMaxDims, ErrorKind::Unsupported, "shape", "rank would exceed the maximum of " << kMaxDims);
  v[n++] = x;
}

void Dims::insert(int pos, int64_t x) {
  ADJ_CHECK(n < kMaxDims, ErrorKind::Unsupported, "shape", "rank would exceed the maximum of " << kMaxDims);
  for (int i = n; i > pos; i--) v[i] = v[i - 1];
  v[pos] = x;
  n++;
}

void Dims::erase(int pos) {
  for (int i = pos; i + 1 < n; i++) v[i] = v[i + 1];
  n--;
}

bool Dims::operator==(const Dims& o) const {
  if (n != o.n) return false;
  for (int i = 0; i < n; i++)
    if (v[i] != o.v[i]) return false;
  return true;
}

std::string Dims::str() const {
  std::ostringstream s;
  s << '[';
  for (int i = 0; i < n; i++) s << (i ? ", " : "") << v[i];
  s << ']';
  return s.str();
}

int64_t numel_of(const Dims& shape, const char* op) {
  // NOTE: every op asks this (Tensor::numel); the common case is checked by overflow flags, not
  // by a 64-bit division per dim, and the slow loop below only runs when something is off.
  int64_t total = 1;
  bool bad = false;
  for (int i = 0; i < shape.n; i++) bad |= (shape[i] < 0) | __builtin_mul_overflow(total, shape[i], &total);
  if (!bad) return total;
  bool zero = false;
  for (int i = 0; i < shape.n; i++) {
    ADJ_CHECK(shape[i] >= 0, ErrorKind::Argument, op, "negative size " << shape[i] << " in shape " << shape.str());
    zero |= shape[i] == 0;
  }
  // No negative size: the product overflowed, before a 0 (which would make it 0) or with none.
  ADJ_CHECK(zero, ErrorKind::Argument, op, "shape " << shape.str() << " has more elements than int64 can count");
  return 0;
}

Dims contiguous_strides(const Dims& shape) {
  Dims s;
  s.n = shape.n;
  int64_t acc = 1;
  for (int i = shape.n - 1; i >= 0; i--) {
    s.v[i] = acc;
    acc = wrapping_mul(acc, shape.v[i] > 0 ? shape.v[i] : 1);
  }
  return s;
}

int wrap_dim(int64_t dim, int rank, const char* op) {
  int r = rank == 0 ? 1 : rank;  // a 0-d tensor accepts dim 0 / -1, like PyTorch
  ADJ_CHECK(dim >= -r && dim < r, ErrorKind::Index, op,
            "dim " << dim << " out of range for a tensor of rank " << rank << " (expected in [" << -r << ", " << r - 1 << "])");
  return int(dim < 0 ? dim + r : dim);
}

Dims broadcast_shapes(const Dims& a, const Dims& b, const char* op) {
  Dims out;
  out.n = a.n > b.n ? a.n : b.n;
  for (int i = 0; i < out.n; i++) {
    int ia = a.n - out.n + i, ib = b.n - out.n + i;
    int64_t da = ia >= 0 ? a.v[ia] : 1, db = ib >= 0 ? b.v[ib] : 1;
    ADJ_CHECK(da == db || da == 1 || db == 1, ErrorKind::Shape, op,
              "shapes " << a.str() << " and " << b.str() << " cannot be broadcast (dim " << i << ": " << da << " vs " << db << ")");
    out.v[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace adjoint
