// The address of a thread-local, taken once per use site.
#pragma once

namespace adjoint {

// NOTE: with TLS descriptors (see CMakeLists.txt) GCC treats a thread-local's address as cheap to
// recompute, and recomputes it at each field access after a call instead of keeping it in a
// register: each time a call into the loader (122 lookups per W1 row where ~50 suffice). The empty
// asm hides where the pointer came from, so it is computed once and kept.
template <class T>
inline T* tls_address(T& v) {
  T* p = &v;
#if defined(__GNUC__)
  asm("" : "+r"(p));
#endif
  return p;
}

}  // namespace adjoint
