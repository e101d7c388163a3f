package dev.adjoint;

/** What random ops do inside {@link Func#vmap}: as torch.func's {@code randomness} argument. */
public enum Randomness {
  /** A random op inside vmap throws (the default: silently shared samples are a classic bug). */
  ERROR,
  /** Each example of the batch gets its own sample. */
  DIFFERENT,
  /** One sample is shared by the whole batch. */
  SAME
}
