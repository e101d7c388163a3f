package dev.adjoint.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Compares {@link TensorPrinter} with PyTorch 1.13's repr on the cases in {@code printer_cases.txt}, which
 * {@code tests/reference/gen_printer_cases.py} produces (see there for the record format).
 */
class TensorPrinterTest {
    private record Case(String name, Object data, long[] shape, String suffix, String device, String expected) {}

    private static List<Case> loadCases() throws IOException {
        List<String> lines = new ArrayList<>();
        try (InputStream in = TensorPrinterTest.class.getResourceAsStream("printer_cases.txt")) {
            if (in == null) {
                throw new IOException("resource printer_cases.txt not found");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = reader.readLine()) != null; ) {
                lines.add(line);
            }
        }
        List<Case> cases = new ArrayList<>();
        int i = 0;
        while (i < lines.size()) {
            String name = field(lines.get(i++), "case");
            String dtype = field(lines.get(i++), "dtype");
            String shapeText = field(lines.get(i++), "shape");
            String suffix = field(lines.get(i++), "suffix");
            String device = field(lines.get(i++), "device");
            String dataText = field(lines.get(i++), "data");
            int expectedLines = Integer.parseInt(field(lines.get(i++), "expected"));
            String expected = String.join("\n", lines.subList(i, i + expectedLines));
            i += expectedLines;
            long[] shape = shapeText.isEmpty() ? new long[0]
                    : Arrays.stream(shapeText.split(" ")).mapToLong(Long::parseLong).toArray();
            String[] tokens = dataText.isEmpty() ? new String[0] : dataText.split(" ");
            cases.add(new Case(name, parseData(dtype, tokens), shape, nullIfDash(suffix), nullIfDash(device),
                    expected));
        }
        return cases;
    }

    private static String field(String line, String key) {
        if (line.equals(key)) {
            return "";
        }
        if (!line.startsWith(key + " ")) {
            throw new IllegalStateException("expected '" + key + "' line, got: " + line);
        }
        return line.substring(key.length() + 1);
    }

    private static String nullIfDash(String s) {
        return s.equals("-") ? null : s;
    }

    /** Floats are stored as IEEE bit patterns so every value (NaN payloads, -0.0, denormals) round-trips. */
    private static Object parseData(String dtype, String[] tokens) {
        int n = tokens.length;
        switch (dtype) {
            case "float32": {
                float[] out = new float[n];
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(tokens[i], 16));
                }
                return out;
            }
            case "float64": {
                double[] out = new double[n];
                for (int i = 0; i < n; i++) {
                    out[i] = Double.longBitsToDouble(Long.parseUnsignedLong(tokens[i], 16));
                }
                return out;
            }
            case "int64":
                return Arrays.stream(tokens).mapToLong(Long::parseLong).toArray();
            case "bool": {
                boolean[] out = new boolean[n];
                for (int i = 0; i < n; i++) {
                    out[i] = tokens[i].equals("1");
                }
                return out;
            }
            default:
                throw new IllegalStateException("unknown dtype " + dtype);
        }
    }

    @Test
    void hasEnoughReferenceCases() throws IOException {
        assertTrue(loadCases().size() >= 60, "too few reference cases");
    }

    @TestFactory
    Stream<DynamicTest> matchesPyTorchRepr() throws IOException {
        return loadCases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () ->
                assertEquals(c.expected(), TensorPrinter.format(c.data(), c.shape(), c.suffix(), c.device()),
                        c.name())));
    }

    @Test
    void rejectsDataThatDoesNotMatchShape() {
        assertThrows(IllegalArgumentException.class,
                () -> TensorPrinter.format(new float[3], new long[] {2, 2}, null, null));
        assertThrows(IllegalArgumentException.class,
                () -> TensorPrinter.format(new int[4], new long[] {4}, null, null));
    }
}
