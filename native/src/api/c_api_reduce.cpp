// The C API of the reductions along one dim with positions, the scans and sorting
// (include/adjoint/adjoint.h, "reductions with indices, scans, sorting").
#include "adjoint/adjoint.h"
#include "api/record.h"
#include "core/error.h"
#include "ops/ops.h"

using namespace adjoint;

namespace {

adj_t out(Tensor t) { return adj_t(reinterpret_cast<intptr_t>(std::move(t).take().release())); }

// A borrowed handle, as in c_api.cpp (the caller keeps the tensor alive for the call).
BorrowedTensor in(adj_t h, const char* op) {
  if (h == 0) throw Error(ErrorKind::State, op, "tensor handle is null (closed or never created)");
  return BorrowedTensor(reinterpret_cast<TensorImpl*>(intptr_t(h)));
}

template <class F>
adj_t call(F&& f) {
  return api_guard<adj_t>(0, [&] { return out(f()); });
}

// (values, indices): the values returned, the indices written to *indices (both or neither).
template <class F>
adj_t call_pair(adj_t* indices, const char* op, F&& f) {
  return api_guard<adj_t>(0, [&] {
    ADJ_CHECK(indices != nullptr, ErrorKind::Argument, op, "null output pointer");
    std::pair<Tensor, Tensor> r = f();
    *indices = out(std::move(r.second));
    return out(std::move(r.first));
  });
}

}  // namespace

adj_t adj_prod(adj_t x, int64_t dim, int keepdim) { return call([&] { return ops::prod(in(x, "prod"), dim, keepdim != 0); }); }
adj_t adj_prod_all(adj_t x) { return call([&] { return ops::prod(in(x, "prod")); }); }
adj_t adj_cumsum(adj_t x, int64_t dim) { return call([&] { return ops::cumsum(in(x, "cumsum"), dim); }); }
adj_t adj_cumprod(adj_t x, int64_t dim) { return call([&] { return ops::cumprod(in(x, "cumprod"), dim); }); }
adj_t adj_logcumsumexp(adj_t x, int64_t dim) { return call([&] { return ops::logcumsumexp(in(x, "logcumsumexp"), dim); }); }
adj_t adj_argmax(adj_t x, int64_t dim, int keepdim) { return call([&] { return ops::argmax(in(x, "argmax"), dim, keepdim != 0); }); }
adj_t adj_argmin(adj_t x, int64_t dim, int keepdim) { return call([&] { return ops::argmin(in(x, "argmin"), dim, keepdim != 0); }); }
adj_t adj_argmax_all(adj_t x) { return call([&] { return ops::argmax(in(x, "argmax")); }); }
adj_t adj_argmin_all(adj_t x) { return call([&] { return ops::argmin(in(x, "argmin")); }); }
adj_t adj_max_dim(adj_t x, int64_t dim, int keepdim, adj_t* indices) {
  return call_pair(indices, "max", [&] { return ops::max_dim(in(x, "max"), dim, keepdim != 0); });
}
adj_t adj_min_dim(adj_t x, int64_t dim, int keepdim, adj_t* indices) {
  return call_pair(indices, "min", [&] { return ops::min_dim(in(x, "min"), dim, keepdim != 0); });
}
adj_t adj_sort(adj_t x, int64_t dim, int descending, adj_t* indices) {
  return call_pair(indices, "sort", [&] { return ops::sort(in(x, "sort"), dim, descending != 0); });
}
adj_t adj_topk(adj_t x, int64_t k, int64_t dim, int largest, adj_t* indices) {
  return call_pair(indices, "topk", [&] { return ops::topk(in(x, "topk"), k, dim, largest != 0); });
}
