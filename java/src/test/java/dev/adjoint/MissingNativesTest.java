package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A classpath without the natives classifier jar (the classes, JavaCPP and OpenBLAS with their
 * platform jars, but not dev.adjoint:adjoint:VERSION:PLATFORM) makes the first use of the library
 * throw an UnsatisfiedLinkError that names the artifact to add and the detected platform, with
 * JavaCPP's own error as its cause, instead of JavaCPP's bare "no jniNativeCore in
 * java.library.path".
 */
class MissingNativesTest {
  @TempDir Path tmp;

  @Test
  void aMissingClassifierJarIsNamedWithThePlatform() throws Exception {
    String platform = Loader.getPlatform();
    Forked.Options o = new Forked.Options();
    o.classpath = classpathWithoutNatives(platform);
    o.jvmArgs = List.of("-Dorg.bytedeco.javacpp.cachedir=" + tmp.resolve("javacpp-cache"));
    o.timeoutSeconds = 120;
    Forked.Result r = Forked.run("no natives", MissingNativesTest.class, o);
    assertEquals(0, r.exitCode(), r.output());
    String version = buildVersion();
    assertFalse(version.contains("${"), "adjoint.properties was filtered: " + version);
    String artifact = "dev.adjoint:adjoint:" + version + ":" + platform;
    assertEquals("java.lang.UnsatisfiedLinkError", r.line("error: "));
    String message = r.line("message: ");
    assertTrue(message.startsWith(artifact + " (classifier " + platform + ") not on the classpath"), message);
    assertTrue(message.contains("detected platform " + platform + " (os.name=" + System.getProperty("os.name")), message);
    assertTrue(message.contains("<classifier>" + platform + "</classifier>"), message);
    String cause = r.line("cause: ");
    assertTrue(cause.startsWith("java.lang.UnsatisfiedLinkError: "), "JavaCPP's error is chained: " + cause);
    assertTrue(cause.contains("jniNativeCore"), cause);
    System.out.println("MissingNativesTest: " + message);
  }

  private static String buildVersion() throws IOException {
    Properties p = new Properties();
    try (InputStream in = MissingNativesTest.class.getResourceAsStream("/dev/adjoint/adjoint.properties")) {
      assertNotNull(in, "adjoint.properties is a resource of the library");
      p.load(in);
    }
    return p.getProperty("version");
  }

  /**
   * This JVM's classpath less the natives: a jar holding dev/adjoint/internal/PLATFORM/ is left
   * out, a directory holding it (target/classes) is copied without it.
   */
  private String classpathWithoutNatives(String platform) throws IOException {
    String nativeDir = "dev/adjoint/internal/" + platform;
    List<String> out = new ArrayList<>();
    int copies = 0;
    for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path p = Path.of(e);
      if (Files.isDirectory(p)) {
        Path natives = p.resolve(nativeDir);
        if (!Files.isDirectory(natives)) {
          out.add(e);
          continue;
        }
        Path copy = tmp.resolve("classes" + copies++);
        try (Stream<Path> all = Files.walk(p)) {
          for (Path f : (Iterable<Path>) all::iterator) {
            if (f.startsWith(natives)) continue;
            Path to = copy.resolve(p.relativize(f).toString());
            if (Files.isDirectory(f)) Files.createDirectories(to);
            else Files.copy(f, to);
          }
        }
        out.add(copy.toString());
      } else if (Files.isRegularFile(p)) {
        try (JarFile jar = new JarFile(p.toFile())) {
          if (jar.stream().anyMatch(j -> j.getName().startsWith(nativeDir + "/"))) continue;
        }
        out.add(e);
      }
    }
    return String.join(File.pathSeparator, out);
  }

  /** Child JVM: uses the library once and prints what it threw. */
  public static void main(String[] args) {
    try {
      System.out.println("loaded: version " + Adjoint.version());
    } catch (Throwable t) {
      System.out.println("error: " + t.getClass().getName());
      System.out.println("message: " + t.getMessage());
      Throwable c = t.getCause();
      System.out.println("cause: " + (c == null ? "none" : c.getClass().getName() + ": " + c.getMessage()));
    }
    System.exit(0);
  }
}
