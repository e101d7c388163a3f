package dev.adjoint.internal;

import java.io.InputStream;
import java.net.URL;
import java.util.Properties;
import org.bytedeco.javacpp.Loader;

/**
 * The error for a native library that did not load: names the Maven artifact (the classifier jar
 * of the detected platform) to add, with the loader's own error as its cause.
 */
final class NativeLibrary {
  static final String LIBRARY = "jniNativeCore";

  private NativeLibrary() {}

  /** The error to throw instead of JavaCPP's {@code cause}. */
  static UnsatisfiedLinkError notLoaded(UnsatisfiedLinkError cause) {
    Properties build = buildProperties();
    String platform = Loader.getPlatform();
    String artifact = build.getProperty("groupId", "dev.adjoint") + ":" + build.getProperty("artifactId", "adjoint") + ":"
        + build.getProperty("version", "VERSION") + ":" + platform;
    String detected = "detected platform " + platform + " (os.name=" + System.getProperty("os.name") + ", os.arch="
        + System.getProperty("os.arch") + ")";
    String built = build.getProperty("platforms", "linux-x86_64");
    String resource = "dev/adjoint/internal/" + platform + "/" + System.mapLibraryName(LIBRARY);
    ClassLoader loader = NativeLibrary.class.getClassLoader();
    URL found = loader == null ? null : loader.getResource(resource);
    String message;
    if (found == null) {
      message = artifact + " (classifier " + platform + ") not on the classpath: it holds Adjoint's native library for the "
          + detected + ". Add it beside " + artifact.substring(0, artifact.lastIndexOf(':')) + ", e.g. in Maven "
          + "<dependency><groupId>" + build.getProperty("groupId", "dev.adjoint") + "</groupId><artifactId>"
          + build.getProperty("artifactId", "adjoint") + "</artifactId><version>" + build.getProperty("version", "VERSION")
          + "</version><classifier>" + platform + "</classifier></dependency>"
          + (("," + built + ",").contains("," + platform + ",") ? "" : " (this build of Adjoint has natives for " + built + " only)");
    } else {
      message = "Adjoint's native library " + found + " (from " + artifact + ") is on the classpath but did not load for the "
          + detected + ": " + cause.getMessage();
    }
    UnsatisfiedLinkError e = new UnsatisfiedLinkError(message);
    e.initCause(cause);
    return e;
  }

  /** The build's coordinates (adjoint.properties, written by Maven); empty if missing. */
  static Properties buildProperties() {
    Properties p = new Properties();
    try (InputStream in = NativeLibrary.class.getResourceAsStream("/dev/adjoint/adjoint.properties")) {
      if (in != null) p.load(in);
    } catch (Exception e) {
      // the defaults in the message stand in
    }
    return p;
  }
}
