// The C API of the reductions along one dim with positions, the scans and sorting
// (include/adjoint/adjoint.h, "reductions with indices, scans, sorting").
#include "adjoint/adjoint.h"
#include "api/handles.h"
#include "core/error.h"
#include "ops/ops.h"

using namespace adjoint;
using namespace adjoint::api;

adj_t adj_prod(adj_t x, int64_t dim, int keepdim) { return handle_call([&] { return ops::prod(in(x, "prod"), dim, keepdim != 0); }); }
adj_t adj_prod_all(adj_t x) { return handle_call([&] { return ops::prod(in(x, "prod")); }); }
adj_t adj_cumsum(adj_t x, int64_t dim) { return handle_call([&] { return ops::cumsum(in(x, "cumsum"), dim); }); }
adj_t adj_cumprod(adj_t x, int64_t dim) { return handle_call([&] { return ops::cumprod(in(x, "cumprod"), dim); }); }
adj_t adj_logcumsumexp(adj_t x, int64_t dim) { return handle_call([&] { return ops::logcumsumexp(in(x, "logcumsumexp"), dim); }); }
adj_t adj_argmax(adj_t x, int64_t dim, int keepdim) { return handle_call([&] { return ops::argmax(in(x, "argmax"), dim, keepdim != 0); }); }
adj_t adj_argmin(adj_t x, int64_t dim, int keepdim) { return handle_call([&] { return ops::argmin(in(x, "argmin"), dim, keepdim != 0); }); }
adj_t adj_argmax_all(adj_t x) { return handle_call([&] { return ops::argmax(in(x, "argmax")); }); }
adj_t adj_argmin_all(adj_t x) { return handle_call([&] { return ops::argmin(in(x, "argmin")); }); }
adj_t adj_max_dim(adj_t x, int64_t dim, int keepdim, adj_t* indices) {
  return handle_pair_call(indices, "max", [&] { return ops::max_dim(in(x, "max"), dim, keepdim != 0); });
}
adj_t adj_min_dim(adj_t x, int64_t dim, int keepdim, adj_t* indices) {
  return handle_pair_call(indices, "min", [&] { return ops::min_dim(in(x, "min"), dim, keepdim != 0); });
}
adj_t adj_sort(adj_t x, int64_t dim, int descending, adj_t* indices) {
  return handle_pair_call(indices, "sort", [&] { return ops::sort(in(x, "sort"), dim, descending != 0); });
}
adj_t adj_topk(adj_t x, int64_t k, int64_t dim, int largest, adj_t* indices) {
  return handle_pair_call(indices, "topk", [&] { return ops::topk(in(x, "topk"), k, dim, largest != 0); });
}
