// The CPU backend: own kernels for elementwise/reduction/data movement, OpenBLAS for gemm.
#pragma once
#include "backends/backend.h"

namespace adjoint::cpu {

class CpuBackend final : public Backend {
 public:
  DeviceType type() const override { return DeviceType::CPU; }
  bool supports(OpId) const override { return true; }
  void* alloc(size_t nbytes, const char* op) override;
  void free(void* p, size_t nbytes) override;
  void copy_from_host(void* dst, const void* src, size_t nbytes) override;
  void copy_to_host(void* dst, const void* src, size_t nbytes) override;
  void unary(const UnaryKernel& k, const Tensor& x, const Tensor& out) override { k.cpu(x, out); }
  void binary(const BinaryKernel& k, const Tensor& a, const Tensor& b, const Tensor& out) override { k.cpu(a, b, out); }
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void copy(const Tensor& src, const Tensor& dst) override;
  void cat(const Tensor* in, int nin, int dim, bool stacked, const Tensor& out) override;
  void fill(const Tensor& dst, double value) override;
  void arange(const Tensor& out, double start, double step) override;
  void reduce(const ReduceKernel& k, const Tensor& x, const Tensor& out_view, const Tensor& out) override { k.cpu(x, out_view, out); }
  uint8_t value_facts(const Tensor& x) override;
  void matmul(const Tensor& a, const Tensor& b, const Tensor& out) override;
  void linear(const Tensor& x, const Tensor& w, const Tensor* b, const Tensor& out, bool w_kn) override;
  void conv(const ConvKernel& k, const Tensor& a, const Tensor& b, const ConvGeom& g, const Tensor& out) override { k.cpu(a, b, g, out); }
  void conv_bias(const ConvBiasKernel& k, const Tensor& x, const Tensor& w, const Tensor& bias, const ConvGeom& g,
                 const Tensor& out) override {
    k.cpu(x, w, bias, g, out);
  }
  void pool(const PoolKernel& k, const Tensor& v, const Tensor& x, const PoolGeom& g, const Tensor& out) override { k.cpu(v, x, g, out); }
  void along_dim(const DimKernel& k, const Tensor* in, int nin, const DimGeom& g, const Tensor& out) override { k.cpu(in, nin, g, out); }
  void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) override;
  void index_add(const Tensor& g, int dim, const Tensor& index, const Tensor& out) override;
  bool indexed(const IndexedKernel& k, const Tensor& index, const Tensor& x, int dim, const Tensor& out, int64_t* bad) override {
    return k.cpu(index, x, dim, out, bad);
  }
  void random(Generator& g, bool normal, const Tensor& out) override;
};

}  // namespace adjoint::cpu
