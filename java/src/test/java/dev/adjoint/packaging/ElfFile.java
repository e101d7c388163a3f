package dev.adjoint.packaging;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The dynamic-linking facts of an ELF64 little-endian shared library (x86-64, aarch64): what the
 * dynamic loader needs from the system to load it. Read from the section headers that a stripped
 * library keeps ({@code .dynamic}, {@code .dynsym}, {@code .gnu.version}, {@code .gnu.version_r}).
 *
 * @param machine        e_machine: 62 x86-64, 183 aarch64
 * @param needed         DT_NEEDED, in order
 * @param runpath        DT_RUNPATH entries (split at ':'); empty without one
 * @param rpath          DT_RPATH entries; empty without one
 * @param versionNeeds   every (file, version) of .gnu.version_r with the undefined symbols bound to it
 * @param exported       names of the defined global and weak dynamic symbols
 */
record ElfFile(int machine, List<String> needed, List<String> runpath, List<String> rpath,
               List<VersionNeed> versionNeeds, List<String> exported) {

    static final int EM_X86_64 = 62;
    static final int EM_AARCH64 = 183;

    /** One required symbol version, e.g. libm.so.6 GLIBC_2.29 [exp, log, pow]. */
    record VersionNeed(String file, String version, List<String> symbols) {
        @Override
        public String toString() {
            return file + " " + version + " " + symbols;
        }
    }

    private static final int SHT_DYNSYM = 11;
    private static final int SHT_DYNAMIC = 6;
    private static final int SHT_GNU_VERNEED = 0x6ffffffe;
    private static final int SHT_GNU_VERSYM = 0x6fffffff;
    private static final long DT_NULL = 0, DT_NEEDED = 1, DT_RPATH = 15, DT_RUNPATH = 29;

    private record Section(int type, long offset, long size, int link, int info) {}

    static ElfFile read(Path path) throws IOException {
        return parse(path.toString(), Files.readAllBytes(path));
    }

    static ElfFile parse(String name, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 64 || b.getInt(0) != 0x464c457f) {
            throw new IOException(name + ": not an ELF file");
        }
        if (bytes[4] != 2 || bytes[5] != 1) {
            throw new IOException(name + ": only ELF64 little-endian is read here (class " + bytes[4] + ", data " + bytes[5] + ")");
        }
        int machine = Short.toUnsignedInt(b.getShort(18));
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3a));
        int shnum = Short.toUnsignedInt(b.getShort(0x3c));
        List<Section> sections = new ArrayList<>();
        for (int i = 0; i < shnum; i++) {
            int at = Math.toIntExact(shoff + (long) i * shentsize);
            sections.add(new Section(b.getInt(at + 4), b.getLong(at + 24), b.getLong(at + 32), b.getInt(at + 40), b.getInt(at + 44)));
        }

        List<String> needed = new ArrayList<>(), runpath = new ArrayList<>(), rpath = new ArrayList<>();
        List<String> exported = new ArrayList<>();
        List<String> symbolNames = new ArrayList<>();
        List<Boolean> symbolDefined = new ArrayList<>();
        int[] versym = new int[0];
        Map<Integer, String[]> versionByIndex = new LinkedHashMap<>();  // vna_other -> {file, version}
        boolean sawDynamic = false;
        for (Section s : sections) {
            if (s.type == SHT_DYNAMIC) {
                sawDynamic = true;
                Section strtab = sections.get(s.link);
                for (long at = s.offset; at + 16 <= s.offset + s.size; at += 16) {
                    long tag = b.getLong((int) at), val = b.getLong((int) at + 8);
                    if (tag == DT_NULL) break;
                    if (tag == DT_NEEDED) needed.add(string(bytes, strtab, val));
                    if (tag == DT_RUNPATH) runpath.addAll(List.of(string(bytes, strtab, val).split(":", -1)));
                    if (tag == DT_RPATH) rpath.addAll(List.of(string(bytes, strtab, val).split(":", -1)));
                }
            } else if (s.type == SHT_DYNSYM) {
                Section strtab = sections.get(s.link);
                for (long at = s.offset; at + 24 <= s.offset + s.size; at += 24) {
                    String sym = string(bytes, strtab, Integer.toUnsignedLong(b.getInt((int) at)));
                    int binding = (bytes[(int) at + 4] & 0xff) >> 4;  // 1 global, 2 weak
                    boolean defined = b.getShort((int) at + 6) != 0;   // st_shndx != SHN_UNDEF
                    symbolNames.add(sym);
                    symbolDefined.add(defined);
                    if (defined && (binding == 1 || binding == 2) && !sym.isEmpty()) exported.add(sym);
                }
            } else if (s.type == SHT_GNU_VERSYM) {
                versym = new int[(int) (s.size / 2)];
                for (int i = 0; i < versym.length; i++) versym[i] = Short.toUnsignedInt(b.getShort((int) s.offset + 2 * i));
            } else if (s.type == SHT_GNU_VERNEED) {
                Section strtab = sections.get(s.link);
                long vn = s.offset;
                for (int n = 0; n < s.info; n++) {
                    String file = string(bytes, strtab, Integer.toUnsignedLong(b.getInt((int) vn + 4)));
                    int count = Short.toUnsignedInt(b.getShort((int) vn + 2));
                    long aux = vn + Integer.toUnsignedLong(b.getInt((int) vn + 8));
                    for (int k = 0; k < count; k++) {
                        int other = Short.toUnsignedInt(b.getShort((int) aux + 6));
                        String version = string(bytes, strtab, Integer.toUnsignedLong(b.getInt((int) aux + 8)));
                        versionByIndex.put(other, new String[] {file, version});
                        aux += Integer.toUnsignedLong(b.getInt((int) aux + 12));
                    }
                    vn += Integer.toUnsignedLong(b.getInt((int) vn + 12));
                }
            }
        }
        if (!sawDynamic) {
            throw new IOException(name + ": no .dynamic section (not a shared library, or its section headers were removed)");
        }
        Map<Integer, List<String>> symbolsByIndex = new LinkedHashMap<>();
        for (int i = 0; i < Math.min(versym.length, symbolNames.size()); i++) {
            if (!symbolDefined.get(i)) symbolsByIndex.computeIfAbsent(versym[i] & 0x7fff, k -> new ArrayList<>()).add(symbolNames.get(i));
        }
        List<VersionNeed> versionNeeds = new ArrayList<>();
        versionByIndex.forEach((index, fv) -> versionNeeds.add(new VersionNeed(fv[0], fv[1], symbolsByIndex.getOrDefault(index, List.of()))));
        return new ElfFile(machine, needed, runpath, rpath, versionNeeds, exported);
    }

    private static String string(byte[] bytes, Section strtab, long offset) {
        int start = Math.toIntExact(strtab.offset + offset), end = start;
        while (bytes[end] != 0) end++;
        return new String(bytes, start, end - start, StandardCharsets.US_ASCII);
    }
}
