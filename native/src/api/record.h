// The C API's error barrier, for every entry point (c_api*.cpp): the pending error of this thread
// is the one adj_last_error_kind()/adj_last_error_message() report (c_api.cpp keeps it).
#pragma once
#include <new>
#include <string>

#include "core/error.h"

namespace adjoint {

void api_record_error(ErrorKind k, const std::string& msg);

// NOTE: the error barrier. Every entry point runs its body inside api_guard(); whatever is thrown
// becomes (kind, message) for this thread and the result `fail` (0 / -1). Nothing unwinds into the
// JVM.
// NOTE: internal linkage (an unnamed namespace, here and in api/handles.h), as when each c_api*.cpp
// had its own copy: GCC then inlines as it did. As plain templates and `inline` functions, it
// inlined the handle check into every guard and kept each guard a call of its own (one more call
// per op); like this the entry points' code is what it was (same sizes, object by object).
namespace {
template <class R, class F>
R api_guard(R fail, F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    api_record_error(e.kind(), e.what());
  } catch (const std::bad_alloc&) {
    api_record_error(ErrorKind::OutOfMemory, "out of memory");
  } catch (const std::exception& e) {
    api_record_error(ErrorKind::Internal, std::string("internal error: ") + e.what());
  } catch (...) {
    api_record_error(ErrorKind::Internal, "internal error: unknown exception");
  }
  return fail;
}
}  // namespace

}  // namespace adjoint
