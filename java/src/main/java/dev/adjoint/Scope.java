package dev.adjoint;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Deterministic release of native memory: every tensor created on this thread while a scope is
 * open belongs to the innermost scope, and closing the scope releases all of them except those
 * {@linkplain #keep kept}. Kept tensors move to the enclosing scope, or, outside any scope, to
 * the garbage collector's {@link java.lang.ref.Cleaner}.
 *
 * <pre>{@code
 * Tensor result;
 * try (Scope scope = Scope.open()) {
 *   Tensor h = x.matmul(w).tanh();        // temporaries: released at the end of the block
 *   result = scope.keep(h.sum());          // survives the scope
 * }
 * Tensor y = Scope.run(() -> x.mul(x).sum());  // same, as an expression: the result is kept
 * }</pre>
 *
 * <p>NOTE: scopes are per thread and strictly nested: closing a scope that is not the innermost
 * open one throws. A tensor is owned by exactly one scope (or the Cleaner) at a time.
 */
public final class Scope implements AutoCloseable {
  private final Scope parent;
  private final Thread thread;
  private Tensor[] owned = new Tensor[16];
  private int count;
  private boolean closed;

  private Scope(Scope parent) {
    this.parent = parent;
    this.thread = Thread.currentThread();
  }

  /** Opens a scope on this thread; use with try-with-resources. */
  public static Scope open() {
    ThreadState ts = ThreadState.current();
    if (ts.hasPending) ts.drainPending();
    Scope s = new Scope(ts.scope);
    ts.scope = s;
    return s;
  }

  /** The innermost open scope of this thread, or null. */
  public static Scope current() {
    return ThreadState.current().scope;
  }

  Scope parent() {
    return parent;
  }

  /**
   * Runs {@code body} in a fresh scope and keeps what it returns (a tensor, or tensors inside
   * lists, maps and arrays); everything else created by the body is released.
   */
  public static <T> T run(Supplier<T> body) {
    try (Scope s = open()) {
      return s.keep(body.get());
    }
  }

  /**
   * Moves the tensors in {@code value} (a Tensor, or an Iterable, Map or array holding tensors,
   * nested freely, or a transform result such as {@link JvpResult}) out of this scope into the
   * enclosing one. Returns {@code value}.
   */
  public <T> T keep(T value) {
    keepAll(value);
    return value;
  }

  // An explicit stack, not recursion: a user's tree may be deep; containers seen once are not
  // walked again (a shared or cyclic structure is no error here).
  private void keepAll(Object root) {
    if (root instanceof Tensor t) {  // the common case, without the walk's allocations
      if (t.owner == this) t.moveTo(parent);
      return;
    }
    ArrayDeque<Object> todo = new ArrayDeque<>();
    Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    if (root != null) todo.push(root);
    while (!todo.isEmpty()) {
      Object v = todo.pop();
      if (v instanceof Tensor t) {
        if (t.owner == this) t.moveTo(parent);
        continue;
      }
      if (!seen.add(v)) continue;
      if (v instanceof Iterable<?> it) {
        for (Object o : it) if (o != null) todo.push(o);
      } else if (v instanceof Map<?, ?> m) {
        for (Object o : m.values()) if (o != null) todo.push(o);
      } else if (v instanceof Object[] arr) {
        for (Object o : arr) if (o != null) todo.push(o);
      } else if (v instanceof JvpResult r) {
        for (Object o : new Object[] {r.outputTree(), r.tangentTree(), r.aux()}) if (o != null) todo.push(o);
      } else if (v instanceof VjpResult r) {
        // the traced outputs and inputs hold the pullback's tape
        for (Object o : new Object[] {r.outputTree(), r.aux(), r.outLeaves, r.inLeaves}) if (o != null) todo.push(o);
      } else if (v instanceof Func.Linearized r) {
        if (r.output() != null) todo.push(r.output());
        if (r.jvpFn() instanceof Linearize.TangentMap m) {  // the recorded tangent map
          todo.push(m.leaf);
          todo.push(m.out);
        }
      }
    }
  }

  void adopt(Tensor t) {
    if (count == owned.length) owned = Arrays.copyOf(owned, count * 2);
    owned[count++] = t;
    t.owner = this;
  }

  /** Number of tensors this scope still owns (for diagnostics and tests). */
  public int ownedCount() {
    int n = 0;
    for (int i = 0; i < count; i++) if (owned[i].owner == this && !owned[i].isClosed()) n++;
    return n;
  }

  /** Releases every tensor this scope still owns. */
  @Override
  public void close() {
    if (closed) return;
    if (Thread.currentThread() != thread)
      throw new IllegalStateException("Scope.close: a scope must be closed on the thread that opened it");
    ThreadState ts = ThreadState.current();
    if (ts.scope != this)
      throw new IllegalStateException("Scope.close: scopes must be closed innermost first");
    closed = true;
    ts.scope = parent;
    releaseOwned();
    if (ts.hasPending) ts.drainPending();
  }

  /** Run for a scope its thread left open when it ended (see ThreadState): nothing else uses it now. */
  void releaseForEndedThread() {
    if (closed) return;
    closed = true;
    releaseOwned();
  }

  private void releaseOwned() {
    // One native call releases the whole scope: per-tensor JNI calls would cost as much as the ops.
    // A single tensor (a transform's one intermediate) goes without the array, whose pinning for
    // the call costs as much as the call. A tensor another thread has used goes on its own, after
    // the check that no thread is inside a call with it (ThreadState's NOTE).
    long[] handles = null;
    long first = 0;
    int n = 0;
    for (int i = 0; i < count; i++) {
      Tensor t = owned[i];
      owned[i] = null;
      if (t.owner != this) continue;
      long h = t.detachForRelease();
      if (h == 0) continue;
      if (t.isShared()) {
        ThreadState.freeUnlessUsed(t, h);
        continue;
      }
      if (n == 0) {
        first = h;
      } else {
        if (handles == null) {
          handles = new long[count];
          handles[0] = first;
        }
        handles[n] = h;
      }
      n++;
    }
    count = 0;
    if (n == 1) dev.adjoint.internal.NativeCore.adj_release(first);
    else if (n > 1) dev.adjoint.internal.NativeCore.adj_release_many(handles, n);
  }
}
