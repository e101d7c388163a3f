#include "core/tensor.h"

#include "backends/backend.h"
#include "core/allocator.h"
#include "core/error.h"

namespace adjoint {

Storage::~Storage() {
  if (data && data != inline_data) backend_for(device).free(data, nbytes);
}


Tensor Tensor::empty(const Dims& shape, DType dtype, Device device, const char* op) {
  int64_t n = numel_of(shape);
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

Tensor Tensor::view_of(const Tensor& t, const Dims& shape, const Dims& strides, int64_t offset) {
  auto* impl = new TensorImpl();
  impl->storage = t.impl()->storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
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
      expect = row * size(i);
    } else {
      if (strides()[i] != expect) return -1;
      expect *= size(i);
    }
  }
  return row >= 0 ? row : size(n - 1) * strides()[n - 1];
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  const Dims& sh = shape();
  const Dims& st = strides();
  for (int i = sh.n - 1; i >= 0; i--) {
    if (sh[i] == 1) continue;
    if (st[i] != expected) return false;
    expected *= sh[i];
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
    expected *= sizes[i];
  }
  return true;
}

}  // namespace adjoint
