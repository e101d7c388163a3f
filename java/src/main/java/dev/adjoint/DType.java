package dev.adjoint;

/**
 * Element type of a {@link Tensor}. Binary elementwise ops promote mixed dtypes as torch does (see
 * {@link Tensor#add(Tensor)}); {@link Adjoint#setDefaultDtype} picks the floating default.
 */
public enum DType {
  /** 32-bit IEEE float, the default floating dtype unless {@link Adjoint#setDefaultDtype} says otherwise. */
  FLOAT32(0, 4),
  /** 64-bit IEEE float. */
  FLOAT64(1, 8),
  /** 64-bit signed integer (indices, counts). */
  INT64(2, 8),
  /** Boolean (results of comparisons, masks for {@link Tensor#where}). */
  BOOL(3, 1);

  // NOTE: codes mirror ADJ_FLOAT32.. in native/include/adjoint/adjoint.h.
  final int code;
  private final int itemSize;

  DType(int code, int itemSize) {
    this.code = code;
    this.itemSize = itemSize;
  }

  /** Bytes per element. */
  public int itemSize() {
    return itemSize;
  }

  /** True for FLOAT32 and FLOAT64. */
  public boolean isFloatingPoint() {
    return this == FLOAT32 || this == FLOAT64;
  }

  /** The lower-case name used in messages and printing, e.g. {@code float64}. */
  public String displayName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  static DType fromCode(int code) {
    for (DType d : values()) if (d.code == code) return d;
    throw new IllegalStateException("unknown dtype code " + code);
  }
}
