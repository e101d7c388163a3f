package dev.adjoint;

import dev.adjoint.internal.NativeCore;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the library keeps per Java thread: the innermost open {@link Scope}, the tensors this thread
 * is using from other threads (hazards), and the releases other threads have left to it.
 *
 * <p>NOTE: how a native tensor is never freed while a thread is inside a native call with it.
 * <ul>
 *   <li>A tensor belongs to the thread that created it (its home). Only the home thread, or code
 *       that knows no thread can be using the tensor, frees it: the home thread's own calls are
 *       sequential, so they need no bookkeeping at all (the hot path: no atomic instruction).
 *   <li>Another thread using the tensor first marks it shared, stores it in a hazard slot of its
 *       own, issues a full fence, then reads the handle ({@link Tensor#h}); it clears its hazards
 *       when the native call has returned ({@link #endCall}).
 *   <li>While the home thread lives, only it takes the handle: {@link Tensor#close} and a closing
 *       {@link Scope} clear it with plain writes, then issue one full fence (per tensor closed, or
 *       per scope for all its tensors: the atomic swap per tensor this replaced cost W1's row loop
 *       5%), then free at once unless the tensor is shared and some thread's hazard names it: then
 *       the handle is retired, and freed by the first {@link #endCall} that finds it unprotected.
 *   <li>A closer on another thread only marks the tensor close-requested (one such closer wins a
 *       compare-and-set; every later use throws) and hands it to the home thread's pending list,
 *       drained when that thread next makes a tensor or closes a scope. Once the home thread has
 *       ended, closers take the handle with an atomic swap, so exactly one of them frees it.
 * </ul>
 * The handle's clearing and the hazard store are each followed by a full fence, so of a closer
 * and a user racing on one tensor, either the user sees the handle gone (IllegalStateException)
 * or the closer sees the hazard (the free waits): never a use after free, never a wrong value.
 *
 * <p>NOTE: internal code never holds a raw handle across the making of a tensor: making one may
 * drain the pending list, which frees tensors other threads closed.
 *
 * <p>NOTE: a native call may call back into Java (custom rules, {@link CustomRules}), whose own
 * native calls happen inside it. The callback is a nested frame ({@link #enterCallback}): its
 * calls end only their own hazards (those of the calls around it stay, below hazardBase), and
 * nothing is drained from the pending list until the outermost call has returned, since the calls
 * around it may be using a handle another thread has closed meanwhile.
 */
final class ThreadState {
  private static final Cleaner CLEANER = Cleaner.create();
  /** Every live thread's state: hazards to scan, and the ones of ended threads to clean up. */
  private static final Set<ThreadState> ALL = ConcurrentHashMap.newKeySet();
  /** The states whose hazards closers scan: threads that ever used another thread's tensor. */
  private static final Set<ThreadState> SCANNED = ConcurrentHashMap.newKeySet();
  /** Handles whose tensors were closed while some thread's hazard named them. */
  private static final ConcurrentLinkedQueue<Retired> RETIRED = new ConcurrentLinkedQueue<>();
  private static final AtomicInteger RETIRED_COUNT = new AtomicInteger();
  private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Tensor[].class);

  private static final ThreadLocal<ThreadState> LOCAL = ThreadLocal.withInitial(ThreadState::create);
  // NOTE: looked up for every tensor an op returns; ThreadLocal's get (a hash probe) showed in
  // small workloads. A one-entry cache of the last thread's state answers with two loads and a
  // compare. Read racily on purpose: a state's thread id is final, so a state read from it is
  // either this thread's or another's (then the ThreadLocal answers and the cache is refreshed).
  private static ThreadState last;

  final long threadId;
  private final WeakReference<Thread> thread;  // weak: the Cleaner below waits for the Thread to go
  /** The innermost open scope of this thread (written only by this thread while it lives). */
  Scope scope;
  /** Tensors of other threads this thread is inside a native call with; grown, never shrunk. */
  private volatile Tensor[] hazards = new Tensor[4];
  private int nHazards;
  private int hazardBase;     // hazards below it belong to native calls around a callback in progress
  private int callbackDepth;  // callbacks from the core this thread is inside of
  /** Releases other threads handed to this (home) thread. */
  private final ConcurrentLinkedQueue<Tensor> pending = new ConcurrentLinkedQueue<>();
  volatile boolean hasPending;
  /** Set (before the fence of {@link #protect}) once any tensor is used from a thread other than its home; never cleared. */
  static volatile boolean everShared;
  private boolean scanned;  // in SCANNED (this thread's own flag)

  private record Retired(Tensor tensor, long handle) {}

  private ThreadState(Thread t) {
    this.threadId = t.getId();
    this.thread = new WeakReference<>(t);
  }

  private static ThreadState create() {
    Thread t = Thread.currentThread();
    ThreadState s = new ThreadState(t);
    reapEnded();
    ALL.add(s);
    CLEANER.register(t, s::threadEnded);  // the action holds the state, never the Thread
    return s;
  }

  static ThreadState current() {
    ThreadState s = last;
    if (s != null && s.threadId == Thread.currentThread().getId()) return s;
    return currentFromLocal();
  }

  private static ThreadState currentFromLocal() {  // out of line: keeps current()'s callers small
    ThreadState s = LOCAL.get();
    last = s;
    return s;
  }

  boolean isCurrent() {
    return threadId == Thread.currentThread().getId();
  }

  boolean ended() {
    Thread t = thread.get();
    return t == null || !t.isAlive();
  }

  // ------------------------------------------------------------------ a foreign thread's use

  /** Protects {@code t} for the native call this thread is about to make (see the NOTE above). */
  void protect(Tensor t) {
    Tensor[] hs = hazards;
    if (nHazards == hs.length) hazards = hs = Arrays.copyOf(hs, hs.length * 2);  // published before the fence
    SLOT.setOpaque(hs, nHazards++, t);
    if (!scanned) {  // registered before the fence: a closer that misses it would see the handle gone
      SCANNED.add(this);
      scanned = true;
    }
    VarHandle.fullFence();
  }

  /** Ends this thread's native call: clears its hazards and frees retired handles it no longer blocks. */
  void endCall() {
    Tensor[] hs = hazards;
    for (int i = hazardBase; i < nHazards; i++) SLOT.setRelease(hs, i, null);
    nHazards = hazardBase;
    if (RETIRED_COUNT.get() > 0) freeRetired();
  }

  boolean hasHazards() {
    return nHazards != hazardBase;
  }

  /** True when a call's end has work: hazards to clear or releases other threads left. */
  boolean busy() {
    return nHazards != hazardBase || hasPending;
  }

  /** Enters a callback from inside a native call (see the NOTE above); returns what {@link #leaveCallback} restores. */
  int enterCallback() {
    int saved = hazardBase;
    hazardBase = nHazards;
    callbackDepth++;
    return saved;
  }

  /** Leaves the callback entered by the {@link #enterCallback} that returned {@code saved}. */
  void leaveCallback(int saved) {
    endCall();
    hazardBase = saved;
    callbackDepth--;
  }

  // ------------------------------------------------------------------ releasing a closed tensor's handle

  /** Hands {@code t}, closed by another thread than its (live) home, to the home thread to free. */
  static void requestClose(Tensor t, ThreadState home) {
    home.pending.add(t);
    home.hasPending = true;
    if (home.ended()) home.drainPending();  // it ended meanwhile: nobody else would
  }

  /** Frees now unless another thread's hazard names {@code t}; then it is retired. */
  static void freeUnlessUsed(Tensor t, long handle) {
    if (t.isShared() && inUse(t)) {
      RETIRED.add(new Retired(t, handle));
      RETIRED_COUNT.incrementAndGet();
      if (!inUse(t)) freeRetired();  // the user left meanwhile and may have missed the count
    } else {
      NativeCore.adj_release(handle);
    }
  }

  private static boolean inUse(Tensor t) {
    for (ThreadState s : SCANNED) {
      Tensor[] hs = s.hazards;
      for (int i = 0; i < hs.length; i++)
        if (SLOT.getVolatile(hs, i) == t) return true;
    }
    return false;
  }

  private static void freeRetired() {
    for (Retired r : RETIRED) {
      if (!inUse(r.tensor) && RETIRED.remove(r)) {  // remove succeeds for one thread only
        RETIRED_COUNT.decrementAndGet();
        NativeCore.adj_release(r.handle);
      }
    }
  }

  /** Frees what other threads closed of this thread's tensors; run by this thread between calls. */
  void drainPending() {
    if (callbackDepth > 0) return;  // a native call is in progress (see the NOTE above); hasPending stays
    hasPending = false;
    Tensor t;
    while ((t = pending.poll()) != null) t.closeTaken();  // atomic: after the end, drains may race
  }

  // ------------------------------------------------------------------ ended threads

  /** Releases what an ended thread left: its open scopes and the releases handed to it. */
  private void threadEnded() {
    if (!ALL.remove(this)) return;  // already done
    SCANNED.remove(this);
    for (Scope s = scope; s != null; s = s.parent()) s.releaseForEndedThread();
    scope = null;
    drainPending();
  }

  /** Cleans up after threads that have ended (run when a new thread first uses the library). */
  private static void reapEnded() {
    for (ThreadState s : ALL)
      if (s.ended()) s.threadEnded();
  }
}
