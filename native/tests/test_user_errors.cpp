// Errors a user can act on: shape errors inside vmap name the per-example shapes the user wrote
// (not the batched ones), and class targets out of range are caught where they are concrete.
#include <string>
#include <vector>

#include "check.h"
#include "interp/dispatch.h"
#include "interp/interpreters.h"
#include "ops/ops.h"

using namespace adjoint;
namespace O = adjoint::ops;

namespace {

Tensor f64(Dims shape) { return O::ones(shape, DType::Float64); }
Tensor i64s(std::vector<int64_t> v) { return O::from_data(v.data(), Dims{int64_t(v.size())}, DType::Int64); }

// The message of the error f throws (kind checked), or "" when it throws none.
template <class F>
std::string message_of(F&& f, ErrorKind kind) {
  try {
    f();
  } catch (const Error& e) {
    if (e.kind() != kind) return std::string("wrong kind: ") + e.what();
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) {
  if (s.find(part) != std::string::npos) return true;
  std::printf("  expected \"%s\" in: %s\n", part.c_str(), s.c_str());
  return false;
}

// Runs body(level) inside a vmap level of `batch`, ending the level however body ends.
template <class F>
void in_vmap(int64_t batch, F&& body) {
  Ref<Level> l = push_level(LevelKind::Batch, batch);
  try {
    body(l.get());
  } catch (...) {
    pop_level(l.get(), "vmap");
    throw;
  }
  pop_level(l.get(), "vmap");
}

}  // namespace

// vmap(x -> x.add(y)) with x per example [3] (batched [5, 3]) and y [4]: the message the same add
// gives without vmap, then the batched shapes as a hint.
TEST(vmap_shape_error_names_per_example_shapes) {
  std::string m = message_of([] { in_vmap(5, [](Level* l) { O::add(batch_wrap(l, f64({5, 3}), 0), f64({4})); }); }, ErrorKind::Shape);
  CHECK(has(m, "add: shapes [3] and [4] cannot be broadcast (dim 0: 3 vs 4)"));
  CHECK(has(m, "(inside vmap over a batch of 5; the batched shapes are [5, 3] and [4])"));
  // both batched, the batch dim elsewhere in the input
  m = message_of([] { in_vmap(2, [](Level* l) { O::mul(batch_wrap(l, f64({3, 2}), 1), batch_wrap(l, f64({2, 4}), 0)); }); },
                 ErrorKind::Shape);
  CHECK(has(m, "mul: shapes [3] and [4] cannot be broadcast"));
  // matmul's inner dims, per example
  m = message_of([] { in_vmap(7, [](Level* l) { O::matmul(batch_wrap(l, f64({7, 2, 3}), 0), f64({4, 2})); }); }, ErrorKind::Shape);
  CHECK(has(m, "matmul: shapes [2, 3] and [4, 2]"));
  CHECK(m.find("[7, 2, 3]") == std::string::npos);  // checked per example before any batching (no hint needed)
  // a reshape that does not fit the example (the batched value has 7x the elements)
  m = message_of([] { in_vmap(7, [](Level* l) { O::reshape(batch_wrap(l, f64({7, 6}), 0), Dims{4, 2}); }); }, ErrorKind::Shape);
  CHECK(has(m, "shape [4, 2] is invalid for input of shape [6]"));
  CHECK(has(m, "the batched shape is [7, 6]"));
}

// Nested vmaps: the innermost level's view, which is the user's.
TEST(nested_vmap_shape_error_names_innermost_shapes) {
  std::string m = message_of(
      [] {
        in_vmap(3, [](Level* outer) {
          Tensor xs = batch_wrap(outer, f64({3, 2, 5}), 0);  // per outer example [2, 5]
          in_vmap(2, [&](Level* inner) { O::sub(batch_wrap(inner, xs, 0), f64({4})); });  // per example [5]
        });
      },
      ErrorKind::Shape);
  CHECK(has(m, "sub: shapes [5] and [4] cannot be broadcast"));
  CHECK(has(m, "the batched shapes are [2, 5] and [4]"));
}

// An index error that the per-example call would raise too keeps its meaning; a value error (an
// index out of range) is not remapped: its message is already the user's.
TEST(vmap_index_errors) {
  std::string m = message_of([] { in_vmap(4, [](Level* l) { O::sum(batch_wrap(l, f64({4, 3}), 0), Dims{1}, false); }); },
                             ErrorKind::Index);
  CHECK(has(m, "sum: dim 1 out of range"));
  m = message_of([] { in_vmap(2, [](Level* l) { O::index_select(batch_wrap(l, f64({2, 3}), 0), 0, i64s({5})); }); }, ErrorKind::Index);
  CHECK(has(m, "index 5 out of range"));
}

// A valid call inside vmap is unaffected, and the level stack is clean after an error.
TEST(vmap_after_an_error_still_works) {
  int depth = int(level_stack().size());
  (void)message_of([] { in_vmap(5, [](Level* l) { O::add(batch_wrap(l, f64({5, 3}), 0), f64({4})); }); }, ErrorKind::Shape);
  CHECK(int(level_stack().size()) == depth);
  Ref<Level> l = push_level(LevelKind::Batch, 5);
  Tensor r = batch_unwrap(l.get(), O::add(batch_wrap(l.get(), f64({5, 3}), 0), f64({3})), 0);
  pop_level(l.get(), "vmap");
  CHECK(r.shape() == (Dims{5, 3}));
}

TEST(class_targets_in_range) {
  O::check_class_targets(i64s({0, 2, 1}), 3, "crossEntropy");
  CHECK_THROWS(O::check_class_targets(i64s({0, 5, 1}), 3, "crossEntropy"), ErrorKind::Index,
               "crossEntropy: target 5 is out of bounds for 3 classes (class indices lie in [0, 3)), at flat index 1 of target [3]");
  CHECK_THROWS(O::check_class_targets(i64s({-1}), 3, "nllLoss"), ErrorKind::Index, "nllLoss: target -1 is out of bounds for 3 classes");
  CHECK_THROWS(O::check_class_targets(i64s({-100}), 3, "nllLoss"), ErrorKind::Index, "ignore_index (-100) is not supported");
  CHECK_THROWS(O::check_class_targets(i64s({3}), 3, "crossEntropy"), ErrorKind::Index, "target 3 is out of bounds");
  CHECK_THROWS(O::check_class_targets(O::ones(Dims{2}, DType::Float32), 3, "crossEntropy"), ErrorKind::DType, "int64");
}

// Behind a vmap tracer every example is checked; behind a grad or jvp tracer, the primal.
TEST(class_targets_checked_behind_tracers) {
  std::string m = message_of(
      [] {
        in_vmap(3, [](Level* l) {
          Tensor t = batch_wrap(l, i64s({1, 0, 4}), 0);  // example 2 has target 4
          O::check_class_targets(t, 3, "crossEntropy");
        });
      },
      ErrorKind::Index);
  CHECK(has(m, "crossEntropy: target 4 is out of bounds for 3 classes"));
  in_vmap(3, [](Level* l) { O::check_class_targets(batch_wrap(l, i64s({1, 0, 2}), 0), 3, "crossEntropy"); });
  // a vmap tracer whose batched value is itself a tracer of an outer vmap
  m = message_of(
      [] {
        in_vmap(2, [](Level* outer) {
          Tensor t = batch_wrap(outer, O::reshape(i64s({0, 1, 2, 7}), Dims{2, 2}), 0);
          in_vmap(2, [&](Level* inner) { O::check_class_targets(batch_wrap(inner, t, 0), 3, "nllLoss"); });
        });
      },
      ErrorKind::Index);
  CHECK(has(m, "nllLoss: target 7 is out of bounds"));
  Ref<Level> j = push_level(LevelKind::Jvp);
  Tensor tj = jvp_wrap(j.get(), O::to(i64s({9}), DType::Float64), Tensor());
  CHECK_THROWS(O::check_class_targets(O::to(tj, DType::Int64), 3, "crossEntropy"), ErrorKind::Index, "target 9");
  pop_level(j.get(), "jvp");
}

int main() { return check::run_all(); }
