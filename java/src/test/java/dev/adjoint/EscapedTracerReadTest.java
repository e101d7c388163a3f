package dev.adjoint;

import static dev.adjoint.Func.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Reading the values of a tensor that escaped its transform (kept from inside the function and
 * read after the transform returned) throws an {@link IllegalStateException} naming the transform;
 * before, grad and jvp tracers silently gave their primal. toString prints a placeholder instead
 * (it never throws). Live tracers still read as their primal, plain tensors as themselves.
 */
class EscapedTracerReadTest extends ScopedTest {
  private static final Tensor X = Tensor.of(0.5, -1.0, 2.0);

  /** Every way of reading values out of a tensor. */
  private static Map<String, Executable> reads(Tensor t) {
    Map<String, Executable> m = new LinkedHashMap<>();
    m.put("toFloatArray", t::toFloatArray);
    m.put("toDoubleArray", t::toDoubleArray);
    m.put("toLongArray", t::toLongArray);
    m.put("toBooleanArray", t::toBooleanArray);
    m.put("copyTo(direct FloatBuffer)", () -> t.copyTo(ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder()).asFloatBuffer()));
    m.put("copyTo(heap FloatBuffer)", () -> t.copyTo(FloatBuffer.allocate(16)));
    m.put("copyTo(direct DoubleBuffer)", () -> t.copyTo(ByteBuffer.allocateDirect(128).order(ByteOrder.nativeOrder()).asDoubleBuffer()));
    m.put("copyTo(heap DoubleBuffer)", () -> t.copyTo(DoubleBuffer.allocate(16)));
    m.put("allclose", () -> t.allclose(X));
    return m;
  }

  /**
   * Tensors made inside {@code transform} on X, kept past its end: the traced input times 3 and
   * its sum (a one-element tensor, for item).
   */
  private static Tensor[] escapedFrom(String transform) {
    Tensor[] box = new Tensor[2];
    Fn1 leaky = u -> {
      box[0] = u.mul(3.0).keep();
      box[1] = u.sum().keep();
      return u.sin().sum();
    };
    switch (transform) {
      case "grad" -> grad(leaky).apply(X);
      case "vjp" -> vjp(leaky, X);
      case "jvp" -> jvp(leaky, X, X);
      case "vmap" -> vmap(u -> {
        box[0] = u.mul(3.0).keep();
        box[1] = u.sum().keep();
        return u.sin();
      }).apply(X.unsqueeze(0));
      default -> throw new AssertionError(transform);
    }
    return box;
  }

  @Test
  void readingAnEscapedTracerThrowsNamingItsTransform() {
    for (String tr : List.of("grad", "vjp", "jvp", "vmap")) {
      Tensor[] kept = escapedFrom(tr);
      Tensor escaped = kept[0], scalar = kept[1];
      String level = tr.equals("vjp") ? "grad" : tr;  // a vjp is a grad level
      Map<String, Executable> reads = reads(escaped);
      reads.put("item", scalar::item);
      reads.put("itemLong", scalar::itemLong);
      reads.forEach((how, read) -> {
        IllegalStateException e = assertThrowsExactly(IllegalStateException.class, read, () -> tr + ": " + how + " gave a value");
        assertTrue(e.getMessage().contains("escaped from a " + level + " transform that has already returned"), () -> tr + ": " + how
            + ": " + e.getMessage());
      });
      // metadata stays readable: it describes the tensor, not a value of the program
      assertArrayEquals(new long[] {3}, escaped.shape(), tr);
      assertEquals(DType.FLOAT64, escaped.dtype(), tr);
      assertEquals("tensor(<escaped from a finished " + level + ">, shape=[3], dtype=float64)", escaped.toString(), tr);
    }
  }

  @Test
  void theMessageNamesTheReadAndTheShape() {
    IllegalStateException e = assertThrowsExactly(IllegalStateException.class, escapedFrom("grad")[0]::toDoubleArray);
    assertEquals("copy_to_host: tensor [3] escaped from a grad transform that has already returned (a tensor created inside a"
        + " transform was kept and used after it ended)", e.getMessage());
  }

  @Test
  void aTracerOfAnInnerTransformThatReturnedIsRefusedInsideTheOuterOne() {
    Tensor g = grad(u -> {
      Tensor[] box = new Tensor[1];
      jvp(w -> {
        box[0] = w.exp().keep();  // a jvp tracer over the grad tracer
        return w;
      }, u, u);
      IllegalStateException e = assertThrowsExactly(IllegalStateException.class, box[0]::toDoubleArray);
      assertTrue(e.getMessage().contains("escaped from a jvp transform"), e.getMessage());
      assertEquals("tensor(<escaped from a finished jvp>, shape=[3], dtype=float64)", box[0].toString());
      // the live grad tracer itself still reads as its primal
      assertArrayEquals(X.toDoubleArray(), u.toDoubleArray(), 0.0);
      return u.sin().sum();
    }).apply(X);
    assertArrayEquals(X.cos().toDoubleArray(), g.toDoubleArray(), 1e-15);
  }

  @Test
  void liveTracersReadAsTheirPrimal() {
    double[][] seen = new double[2][];
    String[] printed = new String[1];
    grad(u -> {
      seen[0] = u.mul(3.0).toDoubleArray();
      printed[0] = u.mul(3.0).toString();
      return u.sum();
    }).apply(X);
    jvp(u -> {
      seen[1] = u.mul(3.0).toDoubleArray();
      return u;
    }, X, X);
    assertArrayEquals(new double[] {1.5, -3.0, 6.0}, seen[0], 0.0);
    assertArrayEquals(new double[] {1.5, -3.0, 6.0}, seen[1], 0.0);
    assertTrue(printed[0].startsWith("tensor([ 1.5000, -3.0000,  6.0000]"), printed[0]);
  }

  @Test
  void aTracerOfAnotherThreadsLiveTransformIsRefused() throws Exception {
    AtomicReference<Throwable> read = new AtomicReference<>();
    AtomicReference<String> printed = new AtomicReference<>();
    grad(u -> {
      Tensor y = u.mul(3.0);
      Thread t = new Thread(() -> {
        read.set(assertThrowsExactly(IllegalStateException.class, y::toDoubleArray));
        printed.set(y.toString());
      });
      t.start();
      try {
        t.join();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      return u.sum();
    }).apply(X);
    assertTrue(read.get().getMessage().contains("belongs to a grad transform running in another thread"), read.get().getMessage());
    assertEquals("tensor(<traced by a grad of another thread>, shape=[3], dtype=float64)", printed.get());
  }
}
