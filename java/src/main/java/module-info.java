/**
 * Adjoint: composable function transforms ({@code grad}, {@code vjp}, {@code jvp}, {@code vmap},
 * {@code jacrev}, {@code jacfwd}, {@code hessian}, {@code hvp}) over a native C++ core. The API is
 * the package {@link dev.adjoint}; start at {@link dev.adjoint.Func} and {@link dev.adjoint.Tensor}.
 *
 * <p>The natives come from the classifier jars (module {@code dev.adjoint.linux.x86_64}, ...), which
 * {@code dev.adjoint:adjoint-platform} brings; on the module path add them with
 * {@code --add-modules ALL-MODULE-PATH}.
 */
module dev.adjoint {
    requires org.bytedeco.javacpp;
    requires org.bytedeco.openblas;

    // NOTE: dev.adjoint.internal (the JavaCPP binding, error mapping, printing) is neither exported
    // nor opened: it is no API, and JavaCPP needs no access to it that a module restricts. It reads
    // NativeCore's annotations (public reflection), finds the library in the natives jar (a folder
    // that is no package, so not encapsulated) and binds the natives through JNI, which ignores
    // module boundaries. tests/consumer runs on the module path (a transform, direct NIO buffers)
    // to show it. Classpath users see no module at all.
    exports dev.adjoint;
}
