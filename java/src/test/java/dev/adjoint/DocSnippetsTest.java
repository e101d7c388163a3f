package dev.adjoint;

import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * Every code example compiles: the {@code <pre>{@code ...}</pre>} blocks in the Javadoc of the
 * public classes (java/src/main/java/dev/adjoint/*.java) and the {@code ```java} blocks of
 * README.md, each compiled with javax.tools against the built classes. A snippet becomes the body
 * of a method of a class of its own, with the imports it names plus {@code dev.adjoint.*},
 * {@code java.util.*} and the static members of {@link Func}; the variables snippets use without
 * declaring them are {@link #GIVEN} as fields (a snippet's own declarations shadow them). A
 * failure names each snippet that does not compile (file and line) with javac's errors. README's
 * examples are run too (they must declare what they use).
 */
class DocSnippetsTest {
  /** What a snippet may use without declaring it (the names the examples share). */
  static final String GIVEN = String.join("\n",
      "  static Tensor x, y, t, v, w, b, weight, bias, xs, ys, ct, h, w2, b2, labels, target, w0, p0;",
      "  static Fn1 dLoss;",
      "  static Fn1 f;",
      "  static Fn3 predict;",
      "  static FnN loss;",
      "  static Map<String, Tensor> params;",
      "");

  private static final Pattern JAVADOC_BLOCK = Pattern.compile("<pre>\\{@code\\R(.*?)\\R\\s*\\*\\s*\\}</pre>", Pattern.DOTALL);
  private static final Pattern README_BLOCK = Pattern.compile("^```java\\R(.*?)^```", Pattern.DOTALL | Pattern.MULTILINE);

  /** A code example: where it is (file:line of its first line) and its text. */
  record Snippet(String where, int firstLine, String code) {}

  /** The project root: the directory above this module (or the tests module) that holds README.md and the sources. */
  static Path root() {
    for (Path p = Paths.get(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent())
      if (Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("java/src/main/java/dev/adjoint"))) return p;
    throw new AssertionError("no project root (README.md and java/src/main/java/dev/adjoint) above " + System.getProperty("user.dir"));
  }

  static List<Snippet> javadocSnippets(Path root) throws IOException {
    List<Snippet> out = new ArrayList<>();
    Path dir = root.resolve("java/src/main/java/dev/adjoint");
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
    for (Path file : files) {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      Matcher m = JAVADOC_BLOCK.matcher(text);
      while (m.find()) {
        int line = lineOf(text, m.start(1));
        StringBuilder code = new StringBuilder();
        for (String l : m.group(1).split("\\R", -1)) code.append(l.replaceFirst("^\\s*\\*( |$)", "")).append('\n');
        out.add(new Snippet(root.relativize(file) + ":" + line, line, code.toString()));
      }
    }
    return out;
  }

  static List<Snippet> readmeSnippets(Path root) throws IOException {
    List<Snippet> out = new ArrayList<>();
    String text = Files.readString(root.resolve("README.md"), StandardCharsets.UTF_8);
    Matcher m = README_BLOCK.matcher(text);
    while (m.find()) {
      int line = lineOf(text, m.start(1));
      out.add(new Snippet("README.md:" + line, line, m.group(1)));
    }
    return out;
  }

  private static int lineOf(String text, int offset) {
    int line = 1;
    for (int i = 0; i < offset; i++) if (text.charAt(i) == '\n') line++;
    return line;
  }

  /** The compilation unit of snippet number {@code n}: its imports on top, its other lines as a method body. */
  static String unit(String className, Snippet s) {
    StringBuilder imports = new StringBuilder(), body = new StringBuilder();
    for (String l : s.code().split("\n", -1)) {
      boolean isImport = l.startsWith("import ");
      imports.append(isImport ? l : "").append('\n');  // one line per snippet line in both parts: error lines map back
      body.append(isImport ? "" : l).append('\n');
    }
    return imports + "import dev.adjoint.*;\nimport static dev.adjoint.Func.*;\nimport java.util.*;\n"
        + "@SuppressWarnings(\"all\")\nclass " + className + " {\n" + GIVEN + "  static void snippet() throws Exception {\n" + body + "  }\n}\n";
  }

  @Test
  void everyCodeExampleInJavadocAndReadmeCompiles() throws Exception {
    Path root = root();
    List<Snippet> snippets = new ArrayList<>(javadocSnippets(root));
    List<Snippet> readme = readmeSnippets(root);
    snippets.addAll(readme);
    // the extraction itself must find them: Func's overview, Pytree's records, the README's opening example
    assertTrue(snippets.stream().anyMatch(s -> s.where().startsWith("java/src/main/java/dev/adjoint/Func.java")), "no snippet in Func");
    assertTrue(snippets.stream().anyMatch(s -> s.code().contains("record Params")), "no snippet with a record");
    assertTrue(readme.size() >= 2, "README's java blocks: " + readme.size());

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "no system Java compiler (the tests need a JDK)");
    Map<String, Snippet> byClass = new LinkedHashMap<>();
    List<JavaFileObject> units = new ArrayList<>();
    for (Snippet s : snippets) {
      String cls = "Snippet" + byClass.size();
      byClass.put(cls, s);
      String src = unit(cls, s);
      units.add(new SimpleJavaFileObject(URI.create("string:///" + cls + ".java"), JavaFileObject.Kind.SOURCE) {
        @Override
        public CharSequence getCharContent(boolean ignoreEncodingErrors) {
          return src;
        }
      });
    }
    Path out = Files.createTempDirectory("adjoint-snippets");
    String classPath = Paths.get(URI.create(Tensor.class.getProtectionDomain().getCodeSource().getLocation().toString())) + File.pathSeparator
        + System.getProperty("java.class.path");
    DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
    try (StandardJavaFileManager fm = javac.getStandardFileManager(diags, Locale.ROOT, StandardCharsets.UTF_8)) {
      StringWriter log = new StringWriter();
      boolean ok = javac.getTask(log, fm, diags, List.of("-d", out.toString(), "-classpath", classPath, "-proc:none", "-Xlint:none"), null, units)
          .call();
      Map<String, StringBuilder> errors = new TreeMap<>();
      for (Diagnostic<? extends JavaFileObject> d : diags.getDiagnostics()) {
        if (d.getKind() != Diagnostic.Kind.ERROR) continue;
        String cls = d.getSource() == null ? "?" : d.getSource().getName().replaceAll(".*/|\\.java$", "");
        Snippet s = byClass.get(cls);
        String where = s == null ? cls : s.where();
        int line = s == null ? (int) d.getLineNumber() : s.firstLine() + snippetLine(s, d.getLineNumber());
        errors.computeIfAbsent(where, k -> new StringBuilder()).append("\n    line ").append(line).append(": ").append(d.getMessage(Locale.ROOT));
      }
      if (!ok || !errors.isEmpty()) {
        StringBuilder msg = new StringBuilder(errors.size() + " of " + snippets.size() + " code examples do not compile:");
        errors.forEach((where, e) -> msg.append("\n  ").append(where).append(e));
        if (errors.isEmpty()) msg.append('\n').append(log);
        fail(msg.toString());
      }
      // README's examples are meant to be run as they are: they declare everything they use
      try (URLClassLoader loader = new URLClassLoader(new URL[] {out.toUri().toURL()}, DocSnippetsTest.class.getClassLoader())) {
        for (Map.Entry<String, Snippet> e : byClass.entrySet()) {
          if (!e.getValue().where().startsWith("README.md")) continue;
          Method run = loader.loadClass(e.getKey()).getDeclaredMethod("snippet");
          run.setAccessible(true);
          try (Scope scope = Scope.open()) {
            run.invoke(null);
          } catch (InvocationTargetException x) {
            throw new AssertionError(e.getValue().where() + " compiles but fails when run: " + x.getCause(), x.getCause());
          }
        }
      }
    } finally {
      try (Stream<Path> s = Files.walk(out)) {
        s.sorted((a, c) -> c.compareTo(a)).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * The 0-based line within snippet {@code s} of line {@code unitLine} of its unit ({@link #unit}):
   * the unit holds the snippet's import lines (one line per snippet line), a fixed header (three
   * imports, the annotation, the class, the given fields, the method), then the body (again one
   * line per snippet line).
   */
  private static int snippetLine(Snippet s, long unitLine) {
    int n = s.code().split("\n", -1).length;
    int header = 3 + 1 + 1 + GIVEN.split("\n", -1).length - 1 + 1;
    long l = unitLine - 1;
    if (l < n) return (int) l;
    return (int) Math.max(0, Math.min(n - 1, l - n - header));
  }
}
