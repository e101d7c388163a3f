package dev.adjoint;

import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
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
 * <p>Iterative algorithms carry an iterate from step to step: {@link #loop} runs each step in a
 * scope of its own and releases each iterate once the next one has replaced it, so memory stays
 * flat however many steps run:
 *
 * <pre>{@code
 * Fn1 loss = p -> p.sub(target).pow(2.0).sum();
 * Fn1 dLoss = Func.grad(loss);
 * Tensor p = Scope.loop(1000, p0, (step, cur) -> cur.sub(dLoss.apply(cur).mul(0.1)));
 * }</pre>
 *
 * <p>NOTE: scopes are per thread and strictly nested: closing a scope that is not the innermost
 * open one throws. A tensor is owned by exactly one scope (or the Cleaner) at a time.
 */
public final class Scope implements AutoCloseable {
  private final Scope parent;
  private final long threadId;  // not the Thread: a tensor that names this scope must not keep an ended thread alive
  private static final Tensor[] NONE = {};
  private Tensor[] owned = new Tensor[16];
  private int count;
  private boolean closed;

  private Scope(Scope parent) {
    this.parent = parent;
    this.threadId = Thread.currentThread().getId();
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
   * lists, maps, arrays, records and registered pytree nodes); everything else created by the body
   * is released.
   */
  public static <T> T run(Supplier<T> body) {
    try (Scope s = open()) {
      return s.keep(body.get());
    }
  }

  /**
   * Moves the tensors in {@code value} (a Tensor, or an Iterable, Map, array, record or registered
   * pytree node holding tensors, nested freely, or a transform result such as {@link JvpResult})
   * out of this scope into the enclosing one. Returns {@code value}.
   */
  public <T> T keep(T value) {
    keepAll(value);
    return value;
  }

  private void keepAll(Object root) {
    if (closed) return;  // its tensors were released (they may still name it as owner)
    if (root instanceof Tensor t) {  // the common case, without the walk's allocations
      if (t.owner == this) t.moveTo(parent);
      return;
    }
    forEachTensor(root, t -> {
      if (t.owner == this) t.moveTo(parent);
    });
  }

  // An explicit stack, not recursion: a user's tree may be deep; containers seen once are not
  // walked again (a shared or cyclic structure is no error here).
  private static void forEachTensor(Object root, Consumer<Tensor> action) {
    ArrayDeque<Object> todo = new ArrayDeque<>();
    Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    if (root != null) todo.push(root);
    while (!todo.isEmpty()) {
      Object v = todo.pop();
      if (v instanceof Tensor t) {
        action.accept(t);
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
      } else {
        PytreeNodes.Kind k = PytreeNodes.kindOf(v);
        if (k == PytreeNodes.Kind.RECORD || k == PytreeNodes.Kind.REGISTERED)  // pytree nodes of the user's classes
          for (Object o : PytreeNodes.children(v, k)) if (o != null) todo.push(o);
      }
    }
  }

  /** One step of {@link #loop}: the next carry from the step number (0, 1, ...) and the current carry. */
  @FunctionalInterface
  public interface Step<T> {
    T apply(int step, T carry);
  }

  /**
   * Runs {@code body} {@code steps} times, each step on the carry the previous one returned,
   * starting from {@code init}, and returns the last carry: the loop of an iterative algorithm
   * (gradient descent, Newton, an ODE integrator) without a scope per step written out, and with
   * memory that stays flat. Like JAX's {@code fori_loop}.
   *
   * <ul>
   *   <li>Each step runs in a scope of its own: its temporaries are released when it returns.
   *   <li>The carry is a tensor or tensors inside lists, maps, arrays and records (an optimiser's
   *       parameters and state). The tensors of the carry a step returns are kept; those of the
   *       carry it replaced are released, unless the new carry holds them again. So at any time
   *       one iterate is alive, not one per step.
   *   <li>The tensors of {@code init} and any tensor made outside the loop are never released by
   *       it. The carry returned belongs to the caller's scope (or, outside any scope, to the
   *       garbage collector's Cleaner), as anything made there.
   *   <li>NOTE: an iterate is released once the next step has returned: a tensor of an earlier
   *       carry stored elsewhere is closed (using it throws {@link IllegalStateException}); keep
   *       what you need as a number ({@code item()}), or copy it in a scope outside the loop.
   *   <li>If {@code body} throws, the last carry's tensors made by the loop are released and the
   *       exception passes through.
   * </ul>
   *
   * <pre>{@code
   * record Params(Tensor w, Tensor velocity) {}
   * Fn1 loss = q -> q.sub(target).pow(2.0).sum();
   * Params p = Scope.loop(1000, new Params(w0, Tensor.zerosLike(w0)), (step, cur) -> {
   *   Tensor g = dLoss.apply(cur.w());
   *   Tensor v = cur.velocity().mul(0.9).add(g);              // momentum
   *   if (step % 100 == 0) System.out.println(loss.apply(cur.w()).item());
   *   return new Params(cur.w().sub(v.mul(0.01)), v);
   * });
   * }</pre>
   *
   * @throws IllegalArgumentException if {@code steps} is negative
   */
  public static <T> T loop(int steps, T init, Step<T> body) {
    if (steps < 0) throw new IllegalArgumentException("Scope.loop: steps must be >= 0, got " + steps);
    Objects.requireNonNull(body, "Scope.loop: body");
    T carry = init;
    List<Tensor> made = List.of();  // the carry's tensors that earlier steps made
    boolean finished = false;
    try {
      for (int i = 0; i < steps; i++) {
        T next;
        List<Tensor> fresh = new ArrayList<>();
        Set<Tensor> inNext = Collections.newSetFromMap(new IdentityHashMap<>());
        try (Scope s = open()) {
          next = body.apply(i, carry);
          forEachTensor(next, t -> {
            if (t.owner == s) fresh.add(t);
            inNext.add(t);
          });
          s.keep(next);
        }
        for (Tensor t : made) {
          if (inNext.contains(t)) fresh.add(t);  // carried on unchanged
          else t.close();
        }
        made = fresh;
        carry = next;
      }
      finished = true;
      return carry;
    } finally {
      if (!finished) for (Tensor t : made) t.close();
    }
  }

  void adopt(Tensor t) {
    if (count == owned.length) makeRoom();
    owned[count++] = t;
    t.owner = this;
  }

  // NOTE: a long-lived scope that many tensors pass through (kept out of inner scopes, then closed
  // or moved on: the carries of loop) would otherwise hold every one of them in `owned` until it
  // closes. When an array of COMPACT_FROM slots or more is full, the entries it no longer owns are
  // dropped first, and it doubles only if more than half remain: its size follows the tensors it
  // owns, at O(1) amortised per tensor. Order is kept. Smaller arrays just double: a transform's
  // or a loop body's scope fills 16 slots every call, and a scan there (with a write barrier per
  // moved entry) cost W1's row loop ~2% of its instructions.
  private static final int COMPACT_FROM = 64;

  private void makeRoom() {
    Tensor[] a = owned;
    int n = count;
    if (a.length >= COMPACT_FROM) {
      n = 0;
      for (int i = 0; i < count; i++) {
        Tensor t = a[i];
        if (t.owner == this) {
          if (n != i) a[n] = t;
          n++;
        }
      }
      Arrays.fill(a, n, count, null);
      count = n;
    }
    if (n > a.length / 2) owned = Arrays.copyOf(a, a.length * 2);
  }

  /** Slots of the owned-tensor array (tests: it follows the tensors owned, not all ever adopted). */
  int ownedCapacity() {
    return owned.length;
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
    if (Thread.currentThread().getId() != threadId)
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
    releaseOwnedAtomically();
  }

  private void releaseOwned() {
    // One native call releases the whole scope: per-tensor JNI calls would cost as much as the ops.
    // A single tensor (a transform's one intermediate) goes without the array, whose pinning for
    // the call costs as much as the call.
    // NOTE: handles are taken with plain writes and one fence follows for the whole scope; only
    // then may `shared` flags be read (ThreadState's NOTE): a concurrent user on another thread
    // either sees the handle gone or is seen. While no tensor anywhere was ever used from a
    // thread other than its home (ThreadState.everShared, read after the fence: the common case),
    // nothing needs the tensors again and this is one pass. A released tensor keeps this closed
    // scope as its owner (so no second pass clears it): a closed scope owns nothing (keepAll).
    Tensor[] a = owned;
    int c = count;
    owned = NONE;  // a closed tensor kept by the user must not keep the whole array alive
    count = 0;
    long[] handles = null;  // made only for a second handle: most transform scopes release one
    long first = 0;
    int n = 0;
    for (int i = 0; i < c; i++) {
      Tensor t = a[i];
      if (t.owner != this) continue;
      long h = t.takeHandle();
      if (h == 0) {  // closed already: not one of those releaseShared matches with `handles`
        t.owner = null;
        continue;
      }
      if (n == 0) {
        first = h;
      } else {
        if (handles == null) handles = new long[c];
        handles[n] = h;
      }
      n++;
    }
    if (n == 0) return;
    VarHandle.fullFence();
    if (ThreadState.everShared) releaseShared(a, c, first, handles, n);
    else releaseHandles(first, handles, n);
  }

  /** The release after the fence once some tensor was shared: each shared one after its hazard check. */
  private void releaseShared(Tensor[] a, int c, long first, long[] handles, int n) {
    int plain = 0, k = 0;
    for (int i = 0; i < c && k < n; i++) {
      Tensor t = a[i];
      if (t.owner != this) continue;
      long h = k == 0 ? first : handles[k];  // handles[k] is read before handles[plain <= k] is written
      k++;
      if (t.isShared()) {
        ThreadState.freeUnlessUsed(t, h);
        continue;
      }
      if (plain == 0) first = h;
      else handles[plain] = h;
      plain++;
    }
    releaseHandles(first, handles, plain);
  }

  /** Releases n taken handles, {@code first} and {@code handles[1..n)}, in one native call (see releaseOwned). */
  private static void releaseHandles(long first, long[] handles, int n) {
    if (n == 1) {
      dev.adjoint.internal.NativeCore.adj_release(first);
    } else if (n > 1) {
      handles[0] = first;
      dev.adjoint.internal.NativeCore.adj_release_many(handles, n);
    }
  }

  /** As {@link #releaseOwned}, when the thread has ended: closers on other threads may race, so each handle is taken atomically. */
  private void releaseOwnedAtomically() {
    for (int i = 0; i < count; i++) {
      Tensor t = owned[i];
      owned[i] = null;
      if (t.owner != this) continue;
      long h = t.detachAtomically();  // a full barrier before the `shared` read in freeUnlessUsed
      if (h != 0) ThreadState.freeUnlessUsed(t, h);
    }
    count = 0;
  }
}
