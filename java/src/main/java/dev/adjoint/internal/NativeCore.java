package dev.adjoint.internal;

import org.bytedeco.javacpp.FunctionPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.openblas.presets.openblas_nolapack;

/**
 * The JavaCPP binding of {@code native/include/adjoint/adjoint.h}. JavaCPP generates and compiles
 * the JNI glue for these declarations at build time (see java/pom.xml).
 *
 * <p>NOTE: written by hand rather than parsed from the header: the C API is small and flat, and
 * declaring it here lets every tensor cross as a plain {@code long} handle (no Pointer object per
 * call), which keeps the cost of one op call from Java at a single JNI transition. The header stays
 * the one source of truth: NativeBindingTest compares every declaration here (name, parameter
 * count, types and {@code @Cast}s) and the Java mirrors of its enums with the header, and fails on
 * a function the header has that is not bound here (short of a listed reason).
 *
 * <p>Not public API: {@link dev.adjoint.Tensor} wraps every call and turns a 0 / -1 result into
 * a typed exception via {@link Errors}.
 */
@Properties(
    inherit = openblas_nolapack.class,
    value = @Platform(include = "adjoint/adjoint.h", link = "adjoint_core"))
public final class NativeCore {
  static {
    try {
      Loader.load();
    } catch (UnsatisfiedLinkError e) {
      throw NativeLibrary.notLoaded(e);  // names the classifier jar to add
    }
    NativeMemory.install();
  }

  private NativeCore() {}

  /** Forces the class (and so the native library) to load. */
  public static void init() {}

  // --- errors, library ---
  public static native int adj_last_error_kind();
  public static native String adj_last_error_message();
  public static native String adj_version();
  public static native int adj_num_primitives();
  public static native String adj_primitive_name(int i);
  public static native void adj_memory_stats(@Cast("int64_t*") long[] out);
  public static native void adj_empty_cache();
  public static native int adj_set_default_dtype(int dtype);
  public static native int adj_default_dtype();

  // --- the memory limit, GC hints, out-of-memory handler (NativeMemory) ---
  public static native long adj_memory_limit();
  public static native String adj_memory_limit_source();
  public static native long adj_gc_hint_threshold();
  public static native long adj_gc_hint_pressure();
  public static native long adj_gc_hint_footprint();
  public static native @Cast("int32_t*") IntPointer adj_gc_hint_flag();
  public static native void adj_gc_hint_taken();
  public static native void adj_set_oom_handler(OomHandler handler);

  /** The core's out-of-memory handler ({@code adj_oom_handler}): a call from native code into Java. */
  public static class OomHandler extends FunctionPointer {
    static {
      Loader.load();
    }

    protected OomHandler() {
      allocate();
    }

    private native void allocate();

    /** Runs on the allocating thread, inside its native call; must not throw. */
    public int call(@Cast("int64_t") long nbytes) {
      return NativeMemory.onAllocationFailure(nbytes);
    }
  }

  // --- lifecycle and metadata ---
  public static native void adj_release(long t);
  // NOTE: @CriticalRegion (GetPrimitiveArrayCritical: no copy of the array in and out) only on
  // calls that are short and never block; the backward calls can run for milliseconds, which would
  // hold off the garbage collector, so they have array-free single-leaf forms instead.
  @CriticalRegion public static native void adj_release_many(@Cast("const adj_t*") long[] ts, int n);
  public static native long adj_share(long t);
  @CriticalRegion public static native int adj_shape(long t, @Cast("int64_t*") long[] out);
  public static native int adj_strides(long t, @Cast("int64_t*") long[] out);
  public static native int adj_dtype(long t);
  public static native int adj_device(long t);
  public static native int adj_is_contiguous(long t);
  public static native long adj_numel(long t);

  // --- host data ---
  public static native long adj_from_data(@Cast("const void*") float[] data, int dtype, @Cast("const int64_t*") long[] shape, int ndim);
  public static native long adj_from_data(@Cast("const void*") double[] data, int dtype, @Cast("const int64_t*") long[] shape, int ndim);
  public static native long adj_from_data(@Cast("const void*") long[] data, int dtype, @Cast("const int64_t*") long[] shape, int ndim);
  public static native long adj_from_data(@Cast("const void*") byte[] data, int dtype, @Cast("const int64_t*") long[] shape, int ndim);
  public static native long adj_from_data(@Cast("const void*") Pointer data, int dtype, @Cast("const int64_t*") long[] shape, int ndim);
  public static native int adj_copy_to_host(long t, int dtype, @Cast("void*") float[] dst, long capacity);
  public static native int adj_copy_to_host(long t, int dtype, @Cast("void*") double[] dst, long capacity);
  public static native int adj_copy_to_host(long t, int dtype, @Cast("void*") long[] dst, long capacity);
  public static native int adj_copy_to_host(long t, int dtype, @Cast("void*") byte[] dst, long capacity);
  public static native int adj_copy_to_host(long t, int dtype, @Cast("void*") Pointer dst, long capacity);

  // --- creation ---
  public static native long adj_full(@Cast("const int64_t*") long[] shape, int ndim, double value, int dtype);
  public static native long adj_full_like(long t, double value);
  public static native long adj_eye(long n, long m, int dtype);
  public static native long adj_arange(double start, double end, double step, int dtype);
  public static native long adj_generator_new(@Cast("uint64_t") long seed);
  public static native void adj_generator_free(long g);
  public static native int adj_generator_manual_seed(long g, @Cast("uint64_t") long seed);
  public static native @Cast("uint64_t") long adj_generator_initial_seed(long g);
  public static native int adj_generator_copy_state(long dst, long src);
  public static native long adj_randn(long g, @Cast("const int64_t*") long[] shape, int ndim, int dtype);
  public static native long adj_rand(long g, @Cast("const int64_t*") long[] shape, int ndim, int dtype);

  // --- elementwise ---
  public static native long adj_neg(long x);
  public static native long adj_exp(long x);
  public static native long adj_log(long x);
  public static native long adj_sin(long x);
  public static native long adj_cos(long x);
  public static native long adj_tanh(long x);
  public static native long adj_sigmoid(long x);
  public static native long adj_relu(long x);
  public static native long adj_sqrt(long x);
  public static native long adj_abs(long x);
  public static native long adj_sign(long x);
  public static native long adj_log1p(long x);
  public static native long adj_expm1(long x);
  public static native long adj_erf(long x);
  public static native long adj_erfc(long x);
  public static native long adj_tan(long x);
  public static native long adj_asin(long x);
  public static native long adj_acos(long x);
  public static native long adj_atan(long x);
  public static native long adj_sinh(long x);
  public static native long adj_cosh(long x);
  public static native long adj_log2(long x);
  public static native long adj_log10(long x);
  public static native long adj_floor(long x);
  public static native long adj_ceil(long x);
  public static native long adj_round(long x);
  public static native long adj_trunc(long x);
  public static native long adj_isnan(long x);
  public static native long adj_isinf(long x);
  public static native long adj_isfinite(long x);
  public static native long adj_logical_not(long x);
  public static native long adj_square(long x);
  public static native long adj_reciprocal(long x);
  public static native long adj_rsqrt(long x);
  public static native long adj_add(long a, long b);
  public static native long adj_sub(long a, long b);
  public static native long adj_mul(long a, long b);
  public static native long adj_div(long a, long b);
  public static native long adj_pow(long a, long b);
  public static native long adj_maximum(long a, long b);
  public static native long adj_minimum(long a, long b);
  public static native long adj_atan2(long a, long b);
  public static native long adj_fmod(long a, long b);
  public static native long adj_remainder(long a, long b);
  public static native long adj_logical_and(long a, long b);
  public static native long adj_logical_or(long a, long b);
  public static native long adj_clamp(long x, long lo, long hi);
  public static native long adj_clamp_scalar(long x, double lo, double hi, int which);
  public static native long adj_scalar_op(int op, long a, double s, int reverse);
  public static native long adj_scalar_op_long(int op, long a, @Cast("int64_t") long s, int reverse);
  public static native long adj_compare(int cmp, long a, long b);
  public static native long adj_compare_scalar(int cmp, long a, double s);
  public static native long adj_compare_scalar_long(int cmp, long a, @Cast("int64_t") long s);
  public static native long adj_where(long cond, long a, long b);
  public static native int adj_check_class_targets(long target, @Cast("int64_t") long classes, String op);
  public static native long adj_to(long x, int dtype);

  // --- reductions ---
  public static native long adj_sum(long x, @Cast("const int64_t*") long[] dims, int ndims, int keepdim);
  public static native long adj_mean(long x, @Cast("const int64_t*") long[] dims, int ndims, int keepdim);
  public static native long adj_amax(long x, @Cast("const int64_t*") long[] dims, int ndims, int keepdim);
  public static native long adj_logsumexp(long x, @Cast("const int64_t*") long[] dims, int ndims, int keepdim);
  public static native long adj_softmax(long x, long dim);
  public static native long adj_log_softmax(long x, long dim);
  // reductions along one dim with positions, scans, sorting (pairs: values returned, indices in [0])
  public static native long adj_prod(long x, long dim, int keepdim);
  public static native long adj_prod_all(long x);
  public static native long adj_cumsum(long x, long dim);
  public static native long adj_cumprod(long x, long dim);
  public static native long adj_logcumsumexp(long x, long dim);
  public static native long adj_argmax(long x, long dim, int keepdim);
  public static native long adj_argmin(long x, long dim, int keepdim);
  public static native long adj_argmax_all(long x);
  public static native long adj_argmin_all(long x);
  public static native long adj_max_dim(long x, long dim, int keepdim, @Cast("adj_t*") long[] indices);
  public static native long adj_min_dim(long x, long dim, int keepdim, @Cast("adj_t*") long[] indices);
  public static native long adj_sort(long x, long dim, int descending, @Cast("adj_t*") long[] indices);
  public static native long adj_topk(long x, long k, long dim, int largest, @Cast("adj_t*") long[] indices);

  // --- shape, index and reduction composites ---
  public static native long adj_amin(long x, @Cast("const int64_t*") long[] dims, int ndims, int keepdim);
  public static native long adj_all(long x);
  public static native long adj_any(long x);
  public static native long adj_flip(long x, @Cast("const int64_t*") long[] dims, int ndims);
  public static native long adj_roll(long x, long shift, long dim);
  public static native long adj_tril(long x, long k);
  public static native long adj_triu(long x, long k);
  public static native long adj_diagonal(long x, long offset, long dim1, long dim2);
  public static native long adj_trace(long x);
  public static native long adj_outer(long a, long b);
  public static native long adj_masked_fill(long x, long mask, double value);
  public static native long adj_repeat(long x, @Cast("const int64_t*") long[] sizes, int n);
  public static native long adj_diag(long v, long offset);
  public static native long adj_linspace(double start, double end, long steps, int dtype);

  // --- statistics, vector norms, torch.nn.functional's composites ---
  public static native long adj_var(long x, @Cast("const int64_t*") long[] dims, int ndims, double correction, int keepdim);
  public static native long adj_std(long x, @Cast("const int64_t*") long[] dims, int ndims, double correction, int keepdim);
  public static native long adj_norm(long x, double p, @Cast("const int64_t*") long[] dims, int ndims, int keepdim);
  public static native long adj_gelu(long x, int tanhApprox);
  public static native long adj_silu(long x);
  public static native long adj_softplus(long x, double beta, double threshold);
  public static native long adj_elu(long x, double alpha);
  public static native long adj_leaky_relu(long x, double slope);
  public static native long adj_log_sigmoid(long x);
  public static native long adj_mse_loss(long input, long target);
  public static native long adj_l1_loss(long input, long target);
  public static native long adj_huber_loss(long input, long target, double delta);
  public static native long adj_binary_cross_entropy(long p, long target);
  public static native long adj_binary_cross_entropy_with_logits(long logits, long target);
  public static native long adj_one_hot(long target, long classes);
  public static native long adj_normalize(long x, double p, long dim, double eps);
  public static native long adj_cosine_similarity(long a, long b, long dim, double eps);
  public static native long adj_layer_norm(long x, @Cast("const int64_t*") long[] shape, int n, long w, long b, double eps);
  public static native long adj_group_norm(long x, long groups, long w, long b, double eps);
  public static native long adj_batch_norm(long x, long runningMean, long runningVar, long w, long b, int training, double eps);
  public static native long adj_dropout(long g, long x, double p, int training);
  public static native long adj_embedding(long indices, long weight);

  // --- linear algebra ---
  public static native long adj_matmul(long a, long b);
  public static native long adj_linear(long x, long w, long b);

  // --- torch.linalg on LAPACK (two outputs: the second written to second[0]) ---
  public static native long adj_linalg_solve(long a, long b);
  public static native long adj_linalg_solve_triangular(long a, long b, int upper, int left);
  public static native long adj_linalg_cholesky(long a, int upper);
  public static native long adj_linalg_inv(long a);
  public static native long adj_linalg_det(long a);
  public static native long adj_linalg_slogdet(long a, @Cast("adj_t*") long[] second);
  public static native long adj_linalg_eigh(long a, @Cast("adj_t*") long[] second);
  public static native long adj_linalg_eigvalsh(long a);
  public static native long adj_linalg_qr(long a, @Cast("adj_t*") long[] r);
  public static native long adj_linalg_svd(long a, int fullMatrices, @Cast("adj_t*") long[] sVh);
  public static native long adj_linalg_svdvals(long a);
  public static native long adj_linalg_pinv(long a, double atol, double rtol);
  public static native long adj_linalg_lstsq(long a, long b);
  public static native long adj_linalg_vector_norm(long x, double ord, @Cast("const int64_t*") long[] dims, int ndims, int keepdim);
  public static native long adj_linalg_matrix_norm(long a, double ord, int kind, int keepdim);
  // --- convolution, pooling, padding ---
  public static native long adj_conv2d(long x, long w, long b, @Cast("const int64_t*") long[] stride, int nstride,
      @Cast("const int64_t*") long[] padding, int npadding, @Cast("const int64_t*") long[] dilation, int ndilation,
      @Cast("int64_t") long groups);
  public static native long adj_conv1d(long x, long w, long b, @Cast("const int64_t*") long[] stride, int nstride,
      @Cast("const int64_t*") long[] padding, int npadding, @Cast("const int64_t*") long[] dilation, int ndilation,
      @Cast("int64_t") long groups);
  public static native long adj_max_pool2d(long x, @Cast("int64_t") long kernel, @Cast("int64_t") long stride);
  public static native long adj_avg_pool2d(long x, @Cast("int64_t") long kernel);
  public static native long adj_pad(long x, @Cast("const int64_t*") long[] pad, int npad);

  // --- views and data movement ---
  public static native long adj_reshape(long x, @Cast("const int64_t*") long[] shape, int ndim);
  public static native long adj_view(long x, @Cast("const int64_t*") long[] shape, int ndim);
  public static native long adj_permute(long x, @Cast("const int64_t*") long[] perm, int ndim);
  public static native long adj_transpose(long x, long d0, long d1);
  public static native long adj_movedim(long x, long src, long dst);
  public static native long adj_expand(long x, @Cast("const int64_t*") long[] shape, int ndim);
  public static native long adj_slice(long x, long dim, long start, long end, long step);
  public static native long adj_select(long x, long dim, long index);
  public static native long adj_squeeze(long x, @Cast("const int64_t*") long[] dims, int ndims);
  public static native long adj_unsqueeze(long x, long dim);
  public static native long adj_contiguous(long x);
  public static native long adj_detach(long x);
  public static native long adj_index_select(long x, long dim, long index);
  public static native long adj_cat(@Cast("const adj_t*") long[] xs, int n, long dim);
  public static native long adj_stack(@Cast("const adj_t*") long[] xs, int n, long dim);

  // --- gather, scatter, index_add and einsum ---
  public static native long adj_gather(long x, long dim, long index);
  public static native long adj_scatter(long self, long dim, long index, long src);
  public static native long adj_scatter_value(long self, long dim, long index, double value);
  public static native long adj_scatter_add(long self, long dim, long index, long src);
  public static native long adj_index_add(long self, long dim, long index, long source);
  public static native long adj_einsum(String equation, @Cast("const adj_t*") long[] xs, int n);

  // --- transforms ---
  public static native long adj_level_begin(int kind, long batchSize, int randomness);
  public static native void adj_level_release(long level);
  public static native int adj_level_close(long level);
  public static native int adj_level_depth();
  public static native int adj_is_tracer(long t);
  public static native long adj_jvp_wrap(long level, long primal, long tangent);
  @CriticalRegion public static native int adj_jvp_unwrap(long level, long y, @Cast("adj_t*") long[] out);
  public static native long adj_vmap_wrap(long level, long x, long inDim);
  public static native long adj_vmap_unwrap(long level, long y, long outDim);
  public static native long adj_vmap_basis(long level, long n, long start, int dtype);
  public static native long adj_grad_wrap(long level, long x);
  public static native long adj_grad_unwrap(long level, long y);
  public static native long adj_grad_unwrap_close(long level, long y);
  public static native int adj_jacrev_backward(long level, @Cast("const adj_t*") long[] outs, int nout, @Cast("const adj_t*") long[] ins, int nin,
      long chunk, @Cast("adj_t*") long[] jacOut);
  public static native int adj_grad_backward_ex(long level, @Cast("const adj_t*") long[] outs, @Cast("const adj_t*") long[] cots, int nout,
      @Cast("const adj_t*") long[] ins, int nin, @Cast("adj_t*") long[] gradsOut, int flags);
  public static final int ADJ_BACKWARD_END = 1, ADJ_BACKWARD_RELEASE = 2;
  /** adj_is_tracer's states (low two bits; the level kind is above them). */
  public static final int ADJ_TRACER_LIVE = 1, ADJ_TRACER_ESCAPED = 2, ADJ_TRACER_OTHER_THREAD = 3;
  public static native long adj_grad_backward1(long level, long out, long cot, long in, int flags);
  public static native long adj_vjp_begin(long x);
  public static native long adj_vjp_close(long tracedX, long y);
  public static native int adj_vjp_abort();
  public static native long adj_vjp_level(long tracedX);
  public static native long adj_jacrev_backward1(long level, long out, long in, long chunk);

  // --- custom derivative rules and linearize (dev.adjoint.CustomRules, dev.adjoint.Linearize) ---
  public static final int ADJ_CUSTOM_VJP = 0, ADJ_CUSTOM_JVP = 1, ADJ_CUSTOM_JVP_RUNS_F = 1;

  /** What the core calls back for the pieces of a custom function (see adj_custom_set_callback). */
  public interface CustomHandler {
    int call(long site, int what, long state, long ctx);
  }

  /**
   * The native function pointer the core calls back through: JavaCPP makes a thunk that calls
   * {@link #call} on this object. NOTE: one instance for the process, held by its user for good
   * (the core keeps its address); the work is done by {@link #handler}.
   */
  public static class CustomCallback extends FunctionPointer {
    static {
      Loader.load();
    }

    public static volatile CustomHandler handler;

    public CustomCallback() {
      allocate();
    }

    private native void allocate();

    public int call(@Cast("int64_t") long site, int what, @Cast("int64_t") long state, @Cast("int64_t") long ctx) {
      CustomHandler h = handler;
      return h == null ? -1 : h.call(site, what, state, ctx);
    }
  }

  public static native void adj_custom_set_callback(@Cast("adj_custom_callback") CustomCallback cb);
  public static native long adj_custom_call(int kind, int flags, @Cast("int64_t") long site, @Cast("const adj_t*") long[] in, int nin);
  public static native int adj_custom_nargs(@Cast("int64_t") long ctx);
  public static native long adj_custom_arg(@Cast("int64_t") long ctx, int i);
  public static native int adj_custom_push(@Cast("int64_t") long ctx, long t);
  public static native int adj_custom_set_state(@Cast("int64_t") long ctx, @Cast("int64_t") long state);
  @CriticalRegion public static native int adj_custom_released(@Cast("int64_t*") long[] ids, int capacity);
  public static native long adj_replay1(long leaf, long out, long value);
}
