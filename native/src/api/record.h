// The C API's error barrier, for entry points outside c_api.cpp: the pending error of this thread
// is the one adj_last_error_kind()/adj_last_error_message() report (c_api.cpp keeps it).
#pragma once
#include <new>
#include <string>

#include "core/error.h"

namespace adjoint {

void api_record_error(ErrorKind k, const std::string& msg);

// Runs body; whatever it throws becomes this thread's pending error and the result `fail`.
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

}  // namespace adjoint
