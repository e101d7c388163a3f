#include "core/tensor.h"

#include "backends/backend.h"
#include "core/allocator.h"
#include "core/error.h"
#include "core/tls.h"

namespace adjoint {

static_assert(sizeof(TensorImpl) + sizeof(Storage) <= size_t(kTensorObjectBytes),
              "kTensorObjectBytes (allocator.h) counts a tensor object and its storage for the GC hint");

Storage::~Storage() {
  if (data && data != inline_data) backend_for(device).free(data, nbytes);
}

namespace {
// Tracer payloads whose deletion is pending on this thread (constant-initialised and trivially
// destructible: one thread-local lookup, no guard; usable during thread exit).
struct DeadTracers {
  TracerBase* head;
  bool draining;
};
thread_local DeadTracers t_dead{};
}  // namespace

// NOTE: tracer payloads form chains as long as the user's program: a tape node holds its input
// nodes (Ref<Node>) and tensors whose TensorImpls hold tracers of enclosing levels (a jvp dual's
// primal, a batched value, a node's saved values), so the last reference to the end of a chain
// of 10^5 ops would release it recursively, one nest of destructors per op, and overflow the
// stack (a JVM crash, also on the Cleaner's thread). Every such chain passes through a TracerBase,
// so the deletion of one is where recursion stops: the outermost deletion on a thread deletes its
// payload, and every payload released meanwhile (by that destructor or by the ones it runs) is
// pushed on this thread's list instead of being deleted in place, then deleted by the outermost
// one in a loop. The depth is then one payload's destructor whatever the chain's length; the
// cost is one thread-local lookup per payload, and no allocation (the list is intrusive).
void TracerBase::destroy_unreferenced(TracerBase* p) {
  DeadTracers& d = *tls_address(t_dead);
  if (d.draining) {
    p->next_dead = d.head;
    d.head = p;
    return;
  }
  d.draining = true;
  delete p;
  while (TracerBase* q = d.head) {
    d.head = q->next_dead;
    delete q;
  }
  d.draining = false;
}


Tensor Tensor::empty(const Dims& shape, DType dtype, Device device, const char* op) {
  int64_t n = numel_of(shape, op);
  size_t isz = itemsize(dtype);
  int64_t nbytes = 0;
  ADJ_CHECK(!__builtin_mul_overflow(n, int64_t(isz), &nbytes), ErrorKind::OutOfMemory, op, "shape " << shape.str() << " is too large");
  auto* st = new Storage();
  Ref<Storage> storage = Ref<Storage>::adopt(st);
  st->nbytes = size_t(nbytes);
  st->device = device;
  st->data = device.type == DeviceType::CPU && st->nbytes <= Storage::kInlineBytes ? st->inline_data
                                                                                  : backend_for(device).alloc(st->nbytes, op);
  auto* impl = new TensorImpl();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  impl->device = device;
  return Tensor(Ref<TensorImpl>::adopt(impl));
}

Tensor Tensor::view_of(const Tensor& t, const Dims& shape, const Dims& strides, int64_t offset, const char* op) {
  const int64_t n = numel_of(shape, op);  // see numel_of's NOTE
  auto* impl = new TensorImpl();
  impl->storage = t.impl()->storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = n == 0 ? 0 : offset;  // an empty view addresses nothing: no offset that may have wrapped
  impl->dtype = t.dtype();
  impl->device = t.device();
  return Tensor(Ref<TensorImpl>::adopt(impl));
}

int64_t Tensor::merged_row_stride() const {
  const int n = ndim();
  int64_t row = -1, expect = 0;
  for (int i = n - 2; i >= 0; i--) {
    if (size(i) == 1) continue;
    if (row < 0) {
      row = strides()[i];
      expect = wrapping_mul(row, size(i));
    } else {
      if (strides()[i] != expect) return -1;
      expect = wrapping_mul(expect, size(i));
    }
  }
  return row >= 0 ? row : wrapping_mul(size(n - 1), strides()[n - 1]);
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  const Dims& sh = shape();
  const Dims& st = strides();
  for (int i = sh.n - 1; i >= 0; i--) {
    if (sh[i] == 1) continue;
    if (st[i] != expected) return false;
    expected = wrapping_mul(expected, sh[i]);  // wraps only for shapes with 0 elements, as their strides do
  }
  return true;
}

bool Tensor::is_dense() const {
  int64_t sizes[kMaxDims], strides[kMaxDims];
  int n = 0;
  for (int i = 0; i < ndim(); i++) {
    if (size(i) == 1) continue;
    int j = n++;
    for (; j > 0 && strides[j - 1] > impl_->strides[i]; j--) {
      sizes[j] = sizes[j - 1];
      strides[j] = strides[j - 1];
    }
    sizes[j] = size(i);
    strides[j] = impl_->strides[i];
  }
  int64_t expected = 1;
  for (int i = 0; i < n; i++) {
    if (strides[i] != expected) return false;
    expected = wrapping_mul(expected, sizes[i]);
  }
  return true;
}

}  // namespace adjoint
