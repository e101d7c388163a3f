// A branch-free select for kernels whose condition is data (where, max pooling's running maximum).
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace adjoint::cpu {

// c ? a : b on the bits, with a mask: a ternary on values compiles to a branch (GCC 12 at -O3).
template <class T>
inline T select_bits(bool c, T a, T b) {
  using U = std::conditional_t<sizeof(T) == 8, uint64_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint8_t>>;
  static_assert(sizeof(U) == sizeof(T), "select_bits: no integer of the value's width");
  U ua, ub;
  std::memcpy(&ua, &a, sizeof(T));
  std::memcpy(&ub, &b, sizeof(T));
  const U m = U(0) - U(c), r = (ua & m) | (ub & ~m);
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}

}  // namespace adjoint::cpu
