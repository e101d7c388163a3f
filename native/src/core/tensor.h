// Tensor: a handle to shape/stride/dtype metadata over a refcounted Storage. Views share storage.
// A tensor may instead be a tracer (owned by a transform level); it then has no storage of its own.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <new>

#include "core/allocator.h"
#include "core/device.h"
#include "core/dtype.h"
#include "core/object_pool.h"
#include "core/ref.h"
#include "core/shape.h"

namespace adjoint {

struct SparseFacts;

// The bits of Storage::value_facts. Each group has a "known" bit: the others mean nothing without it.
namespace value_fact {
enum : uint8_t {
  kFloatKnown = 1,           // float32/float64 storage: the next two bits are valid
  kAllFinite = 2,            // every value is finite
  kAllFiniteNonzero = 4,     // every value is finite and nonzero
  kIndexKnown = 8,           // int64 storage (one-hot positions): the next two bits are valid
  kIndexAnyNegative = 16,    // some entry is negative (-1: an invalid position)
  kIndexConsecutive = 32,    // entry i is entry 0 + i, as an arange
};
}  // namespace value_fact

struct Storage {
  std::atomic<int32_t> refs{1};
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  // NOTE: a storage's values never change once an op has returned the tensor that owns it (the
  // API has no in-place ops; kernels only write outputs they have just allocated). So facts about
  // all its values, computed once, stay true: a set of ValueFact bits (below). The float facts are
  // set by all_finite_deep (interp/level.cpp) when a scan covers the whole storage; the int64 facts
  // of one-hot positions by interp/onehot.cpp, whose rules ask them of the same index many times
  // (see its NOTE on affine indices).
  std::atomic<uint8_t> value_facts{0};
  // Under the same NOTE: a storage written as zeros plus a few values at known places (a one-hot
  // batch densified: the Jacobian or Hessian of an elementwise function) may say so here, set by
  // its producer before the tensor is returned; ops may then use the places instead of reading
  // every zero (matmul of such a matrix: a gather, not a dense product). Null when unknown.
  std::unique_ptr<SparseFacts> sparse;
  // NOTE: CPU data of at most kInlineBytes lives here, in the storage object itself: one pooled
  // object instead of an object plus an allocator block (and its thread-local lookups) for the
  // small tensors that make up most of a small workload. 16-byte aligned (kernels load unaligned;
  // streaming stores align themselves). Like the pool's other objects, not counted in
  // memory_stats()'s live bytes.
  static constexpr size_t kInlineBytes = 128;
  alignas(16) unsigned char inline_data[kInlineBytes];
  Storage() {}  // user-provided: `new Storage()` must not zero the inline buffer
  ~Storage();
  ADJ_POOLED_OBJECT
};

// Base of interpreter-specific tracer payloads (jvp dual, batched value, tape node).
struct TracerBase {
  std::atomic<int32_t> refs{1};
  virtual ~TracerBase() = default;
  // Called by Ref when the last reference goes (instead of delete); see tensor.cpp's NOTE.
  static void destroy_unreferenced(TracerBase* p);
  TracerBase* next_dead;  // link of the deferred-deletion list; unset (and unread) until then
  ADJ_POOLED_OBJECT
};

struct TensorImpl {
  std::atomic<int32_t> refs{1};
  Ref<Storage> storage;  // null for tracers
  int64_t offset = 0;    // in elements
  Dims shape, strides;
  DType dtype = DType::Float32;
  Device device;
  Ref<TracerBase> tracer;
  // User-provided, so that `new TensorImpl()` does not zero all 300 bytes first (the dims arrays
  // beyond n are never read).
  TensorImpl() {}
  static void* operator new(size_t size) { return tensor_impl_alloc(size); }
  static void operator delete(void* p, size_t size) { tensor_impl_free(p, size); }
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Ref<TensorImpl> impl) : impl_(std::move(impl)) {}

  // A new contiguous tensor with uninitialised memory.
  static Tensor empty(const Dims& shape, DType dtype, Device device = {}, const char* op = "empty");
  // A view of t's storage with new metadata; `op` names the op in the error for a shape whose
  // element count overflows (numel_of).
  static Tensor view_of(const Tensor& t, const Dims& shape, const Dims& strides, int64_t offset, const char* op = "view_of");

  bool defined() const { return bool(impl_); }
  TensorImpl* impl() const { return impl_.get(); }
  const Ref<TensorImpl>& ref() const { return impl_; }
  Ref<TensorImpl> take() && { return std::move(impl_); }  // hands the count over (no atomic traffic)

  const Dims& shape() const { return impl_->shape; }
  const Dims& strides() const { return impl_->strides; }
  int ndim() const { return impl_->shape.n; }
  int64_t size(int d) const { return impl_->shape[d]; }
  int64_t numel() const { return numel_of(impl_->shape); }
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->device; }
  int64_t offset() const { return impl_->offset; }
  bool is_tracer() const { return bool(impl_->tracer); }
  bool is_contiguous() const;
  // Non-overlapping and dense: the elements fill storage[offset, offset + numel) in some order
  // (contiguous, or a permutation of a contiguous tensor such as a transpose).
  bool is_dense() const;
  // The leading dims (all but the last) read as one dim of rows: the stride between consecutive
  // rows when they merge (that of the innermost leading dim of size > 1; size-1 dims have any
  // stride), else -1. With no leading dim of size > 1 (one row, or none), the last dim's size
  // times its stride. Rank >= 1.
  int64_t merged_row_stride() const;

  template <class T> T* data() const { return static_cast<T*>(impl_->storage->data) + impl_->offset; }
  void* raw_data() const { return static_cast<char*>(impl_->storage->data) + impl_->offset * itemsize(impl_->dtype); }

 private:
  template <int N> friend class BorrowedSlots;
  friend class BorrowedTensor;
  Ref<TensorImpl> impl_;
};

// The nonzero places of a mostly-zero storage (Storage::sparse): distinct flat element positions
// (int64 [nnz]) and the values there (contiguous [nnz], the storage's dtype; some may be zero).
struct SparseFacts {
  Tensor positions, values;
};

// NOTE: tensors passed on as borrowed references: n slots (N inline, heap beyond) that share the
// callers' TensorImpls without taking a count, and drop them without releasing one. A primitive
// call's arguments (apply2/apply3) and the interpreters' unwrapped arguments then cost no atomic
// reference-count traffic; the caller's references (or the input tracers) keep them alive for
// the call, and whatever a rule keeps it copies (taking a real count).
template <int N>
class BorrowedSlots {
 public:
  explicit BorrowedSlots(int n) : n_(n), p_(n <= N ? reinterpret_cast<Tensor*>(inline_) : static_cast<Tensor*>(::operator new(sizeof(Tensor) * size_t(n)))) {
    for (int i = 0; i < n; i++) new (&p_[i]) Tensor();
  }
  ~BorrowedSlots() {
    for (int i = 0; i < n_; i++) p_[i].impl_.release();
    if (n_ > N) ::operator delete(p_);
  }
  BorrowedSlots(const BorrowedSlots&) = delete;
  BorrowedSlots& operator=(const BorrowedSlots&) = delete;
  void borrow(int i, const Tensor& x) { new (&p_[i]) Tensor(Ref<TensorImpl>::adopt(x.impl())); }  // slot i was empty
  const Tensor& operator[](int i) const { return p_[i]; }
  const Tensor* data() const { return p_; }

 private:
  int n_;
  Tensor* p_;
  alignas(Tensor) unsigned char inline_[N * sizeof(Tensor)];
};

// One tensor borrowed the same way: from a reference its maker's caller holds for the whole use
// (a C API handle). It converts to const Tensor& only, so nothing can move the uncounted reference
// into a real holder; whatever keeps it copies it (taking a count).
class BorrowedTensor {
 public:
  explicit BorrowedTensor(TensorImpl* p) : t_(Ref<TensorImpl>::adopt(p)) {}
  ~BorrowedTensor() { t_.impl_.release(); }
  BorrowedTensor(const BorrowedTensor&) = delete;
  BorrowedTensor& operator=(const BorrowedTensor&) = delete;
  operator const Tensor&() const { return t_; }
  const Tensor& get() const { return t_; }
  const Tensor* operator->() const { return &t_; }

 private:
  Tensor t_;
};

}  // namespace adjoint
