package dev.adjoint.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The native libraries that the classifier jars ship (every {@code *.so} under
 * {@code dev/adjoint/internal/<platform>/} of the build output, which the jar takes whole) meet
 * {@link ElfBaseline}: glibc 2.17, no libstdc++/libgcc_s, RUNPATH {@code $ORIGIN}, only JNI
 * symbols exported. java/pom.xml passes the folder as {@code adjoint.natives.dir}, and the platforms
 * the build made natives for as {@code adjoint.platforms} (linux-x86_64, and linux-arm64 when
 * cross-compiled): each must have its library there.
 */
class ElfBaselineTest {
    private static final Map<String, Integer> PLATFORM_MACHINE = Map.of("linux-x86_64", ElfFile.EM_X86_64, "linux-arm64", ElfFile.EM_AARCH64);

    private static Path nativesDir() {
        return Path.of(System.getProperty("adjoint.natives.dir", "target/classes/dev/adjoint/internal"));
    }

    private static List<Path> shippedLibraries() throws IOException {
        try (Stream<Path> files = Files.walk(nativesDir())) {
            return files.filter(p -> p.getFileName().toString().endsWith(".so")).sorted().toList();
        }
    }

    /** The platforms whose natives this build made (java/pom.xml's adjoint.platforms). */
    private static List<String> builtPlatforms() {
        return List.of(System.getProperty("adjoint.platforms", "linux-x86_64").split(","));
    }

    @Test
    void shippedLibrariesLoadOnGlibc217WithoutTheSystemCxxRuntime() throws IOException {
        List<Path> libs = shippedLibraries();
        for (String platform : builtPlatforms()) {
            assertTrue(libs.stream().anyMatch(p -> p.endsWith(Path.of(platform, "libjniNativeCore.so"))),
                    "no " + platform + "/libjniNativeCore.so under " + nativesDir().toAbsolutePath() + ": " + libs);
        }
        List<String> failures = new ArrayList<>();
        for (Path lib : libs) {
            ElfFile elf = ElfFile.read(lib);
            String platform = lib.getParent().getFileName().toString();
            Integer machine = PLATFORM_MACHINE.get(platform);
            if (machine == null) {
                failures.add(lib + ": unknown platform folder " + platform);
            } else if (machine != elf.machine()) {
                failures.add(lib + ": e_machine " + elf.machine() + " in the " + platform + " folder (expected " + machine + ")");
            }
            for (String v : ElfBaseline.violations(elf)) failures.add(lib + ": " + v);
            System.out.printf("%s: %,d bytes, newest %s, NEEDED %s, RUNPATH %s, %d exported%n", nativesDir().relativize(lib), Files.size(lib),
                    ElfBaseline.newestGlibc(elf), elf.needed(), String.join(":", elf.runpath()), elf.exported().size());
        }
        printDependencyBaselines();
        assertTrue(failures.isEmpty(), "shipped native libraries break the ELF baseline:\n  " + String.join("\n  ", failures));
    }

    /**
     * Not asserted, said: the libraries of our dependencies' classifier jars, which load into the
     * same JVM first, have their own baseline (bytedeco's build machine's).
     */
    private static void printDependencyBaselines() throws IOException {
        for (String resource : List.of("org/bytedeco/openblas/linux-x86_64/libopenblas.so.0", "org/bytedeco/javacpp/linux-x86_64/libjnijavacpp.so")) {
            try (InputStream in = ElfBaselineTest.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) continue;
                ElfFile elf = ElfFile.parse(resource, in.readAllBytes());
                System.out.printf("note: dependency %s needs up to %s, NEEDED %s%n", resource, ElfBaseline.newestGlibc(elf), elf.needed());
            }
        }
    }

    @Test
    void readerAgreesWithReadelf() throws Exception {
        for (String platform : builtPlatforms()) readerAgreesWithReadelf(nativesDir().resolve(Path.of(platform, "libjniNativeCore.so")));
    }

    /** (readelf reads every ELF machine: the host's binutils checks the aarch64 library too) */
    private static void readerAgreesWithReadelf(Path lib) throws Exception {
        String out = readelf(lib);
        assumeTrue(out != null, "readelf is not installed: the reader is checked by the synthetic cases only");
        ElfFile elf = ElfFile.read(lib);
        assertEquals(all(out, "\\(NEEDED\\)\\s+Shared library: \\[([^\\]]*)\\]"), elf.needed(), lib.toString());
        List<String> runpath = all(out, "\\(RUNPATH\\)\\s+Library runpath: \\[([^\\]]*)\\]");
        assertEquals(runpath.isEmpty() ? List.of() : List.of(runpath.get(0).split(":", -1)), elf.runpath(), lib.toString());
        Set<String> versions = new TreeSet<>(all(out, "Name: (\\S+)\\s+Flags"));
        Set<String> ours = new TreeSet<>();
        elf.versionNeeds().forEach(n -> ours.add(n.version()));
        assertEquals(versions, ours, lib.toString());
        assertFalse(ours.isEmpty(), lib.toString());
        // every undefined symbol readelf shows with a version is attributed to that version
        Matcher m = Pattern.compile("UND (\\S+)@(\\S+) \\(\\d+\\)").matcher(out);
        int seen = 0;
        while (m.find()) {
            String sym = m.group(1), version = m.group(2);
            assertTrue(elf.versionNeeds().stream().anyMatch(n -> n.version().equals(version) && n.symbols().contains(sym)), lib + ": " + sym + "@" + version);
            seen++;
        }
        assertTrue(seen > 10, lib + ": parsed only " + seen + " versioned symbols from readelf's output");
    }

    @Test
    void everyRuleNamesWhatBreaksIt() {
        ElfFile clean = new ElfFile(ElfFile.EM_X86_64, List.of("libopenblas.so.0", "libdl.so.2", "libc.so.6", "ld-linux-x86-64.so.2"), List.of("$ORIGIN"),
                List.of(), List.of(need("libc.so.6", "GLIBC_2.2.5", "malloc"), need("libm.so.6", "GLIBC_2.15", "__expf_finite"),
                        need("libc.so.6", "GLIBC_2.17", "clock_gettime")),
                List.of("Java_dev_adjoint_internal_NativeCore_adj_1add", "JNI_OnLoad", "JNI_OnUnload"));
        assertEquals(List.of(), ElfBaseline.violations(clean));
        assertEquals("GLIBC_2.17", ElfBaseline.newestGlibc(clean));

        ElfFile bad = new ElfFile(ElfFile.EM_X86_64, List.of("libstdc++.so.6", "libgcc_s.so.1", "libc.so.6"), List.of("$ORIGIN/", "/tmp/build/native"),
                List.of("/opt/lib"),
                List.of(need("libc.so.6", "GLIBC_2.18", "__cxa_thread_atexit_impl"), need("libm.so.6", "GLIBC_2.29", "exp"),
                        need("libstdc++.so.6", "GLIBCXX_3.4.29", "_ZSt28__throw_bad_array_new_lengthv"),
                        need("libstdc++.so.6", "CXXABI_1.3", "__cxa_throw"), need("libgcc_s.so.1", "GCC_3.0", "_Unwind_Resume"),
                        need("libc.so.6", "GLIBC_PRIVATE", "_dl_x")),
                List.of("JNI_OnLoad", "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEED1Ev"));
        List<String> v = ElfBaseline.violations(bad);
        String all = String.join("\n", v);
        for (String expected : List.of("GLIBC_2.18 from libc.so.6, newer than GLIBC_2.17: [__cxa_thread_atexit_impl]", "GLIBC_2.29 from libm.so.6",
                "GLIBCXX_3.4.29 from libstdc++.so.6", "CXXABI_1.3 from libstdc++.so.6", "GCC_3.0 from libgcc_s.so.1", "GLIBC_PRIVATE",
                "NEEDED libstdc++.so.6", "NEEDED libgcc_s.so.1", "RUNPATH is [$ORIGIN/, /tmp/build/native]", "RPATH [/opt/lib]",
                "exports 1 symbols besides the JNI entry points: [_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEED1Ev]")) {
            assertTrue(all.contains(expected), "missing \"" + expected + "\" in:\n" + all);
        }
        assertEquals(11, v.size(), all);
        assertEquals("GLIBC_2.29", ElfBaseline.newestGlibc(bad));

        // an aarch64 library has its own loader; x86-64's is not allowed there, and no RUNPATH is not $ORIGIN
        ElfFile arm = new ElfFile(ElfFile.EM_AARCH64, List.of("ld-linux-aarch64.so.1", "ld-linux-x86-64.so.2"), List.of(), List.of(),
                List.of(need("libc.so.6", "GLIBC_2.17", "malloc")), List.of());
        List<String> armViolations = ElfBaseline.violations(arm);
        assertEquals(2, armViolations.size(), String.join("\n", armViolations));
        assertTrue(armViolations.get(0).startsWith("NEEDED ld-linux-x86-64.so.2 is not in the allow-list"), armViolations.get(0));
        assertTrue(armViolations.get(1).startsWith("RUNPATH is [], not exactly [$ORIGIN]"), armViolations.get(1));
    }

    private static ElfFile.VersionNeed need(String file, String version, String symbol) {
        return new ElfFile.VersionNeed(file, version, List.of(symbol));
    }

    private static List<String> all(String text, String regex) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) out.add(m.group(1));
        return out;
    }

    /** readelf's dynamic section, version needs and dynamic symbols, or null without readelf. */
    private static String readelf(Path lib) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("readelf", "-W", "-d", "-V", "--dyn-syms", lib.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return null;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
