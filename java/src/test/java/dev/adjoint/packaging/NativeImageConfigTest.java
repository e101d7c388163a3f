package dev.adjoint.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.javacpp.FunctionPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Virtual;
import org.junit.jupiter.api.Test;

/**
 * The GraalVM native-image configuration that each natives jar carries
 * ({@code META-INF/native-image/dev.adjoint/adjoint/<platform>/}, java/pom.xml "native-image
 * configuration") covers what a native image of an Adjoint program needs from us. Nothing here is
 * a hand list: the classes are found by scanning the compiled classes of {@code dev.adjoint}, the
 * libraries and resources by walking the build output that the jars take.
 *
 * <ul>
 *   <li>every class with native methods, and every class native code calls back into (JavaCPP
 *       {@link FunctionPointer}s, {@link Virtual} methods), is registered for JNI and reflection,
 *       with its callback methods reachable through JNI;</li>
 *   <li>every reference type in those native and callback signatures is registered for JNI (the
 *       glue finds them by name), and so is every class the shipped library itself names;</li>
 *   <li>every shipped library and resource matches a resource pattern, as GraalVM matches them;</li>
 *   <li>every class, field and method the configuration names exists (a rename fails here);</li>
 *   <li>our classes initialize at image run time (they load the natives).</li>
 * </ul>
 *
 * GraalVM's own parser reads the same files in tests/native-image (after the jar is built).
 */
class NativeImageConfigTest {
    /** GraalVM's recommended place, META-INF/native-image/groupId/artifactId, then one folder per platform. */
    private static final String CONFIG_ROOT = "META-INF/native-image/dev.adjoint/adjoint";

    private static Path classesDir() {
        return Path.of(System.getProperty("adjoint.classes.dir", "target/classes"));
    }

    /** One platform's configuration: the union of the files in its folders (jniNativeCore/, adjoint/). */
    record Config(String platform, Map<String, Map<String, Object>> jni, Map<String, Map<String, Object>> reflect, List<Pattern> resources,
            List<String> runTimeInit) {}

    /**
     * The platforms whose natives the build output holds: dev/adjoint/internal/<platform>/*.so;
     * every platform the build makes (adjoint.platforms, java/pom.xml: linux-x86_64, and
     * linux-arm64 unless one platform is named) among them, so each one's configuration is checked.
     */
    private static List<String> platforms() throws IOException {
        Path natives = classesDir().resolve("dev/adjoint/internal");
        Set<String> out = new TreeSet<>();
        try (Stream<Path> files = Files.walk(natives)) {
            files.filter(p -> p.getFileName().toString().endsWith(".so")).forEach(p -> out.add(natives.relativize(p).getName(0).toString()));
        }
        assertTrue(out.contains(Loader.getPlatform()), "no natives for the build platform " + Loader.getPlatform() + " under " + natives.toAbsolutePath());
        for (String built : System.getProperty("adjoint.platforms", Loader.getPlatform()).split(",")) {
            assertTrue(out.contains(built.trim()), "no natives for " + built.trim() + " (adjoint.platforms) under " + natives.toAbsolutePath() + ": " + out);
        }
        return new ArrayList<>(out);
    }

    private static List<Config> configs() throws IOException {
        List<Config> out = new ArrayList<>();
        for (String platform : platforms()) out.add(read(platform));
        return out;
    }

    @SuppressWarnings("unchecked")
    static Config read(String platform) throws IOException {
        Path dir = classesDir().resolve(CONFIG_ROOT).resolve(platform);
        for (String f : List.of("jniNativeCore/jni-config.json", "jniNativeCore/reflect-config.json", "jniNativeCore/resource-config.json",
                "adjoint/reflect-config.json", "adjoint/resource-config.json", "adjoint/native-image.properties")) {
            assertTrue(Files.isRegularFile(dir.resolve(f)), "missing " + dir.resolve(f));
        }
        Map<String, Map<String, Object>> jni = new LinkedHashMap<>(), reflect = new LinkedHashMap<>();
        List<Pattern> resources = new ArrayList<>();
        List<String> runTimeInit = new ArrayList<>();
        List<Path> files;
        // NOTE: jnijavacpp/ (JavaCPP's own glue) is generated beside ours, but the natives jar leaves
        // it out: org.bytedeco.javacpp's natives jar ships it; so it covers nothing of ours here.
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(Files::isRegularFile).filter(f -> !dir.relativize(f).startsWith("jnijavacpp")).sorted().toList();
        }
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.equals("native-image.properties")) {
                Properties p = new Properties();
                try (InputStream in = Files.newInputStream(f)) {
                    p.load(in);
                }
                for (String arg : p.getProperty("Args", "").trim().split("\\s+")) {
                    if (arg.startsWith("--initialize-at-run-time=")) runTimeInit.addAll(Arrays.asList(arg.substring(arg.indexOf('=') + 1).split(",")));
                }
                continue;
            }
            Object json;
            try {
                json = Json.parse(Files.readString(f, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new AssertionError(f + ": " + e.getMessage(), e);
            }
            switch (name) {
                case "jni-config.json" -> addTypes(f, json, jni);
                case "reflect-config.json" -> addTypes(f, json, reflect);
                case "resource-config.json" -> addResourcePatterns(f, json, resources);
                default -> throw new AssertionError(f + ": a file GraalVM would not read as configuration here");
            }
        }
        return new Config(platform, jni, reflect, resources, runTimeInit);
    }

    /** reflect-config.json / jni-config.json: an array of {"name": class, ...}; one class twice merges. */
    @SuppressWarnings("unchecked")
    private static void addTypes(Path f, Object json, Map<String, Map<String, Object>> into) {
        assertTrue(json instanceof List, f + ": not an array of class descriptors");
        for (Object o : (List<Object>) json) {
            assertTrue(o instanceof Map && ((Map<String, Object>) o).get("name") instanceof String, f + ": an entry without a class name: " + o);
            Map<String, Object> e = (Map<String, Object>) o;
            into.merge((String) e.get("name"), new LinkedHashMap<>(e), (a, b) -> {
                b.forEach((k, v) -> a.merge(k, v, (x, y) -> x instanceof List ? concat((List<Object>) x, (List<Object>) y) : Boolean.TRUE.equals(x) ? x : y));
                return a;
            });
        }
    }

    private static List<Object> concat(List<Object> a, List<Object> b) {
        List<Object> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /**
     * resource-config.json: {"resources": [{"pattern": regex}]} (JavaCPP's form) or
     * {"resources": {"includes": [...]}}; GraalVM matches a pattern against the whole resource path.
     */
    @SuppressWarnings("unchecked")
    private static void addResourcePatterns(Path f, Object json, List<Pattern> into) {
        Object r = ((Map<String, Object>) json).get("resources");
        List<Object> includes = r instanceof Map ? (List<Object>) ((Map<String, Object>) r).get("includes") : (List<Object>) r;
        assertTrue(includes != null, f + ": no resource patterns");
        for (Object o : includes) into.add(Pattern.compile((String) ((Map<String, Object>) o).get("pattern")));
    }

    /** The compiled classes of dev.adjoint and below (the main jar's), loaded without initializing them. */
    static List<Class<?>> scannedClasses() throws IOException, ClassNotFoundException {
        Path root = classesDir();
        List<String> names;
        try (Stream<Path> s = Files.walk(root.resolve("dev/adjoint"))) {
            names = s.map(p -> root.relativize(p).toString()).filter(n -> n.endsWith(".class")).sorted().toList();
        }
        List<Class<?>> out = new ArrayList<>();
        for (String n : names) {
            out.add(Class.forName(n.substring(0, n.length() - ".class".length()).replace('/', '.'), false, NativeImageConfigTest.class.getClassLoader()));
        }
        return out;
    }

    /** Methods that native code calls on a Java object: a FunctionPointer's call(...), @Virtual methods. */
    static List<Method> callbacks(Class<?> c) {
        List<Method> out = new ArrayList<>();
        for (Method m : c.getDeclaredMethods()) {
            if (Modifier.isNative(m.getModifiers()) || m.isSynthetic()) continue;
            boolean call = FunctionPointer.class.isAssignableFrom(c) && m.getName().equals("call") && !Modifier.isStatic(m.getModifiers());
            if (call || m.isAnnotationPresent(Virtual.class)) out.add(m);
        }
        return out;
    }

    static List<Method> nativeMethods(Class<?> c) {
        return Arrays.stream(c.getDeclaredMethods()).filter(m -> Modifier.isNative(m.getModifiers())).toList();
    }

    private static boolean methodsReachable(Map<String, Object> entry, Method m) {
        if (entry == null) return false;
        if (Boolean.TRUE.equals(entry.get("allDeclaredMethods"))) return true;
        if (Modifier.isPublic(m.getModifiers()) && Boolean.TRUE.equals(entry.get("allPublicMethods"))) return true;
        Object listed = entry.get("methods");
        return listed instanceof List<?> l && l.stream().anyMatch(o -> o instanceof Map<?, ?> mm && m.getName().equals(mm.get("name")));
    }

    @Test
    void everyClassWithNativeMethodsOrCallbacksIsRegisteredForJniAndReflection() throws Exception {
        List<Class<?>> classes = scannedClasses();
        List<String> nativeClasses = new ArrayList<>(), failures = new ArrayList<>();
        for (Config cfg : configs()) {
            for (Class<?> c : classes) {
                List<Method> natives = nativeMethods(c), calls = callbacks(c);
                if (natives.isEmpty() && calls.isEmpty()) continue;
                if (cfg.platform.equals(Loader.getPlatform())) nativeClasses.add(c.getName() + " (" + natives.size() + " native, " + calls.size() + " called from native)");
                if (!cfg.jni.containsKey(c.getName())) failures.add(cfg.platform + ": " + c.getName() + " has native methods or callbacks but no jni-config entry");
                if (!cfg.reflect.containsKey(c.getName())) failures.add(cfg.platform + ": " + c.getName() + " has native methods or callbacks but no reflect-config entry (JavaCPP's Loader reads its annotations)");
                for (Method m : calls) {
                    if (!methodsReachable(cfg.jni.get(c.getName()), m)) failures.add(cfg.platform + ": native code calls " + m + " but jni-config does not register it");
                }
            }
        }
        System.out.println("native-image: classes with native methods or callbacks: " + nativeClasses);
        // the binding and its two callbacks (custom rules, out-of-memory retry) at least: the scan works
        for (String expected : List.of("dev.adjoint.internal.NativeCore ", "dev.adjoint.internal.NativeCore$CustomCallback ", "dev.adjoint.internal.NativeCore$OomHandler ")) {
            assertTrue(nativeClasses.stream().anyMatch(s -> s.startsWith(expected)), "the scan missed " + expected.trim() + ": " + nativeClasses);
        }
        assertTrue(failures.isEmpty(), "native-image configuration misses:\n  " + String.join("\n  ", failures));
    }

    @Test
    void everyTypeCrossingTheJniBoundaryIsRegisteredForJni() throws Exception {
        List<String> failures = new ArrayList<>();
        Set<String> crossing = new TreeSet<>();
        for (Class<?> c : scannedClasses()) {
            List<Method> ms = new ArrayList<>(nativeMethods(c));
            ms.addAll(callbacks(c));
            for (Method m : ms) {
                List<Class<?>> types = new ArrayList<>(Arrays.asList(m.getParameterTypes()));
                types.add(m.getReturnType());
                for (Class<?> t : types) {
                    while (t.isArray()) t = t.getComponentType();
                    if (!t.isPrimitive()) crossing.add(t.getName());
                }
            }
        }
        assertTrue(crossing.contains("java.lang.String") && crossing.contains(Pointer.class.getName()), "the scan missed String/Pointer: " + crossing);
        // the glue reads and writes Pointer's fields (address, position, limit, capacity) through JNI,
        // and turns a C++ exception into a java.lang.RuntimeException
        crossing.add(RuntimeException.class.getName());
        for (Config cfg : configs()) {
            for (String t : crossing) {
                if (!cfg.jni.containsKey(t)) failures.add(cfg.platform + ": " + t + " crosses the JNI boundary but has no jni-config entry");
            }
            Map<String, Object> pointer = cfg.jni.get(Pointer.class.getName());
            if (pointer == null || !Boolean.TRUE.equals(pointer.get("allDeclaredFields"))) failures.add(cfg.platform + ": jni-config lacks Pointer's fields");
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /**
     * The JNI class names written in the shipped library itself ({@code FindClass} arguments such
     * as {@code dev/adjoint/internal/NativeCore$OomHandler}: every printable string of the ELF file
     * that names a class on the classpath) are registered for JNI, by our configuration or by
     * JavaCPP's natives jar. NOTE: JavaCPP compiles its own glue (jnijavacpp.cpp) into our library
     * too, so the library also names JavaCPP's classes (BytePointer, Loader$Helper, ...); those
     * JavaCPP's natives jar registers (META-INF/native-image/<platform>/jnijavacpp/), which
     * adjoint-platform always brings with ours.
     */
    @Test
    void everyClassTheNativeLibraryNamesIsRegisteredForJni() throws Exception {
        Pattern className = Pattern.compile("(?:[a-z][a-z0-9_]*/)+[A-Za-z_$][A-Za-z0-9_$]*");
        ClassLoader loader = NativeImageConfigTest.class.getClassLoader();
        List<String> failures = new ArrayList<>();
        for (Config cfg : configs()) {
            Set<String> javacpp = javacppJniTypes(cfg.platform);
            Path dir = classesDir().resolve("dev/adjoint/internal").resolve(cfg.platform);
            List<Path> libs;
            try (Stream<Path> s = Files.list(dir)) {
                libs = s.filter(p -> p.getFileName().toString().endsWith(".so")).sorted().toList();
            }
            for (Path lib : libs) {
                Set<String> named = new TreeSet<>();
                for (String str : printableStrings(Files.readAllBytes(lib))) {
                    if (!className.matcher(str).matches()) continue;
                    String name = str.replace('/', '.');
                    try {
                        Class.forName(name, false, loader);
                    } catch (ClassNotFoundException | LinkageError e) {
                        continue;  // a path or other text, not a class
                    }
                    named.add(name);
                }
                System.out.println("native-image: " + cfg.platform + "/" + lib.getFileName() + " names " + named.size() + " classes: " + named);
                for (String c : List.of("dev.adjoint.internal.NativeCore$CustomCallback", "org.bytedeco.javacpp.Pointer", "java.lang.String")) {
                    assertTrue(named.contains(c), lib + ": the string scan missed " + c + ": " + named);
                }
                for (String c : named) {
                    if (!cfg.jni.containsKey(c) && !javacpp.contains(c)) failures.add(cfg.platform + ": " + lib.getFileName() + " names " + c + ", registered for JNI neither by us nor by JavaCPP");
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /** The classes JavaCPP's natives jar registers for JNI (from that jar on the test classpath, else as our build generated them). */
    @SuppressWarnings("unchecked")
    private static Set<String> javacppJniTypes(String platform) throws IOException {
        String resource = "META-INF/native-image/" + platform + "/jnijavacpp/jni-config.json";
        String text;
        try (InputStream in = NativeImageConfigTest.class.getClassLoader().getResourceAsStream(resource)) {
            text = in != null ? new String(in.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(classesDir().resolve(CONFIG_ROOT).resolve(platform).resolve("jnijavacpp/jni-config.json"));
        }
        Map<String, Map<String, Object>> types = new LinkedHashMap<>();
        addTypes(Path.of(resource), Json.parse(text), types);
        return types.keySet();
    }

    /** Runs of at least 4 printable ASCII bytes, as strings(1) finds them. */
    static List<String> printableStrings(byte[] b) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= b.length; i++) {
            boolean printable = i < b.length && b[i] >= 0x20 && b[i] < 0x7f;
            if (printable && start < 0) start = i;
            if (!printable && start >= 0) {
                if (i - start >= 4) out.add(new String(b, start, i - start, StandardCharsets.US_ASCII));
                start = -1;
            }
        }
        return out;
    }

    @Test
    void everyShippedLibraryAndResourceMatchesAResourcePattern() throws Exception {
        Path root = classesDir();
        List<String> platforms = platforms();
        List<String> resources;
        try (Stream<Path> s = Files.walk(root.resolve("dev"))) {
            resources = s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString().replace('\\', '/')).filter(n -> !n.endsWith(".class")).sorted().toList();
        }
        assertTrue(resources.contains("dev/adjoint/adjoint.properties"), "the scan missed adjoint.properties: " + resources);
        List<String> failures = new ArrayList<>();
        for (Config cfg : configs()) {
            int libs = 0;
            for (String r : resources) {
                // another platform's natives are in that platform's jar, with its own configuration
                String other = platforms.stream().filter(p -> !p.equals(cfg.platform) && r.startsWith("dev/adjoint/internal/" + p + "/")).findAny().orElse(null);
                if (other != null) continue;
                if (r.endsWith(".so")) libs++;
                if (cfg.resources.stream().noneMatch(p -> p.matcher(r).matches())) failures.add(cfg.platform + ": " + r + " matches no resource pattern " + cfg.resources);
            }
            assertTrue(libs > 0, cfg.platform + ": no shipped library found");
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyClassFieldAndMethodTheConfigurationNamesExists() throws Exception {
        List<String> failures = new ArrayList<>();
        ClassLoader loader = NativeImageConfigTest.class.getClassLoader();
        for (Config cfg : configs()) {
            Map<String, Map<String, Object>> all = new LinkedHashMap<>(cfg.jni);
            cfg.reflect.forEach((k, v) -> all.merge(k, v, (a, b) -> {
                Map<String, Object> m = new LinkedHashMap<>(a);
                b.forEach((kk, vv) -> m.merge(kk, vv, (x, y) -> x instanceof List ? concat((List<Object>) x, (List<Object>) y) : x));
                return m;
            }));
            for (Map.Entry<String, Map<String, Object>> e : all.entrySet()) {
                Class<?> c;
                try {
                    c = Class.forName(e.getKey(), false, loader);
                } catch (ClassNotFoundException x) {
                    failures.add(cfg.platform + ": no class " + e.getKey());
                    continue;
                }
                for (Object f : (List<Object>) e.getValue().getOrDefault("fields", List.of())) {
                    String name = (String) ((Map<String, Object>) f).get("name");
                    try {
                        c.getDeclaredField(name);
                    } catch (NoSuchFieldException x) {
                        failures.add(cfg.platform + ": no field " + c.getName() + "." + name);
                    }
                }
                for (Object o : (List<Object>) e.getValue().getOrDefault("methods", List.of())) {
                    Map<String, Object> m = (Map<String, Object>) o;
                    String name = (String) m.get("name");
                    List<Object> params = (List<Object>) m.get("parameterTypes");
                    boolean found = Stream.concat(Arrays.stream(c.getDeclaredMethods()).map(x -> new Object[] {x.getName(), x.getParameterTypes()}),
                            Arrays.stream(c.getDeclaredConstructors()).map(x -> new Object[] {"<init>", x.getParameterTypes()}))
                        .anyMatch(x -> x[0].equals(name) && (params == null
                            || Arrays.stream((Class<?>[]) x[1]).map(Class::getTypeName).toList().equals(params)));
                    if (!found) failures.add(cfg.platform + ": no method " + c.getName() + "." + name + (params == null ? "" : params.toString()));
                }
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /**
     * A class that makes a {@code VarHandle} by name ({@code MethodHandles.Lookup.findVarHandle} /
     * {@code findStaticVarHandle} in its constant pool) has each of its own fields whose name is a
     * string constant of the class registered for reflection: GraalVM folds such a lookup when its
     * arguments are provably constant, and needs the field registered where they are not.
     */
    @Test
    @SuppressWarnings("unchecked")
    void everyFieldLookedUpByNameForAVarHandleIsRegisteredForReflection() throws Exception {
        Path root = classesDir();
        List<String> failures = new ArrayList<>(), found = new ArrayList<>();
        for (Class<?> c : scannedClasses()) {
            ClassConstants cp = ClassConstants.read(Files.readAllBytes(root.resolve(c.getName().replace('.', '/') + ".class")));
            if (!cp.utf8().contains("java/lang/invoke/MethodHandles$Lookup")
                    || !(cp.utf8().contains("findVarHandle") || cp.utf8().contains("findStaticVarHandle"))) continue;
            for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                if (!cp.strings().contains(f.getName())) continue;
                found.add(c.getName() + "." + f.getName());
                for (Config cfg : configs()) {
                    Map<String, Object> e = cfg.reflect.get(c.getName());
                    boolean ok = e != null && (Boolean.TRUE.equals(e.get("allDeclaredFields"))
                        || (Modifier.isPublic(f.getModifiers()) && Boolean.TRUE.equals(e.get("allPublicFields")))
                        || ((List<Object>) e.getOrDefault("fields", List.of())).stream().anyMatch(x -> f.getName().equals(((Map<String, Object>) x).get("name"))));
                    if (!ok) failures.add(cfg.platform + ": " + c.getName() + " makes a VarHandle by name for " + f + ", not registered for reflection");
                }
            }
        }
        System.out.println("native-image: fields looked up by name for VarHandles: " + found);
        assertTrue(found.contains("dev.adjoint.Tensor.handle"), "the constant-pool scan missed Tensor.handle: " + found);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void adjointsClassesInitializeAtImageRunTime() throws Exception {
        for (Config cfg : configs()) {
            assertFalse(cfg.runTimeInit.isEmpty(), cfg.platform + ": native-image.properties has no --initialize-at-run-time");
            for (Class<?> c : scannedClasses()) {
                String n = c.getName();
                assertTrue(cfg.runTimeInit.stream().anyMatch(r -> n.equals(r) || n.startsWith(r + ".") || n.startsWith(r + "$")),
                        cfg.platform + ": " + n + " would not be initialized at run time (" + cfg.runTimeInit + ")");
            }
        }
    }

    @Test
    void theJsonReaderRejectsWhatGraalVmRejects() {
        assertEquals(List.of(Map.of("name", "a.B")), Json.parse(" [ {\"name\" : \"a.B\"} ] "));
        for (String bad : List.of("[{\"name\":\"a.B\",}]", "[{\"name\":\"a.B\"},]", "[{\"name\":\"a.B\"}", "[{name:1}]", "[] x")) {
            try {
                Json.parse(bad);
                throw new AssertionError("accepted " + bad);
            } catch (IllegalArgumentException expected) {
                // the message names the offset
            }
        }
    }
}
