// PyTorch-compatible CPU random number generator: mt19937 plus torch's uniform/normal transforms.
#pragma once
#include <cstdint>
#include <mutex>

namespace adjoint {

// NOTE: bit-exactness invariant. For the same seed and the same sequence of calls, every value this
// Generator produces is bit-for-bit identical to what torch 1.13 produces on an x86-64 CPU where ATen
// dispatches its AVX2 (or AVX512) kernels -- torch.manual_seed(s); torch.randn/rand/normal_/uniform_
// on contiguous float32/float64 CPU tensors -- including torch's cached second Box-Muller sample.
// To keep this true, random.cpp must be compiled without -ffast-math (or -ffp-contract games that
// change its explicit std::fma calls), and nothing in it may be "simplified" algebraically.
// Verified by native/tests/test_random.cpp against data generated from the real torch.
class Generator {
 public:
  // Seeded like torch.Generator() (default_rng_seed_val = 67280421310721).
  Generator();
  explicit Generator(uint64_t seed);
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // Same effect as torch.manual_seed / Generator.manual_seed on CPU state: reseeds mt19937 with the
  // low 32 bits of seed, keeps the full 64-bit value for initial_seed(), drops cached normal samples.
  void manual_seed(uint64_t seed);
  uint64_t initial_seed() const;
  // This generator's whole state (engine, seed, cached normal sample) made a copy of src's: the
  // next draws of both are the same (what checkpoint needs to replay its random ops, like
  // torch.utils.checkpoint's preserve_rng_state).
  void copy_state_from(const Generator& src);

  // Fill n contiguous values exactly as torch.randn/torch.rand (and .normal_/.uniform_) would for a
  // contiguous CPU tensor with numel()==n of that dtype. n < 16 and n >= 16 take different paths in
  // torch (scalar Box-Muller with a cached sample vs. a block-of-16 fill); both are reproduced.
  void normal(float* out, int64_t n, double mean, double std);
  void normal(double* out, int64_t n, double mean, double std);
  void uniform(float* out, int64_t n, double from, double to);
  void uniform(double* out, int64_t n, double from, double to);

  // Callers may lock this to serialize their own use of the generator with other threads. The fill
  // methods and manual_seed lock it internally, so do NOT hold it while calling them (std::mutex is
  // not recursive: that would deadlock).
  std::mutex& mutex();

 private:
  static constexpr int kStateN = 624;

  // at::mt19937 (MT19937RNGEngine.h): 32-bit state, seeded from the low 32 bits only.
  struct Engine {
    uint32_t state[kStateN];
    int left;
    int next;
    void seed(uint32_t s);
    void next_state();
    uint32_t operator()();
  };

  uint32_t random();    // CPUGeneratorImpl::random
  uint64_t random64();  // CPUGeneratorImpl::random64: (first << 32) | second
  float uniform01_float();
  double uniform01_double();
  double normal_scalar(double mean, double std);  // at::normal_distribution<double>
  void reseed_locked(uint64_t seed);

  Engine engine_;
  uint64_t seed_ = 0;
  // torch keeps the second Box-Muller value of the scalar path (next_double_normal_sample_); the
  // small-n path of both float and double tensors uses this double cache.
  bool has_next_double_normal_ = false;
  double next_double_normal_ = 0.0;
  mutable std::mutex mutex_;
};

// Process-wide default generator. Unlike torch (whose default CPU generator is seeded
// nondeterministically at startup) it starts at default_rng_seed_val; call manual_seed to match torch.
Generator& default_generator();

}  // namespace adjoint
