package dev.adjoint;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What the pytree walks ({@link Pytree}) know about the classes they meet: which are nodes
 * (lists, maps, arrays, records, registered classes) and how to take them apart and rebuild them,
 * which are constants, and where an object that is neither holds a tensor.
 *
 * <p>NOTE: a class's role is decided once ({@link #INFO}, a ClassValue; {@link #register} drops
 * the class's entry so that it is decided again): records are read through their component
 * accessors and rebuilt through their canonical constructor (as method handles); a registered
 * class through its two functions. Any other object is a constant unless it holds a tensor, which
 * {@link #tensorPath} finds by reflection (fields of the object's class and its superclasses, a
 * collection's elements, up to {@link #SCAN_DEPTH} levels deep). Classes of the JDK are
 * constants, except collections and Optional: their contents are looked at.
 */
final class PytreeNodes {
  private PytreeNodes() {}

  enum Kind {
    TENSOR, LIST, MAP, ARRAY, RECORD, REGISTERED,
    /** Holds no tensor, by its class. */
    CONSTANT,
    /** A collection that is no list (a Set, a Queue, ...) or an Optional: its contents are looked at. */
    CONTAINER,
    /** An object of another class that has fields which may hold a tensor. */
    OBJECT
  }

  /** Levels of objects below an object that {@link #tensorPath} looks into. */
  static final int SCAN_DEPTH = 6;

  private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
  private static final Map<Class<?>, Registration<?>> REGISTERED = new ConcurrentHashMap<>();

  /** The role of {@code o}; lists, maps, arrays, records and tensors without a class lookup. */
  static Kind kindOf(Object o) {
    if (o instanceof Tensor) return Kind.TENSOR;
    if (o == null) return Kind.CONSTANT;
    if (o instanceof List<?>) return Kind.LIST;
    if (o instanceof Map<?, ?>) return Kind.MAP;
    if (o instanceof Object[]) return Kind.ARRAY;
    if (o instanceof Record) return Kind.RECORD;
    return INFO.get(o.getClass()).kind;
  }

  static boolean isNode(Kind k) {
    return k == Kind.LIST || k == Kind.MAP || k == Kind.ARRAY || k == Kind.RECORD || k == Kind.REGISTERED;
  }

  // ------------------------------------------------------------------ per-class information

  /** A class's role, and for records and registered classes how to take them apart. */
  static final class Info {
    final Kind kind;
    final RecordShape record;  // RECORD
    final Registration<?> registration;  // REGISTERED
    final Field[] fields;  // OBJECT: the instance fields that may hold a tensor

    Info(Kind kind, RecordShape record, Registration<?> registration, Field[] fields) {
      this.kind = kind;
      this.record = record;
      this.registration = registration;
      this.fields = fields;
    }
  }

  private static final ClassValue<Info> INFO = new ClassValue<>() {
    @Override
    protected Info computeValue(Class<?> c) {
      return classify(c);
    }
  };

  static Info info(Class<?> c) {
    return INFO.get(c);
  }

  private static Info classify(Class<?> c) {
    if (Tensor.class.isAssignableFrom(c)) return new Info(Kind.TENSOR, null, null, null);
    if (List.class.isAssignableFrom(c)) return new Info(Kind.LIST, null, null, null);
    if (Map.class.isAssignableFrom(c)) return new Info(Kind.MAP, null, null, null);
    if (c.isArray()) return new Info(c.getComponentType().isPrimitive() ? Kind.CONSTANT : Kind.ARRAY, null, null, null);
    if (c.isRecord()) return new Info(Kind.RECORD, new RecordShape(c), null, null);
    Registration<?> r = REGISTERED.get(c);
    if (r != null) return new Info(Kind.REGISTERED, null, r, null);
    if (Collection.class.isAssignableFrom(c) || c == Optional.class) return new Info(Kind.CONTAINER, null, null, null);
    if (c.isPrimitive() || c.isEnum() || isJdk(c)) return new Info(Kind.CONSTANT, null, null, null);
    List<Field> fs = new ArrayList<>();
    for (Class<?> k = c; k != null && !isJdk(k); k = k.getSuperclass()) {
      for (Field f : k.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers()) || cannotHoldTensor(f.getType())) continue;
        try {
          f.setAccessible(true);
          fs.add(f);
        } catch (RuntimeException e) {  // a package not opened to us: its fields stay unread
        }
      }
    }
    return fs.isEmpty() ? new Info(Kind.CONSTANT, null, null, null) : new Info(Kind.OBJECT, null, null, fs.toArray(new Field[0]));
  }

  /**
   * A field of this declared type never holds a tensor: a primitive or an array of them, or a
   * final class of the JDK or an enum (String, Integer, ...). (User classes are looked into at
   * run time: deciding here could recurse into the class being decided.)
   */
  private static boolean cannotHoldTensor(Class<?> t) {
    if (t.isPrimitive()) return true;
    if (t.isArray()) return t.getComponentType().isPrimitive();
    return t.isEnum() || Modifier.isFinal(t.getModifiers()) && isJdk(t) && !Collection.class.isAssignableFrom(t) && !Map.class.isAssignableFrom(t)
        && t != Optional.class;
  }

  private static boolean isJdk(Class<?> c) {
    String n = c.getName();
    return n.startsWith("java.") || n.startsWith("javax.") || n.startsWith("jdk.") || n.startsWith("sun.") || n.startsWith("com.sun.");
  }

  // ------------------------------------------------------------------ records

  /** A record class's components: names, declared types, accessors and canonical constructor. */
  static final class RecordShape {
    final Class<?> type;
    final String[] names;
    final Class<?>[] types;
    private final MethodHandle[] getters;  // (Object) -> Object
    private final MethodHandle constructor;  // (Object[]) -> Object
    private final RuntimeException unusable;  // why the record cannot be read, if it cannot

    RecordShape(Class<?> c) {
      type = c;
      RecordComponent[] rc = c.getRecordComponents();
      names = new String[rc.length];
      types = new Class<?>[rc.length];
      getters = new MethodHandle[rc.length];
      MethodHandle ctor = null;
      RuntimeException failure = null;
      try {
        for (int i = 0; i < rc.length; i++) {
          names[i] = rc[i].getName();
          types[i] = rc[i].getType();
          Method m = rc[i].getAccessor();
          m.setAccessible(true);
          getters[i] = LOOKUP.unreflect(m).asType(MethodType.methodType(Object.class, Object.class));
        }
        Constructor<?> k = c.getDeclaredConstructor(types);
        k.setAccessible(true);
        ctor = LOOKUP.unreflectConstructor(k).asSpreader(Object[].class, rc.length).asType(MethodType.methodType(Object.class, Object[].class));
      } catch (ReflectiveOperationException | RuntimeException e) {
        failure = new AdjointArgumentException("pytree", "pytree: the record " + c.getName() + " cannot be taken apart or rebuilt ("
            + e + "); open its package to dev.adjoint, or register the class with Pytree.register");
      }
      constructor = ctor;
      unusable = failure;
    }

    Object[] components(Object r) {
      if (unusable != null) throw unusable;
      Object[] kids = new Object[getters.length];
      try {
        for (int i = 0; i < kids.length; i++) kids[i] = getters[i].invokeExact(r);
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable e) {
        throw new IllegalStateException("pytree: reading a component of " + type.getName() + " failed", e);
      }
      return kids;
    }

    /**
     * The record with these components, through its canonical constructor; a map from component
     * name to value (in declaration order) when a value does not fit its component's declared type
     * (the Jacobian of a record-valued output holds a pytree where the record declares a Tensor).
     */
    Object rebuild(Object[] kids) {
      if (unusable != null) throw unusable;
      if (!fits(kids)) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kids.length; i++) m.put(names[i], kids[i]);
        return Collections.unmodifiableMap(m);
      }
      try {
        return constructor.invokeExact(kids);
      } catch (RuntimeException e) {  // the record's own checks (a compact constructor)
        AdjointArgumentException x = new AdjointArgumentException("pytree", "pytree: rebuilding " + type.getName()
            + " through its canonical constructor failed: " + e);
        x.initCause(e);
        throw x;
      } catch (Error e) {
        throw e;
      } catch (Throwable e) {
        throw new IllegalStateException("pytree: rebuilding " + type.getName() + " failed", e);
      }
    }

    private boolean fits(Object[] kids) {
      for (int i = 0; i < kids.length; i++) {
        Class<?> t = types[i];
        Object k = kids[i];
        if (k == null ? t.isPrimitive() : !box(t).isInstance(k)) return false;
      }
      return true;
    }
  }

  private static Class<?> box(Class<?> t) {
    if (!t.isPrimitive()) return t;
    return MethodType.methodType(t).wrap().returnType();
  }

  // ------------------------------------------------------------------ registered classes

  /** A class registered with {@link Pytree#register}: its children and how to rebuild it from them. */
  static final class Registration<T> {
    final Class<T> type;
    private final Function<? super T, ? extends List<?>> flatten;
    private final Function<? super List<Object>, ? extends T> unflatten;

    Registration(Class<T> type, Function<? super T, ? extends List<?>> flatten, Function<? super List<Object>, ? extends T> unflatten) {
      this.type = type;
      this.flatten = flatten;
      this.unflatten = unflatten;
    }

    Object[] children(Object node) {
      List<?> kids = flatten.apply(type.cast(node));
      if (kids == null)
        throw new AdjointArgumentException("pytree", "pytree: the flatten function registered for " + type.getName() + " returned null");
      return kids.toArray();
    }

    /**
     * The node rebuilt from {@code kids}; a list of them when the unflatten function cannot hold
     * them (a ClassCastException: the Jacobian of a node-valued output holds pytrees where the
     * class holds tensors).
     */
    Object rebuild(Object[] kids) {
      List<Object> l = Collections.unmodifiableList(java.util.Arrays.asList(kids));
      try {
        T r = unflatten.apply(l);
        if (r == null)
          throw new AdjointArgumentException("pytree", "pytree: the unflatten function registered for " + type.getName() + " returned null");
        return r;
      } catch (ClassCastException e) {
        return l;
      }
    }
  }

  static <T> void register(Class<T> type, Function<? super T, ? extends List<?>> flatten, Function<? super List<Object>, ? extends T> unflatten) {
    if (type == null || flatten == null || unflatten == null)
      throw new AdjointArgumentException("Pytree.register", "Pytree.register: the class and both functions must be given (got null)");
    Kind k = INFO.get(type).kind;
    String why = k == Kind.REGISTERED ? "it is registered already" : k == Kind.RECORD ? "records are pytrees already"
        : k == Kind.TENSOR ? "tensors are leaves" : isNode(k) ? "lists, maps and arrays are pytrees already"
            : type.isArray() ? "arrays are pytrees or constants already" : type.isInterface() ? "an interface has no instances of its own (nodes are matched by their exact class)"
                : type.isPrimitive() ? "a primitive type holds no tensor" : null;
    if (why != null) throw new AdjointArgumentException("Pytree.register", "Pytree.register: " + type.getName() + " cannot be registered: " + why);
    if (REGISTERED.putIfAbsent(type, new Registration<>(type, flatten, unflatten)) != null)
      throw new AdjointArgumentException("Pytree.register", "Pytree.register: " + type.getName() + " is registered already");
    INFO.remove(type);  // decided again, now as a node
  }

  // ------------------------------------------------------------------ children of a node

  /** The children of a record or registered node, in order. */
  static Object[] children(Object node, Kind k) {
    return k == Kind.RECORD ? INFO.get(node.getClass()).record.components(node) : INFO.get(node.getClass()).registration.children(node);
  }

  /** The component names of a record (its path segments), or null for a registered node. */
  static String[] names(Object node, Kind k) {
    return k == Kind.RECORD ? INFO.get(node.getClass()).record.names : null;
  }

  /** A record or registered node of {@code like}'s class rebuilt from {@code kids}. */
  static Object rebuild(Object like, Kind k, Object[] kids) {
    Info in = INFO.get(like.getClass());
    return k == Kind.RECORD ? in.record.rebuild(kids) : in.registration.rebuild(kids);
  }

  // ------------------------------------------------------------------ tensors hidden in other objects

  /**
   * Where a tensor is reachable inside {@code o} (e.g. {@code ".layers[0].w"}, "" for a tensor
   * itself), or null: fields, elements and entries, at most {@link #SCAN_DEPTH} objects deep.
   */
  static String tensorPath(Object o) {
    return find(o, 0, Collections.newSetFromMap(new IdentityHashMap<>()));
  }

  /** True for an object that is no pytree node and may hold tensors (what {@link #tensorPath} looks into). */
  static boolean mayHoldTensors(Kind k) {
    return k == Kind.CONTAINER || k == Kind.OBJECT;
  }

  private static String find(Object o, int depth, Set<Object> seen) {
    Kind k = kindOf(o);
    if (k == Kind.TENSOR) return "";
    if (k == Kind.CONSTANT || depth > SCAN_DEPTH || !seen.add(o)) return null;
    try {
      switch (k) {
        case LIST:
        case CONTAINER: {
          if (o instanceof Optional<?> opt) return opt.isPresent() ? at(".get()", find(opt.get(), depth + 1, seen)) : null;
          int i = 0;
          for (Object e : (Collection<?>) o) {
            String p = find(e, depth + 1, seen);
            if (p != null) return "[" + i + "]" + p;
            i++;
          }
          return null;
        }
        case ARRAY: {
          Object[] a = (Object[]) o;
          for (int i = 0; i < a.length; i++) {
            String p = find(a[i], depth + 1, seen);
            if (p != null) return "[" + i + "]" + p;
          }
          return null;
        }
        case MAP: {
          for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
            String p = find(e.getValue(), depth + 1, seen);
            if (p != null) return "[\"" + e.getKey() + "\"]" + p;
          }
          return null;
        }
        case RECORD:
        case REGISTERED: {
          Object[] kids = children(o, k);
          String[] names = names(o, k);
          for (int i = 0; i < kids.length; i++) {
            String p = find(kids[i], depth + 1, seen);
            if (p != null) return (names != null ? "." + names[i] : "[" + i + "]") + p;
          }
          return null;
        }
        default: {  // OBJECT
          for (Field f : INFO.get(o.getClass()).fields) {
            String p = find(f.get(o), depth + 1, seen);
            if (p != null) return "." + f.getName() + p;
          }
          return null;
        }
      }
    } catch (IllegalAccessException | RuntimeException e) {  // an object that cannot be looked into is taken as it is
      return null;
    }
  }

  private static String at(String segment, String rest) {
    return rest == null ? null : segment + rest;
  }
}
