package dev.adjoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrowsExactly;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad input never crashes the JVM: every misuse gives a typed exception whose message starts with the op's
 * name and names the offending shapes, dtypes, dims or values, and the thread carries on normally afterwards
 * (the native error state is not sticky).
 */
class ErrorHandlingTest {
    private Scope scope;

    @BeforeEach
    void openScope() {
        scope = Scope.open();
    }

    @AfterEach
    void closeScope() {
        scope.close();
    }

    /**
     * Runs {@code body}, which must throw exactly {@code type} with a message that starts with "{@code op}: "
     * and contains every fragment; for AdjointArgumentExceptions {@code op()} must be {@code op} as well.
     * Then checks that valid ops still work on this thread.
     */
    private static <T extends Throwable> T fails(Class<T> type, String op, Executable body, String... fragments) {
        T e = assertThrowsExactly(type, body, () -> op + " should throw " + type.getSimpleName());
        String msg = e.getMessage();
        assertTrue(msg != null && msg.startsWith(op + ": "), () -> "message does not start with '" + op + ": ': " + msg);
        for (String f : fragments) {
            assertTrue(msg.contains(f), () -> "message lacks '" + f + "': " + msg);
        }
        if (e instanceof AdjointArgumentException a) {
            assertEquals(op, a.op(), () -> "op() of: " + msg);
        }
        assertStillWorks();
        return e;
    }

    /** A valid computation on this thread after an error: no error state may leak into it. */
    private static void assertStillWorks() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.of(1f, 2f, 3f);
            Tensor b = Tensor.of(new float[][] {{1f}, {2f}});
            assertArrayEquals(new float[] {2f, 3f, 4f, 3f, 4f, 5f}, a.add(b).toFloatArray());
            assertEquals(14.0, a.matmul(a).item(), 0.0);
            assertArrayEquals(new long[] {2, 3}, a.add(b).shape());
        }
    }

    private static Tensor f32(long... shape) {
        return Tensor.zeros(DType.FLOAT32, shape);
    }

    private static Tensor f64(long... shape) {
        return Tensor.zeros(DType.FLOAT64, shape);
    }

    private static Tensor i64(long... shape) {
        return Tensor.zeros(DType.INT64, shape);
    }

    private static Tensor bool(long... shape) {
        return Tensor.zeros(DType.BOOL, shape);
    }

    // ------------------------------------------------------------------ shapes

    @Test
    void binaryOpsRejectShapesThatDoNotBroadcast() {
        Tensor a = f32(3), b = f32(2);
        List<String> names = List.of("add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge");
        List<Function<Tensor, Tensor>> ops = List.of(a::add, a::sub, a::mul, a::div, a::pow, a::eq, a::ne, a::lt, a::le,
                a::gt, a::ge);
        for (int i = 0; i < ops.size(); i++) {
            Function<Tensor, Tensor> op = ops.get(i);
            fails(ShapeMismatchException.class, names.get(i), () -> op.apply(b), "[3]", "[2]", "broadcast");
        }
        fails(ShapeMismatchException.class, "add", () -> f64(2, 3).add(f64(3, 2)), "[2, 3]", "[3, 2]");
        fails(ShapeMismatchException.class, "mul", () -> f32(4, 1, 3).mul(f32(2, 5, 1)), "[4, 1, 3]", "[2, 5, 1]");
    }

    @Test
    void matmulRejectsInnerSizeMismatch() {
        fails(ShapeMismatchException.class, "matmul", () -> f32(2, 3).matmul(f32(4, 5)), "[2, 3]", "[4, 5]", "3 != 4");
        fails(ShapeMismatchException.class, "matmul", () -> f32(3).matmul(f32(2)), "[3]", "[2]");
        fails(ShapeMismatchException.class, "matmul", () -> f32(3).matmul(f32(2, 5)), "[3]", "[2, 5]");
        fails(ShapeMismatchException.class, "matmul", () -> f32(2, 3).matmul(f32(4)), "[2, 3]", "[4]");
        fails(ShapeMismatchException.class, "matmul", () -> f64(2, 3, 4).matmul(f64(3, 4, 5)), "[2, 3, 4]", "[3, 4, 5]");
        fails(ShapeMismatchException.class, "matmul", () -> Tensor.scalar(1).matmul(f32(3)), "[]", "[3]");
    }

    @Test
    void linearRejectsBadWeightAndBias() {
        fails(ShapeMismatchException.class, "linear", () -> f32(2, 3).linear(f32(4, 5), null), "[2, 3]", "[4, 5]");
        fails(ShapeMismatchException.class, "linear", () -> f32(2, 3).linear(f32(4, 3), f32(5)), "[5]", "[2, 4]");
        fails(ShapeMismatchException.class, "linear", () -> f32(2, 3).linear(f32(2, 4, 3), null), "[2, 4, 3]");
        fails(ShapeMismatchException.class, "linear", () -> Tensor.scalar(1).linear(f32(4, 3), null), "[]");
        fails(DTypeMismatchException.class, "linear", () -> f32(2, 3).linear(f64(4, 3), null), "float32", "float64");
    }

    @Test
    void catAndStackRejectMismatchedShapes() {
        fails(ShapeMismatchException.class, "cat", () -> Tensor.cat(List.of(f32(2, 3), f32(2, 4)), 0), "[2, 3]", "[2, 4]");
        fails(ShapeMismatchException.class, "cat", () -> Tensor.cat(List.of(f32(2, 3), f32(2, 3, 1)), 0), "[2, 3]", "[2, 3, 1]");
        fails(ShapeMismatchException.class, "cat", () -> Tensor.cat(List.of(Tensor.scalar(1), Tensor.scalar(2)), 0), "zero-dimensional");
        fails(ShapeMismatchException.class, "stack", () -> Tensor.stack(List.of(f32(2, 3), f32(3, 2)), 0), "[2, 3]", "[3, 2]");
        fails(AdjointArgumentException.class, "cat", () -> Tensor.cat(List.of(), 0), "empty");
        fails(AdjointArgumentException.class, "stack", () -> Tensor.stack(List.of(), 0), "empty");
    }

    @Test
    void whereRejectsShapesThatDoNotBroadcast() {
        fails(ShapeMismatchException.class, "where", () -> Tensor.where(bool(3), f32(2), f32(2)), "[3]", "[2]");
        fails(ShapeMismatchException.class, "where", () -> Tensor.where(bool(2), f32(2), f32(3)), "[2]", "[3]");
    }

    @Test
    void reshapeAndViewRejectWrongSizesAndLayouts() {
        fails(ShapeMismatchException.class, "reshape", () -> f32(2, 3).reshape(4, 2), "[4, 2]", "[2, 3]", "6 elements");
        fails(ShapeMismatchException.class, "reshape", () -> f32(2, 3).reshape(-1, 4), "[-1, 4]", "[2, 3]");
        fails(ShapeMismatchException.class, "reshape", () -> f32(0, 3).reshape(-1, 0), "[-1, 0]", "[0, 3]");
        fails(AdjointArgumentException.class, "reshape", () -> f32(2, 3).reshape(-1, -1), "only one dimension can be -1");
        fails(ShapeMismatchException.class, "view", () -> f32(2, 3).view(5), "[5]", "[2, 3]");
        fails(ShapeMismatchException.class, "view", () -> f32(2, 3).t().view(6), "[6]", "[3, 2]", "reshape");
        fails(ShapeMismatchException.class, "view", () -> f32(4, 5).slice(1, 0, 5, 2).view(12), "[12]", "[4, 3]");
    }

    @Test
    void expandRejectsIncompatibleTargets() {
        fails(ShapeMismatchException.class, "expand", () -> f32(3).expand(2, 4), "[3]", "[2, 4]");
        fails(ShapeMismatchException.class, "expand", () -> f32(2, 3).expand(3), "[2, 3]", "[3]");
        fails(AdjointArgumentException.class, "expand", () -> f32(3).expand(-1, 3), "[-1, 3]");
        fails(ShapeMismatchException.class, "expand", () -> f32(1, 3).expand(-2, 3), "[1, 3]", "[-2, 3]");
    }

    @Test
    void tAndItemRejectBadRanks() {
        fails(ShapeMismatchException.class, "t", () -> f32(2, 3, 4).t(), "[2, 3, 4]");
        fails(ShapeMismatchException.class, "item", () -> f32(3).item(), "[3]");
        fails(ShapeMismatchException.class, "item", () -> i64(2, 2).itemLong(), "[2, 2]");
        fails(ShapeMismatchException.class, "item", () -> f32(0).item(), "[0]");
    }

    // ------------------------------------------------------------------ dims

    @Test
    void reductionsRejectBadDims() {
        Tensor x = f32(2, 3);
        fails(InvalidIndexException.class, "sum", () -> x.sum(2), "dim 2", "rank 2");
        fails(InvalidIndexException.class, "sum", () -> x.sum(-3), "dim -3", "rank 2");
        fails(InvalidIndexException.class, "mean", () -> x.mean(2), "dim 2", "rank 2");
        fails(InvalidIndexException.class, "amax", () -> x.amax(5, true), "dim 5", "rank 2");
        fails(InvalidIndexException.class, "logsumexp", () -> x.logsumexp(-4), "dim -4", "rank 2");
        fails(InvalidIndexException.class, "sum", () -> Tensor.scalar(1).sum(1), "dim 1", "rank 0");
        fails(AdjointArgumentException.class, "sum", () -> x.sum(new int[] {0, -2}, false), "more than once", "[0, -2]");
        fails(AdjointArgumentException.class, "mean", () -> x.mean(new int[] {1, 1}, false), "more than once", "[1, 1]");
        fails(AdjointArgumentException.class, "amax", () -> x.amax(new int[] {-1, 1}, true), "more than once", "[-1, 1]");
        fails(AdjointArgumentException.class, "logsumexp", () -> x.logsumexp(new int[] {0, 0}, false), "more than once", "[0, 0]");
        fails(AdjointArgumentException.class, "amax", () -> f32(2, 0).amax(1), "size 0", "[2, 0]");
    }

    @Test
    void softmaxRejectsBadDims() {
        fails(InvalidIndexException.class, "softmax", () -> f32(2, 3).softmax(2), "dim 2", "rank 2");
        fails(InvalidIndexException.class, "log_softmax", () -> f32(2, 3).logSoftmax(-3), "dim -3", "rank 2");
    }

    @Test
    void viewOpsRejectBadDims() {
        Tensor x = f32(2, 3);
        fails(InvalidIndexException.class, "transpose", () -> x.transpose(0, 2), "dim 2", "rank 2");
        fails(InvalidIndexException.class, "transpose", () -> x.transpose(-3, 0), "dim -3", "rank 2");
        fails(InvalidIndexException.class, "movedim", () -> x.movedim(2, 0), "dim 2", "rank 2");
        fails(InvalidIndexException.class, "movedim", () -> x.movedim(0, -3), "dim -3", "rank 2");
        fails(InvalidIndexException.class, "slice", () -> x.slice(2, 0, 1), "dim 2", "rank 2");
        fails(InvalidIndexException.class, "slice", () -> Tensor.scalar(1).slice(0, 0, 1), "0-d");
        fails(AdjointArgumentException.class, "slice", () -> x.slice(1, 0, 3, 0), "step", "0");
        fails(AdjointArgumentException.class, "slice", () -> x.slice(1, 3, 0, -1), "step", "-1");
        fails(InvalidIndexException.class, "select", () -> x.select(-3, 0), "dim -3", "rank 2");
        fails(InvalidIndexException.class, "select", () -> Tensor.scalar(1).select(0, 0), "0-d");
        fails(InvalidIndexException.class, "squeeze", () -> x.squeeze(2), "dim 2", "rank 2");
        fails(InvalidIndexException.class, "unsqueeze", () -> x.unsqueeze(3), "dim 3", "rank 3");
        fails(InvalidIndexException.class, "unsqueeze", () -> x.unsqueeze(-4), "dim -4", "rank 3");
        fails(InvalidIndexException.class, "index_select", () -> x.indexSelect(2, Tensor.of(0L)), "dim 2", "rank 2");
        fails(InvalidIndexException.class, "cat", () -> Tensor.cat(List.of(x, x), 2), "dim 2", "rank 2");
        fails(InvalidIndexException.class, "stack", () -> Tensor.stack(List.of(x, x), 3), "dim 3", "rank 3");
        fails(InvalidIndexException.class, "stack", () -> Tensor.stack(List.of(x, x), -4), "dim -4", "rank 3");
        fails(InvalidIndexException.class, "size", () -> x.size(2), "dim 2", "rank 2");
    }

    @Test
    void permuteRejectsBadPermutations() {
        Tensor x = f32(2, 3, 4);
        fails(InvalidIndexException.class, "permute", () -> x.permute(0, 1, 3), "dim 3", "rank 3");
        fails(AdjointArgumentException.class, "permute", () -> x.permute(0, 1, 1), "repeated", "[0, 1, 1]");
        fails(AdjointArgumentException.class, "permute", () -> x.permute(0, -1, 2), "repeated", "[0, -1, 2]");
        fails(AdjointArgumentException.class, "permute", () -> x.permute(1, 0), "[1, 0]", "[2, 3, 4]");
    }

    @Test
    void rankAboveTheMaximumIsUnsupported() {
        long[] shape = new long[16];
        java.util.Arrays.fill(shape, 1);
        Tensor x = f32(shape);
        fails(UnsupportedOperationException.class, "unsqueeze", () -> x.unsqueeze(0), "16");
        fails(UnsupportedOperationException.class, "stack", () -> Tensor.stack(List.of(x, x), 0), "16");
    }

    // ------------------------------------------------------------------ dtypes

    @Test
    void opsThatDoNotPromoteRejectMixedDtypes() {
        // binary elementwise ops and where promote like torch (PromotionTest); these do not, as in torch
        Tensor a = f32(3), b = f64(3);
        fails(DTypeMismatchException.class, "sub", () -> a.sub(bool(3)), "bool", "float32 tensor [3]");
        fails(DTypeMismatchException.class, "sub", () -> bool(3).rsub(2.0), "bool");
        fails(DTypeMismatchException.class, "matmul", () -> f32(2, 3).matmul(f64(3, 2)), "float32", "float64");
        fails(DTypeMismatchException.class, "matmul", () -> f32(3).matmul(f64(3)), "float32", "float64");
        fails(DTypeMismatchException.class, "linear", () -> f32(2, 3).linear(f32(4, 3), f64(4)), "float32", "float64");
        fails(DTypeMismatchException.class, "where", () -> Tensor.where(a, a, a), "bool", "float32");
        fails(DTypeMismatchException.class, "cat", () -> Tensor.cat(List.of(a, b), 0), "float32", "float64");
        fails(DTypeMismatchException.class, "stack", () -> Tensor.stack(List.of(a, b), 0), "float32", "float64");
    }

    @Test
    void floatOnlyOpsRejectInt64() {
        Tensor x = i64(3);
        fails(DTypeMismatchException.class, "exp", x::exp, "int64", "[3]");
        fails(DTypeMismatchException.class, "log", x::log, "int64", "[3]");
        fails(DTypeMismatchException.class, "sqrt", x::sqrt, "int64");
        fails(DTypeMismatchException.class, "sigmoid", x::sigmoid, "int64");
        // (true division and powers of integers are defined: PromotionTest)
        fails(DTypeMismatchException.class, "mean", () -> x.mean(), "int64", "[3]");
        fails(DTypeMismatchException.class, "mean", () -> x.mean(0), "int64");
        fails(DTypeMismatchException.class, "logsumexp", () -> x.logsumexp(), "int64");
        fails(DTypeMismatchException.class, "softmax", () -> x.softmax(0), "int64", "[3]");
        fails(DTypeMismatchException.class, "log_softmax", () -> x.logSoftmax(0), "int64");
        fails(DTypeMismatchException.class, "arange", () -> Tensor.arange(0, 3, 1, DType.BOOL), "bool");
        fails(DTypeMismatchException.class, "randn", () -> Tensor.randn(DType.INT64, 2), "int64");
    }

    @Test
    void boolArithmeticIsRejected() {
        Tensor m = bool(2);
        // allowed like torch: bool + bool (or), bool * bool (and); a bool with an int gives int64
        fails(DTypeMismatchException.class, "sub", () -> m.sub(m), "bool");
        fails(DTypeMismatchException.class, "sub", () -> m.sub(1), "bool");
        fails(DTypeMismatchException.class, "pow", () -> m.pow(m), "bool");
        fails(DTypeMismatchException.class, "neg", m::neg, "bool");
        fails(DTypeMismatchException.class, "abs", m::abs, "bool");
        fails(DTypeMismatchException.class, "exp", m::exp, "bool");
        fails(DTypeMismatchException.class, "amax", m::amax, "bool");
        fails(DTypeMismatchException.class, "matmul", () -> bool(2, 2).matmul(bool(2, 2)), "bool");
        // allowed: comparisons, where and sum (which counts, giving int64 like torch)
        assertEquals(DType.INT64, Tensor.of(true, false, true).sum().dtype());
        assertEquals(2L, Tensor.of(true, false, true).sum().itemLong());
    }

    // ------------------------------------------------------------------ indices

    @Test
    void indicesOutOfRangeAreRejected() {
        Tensor x = f32(3, 4);
        fails(InvalidIndexException.class, "select", () -> x.select(0, 3), "index 3", "size 3", "[3, 4]");
        fails(InvalidIndexException.class, "select", () -> x.select(1, -5), "index -5", "size 4", "[3, 4]");
        fails(InvalidIndexException.class, "select", () -> x.get(7), "index 7", "[3, 4]");
        fails(InvalidIndexException.class, "index_select", () -> x.indexSelect(0, Tensor.of(0L, 3L)), "index 3", "size 3", "[3, 4]");
        fails(InvalidIndexException.class, "index_select", () -> x.indexSelect(1, Tensor.of(-1L)), "index -1", "[3, 4]");
        fails(DTypeMismatchException.class, "index_select", () -> x.indexSelect(0, Tensor.of(0f, 1f)), "int64", "float32");
        fails(DTypeMismatchException.class, "index_select", () -> x.indexSelect(0, Tensor.of(true)), "bool");
        fails(ShapeMismatchException.class, "index_select", () -> x.indexSelect(0, i64(2, 1)), "[2, 1]");
        fails(InvalidIndexException.class, "index_select", () -> Tensor.scalar(1).indexSelect(0, Tensor.of(0L)), "0-d");
    }

    // ------------------------------------------------------------------ creation

    @Test
    void negativeSizesAreRejected() {
        fails(AdjointArgumentException.class, "zeros", () -> Tensor.zeros(2, -1), "negative size -1", "[2, -1]");
        fails(AdjointArgumentException.class, "ones", () -> Tensor.ones(DType.INT64, -3), "negative size -3", "[-3]");
        fails(AdjointArgumentException.class, "full", () -> Tensor.full(1.0, -2, 2), "negative size -2", "[-2, 2]");
        fails(AdjointArgumentException.class, "randn", () -> Tensor.randn(3, -4), "negative size -4", "[3, -4]");
        fails(AdjointArgumentException.class, "rand", () -> Tensor.rand(-1), "negative size -1", "[-1]");
        fails(AdjointArgumentException.class, "reshape", () -> f32(6).reshape(-2, -3), "-2", "[-2, -3]");
        fails(AdjointArgumentException.class, "view", () -> f32(6).view(3, -2), "-2", "[3, -2]");
        fails(AdjointArgumentException.class, "fromArray", () -> Tensor.fromArray(new float[0], 0, -1), "negative size -1", "[0, -1]");
        fails(AdjointArgumentException.class, "fromArray", () -> Tensor.fromArray(new double[2], -2), "negative size -2");
        fails(AdjointArgumentException.class, "eye", () -> Tensor.eye(-1), "n=-1");
        fails(AdjointArgumentException.class, "eye", () -> Tensor.eye(2, -3, DType.FLOAT32), "m=-3");
    }

    @Test
    void fromArrayRejectsWrongLengthAndRaggedRows() {
        fails(ShapeMismatchException.class, "fromArray", () -> Tensor.fromArray(new float[5], 2, 3), "5 elements", "[2, 3]");
        fails(ShapeMismatchException.class, "fromArray", () -> Tensor.fromArray(new double[7], 2, 3), "7 elements", "[2, 3]");
        fails(ShapeMismatchException.class, "fromArray", () -> Tensor.fromArray(new long[2]), "2 elements", "[]");
        fails(ShapeMismatchException.class, "fromArray", () -> Tensor.fromArray(new float[1], 1L << 40, 1L << 40), "[1099511627776, 1099511627776]");
        fails(ShapeMismatchException.class, "of", () -> Tensor.of(new float[][] {{1, 2, 3}, {4, 5}}), "row 1", "length 2", "expected 3");
        fails(ShapeMismatchException.class, "of", () -> Tensor.of(new double[][] {{1}, {2, 3}}), "row 1", "length 2", "expected 1");
        fails(ShapeMismatchException.class, "of", () -> Tensor.of(new float[][][] {{{1, 2}}, {{1, 2}, {3, 4}}}), "length 2", "expected 1");
    }

    @Test
    void arangeRejectsBadSteps() {
        fails(AdjointArgumentException.class, "arange", () -> Tensor.arange(0, 5, 0, DType.FLOAT32), "step", "nonzero");
        fails(AdjointArgumentException.class, "arange", () -> Tensor.arange(0, 5, -1, DType.FLOAT32), "start=0", "end=5", "step=-1");
        fails(AdjointArgumentException.class, "arange", () -> Tensor.arange(5, 0, 1, DType.INT64), "start=5", "end=0", "step=1");
        fails(AdjointArgumentException.class, "arange", () -> Tensor.arange(0, Double.POSITIVE_INFINITY, 1, DType.FLOAT64), "inf");
        fails(AdjointArgumentException.class, "arange", () -> Tensor.arange(-1), "end=-1");
    }

    @Test
    void hugeAllocationsThrowOutOfMemory() {
        long big = 1L << 40;
        // more elements than a long can count: no such shape (ShapeOverflowTest covers every op)
        fails(AdjointArgumentException.class, "full", () -> Tensor.zeros(big, big), "[1099511627776, 1099511627776]", "more elements than int64");
        fails(AdjointArgumentException.class, "full", () -> Tensor.full(1, DType.FLOAT64, big, big), "[1099511627776, 1099511627776]");
        fails(AdjointArgumentException.class, "randn", () -> Tensor.randn(big, big), "[1099511627776, 1099511627776]");
        fails(AdjointArgumentException.class, "expand", () -> f32(1, 1).expand(big, big), "[1099511627776, 1099511627776]");
        // zeros is full(0) in the core, which is what allocates
        fails(NativeOutOfMemoryException.class, "full", () -> Tensor.zeros(1L << 36), "274877906944 bytes");
        fails(NativeOutOfMemoryException.class, "randn", () -> Tensor.randn(1L << 36), "274877906944 bytes");
        // ops that allocate a result derived from their inputs
        Tensor wide = f32(1).expand(1L << 36);
        fails(NativeOutOfMemoryException.class, "contiguous", wide::contiguous, "274877906944 bytes");
        fails(NativeOutOfMemoryException.class, "exp", wide::exp, "274877906944 bytes");
        // a view may be that large; a result of its shape cannot (2^62 floats: more bytes than a long counts)
        Tensor huge = f32(1, 1).expand(1L << 31, 1L << 31);
        fails(NativeOutOfMemoryException.class, "add", () -> huge.add(1), "[2147483648, 2147483648]", "too large");
    }

    // ------------------------------------------------------------------ closed tensors

    @Test
    void closedTensorsThrowIllegalState() {
        Tensor dead = Tensor.of(1f, 2f);
        Tensor live = Tensor.of(3f, 4f);
        dead.close();
        assertTrue(dead.isClosed());
        assertDoesNotThrow(dead::close, "double close must be a no-op");
        List<Executable> uses = List.of(dead::exp, () -> dead.add(1), () -> dead.sum(), dead::toFloatArray, dead::item,
                () -> dead.reshape(2), () -> dead.matmul(live), () -> live.add(dead), () -> live.matmul(dead),
                () -> Tensor.where(Tensor.of(true, false), live, dead), () -> Tensor.cat(List.of(live, dead), 0),
                () -> Tensor.stack(List.of(dead), 0), () -> live.indexSelect(0, dead), () -> live.linear(Tensor.of(1f, 1f), dead),
                () -> Tensor.zerosLike(dead), dead::contiguous);
        for (Executable use : uses) {
            IllegalStateException e = assertThrowsExactly(IllegalStateException.class, use);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertStillWorks();
        }
        assertEquals("tensor(<closed>)", dead.toString());
        assertArrayEquals(new float[] {6f, 8f}, live.add(live).toFloatArray());
    }

    @Test
    void aTensorClosedByItsScopeIsClosed() {
        Tensor escaped;
        try (Scope s = Scope.open()) {
            escaped = Tensor.of(1.0, 2.0);
        }
        assertTrue(escaped.isClosed());
        IllegalStateException e = assertThrowsExactly(IllegalStateException.class, escaped::neg);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    // ------------------------------------------------------------------ no sticky state

    @Test
    void errorsDoNotLeakIntoLaterCallsOrOtherThreads() throws Exception {
        for (int i = 0; i < 100; i++) {
            fails(ShapeMismatchException.class, "add", () -> f32(3).add(f32(2)), "[3]", "[2]");
            fails(InvalidIndexException.class, "select", () -> f32(3).select(0, 9), "index 9");
        }
        // an error pending on one thread does not show on another
        AtomicReference<Throwable> other = new AtomicReference<>();
        Thread t = new Thread(() -> other.set(assertThrowsExactly(DTypeMismatchException.class, () -> f32(2).matmul(f64(2)))));
        t.start();
        t.join();
        assertTrue(other.get() instanceof DTypeMismatchException, "the other thread got " + other.get());
        assertStillWorks();
        // the message of a later error is its own, not a leftover
        Exception e = assertThrowsExactly(ShapeMismatchException.class, () -> f32(2, 3).matmul(f32(5, 7)));
        assertTrue(e.getMessage().contains("[5, 7]") && !e.getMessage().contains("index 9"), e.getMessage());
    }

    @Test
    void allKindsAreIllegalArgumentExceptions() {
        assertTrue(IllegalArgumentException.class.isAssignableFrom(AdjointArgumentException.class));
        for (Class<?> c : List.of(ShapeMismatchException.class, DTypeMismatchException.class, InvalidIndexException.class)) {
            assertTrue(AdjointArgumentException.class.isAssignableFrom(c), c.getName());
        }
    }
}
