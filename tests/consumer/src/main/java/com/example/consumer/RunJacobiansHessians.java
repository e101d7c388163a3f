package com.example.consumer;

import dev.adjoint.examples.JacobiansHessians;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Runs the JacobiansHessians example (the functorch notebook; its sources are compiled into this
 * project, its only dependency is dev.adjoint:adjoint-platform) as a user would, and checks the
 * first Jacobian row it prints against the notebook's own output (torch, manual_seed(0)). The
 * example's checks throw on a wrong result; this adds the printed numbers. Exits non-zero on a
 * mismatch.
 */
public final class RunJacobiansHessians {
  /** The notebook's print(jacobian[0]), as torch formats it. */
  static final String NOTEBOOK_ROW = "tensor([-0.5956, -0.6096, -0.1326, -0.2295,  0.4490,  0.3661, -0.1672, -1.1190,\n"
      + "         0.1705, -0.6683,  0.1851,  0.1630,  0.0634,  0.6547,  0.5908, -0.1308])";

  public static void main(String[] args) {
    PrintStream console = System.out;
    ByteArrayOutputStream copy = new ByteArrayOutputStream();
    // everything the example prints goes to the console as usual, and into copy
    System.setOut(new PrintStream(new OutputStream() {
      @Override public void write(int b) {
        console.write(b);
        copy.write(b);
      }

      @Override public void write(byte[] b, int off, int len) {
        console.write(b, off, len);
        copy.write(b, off, len);
      }
    }, true, StandardCharsets.UTF_8));
    try {
      JacobiansHessians.main(new String[0]);
    } finally {
      System.setOut(console);
    }
    String printed = copy.toString(StandardCharsets.UTF_8).replace("\r\n", "\n");
    if (!printed.contains("\n" + NOTEBOOK_ROW + "\n")) {
      System.err.println("consumer: the example did not print the notebook's first Jacobian row\n" + NOTEBOOK_ROW);
      System.exit(1);
    }
    System.out.println("consumer OK: JacobiansHessians printed the notebook's first Jacobian row (os.arch=" + System.getProperty("os.arch") + ")");
  }
}
