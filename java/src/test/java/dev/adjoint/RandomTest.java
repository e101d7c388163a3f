package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The generator reproduces torch's random numbers bit for bit. Expected bits come from
 * tests/reference/gen_random_java.py (torch 1.13), never from this code.
 */
class RandomTest {
  private record Case(DType dtype, long[] shape, String[] hex) {}

  private static Map<String, Case> load() throws Exception {
    Map<String, Case> cases = new LinkedHashMap<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(
        RandomTest.class.getResourceAsStream("random_torch.txt"), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        String[] f = line.trim().split(" ");
        String[] dims = f[2].split(",");
        long[] shape = new long[dims.length];
        for (int i = 0; i < dims.length; i++) shape[i] = Long.parseLong(dims[i]);
        String[] hex = new String[f.length - 3];
        System.arraycopy(f, 3, hex, 0, hex.length);
        cases.put(f[0], new Case(f[1].equals("float32") ? DType.FLOAT32 : DType.FLOAT64, shape, hex));
      }
    }
    return cases;
  }

  private static void assertBits(String name, Case c, Tensor t) {
    assertArrayEquals(c.shape, t.shape(), name + " shape");
    assertEquals(c.dtype, t.dtype(), name + " dtype");
    if (c.dtype == DType.FLOAT32) {
      float[] v = t.toFloatArray();
      for (int i = 0; i < v.length; i++)
        assertEquals(Integer.parseUnsignedInt(c.hex[i], 16), Float.floatToRawIntBits(v[i]), name + " element " + i);
    } else {
      double[] v = t.toDoubleArray();
      for (int i = 0; i < v.length; i++)
        assertEquals(Long.parseUnsignedLong(c.hex[i], 16), Double.doubleToRawLongBits(v[i]), name + " element " + i);
    }
  }

  @Test
  void notebookDrawsMatchTorchBitForBit() throws Exception {
    Map<String, Case> c = load();
    try (Scope s = Scope.open()) {
      Adjoint.manualSeed(0);
      assertBits("weight", c.get("notebook_weight"), Tensor.randn(16, 16));
      assertBits("bias", c.get("notebook_bias"), Tensor.randn(16));
      assertBits("x", c.get("notebook_x"), Tensor.randn(16));
    }
  }

  @Test
  void mixedSequenceMatchesTorch() throws Exception {
    Map<String, Case> c = load();
    try (Scope s = Scope.open()) {
      Generator g = Generator.global().manualSeed(42);
      assertBits("seq_randn_3", c.get("seq_randn_3"), g.randn(3));
      assertBits("seq_rand_5_f64", c.get("seq_rand_5_f64"), g.rand(DType.FLOAT64, 5));
      assertBits("seq_randn_2x17", c.get("seq_randn_2x17"), g.randn(2, 17));
      assertBits("seq_randn_7_f64", c.get("seq_randn_7_f64"), g.randn(DType.FLOAT64, 7));
      assertBits("seq_rand_33", c.get("seq_rand_33"), g.rand(33));
      assertBits("seq_randn_1", c.get("seq_randn_1"), g.randn(1));
      assertBits("seq_randn_64x31_f64", c.get("seq_randn_64x31_f64"), g.randn(DType.FLOAT64, 64, 31));
    }
  }

  @Test
  void privateGeneratorIsIndependentOfTheGlobalOne() throws Exception {
    Map<String, Case> c = load();
    try (Scope s = Scope.open()) {
      Generator g = new Generator(1234);
      Adjoint.manualSeed(7);
      Tensor.randn(100);  // draws on the global generator must not disturb g
      assertBits("gen1234_randn_4x5", c.get("gen1234_randn_4x5"), g.randn(4, 5));
      assertBits("gen1234_rand_20", c.get("gen1234_rand_20"), g.rand(20));
      assertEquals(1234, g.initialSeed());
    }
  }

  @Test
  void printsLikeTorch() {
    try (Scope s = Scope.open()) {
      Adjoint.manualSeed(0);
      // Expected strings printed by torch 1.13 for the same draws.
      assertEquals(
          "tensor([-1.1258, -1.1524, -0.2506, -0.4339,  0.8487,  0.6920, -0.3160, -2.1152,\n"
              + "         0.3223, -1.2633,  0.3500,  0.3081,  0.1198,  1.2377,  1.1168, -0.2473])",
          Tensor.randn(16).toString());
      assertEquals(
          "tensor([[-0.7193, -0.4033, -0.5966,  0.1820],\n"
              + "        [-0.8567,  1.1006, -1.0712,  0.1227],\n"
              + "        [-0.5663,  0.3731, -0.8920, -1.5091]], dtype=float64)",
          Tensor.randn(DType.FLOAT64, 3, 4).toString());
    }
  }

  @Test
  void randomOfNonFloatDtypeIsRejected() {
    DTypeMismatchException e = assertThrows(DTypeMismatchException.class, () -> Tensor.randn(DType.INT64, 3));
    assertTrue(e.getMessage().contains("randn"), e.getMessage());
  }
}
