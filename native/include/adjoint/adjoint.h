/* Adjoint's C API: the one header the Java binding (JavaCPP) compiles against.
 *
 * Tensors cross the boundary as opaque int64 handles (adj_t). A handle owns one reference to a
 * native tensor; adj_release gives it back. Every call that can fail returns 0 (handles) or -1
 * (status) and leaves the reason in adj_last_error_kind()/adj_last_error_message() for this
 * thread: no C++ exception ever crosses into the JVM.
 *
 * Plain C types only, so that binding generators need no C++ knowledge. */
#ifndef ADJOINT_ADJOINT_H
#define ADJOINT_ADJOINT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t adj_t;

/* dtypes (mirrors dev.adjoint.DType) */
enum { ADJ_FLOAT32 = 0, ADJ_FLOAT64 = 1, ADJ_INT64 = 2, ADJ_BOOL = 3 };
/* error kinds (mirrors dev.adjoint.internal.Errors) */
enum { ADJ_OK = 0, ADJ_ERR_ARGUMENT = 1, ADJ_ERR_SHAPE = 2, ADJ_ERR_DTYPE = 3, ADJ_ERR_INDEX = 4, ADJ_ERR_STATE = 5,
       ADJ_ERR_OUT_OF_MEMORY = 6, ADJ_ERR_UNSUPPORTED = 7, ADJ_ERR_INTERNAL = 8,
       ADJ_ERR_CALLBACK = 9 /* a custom rule's callback failed: its own error is the caller's to rethrow */ };
/* comparison selectors for adj_compare */
enum { ADJ_EQ = 0, ADJ_NE = 1, ADJ_LT = 2, ADJ_LE = 3, ADJ_GT = 4, ADJ_GE = 5 };

/* --- errors, library --- */
int adj_last_error_kind(void);
const char* adj_last_error_message(void);
const char* adj_version(void);
int adj_num_primitives(void);
const char* adj_primitive_name(int i);
/* out[0] = live bytes, out[1] = cached bytes, out[2] = live tensors */
void adj_memory_stats(int64_t* out);
void adj_empty_cache(void);
/* the float dtype that integers promote to (true division, an integer tensor with a double), like
   torch.set_default_dtype: ADJ_FLOAT32 (the initial value) or ADJ_FLOAT64; process-wide */
int adj_set_default_dtype(int dtype);
int adj_default_dtype(void);

/* --- the memory limit, garbage-collection hints, out-of-memory handling --- */
int64_t adj_memory_limit(void);              /* bytes this process may use (INT64_MAX: no limit found) */
const char* adj_memory_limit_source(void);   /* where that figure comes from (physical memory, cgroup, ...) */
int64_t adj_gc_hint_threshold(void);         /* net native growth in bytes that raises the flag below */
int64_t adj_gc_hint_pressure(void);          /* net native growth since the last hint */
int64_t adj_gc_hint_footprint(void);         /* what that growth is of: live bytes + a tensor object's bytes per tensor */
int32_t* adj_gc_hint_flag(void);             /* 1 once the growth reached the threshold; read in place */
void adj_gc_hint_taken(void);                /* clears the flag and the growth (a collection was asked for) */
/* Called by an allocation that failed, on the allocating thread with no lock held, before its one
   retry: it should free what it can (the JVM: a garbage collection and the Cleaner's releases). */
typedef int (*adj_oom_handler)(int64_t nbytes);
void adj_set_oom_handler(adj_oom_handler handler);

/* --- lifecycle and metadata --- */
void adj_release(adj_t t);
void adj_release_many(const adj_t* ts, int n); /* one call for a whole scope; zeros are skipped */
adj_t adj_share(adj_t t); /* a second handle to the same tensor */
int adj_ndim(adj_t t);
int adj_shape(adj_t t, int64_t* out);   /* writes ndim sizes; returns ndim or -1 */
int adj_strides(adj_t t, int64_t* out); /* element strides */
int adj_dtype(adj_t t);
int adj_device(adj_t t); /* type * 256 + index; CPU = 0 */
int adj_is_contiguous(adj_t t);
int64_t adj_numel(adj_t t);

/* --- host data --- */
adj_t adj_from_data(const void* data, int dtype, const int64_t* shape, int ndim);
/* copies the tensor, in row-major order and converted to `dtype`, into dst (capacity in bytes) */
int adj_copy_to_host(adj_t t, int dtype, void* dst, int64_t capacity);

/* --- creation --- */
adj_t adj_full(const int64_t* shape, int ndim, double value, int dtype);
adj_t adj_full_like(adj_t t, double value);
adj_t adj_eye(int64_t n, int64_t m, int dtype);
adj_t adj_arange(double start, double end, double step, int dtype);
int64_t adj_generator_new(uint64_t seed); /* 0 on error */
void adj_generator_free(int64_t g);
int adj_generator_manual_seed(int64_t g, uint64_t seed); /* g = 0: the default generator */
uint64_t adj_generator_initial_seed(int64_t g);
int adj_generator_copy_state(int64_t dst, int64_t src); /* dst's next draws become src's; 0 = the default generator */
adj_t adj_randn(int64_t g, const int64_t* shape, int ndim, int dtype);
adj_t adj_rand(int64_t g, const int64_t* shape, int ndim, int dtype);

/* --- elementwise --- */
adj_t adj_neg(adj_t x);
adj_t adj_exp(adj_t x);
adj_t adj_log(adj_t x);
adj_t adj_sin(adj_t x);
adj_t adj_cos(adj_t x);
adj_t adj_tanh(adj_t x);
adj_t adj_sigmoid(adj_t x);
adj_t adj_relu(adj_t x);
adj_t adj_sqrt(adj_t x);
adj_t adj_abs(adj_t x);
adj_t adj_sign(adj_t x);
adj_t adj_log1p(adj_t x);
adj_t adj_expm1(adj_t x);
adj_t adj_erf(adj_t x);
adj_t adj_erfc(adj_t x);
adj_t adj_tan(adj_t x);
adj_t adj_asin(adj_t x);
adj_t adj_acos(adj_t x);
adj_t adj_atan(adj_t x);
adj_t adj_sinh(adj_t x);
adj_t adj_cosh(adj_t x);
adj_t adj_log2(adj_t x);
adj_t adj_log10(adj_t x);
adj_t adj_floor(adj_t x);
adj_t adj_ceil(adj_t x);
adj_t adj_round(adj_t x); /* halves to even */
adj_t adj_trunc(adj_t x);
adj_t adj_isnan(adj_t x); /* bool results */
adj_t adj_isinf(adj_t x);
adj_t adj_isfinite(adj_t x);
adj_t adj_logical_not(adj_t x);
adj_t adj_square(adj_t x);
adj_t adj_reciprocal(adj_t x);
adj_t adj_rsqrt(adj_t x);
adj_t adj_add(adj_t a, adj_t b);
adj_t adj_sub(adj_t a, adj_t b);
adj_t adj_mul(adj_t a, adj_t b);
adj_t adj_div(adj_t a, adj_t b);
adj_t adj_pow(adj_t a, adj_t b);
adj_t adj_maximum(adj_t a, adj_t b);
adj_t adj_minimum(adj_t a, adj_t b);
adj_t adj_atan2(adj_t a, adj_t b);
adj_t adj_fmod(adj_t a, adj_t b);
adj_t adj_remainder(adj_t a, adj_t b);
adj_t adj_logical_and(adj_t a, adj_t b); /* bool results */
adj_t adj_logical_or(adj_t a, adj_t b);
/* min(max(x, lo), hi); lo or hi 0: no such bound. The scalar form's bounds are in x's dtype (a
   floating x) or the default float dtype; which: 1 = lo only, 2 = hi only, 3 = both */
adj_t adj_clamp(adj_t x, adj_t lo, adj_t hi);
adj_t adj_clamp_scalar(adj_t x, double lo, double hi, int which);
/* a (op) s with s a Java double (_long: a Java long), promoted like torch's tensor-with-number ops
   (an integer tensor with a double gives the default float dtype); reverse = 1 computes s (op) a.
   op: 0 add 1 sub 2 mul 3 div 4 pow 5 fmod 6 remainder */
adj_t adj_scalar_op(int op, adj_t a, double s, int reverse);
adj_t adj_scalar_op_long(int op, adj_t a, int64_t s, int reverse);
adj_t adj_compare(int cmp, adj_t a, adj_t b);
adj_t adj_compare_scalar(int cmp, adj_t a, double s);
adj_t adj_compare_scalar_long(int cmp, adj_t a, int64_t s);
adj_t adj_where(adj_t cond, adj_t a, adj_t b);
/* 0 if every value `target` (int64) stands for, behind any tracers, lies in [0, classes); else -1
   with an index error naming `op` and the value (the class targets of a loss) */
int adj_check_class_targets(adj_t target, int64_t classes, const char* op);
adj_t adj_to(adj_t x, int dtype);

/* --- reductions (dims == NULL or ndims == 0: all dims) --- */
adj_t adj_sum(adj_t x, const int64_t* dims, int ndims, int keepdim);
adj_t adj_mean(adj_t x, const int64_t* dims, int ndims, int keepdim);
adj_t adj_amax(adj_t x, const int64_t* dims, int ndims, int keepdim);
adj_t adj_logsumexp(adj_t x, const int64_t* dims, int ndims, int keepdim);
adj_t adj_softmax(adj_t x, int64_t dim);
adj_t adj_log_softmax(adj_t x, int64_t dim);
/* reductions along one dim with positions, scans, sorting (torch's semantics; int64 indices).
   The (values, indices) pairs return the values and write the indices to *indices. */
adj_t adj_prod(adj_t x, int64_t dim, int keepdim);
adj_t adj_prod_all(adj_t x);
adj_t adj_cumsum(adj_t x, int64_t dim);
adj_t adj_cumprod(adj_t x, int64_t dim);
adj_t adj_logcumsumexp(adj_t x, int64_t dim);
adj_t adj_argmax(adj_t x, int64_t dim, int keepdim);
adj_t adj_argmin(adj_t x, int64_t dim, int keepdim);
adj_t adj_argmax_all(adj_t x);
adj_t adj_argmin_all(adj_t x);
adj_t adj_max_dim(adj_t x, int64_t dim, int keepdim, adj_t* indices);
adj_t adj_min_dim(adj_t x, int64_t dim, int keepdim, adj_t* indices);
adj_t adj_sort(adj_t x, int64_t dim, int descending, adj_t* indices);
adj_t adj_topk(adj_t x, int64_t k, int64_t dim, int largest, adj_t* indices);
/* statistics and vector norms: var/std divide by max(0, N - correction) (torch's); norm's p > 0
   or +inf, with the zero subgradient at 0 */
/* shape, index and reduction composites, torch's semantics (all/any: bool 0-d; diagonal: the
   diagonal as the last dim; diag: vector -> matrix, matrix -> diagonal) */
adj_t adj_amin(adj_t x, const int64_t* dims, int ndims, int keepdim);
adj_t adj_all(adj_t x);
adj_t adj_any(adj_t x);
adj_t adj_flip(adj_t x, const int64_t* dims, int ndims);
adj_t adj_roll(adj_t x, int64_t shift, int64_t dim);
adj_t adj_tril(adj_t x, int64_t k);
adj_t adj_triu(adj_t x, int64_t k);
adj_t adj_diagonal(adj_t x, int64_t offset, int64_t dim1, int64_t dim2);
adj_t adj_trace(adj_t x);
adj_t adj_outer(adj_t a, adj_t b);
adj_t adj_masked_fill(adj_t x, adj_t mask, double value);
adj_t adj_repeat(adj_t x, const int64_t* sizes, int n);
adj_t adj_diag(adj_t v, int64_t offset);
adj_t adj_linspace(double start, double end, int64_t steps, int dtype);
adj_t adj_var(adj_t x, const int64_t* dims, int ndims, double correction, int keepdim);
adj_t adj_std(adj_t x, const int64_t* dims, int ndims, double correction, int keepdim);
adj_t adj_norm(adj_t x, double p, const int64_t* dims, int ndims, int keepdim);
/* torch.nn.functional's composites; losses take the mean; optional tensors: handle 0 = absent;
   g: a generator handle, 0 = the default one */
adj_t adj_gelu(adj_t x, int tanh_approx);
adj_t adj_silu(adj_t x);
adj_t adj_softplus(adj_t x, double beta, double threshold);
adj_t adj_elu(adj_t x, double alpha);
adj_t adj_leaky_relu(adj_t x, double slope);
adj_t adj_log_sigmoid(adj_t x);
adj_t adj_mse_loss(adj_t input, adj_t target);
adj_t adj_l1_loss(adj_t input, adj_t target);
adj_t adj_huber_loss(adj_t input, adj_t target, double delta);
adj_t adj_binary_cross_entropy(adj_t p, adj_t target);
adj_t adj_binary_cross_entropy_with_logits(adj_t logits, adj_t target);
adj_t adj_one_hot(adj_t target, int64_t classes);
adj_t adj_normalize(adj_t x, double p, int64_t dim, double eps);
adj_t adj_cosine_similarity(adj_t a, adj_t b, int64_t dim, double eps);
adj_t adj_layer_norm(adj_t x, const int64_t* shape, int n, adj_t w, adj_t b, double eps);
adj_t adj_group_norm(adj_t x, int64_t groups, adj_t w, adj_t b, double eps);
adj_t adj_batch_norm(adj_t x, adj_t running_mean, adj_t running_var, adj_t w, adj_t b, int training, double eps);
adj_t adj_dropout(int64_t g, adj_t x, double p, int training);
adj_t adj_embedding(adj_t indices, adj_t weight);

/* --- linear algebra --- */
adj_t adj_matmul(adj_t a, adj_t b);
adj_t adj_linear(adj_t x, adj_t w, adj_t b); /* b = 0: no bias */

/* --- torch.linalg on LAPACK: A [..., n, n] batched over its leading dims, float32/float64, CPU;
   a singular or not positive-definite A is an error naming the op and the batch element.
   Two outputs: the first is returned, the second written to *second. --- */
adj_t adj_linalg_solve(adj_t a, adj_t b); /* B [..., n, k], or a vector [n] / [..., n] */
adj_t adj_linalg_solve_triangular(adj_t a, adj_t b, int upper, int left);
adj_t adj_linalg_cholesky(adj_t a, int upper);
adj_t adj_linalg_inv(adj_t a);
adj_t adj_linalg_det(adj_t a);
adj_t adj_linalg_slogdet(adj_t a, adj_t* logabsdet); /* returns the sign */
adj_t adj_linalg_eigh(adj_t a, adj_t* eigenvectors); /* returns the eigenvalues (ascending) */
adj_t adj_linalg_eigvalsh(adj_t a);
/* A [..., m, n] */
adj_t adj_linalg_qr(adj_t a, adj_t* r);                       /* returns Q (reduced) */
adj_t adj_linalg_svd(adj_t a, int full_matrices, adj_t* s_vh); /* returns U; s_vh[0] = S, s_vh[1] = Vh */
adj_t adj_linalg_svdvals(adj_t a);
adj_t adj_linalg_pinv(adj_t a, double atol, double rtol);     /* rtol < 0: torch's default */
adj_t adj_linalg_lstsq(adj_t a, adj_t b);                      /* the solution; full-rank A */
adj_t adj_linalg_vector_norm(adj_t x, double ord, const int64_t* dims, int ndims, int keepdim); /* ndims 0: all */
adj_t adj_linalg_matrix_norm(adj_t a, double ord, int kind, int keepdim); /* kind: 0 ord, 1 fro, 2 nuc */
/* --- convolution, pooling, padding (torch.nn.functional's) --- */
/* stride, padding, dilation: 1 entry (every spatial dim) or one per spatial dim; b = 0: no bias */
adj_t adj_conv2d(adj_t x, adj_t w, adj_t b, const int64_t* stride, int nstride, const int64_t* padding, int npadding,
                 const int64_t* dilation, int ndilation, int64_t groups);
adj_t adj_conv1d(adj_t x, adj_t w, adj_t b, const int64_t* stride, int nstride, const int64_t* padding, int npadding,
                 const int64_t* dilation, int ndilation, int64_t groups);
adj_t adj_max_pool2d(adj_t x, int64_t kernel, int64_t stride);
adj_t adj_avg_pool2d(adj_t x, int64_t kernel);
adj_t adj_pad(adj_t x, const int64_t* pad, int npad); /* torch's order: the last dim's (before, after) first */

/* --- views and data movement --- */
adj_t adj_reshape(adj_t x, const int64_t* shape, int ndim);
adj_t adj_view(adj_t x, const int64_t* shape, int ndim);
adj_t adj_permute(adj_t x, const int64_t* perm, int ndim);
adj_t adj_transpose(adj_t x, int64_t d0, int64_t d1);
adj_t adj_movedim(adj_t x, int64_t src, int64_t dst);
adj_t adj_expand(adj_t x, const int64_t* shape, int ndim);
adj_t adj_slice(adj_t x, int64_t dim, int64_t start, int64_t end, int64_t step);
adj_t adj_select(adj_t x, int64_t dim, int64_t index);
adj_t adj_squeeze(adj_t x, const int64_t* dims, int ndims); /* ndims == 0: all size-1 dims */
adj_t adj_unsqueeze(adj_t x, int64_t dim);
adj_t adj_contiguous(adj_t x);
adj_t adj_detach(adj_t x); /* the same values with no derivative at any level (stop_gradient); batched under vmap */
adj_t adj_index_select(adj_t x, int64_t dim, adj_t index);
adj_t adj_cat(const adj_t* xs, int n, int64_t dim);
adj_t adj_stack(const adj_t* xs, int n, int64_t dim);

/* --- gather, scatter, index_add and einsum, torch's (ops/gather_scatter.cpp, ops/einsum.cpp) --- */
adj_t adj_gather(adj_t x, int64_t dim, adj_t index);
adj_t adj_scatter(adj_t self, int64_t dim, adj_t index, adj_t src);
adj_t adj_scatter_value(adj_t self, int64_t dim, adj_t index, double value);
adj_t adj_scatter_add(adj_t self, int64_t dim, adj_t index, adj_t src);
adj_t adj_index_add(adj_t self, int64_t dim, adj_t index, adj_t source);
adj_t adj_einsum(const char* equation, const adj_t* xs, int n);

/* --- transforms ---
 * A transform is a level on this thread's stack: begin it, wrap its inputs, run the function (any
 * ops on the wrapped tensors are traced by the level), unwrap the outputs, end it. Levels nest in
 * any order; they must end innermost first. A level handle owns a reference: release it when the
 * last use is over (for vjp that is after the last pullback call, which may follow end). */
enum { ADJ_LEVEL_JVP = 0, ADJ_LEVEL_GRAD = 1, ADJ_LEVEL_VMAP = 2 };
enum { ADJ_RANDOMNESS_ERROR = 0, ADJ_RANDOMNESS_DIFFERENT = 1, ADJ_RANDOMNESS_SAME = 2 };
int64_t adj_level_begin(int kind, int64_t batch_size, int randomness); /* 0 on error */
int adj_level_end(int64_t level);
void adj_level_release(int64_t level);
/* adj_level_end then adj_level_release in one call; the handle is released even when ending fails */
int adj_level_close(int64_t level);
int adj_level_depth(void); /* live levels on this thread */
/* 0 if t is no tracer, else ADJ_TRACER_* | (its level's ADJ_LEVEL_* kind << 2) */
enum { ADJ_TRACER_LIVE = 1, ADJ_TRACER_ESCAPED = 2, ADJ_TRACER_OTHER_THREAD = 3 };
int adj_is_tracer(adj_t t);
/* jvp: tangent 0 = symbolic zero. unwrap writes out[0] = primal, out[1] = tangent. */
adj_t adj_jvp_wrap(int64_t level, adj_t primal, adj_t tangent);
int adj_jvp_unwrap(int64_t level, adj_t y, adj_t* out);
/* vmap */
adj_t adj_vmap_wrap(int64_t level, adj_t x, int64_t in_dim);
adj_t adj_vmap_unwrap(int64_t level, adj_t y, int64_t out_dim);
/* rows [start, start + batch size) of the n x n identity as a batched [n] value of this vmap level,
 * kept structured (one-hot) so that Jacobians never multiply by a materialised identity */
adj_t adj_vmap_basis(int64_t level, int64_t n, int64_t start, int dtype);
/* grad / vjp: backward writes nin cotangents (one per input leaf) to grads_out; a cotangent handle
 * of 0 stands for ones of the output's shape and dtype (grad's seed). The _ex and 1 forms take
 * flags: ADJ_BACKWARD_END ends the level first, ADJ_BACKWARD_RELEASE releases the level handle
 * afterwards, also when the call fails (grad's common case: one call instead of three). */
enum { ADJ_BACKWARD_END = 1, ADJ_BACKWARD_RELEASE = 2 };
adj_t adj_grad_wrap(int64_t level, adj_t x);
adj_t adj_grad_unwrap(int64_t level, adj_t y);
/* adj_grad_unwrap then adj_level_close in one call (a vjp's single output): the level is closed
   whatever happens; 0 on error, with the first error recorded */
adj_t adj_grad_unwrap_close(int64_t level, adj_t y);
int adj_grad_backward(int64_t level, const adj_t* outs, const adj_t* cots, int nout, const adj_t* ins, int nin,
                      adj_t* grads_out);
int adj_grad_backward_ex(int64_t level, const adj_t* outs, const adj_t* cots, int nout, const adj_t* ins, int nin,
                         adj_t* grads_out, int flags);
/* jacrev after a vjp: nout * nin Jacobians (output-major), each [out_k..., in_j...]; chunk <= 0: all rows at once */
int adj_jacrev_backward(int64_t level, const adj_t* outs, int nout, const adj_t* ins, int nin, int64_t chunk, adj_t* jac_out);
/* One output and one input (the common case): the same calls without arrays, which a JNI caller
 * would otherwise copy in and out on every call. Return the gradient / Jacobian, 0 on error. */
adj_t adj_grad_backward1(int64_t level, adj_t out, adj_t cot, adj_t in, int flags);
/* A vjp of one input without a level handle: begin wraps x at a new grad level and returns the
 * traced input, which holds the level; close unwraps y and ends that level (whatever happens, as
 * adj_grad_unwrap_close). The backward calls take level 0 to mean the level of their first input. */
adj_t adj_vjp_begin(adj_t x);
adj_t adj_vjp_close(adj_t traced_x, adj_t y);
/* Ends the innermost level when adj_vjp_begin began it, without its traced input (which the
 * function may have closed): for a vjp whose function failed. -1 (State) if it is not such a level. */
int adj_vjp_abort(void);
/* A handle (a new reference, to release) to the level of a vjp's traced input (adj_vjp_begin's
 * result): for unwrapping several outputs, or aux values, at that level. 0 on error. */
int64_t adj_vjp_level(adj_t traced_x);
adj_t adj_jacrev_backward1(int64_t level, adj_t out, adj_t in, int64_t chunk);

/* --- custom derivative rules (interp/custom.h) ---
 * A custom function is applied by adj_custom_call to its tensor inputs; the core runs its pieces by
 * calling back the one function set with adj_custom_set_callback: cb(site, what, state, ctx) must
 * run piece `what` of the custom function registered by the caller as `site` on the arguments of
 * ctx (adj_custom_nargs, adj_custom_arg: new handles), push its results in order
 * (adj_custom_push, which copies the handle; 0 stands for a zero cotangent) and return 0, or
 * return nonzero when it failed (the calling op then fails with ADJ_ERR_CALLBACK: the caller keeps
 * its own error to rethrow). A Fwd call may set a state id (adj_custom_set_state) that its Bwd
 * calls receive. Site and state ids the core no longer holds are reported by adj_custom_released. */
enum { ADJ_CUSTOM_VJP = 0, ADJ_CUSTOM_JVP = 1 };
enum { ADJ_CUSTOM_JVP_RUNS_F = 1 }; /* flag: a vjp rule whose function is run as written under jvp (checkpoint) */
/* what: F (inputs) -> output; FWD (inputs) -> output, residuals...; BWD (residuals..., cotangent) ->
 * one cotangent per input; JVP (inputs..., tangents...) -> output, tangent */
enum { ADJ_CUSTOM_CALL_F = 0, ADJ_CUSTOM_CALL_FWD = 1, ADJ_CUSTOM_CALL_BWD = 2, ADJ_CUSTOM_CALL_JVP = 3 };
typedef int (*adj_custom_callback)(int64_t site, int what, int64_t state, int64_t ctx);
void adj_custom_set_callback(adj_custom_callback cb);
adj_t adj_custom_call(int kind, int flags, int64_t site, const adj_t* in, int nin);
int adj_custom_nargs(int64_t ctx);
adj_t adj_custom_arg(int64_t ctx, int i);
int adj_custom_push(int64_t ctx, adj_t t);
int adj_custom_set_state(int64_t ctx, int64_t state);
int adj_custom_released(int64_t* ids, int capacity); /* writes up to capacity ids; returns how many */

/* --- linearize: the tape of a jvp whose tangents were traced by a grad level, replayed ---
 * leaf: a grad level's traced input (the tangent placeholder); out: a traced result of the tangent
 * map; returns the map applied to value (traced by any enclosing transform) */
adj_t adj_replay1(adj_t leaf, adj_t out, adj_t value);

#ifdef __cplusplus
}
#endif

#endif /* ADJOINT_ADJOINT_H */
