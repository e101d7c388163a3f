package dev.adjoint.fuzz;

import dev.adjoint.AdjointArgumentException;
import dev.adjoint.DType;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import dev.adjoint.fuzz.ProgramFuzzer.Failure;
import dev.adjoint.fuzz.ProgramFuzzer.Rng;
import dev.adjoint.fuzz.SpecialCase.Ctx;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.Arrays;
import java.util.List;

/**
 * NIO buffers: {@code Tensor.fromBuffer(FloatBuffer/DoubleBuffer, shape)} and
 * {@code tensor.copyTo(FloatBuffer/DoubleBuffer)} with heap buffers (whole arrays, slices at an
 * offset), views of heap and direct ByteBuffers in either byte order (also at odd byte offsets, so
 * unaligned), slices and duplicates of those, read-only buffers, nonzero positions and limits
 * short of the capacity; tensors of every dtype, contiguous or not, with values that must survive
 * bit for bit (-0.0, subnormals, infinities, NaN, the largest finite values).
 *
 * <p>Contract, checked against a byte image of the whole memory behind the buffer:
 * <ul>
 *   <li>fromBuffer reads the {@code remaining()} elements from the position, as the buffer's own
 *       {@code get} sees them (its byte order); position, limit and contents are unchanged;
 *       remaining != numel throws an AdjointArgumentException.
 *   <li>copyTo writes numel elements at the position, in the buffer's byte order (converted to
 *       the buffer's element type as a Java cast does), advances the position by numel and
 *       touches nothing else; a duplicate's writes show in the original, whose position stays.
 *   <li>Too little room: an AdjointArgumentException; a read-only buffer:
 *       {@link ReadOnlyBufferException}; in both cases nothing written, position unchanged.
 * </ul>
 */
final class BufferCases {
  private BufferCases() {}

  /** A float or double buffer over memory we can image: an array, or a ByteBuffer at a byte offset. */
  static final class Buf {
    final boolean dbl;
    final String text;
    final float[] fa;
    final double[] da;
    final ByteBuffer root;  // byte-backed: the whole memory
    final int base;         // element 0 of the view: an array index, or a byte offset in root
    final ByteOrder order;
    Buffer view;

    Buf(boolean dbl, String text, float[] fa, double[] da, ByteBuffer root, int base, ByteOrder order, Buffer view) {
      this.dbl = dbl;
      this.text = text;
      this.fa = fa;
      this.da = da;
      this.root = root;
      this.base = base;
      this.order = order;
      this.view = view;
    }

    int esize() {
      return dbl ? 8 : 4;
    }

    byte[] image() {
      if (fa != null) {
        ByteBuffer b = ByteBuffer.allocate(fa.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(fa);
        return b.array();
      }
      if (da != null) {
        ByteBuffer b = ByteBuffer.allocate(da.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(da);
        return b.array();
      }
      byte[] r = new byte[root.capacity()];
      for (int i = 0; i < r.length; i++) r[i] = root.get(i);
      return r;
    }

    /** The image with element {@code i} of the view set to {@code v} (raw bits, the view's order). */
    void put(byte[] img, int i, double v) {
      ByteBuffer b = ByteBuffer.wrap(img);
      if (fa != null || da != null) {
        b.order(ByteOrder.LITTLE_ENDIAN);
        if (dbl) b.putDouble((base + i) * 8, v);
        else b.putFloat((base + i) * 4, (float) v);
        return;
      }
      b.order(order);
      if (dbl) b.putDouble(base + i * 8, v);
      else b.putFloat(base + i * 4, (float) v);
    }

    /** Byte offset of element {@code i} of the view in the image. */
    int offset(int i) {
      return fa != null || da != null ? (base + i) * esize() : base + i * esize();
    }

    /** Element i of the view as its own get sees it, also past the limit. */
    double get(int i) {
      return dbl ? ((DoubleBuffer) view).duplicate().clear().get(i) : ((FloatBuffer) view).duplicate().clear().get(i);
    }
  }

  /** Bytes of guard zone on each side of a ByteBuffer's memory (in the image, not in the buffer). */
  static final int GUARD = 512;

  /** A buffer of {@code cap} elements over memory filled with random bits. */
  static Buf make(Rng r, boolean dbl, int cap) {
    int kind = r.below(4);
    if (kind == 0) {  // a heap array, whole or sliced at an offset
      int off = r.chance(0.5) ? 0 : r.range(1, 5);
      int len = off + cap + (r.chance(0.5) ? 0 : r.range(1, 3));
      boolean slice = off > 0;
      if (dbl) {
        double[] a = new double[len];
        for (int i = 0; i < len; i++) a[i] = junkD(r);
        DoubleBuffer v = slice ? DoubleBuffer.wrap(a).position(off).slice() : DoubleBuffer.wrap(a);
        v.limit(cap);
        v = v.slice();
        return new Buf(true, "heap double[" + len + "]" + (slice ? " sliced at " + off : ""), null, a, null, off, null, v);
      }
      float[] a = new float[len];
      for (int i = 0; i < len; i++) a[i] = junkF(r);
      FloatBuffer v = slice ? FloatBuffer.wrap(a).position(off).slice() : FloatBuffer.wrap(a);
      v.limit(cap);
      v = v.slice();
      return new Buf(false, "heap float[" + len + "]" + (slice ? " sliced at " + off : ""), a, null, null, off, null, v);
    }
    // a view of a (direct or heap) ByteBuffer, at a byte offset, in a byte order, sometimes sliced again
    boolean direct = kind != 1;
    int es = dbl ? 8 : 4;
    int byteOff = r.chance(0.5) ? 0 : r.range(1, 9);  // also unaligned
    int extra = r.chance(0.3) ? r.range(1, 2) : 0;
    int bytes = byteOff + (extra + cap) * es + r.below(2) * es + r.below(3);
    // Guard zones on both sides, inside the image: a write past the buffer shows up as a failure
    // here instead of corrupting the malloc heap (and crashing later, under another seed).
    ByteBuffer root = direct ? ByteBuffer.allocateDirect(GUARD + bytes + GUARD) : ByteBuffer.allocate(GUARD + bytes + GUARD);
    for (int i = 0; i < root.capacity(); i++) root.put(i, (byte) r.next());
    ByteOrder order = r.pick(List.of(ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN, ByteOrder.nativeOrder()));
    ByteBuffer b = root.duplicate().position(GUARD + byteOff).limit(GUARD + byteOff + (extra + cap) * es).slice().order(order);
    Buffer v = dbl ? b.asDoubleBuffer() : b.asFloatBuffer();
    String text = (direct ? "direct" : "heap") + " ByteBuffer[" + bytes + "] at byte " + byteOff + ", " + order + ", as" + (dbl ? "Double" : "Float")
        + "Buffer";
    if (extra > 0) {
      v.position(extra);
      v = dbl ? ((DoubleBuffer) v).slice() : ((FloatBuffer) v).slice();
      text += ", sliced at element " + extra;
    }
    return new Buf(dbl, text, null, null, root, GUARD + byteOff + extra * es, order, v);
  }

  static double junkD(Rng r) {
    return Double.longBitsToDouble(r.next());
  }

  static float junkF(Rng r) {
    return Float.intBitsToFloat((int) r.next());
  }

  /** Values that must survive bit for bit, mixed with ordinary ones. */
  static double special(Rng r, boolean f32) {
    switch (r.below(12)) {
      case 0:
        return -0.0;
      case 1:
        return f32 ? Float.MIN_VALUE * (double) r.range(1, 100) : Double.MIN_VALUE * r.range(1, 100);  // subnormal
      case 2:
        return r.sign() * Double.POSITIVE_INFINITY;
      case 3:
        return Double.NaN;
      case 4:
        return r.sign() * (f32 ? Float.MAX_VALUE : Double.MAX_VALUE);
      default:
        return f32 ? (double) (float) r.uniform(-1e3, 1e3) : r.uniform(-1e3, 1e3);
    }
  }

  static boolean same(double got, double want, boolean asFloat) {
    if (Double.isNaN(want)) return Double.isNaN(got);
    if (asFloat) return Float.floatToRawIntBits((float) got) == Float.floatToRawIntBits((float) want);
    return Double.doubleToRawLongBits(got) == Double.doubleToRawLongBits(want);
  }

  static long[] shapeOf(Rng r, int n) {
    if (n == 1 && r.chance(0.3)) return new long[0];
    if (n == 0) return r.chance(0.5) ? new long[] {0} : new long[] {2, 0};
    if (n % 2 == 0 && r.chance(0.5)) return new long[] {2, n / 2};
    return new long[] {n};
  }

  static void run(Ctx ctx) {
    Rng r = ctx.r;
    int probes = r.range(1, 3);
    for (int i = 0; i < probes; i++) {
      try (Scope s = Scope.open()) {
        if (r.chance(0.45)) fromBuffer(ctx, r);
        else copyTo(ctx, r);
      }
    }
  }

  // ======================================================================== fromBuffer

  static void fromBuffer(Ctx ctx, Rng r) {
    boolean dbl = r.chance(0.5);
    int n = r.chance(0.1) ? 0 : r.range(1, 8);
    int pre = r.chance(0.3) ? 0 : r.range(1, 3), post = r.below(3);
    Buf b = make(r, dbl, pre + n + post + 1);
    for (int i = 0; i < pre + n + post + 1; i++) {
      double v = special(r, !dbl);
      if (dbl) ((DoubleBuffer) b.view).put(i, v);
      else ((FloatBuffer) b.view).put(i, (float) v);
    }
    int mismatch = r.chance(0.15) ? (r.chance(0.5) && n > 0 ? -1 : 1) : 0;  // remaining != numel
    b.view.position(pre).limit(pre + n + Math.max(0, mismatch));
    if (mismatch < 0) b.view.limit(pre + n - 1);
    boolean ro = r.chance(0.2);
    Buffer in = ro ? (dbl ? ((DoubleBuffer) b.view).asReadOnlyBuffer() : ((FloatBuffer) b.view).asReadOnlyBuffer()) : b.view;
    long[] shape = shapeOf(r, n);
    ctx.say("fromBuffer(%s%s, position %d, limit %d, shape %s)", b.text, ro ? ", read-only" : "", in.position(), in.limit(), Arrays.toString(shape));
    byte[] before = b.image();
    int pos = in.position(), lim = in.limit();
    double[] want = new double[n];
    for (int i = 0; i < n; i++) want[i] = b.get(pre + i);
    if (mismatch != 0) {
      ctx.say("  (remaining %d, numel %d)", in.remaining(), n);
      ctx.expectThrows("fromBuffer", () -> dbl ? Tensor.fromBuffer((DoubleBuffer) in, shape) : Tensor.fromBuffer((FloatBuffer) in, shape),
          AdjointArgumentException.class);
    } else {
      Tensor t = ctx.expectOk("fromBuffer", () -> dbl ? Tensor.fromBuffer((DoubleBuffer) in, shape) : Tensor.fromBuffer((FloatBuffer) in, shape));
      if (!Arrays.equals(t.shape(), shape)) throw new Failure("fromBuffer: shape " + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
      DType want_dt = dbl ? DType.FLOAT64 : DType.FLOAT32;
      if (t.dtype() != want_dt) throw new Failure("fromBuffer: dtype " + t.dtype().displayName() + ", expected " + want_dt.displayName());
      double[] got = t.toDoubleArray();
      for (int i = 0; i < n; i++)
        if (!same(got[i], want[i], !dbl))
          throw new Failure(String.format("fromBuffer: element %d is %s (bits %s), the buffer holds %s at index %d (bits %s)", i, got[i], bits(got[i], !dbl),
              want[i], pre + i, bits(want[i], !dbl)));
    }
    if (in.position() != pos || in.limit() != lim)
      throw new Failure("fromBuffer moved the buffer: position " + pos + " -> " + in.position() + ", limit " + lim + " -> " + in.limit());
    if (!Arrays.equals(before, b.image())) throw new Failure("fromBuffer changed the buffer's memory: " + diff(before, b.image()));
  }

  static String bits(double v, boolean f32) {
    return f32 ? Integer.toHexString(Float.floatToRawIntBits((float) v)) : Long.toHexString(Double.doubleToRawLongBits(v));
  }

  static String diff(byte[] a, byte[] b) {
    StringBuilder s = new StringBuilder();
    int shown = 0;
    for (int i = 0; i < a.length && shown < 6; i++)
      if (a[i] != b[i]) {
        s.append(String.format("byte %d: %02x -> %02x; ", i, a[i] & 0xff, b[i] & 0xff));
        shown++;
      }
    return s.toString();
  }

  // ======================================================================== copyTo

  static void copyTo(Ctx ctx, Rng r) {
    boolean dbl = r.chance(0.5);
    DType dt = r.pick(List.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT64, DType.FLOAT32, DType.INT64, DType.BOOL));
    int n = r.chance(0.1) ? 0 : r.range(1, 8);
    long[] shape = shapeOf(r, n);
    // the tensor's values (as doubles) and the tensor itself, sometimes a non-contiguous view
    double[] v = new double[n];
    for (int i = 0; i < n; i++)
      v[i] = dt == DType.INT64 ? r.range(-1000, 1000) * (r.chance(0.2) ? 1L << 40 : 1) : dt == DType.BOOL ? r.below(2) : special(r, dt == DType.FLOAT32);
    Tensor t;
    String how = "";
    if (dt == DType.INT64) {
      long[] l = new long[n];
      for (int i = 0; i < n; i++) l[i] = (long) v[i];
      t = Tensor.fromArray(l, shape);
    } else {
      t = Tensor.fromArray(v, shape).to(dt);
    }
    if (shape.length == 2 && r.chance(0.4)) {  // the same values through a transposed copy: not contiguous
      Tensor tt = t.t().contiguous().t();
      if (!tt.isContiguous()) how = " (a transposed view, not contiguous)";
      t = tt;
    }
    Tensor src = t;
    int pre = r.chance(0.3) ? 0 : r.range(1, 3), post = r.below(3);
    int room = r.chance(0.12) && n > 0 ? n - r.range(1, n) : n + post;  // too little room sometimes
    Buf b = make(r, dbl, pre + Math.max(room, n) + r.below(2));
    boolean ro = r.chance(0.15);
    boolean dup = !ro && r.chance(0.3);
    b.view.position(pre).limit(pre + room);
    Buffer out = ro ? (dbl ? ((DoubleBuffer) b.view).asReadOnlyBuffer() : ((FloatBuffer) b.view).asReadOnlyBuffer())
        : dup ? (dbl ? ((DoubleBuffer) b.view).duplicate() : ((FloatBuffer) b.view).duplicate()) : b.view;
    ctx.say("%s tensor %s%s .copyTo(%s%s%s, position %d, limit %d, capacity %d)", dt.displayName(), Arrays.toString(shape), how, b.text,
        ro ? ", read-only" : "", dup ? ", a duplicate" : "", out.position(), out.limit(), out.capacity());
    byte[] before = b.image();
    int pos = out.position(), lim = out.limit();
    if (ro || room < n) {
      Class<? extends Throwable> want = ro ? ReadOnlyBufferException.class : AdjointArgumentException.class;
      if (ro && room < n) ctx.say("  (also too little room: either exception)");
      Throwable e;
      try {
        if (dbl) src.copyTo((DoubleBuffer) out);
        else src.copyTo((FloatBuffer) out);
        e = null;
      } catch (Throwable x) {
        e = x;
      }
      boolean ok = e != null && (want.isInstance(e) || (ro && room < n && e instanceof AdjointArgumentException));
      if (!ok)
        throw new Failure("copyTo into a " + (ro ? "read-only buffer" : "buffer with " + room + " elements of room for " + n) + ": expected "
            + want.getSimpleName() + ", " + (e == null ? "nothing was thrown" : "got " + e.getClass().getName() + ": " + e.getMessage()), e);
      if (e instanceof AdjointArgumentException) SpecialCase.checkMessage("copyTo", e);
      ctx.thrown.merge(e.getClass().getSimpleName(), 1L, Long::sum);
      ctx.say("  threw as expected: %s", e.getClass().getSimpleName());
      if (!Arrays.equals(before, b.image())) throw new Failure("copyTo threw " + e.getClass().getSimpleName() + " but wrote: " + diff(before, b.image()));
      if (out.position() != pos) throw new Failure("copyTo threw but moved the position " + pos + " -> " + out.position());
      return;
    }
    ctx.expectOk("copyTo", () -> {
      if (dbl) src.copyTo((DoubleBuffer) out);
      else src.copyTo((FloatBuffer) out);
      return null;
    });
    if (out.position() != pos + n) throw new Failure("copyTo: position " + pos + " -> " + out.position() + ", expected " + (pos + n));
    if (out.limit() != lim) throw new Failure("copyTo: limit " + lim + " -> " + out.limit());
    if (dup && b.view.position() != pre) throw new Failure("copyTo into a duplicate moved the original's position to " + b.view.position());
    byte[] want = before.clone();
    for (int i = 0; i < n; i++) b.put(want, pre + i, v[i]);
    byte[] got = b.image();
    for (int i = 0; i < n; i++)  // a NaN's payload may differ: take the bytes written, if they read as NaN
      if (Double.isNaN(v[i]) && Double.isNaN(b.get(pre + i))) System.arraycopy(got, b.offset(pre + i), want, b.offset(pre + i), b.esize());
    if (!Arrays.equals(want, got)) {
      for (int i = 0; i < n; i++) {
        double g = b.get(pre + i);
        if (!same(g, dbl ? v[i] : (float) v[i], !dbl))
          throw new Failure(String.format("copyTo: element %d reads back as %s through the buffer (bits %s), expected %s (bits %s)", i, g, bits(g, !dbl),
              v[i], bits(v[i], !dbl)));
      }
      throw new Failure("copyTo wrote outside [position, position + numel): " + diff(want, got));
    }
  }
}
