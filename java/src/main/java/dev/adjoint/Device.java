package dev.adjoint;

/**
 * Where a tensor's memory lives. Only {@link #CPU} exists in this build; the core's backend
 * interface is ready for a CUDA backend.
 *
 * @param type  the kind of device
 * @param index which device of that kind (0 for the CPU)
 */
public record Device(Type type, int index) {
  /** Kinds of device. */
  public enum Type { CPU, CUDA }

  /** The host CPU. */
  public static final Device CPU = new Device(Type.CPU, 0);

  static Device fromCode(int code) {
    int type = code / 256;
    return type == 0 ? CPU : new Device(Type.CUDA, code % 256);
  }

  @Override
  public String toString() {
    return type == Type.CPU ? "cpu" : "cuda:" + index;
  }
}
