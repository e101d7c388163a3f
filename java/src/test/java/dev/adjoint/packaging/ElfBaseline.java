package dev.adjoint.packaging;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a shipped native library may ask of the system it loads on (issue 15): the Linux servers
 * Java runs on, back to glibc 2.17 (RHEL 7, manylinux2014).
 *
 * <p>NOTE: the rules, each one a reason a user's JVM could fail to load the library or load the
 * wrong code:
 * <ul>
 *   <li>symbol versions: {@code GLIBC_x.y} up to {@link #MAX_GLIBC}, nothing else; a GLIBCXX_,
 *       CXXABI_ or GCC_ version means a dependency on the system's libstdc++/libgcc_s, which is
 *       linked statically instead;
 *   <li>NEEDED: glibc's own libraries and libopenblas.so.0 (found at run time because JavaCPP has
 *       loaded the OpenBLAS preset's copy first, whose SONAME it is);
 *   <li>RUNPATH exactly {@code $ORIGIN}, no RPATH: an absolute entry (a build folder) is a place
 *       where a planted library would be loaded;
 *   <li>exported: only the JNI entry points, so the statically linked C++ runtime and the core can
 *       neither interpose nor be interposed by other libraries in the same JVM.
 * </ul>
 */
final class ElfBaseline {
    /** The newest glibc symbol version allowed, as {major, minor}. */
    static final int[] MAX_GLIBC = {2, 17};

    private static final Pattern GLIBC = Pattern.compile("GLIBC_(\\d+)\\.(\\d+)(?:\\.(\\d+))?");
    private static final Pattern EXPORT = Pattern.compile("Java_.*|JNI_OnLoad|JNI_OnUnload");

    private ElfBaseline() {}

    static Set<String> allowedNeeded(int machine) {
        String loader = machine == ElfFile.EM_AARCH64 ? "ld-linux-aarch64.so.1" : "ld-linux-x86-64.so.2";
        return Set.of("libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", loader, "libopenblas.so.0");
    }

    /** Every rule the library breaks, one line each naming what breaks it; empty when it loads everywhere. */
    static List<String> violations(ElfFile elf) {
        List<String> out = new ArrayList<>();
        for (ElfFile.VersionNeed need : elf.versionNeeds()) {
            int[] v = glibcVersion(need.version());
            if (v == null) {
                out.add("needs " + need.version() + " from " + need.file() + " (only GLIBC_ versions are allowed): " + need.symbols());
            } else if (compare(v, MAX_GLIBC) > 0) {
                out.add("needs " + need.version() + " from " + need.file() + ", newer than GLIBC_" + MAX_GLIBC[0] + "." + MAX_GLIBC[1]
                        + ": " + need.symbols());
            }
        }
        Set<String> allowed = allowedNeeded(elf.machine());
        for (String lib : elf.needed()) {
            if (!allowed.contains(lib)) out.add("NEEDED " + lib + " is not in the allow-list " + allowed);
        }
        if (!elf.runpath().equals(List.of("$ORIGIN"))) out.add("RUNPATH is " + elf.runpath() + ", not exactly [$ORIGIN]");
        if (!elf.rpath().isEmpty()) out.add("RPATH " + elf.rpath() + " is set (only a RUNPATH of $ORIGIN is allowed)");
        List<String> extra = elf.exported().stream().filter(s -> !EXPORT.matcher(s).matches()).toList();
        if (!extra.isEmpty()) {
            out.add("exports " + extra.size() + " symbols besides the JNI entry points: " + extra.subList(0, Math.min(10, extra.size()))
                    + (extra.size() > 10 ? " ..." : ""));
        }
        return out;
    }

    /** The newest GLIBC_ version among the library's needs, e.g. "GLIBC_2.16". */
    static String newestGlibc(ElfFile elf) {
        String best = null;
        int[] bestV = null;
        for (ElfFile.VersionNeed need : elf.versionNeeds()) {
            int[] v = glibcVersion(need.version());
            if (v != null && (bestV == null || compare(v, bestV) > 0)) {
                best = need.version();
                bestV = v;
            }
        }
        return best;
    }

    /** {major, minor, patch} of "GLIBC_2.2.5", or null for any other version name. */
    static int[] glibcVersion(String name) {
        Matcher m = GLIBC.matcher(name);
        if (!m.matches()) return null;
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), m.group(3) == null ? 0 : Integer.parseInt(m.group(3))};
    }

    private static int compare(int[] a, int[] b) {
        for (int i = 0; i < Math.max(a.length, b.length); i++) {
            int x = i < a.length ? a[i] : 0, y = i < b.length ? b[i] : 0;
            if (x != y) return Integer.compare(x, y);
        }
        return 0;
    }
}
