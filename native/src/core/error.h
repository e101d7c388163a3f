// Errors: every failure in the core is an adjoint::Error carrying a kind, the op and a message.
// The C API turns it into a status the Java layer maps to a typed exception; nothing escapes as a crash.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace adjoint {

// NOTE: numeric values are part of the C API (ADJ_ERR_*) and mirrored by dev.adjoint.internal.Errors.
enum class ErrorKind : int {
  None = 0,
  Argument = 1,     // bad value (negative size, bad argument combination)
  Shape = 2,        // shapes that do not fit together
  DType = 3,        // dtypes that do not fit together
  Index = 4,        // dim or index out of range
  State = 5,        // use of a closed tensor / escaped tracer / wrong thread
  OutOfMemory = 6,  // allocation failed
  Unsupported = 7,  // op/dtype/device combination not implemented
  Internal = 8,     // a bug in Adjoint
  Callback = 9,     // a function the core called back (a custom rule's, in Java) threw; Java rethrows it
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& op, const std::string& msg)
      : std::runtime_error(op + ": " + msg), kind_(kind), op_(op) {}
  ErrorKind kind() const { return kind_; }
  const std::string& op() const { return op_; }

 private:
  ErrorKind kind_;
  std::string op_;
};

}  // namespace adjoint

#define ADJ_FAIL(kind, op, stream_expr)            \
  do {                                             \
    std::ostringstream adj_s_;                     \
    adj_s_ << stream_expr;                         \
    throw ::adjoint::Error((kind), (op), adj_s_.str()); \
  } while (0)

#define ADJ_CHECK(cond, kind, op, stream_expr) \
  do {                                         \
    if (!(cond)) ADJ_FAIL(kind, op, stream_expr); \
  } while (0)
