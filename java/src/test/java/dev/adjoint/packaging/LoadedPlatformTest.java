package dev.adjoint.packaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.adjoint.Scope;
import dev.adjoint.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;

/**
 * The JVM loaded the natives of its own platform: the library file JavaCPP extracted and loaded for
 * our binding comes from {@code dev/adjoint/internal/<platform>/}. The run under qemu
 * (tests/pom.xml, linux-arm64-junit) sets {@code adjoint.expect.platform=linux-arm64}, so a suite
 * that passed there passed against the cross-built aarch64 library, not another one on the
 * classpath.
 */
class LoadedPlatformTest {
    @Test
    void theLoadedNativeLibraryIsThisPlatforms() {
        String platform = Loader.getPlatform();
        String expected = System.getProperty("adjoint.expect.platform");
        if (expected != null) assertEquals(expected, platform, "os.arch=" + System.getProperty("os.arch"));
        try (Scope scope = Scope.open()) {
            assertEquals(6.0, Tensor.ones(3).mul(2.0).sum().item(), 0.0);  // the library is loaded and computes
        }
        Map<String, String> loaded = Loader.getLoadedLibraries();
        String path = loaded.entrySet().stream().filter(e -> e.getKey().contains("jniNativeCore")).map(Map.Entry::getValue).findFirst().orElse(null);
        assertNotNull(path, "jniNativeCore is not among JavaCPP's loaded libraries " + loaded);
        Path file = Path.of(path);
        assertEquals("libjniNativeCore.so", file.getFileName().toString(), path);
        assertEquals(platform, file.getParent().getFileName().toString(), path);
        assertTrue(file.getParent().getParent().endsWith(Path.of("dev", "adjoint", "internal")), path);
    }
}
