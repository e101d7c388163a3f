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

    exports dev.adjoint;

    // NOTE: dev.adjoint.internal (the JavaCPP binding, error mapping, printing) is not exported: it
    // is no API. JavaCPP reads the binding's annotations and its native library from there
    // reflectively, hence opened to JavaCPP alone. Classpath users see no module at all.
    opens dev.adjoint.internal to org.bytedeco.javacpp;
}
