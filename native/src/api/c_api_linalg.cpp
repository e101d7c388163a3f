// The C API of torch.linalg's ops on LAPACK (include/adjoint/adjoint.h, "linear algebra").
#include "adjoint/adjoint.h"
#include "api/handles.h"
#include "core/error.h"
#include "ops/ops.h"

using namespace adjoint;
using namespace adjoint::api;

adj_t adj_linalg_solve(adj_t a, adj_t b) {
  return handle_call([&] { return ops::linalg_solve(in(a, "linalg.solve"), in(b, "linalg.solve")); });
}
adj_t adj_linalg_solve_triangular(adj_t a, adj_t b, int upper, int left) {
  return handle_call([&] {
    return ops::linalg_solve_triangular(in(a, "linalg.solve_triangular"), in(b, "linalg.solve_triangular"), upper != 0, left != 0);
  });
}
adj_t adj_linalg_cholesky(adj_t a, int upper) { return handle_call([&] { return ops::linalg_cholesky(in(a, "linalg.cholesky"), upper != 0); }); }
adj_t adj_linalg_inv(adj_t a) { return handle_call([&] { return ops::linalg_inv(in(a, "linalg.inv")); }); }
adj_t adj_linalg_det(adj_t a) { return handle_call([&] { return ops::linalg_det(in(a, "linalg.det")); }); }
adj_t adj_linalg_slogdet(adj_t a, adj_t* logabsdet) {
  return handle_pair_call(logabsdet, "linalg.slogdet", [&] { return ops::linalg_slogdet(in(a, "linalg.slogdet")); });
}
adj_t adj_linalg_eigh(adj_t a, adj_t* eigenvectors) {
  return handle_pair_call(eigenvectors, "linalg.eigh", [&] { return ops::linalg_eigh(in(a, "linalg.eigh")); });
}
adj_t adj_linalg_eigvalsh(adj_t a) { return handle_call([&] { return ops::linalg_eigvalsh(in(a, "linalg.eigvalsh")); }); }
adj_t adj_linalg_qr(adj_t a, adj_t* r) { return handle_pair_call(r, "linalg.qr", [&] { return ops::linalg_qr(in(a, "linalg.qr")); }); }
adj_t adj_linalg_svd(adj_t a, int full_matrices, adj_t* s_vh) {
  return api_guard<adj_t>(0, [&] {
    ADJ_CHECK(s_vh != nullptr, ErrorKind::Argument, "linalg.svd", "null output pointer");
    auto [u, s, vh] = ops::linalg_svd(in(a, "linalg.svd"), full_matrices != 0);
    s_vh[0] = out(std::move(s));
    s_vh[1] = out(std::move(vh));
    return out(std::move(u));
  });
}
adj_t adj_linalg_svdvals(adj_t a) { return handle_call([&] { return ops::linalg_svdvals(in(a, "linalg.svdvals")); }); }
adj_t adj_linalg_pinv(adj_t a, double atol, double rtol) { return handle_call([&] { return ops::linalg_pinv(in(a, "linalg.pinv"), atol, rtol); }); }
adj_t adj_linalg_lstsq(adj_t a, adj_t b) { return handle_call([&] { return ops::linalg_lstsq(in(a, "linalg.lstsq"), in(b, "linalg.lstsq")); }); }
adj_t adj_linalg_vector_norm(adj_t x, double ord, const int64_t* dims, int ndims, int keepdim) {
  return handle_call([&] {
    ADJ_CHECK(ndims >= 0 && ndims <= kMaxDims && (ndims == 0 || dims), ErrorKind::Argument, "linalg.vector_norm", "bad dims array");
    return ops::linalg_vector_norm(in(x, "linalg.vector_norm"), ord, Dims::of(dims, ndims), keepdim != 0);
  });
}
adj_t adj_linalg_matrix_norm(adj_t a, double ord, int kind, int keepdim) {
  return handle_call([&] { return ops::linalg_matrix_norm(in(a, "linalg.matrix_norm"), ord, kind, keepdim != 0); });
}
