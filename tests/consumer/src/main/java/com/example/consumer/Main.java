package com.example.consumer;

import dev.adjoint.Adjoint;
import dev.adjoint.Scope;
import dev.adjoint.Tensor;

/** Uses the installed artifact like any application would; exits non-zero if a result is wrong. */
public final class Main {
  /**
   * The natives jar carries the GraalVM native-image configuration: JavaCPP's for our JNI class
   * (jniNativeCore/) and ours (adjoint/), under META-INF/native-image/groupId/artifactId/platform.
   */
  static void checkNativeImageConfig() {
    for (String f : new String[] {"jniNativeCore/jni-config.json", "jniNativeCore/reflect-config.json", "jniNativeCore/resource-config.json",
        "adjoint/resource-config.json", "adjoint/native-image.properties"}) {
      String path = "META-INF/native-image/dev.adjoint/adjoint/" + org.bytedeco.javacpp.Loader.getPlatform() + "/" + f;
      try (java.io.InputStream in = Main.class.getClassLoader().getResourceAsStream(path)) {
        String text = in == null ? "" : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        String expected = f.equals("jniNativeCore/resource-config.json") ? "libjniNativeCore"
            : f.equals("adjoint/resource-config.json") ? "adjoint\\\\.properties"
            : f.equals("adjoint/native-image.properties") ? "--initialize-at-run-time=dev.adjoint" : "dev.adjoint.internal.NativeCore";
        if (!text.contains(expected)) {
          System.err.println("consumer: " + path + " missing or lacks " + expected);
          System.exit(1);
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  /**
   * With -Dconsumer.modulePath=true (the run with Adjoint on the module path): dev.adjoint is the
   * named module, exports its API and not dev.adjoint.internal.
   */
  static void checkModule() {
    if (!Boolean.getBoolean("consumer.modulePath")) return;
    Module m = Tensor.class.getModule();
    if (!m.isNamed() || !m.getName().equals("dev.adjoint") || !m.isExported("dev.adjoint")
        || m.isExported("dev.adjoint.internal") || !m.getPackages().contains("dev.adjoint.internal")) {
      System.err.println("consumer: unexpected module " + m.getDescriptor());
      System.exit(1);
    }
  }

  public static void main(String[] args) {
    checkModule();
    try (Scope scope = Scope.open()) {
      Adjoint.manualSeed(0);
      Tensor w = Tensor.randn(16, 16), b = Tensor.randn(16), x = Tensor.randn(16);
      Tensor y = x.linear(w, b).tanh();
      // Independent check of the same computation in plain Java.
      float[] wa = w.toFloatArray(), ba = b.toFloatArray(), xa = x.toFloatArray(), ya = y.toFloatArray();
      for (int i = 0; i < 16; i++) {
        double acc = ba[i];
        for (int j = 0; j < 16; j++) acc += (double) wa[i * 16 + j] * xa[j];
        if (Math.abs(Math.tanh(acc) - ya[i]) > 1e-5) {
          System.err.println("consumer: mismatch at " + i + ": " + Math.tanh(acc) + " vs " + ya[i]);
          System.exit(1);
        }
      }
      // The notebook's first weight draw, as torch prints it for manual_seed(0).
      String first = w.get(0).slice(0, 0, 3).toString();
      if (!first.equals("tensor([-1.1258, -1.1524, -0.2506])")) {
        System.err.println("consumer: unexpected random draw " + first);
        System.exit(1);
      }
      // A transform, and direct NIO buffers in and out (JavaCPP Pointers over them): on the module
      // path these reach the natives the way a user's program does.
      dev.adjoint.Fn1 sumSquares = v -> v.mul(v).sum();
      float[] g = dev.adjoint.Func.grad(sumSquares).apply(x).toFloatArray();
      for (int i = 0; i < 16; i++) {
        if (g[i] != 2 * xa[i]) {
          System.err.println("consumer: grad(sum(x*x))[" + i + "] = " + g[i] + ", not " + 2 * xa[i]);
          System.exit(1);
        }
      }
      // checkpoint reruns its function from the core during the backward pass: a native callback
      // into this program's lambda
      float[] gc = dev.adjoint.Func.grad(dev.adjoint.Func.checkpoint(sumSquares)).apply(x).toFloatArray();
      if (!java.util.Arrays.equals(gc, g)) {
        System.err.println("consumer: grad(checkpoint(f)) differs from grad(f)");
        System.exit(1);
      }
      java.nio.FloatBuffer in = java.nio.ByteBuffer.allocateDirect(16 * 4).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
      in.put(xa).flip();
      java.nio.FloatBuffer out = java.nio.ByteBuffer.allocateDirect(16 * 4).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
      Tensor.fromBuffer(in, 16).tanh().copyTo(out);
      for (int i = 0; i < 16; i++) {
        if (Math.abs(out.get(i) - Math.tanh(xa[i])) > 1e-6) {
          System.err.println("consumer: tanh through direct buffers at " + i + ": " + out.get(i));
          System.exit(1);
        }
      }
      checkNativeImageConfig();
      System.out.println("consumer OK: adjoint " + Adjoint.version() + " (" + Tensor.class.getModule() + ", os.arch="
          + System.getProperty("os.arch") + "), predict(x) = " + y.slice(0, 0, 4));
    }
  }
}
