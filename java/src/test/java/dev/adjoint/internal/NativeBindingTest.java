package dev.adjoint.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.FunctionPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.junit.jupiter.api.Test;

/**
 * The C API has one source of truth, {@code native/include/adjoint/adjoint.h}: the hand-written
 * JavaCPP binding ({@link NativeCore}, see its NOTE) and the Java mirrors of the header's enums are
 * compared with it here, so a change on one side that the other lacks fails the build instead of
 * reaching a JNI call with the wrong arguments.
 */
class NativeBindingTest {

  /** Header functions deliberately not bound, with the reason. Anything else must be bound. */
  private static final Map<String, String> NOT_BOUND = Map.of(
      "adj_ndim", "adj_shape returns the rank with the sizes",
      "adj_level_end", "Java ends and releases a level in one call (adj_level_close)",
      "adj_grad_backward", "Java uses adj_grad_backward_ex (flags) and adj_grad_backward1");

  /** A C declaration: return type and parameter types (names dropped, spaces normalised). */
  private record CFunction(String ret, List<String> params) {}

  private static String header() throws IOException {
    List<Path> tries = new ArrayList<>();
    String prop = System.getProperty("adjoint.header");
    if (prop != null && !prop.isEmpty()) tries.add(Paths.get(prop));
    Path dir = Paths.get(System.getProperty("user.dir")).toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) tries.add(d.resolve("native/include/adjoint/adjoint.h"));
    for (Path p : tries)
      if (Files.isRegularFile(p)) return Files.readString(p);
    fail("adjoint.h not found (tried " + tries + "); set -Dadjoint.header=PATH");
    return null;
  }

  private static String withoutComments(String s) {
    return s.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", " ");
  }

  private static String norm(String type) {
    return type.trim().replaceAll("\\s+", " ").replaceAll("\\s*\\*", "*");
  }

  private static Map<String, CFunction> functions(String h) {
    Map<String, CFunction> out = new LinkedHashMap<>();
    Matcher m = Pattern.compile("([A-Za-z_][\\w\\s\\*]*?)\\b(adj_\\w+)\\s*\\(([^;{)]*)\\)\\s*;").matcher(withoutComments(h));
    while (m.find()) {
      String ret = norm(m.group(1));
      if (ret.startsWith("typedef")) continue;  // function pointer typedefs
      List<String> params = new ArrayList<>();
      String ps = m.group(3).trim();
      if (!ps.equals("void") && !ps.isEmpty()) {
        for (String p : ps.split(",")) {
          p = norm(p);
          // drop the parameter name: the last identifier after the type
          params.add(norm(p.replaceAll("\\b\\w+$", "")));
        }
      }
      out.put(m.group(2), new CFunction(ret, params));
    }
    return out;
  }

  private static Map<String, Integer> enumConstants(String h) {
    Map<String, Integer> out = new LinkedHashMap<>();
    Matcher e = Pattern.compile("enum\\s*\\{([^}]*)\\}").matcher(withoutComments(h));
    while (e.find()) {
      Matcher c = Pattern.compile("(ADJ_\\w+)\\s*=\\s*(-?\\d+)").matcher(e.group(1));
      while (c.find()) out.put(c.group(1), Integer.parseInt(c.group(2)));
    }
    return out;
  }

  /** Whether Java type j (with its @Cast, if any) passes C type c across JavaCPP correctly. */
  private static String mismatch(String c, Class<?> j, Cast cast) {
    if (cast != null && !norm(cast.value()[0]).equals(c)) return "@Cast(\"" + cast.value()[0] + "\") for C " + c;
    switch (c) {
      case "void": return j == void.class ? null : "Java " + j.getSimpleName() + " for void";
      case "int": case "int32_t": return j == int.class ? null : "Java " + j.getSimpleName() + " for " + c;
      case "double": return j == double.class ? null : "Java " + j.getSimpleName() + " for double";
      case "adj_t": case "int64_t": case "uint64_t": return j == long.class ? null : "Java " + j.getSimpleName() + " for " + c;
      case "const char*": return j == String.class ? null : "Java " + j.getSimpleName() + " for const char*";
      default: break;
    }
    if (c.endsWith("*")) {
      String pointee = c.replace("const ", "").replace("*", "").trim();
      if (pointee.equals("adj_t") || pointee.equals("int64_t")) return j == long[].class ? null : "Java " + j.getSimpleName() + " for " + c;
      if (pointee.equals("int32_t")) return j == IntPointer.class ? null : "Java " + j.getSimpleName() + " for " + c;
      if (pointee.equals("void"))
        return (j.isArray() && j.getComponentType().isPrimitive()) || Pointer.class.isAssignableFrom(j) ? null
            : "Java " + j.getSimpleName() + " for " + c;
      return "unknown pointer type " + c;
    }
    if (c.startsWith("adj_") && FunctionPointer.class.isAssignableFrom(j)) return null;  // callback typedefs
    return "unknown C type " + c + " (Java " + j.getSimpleName() + ")";
  }

  @Test
  void everyNativeMethodMatchesItsHeaderDeclaration() throws IOException {
    Map<String, CFunction> c = functions(header());
    assertTrue(c.size() > 100, "parsed only " + c.size() + " functions from adjoint.h");
    List<String> problems = new ArrayList<>();
    Set<String> bound = new TreeSet<>();
    for (Method m : NativeCore.class.getDeclaredMethods()) {
      if (!Modifier.isNative(m.getModifiers()) || !Modifier.isStatic(m.getModifiers())) continue;
      bound.add(m.getName());
      CFunction f = c.get(m.getName());
      if (f == null) {
        problems.add(m.getName() + ": not declared in adjoint.h");
        continue;
      }
      Parameter[] ps = m.getParameters();
      if (ps.length != f.params().size()) {
        problems.add(m.getName() + ": " + ps.length + " parameters in Java, " + f.params().size() + " in adjoint.h " + f.params());
        continue;
      }
      String r = mismatch(f.ret(), m.getReturnType(), m.getAnnotatedReturnType().getAnnotation(Cast.class) != null
          ? m.getAnnotatedReturnType().getAnnotation(Cast.class) : m.getAnnotation(Cast.class));
      if (r != null) problems.add(m.getName() + " result: " + r);
      for (int i = 0; i < ps.length; i++) {
        String p = mismatch(f.params().get(i), ps[i].getType(), ps[i].getAnnotation(Cast.class));
        if (p != null) problems.add(m.getName() + " parameter " + i + ": " + p);
      }
    }
    for (String name : c.keySet())
      if (!bound.contains(name) && !NOT_BOUND.containsKey(name)) problems.add(name + ": in adjoint.h but not bound in NativeCore");
    for (String name : NOT_BOUND.keySet()) {
      if (!c.containsKey(name)) problems.add(name + ": listed as not bound but no longer in adjoint.h");
      if (bound.contains(name)) problems.add(name + ": listed as not bound but bound");
    }
    assertEquals(List.of(), problems);
  }

  private static int intField(Class<?> k, String name) throws ReflectiveOperationException {
    Field f = k.getDeclaredField(name);
    f.setAccessible(true);
    return f.getInt(null);
  }

  @Test
  void javaMirrorsOfTheHeaderEnumsHaveTheirValues() throws Exception {
    Map<String, Integer> e = enumConstants(header());
    List<String> problems = new ArrayList<>();
    // NativeCore's constants carry the header's names.
    for (Field f : NativeCore.class.getDeclaredFields()) {
      if (!Modifier.isStatic(f.getModifiers()) || f.getType() != int.class || !f.getName().startsWith("ADJ_")) continue;
      Integer v = e.get(f.getName());
      if (v == null || v != f.getInt(null)) problems.add("NativeCore." + f.getName() + " = " + f.getInt(null) + ", adjoint.h: " + v);
    }
    // The other mirrors, by their own names.
    Map<String, Object[]> mirrors = new LinkedHashMap<>();
    Class<?> dtype = Class.forName("dev.adjoint.DType");
    for (Object d : dtype.getEnumConstants()) {
      Field code = dtype.getDeclaredField("code");
      code.setAccessible(true);
      mirrors.put("ADJ_" + ((Enum<?>) d).name(), new Object[] {"DType." + ((Enum<?>) d).name() + ".code", code.getInt(d)});
    }
    String[][] errors = {{"ARGUMENT", "ARGUMENT"}, {"SHAPE", "SHAPE"}, {"DTYPE", "DTYPE"}, {"INDEX", "INDEX"}, {"STATE", "STATE"},
        {"OOM", "OUT_OF_MEMORY"}, {"UNSUPPORTED", "UNSUPPORTED"}, {"CALLBACK", "CALLBACK"}};
    for (String[] x : errors) mirrors.put("ADJ_ERR_" + x[1], new Object[] {"Errors." + x[0], intField(Errors.class, x[0])});
    Class<?> level = Class.forName("dev.adjoint.TransformLevel");
    for (String k : new String[] {"JVP", "GRAD", "VMAP"})
      mirrors.put("ADJ_LEVEL_" + k, new Object[] {"TransformLevel." + k, intField(level, k)});
    for (Map.Entry<String, Object[]> m : mirrors.entrySet()) {
      Integer v = e.get(m.getKey());
      if (v == null || !v.equals(m.getValue()[1])) problems.add(m.getValue()[0] + " = " + m.getValue()[1] + ", adjoint.h " + m.getKey() + ": " + v);
    }
    assertEquals(List.of(), problems);
  }
}
