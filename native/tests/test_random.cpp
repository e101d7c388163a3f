// Checks adjoint::Generator against PyTorch 1.13's CPU random numbers, bit for bit.
// Expected data: native/tests/data/random_expected.h, from tests/reference/gen_random_expected.py.
// Build: g++ -std=c++17 -O2 -Inative/src native/src/core/random.cpp native/tests/test_random.cpp
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "core/random.h"
#include "data/random_expected.h"

namespace {

using random_expected::Case;

int g_failures = 0;

uint64_t fnv1a64(const void* data, size_t nbytes) {
  const unsigned char* p = static_cast<const unsigned char*>(data);  // little-endian host (x86-64)
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < nbytes; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

template <typename Bits>
void compare(const Case& c, size_t index, uint64_t seed, const Bits* got, const Bits* want) {
  // Stored values: want[0..head) is got[0..head), want[head..head+tail) is got[n-tail..n).
  for (int64_t k = 0; k < c.head + c.tail; ++k) {
    const int64_t i = k < c.head ? k : c.n - c.tail + (k - c.head);
    if (got[i] != want[k]) {
      std::printf("FAIL case %zu [%s] (seed %" PRIu64 "): first mismatch at index %" PRId64
                  " of %" PRId64 ": got 0x%" PRIx64 " want 0x%" PRIx64 "\n",
                  index, c.label, seed, i, c.n, static_cast<uint64_t>(got[i]),
                  static_cast<uint64_t>(want[k]));
      ++g_failures;
      return;
    }
  }
  const uint64_t h = fnv1a64(got, sizeof(Bits) * static_cast<size_t>(c.n));
  if (h != c.fnv1a64) {
    std::printf("FAIL case %zu [%s] (seed %" PRIu64 "): stored values match but hash over all %" PRId64
                " values differs (got %016" PRIx64 " want %016" PRIx64 ")\n",
                index, c.label, seed, c.n, h, c.fnv1a64);
    ++g_failures;
  }
}

void run_case(adjoint::Generator& gen, const Case& c, size_t index, uint64_t seed) {
  if (!c.is_double) {
    std::vector<float> v(static_cast<size_t>(c.n));
    if (c.kind == random_expected::kNormal) gen.normal(v.data(), c.n, c.a, c.b);
    else gen.uniform(v.data(), c.n, c.a, c.b);
    std::vector<uint32_t> bits(v.size());
    std::memcpy(bits.data(), v.data(), v.size() * sizeof(float));
    compare(c, index, seed, bits.data(), random_expected::kF32 + c.offset);
  } else {
    std::vector<double> v(static_cast<size_t>(c.n));
    if (c.kind == random_expected::kNormal) gen.normal(v.data(), c.n, c.a, c.b);
    else gen.uniform(v.data(), c.n, c.a, c.b);
    std::vector<uint64_t> bits(v.size());
    std::memcpy(bits.data(), v.data(), v.size() * sizeof(double));
    compare(c, index, seed, bits.data(), random_expected::kF64 + c.offset);
  }
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL %s\n", what);
    ++g_failures;
  }
}

}  // namespace

int main() {
  // The whole generated sequence, on the process-wide default generator (as library code uses it).
  // A "fresh" case switches to a newly constructed Generator(), like torch.Generator().
  adjoint::Generator* gen = &adjoint::default_generator();
  std::unique_ptr<adjoint::Generator> fresh;
  uint64_t seed = gen->initial_seed();
  const size_t num_cases = sizeof(random_expected::kCases) / sizeof(random_expected::kCases[0]);
  for (size_t i = 0; i < num_cases; ++i) {
    const Case& c = random_expected::kCases[i];
    if (c.reseed == 1) {
      gen = &adjoint::default_generator();
      gen->manual_seed(c.seed);
    } else if (c.reseed == 2) {
      fresh.reset(new adjoint::Generator());
      gen = fresh.get();
    }
    seed = gen->initial_seed();
    run_case(*gen, c, i, seed);
  }

  // Seed bookkeeping: the full 64-bit seed is reported, only the low 32 bits seed mt19937.
  check(adjoint::Generator().initial_seed() == 67280421310721ULL, "Generator() initial_seed");
  adjoint::Generator a((1ULL << 40) + 3), b(3);
  check(a.initial_seed() == (1ULL << 40) + 3, "initial_seed keeps 64 bits");
  float xa[20], xb[20];
  a.normal(xa, 20, 0, 1);
  b.normal(xb, 20, 0, 1);
  check(std::memcmp(xa, xb, sizeof xa) == 0, "seed 2^40+3 draws like seed 3");

  // manual_seed drops a pending cached normal sample (torch resets next_*_normal_sample_).
  adjoint::Generator g(7);
  double first, again;
  g.normal(&first, 1, 0, 1);
  g.manual_seed(7);
  g.normal(&again, 1, 0, 1);
  check(std::memcmp(&first, &again, sizeof first) == 0, "manual_seed clears cached normal");

  // n <= 0 draws nothing.
  adjoint::Generator e1(5), e2(5);
  float dummy = 0;
  e1.normal(&dummy, 0, 0, 1);
  e1.uniform(&dummy, 0, 0, 1);
  float y1, y2;
  e1.normal(&y1, 1, 0, 1);
  e2.normal(&y2, 1, 0, 1);
  check(y1 == y2, "empty draws consume nothing");

  if (g_failures) {
    std::printf("test_random: %d failure(s)\n", g_failures);
    return 1;
  }
  std::printf("test_random: all %zu torch cases bit-exact\n", num_cases);
  return 0;
}
