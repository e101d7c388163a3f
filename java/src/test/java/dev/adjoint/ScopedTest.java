package dev.adjoint;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the test classes whose every test runs inside its own {@link Scope}: everything a test
 * creates is released when it ends. A subclass's own {@code @AfterEach} checks run first, while
 * the scope is still open (JUnit runs superclass {@code @AfterEach} methods last).
 */
abstract class ScopedTest {
  Scope scope;

  @BeforeEach
  final void openScope() {
    scope = Scope.open();
  }

  @AfterEach
  final void closeScope() {
    scope.close();
  }
}
