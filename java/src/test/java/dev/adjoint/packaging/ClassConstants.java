package dev.adjoint.packaging;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;

/**
 * The names in a class file's constant pool (JVMS 4.4): every UTF-8 entry (class, member and
 * descriptor names among them) and the values of its String constants (what {@code ldc} pushes,
 * e.g. the field name given to {@code findVarHandle}). Enough for NativeImageConfigTest to find
 * lookups by name without a bytecode library.
 */
record ClassConstants(Set<String> utf8, Set<String> strings) {
    static ClassConstants read(byte[] classFile) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile));
        if (in.readInt() != 0xCAFEBABE) throw new IOException("not a class file");
        in.readUnsignedShort();  // minor
        in.readUnsignedShort();  // major
        int count = in.readUnsignedShort();
        String[] utf8 = new String[count];
        int[] stringIndex = new int[count];
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> utf8[i] = in.readUTF();                       // Utf8
                case 8 -> stringIndex[i] = in.readUnsignedShort();      // String
                case 7, 16, 19, 20 -> in.readUnsignedShort();           // Class, MethodType, Module, Package
                case 15 -> { in.readUnsignedByte(); in.readUnsignedShort(); }  // MethodHandle
                case 3, 4, 9, 10, 11, 12, 17, 18 -> in.readInt();       // Integer, Float, refs, NameAndType, (Invoke)Dynamic
                case 5, 6 -> { in.readLong(); i++; }                    // Long, Double take two slots
                default -> throw new IOException("unknown constant pool tag " + tag + " at " + i);
            }
        }
        Set<String> names = new HashSet<>(), strings = new HashSet<>();
        for (int i = 1; i < count; i++) {
            if (utf8[i] != null) names.add(utf8[i]);
            if (stringIndex[i] != 0) strings.add(utf8[stringIndex[i]]);
        }
        return new ClassConstants(names, strings);
    }
}
