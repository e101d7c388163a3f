package dev.adjoint.fuzz;

import dev.adjoint.AdjointArgumentException;
import dev.adjoint.DType;
import dev.adjoint.Func;
import dev.adjoint.InvalidIndexException;
import dev.adjoint.NativeOutOfMemoryException;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import dev.adjoint.fuzz.ProgramFuzzer.Failure;
import dev.adjoint.fuzz.ProgramFuzzer.Rng;
import dev.adjoint.fuzz.SpecialCase.Ctx;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Extreme and overflowing shapes: reshape/view/expand/zeros/ones/full/randn/rand/fromArray/eye/
 * arange and broadcasting with sizes whose product wraps int64 (7 x 7905747460161236407 wraps to
 * 1, 2^32 x 2^32 to 0, and random shapes wrapping to the numel of the tensor at hand), products
 * past 2^63, negative sizes, two -1s, rank 16 (legal) and 17, legal views of 2^62 elements,
 * huge sizes next to a zero dim, and slices/selects with indices near +-2^63.
 *
 * <p>Contract: an overflowing shape throws an {@link AdjointArgumentException} (any subclass) or
 * a {@link NativeOutOfMemoryException}; a legal shape too big to allocate throws
 * NativeOutOfMemoryException (or an AdjointArgumentException); rank 17 throws one of those or
 * {@link UnsupportedOperationException} (the core's kMaxDims is 16); a legal result has exactly
 * the expected shape and numel. Never a crash, never a tensor whose numel is the wrapped product.
 */
final class ExtremeShapeCases {
  private ExtremeShapeCases() {}

  static final List<Class<? extends Throwable>> OVERFLOW = List.of(AdjointArgumentException.class, NativeOutOfMemoryException.class);
  static final List<Class<? extends Throwable>> TOO_MANY_DIMS =
      List.of(AdjointArgumentException.class, NativeOutOfMemoryException.class, UnsupportedOperationException.class);

  // ======================================================================== shapes that wrap

  /** The inverse of an odd number modulo 2^64 (Newton's iteration doubles the correct bits). */
  static long inverse(long a) {
    long x = a;
    for (int i = 0; i < 6; i++) x *= 2 - a * x;
    return x;
  }

  /** True when the exact product of the sizes (all >= 0) exceeds Long.MAX_VALUE. */
  static boolean overflows(long[] s) {
    for (long d : s)
      if (d == 0) return false;
    long n = 1;
    for (long d : s) {
      if (Math.multiplyHigh(n, d) != 0 || n * d < 0) return true;
      n *= d;
    }
    return false;
  }

  /**
   * Positive sizes whose product is {@code target} modulo 2^64 although the exact product is far
   * past 2^63: a shape a naive numel check accepts for a tensor of {@code target} elements.
   */
  static long[] wrapping(Rng r, long target) {
    if (r.chance(0.2) && target == 1) return new long[] {7, 7905747460161236407L};
    if (target == 0) {  // powers of two: 2^32 x 2^32 wraps to 0 (and a third size keeps it there)
      int e = r.range(32, 40);
      return r.chance(0.7) ? new long[] {1L << e, 1L << (64 - e)} : new long[] {1L << e, 1L << (64 - e), r.range(1, 3)};
    }
    for (int attempt = 0; ; attempt++) {
      int dims = r.chance(0.7) ? 2 : 3;
      long[] s = new long[dims];
      long rest = target;
      for (int i = 0; i < dims - 1; i++) {
        long a = (r.next() >>> 40) | 1 | 2;  // odd, >= 3
        s[i] = a;
        rest *= inverse(a);
      }
      s[dims - 1] = rest;
      if (rest > 1 && overflows(s)) {
        shuffle(r, s);
        return s;
      }
      if (attempt > 100) return new long[] {7, 7905747460161236407L};
    }
  }

  static void shuffle(Rng r, long[] s) {
    for (int i = s.length - 1; i > 0; i--) {
      int j = r.below(i + 1);
      long t = s[i];
      s[i] = s[j];
      s[j] = t;
    }
  }

  static long wrappedProduct(long[] s) {
    long n = 1;
    for (long d : s) n *= d;
    return n;
  }

  static String str(long[] s) {
    return Arrays.toString(s);
  }

  // ======================================================================== checks

  /** A legal result: exactly this shape, and this numel. */
  static void expectShape(String what, Tensor t, long[] shape) {
    if (!Arrays.equals(t.shape(), shape)) throw new Failure(what + ": shape " + str(t.shape()) + ", expected " + str(shape));
    long n = 1;
    for (long d : shape) n *= d;
    if (t.numel() != n) throw new Failure(what + ": numel " + t.numel() + ", expected " + n + " for shape " + str(shape));
  }

  /** Either throws one of {@code allowed}, or returns a tensor of exactly {@code shape}. */
  static Tensor throwsOrShape(Ctx ctx, String what, Supplier<Tensor> body, long[] shape, List<Class<? extends Throwable>> allowed) {
    Tensor t;
    try {
      t = body.get();
    } catch (Failure f) {
      throw f;
    } catch (Throwable e) {
      boolean ok = false;
      for (Class<? extends Throwable> c : allowed) ok |= c.isInstance(e);
      if (!ok) throw new Failure(what + ": expected a tensor of shape " + str(shape) + " or " + SpecialCase.names(allowed) + ", got "
          + e.getClass().getName() + ": " + e.getMessage(), e);
      SpecialCase.checkMessage(what, e);
      ctx.thrown.merge(e.getClass().getSimpleName(), 1L, Long::sum);
      ctx.say("  threw (allowed): %s: %s", e.getClass().getSimpleName(), SpecialCase.firstLine(e.getMessage()));
      return null;
    }
    expectShape(what, t, shape);
    ctx.say("  ok: %s", str(shape));
    return t;
  }

  // ======================================================================== a case: a few probes

  static void run(Ctx ctx) {
    int probes = ctx.r.range(2, 5);
    for (int i = 0; i < probes; i++) {
      try (Scope s = Scope.open()) {
        probe(ctx, ctx.r);
      }
    }
  }

  static void probe(Ctx ctx, Rng r) {
    DType dt = r.pick(List.of(DType.FLOAT32, DType.FLOAT64, DType.INT64, DType.BOOL));
    DType fdt = r.chance(0.5) ? DType.FLOAT32 : DType.FLOAT64;
    int kind = r.below(12);
    if (!SpecialCase.probeAllowed(kind)) return;
    switch (kind) {
      case 0: { // reshape / view of a small tensor to a shape whose product wraps to its numel
        long k = r.pick(List.of(0L, 1L, 2L, 6L, 7L, 12L));
        long[] to = wrapping(r, k);
        Tensor x = small(r, k, fdt);
        boolean view = r.chance(0.5);
        ctx.say("%s of a %d-element tensor to %s (product wraps to %d)", view ? "view" : "reshape", k, str(to), wrappedProduct(to));
        ctx.expectThrows(view ? "view" : "reshape", () -> view ? x.view(to) : x.reshape(to), OVERFLOW);
        break;
      }
      case 1: { // the same with -1: the inferred size must not come from a wrapped product
        long k = r.pick(List.of(1L, 2L, 6L, 12L));
        long[] two = wrapping(r, 1);
        long[] to = {two[0], -1, two[1]};
        if (r.chance(0.5)) to = new long[] {-1, two[0], two[1]};
        long[] fto = to;
        Tensor x = small(r, k, fdt);
        ctx.say("reshape of a %d-element tensor to %s (the known sizes' product wraps to 1)", k, str(fto));
        ctx.expectThrows("reshape", () -> x.reshape(fto), OVERFLOW);
        break;
      }
      case 2: { // creation with a wrapping or overflowing shape
        long[] shape = r.chance(0.6) ? wrapping(r, r.pick(List.of(0L, 1L, 6L))) : pastInt64(r);
        String op = r.pick(List.of("zeros", "ones", "full", "randn", "rand", "fromArray"));
        ctx.say("%s(%s) in %s: the product is past 2^63 (wraps to %d)", op, str(shape), dt.displayName(), wrappedProduct(shape));
        ctx.expectThrows(op, create(op, shape, dt, fdt, (int) Math.max(0, wrappedProduct(shape)) % 64), OVERFLOW);
        break;
      }
      case 3: { // negative sizes and two -1s
        String op = r.pick(List.of("zeros", "ones", "full", "randn", "rand", "reshape", "view", "expand", "fromArray"));
        boolean isView = op.equals("reshape") || op.equals("view") || op.equals("expand");
        // -1 is a legal size for reshape/view (inferred) and expand (kept): those get -2 and below
        long neg = r.chance(0.15) ? Long.MIN_VALUE : isView || r.chance(0.5) ? -r.range(2, 5) : -1;
        long[] shape = {r.range(1, 3), neg, r.range(1, 3)};
        shuffle(r, shape);
        if (!op.equals("expand") && isView && r.chance(0.3)) shape = new long[] {-1, -1, 6};
        long[] fs = shape;
        Tensor x = small(r, 6, fdt);
        ctx.say("%s with %s %s", op, fs[0] == -1 && fs[1] == -1 ? "two -1s" : "a negative size", str(fs));
        if (op.equals("reshape") || op.equals("view")) {
          ctx.expectThrows(op, () -> op.equals("view") ? x.view(fs) : x.reshape(fs), AdjointArgumentException.class);
        } else if (op.equals("expand")) {
          Tensor one = Tensor.ones(fdt, 1, 1, 1);
          ctx.expectThrows("expand", () -> one.expand(fs), AdjointArgumentException.class);
        } else {
          ctx.expectThrows(op, create(op, fs, dt, fdt, 6), AdjointArgumentException.class);
        }
        break;
      }
      case 4: { // legal views of 2^62 elements (or more): shape and numel exact; materializing them cannot succeed
        int e = r.range(28, 31);
        long[] fshape = r.chance(0.5) ? new long[] {1L << e, 1L << (62 - e)} : new long[] {1L << 20, 1L << 21, 1L << 21};
        Tensor one = r.chance(0.5) ? small(r, 1, fdt).reshape(1, 1) : small(r, 1, fdt).reshape();
        ctx.say("expand of a one-element tensor to %s (2^62 elements, a legal view)", str(fshape));
        Tensor big = throwsOrShape(ctx, "expand", () -> one.expand(fshape), fshape, OVERFLOW);
        if (big == null) break;
        switch (r.below(5)) {
          case 0:
            ctx.say("contiguous() of it");
            ctx.expectThrows("contiguous", big::contiguous, OVERFLOW);
            break;
          case 1:
            ctx.say("add(1.0) of it (a result of 2^62 elements)");
            ctx.expectThrows("add", () -> big.add(1.0), OVERFLOW);
            break;
          case 2:
            ctx.say("toDoubleArray of it");
            ctx.expectThrows("toDoubleArray", big::toDoubleArray, OVERFLOW);
            break;
          case 3: {
            ctx.say("copyTo a small buffer");
            FloatBuffer fb = FloatBuffer.allocate(16);
            ctx.expectThrows("copyTo", () -> {
              big.copyTo(fb);
              return fb;
            }, OVERFLOW);
            break;
          }
          default: {
            ctx.say("reshape to [-1] (a view), then numel");
            Tensor flat = throwsOrShape(ctx, "reshape", () -> big.reshape(-1), new long[] {1L << 62}, OVERFLOW);
            if (flat != null && flat.numel() != 1L << 62) throw new Failure("reshape(-1) numel " + flat.numel());
          }
        }
        break;
      }
      case 5: { // expand to a wrapping shape; broadcasting two legal views to a wrapping shape
        long[] w = wrapping(r, r.pick(List.of(0L, 1L, 7L)));
        if (w.length != 2) w = new long[] {7, 7905747460161236407L};
        long a = w[0], b = w[1];
        Tensor one = small(r, 1, fdt);
        if (r.chance(0.4)) {
          ctx.say("expand of a one-element tensor to %s (product wraps to %d)", str(w), wrappedProduct(w));
          long[] fw = w;
          ctx.expectThrows("expand", () -> one.reshape(1, 1).expand(fw), OVERFLOW);
          break;
        }
        ctx.say("broadcast of legal views [%d, 1] and [1, %d] (the result's product wraps to %d)", a, b, a * b);
        Tensor va = throwsOrShape(ctx, "expand", () -> one.reshape(1, 1).expand(a, 1), new long[] {a, 1}, OVERFLOW);
        Tensor vb = throwsOrShape(ctx, "expand", () -> one.reshape(1, 1).expand(1, b), new long[] {1, b}, OVERFLOW);
        if (va == null || vb == null) break;
        String op = r.pick(List.of("add", "mul", "sub", "where", "matmul", "expand"));
        ctx.say("  %s of the two", op);
        ctx.expectThrows(op, () -> {
          switch (op) {
            case "add":
              return va.add(vb);
            case "mul":
              return va.mul(vb);
            case "sub":
              return vb.sub(va);
            case "where":
              return Tensor.where(Tensor.of(true).reshape(1, 1), va, vb);
            case "matmul":
              return va.matmul(vb);
            default:
              return va.expand(a, b);
          }
        }, OVERFLOW);
        break;
      }
      case 6: { // rank 16: legal, and usable
        long[] shape = new long[16];
        for (int i = 0; i < 16; i++) shape[i] = r.chance(0.25) ? 2 : 1;
        int n = (int) ProgramFuzzer.numel(shape);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.uniform(-2, 2);
        ctx.say("rank 16: %s", str(shape));
        Tensor x = ctx.expectOk("fromArray rank 16", () -> Tensor.fromArray(v, shape));
        expectShape("fromArray rank 16", x, shape);
        int d = r.below(16);
        double[] plus = new double[n];
        for (int i = 0; i < n; i++) plus[i] = v[i] + 1;
        SpecialCase.check("rank 16 add(1)", ctx.expectOk("add", () -> x.add(1.0)), shape, DType.FLOAT64, plus, 1e-15, 1);
        long[] red = shape.clone();
        red[d] = 1;
        Tensor s = ctx.expectOk("sum(dim, keepdim)", () -> x.sum(new int[] {d}, true));
        expectShape("rank 16 sum(" + d + ", keepdim)", s, red);
        SpecialCase.check("rank 16 sum()", ctx.expectOk("sum", () -> x.sum()), new long[0], DType.FLOAT64, new double[] {Arrays.stream(v).sum()},
            1e-12, 1);
        int[] perm = new int[16];
        for (int i = 0; i < 16; i++) perm[i] = 15 - i;
        long[] rev = new long[16];
        for (int i = 0; i < 16; i++) rev[i] = shape[15 - i];
        expectShape("rank 16 permute", ctx.expectOk("permute", () -> x.permute(perm).contiguous()), rev);
        expectShape("rank 16 zeros", ctx.expectOk("zeros rank 16", () -> Tensor.zeros(dt, shape)), shape);
        Tensor g = ctx.expectOk("grad of a rank-16 function", () -> Func.grad((Tensor t) -> t.mul(t).sum()).apply(x));
        double[] twice = new double[n];
        for (int i = 0; i < n; i++) twice[i] = 2 * v[i];
        SpecialCase.check("grad of sum(x^2) at rank 16", g, shape, DType.FLOAT64, twice, 1e-14, 1);
        // one more dim: refused, whichever way it is asked for
        String op = r.pick(List.of("unsqueeze", "reshape", "view", "expand", "zeros", "fromArray", "stack", "vmap-unsqueeze"));
        long[] s17 = ProgramFuzzer.insert(shape, r.below(17), 1);
        ctx.say("rank 17 by %s: %s", op, str(s17));
        Supplier<?> b17;
        switch (op) {
          case "unsqueeze":
            b17 = () -> x.unsqueeze(r.below(17));
            break;
          case "reshape":
            b17 = () -> x.reshape(s17);
            break;
          case "view":
            b17 = () -> x.view(s17);
            break;
          case "expand":
            b17 = () -> x.expand(s17);
            break;
          case "zeros":
            b17 = () -> Tensor.zeros(dt, s17);
            break;
          case "fromArray":
            b17 = () -> Tensor.fromArray(v, s17);
            break;
          case "stack":
            b17 = () -> Tensor.stack(List.of(x, x), 0);
            break;
          default:
            // per example rank 16 inside vmap: a correct result or a documented refusal
            ctx.say("  vmap over a rank-15 example whose function unsqueezes to rank 16 (17 with the batch dim)");
            long[] s15 = Arrays.copyOfRange(shape, 1, 16);
            long[] want = ProgramFuzzer.insert(ProgramFuzzer.insert(s15, 0, 1), 0, shape[0]);
            throwsOrShape(ctx, "vmap(unsqueeze)", () -> Func.vmap((Tensor t) -> t.unsqueeze(0)).apply(x), want, TOO_MANY_DIMS);
            b17 = null;
        }
        if (b17 != null) ctx.expectThrows(op + " to rank 17", b17, TOO_MANY_DIMS);
        break;
      }
      case 7: { // huge sizes next to a zero dim: numel 0
        long big = r.chance(0.5) ? 1L << r.range(31, 62) : Long.MAX_VALUE;
        long[] shape = r.chance(0.5) ? new long[] {0, big} : new long[] {big, 0, r.range(1, 3)};
        String op = r.pick(List.of("zeros", "full", "reshape", "expand"));
        ctx.say("%s to %s (a zero dim next to %d: numel 0)", op, str(shape), big);
        Tensor empty = Tensor.zeros(fdt, 0);
        Tensor t = throwsOrShape(ctx, op, () -> {
          switch (op) {
            case "zeros":
              return Tensor.zeros(fdt, shape);
            case "full":
              return Tensor.full(2.5, fdt, shape);
            case "reshape":
              return empty.reshape(shape);
            default:
              return Tensor.zeros(fdt, onesShape(shape.length)).expand(shape).add(0.0);
          }
        }, shape, OVERFLOW);
        if (t == null) break;
        if (t.toDoubleArray().length != 0) throw new Failure(op + ": a zero-size tensor read back " + t.toDoubleArray().length + " values");
        SpecialCase.check("sum of the empty tensor", ctx.expectOk("sum", () -> t.sum()), new long[0], fdt, new double[] {0}, 0, 1);
        ctx.say("  sum over the huge dim");
        int hd = shape[0] == 0 ? 1 : 0;
        long[] afterSum = ProgramFuzzer.remove(shape, hd);
        Tensor red = throwsOrShape(ctx, "sum(" + hd + ")", () -> t.sum(hd), afterSum, OVERFLOW);
        if (red != null && red.numel() != 0) throw new Failure("sum over the huge dim: numel " + red.numel());
        break;
      }
      case 8: { // legal shapes too big to allocate
        long[] shape = r.chance(0.5) ? new long[] {1L << 24, 1L << 24, r.range(1, 64)} : new long[] {1L << 30, 1L << r.range(17, 32)};
        String op = r.pick(List.of("zeros", "ones", "full", "randn", "rand", "eye", "arange", "contiguous-of-expand"));
        ctx.say("%s of %s in %s: too big to allocate", op, str(shape), fdt.displayName());
        Supplier<?> body;
        switch (op) {
          case "eye":
            body = () -> Tensor.eye(shape[0], shape[1], fdt);
            break;
          case "arange":
            body = () -> Tensor.arange(0, (double) shape[0] * shape[1], 1, fdt);
            break;
          case "contiguous-of-expand":
            body = () -> small(r, 1, fdt).reshape(onesShape(shape.length)).expand(shape).contiguous();
            break;
          default:
            body = create(op, shape, fdt, fdt, 0);
        }
        ctx.expectThrows(op, body, OVERFLOW);
        break;
      }
      case 9: { // eye / arange whose element count or byte count wraps
        String op = r.pick(List.of("eye", "arange", "arange-tiny-step"));
        ctx.say("%s with a wrapping size", op);
        Supplier<?> body;
        switch (op) {
          case "eye":
            body = () -> Tensor.eye(1L << 32, 1L << 32, fdt);
            break;
          case "arange":
            body = () -> Tensor.arange(0, 1e300, 1, fdt);
            break;
          default:
            body = () -> Tensor.arange(0, 1, 1e-300, fdt);
        }
        ctx.expectThrows(op, body, OVERFLOW);
        break;
      }
      case 10: { // slice / select with indices near +-2^63
        long n = r.range(1, 5);
        Tensor x = small(r, n, DType.FLOAT64);
        double[] v = x.toDoubleArray();
        long start = r.pick(List.of(Long.MIN_VALUE, Long.MIN_VALUE + 1, -n - 1, 0L, 1L));
        long end = r.pick(List.of(Long.MAX_VALUE, Long.MAX_VALUE - 1, n + 1, n));
        long step = r.pick(List.of(1L, 2L, Long.MAX_VALUE, 1L << 62));
        ctx.say("slice(0, %d, %d, %d) of a [%d] tensor", start, end, step, n);
        long s0 = clamp(start < 0 ? start + n : start, n), e0 = clamp(end < 0 ? end + n : end, n);
        if (start < -n) s0 = 0;
        int cnt = (int) (e0 > s0 ? (e0 - s0 - 1) / step + 1 : 0);
        double[] want = new double[cnt];
        for (int i = 0; i < cnt; i++) want[i] = v[(int) (s0 + i * step)];
        Tensor got = throwsOrShape(ctx, "slice", () -> x.slice(0, start, end, step), new long[] {cnt}, List.of(InvalidIndexException.class));
        if (got != null) SpecialCase.check("slice values", got, new long[] {cnt}, DType.FLOAT64, want, 0, 1);
        long idx = r.pick(List.of(Long.MIN_VALUE, Long.MAX_VALUE, n, -n - 1));
        ctx.say("select(0, %d) of a [%d] tensor", idx, n);
        ctx.expectThrows("select", () -> x.select(0, idx), InvalidIndexException.class);
        break;
      }
      default: { // fromArray / fromBuffer with a wrapping shape (the Java-side length check)
        long k = r.pick(List.of(0L, 1L, 7L));
        long[] shape = wrapping(r, k);
        String op = r.pick(List.of("fromArray(double[])", "fromArray(float[])", "fromArray(long[])", "fromBuffer(DoubleBuffer)",
            "fromBuffer(FloatBuffer)"));
        ctx.say("%s of %d values with shape %s (wraps to %d)", op, k, str(shape), wrappedProduct(shape));
        int kk = (int) k;
        ctx.expectThrows(op, () -> {
          switch (op) {
            case "fromArray(double[])":
              return Tensor.fromArray(new double[kk], shape);
            case "fromArray(float[])":
              return Tensor.fromArray(new float[kk], shape);
            case "fromArray(long[])":
              return Tensor.fromArray(new long[kk], shape);
            case "fromBuffer(DoubleBuffer)":
              return Tensor.fromBuffer(DoubleBuffer.allocate(kk), shape);
            default:
              return Tensor.fromBuffer(java.nio.ByteBuffer.allocateDirect(4 * kk).asFloatBuffer(), shape);
          }
        }, OVERFLOW);
      }
    }
  }

  static long[] onesShape(int n) {
    long[] s = new long[n];
    Arrays.fill(s, 1);
    return s;
  }

  static long clamp(long i, long n) {
    return Math.max(0, Math.min(n, i));
  }

  /** Sizes whose exact product is just past 2^63 (not wrapping to anything small). */
  static long[] pastInt64(Rng r) {
    switch (r.below(4)) {
      case 0:
        return new long[] {1L << 31, 1L << 32};
      case 1:
        return new long[] {1L << 21, 1L << 21, 1L << 21};
      case 2:
        return new long[] {Long.MAX_VALUE, 2};
      default:
        return new long[] {3, Long.MAX_VALUE / 2};
    }
  }

  static Tensor small(Rng r, long k, DType dt) {
    double[] v = new double[(int) k];
    for (int i = 0; i < k; i++) v[i] = r.uniform(-1, 1);
    Tensor t = Tensor.fromArray(v, k);
    return dt == DType.FLOAT64 ? t : t.to(dt);
  }

  /** A creation op by name (fromArray with {@code have} values). */
  static Supplier<?> create(String op, long[] shape, DType dt, DType fdt, int have) {
    switch (op) {
      case "zeros":
        return () -> Tensor.zeros(dt, shape);
      case "ones":
        return () -> Tensor.ones(dt, shape);
      case "full":
        return () -> Tensor.full(1.5, dt, shape);
      case "randn":
        return () -> Tensor.randn(fdt, shape);
      case "rand":
        return () -> Tensor.rand(fdt, shape);
      default:
        return () -> Tensor.fromArray(new double[have], shape);
    }
  }
}
