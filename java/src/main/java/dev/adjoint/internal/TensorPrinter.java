package dev.adjoint.internal;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Renders tensors exactly as PyTorch 1.13's {@code repr(tensor)} does ({@code torch/_tensor_str.py}) with the
 * default print options, so that output can be compared character for character with PyTorch's.
 */
public final class TensorPrinter {
    private static final int PRECISION = 4;
    private static final int THRESHOLD = 1000;
    private static final int EDGE_ITEMS = 3;
    private static final int LINE_WIDTH = 80;
    private static final String PREFIX = "tensor(";
    /** PyTorch prints {@code dtype=torch.float64}; we drop the prefix but still break lines where PyTorch does. */
    private static final int TORCH_DTYPE_PREFIX_LENGTH = "torch.".length();

    private final Object data;
    private final long[] shape;
    private final int[] strides;
    private final boolean summarize;
    private final Formatter formatter;

    private TensorPrinter(Object data, long[] shape, int numel) {
        this.data = data;
        this.shape = shape;
        this.strides = new int[shape.length];
        int stride = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            strides[d] = stride;
            stride *= (int) shape[d];
        }
        this.summarize = numel > THRESHOLD;
        // Like get_summarized_data: the column width and modes come from the printed elements only.
        List<Integer> printed = new ArrayList<>();
        visitPrinted(0, 0, printed::add);
        this.formatter = new Formatter(data, printed);
    }

    /**
     * Formats a tensor the way PyTorch's {@code repr(tensor)} does, e.g. {@code tensor([1.5000, 2.0000])}.
     *
     * @param flatData row-major elements: {@code float[]} (float32), {@code double[]} (float64), {@code long[]}
     *     (int64) or {@code boolean[]} (bool); its length must equal the product of {@code shape}
     * @param shape the tensor's shape; length 0 for a scalar
     * @param dtypeSuffix null when the dtype is the default one for its kind (float32, int64, bool), which PyTorch
     *     omits; otherwise the dtype name to print, e.g. {@code "float64"} gives {@code , dtype=float64}
     * @param device null for CPU, otherwise e.g. {@code "cuda:0"}, printed as {@code , device='cuda:0'}
     * @return the representation, possibly spanning several lines
     * @throws IllegalArgumentException if the data type is unsupported or does not match the shape
     */
    public static String format(Object flatData, long[] shape, String dtypeSuffix, String device) {
        if (!(flatData instanceof float[] || flatData instanceof double[]
                || flatData instanceof long[] || flatData instanceof boolean[])) {
            throw new IllegalArgumentException("unsupported data: " + (flatData == null ? null : flatData.getClass()));
        }
        long numel = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape");
            }
            numel = Math.multiplyExact(numel, d);
        }
        if (numel != Array.getLength(flatData)) {
            throw new IllegalArgumentException("data length " + Array.getLength(flatData)
                    + " does not match shape numel " + numel);
        }
        int indent = PREFIX.length();
        List<String> suffixes = new ArrayList<>();
        List<Integer> suffixWidths = new ArrayList<>();
        if (device != null) {
            addSuffix(suffixes, suffixWidths, "device='" + device + "'", 0);
        }
        String body;
        if (numel == 0) {
            // PyTorch shows the size unless it is (0,), and the dtype unless it is the default float one:
            // an empty tensor has no elements to hint that it holds integers or booleans.
            if (shape.length != 1) {
                addSuffix(suffixes, suffixWidths, "size=" + pythonTuple(shape), 0);
            }
            String dtype = dtypeSuffix != null ? dtypeSuffix
                    : flatData instanceof long[] ? "int64" : flatData instanceof boolean[] ? "bool" : null;
            if (dtype != null) {
                addSuffix(suffixes, suffixWidths, "dtype=" + dtype, TORCH_DTYPE_PREFIX_LENGTH);
            }
            body = "[]";
        } else {
            if (dtypeSuffix != null) {
                addSuffix(suffixes, suffixWidths, "dtype=" + dtypeSuffix, TORCH_DTYPE_PREFIX_LENGTH);
            }
            body = new TensorPrinter(flatData, shape.clone(), (int) numel).tensorStr(0, 0, indent);
        }
        return addSuffixes(PREFIX + body, suffixes, suffixWidths, indent);
    }

    private static void addSuffix(List<String> suffixes, List<Integer> widths, String suffix, int hiddenChars) {
        suffixes.add(suffix);
        widths.add(suffix.length() + hiddenChars);
    }

    /** _add_suffixes: each suffix goes on the current line unless that would pass the line width. */
    private static String addSuffixes(String tensorStr, List<String> suffixes, List<Integer> widths, int indent) {
        StringBuilder out = new StringBuilder(tensorStr);
        // PyTorch's own off-by-two count of the last line's length, kept for identical wrapping.
        int lastLineLen = tensorStr.length() - tensorStr.lastIndexOf('\n') + 1;
        for (int i = 0; i < suffixes.size(); i++) {
            int width = widths.get(i);
            if (lastLineLen + width + 2 > LINE_WIDTH) {
                out.append(",\n").append(" ".repeat(indent)).append(suffixes.get(i));
                lastLineLen = indent + width;
            } else {
                out.append(", ").append(suffixes.get(i));
                lastLineLen += width + 2;
            }
        }
        return out.append(')').toString();
    }

    private static String pythonTuple(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    private boolean elided(int dim) {
        return summarize && shape[dim] > 2L * EDGE_ITEMS;
    }

    /** Indices shown along {@code dim}: all of them, or the first and last EDGE_ITEMS when summarizing. */
    private int[] shownIndices(int dim) {
        int size = (int) shape[dim];
        if (!elided(dim)) {
            int[] all = new int[size];
            for (int i = 0; i < size; i++) {
                all[i] = i;
            }
            return all;
        }
        int[] edges = new int[2 * EDGE_ITEMS];
        for (int i = 0; i < EDGE_ITEMS; i++) {
            edges[i] = i;
            edges[EDGE_ITEMS + i] = size - EDGE_ITEMS + i;
        }
        return edges;
    }

    private void visitPrinted(int dim, int offset, IntConsumer sink) {
        if (dim == shape.length) {
            sink.accept(offset);
            return;
        }
        for (int i : shownIndices(dim)) {
            visitPrinted(dim + 1, offset + i * strides[dim], sink);
        }
    }

    /** _tensor_str_with_formatter for the sub-tensor starting at {@code offset} spanning dims {@code dim..}. */
    private String tensorStr(int dim, int offset, int indent) {
        int remaining = shape.length - dim;
        if (remaining == 0) {
            return formatter.format(offset);
        }
        List<String> parts = new ArrayList<>();
        int[] shown = shownIndices(dim);
        for (int k = 0; k < shown.length; k++) {
            if (elided(dim) && k == EDGE_ITEMS) {
                parts.add(remaining == 1 ? " ..." : "...");
            }
            int child = offset + shown[k] * strides[dim];
            parts.add(remaining == 1 ? formatter.format(child) : tensorStr(dim + 1, child, indent + 1));
        }
        if (remaining == 1) {
            return vectorStr(parts, indent);
        }
        // Slices of an n-d tensor are separated by n-1 newlines, so 3-D+ blocks get blank lines between them.
        return "[" + String.join("," + "\n".repeat(remaining - 1) + " ".repeat(indent + 1), parts) + "]";
    }

    /** _vector_str: a fixed number of elements per line, derived from the column width, not the actual text. */
    private String vectorStr(List<String> items, int indent) {
        int elementLength = formatter.maxWidth + 2;
        int perLine = Math.max(1, Math.floorDiv(LINE_WIDTH - indent, elementLength));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < items.size(); i += perLine) {
            lines.add(String.join(", ", items.subList(i, Math.min(items.size(), i + perLine))));
        }
        return "[" + String.join(",\n" + " ".repeat(indent + 1), lines) + "]";
    }

    /** _Formatter: picks int / fixed / scientific notation and a common column width. */
    private static final class Formatter {
        private final Object data;
        private final boolean floating;
        private boolean intMode = true;
        private boolean sciMode = false;
        private int maxWidth = 1;

        Formatter(Object data, List<Integer> indices) {
            this.data = data;
            this.floating = data instanceof float[] || data instanceof double[];
            if (!floating) {
                for (int i : indices) {
                    maxWidth = Math.max(maxWidth, plain(i).length());
                }
                return;
            }
            List<Double> values = new ArrayList<>();
            double min = Double.POSITIVE_INFINITY;
            double max = 0;
            for (int i : indices) {
                double v = value(i);
                if (Double.isFinite(v) && v != 0) {
                    values.add(v);
                    min = Math.min(min, Math.abs(v));
                    max = Math.max(max, Math.abs(v));
                    intMode &= v == Math.ceil(v);
                }
            }
            if (values.isEmpty()) {
                return;
            }
            // Integral values only switch to scientific for a wide range, not for small magnitudes.
            sciMode = max / min > 1000.0 || max > 1.0e8 || (!intMode && min < 1.0e-4);
            for (double v : values) {
                int width = sciMode ? scientific(v).length()
                        : intMode ? fixed(v, 0).length() + 1
                        : fixed(v, PRECISION).length();
                maxWidth = Math.max(maxWidth, width);
            }
        }

        private double value(int i) {
            return data instanceof float[] ? ((float[]) data)[i] : ((double[]) data)[i];
        }

        private String plain(int i) {
            if (data instanceof long[]) {
                return Long.toString(((long[]) data)[i]);
            }
            return ((boolean[]) data)[i] ? "True" : "False";
        }

        String format(int i) {
            String s;
            if (!floating) {
                s = plain(i);
            } else {
                double v = value(i);
                if (sciMode) {
                    s = scientific(v);
                } else if (intMode) {
                    // The trailing dot marks a float tensor whose values all happen to be integral.
                    s = fixed(v, 0) + (Double.isFinite(v) ? "." : "");
                } else {
                    s = fixed(v, PRECISION);
                }
            }
            return s.length() >= maxWidth ? s : " ".repeat(maxWidth - s.length()) + s;
        }
    }

    /** Python's {@code '{:.Nf}'.format(v)}: correctly rounded (half-even on the exact binary value). */
    private static String fixed(double v, int decimals) {
        if (!Double.isFinite(v)) {
            return nonFinite(v);
        }
        // Python keeps the sign of -0.0 and of negatives that round to zero; BigDecimal would drop it.
        String sign = Double.doubleToRawLongBits(v) < 0 ? "-" : "";
        return sign + new BigDecimal(Math.abs(v)).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
    }

    /** Python's {@code '{:.4e}'.format(v)}: mantissa with PRECISION decimals, exponent sign and 2+ digits. */
    private static String scientific(double v) {
        if (!Double.isFinite(v)) {
            return nonFinite(v);
        }
        String sign = Double.doubleToRawLongBits(v) < 0 ? "-" : "";
        double abs = Math.abs(v);
        if (abs == 0) {
            return sign + fixed(0.0, PRECISION) + "e+00";
        }
        BigDecimal rounded = new BigDecimal(abs).round(new MathContext(PRECISION + 1, RoundingMode.HALF_EVEN));
        // Exponent taken after rounding, so 9.99995 becomes 1.0000e+01 rather than 10.0000e+00.
        int exponent = rounded.precision() - rounded.scale() - 1;
        String mantissa = rounded.movePointLeft(exponent).setScale(PRECISION, RoundingMode.UNNECESSARY).toPlainString();
        int absExp = Math.abs(exponent);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (absExp < 10 ? "0" : "") + absExp;
    }

    private static String nonFinite(double v) {
        // Python prints NaN without a sign, whatever its sign bit.
        return Double.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
    }
}
