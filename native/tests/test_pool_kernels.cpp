// Max pooling's vector row loops (backends/cpu/pool_rows.inc) against the window-by-window scan,
// for every ISA this CPU supports: 2x2 windows every 2 over planes of every width from 2 to 41
// (rows narrower than a vector, exact multiples, tails that overlap) and odd heights, with data
// full of ties, NaNs and infinities, where torch's rule (the first maximum in row-major order,
// the last NaN) decides. The gather (also with v the same storage as x: max_pool2d's forward) must
// give bit-identical values, the scatter the same output (and zeros where no window reaches).
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "backends/cpu/conv.h"
#include "check.h"
#include "core/tensor.h"

using namespace adjoint;
namespace vm = adjoint::cpu::vm;

namespace {

template <class T>
Tensor filled(const Dims& shape, DType dt, std::mt19937& rng, bool nasty) {
  Tensor t = Tensor::empty(shape, dt, Device{}, "test");
  T* p = t.data<T>();
  std::uniform_int_distribution<int> pick(0, 15);
  for (int64_t i = 0; i < t.numel(); i++) {
    const int k = pick(rng);
    // small integers tie often; NaN, +-inf and -0 where `nasty`
    if (nasty && k == 0) p[i] = std::numeric_limits<T>::quiet_NaN();
    else if (nasty && k == 1) p[i] = -std::numeric_limits<T>::infinity();
    else if (nasty && k == 2) p[i] = std::numeric_limits<T>::infinity();
    else if (nasty && k == 3) p[i] = T(-0.0);
    else p[i] = T(k % 5) - T(2);
  }
  return t;
}

// Bitwise equality (NaN payloads included: the kernels move values, they never compute them).
template <class T>
bool same_bits(const Tensor& a, const Tensor& b) {
  return a.numel() == b.numel() && std::memcmp(a.data<T>(), b.data<T>(), size_t(a.numel()) * sizeof(T)) == 0;
}

template <class T>
void check_isa(vm::Isa isa, DType dt) {
  std::mt19937 rng(7);
  for (int64_t w = 2; w <= 41; w++)
    for (int64_t h : {2, 3, 6}) {
      for (bool nasty : {false, true}) {
        PoolGeom g{3, h, w, 2, 2, 2, 2, (h - 2) / 2 + 1, (w - 2) / 2 + 1};
        const Dims in{g.planes, h, w}, pooled{g.planes, g.oh, g.ow};
        Tensor x = filled<T>(in, dt, rng, nasty), v = filled<T>(in, dt, rng, false), gy = filled<T>(pooled, dt, rng, false);
        Tensor a = Tensor::empty(pooled, dt, Device{}, "test"), b = Tensor::empty(pooled, dt, Device{}, "test");
        cpu::max_pool2d_with(isa, false, v, x, g, a);
        cpu::max_pool2d_scan(false, v, x, g, b);
        CHECK(same_bits<T>(a, b));
        cpu::max_pool2d_with(isa, false, x, x, g, a);  // v is x: the maxima themselves
        cpu::max_pool2d_scan(false, x, x, g, b);
        CHECK(same_bits<T>(a, b));
        Tensor c = Tensor::empty(in, dt, Device{}, "test"), d = Tensor::empty(in, dt, Device{}, "test");
        std::memset(c.data<T>(), 0xff, size_t(c.numel()) * sizeof(T));  // garbage (NaN bits): every element must be written
        cpu::max_pool2d_with(isa, true, gy, x, g, c);
        cpu::max_pool2d_scan(true, gy, x, g, d);
        CHECK(same_bits<T>(c, d));
        if (!same_bits<T>(c, d) || !same_bits<T>(a, b)) {
          std::printf("  isa %d, %s, h %lld, w %lld, nasty %d\n", int(isa), sizeof(T) == 4 ? "float32" : "float64", (long long)h, (long long)w, int(nasty));
          return;
        }
      }
    }
}

}  // namespace

TEST(max_pool_rows_match_the_scan_on_every_isa) {
  for (int i = 0; i < vm::kNumIsas; i++) {
    const vm::Isa isa = vm::Isa(i);
    if (!vm::isa_supported(isa)) continue;
    check_isa<float>(isa, DType::Float32);
    check_isa<double>(isa, DType::Float64);
  }
}

int main() { return check::run_all(); }
