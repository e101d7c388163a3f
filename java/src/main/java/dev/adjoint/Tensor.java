package dev.adjoint;

import dev.adjoint.internal.Errors;
import dev.adjoint.internal.NativeCore;
import dev.adjoint.internal.NativeMemory;
import dev.adjoint.internal.TensorPrinter;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * An n-dimensional array in native memory: a handle to a tensor of the C++ core. Every op is a
 * method returning a new tensor (views share memory with their source, as in PyTorch).
 *
 * <pre>{@code
 * Tensor w = Tensor.randn(3, 4), b = Tensor.randn(3), x = Tensor.randn(4);
 * Tensor y = x.linear(w, b).tanh();          // = F.linear(x, w, b).tanh()
 * System.out.println(y);                      // tensor([ 0.1231, -0.9734,  0.5201])
 * }</pre>
 *
 * <p>Memory: a tensor is released by {@link #close()}, by the {@link Scope} that created it, or
 * else by the garbage collector's Cleaner. Using a closed tensor throws
 * {@link IllegalStateException}, and so does using or reading the values of
 * ({@link #toDoubleArray}, {@link #item}, {@link #copyTo(DoubleBuffer)}, ...) a tensor that
 * escaped a transform that has returned (kept from inside the function given to {@code grad},
 * {@code vmap}, ...): the message names the transform. Bad arguments throw an
 * {@link AdjointArgumentException} subclass whose message names the op and the offending shapes,
 * dtypes or dims.
 */
public final class Tensor implements AutoCloseable {
  private static final int MAX_DIMS = 16;  // the core's kMaxDims (core/shape.h)

  private static final VarHandle HANDLE;
  private static final VarHandle CLOSE_REQUESTED;

  static {
    try {
      HANDLE = MethodHandles.lookup().findVarHandle(Tensor.class, "handle", long.class);
      CLOSE_REQUESTED = MethodHandles.lookup().findVarHandle(Tensor.class, "closeRequested", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  // NOTE: who may free the native tensor, and when, is ThreadState's NOTE: while the home thread
  // lives only it takes the handle (plain reads and writes, a fence per close or per scope), other
  // threads announce their use first (a hazard, then it is shared) and ask the home thread to close.
  private long handle;  // 0 once closed
  private volatile int closeRequested;  // 1: another thread closed it; the home thread frees it
  private final ThreadState home;  // the creating thread's state
  private volatile boolean shared;  // another thread has used it (closers must check hazards)
  Scope owner;
  private Cleaner.Cleanable cleanable;
  private volatile Releaser releaser;  // the Cleaner's action, disarmed by close()
  private long[] shape;  // cached on first query
  private DType dtype;

  private Tensor(long handle, ThreadState home) {
    this.handle = handle;
    this.home = home;
  }

  // ------------------------------------------------------------------ ownership

  // NOTE: a tensor whose handle a native call reads must stay reachable until the call returns:
  // else, for a tensor no scope holds, the garbage collector may find it unreachable right after
  // its handle was read, and the Cleaner release the native tensor while the call still uses it
  // (the core takes its own reference on entry, but only after the JNI transition). Op methods pass
  // the tensors they read to these overloads, whose fence after the call keeps them alive through it.
  static Tensor wrap(long h, Object keep) {
    Tensor t = wrap(h);
    Reference.reachabilityFence(keep);
    return t;
  }

  static Tensor wrap(long h, Object k1, Object k2) {
    Tensor t = wrap(h);
    Reference.reachabilityFence(k1);
    Reference.reachabilityFence(k2);
    return t;
  }

  static Tensor wrap(long h, Object k1, Object k2, Object k3) {
    Tensor t = wrap(h);
    Reference.reachabilityFence(k1);
    Reference.reachabilityFence(k2);
    Reference.reachabilityFence(k3);
    return t;
  }

  /**
   * Wraps a fresh native handle (checking it for an error) and hands it to its owner. Every native
   * call that uses tensors ends here or in {@link #done}: this thread's call is over.
   */
  static Tensor wrap(long h) {
    // NOTE: called for every tensor an op returns, so it must stay small enough for the JIT to
    // inline it into every op method (once its compiled code passed InlineSmallCode, 17 call sites
    // of W1's row loop called it out of line): rare work (errors, hazards, pending releases) is in
    // wrapSlow, the adoption in owned().
    ThreadState ts = ThreadState.current();
    if (h == 0 || ts.busy()) return wrapSlow(h, ts);
    return new Tensor(h, ts).owned(ts);
  }

  private static Tensor wrapSlow(long h, ThreadState ts) {
    if (h == 0) {
      RuntimeException e = Errors.last();
      if (ts.hasHazards()) ts.endCall();
      throw e;
    }
    if (ts.hasHazards()) ts.endCall();
    if (ts.hasPending) ts.drainPending();
    return new Tensor(h, ts).owned(ts);
  }

  /** Hands this fresh tensor to the thread's innermost scope, or else to the Cleaner. */
  private Tensor owned(ThreadState ts) {
    Scope s = ts.scope;
    if (s != null) s.adopt(this);
    else attachCleaner();
    return this;
  }

  private void attachCleaner() {
    owner = null;
    long h = handle;
    if (h == 0) return;
    Releaser r = new Releaser(h);
    releaser = r;  // a volatile write, then a volatile read: see close()
    cleanable = NativeMemory.register(this, r);
    if ((long) HANDLE.getVolatile(this) == 0) r.disarm();  // closed meanwhile by another thread: it frees
    NativeMemory.afterUnscopedAllocation();  // a GC hint if native memory grew enough
  }

  void moveTo(Scope parent) {
    if (parent != null) parent.adopt(this);
    else attachCleaner();
  }

  /**
   * Takes {@code src}'s cached shape and dtype (those it has) for a tensor known to share them: a
   * grad or jvp tracer wrapping {@code src}. Saves the native metadata queries on fresh tracers.
   */
  Tensor sameMetaAs(Tensor src) {
    shape = src.shape;
    dtype = src.dtype;
    return this;
  }

  private static final long[] SCALAR_SHAPE = {};

  /** Caches a shape the caller knows (a full reduction is 0-d); never mutated, as every cached shape. */
  private Tensor knownShape(long[] s) {
    shape = s;
    return this;
  }

  /** Takes {@code src}'s cached dtype: a vmap tracer of {@code src} has the same element type. */
  Tensor sameDTypeAs(Tensor src) {
    dtype = src.dtype;
    return this;
  }

  /**
   * The Cleaner's action for an unscoped tensor that became unreachable (so no thread can be using
   * it). close() disarms it first. It must not reference the Tensor.
   */
  private static final class Releaser implements Runnable {
    private volatile long h;

    Releaser(long h) {
      this.h = h;
    }

    void disarm() {
      h = 0;
    }

    @Override
    public void run() {
      long v = h;
      h = 0;
      if (v != 0) {
        NativeCore.adj_release(v);
        NativeMemory.releasedByCleaner();
      }
    }
  }

  /** Moves this tensor out of its scope into the enclosing one (or the Cleaner); returns this. */
  public Tensor keep() {
    if (owner != null) owner.keep(this);
    return this;
  }

  /**
   * Releases the native tensor now. Idempotent, and safe from any thread: a call another thread is
   * making with this tensor finishes with the right result (the memory is freed after it), and
   * later uses throw {@link IllegalStateException}.
   */
  @Override
  public void close() {
    if (home.isCurrent()) {
      long v = handle;
      if (v == 0) return;
      handle = 0;
      VarHandle.fullFence();  // before the hazard check (ThreadState's NOTE)
      disarmCleaner();
      ThreadState.freeUnlessUsed(this, v);
    } else if (home.ended()) {
      closeTaken();  // nobody takes handles in plain writes any more
    } else if (CLOSE_REQUESTED.compareAndSet(this, 0, 1)) {
      ThreadState.requestClose(this, home);
    }
  }

  /** Closes with an atomic swap: for a closer that may race others (the home thread has ended). */
  void closeTaken() {
    long v = (long) HANDLE.getAndSet(this, 0L);
    if (v == 0) return;
    disarmCleaner();
    ThreadState.freeUnlessUsed(this, v);
  }

  private void disarmCleaner() {
    owner = null;
    Releaser r = releaser;
    if (r != null) {
      r.disarm();
      Cleaner.Cleanable c = cleanable;
      if (c != null) c.clean();  // unregisters now; the disarmed action does nothing
    }
  }

  /**
   * For a scope closing on this tensor's home thread: marks it closed and returns its handle for
   * the scope to release (0 if it was already closed). A plain write: the scope issues the one
   * fence for all of its tensors before it looks at hazards, then clears {@code owner}.
   * Scope-owned tensors have no Cleaner.
   */
  long takeHandle() {
    long h = handle;
    handle = 0;
    return h;
  }


  /** As {@link #takeHandle} (and the owner cleared), for a scope of a thread that has ended (others may close too). */
  long detachAtomically() {
    long h = (long) HANDLE.getAndSet(this, 0L);
    owner = null;
    return h;
  }

  /** True once another thread has used this tensor: its closers check for calls in flight. */
  boolean isShared() {
    return shared;
  }

  /** True after {@link #close()} (or after its scope closed). */
  public boolean isClosed() {
    return (long) HANDLE.getVolatile(this) == 0 || closeRequested != 0;
  }

  /**
   * The native handle for a call about to be made; throws if closed. On another thread than the
   * tensor's home, the use is announced first (ThreadState's NOTE), and ends with the call
   * ({@link #wrap} or {@link #done}).
   */
  long h() {
    if (home.isCurrent()) {
      long v = handle;
      if (v == 0 || closeRequested != 0) throw closedError();
      return v;
    }
    return foreignHandle();
  }

  private long foreignHandle() {
    if (!shared) {
      shared = true;
      if (!ThreadState.everShared) ThreadState.everShared = true;
    }
    ThreadState.current().protect(this);  // ends with a full fence
    long v = (long) HANDLE.getVolatile(this);
    if (v == 0 || closeRequested != 0) throw closedError();
    return v;
  }

  private static IllegalStateException closedError() {
    ThreadState ts = ThreadState.current();
    if (ts.hasHazards()) ts.endCall();  // the call will not be made
    return new IllegalStateException("tensor is closed (released by close() or by its Scope) and cannot be used");
  }

  /** Ends a native call that read this tensor and made no tensor (metadata, copies to Java). */
  private void done() {
    if (!home.isCurrent()) ThreadState.current().endCall();
    Reference.reachabilityFence(this);  // see wrap(long, Object)
  }

  // ------------------------------------------------------------------ creation

  static {
    NativeCore.init();
  }

  /** A 1-D float32 tensor. */
  public static Tensor of(float... data) {
    return fromArray(data, data.length);
  }

  /** A 1-D float64 tensor. */
  public static Tensor of(double... data) {
    return fromArray(data, data.length);
  }

  /** A 1-D int64 tensor. */
  public static Tensor of(long... data) {
    return fromArray(data, data.length);
  }

  /** A 1-D bool tensor. */
  public static Tensor of(boolean... data) {
    byte[] b = new byte[data.length];
    for (int i = 0; i < b.length; i++) b[i] = (byte) (data[i] ? 1 : 0);
    return wrap(NativeCore.adj_from_data(b, DType.BOOL.code, new long[] {b.length}, 1));
  }

  /** A 2-D float32 tensor from rows of equal length. */
  public static Tensor of(float[][] rows) {
    int cols = rows.length == 0 ? 0 : rows[0].length;
    float[] flat = new float[rows.length * cols];
    for (int i = 0; i < rows.length; i++) {
      checkRow("of", i, rows[i].length, cols);
      System.arraycopy(rows[i], 0, flat, i * cols, cols);
    }
    return fromArray(flat, rows.length, cols);
  }

  /** A 2-D float64 tensor from rows of equal length. */
  public static Tensor of(double[][] rows) {
    int cols = rows.length == 0 ? 0 : rows[0].length;
    double[] flat = new double[rows.length * cols];
    for (int i = 0; i < rows.length; i++) {
      checkRow("of", i, rows[i].length, cols);
      System.arraycopy(rows[i], 0, flat, i * cols, cols);
    }
    return fromArray(flat, rows.length, cols);
  }

  /** A 3-D float32 tensor from nested arrays of consistent sizes. */
  public static Tensor of(float[][][] blocks) {
    int r = blocks.length == 0 ? 0 : blocks[0].length;
    int c = r == 0 ? 0 : blocks[0][0].length;
    float[] flat = new float[blocks.length * r * c];
    for (int i = 0; i < blocks.length; i++) {
      checkRow("of", i, blocks[i].length, r);
      for (int j = 0; j < r; j++) {
        checkRow("of", j, blocks[i][j].length, c);
        System.arraycopy(blocks[i][j], 0, flat, (i * r + j) * c, c);
      }
    }
    return fromArray(flat, blocks.length, r, c);
  }

  private static void checkRow(String op, int i, int len, int expected) {
    if (len != expected)
      throw new ShapeMismatchException(op, op + ": ragged array: row " + i + " has length " + len + ", expected " + expected);
  }

  /** A float32 tensor of the given shape over a copy of row-major {@code data}. */
  public static Tensor fromArray(float[] data, long... shape) {
    checkLength("fromArray", data.length, shape);
    return wrap(NativeCore.adj_from_data(data, DType.FLOAT32.code, shape, shape.length));
  }

  /** A float64 tensor of the given shape over a copy of row-major {@code data}. */
  public static Tensor fromArray(double[] data, long... shape) {
    checkLength("fromArray", data.length, shape);
    return wrap(NativeCore.adj_from_data(data, DType.FLOAT64.code, shape, shape.length));
  }

  /** An int64 tensor of the given shape over a copy of row-major {@code data}. */
  public static Tensor fromArray(long[] data, long... shape) {
    checkLength("fromArray", data.length, shape);
    return wrap(NativeCore.adj_from_data(data, DType.INT64.code, shape, shape.length));
  }

  // NOTE: a direct buffer crosses to the core as a pointer to its element at the position, and only
  // when its byte order is the machine's: JavaCPP's Pointer(Buffer) takes the position in its own
  // units, so the buffer is sliced first (a slice starts at the position, as position 0). Any other
  // buffer goes through a Java array, whose bulk get/put converts the byte order.
  private static boolean nativeLayout(Buffer b, ByteOrder order) {
    return b.isDirect() && order == ByteOrder.nativeOrder();
  }

  /**
   * A float32 tensor copied from the buffer's remaining elements (from its position to its limit;
   * direct or heap, either byte order). The buffer's position is left unchanged.
   */
  public static Tensor fromBuffer(FloatBuffer data, long... shape) {
    checkLength("fromBuffer", data.remaining(), shape);
    if (nativeLayout(data, data.order())) {
      FloatBuffer from = data.slice();
      Tensor t = wrap(NativeCore.adj_from_data(new FloatPointer(from), DType.FLOAT32.code, shape, shape.length));
      Reference.reachabilityFence(from);
      return t;
    }
    float[] copy = new float[data.remaining()];
    data.duplicate().get(copy);
    return fromArray(copy, shape);
  }

  /**
   * A float64 tensor copied from the buffer's remaining elements (from its position to its limit;
   * direct or heap, either byte order). The buffer's position is left unchanged.
   */
  public static Tensor fromBuffer(DoubleBuffer data, long... shape) {
    checkLength("fromBuffer", data.remaining(), shape);
    if (nativeLayout(data, data.order())) {
      DoubleBuffer from = data.slice();
      Tensor t = wrap(NativeCore.adj_from_data(new DoublePointer(from), DType.FLOAT64.code, shape, shape.length));
      Reference.reachabilityFence(from);
      return t;
    }
    double[] copy = new double[data.remaining()];
    data.duplicate().get(copy);
    return fromArray(copy, shape);
  }

  private static void checkLength(String op, long length, long[] shape) {
    long n = 1;
    for (long s : checkSizes(op, shape)) {
      if (s != 0 && n > Long.MAX_VALUE / s)  // not Math.multiplyExact: its ArithmeticException names no op
        throw new ShapeMismatchException(op, op + ": " + length + " elements cannot fill shape " + Arrays.toString(shape) + " (more than 2^63 elements)");
      n *= s;
    }
    if (n != length)
      throw new ShapeMismatchException(op, op + ": " + length + " elements cannot fill shape " + Arrays.toString(shape) + " (" + n + " elements)");
  }

  /** Returns {@code shape} after checking that no size is negative. */
  private static long[] checkSizes(String op, long[] shape) {
    for (long s : shape)
      if (s < 0) throw new AdjointArgumentException(op, op + ": negative size " + s + " in shape " + Arrays.toString(shape));
    return shape;
  }

  /** A 0-d tensor of the {@linkplain Adjoint#defaultDtype() default dtype} (float32 unless set). */
  public static Tensor scalar(double value) {
    return full(value, Adjoint.defaultDtype());
  }

  /** A 0-d tensor of the given dtype. */
  public static Tensor scalar(double value, DType dtype) {
    return full(value, dtype);
  }

  /** Zeros of the given shape and the {@linkplain Adjoint#defaultDtype() default dtype}. */
  public static Tensor zeros(long... shape) {
    return zeros(Adjoint.defaultDtype(), shape);
  }

  /** Zeros of the given dtype and shape. */
  public static Tensor zeros(DType dtype, long... shape) {
    return full(0, dtype, checkSizes("zeros", shape));  // checked here: the core's message would say "full"
  }

  /** Ones of the given shape and the {@linkplain Adjoint#defaultDtype() default dtype}. */
  public static Tensor ones(long... shape) {
    return ones(Adjoint.defaultDtype(), shape);
  }

  /** Ones of the given dtype and shape. */
  public static Tensor ones(DType dtype, long... shape) {
    return full(1, dtype, checkSizes("ones", shape));  // checked here: the core's message would say "full"
  }

  /** A tensor of the {@linkplain Adjoint#defaultDtype() default dtype} filled with {@code value}. */
  public static Tensor full(double value, long... shape) {
    return full(value, Adjoint.defaultDtype(), shape);
  }

  /** A tensor of the given dtype filled with {@code value}. */
  public static Tensor full(double value, DType dtype, long... shape) {
    return wrap(NativeCore.adj_full(shape, shape.length, value, dtype.code));
  }

  /** Zeros with this tensor's shape, dtype and device. */
  public static Tensor zerosLike(Tensor t) {
    return wrap(NativeCore.adj_full_like(t.h(), 0), t);
  }

  /** Ones with this tensor's shape, dtype and device. */
  public static Tensor onesLike(Tensor t) {
    return wrap(NativeCore.adj_full_like(t.h(), 1), t);
  }

  /** {@code value} with this tensor's shape, dtype and device. */
  public static Tensor fullLike(Tensor t, double value) {
    return wrap(NativeCore.adj_full_like(t.h(), value), t);
  }

  /** The n x n identity of the {@linkplain Adjoint#defaultDtype() default dtype}. */
  public static Tensor eye(long n) {
    return eye(n, n, Adjoint.defaultDtype());
  }

  /** An n x m matrix of the given dtype with ones on the diagonal. */
  public static Tensor eye(long n, long m, DType dtype) {
    return wrap(NativeCore.adj_eye(n, m, dtype.code));
  }

  /** int64 values 0, 1, ..., end-1 (like {@code torch.arange(end)}). */
  public static Tensor arange(long end) {
    return arange(0, end, 1, DType.INT64);
  }

  /** Values start, start+step, ... below end (above, for a negative step). */
  public static Tensor arange(double start, double end, double step, DType dtype) {
    return wrap(NativeCore.adj_arange(start, end, step, dtype.code));
  }

  /**
   * Standard normal samples of the {@linkplain Adjoint#defaultDtype() default dtype} from the
   * {@linkplain Generator#global() global generator}.
   */
  public static Tensor randn(long... shape) {
    return Generator.global().randn(shape);
  }

  /** Standard normal samples of the given dtype from the global generator. */
  public static Tensor randn(DType dtype, long... shape) {
    return Generator.global().randn(dtype, shape);
  }

  /** Uniform [0, 1) samples of the default dtype from the global generator. */
  public static Tensor rand(long... shape) {
    return Generator.global().rand(shape);
  }

  /** Uniform [0, 1) samples of the given dtype from the global generator. */
  public static Tensor rand(DType dtype, long... shape) {
    return Generator.global().rand(dtype, shape);
  }

  // ------------------------------------------------------------------ metadata

  /** The shape (a copy). */
  public long[] shape() {
    return shapeRef().clone();
  }

  private long[] shapeRef() {
    long[] s = shape;
    if (s == null) {
      // One native call: adj_shape writes the dims into a buffer of the largest rank and returns it.
      long[] buf = new long[MAX_DIMS];
      int n = NativeCore.adj_shape(h(), buf);
      done();
      shape = s = Errors.check(n) == MAX_DIMS ? buf : Arrays.copyOf(buf, n);
    }
    return s;
  }

  /** Size of dim {@code d} (negative counts from the end). */
  public long size(int d) {
    return sizeFor("size", d);
  }

  /** Size of dim {@code d} for {@code op}, whose name an out-of-range dim's message gives. */
  private long sizeFor(String op, int d) {
    long[] s = shapeRef();
    int w = d < 0 ? d + s.length : d;
    if (w < 0 || w >= s.length)
      throw new InvalidIndexException(op, op + ": dim " + d + " out of range for a tensor of rank " + s.length
          + " (expected in [" + -s.length + ", " + (s.length - 1) + "])");
    return s[w];
  }

  /** Number of dims. */
  public int ndim() {
    return shapeRef().length;
  }

  /** Number of dims (PyTorch's name). */
  public int dim() {
    return ndim();
  }

  /** Number of elements. */
  public long numel() {
    long n = 1;
    for (long s : shapeRef()) n *= s;
    return n;
  }

  /** Element type. */
  public DType dtype() {
    DType d = dtype;
    if (d == null) {
      int code = NativeCore.adj_dtype(h());
      done();
      dtype = d = DType.fromCode(Errors.check(code));
    }
    return d;
  }

  /** Device holding the data. */
  public Device device() {
    int code = NativeCore.adj_device(h());
    done();
    return Device.fromCode(Errors.check(code));
  }

  /** Element strides. */
  public long[] strides() {
    long[] s = new long[ndim()];
    int n = NativeCore.adj_strides(h(), s);
    done();
    Errors.check(n);
    return s;
  }

  /** True if the elements are laid out densely in row-major order. */
  public boolean isContiguous() {
    int c = NativeCore.adj_is_contiguous(h());
    done();
    return Errors.check(c) != 0;
  }

  // ------------------------------------------------------------------ elementwise

  /** Elementwise negation. */
  public Tensor neg() { return wrap(NativeCore.adj_neg(h()), this); }
  /** Elementwise e^x. */
  public Tensor exp() { return wrap(NativeCore.adj_exp(h()), this); }
  /** Elementwise natural logarithm. */
  public Tensor log() { return wrap(NativeCore.adj_log(h()), this); }
  /** Elementwise sine. */
  public Tensor sin() { return wrap(NativeCore.adj_sin(h()), this); }
  /** Elementwise cosine. */
  public Tensor cos() { return wrap(NativeCore.adj_cos(h()), this); }
  /** Elementwise hyperbolic tangent. */
  public Tensor tanh() { return wrap(NativeCore.adj_tanh(h()), this); }
  /** Elementwise logistic sigmoid 1 / (1 + e^-x). */
  public Tensor sigmoid() { return wrap(NativeCore.adj_sigmoid(h()), this); }
  /** Elementwise max(x, 0). */
  public Tensor relu() { return wrap(NativeCore.adj_relu(h()), this); }
  /** Elementwise square root. */
  public Tensor sqrt() { return wrap(NativeCore.adj_sqrt(h()), this); }
  /** Elementwise absolute value. */
  public Tensor abs() { return wrap(NativeCore.adj_abs(h()), this); }
  /** Elementwise sign (-1, 0, 1). */
  public Tensor sign() { return wrap(NativeCore.adj_sign(h()), this); }

  // --- issue 14's elementwise vocabulary (torch's names in camelCase) ---
  /** Elementwise log(1 + x), accurate for small x (torch.log1p); derivative 1 / (1 + x). */
  public Tensor log1p() { return wrap(NativeCore.adj_log1p(h()), this); }
  /** Elementwise e^x - 1, accurate for small x (torch.expm1). */
  public Tensor expm1() { return wrap(NativeCore.adj_expm1(h()), this); }
  /** Elementwise error function (torch.erf); derivative 2 / sqrt(pi) e^(-x^2). */
  public Tensor erf() { return wrap(NativeCore.adj_erf(h()), this); }
  /** Elementwise complementary error function 1 - erf(x), accurate in the tail (torch.erfc). */
  public Tensor erfc() { return wrap(NativeCore.adj_erfc(h()), this); }
  /** Elementwise tangent. */
  public Tensor tan() { return wrap(NativeCore.adj_tan(h()), this); }
  /** Elementwise arcsine (NaN outside [-1, 1]); derivative 1 / sqrt(1 - x^2). */
  public Tensor asin() { return wrap(NativeCore.adj_asin(h()), this); }
  /** Elementwise arccosine (NaN outside [-1, 1]); derivative -1 / sqrt(1 - x^2). */
  public Tensor acos() { return wrap(NativeCore.adj_acos(h()), this); }
  /** Elementwise arctangent; derivative 1 / (1 + x^2). */
  public Tensor atan() { return wrap(NativeCore.adj_atan(h()), this); }
  /** Elementwise hyperbolic sine. */
  public Tensor sinh() { return wrap(NativeCore.adj_sinh(h()), this); }
  /** Elementwise hyperbolic cosine. */
  public Tensor cosh() { return wrap(NativeCore.adj_cosh(h()), this); }
  /** Elementwise base-2 logarithm. */
  public Tensor log2() { return wrap(NativeCore.adj_log2(h()), this); }
  /** Elementwise base-10 logarithm. */
  public Tensor log10() { return wrap(NativeCore.adj_log10(h()), this); }
  /** Elementwise floor (an int64 tensor is its own floor); derivative 0, as in torch. */
  public Tensor floor() { return wrap(NativeCore.adj_floor(h()), this); }
  /** Elementwise ceiling (an int64 tensor is its own); derivative 0, as in torch. */
  public Tensor ceil() { return wrap(NativeCore.adj_ceil(h()), this); }
  /** Elementwise rounding to the nearest integer, halves to even (torch.round); derivative 0. */
  public Tensor round() { return wrap(NativeCore.adj_round(h()), this); }
  /** Elementwise rounding toward zero; derivative 0, as in torch. */
  public Tensor trunc() { return wrap(NativeCore.adj_trunc(h()), this); }
  /** Elementwise x != x (bool): true where x is NaN; false everywhere for int64 and bool. */
  public Tensor isnan() { return wrap(NativeCore.adj_isnan(h()), this); }
  /** Elementwise test for +Inf or -Inf (bool). */
  public Tensor isinf() { return wrap(NativeCore.adj_isinf(h()), this); }
  /** Elementwise test for a value that is neither NaN nor infinite (bool); true for int64 and bool. */
  public Tensor isfinite() { return wrap(NativeCore.adj_isfinite(h()), this); }
  /** Elementwise logical not (bool): true where x is zero (false), of any dtype (torch.logical_not). */
  public Tensor logicalNot() { return wrap(NativeCore.adj_logical_not(h()), this); }
  /** Elementwise x * x (torch.square): exact, derivative 2x. */
  public Tensor square() { return wrap(NativeCore.adj_square(h()), this); }
  /** Elementwise 1 / x (torch.reciprocal): an int64 or bool tensor gives the default float dtype. */
  public Tensor reciprocal() { return wrap(NativeCore.adj_reciprocal(h()), this); }
  /** Elementwise 1 / sqrt(x) (torch.rsqrt). */
  public Tensor rsqrt() { return wrap(NativeCore.adj_rsqrt(h()), this); }

  // NOTE: type promotion is torch's, done once in the native core (ops/promotion.h), so that every
  // transform sees the casts: mixed dtypes go to their common dtype (bool < int64 < float32 <
  // float64), where a 0-d tensor or a scalar raises a dimensioned tensor's category but never its
  // width within it (float32 [n] + float64 0-d is float32; int64 [n] + float64 0-d is float64). A
  // Java double is a floating scalar (int64 tensor * 0.5 has the default float dtype,
  // Adjoint.defaultDtype()), a Java long or int an integer one (int64 tensor + 1 stays int64), as
  // Python floats and ints are to torch. Comparisons compare in the promoted dtype.

  /**
   * this + other, broadcasting, in the promoted dtype (like torch: float32 + float64 is float64,
   * int64 + float32 is float32, a 0-d operand does not widen a dimensioned one within its
   * category). bool + bool is logical or.
   */
  public Tensor add(Tensor other) { return wrap(NativeCore.adj_add(h(), other.h()), this, other); }
  /** this - other, broadcasting, promoted as {@link #add(Tensor)} (bool operands are refused, as in torch). */
  public Tensor sub(Tensor other) { return wrap(NativeCore.adj_sub(h(), other.h()), this, other); }
  /** this * other, broadcasting, promoted as {@link #add(Tensor)} (bool * bool is logical and). */
  public Tensor mul(Tensor other) { return wrap(NativeCore.adj_mul(h(), other.h()), this, other); }
  /**
   * this / other, broadcasting: true division, promoted as {@link #add(Tensor)}; integer or bool
   * operands give the default float dtype ({@code Tensor.of(7L, -7L).div(Tensor.of(2L))} is
   * [3.5, -3.5] float32).
   */
  public Tensor div(Tensor other) { return wrap(NativeCore.adj_div(h(), other.h()), this, other); }
  /**
   * this ^ other, broadcasting, promoted as {@link #add(Tensor)}. Integer powers of integers are
   * exact int64 (wrapping on overflow, and a negative exponent truncating 1 / x^-y, as in torch).
   */
  public Tensor pow(Tensor other) { return wrap(NativeCore.adj_pow(h(), other.h()), this, other); }
  /**
   * this + s for a Java double: a floating tensor keeps its dtype; an int64 or bool tensor gives
   * the default float dtype ({@code Tensor.arange(3).add(0.5)} is [0.5, 1.5, 2.5] float32).
   */
  public Tensor add(double s) { return wrap(NativeCore.adj_scalar_op(0, h(), s, 0), this); }
  /** this + s for a Java long or int: a floating tensor keeps its dtype, int64 and bool give int64. */
  public Tensor add(long s) { return wrap(NativeCore.adj_scalar_op_long(0, h(), s, 0), this); }
  /** this - s, promoted as {@link #add(double)}. */
  public Tensor sub(double s) { return wrap(NativeCore.adj_scalar_op(1, h(), s, 0), this); }
  /** this - s, promoted as {@link #add(long)}. */
  public Tensor sub(long s) { return wrap(NativeCore.adj_scalar_op_long(1, h(), s, 0), this); }
  /** s - this, promoted as {@link #add(double)}. */
  public Tensor rsub(double s) { return wrap(NativeCore.adj_scalar_op(1, h(), s, 1), this); }
  /** s - this, promoted as {@link #add(long)}. */
  public Tensor rsub(long s) { return wrap(NativeCore.adj_scalar_op_long(1, h(), s, 1), this); }
  /** this * s, promoted as {@link #add(double)}: {@code Tensor.arange(3).mul(0.5)} is [0, 0.5, 1] float32. */
  public Tensor mul(double s) { return wrap(NativeCore.adj_scalar_op(2, h(), s, 0), this); }
  /** this * s, promoted as {@link #add(long)}. */
  public Tensor mul(long s) { return wrap(NativeCore.adj_scalar_op_long(2, h(), s, 0), this); }
  /** this / s: true division; an int64 or bool tensor gives the default float dtype. */
  public Tensor div(double s) { return wrap(NativeCore.adj_scalar_op(3, h(), s, 0), this); }
  /** this / s: true division; an int64 or bool tensor gives the default float dtype. */
  public Tensor div(long s) { return wrap(NativeCore.adj_scalar_op_long(3, h(), s, 0), this); }
  /** this ^ s, promoted as {@link #add(double)}. */
  public Tensor pow(double s) { return wrap(NativeCore.adj_scalar_op(4, h(), s, 0), this); }
  /**
   * this ^ s, promoted as {@link #add(long)}: an int64 tensor stays int64 (exact powers); a
   * negative exponent for an integer tensor is refused, as in torch.
   */
  public Tensor pow(long s) { return wrap(NativeCore.adj_scalar_op_long(4, h(), s, 0), this); }

  /** Elementwise maximum of this and other, broadcasting and promoted as {@link #add(Tensor)}; NaN propagates. At a tie the derivative is shared evenly between the two inputs, as in torch. */
  public Tensor maximum(Tensor other) { return wrap(NativeCore.adj_maximum(h(), other.h()), this, other); }
  /** Elementwise minimum of this and other, broadcasting and promoted as {@link #add(Tensor)}; NaN propagates. At a tie the derivative is shared evenly, as in torch. */
  public Tensor minimum(Tensor other) { return wrap(NativeCore.adj_minimum(h(), other.h()), this, other); }
  /** Elementwise atan2(this, other): the angle of the point (other, this), in (-pi, pi]; integers promote to the default float dtype. */
  public Tensor atan2(Tensor other) { return wrap(NativeCore.adj_atan2(h(), other.h()), this, other); }
  /** Elementwise remainder of this / other with the sign of this (C's fmod, torch.fmod); an int64 division by zero throws. */
  public Tensor fmod(Tensor other) { return wrap(NativeCore.adj_fmod(h(), other.h()), this, other); }
  /** Elementwise remainder of this / other with the sign of other (Python's %, torch.remainder); an int64 division by zero throws. */
  public Tensor remainder(Tensor other) { return wrap(NativeCore.adj_remainder(h(), other.h()), this, other); }
  /** {@link #fmod(Tensor)} by a Java double, promoted as {@link #add(double)} (an int64 tensor gives the default float dtype). */
  public Tensor fmod(double s) { return wrap(NativeCore.adj_scalar_op(5, h(), s, 0), this); }
  /** {@link #fmod(Tensor)} by a Java long, promoted as {@link #add(long)} (an int64 tensor stays int64; 0 throws). */
  public Tensor fmod(long s) { return wrap(NativeCore.adj_scalar_op_long(5, h(), s, 0), this); }
  /** {@link #remainder(Tensor)} by a Java double, promoted as {@link #add(double)}. */
  public Tensor remainder(double s) { return wrap(NativeCore.adj_scalar_op(6, h(), s, 0), this); }
  /** {@link #remainder(Tensor)} by a Java long, promoted as {@link #add(long)} (an int64 tensor stays int64; 0 throws). */
  public Tensor remainder(long s) { return wrap(NativeCore.adj_scalar_op_long(6, h(), s, 0), this); }
  /** Elementwise logical and (bool) of this and other, each read as nonzero = true, broadcasting. */
  public Tensor logicalAnd(Tensor other) { return wrap(NativeCore.adj_logical_and(h(), other.h()), this, other); }
  /** Elementwise logical or (bool) of this and other, each read as nonzero = true, broadcasting. */
  public Tensor logicalOr(Tensor other) { return wrap(NativeCore.adj_logical_or(h(), other.h()), this, other); }
  /**
   * Elementwise min(max(this, lo), hi) with scalar bounds (torch.clamp): the bounds take this
   * tensor's dtype when it is floating, else the default float dtype. The derivative passes where
   * lo &lt;= this &lt;= hi, bounds included (torch's convention), and is 0 elsewhere; with lo &gt; hi
   * every element is hi.
   */
  public Tensor clamp(double lo, double hi) { return wrap(NativeCore.adj_clamp_scalar(h(), lo, hi, 3), this); }
  /**
   * Elementwise min(max(this, lo), hi) with tensor bounds, broadcasting (torch.clamp): the
   * derivative reaches this where lo &lt;= this &lt;= hi, lo where this &lt; lo, and hi where the
   * result is hi. Either bound may be null for a one-sided clamp, as torch's
   * {@code torch.clamp(x, None, hi)}: {@code x.clamp(null, hi)}.
   *
   * @throws AdjointArgumentException if both bounds are null
   */
  public Tensor clamp(Tensor lo, Tensor hi) { return wrap(NativeCore.adj_clamp(h(), hOrZero(lo), hOrZero(hi)), this, lo, hi); }
  /** Elementwise max(this, lo) with the derivative of {@link #clamp(double, double)} (torch.clamp_min). */
  public Tensor clampMin(double lo) { return wrap(NativeCore.adj_clamp_scalar(h(), lo, 0, 1), this); }
  /** Elementwise min(this, hi) with the derivative of {@link #clamp(double, double)} (torch.clamp_max). */
  public Tensor clampMax(double hi) { return wrap(NativeCore.adj_clamp_scalar(h(), 0, hi, 2), this); }

  /** Elementwise this == other (bool), compared in the promoted dtype. */
  public Tensor eq(Tensor other) { return wrap(NativeCore.adj_compare(0, h(), other.h()), this, other); }
  /** Elementwise this != other (bool), compared in the promoted dtype. */
  public Tensor ne(Tensor other) { return wrap(NativeCore.adj_compare(1, h(), other.h()), this, other); }
  /** Elementwise this &lt; other (bool), compared in the promoted dtype. */
  public Tensor lt(Tensor other) { return wrap(NativeCore.adj_compare(2, h(), other.h()), this, other); }
  /** Elementwise this &lt;= other (bool), compared in the promoted dtype. */
  public Tensor le(Tensor other) { return wrap(NativeCore.adj_compare(3, h(), other.h()), this, other); }
  /** Elementwise this &gt; other (bool), compared in the promoted dtype. */
  public Tensor gt(Tensor other) { return wrap(NativeCore.adj_compare(4, h(), other.h()), this, other); }
  /** Elementwise this &gt;= other (bool), compared in the promoted dtype. */
  public Tensor ge(Tensor other) { return wrap(NativeCore.adj_compare(5, h(), other.h()), this, other); }
  /** Elementwise this == s (bool); an int64 tensor compares with a double in the default float dtype. */
  public Tensor eq(double s) { return wrap(NativeCore.adj_compare_scalar(0, h(), s), this); }
  /** Elementwise this == s (bool); an int64 tensor compares with a long exactly. */
  public Tensor eq(long s) { return wrap(NativeCore.adj_compare_scalar_long(0, h(), s), this); }
  /** Elementwise this != s (bool). */
  public Tensor ne(double s) { return wrap(NativeCore.adj_compare_scalar(1, h(), s), this); }
  /** Elementwise this != s (bool). */
  public Tensor ne(long s) { return wrap(NativeCore.adj_compare_scalar_long(1, h(), s), this); }
  /** Elementwise this &lt; s (bool). */
  public Tensor lt(double s) { return wrap(NativeCore.adj_compare_scalar(2, h(), s), this); }
  /** Elementwise this &lt; s (bool). */
  public Tensor lt(long s) { return wrap(NativeCore.adj_compare_scalar_long(2, h(), s), this); }
  /** Elementwise this &lt;= s (bool). */
  public Tensor le(double s) { return wrap(NativeCore.adj_compare_scalar(3, h(), s), this); }
  /** Elementwise this &lt;= s (bool). */
  public Tensor le(long s) { return wrap(NativeCore.adj_compare_scalar_long(3, h(), s), this); }
  /** Elementwise this &gt; s (bool). */
  public Tensor gt(double s) { return wrap(NativeCore.adj_compare_scalar(4, h(), s), this); }
  /** Elementwise this &gt; s (bool). */
  public Tensor gt(long s) { return wrap(NativeCore.adj_compare_scalar_long(4, h(), s), this); }
  /** Elementwise this &gt;= s (bool). */
  public Tensor ge(double s) { return wrap(NativeCore.adj_compare_scalar(5, h(), s), this); }
  /** Elementwise this &gt;= s (bool). */
  public Tensor ge(long s) { return wrap(NativeCore.adj_compare_scalar_long(5, h(), s), this); }

  /**
   * Elementwise {@code cond ? a : b}, broadcasting all three (like {@code torch.where}); {@code a}
   * and {@code b} are promoted as {@link #add(Tensor)}, {@code cond} must be bool.
   */
  public static Tensor where(Tensor cond, Tensor a, Tensor b) {
    return wrap(NativeCore.adj_where(cond.h(), a.h(), b.h()), cond, a, b);
  }

  /**
   * Throws an {@link InvalidIndexException} naming {@code op} unless every value this int64 tensor
   * stands for lies in [0, classes): behind a grad or jvp tracer its primal, behind a vmap tracer
   * every example (class targets are concrete data under any transform).
   */
  void checkClassTargets(long classes, String op) {
    int r = NativeCore.adj_check_class_targets(h(), classes, op);
    done();
    Errors.check(r);
  }

  /** A copy converted to {@code dtype} (this tensor itself if it already has it). */
  public Tensor to(DType dtype) {
    return wrap(NativeCore.adj_to(h(), dtype.code), this);
  }

  // ------------------------------------------------------------------ reductions

  private static final long[] ALL = new long[0];

  private static long[] dims(int... d) {
    long[] r = new long[d.length];
    for (int i = 0; i < d.length; i++) r[i] = d[i];
    return r;
  }

  /** Sum of all elements (0-d). */
  public Tensor sum() { return wrap(NativeCore.adj_sum(h(), ALL, 0, 0), this).knownShape(SCALAR_SHAPE); }
  /** Sum over {@code dim}, dropping it. */
  public Tensor sum(int dim) { return sum(new int[] {dim}, false); }
  /** Sum over {@code dims}; {@code keepdim} keeps them with size 1. */
  public Tensor sum(int[] dims, boolean keepdim) { return wrap(NativeCore.adj_sum(h(), dims(dims), dims.length, keepdim ? 1 : 0), this); }
  /** Sum over {@code dim}; {@code keepdim} keeps it with size 1. */
  public Tensor sum(int dim, boolean keepdim) { return sum(new int[] {dim}, keepdim); }

  /** Mean of all elements (0-d). */
  public Tensor mean() { return wrap(NativeCore.adj_mean(h(), ALL, 0, 0), this).knownShape(SCALAR_SHAPE); }
  /** Mean over {@code dim}, dropping it. */
  public Tensor mean(int dim) { return mean(new int[] {dim}, false); }
  /** Mean over {@code dims}. */
  public Tensor mean(int[] dims, boolean keepdim) { return wrap(NativeCore.adj_mean(h(), dims(dims), dims.length, keepdim ? 1 : 0), this); }
  /** Mean over {@code dim}. */
  public Tensor mean(int dim, boolean keepdim) { return mean(new int[] {dim}, keepdim); }

  /** Maximum of all elements (0-d); NaN if any is NaN. */
  public Tensor amax() { return wrap(NativeCore.adj_amax(h(), ALL, 0, 0), this); }
  /** Maximum over {@code dim}, dropping it. */
  public Tensor amax(int dim) { return amax(new int[] {dim}, false); }
  /** Maximum over {@code dims}. */
  public Tensor amax(int[] dims, boolean keepdim) { return wrap(NativeCore.adj_amax(h(), dims(dims), dims.length, keepdim ? 1 : 0), this); }
  /** Maximum over {@code dim}. */
  public Tensor amax(int dim, boolean keepdim) { return amax(new int[] {dim}, keepdim); }

  /** log(sum(exp(x))) over all elements, computed stably. */
  public Tensor logsumexp() { return wrap(NativeCore.adj_logsumexp(h(), ALL, 0, 0), this); }
  /** log(sum(exp(x))) over {@code dim}, dropping it. */
  public Tensor logsumexp(int dim) { return logsumexp(new int[] {dim}, false); }
  /** log(sum(exp(x))) over {@code dims}. */
  public Tensor logsumexp(int[] dims, boolean keepdim) { return wrap(NativeCore.adj_logsumexp(h(), dims(dims), dims.length, keepdim ? 1 : 0), this); }
  /** log(sum(exp(x))) over {@code dim}. */
  public Tensor logsumexp(int dim, boolean keepdim) { return logsumexp(new int[] {dim}, keepdim); }

  /**
   * Variance over {@code dim} with Bessel's correction (divides by N - 1), like
   * {@code torch.var(x, dim)}.
   */
  public Tensor var(int dim) { return var(new int[] {dim}, 1, false); }

  /**
   * Variance over {@code dims} (empty: all), dividing the sum of squared deviations by
   * max(0, N - correction): correction 1 is the unbiased estimate, 0 the population variance.
   */
  public Tensor var(int[] dims, double correction, boolean keepdim) {
    return wrap(NativeCore.adj_var(h(), dims(dims), dims.length, correction, keepdim ? 1 : 0), this);
  }

  /** Standard deviation over {@code dim} with Bessel's correction, like {@code torch.std(x, dim)}. */
  public Tensor std(int dim) { return std(new int[] {dim}, 1, false); }

  /**
   * Standard deviation over {@code dims} (empty: all): the square root of
   * {@link #var(int[], double, boolean)}. Its derivative where the deviation is 0 is NaN, as torch's.
   */
  public Tensor std(int[] dims, double correction, boolean keepdim) {
    return wrap(NativeCore.adj_std(h(), dims(dims), dims.length, correction, keepdim ? 1 : 0), this);
  }

  /** The 2-norm of all elements (0-d); its derivative at the zero tensor is 0, like torch's. */
  public Tensor norm() { return wrap(NativeCore.adj_norm(h(), 2, ALL, 0, 0), this).knownShape(SCALAR_SHAPE); }

  /**
   * The p-norm over {@code dim}: p = 1 (sum of magnitudes), 2 (Euclidean), any {@code p > 0}, or
   * {@code Double.POSITIVE_INFINITY} (largest magnitude; ties share the derivative). Where the
   * norm is 0 its derivative is 0 (torch's subgradient), never NaN.
   *
   * @throws AdjointArgumentException if p is not positive
   */
  public Tensor norm(double p, int dim, boolean keepdim) {
    return wrap(NativeCore.adj_norm(h(), p, dims(dim), 1, keepdim ? 1 : 0), this);
  }

  /** Minimum of all elements (0-d); NaN if any is NaN. Ties share the derivative, like torch. */
  public Tensor amin() { return wrap(NativeCore.adj_amin(h(), ALL, 0, 0), this); }
  /** Minimum over {@code dim}, dropping it. */
  public Tensor amin(int dim) { return amin(new int[] {dim}, false); }
  /** Minimum over {@code dims}; {@code keepdim} keeps them with size 1. */
  public Tensor amin(int[] dims, boolean keepdim) { return wrap(NativeCore.adj_amin(h(), dims(dims), dims.length, keepdim ? 1 : 0), this); }

  /** True (a bool 0-d tensor) if every element is nonzero (true for an empty tensor). */
  public Tensor all() { return wrap(NativeCore.adj_all(h()), this); }
  /** True (a bool 0-d tensor) if some element is nonzero (false for an empty tensor). */
  public Tensor any() { return wrap(NativeCore.adj_any(h()), this); }

  // ------------------------------------------------------------------ reductions with positions, scans, sorting

  /**
   * A pair of tensors from {@link #max(int)}, {@link #min(int)}, {@link #sort(int, boolean)} and
   * {@link #topk(long, int)}: the selected values (this tensor's dtype) and their int64 positions
   * along the dim, like torch's {@code (values, indices)} named tuples.
   *
   * @param values the selected elements
   * @param indices their positions along the dim (int64; no derivative)
   */
  public record ValuesIndices(Tensor values, Tensor indices) {}

  private ValuesIndices valuesIndices(long values, long[] indices) {
    Tensor v = wrap(values, this);
    return new ValuesIndices(v, wrap(indices[0]));
  }

  /** Product of all elements (0-d); bool and int64 give int64. Its gradient is right with zeros (see {@link #prod(int, boolean)}). */
  public Tensor prod() { return wrap(NativeCore.adj_prod_all(h()), this).knownShape(SCALAR_SHAPE); }
  /** Product over {@code dim}, dropping it. */
  public Tensor prod(int dim) { return prod(dim, false); }

  /**
   * Product over {@code dim} ({@code torch.prod(x, dim, keepdim)}); an empty dim gives 1. The
   * gradient is the product of the other elements, computed without dividing by the element, so
   * it is exact with one zero (the other elements' product) and with several (zero), to every order.
   */
  public Tensor prod(int dim, boolean keepdim) { return wrap(NativeCore.adj_prod(h(), dim, keepdim ? 1 : 0), this); }

  /** Cumulative sum along {@code dim} ({@code torch.cumsum}); bool gives int64. */
  public Tensor cumsum(int dim) { return wrap(NativeCore.adj_cumsum(h(), dim), this); }

  /**
   * Cumulative product along {@code dim} ({@code torch.cumprod}); bool gives int64. Its gradient
   * divides by nothing: exact with zeros in the input, like torch's.
   */
  public Tensor cumprod(int dim) { return wrap(NativeCore.adj_cumprod(h(), dim), this); }

  /**
   * {@code log(cumsum(exp(x)))} along {@code dim}, computed stably ({@code torch.logcumsumexp}):
   * large entries do not overflow and {@code -Inf} entries contribute nothing. Floating dtypes only.
   * Where every entry so far is {@code -Inf} (the result is {@code -Inf}) the gradient is 0 (torch
   * gives NaN there).
   */
  public Tensor logcumsumexp(int dim) { return wrap(NativeCore.adj_logcumsumexp(h(), dim), this); }

  /** Position (int64, 0-d) of the first maximum of all elements in row-major order; a NaN counts as the maximum. */
  public Tensor argmax() { return wrap(NativeCore.adj_argmax_all(h()), this).knownShape(SCALAR_SHAPE); }
  /** Position (int64) of the first maximum along {@code dim}, dropping it; a NaN counts as the maximum (torch's rule). */
  public Tensor argmax(int dim) { return argmax(dim, false); }
  /** Position (int64) of the first maximum along {@code dim}; {@code keepdim} keeps it with size 1. */
  public Tensor argmax(int dim, boolean keepdim) { return wrap(NativeCore.adj_argmax(h(), dim, keepdim ? 1 : 0), this); }
  /** Position (int64, 0-d) of the first minimum of all elements in row-major order; a NaN counts as the minimum. */
  public Tensor argmin() { return wrap(NativeCore.adj_argmin_all(h()), this).knownShape(SCALAR_SHAPE); }
  /** Position (int64) of the first minimum along {@code dim}, dropping it; a NaN counts as the minimum (torch's rule). */
  public Tensor argmin(int dim) { return argmin(dim, false); }
  /** Position (int64) of the first minimum along {@code dim}; {@code keepdim} keeps it with size 1. */
  public Tensor argmin(int dim, boolean keepdim) { return wrap(NativeCore.adj_argmin(h(), dim, keepdim ? 1 : 0), this); }

  /**
   * Maximum along {@code dim} and its position ({@code torch.max(x, dim)}): the first maximum, a NaN
   * counting as the maximum. The gradient of {@code values()} reaches the selected element only,
   * torch's rule for reductions along a dim; {@link #amax(int)} instead shares it evenly among tied
   * maxima.
   *
   * <pre>{@code
   * Tensor.ValuesIndices m = x.max(1);   // m.values(), m.indices()
   * }</pre>
   *
   * @throws AdjointArgumentException if the dim has size 0
   */
  public ValuesIndices max(int dim) { return max(dim, false); }
  /** {@link #max(int)}; {@code keepdim} keeps the dim with size 1 in both results. */
  public ValuesIndices max(int dim, boolean keepdim) {
    long[] idx = new long[1];
    return valuesIndices(NativeCore.adj_max_dim(h(), dim, keepdim ? 1 : 0, idx), idx);
  }
  /**
   * Minimum along {@code dim} and its position ({@code torch.min(x, dim)}), as {@link #max(int)}:
   * the gradient reaches the selected element only (unlike {@link #amin(int)}'s even split).
   */
  public ValuesIndices min(int dim) { return min(dim, false); }
  /** {@link #min(int)}; {@code keepdim} keeps the dim with size 1 in both results. */
  public ValuesIndices min(int dim, boolean keepdim) {
    long[] idx = new long[1];
    return valuesIndices(NativeCore.adj_min_dim(h(), dim, keepdim ? 1 : 0, idx), idx);
  }

  /** {@link #sort(int, boolean)} in ascending order. */
  public ValuesIndices sort(int dim) { return sort(dim, false); }

  /**
   * Sorts along {@code dim} ({@code torch.sort(x, dim, descending, stable=True)}): equal elements
   * keep their order, NaN sorts as the largest. The gradient of {@code values()} goes back to the
   * positions the elements came from.
   */
  public ValuesIndices sort(int dim, boolean descending) {
    long[] idx = new long[1];
    return valuesIndices(NativeCore.adj_sort(h(), dim, descending ? 1 : 0, idx), idx);
  }

  /** The {@code k} largest elements along {@code dim}, largest first: {@link #topk(long, int, boolean, boolean)}. */
  public ValuesIndices topk(long k, int dim) { return topk(k, dim, true, true); }

  /**
   * The {@code k} largest (or, when {@code largest} is false, smallest) elements along {@code dim}
   * and their positions ({@code torch.topk}), NaN counting as the largest. The result is always
   * sorted (largest first, or smallest first), whatever {@code sorted} says; equal elements come in
   * index order (torch leaves their order unspecified). The gradient goes back to the positions.
   *
   * @throws AdjointArgumentException if k is negative or larger than the dim
   */
  public ValuesIndices topk(long k, int dim, boolean largest, boolean sorted) {
    long[] idx = new long[1];
    return valuesIndices(NativeCore.adj_topk(h(), k, dim, largest ? 1 : 0, idx), idx);
  }

  /** Softmax along {@code dim}. */
  public Tensor softmax(int dim) { return wrap(NativeCore.adj_softmax(h(), dim), this); }
  /** Log-softmax along {@code dim}. */
  public Tensor logSoftmax(int dim) { return wrap(NativeCore.adj_log_softmax(h(), dim), this); }

  // ------------------------------------------------------------------ linear algebra

  /** Matrix product with {@code torch.matmul} semantics (1-D, 2-D, batched with broadcasting). */
  public Tensor matmul(Tensor other) { return wrap(NativeCore.adj_matmul(h(), other.h()), this, other); }

  /** {@code this @ weight^T + bias}, like {@code F.linear(this, weight, bias)}; bias may be null. */
  public Tensor linear(Tensor weight, Tensor bias) {
    return wrap(NativeCore.adj_linear(h(), weight.h(), bias == null ? 0 : bias.h()), this, weight, bias);
  }

  // ------------------------------------------------------------------ views and data movement

  /** Same data with a new shape (one size may be -1); a view when possible, else a copy. */
  public Tensor reshape(long... shape) { return wrap(NativeCore.adj_reshape(h(), shape, shape.length), this); }
  /** Same data with a new shape, always a view; throws if the layout does not allow one. */
  public Tensor view(long... shape) { return wrap(NativeCore.adj_view(h(), shape, shape.length), this); }
  /** All elements as a 1-D tensor. */
  public Tensor flatten() { return reshape(-1); }
  /** Dims reordered (a view). */
  public Tensor permute(int... perm) { return wrap(NativeCore.adj_permute(h(), dims(perm), perm.length), this); }
  /** Dims d0 and d1 swapped (a view). */
  public Tensor transpose(int d0, int d1) { return wrap(NativeCore.adj_transpose(h(), d0, d1), this); }
  /** Transpose of a 2-D tensor (a view). */
  public Tensor t() {
    if (ndim() > 2) throw new ShapeMismatchException("t", "t: expects a tensor with <= 2 dims, got shape " + Arrays.toString(shapeRef()));
    return ndim() < 2 ? transpose(0, 0) : transpose(0, 1);
  }
  /** Dim {@code src} moved to position {@code dst} (a view). */
  public Tensor movedim(int src, int dst) { return wrap(NativeCore.adj_movedim(h(), src, dst), this); }
  /** Broadcast to {@code shape} without copying (-1 keeps a size). */
  public Tensor expand(long... shape) { return wrap(NativeCore.adj_expand(h(), shape, shape.length), this); }
  /** Elements start..end-1 of {@code dim} (a view; bounds clamp like Python slices). */
  public Tensor slice(int dim, long start, long end) { return slice(dim, start, end, 1); }
  /** Every {@code step}-th element of start..end-1 along {@code dim} (a view). */
  public Tensor slice(int dim, long start, long end, long step) { return wrap(NativeCore.adj_slice(h(), dim, start, end, step), this); }

  /** The elements in reverse order along each of {@code dims} (a copy, like torch.flip). */
  public Tensor flip(int... dims) { return wrap(NativeCore.adj_flip(h(), dims(dims), dims.length), this); }

  /** Elements shifted by {@code shift} along {@code dim}, those leaving one end entering at the other. */
  public Tensor roll(long shift, int dim) { return wrap(NativeCore.adj_roll(h(), shift, dim), this); }

  /** The lower triangle of the last two dims: elements with {@code col - row <= k}, zeros above. */
  public Tensor tril(long k) { return wrap(NativeCore.adj_tril(h(), k), this); }

  /** The upper triangle of the last two dims: elements with {@code col - row >= k}, zeros below. */
  public Tensor triu(long k) { return wrap(NativeCore.adj_triu(h(), k), this); }

  /** The diagonal of the first two dims, {@code offset} above it (below if negative); see {@link #diagonal(long, int, int)}. */
  public Tensor diagonal(long offset) { return diagonal(offset, 0, 1); }

  /**
   * The diagonal of dims {@code dim1} and {@code dim2} ({@code offset} above it, below if
   * negative): those dims removed, the diagonal appended as the last dim, like torch.diagonal (a
   * copy, not a view).
   */
  public Tensor diagonal(long offset, int dim1, int dim2) { return wrap(NativeCore.adj_diagonal(h(), offset, dim1, dim2), this); }

  /** The sum of a matrix's diagonal (0-d). */
  public Tensor trace() { return wrap(NativeCore.adj_trace(h()), this).knownShape(SCALAR_SHAPE); }

  /** The outer product of two vectors: {@code [n] x [m] -> [n, m]}. */
  public Tensor outer(Tensor other) { return wrap(NativeCore.adj_outer(h(), other.h()), this, other); }

  /** {@code value} where the bool {@code mask} (broadcast to this shape) is true, else this tensor's element. */
  public Tensor maskedFill(Tensor mask, double value) { return wrap(NativeCore.adj_masked_fill(h(), mask.h(), value), this, mask); }

  /** This tensor tiled {@code sizes[i]} times along dim i (leading 1s added to its shape if sizes is longer), like torch's repeat. */
  public Tensor repeat(long... sizes) { return wrap(NativeCore.adj_repeat(h(), sizes, sizes.length), this); }

  /** Consecutive slices of {@code size} along {@code dim} (the last may be shorter), like torch.split. */
  public java.util.List<Tensor> split(long size, int dim) {
    if (size <= 0) throw new AdjointArgumentException("split", "split: split size must be positive, got " + size);
    long n = sizeFor("split", dim);
    java.util.List<Tensor> parts = new java.util.ArrayList<>();
    for (long start = 0; start < n; start += size) parts.add(slice(dim, start, Math.min(n, start + size)));
    if (parts.isEmpty()) parts.add(slice(dim, 0, 0));
    return java.util.List.copyOf(parts);
  }

  /** At most {@code n} slices of equal size (the last may be smaller) along {@code dim}, like torch.chunk. */
  public java.util.List<Tensor> chunk(int n, int dim) {
    if (n <= 0) throw new AdjointArgumentException("chunk", "chunk: number of chunks must be positive, got " + n);
    long len = sizeFor("chunk", dim);
    return split(Math.max(1, (len + n - 1) / n), dim);
  }

  /** A square matrix with {@code v} on its diagonal (a 1-D v), or the diagonal of a matrix v, like torch.diag. */
  public static Tensor diag(Tensor v) { return wrap(NativeCore.adj_diag(v.h(), 0), v); }

  /** {@link #diag(Tensor)} with the diagonal {@code offset} above the main one (below if negative). */
  public static Tensor diag(Tensor v, long offset) { return wrap(NativeCore.adj_diag(v.h(), offset), v); }

  /**
   * {@code steps} evenly spaced values from {@code start} to {@code end}, both included, in the
   * default float dtype, computed like torch's (both ends exact).
   */
  public static Tensor linspace(double start, double end, long steps) { return linspace(start, end, steps, Adjoint.defaultDtype()); }

  /** {@link #linspace(double, double, long)} in {@code dtype} (float32 or float64). */
  public static Tensor linspace(double start, double end, long steps, DType dtype) {
    return wrap(NativeCore.adj_linspace(start, end, steps, dtype.code));
  }
  /** Index {@code index} of {@code dim}, dropping the dim (a view). */
  public Tensor select(int dim, long index) { return wrap(NativeCore.adj_select(h(), dim, index), this); }
  /** Row {@code index} (same as {@code select(0, index)}). */
  public Tensor get(long index) { return select(0, index); }
  /** All size-1 dims removed (a view). */
  public Tensor squeeze() { return wrap(NativeCore.adj_squeeze(h(), ALL, 0), this); }
  /** The given dims removed where their size is 1 (a view). */
  public Tensor squeeze(int... dims) { return wrap(NativeCore.adj_squeeze(h(), dims(dims), dims.length), this); }
  /** A size-1 dim inserted at {@code dim} (a view). */
  public Tensor unsqueeze(int dim) { return wrap(NativeCore.adj_unsqueeze(h(), dim), this); }
  /** A dense row-major copy, or this tensor if it already is one. */
  public Tensor contiguous() { return wrap(NativeCore.adj_contiguous(h()), this); }
  /**
   * The same values with no derivative (like {@code torch.Tensor.detach} and
   * {@code jax.lax.stop_gradient}): a constant to grad, vjp, jvp and the Jacobians at every level,
   * still batched under vmap. {@code grad(x -> x.mul(x.detach()).sum())} is {@code x}.
   */
  public Tensor detach() { return wrap(NativeCore.adj_detach(h()), this); }
  /** Entries of {@code dim} picked by the int64 {@code index}. */
  public Tensor indexSelect(int dim, Tensor index) { return wrap(NativeCore.adj_index_select(h(), dim, index.h()), this, index); }

  /** Concatenation along an existing dim. */
  public static Tensor cat(List<Tensor> tensors, int dim) {
    return wrap(NativeCore.adj_cat(handles("cat", tensors), tensors.size(), dim), tensors);
  }

  /** Stacking along a new dim. */
  public static Tensor stack(List<Tensor> tensors, int dim) {
    return wrap(NativeCore.adj_stack(handles("stack", tensors), tensors.size(), dim), tensors);
  }

  // ------------------------------------------------------------------ gather, scatter, einsum

  /**
   * The elements of this tensor picked along {@code dim} by the int64 {@code index}, like
   * torch.gather: for a 3-D tensor and dim 1, {@code out[i][j][k] = this[i][index[i][j][k]][k]}.
   * The result has index's shape; index has this tensor's rank and is no larger than it in the
   * other dims. Its derivative is {@link #scatterAdd scatterAdd} of the cotangent.
   *
   * <pre>{@code
   * Tensor x = Tensor.fromArray(new double[] {1, 2, 3, 4}, 2, 2);
   * x.gather(1, Tensor.fromArray(new long[] {0, 0, 1, 0}, 2, 2));  // [[1, 1], [4, 3]]
   * }</pre>
   *
   * @throws InvalidIndexException an index value outside {@code [0, size(dim))} (naming the
   *     value and the size; checked under vmap too), or dim out of range
   * @throws ShapeMismatchException index's rank or sizes do not fit
   */
  public Tensor gather(int dim, Tensor index) { return wrap(NativeCore.adj_gather(h(), dim, index.h()), this, index); }

  /**
   * A copy of this tensor with {@code src}'s elements written along {@code dim} at the int64
   * {@code index}, like torch.scatter: for dim 0, {@code out[index[i][j]][j] = src[i][j]}. index
   * has this tensor's rank, is no larger than src in every dim and than this tensor apart from
   * dim; src has this tensor's dtype. Differentiable in this tensor (zero where written) and in
   * src. An index that repeats a position along dim keeps one of the writes (the last here; torch
   * leaves it undefined) and src's derivative is then exact only for an index without repeats.
   *
   * <pre>{@code
   * Tensor.zeros(DType.FLOAT64, 3).scatter(0, Tensor.fromArray(new long[] {2, 0}, 2), Tensor.fromArray(new double[] {5, 7}, 2));
   * // [7, 0, 5]
   * }</pre>
   *
   * @throws InvalidIndexException an index value outside {@code [0, size(dim))}
   * @throws ShapeMismatchException index's rank or sizes do not fit
   * @throws DTypeMismatchException src's dtype differs from this tensor's
   */
  public Tensor scatter(int dim, Tensor index, Tensor src) {
    return wrap(NativeCore.adj_scatter(h(), dim, index.h(), src.h()), this, index, src);
  }

  /** {@link #scatter(int, Tensor, Tensor)} writing {@code value} at every position index names. */
  public Tensor scatter(int dim, Tensor index, double value) {
    return wrap(NativeCore.adj_scatter_value(h(), dim, index.h(), value), this, index);
  }

  /**
   * A copy of this tensor with {@code src}'s elements added along {@code dim} at the int64
   * {@code index}, like torch.scatter_add: for dim 0, {@code out[index[i][j]][j] += src[i][j]};
   * repeated positions add up. Shapes as for {@link #scatter(int, Tensor, Tensor)}. The derivative
   * in src is {@link #gather gather} of the cotangent.
   *
   * <pre>{@code
   * Tensor.zeros(3).scatterAdd(0, Tensor.fromArray(new long[] {2, 2, 0}, 3), Tensor.ones(3));  // [1, 0, 2]
   * }</pre>
   *
   * @throws InvalidIndexException an index value outside {@code [0, size(dim))}
   * @throws ShapeMismatchException index's rank or sizes do not fit
   * @throws DTypeMismatchException src's dtype differs from this tensor's
   */
  public Tensor scatterAdd(int dim, Tensor index, Tensor src) {
    return wrap(NativeCore.adj_scatter_add(h(), dim, index.h(), src.h()), this, index, src);
  }

  /**
   * A copy of this tensor with slab {@code i} of {@code source} along {@code dim} added at
   * position {@code index[i]}, like torch.index_add: the 0-d or 1-D int64 index has one entry per
   * slab of source, source has this tensor's shape apart from dim, and repeated positions add up.
   *
   * <pre>{@code
   * Tensor.zeros(3, 2).indexAdd(0, Tensor.fromArray(new long[] {2, 0, 2}, 3), Tensor.ones(3, 2));
   * // [[1, 1], [0, 0], [2, 2]]
   * }</pre>
   *
   * @throws InvalidIndexException an index value outside {@code [0, size(dim))}
   * @throws ShapeMismatchException source's shape or the number of indices does not fit
   * @throws DTypeMismatchException source's dtype differs from this tensor's
   */
  public Tensor indexAdd(int dim, Tensor index, Tensor source) {
    return wrap(NativeCore.adj_index_add(h(), dim, index.h(), source.h()), this, index, source);
  }

  /**
   * Einstein summation, like torch.einsum: one subscript letter ({@code a-z}, {@code A-Z}) per dim
   * of each operand, terms separated by commas; a letter repeated within an operand takes its
   * diagonal; letters absent from the output are summed. The output is given after {@code ->}, or
   * else is every letter that appears once, in alphabetical order (upper case first). {@code ...}
   * stands for the dims the letters leave, broadcast between operands. The operands are
   * contracted left to right by matrix products, so every transform works through it.
   *
   * <pre>{@code
   * Tensor.einsum("bij,bjk->bik", x, y);     // batched matmul
   * Tensor.einsum("ii", w);                  // trace
   * Tensor.einsum("bn,anm,bm->ba", x, w, y); // bilinear
   * Tensor.einsum("...ij->...ji", x);        // transpose of the last two dims
   * }</pre>
   *
   * @throws AdjointArgumentException a malformed equation, or terms and operands that do not
   *     match in number (the message gives the equation)
   * @throws ShapeMismatchException an operand whose rank does not fit its term, or sizes of one
   *     letter that differ (naming the operand and shapes)
   */
  public static Tensor einsum(String equation, Tensor... operands) {
    if (equation == null) throw new AdjointArgumentException("einsum", "einsum: the equation is null");
    if (operands == null) throw new AdjointArgumentException("einsum", "einsum: the operand array is null");
    List<Tensor> ops = java.util.Arrays.asList(operands);
    return wrap(NativeCore.adj_einsum(equation, handles("einsum", ops), ops.size()), ops);
  }

  /** The handles of a list argument, refusing a null list or element with a message naming the op. */
  private static long[] handles(String op, List<Tensor> ts) {
    if (ts == null) throw new AdjointArgumentException(op, op + ": the list of tensors is null");
    long[] hs = new long[ts.size()];
    for (int i = 0; i < hs.length; i++) {
      Tensor t = ts.get(i);
      if (t == null) throw new AdjointArgumentException(op, op + ": tensor " + i + " of the list is null");
      hs[i] = t.h();
    }
    return hs;
  }

  // ------------------------------------------------------------------ back to Java

  /** All elements as float, row-major (converted from this tensor's dtype). */
  public float[] toFloatArray() {
    float[] out = new float[checkedNumel()];
    int r = NativeCore.adj_copy_to_host(h(), DType.FLOAT32.code, out, out.length * 4L);
    done();
    Errors.check(r);
    return out;
  }

  /** All elements as double, row-major. */
  public double[] toDoubleArray() {
    double[] out = new double[checkedNumel()];
    int r = NativeCore.adj_copy_to_host(h(), DType.FLOAT64.code, out, out.length * 8L);
    done();
    Errors.check(r);
    return out;
  }

  /** All elements as long, row-major (floats truncate toward zero). */
  public long[] toLongArray() {
    long[] out = new long[checkedNumel()];
    int r = NativeCore.adj_copy_to_host(h(), DType.INT64.code, out, out.length * 8L);
    done();
    Errors.check(r);
    return out;
  }

  /** All elements as boolean (nonzero = true), row-major. */
  public boolean[] toBooleanArray() {
    byte[] b = new byte[checkedNumel()];
    int r = NativeCore.adj_copy_to_host(h(), DType.BOOL.code, b, b.length);
    done();
    Errors.check(r);
    boolean[] out = new boolean[b.length];
    for (int i = 0; i < b.length; i++) out[i] = b[i] != 0;
    return out;
  }

  /**
   * Copies all elements as float into {@code dst} from its position on (direct or heap, either byte
   * order), and advances the position past them. A read-only buffer is refused before anything is
   * written ({@link ReadOnlyBufferException}), as {@link FloatBuffer#put} does.
   */
  public void copyTo(FloatBuffer dst) {
    if (dst.isReadOnly()) throw new ReadOnlyBufferException();
    int n = checkedNumel();
    if (dst.remaining() < n)
      throw new AdjointArgumentException("copyTo", "copyTo: buffer has " + dst.remaining() + " floats left, tensor has " + n);
    if (nativeLayout(dst, dst.order())) {
      FloatBuffer to = dst.slice();
      int r = NativeCore.adj_copy_to_host(h(), DType.FLOAT32.code, new FloatPointer(to), n * 4L);
      done();
      Reference.reachabilityFence(to);
      Errors.check(r);
      dst.position(dst.position() + n);
    } else {
      dst.put(toFloatArray());
    }
  }

  /**
   * Copies all elements as double into {@code dst} from its position on (direct or heap, either
   * byte order), and advances the position past them. A read-only buffer is refused before
   * anything is written ({@link ReadOnlyBufferException}).
   */
  public void copyTo(DoubleBuffer dst) {
    if (dst.isReadOnly()) throw new ReadOnlyBufferException();
    int n = checkedNumel();
    if (dst.remaining() < n)
      throw new AdjointArgumentException("copyTo", "copyTo: buffer has " + dst.remaining() + " doubles left, tensor has " + n);
    if (nativeLayout(dst, dst.order())) {
      DoubleBuffer to = dst.slice();
      int r = NativeCore.adj_copy_to_host(h(), DType.FLOAT64.code, new DoublePointer(to), n * 8L);
      done();
      Reference.reachabilityFence(to);
      Errors.check(r);
      dst.position(dst.position() + n);
    } else {
      dst.put(toDoubleArray());
    }
  }

  private int checkedNumel() {
    long n = numel();
    if (n > Integer.MAX_VALUE - 8)
      throw new AdjointArgumentException("toArray", "toArray: " + n + " elements do not fit in a Java array");
    return (int) n;
  }

  /** The value of a one-element tensor. */
  public double item() {
    if (numel() != 1)
      throw new ShapeMismatchException("item", "item: only a one-element tensor converts to a number, got shape " + Arrays.toString(shapeRef()));
    return toDoubleArray()[0];
  }

  /** The value of a one-element tensor as long (exact for int64). */
  public long itemLong() {
    if (numel() != 1)
      throw new ShapeMismatchException("item", "item: only a one-element tensor converts to a number, got shape " + Arrays.toString(shapeRef()));
    return toLongArray()[0];
  }

  /** {@code allclose(other, 1e-5, 1e-8)}, like {@code torch.allclose}. */
  public boolean allclose(Tensor other) {
    return allclose(other, 1e-5, 1e-8);
  }

  /**
   * True if {@code |this - other| <= atol + rtol * |other|} everywhere (after broadcasting);
   * equal infinities are close, NaN is never close. Compares in float64.
   */
  public boolean allclose(Tensor other, double rtol, double atol) {
    try (Scope s = Scope.open()) {
      Tensor a = this.to(DType.FLOAT64), b = other.to(DType.FLOAT64);
      Tensor diff = a.sub(b);  // broadcasts, and throws on shapes that do not
      long[] shp = diff.shape();
      double[] x = a.expand(shp).toDoubleArray(), y = b.expand(shp).toDoubleArray();
      for (int i = 0; i < x.length; i++) {
        if (x[i] == y[i]) continue;
        // an infinity is close only to itself (|inf - x| <= atol + rtol * inf would hold for any x)
        if (Double.isInfinite(x[i]) || Double.isInfinite(y[i])) return false;
        if (!(Math.abs(x[i] - y[i]) <= atol + rtol * Math.abs(y[i]))) return false;
      }
      return true;
    }
  }

  private static final String[] LEVEL_NAMES = {"jvp", "grad", "vmap"};  // ADJ_LEVEL_* order

  /**
   * Prints like PyTorch: {@code tensor([-0.5956, -0.6096, ...])}, summarised when large. Never
   * throws: a closed tensor, a value inside vmap and a tensor that escaped a finished transform
   * print as placeholders ({@code tensor(<escaped from a finished grad>, shape=[3], dtype=float32)}).
   */
  @Override
  public String toString() {
    if (isClosed()) return "tensor(<closed>)";
    int tracer = NativeCore.adj_is_tracer(h());
    done();
    if (tracer > 0) {
      String level = LEVEL_NAMES[tracer >> 2];
      switch (tracer & 3) {
        case NativeCore.ADJ_TRACER_ESCAPED: return placeholder("escaped from a finished " + level);
        case NativeCore.ADJ_TRACER_OTHER_THREAD: return placeholder("traced by a " + level + " of another thread");
        default:
      }
      // Values under vmap stand for a whole batch; jvp/grad tracers print their primal value.
      try {
        return formatValues();
      } catch (IllegalStateException e) {
        return placeholder("batched inside vmap");
      }
    }
    return formatValues();
  }

  private String placeholder(String what) {
    return "tensor(<" + what + ">, shape=" + Arrays.toString(shapeRef()) + ", dtype=" + dtype().displayName() + ")";
  }

  private String formatValues() {
    long[] s = shapeRef();
    DType d = dtype();
    String suffix = d == DType.FLOAT64 ? "float64" : null;
    Device dev = device();
    String devName = dev.type() == Device.Type.CPU ? null : dev.toString();
    Object data;
    switch (d) {
      case FLOAT32: data = toFloatArray(); break;
      case FLOAT64: data = toDoubleArray(); break;
      case INT64: data = toLongArray(); break;
      default: data = toBooleanArray();
    }
    return TensorPrinter.format(data, s, suffix, devName);
  }

  // ------------------------------------------------------------------ F's composites (ops/nn.cpp)

  static Tensor nn(long h, Tensor a) { return wrap(h, a); }

  static Tensor nn(long h, Tensor a, Tensor b) { return wrap(h, a, b); }

  static Tensor nn(long h, Tensor a, Tensor b, Tensor c) { return wrap(h, a, b, c); }

  /** The handle of an optional argument: 0 for null. */
  static long hOrZero(Tensor t) { return t == null ? 0 : t.h(); }

  static Tensor layerNorm(Tensor x, long[] shape, Tensor w, Tensor b, double eps) {
    if (shape == null) throw new AdjointArgumentException("layer_norm", "layer_norm: normalized_shape is null");
    Tensor t = wrap(NativeCore.adj_layer_norm(x.h(), shape, shape.length, hOrZero(w), hOrZero(b), eps), x, w, b);
    return t;
  }

  static Tensor batchNorm(Tensor x, Tensor rm, Tensor rv, Tensor w, Tensor b, boolean training, double eps) {
    Tensor t = wrap(NativeCore.adj_batch_norm(x.h(), hOrZero(rm), hOrZero(rv), hOrZero(w), hOrZero(b), training ? 1 : 0, eps), x, w, b);
    Reference.reachabilityFence(rm);
    Reference.reachabilityFence(rv);
    return t;
  }
}
