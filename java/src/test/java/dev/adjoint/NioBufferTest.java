package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Tensors to and from NIO buffers: read and written at the buffer's position, in its byte order,
 * nothing outside [position, position + n) touched, read-only buffers refused before any write.
 */
class NioBufferTest extends ScopedTest {
  private static final float[] VALUES = {1.5f, -2.25f, 3.0f, 1e-3f, -7.75f, 42.0f};

  private static List<ByteOrder> orders() {
    return List.of(ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN);
  }

  /** Float buffers of every kind, filled with a marker, holding VALUES from position `pos`. */
  private static List<FloatBuffer> floatBuffers(int pos) {
    List<FloatBuffer> out = new java.util.ArrayList<>();
    for (ByteOrder o : orders()) {
      out.add(ByteBuffer.allocateDirect(4 * (pos + VALUES.length + 3)).order(o).asFloatBuffer());
      out.add(ByteBuffer.allocate(4 * (pos + VALUES.length + 3)).order(o).asFloatBuffer());
    }
    out.add(FloatBuffer.allocate(pos + VALUES.length + 3));
    for (FloatBuffer b : out) {
      for (int i = 0; i < b.capacity(); i++) b.put(i, -99f);
      for (int i = 0; i < VALUES.length; i++) b.put(pos + i, VALUES[i]);
      b.position(pos).limit(pos + VALUES.length);
    }
    return out;
  }

  @Test
  void fromBufferReadsFromThePositionInTheBuffersByteOrder() {
    for (int pos : new int[] {0, 1, 16}) {
      for (FloatBuffer b : floatBuffers(pos)) {
        Tensor t = Tensor.fromBuffer(b, 2, 3);
        assertArrayEquals(VALUES, t.toFloatArray(), b + " " + b.order() + " direct=" + b.isDirect());
        assertEquals(pos, b.position(), "fromBuffer leaves the position unchanged");
        // a slice starting at the position reads the same
        assertArrayEquals(VALUES, Tensor.fromBuffer(b.slice(), 6).toFloatArray());
      }
    }
  }

  @Test
  void copyToWritesAtThePositionOnlyAndAdvancesIt() {
    Tensor t = Tensor.of(VALUES);
    for (int pos : new int[] {0, 3, 64}) {
      for (ByteOrder o : orders()) {
        for (boolean direct : new boolean[] {true, false}) {
          int cap = pos + VALUES.length + 5;
          ByteBuffer bytes = direct ? ByteBuffer.allocateDirect(4 * cap) : ByteBuffer.allocate(4 * cap);
          FloatBuffer b = bytes.order(o).asFloatBuffer();
          for (int i = 0; i < cap; i++) b.put(i, -99f);
          b.position(pos);
          t.copyTo(b);
          assertEquals(pos + VALUES.length, b.position());
          for (int i = 0; i < cap; i++) {
            float expect = i >= pos && i < pos + VALUES.length ? VALUES[i - pos] : -99f;
            assertEquals(expect, b.get(i), "element " + i + " of a " + o + (direct ? " direct" : " heap") + " buffer at position " + pos);
          }
        }
      }
    }
  }

  @Test
  void doubleBuffersLikewise() {
    double[] v = {Math.PI, -1e300, 2.5, Double.MIN_VALUE};
    Tensor t = Tensor.of(v);
    for (ByteOrder o : orders()) {
      DoubleBuffer b = ByteBuffer.allocateDirect(8 * 12).order(o).asDoubleBuffer();
      for (int i = 0; i < 12; i++) b.put(i, 7.0);
      b.position(5);
      t.copyTo(b);
      assertEquals(9, b.position());
      for (int i = 0; i < 12; i++) assertEquals(i >= 5 && i < 9 ? v[i - 5] : 7.0, b.get(i));
      b.position(5).limit(9);
      assertArrayEquals(v, Tensor.fromBuffer(b, 4).toDoubleArray());
      assertEquals(5, b.position());
    }
  }

  @Test
  void readOnlyBuffersAreRefusedBeforeAnyWrite() {
    Tensor t = Tensor.of(VALUES);
    FloatBuffer direct = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder()).asFloatBuffer();
    FloatBuffer ro = direct.asReadOnlyBuffer();
    assertThrows(ReadOnlyBufferException.class, () -> t.copyTo(ro));
    for (int i = 0; i < direct.capacity(); i++) assertEquals(0f, direct.get(i));
    assertThrows(ReadOnlyBufferException.class, () -> t.copyTo(FloatBuffer.allocate(8).asReadOnlyBuffer()));
    assertThrows(ReadOnlyBufferException.class,
        () -> t.to(DType.FLOAT64).copyTo(ByteBuffer.allocateDirect(64).asDoubleBuffer().asReadOnlyBuffer()));
    // reading from a read-only buffer is fine
    FloatBuffer src = ByteBuffer.allocateDirect(24).order(ByteOrder.nativeOrder()).asFloatBuffer().put(VALUES).flip();
    assertArrayEquals(VALUES, Tensor.fromBuffer(src.asReadOnlyBuffer(), 6).toFloatArray());
  }

  @Test
  void tooSmallOrMismatchedBuffersThrowNamingTheOp() {
    Tensor t = Tensor.of(VALUES);
    FloatBuffer b = ByteBuffer.allocateDirect(4 * 8).order(ByteOrder.nativeOrder()).asFloatBuffer();
    b.position(3);  // 5 left
    AdjointArgumentException e = assertThrows(AdjointArgumentException.class, () -> t.copyTo(b));
    assertTrue(e.getMessage().startsWith("copyTo"), e.getMessage());
    assertEquals(3, b.position());
    b.position(0).limit(5);
    ShapeMismatchException s = assertThrows(ShapeMismatchException.class, () -> Tensor.fromBuffer(b, 6));
    assertTrue(s.getMessage().startsWith("fromBuffer"), s.getMessage());
  }
}
