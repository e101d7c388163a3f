// Ref<T>: an intrusive, thread-safe reference-counted pointer. T has `std::atomic<int32_t> refs` and
// is deleted when the last Ref goes: by `T::destroy_unreferenced(p)` when T declares one (tracer
// payloads, whose chains are torn down iteratively: see TracerBase), else by `delete`. Cheaper than
// shared_ptr: one allocation, no control block.
#pragma once
#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace adjoint {

template <class T, class = void>
struct HasDestroyHook : std::false_type {};
template <class T>
struct HasDestroyHook<T, std::void_t<decltype(T::destroy_unreferenced(static_cast<T*>(nullptr)))>> : std::true_type {};

template <class T>
class Ref {
 public:
  Ref() = default;
  // Adopts a freshly created object whose count is already 1.
  static Ref adopt(T* p) { Ref r; r.p_ = p; return r; }
  Ref(const Ref& o) : p_(o.p_) { if (p_) p_->refs.fetch_add(1, std::memory_order_relaxed); }
  Ref(Ref&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Ref& operator=(Ref o) noexcept { std::swap(p_, o.p_); return *this; }
  ~Ref() { reset(); }
  // NOTE: a holder that sees a count of 1 holds the only reference, and no other can appear (every
  // new count is taken from an existing one), so it deletes without the locked decrement: most
  // objects (temporaries) die this way. The acquire load orders other threads' earlier releases
  // (their decrements) before the delete, as the acq_rel decrement does.
  void reset() {
    if (p_ && (p_->refs.load(std::memory_order_acquire) == 1 || p_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)) {
      if constexpr (HasDestroyHook<T>::value) T::destroy_unreferenced(p_);
      else delete p_;
    }
    p_ = nullptr;
  }
  // Hands the reference out (to the C API); the caller owns one count.
  T* release() { T* p = p_; p_ = nullptr; return p; }
  // Re-wraps a pointer handed out by release(), taking a new count (the handle keeps its own).
  static Ref borrow(T* p) { if (p) p->refs.fetch_add(1, std::memory_order_relaxed); Ref r; r.p_ = p; return r; }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  T* p_ = nullptr;
};

}  // namespace adjoint
