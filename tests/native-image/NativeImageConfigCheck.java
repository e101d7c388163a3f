import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Checks the GraalVM native-image configuration inside natives jars with GraalVM's own
 * configuration tool (org.graalvm.nativeimage:svm-configure, which needs Java 21+), as a native
 * image build would read it. Run by check.sh, with the tool's classpath:
 *
 * <pre>java -cp SVM_CONFIGURE_CLASSPATH NativeImageConfigCheck.java JAR...</pre>
 *
 * For each jar: every folder under META-INF/native-image/ that holds configuration files goes
 * through {@code native-image-configure generate --input-dir=...} (its parsers reject malformed
 * JSON, unknown or missing attributes, a wrong document shape: the build fails with its message);
 * every resource pattern compiles as the Java regex GraalVM matches it as; every native library in
 * the jar matches one; native-image.properties reads as properties with an Args line of options.
 * Exits 1 on any failure.
 */
public class NativeImageConfigCheck {
    static final Set<String> CONFIG_FILES = Set.of("jni-config.json", "reflect-config.json", "resource-config.json", "proxy-config.json",
            "serialization-config.json", "predefined-classes-config.json", "reachability-metadata.json");
    static final String ROOT = "META-INF/native-image/";
    static final Pattern PATTERN = Pattern.compile("\"pattern\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    static final List<String> failures = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        if (Runtime.version().feature() < 21) {
            System.err.println("native-image config check: GraalVM's configuration tool needs Java 21+, this is " + Runtime.version());
            System.exit(1);
        }
        if (args.length == 0) {
            System.err.println("native-image config check: no natives jar given");
            System.exit(1);
        }
        for (String jar : args) check(Path.of(jar));
        if (!failures.isEmpty()) {
            System.err.println("native-image config check FAILED:\n  " + String.join("\n  ", failures));
            System.exit(1);
        }
    }

    static void check(Path jar) throws IOException, InterruptedException {
        int failed = failures.size();
        try (ZipFile z = new ZipFile(jar.toFile())) {
            Map<String, List<ZipEntry>> folders = new TreeMap<>();
            List<String> libraries = new ArrayList<>();
            for (ZipEntry e : z.stream().toList()) {
                String n = e.getName();
                if (e.isDirectory()) continue;
                String file = n.substring(n.lastIndexOf('/') + 1);
                if (n.startsWith(ROOT) && (CONFIG_FILES.contains(file) || file.equals("native-image.properties"))) {
                    folders.computeIfAbsent(n.substring(0, n.lastIndexOf('/')), k -> new ArrayList<>()).add(e);
                } else if (file.endsWith(".so") || file.contains(".so.") || file.endsWith(".dylib") || file.endsWith(".dll")) {
                    libraries.add(n);
                }
            }
            if (folders.isEmpty()) {
                failures.add(jar + ": no native-image configuration under " + ROOT);
                return;
            }
            if (libraries.isEmpty()) failures.add(jar + ": no native library (is this a natives jar?)");
            List<Pattern> patterns = new ArrayList<>();
            int types = 0;
            for (Map.Entry<String, List<ZipEntry>> f : folders.entrySet()) {
                Path tmp = Files.createTempDirectory("native-image-config");
                try {
                    boolean json = false;
                    for (ZipEntry e : f.getValue()) {
                        String file = e.getName().substring(e.getName().lastIndexOf('/') + 1);
                        String text;
                        try (InputStream in = z.getInputStream(e)) {
                            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                        }
                        if (file.equals("native-image.properties")) {
                            checkProperties(jar + "!/" + e.getName(), text);
                            continue;
                        }
                        json = true;
                        Files.writeString(tmp.resolve(file), text);
                        if (file.equals("resource-config.json") || file.equals("reachability-metadata.json")) {
                            Matcher m = PATTERN.matcher(text);
                            while (m.find()) {
                                String p = m.group(1).replace("\\\\", "\u0000").replace("\\\"", "\"").replace("\u0000", "\\");
                                try {
                                    patterns.add(Pattern.compile(p));
                                } catch (PatternSyntaxException x) {
                                    failures.add(jar + "!/" + e.getName() + ": resource pattern " + p + " is no regex: " + x.getDescription());
                                }
                            }
                        }
                    }
                    if (json) types += configure(jar + "!/" + f.getKey(), tmp);
                } finally {
                    try (Stream<Path> s = Files.walk(tmp)) {
                        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                    }
                }
            }
            for (String lib : libraries) {
                if (patterns.stream().noneMatch(p -> p.matcher(lib).matches())) {
                    failures.add(jar + ": " + lib + " matches no resource pattern of the jar's configuration: a native image would lack it");
                }
            }
            if (failures.size() > failed) return;
            System.out.printf("native-image config check: %s OK: %d folders (%s) read by GraalVM's configuration tool (%d types); %d libraries %s covered by its resource patterns%n",
                    jar.getFileName(), folders.size(), String.join(", ", folders.keySet()), types, libraries.size(), libraries);
        }
    }

    /** GraalVM's configuration tool reads the folder; returns how many types its output registers. */
    static int configure(String what, Path dir) throws IOException, InterruptedException {
        Path out = dir.resolve("out");
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "com.oracle.svm.configure.ConfigurationTool", "generate",
                "--input-dir=" + dir, "--output-dir=" + out).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            failures.add(what + ": the configuration tool did not finish in 120 s");
            return 0;
        }
        if (p.exitValue() != 0) {
            failures.add(what + ": GraalVM's configuration tool rejects it (exit " + p.exitValue() + "):\n" + log.strip());
            return 0;
        }
        Path metadata = out.resolve("reachability-metadata.json");
        if (!Files.isRegularFile(metadata)) return 0;
        Matcher m = Pattern.compile("\"type\"\\s*:").matcher(Files.readString(metadata));
        int n = 0;
        while (m.find()) n++;
        return n;
    }

    static void checkProperties(String what, String text) throws IOException {
        Properties p = new Properties();
        p.load(new java.io.StringReader(text));
        String args = p.getProperty("Args");
        if (args == null || args.isBlank()) {
            failures.add(what + ": no Args");
            return;
        }
        for (String a : args.trim().split("\\s+")) {
            if (!a.startsWith("-")) failures.add(what + ": Args has " + a + ", not an option");
        }
    }
}
