package io.pulse.ingest;

/**
 * Reuses the String of a short text seen before (dim values, stream names repeat in nearly every
 * event), so parsing allocates one String per distinct value rather than per event, and equal
 * dims compare by identity. A direct-mapped table: a collision just replaces the entry. Single
 * threaded: one per parser.
 *
 * <p>It also refuses text PostgreSQL cannot store (a NUL, an unpaired surrogate): {@link #get}
 * answers null for it. Each text is checked once, when first seen; only storable ones are cached,
 * so a hit costs nothing more.
 */
final class StringCache {

  private static final int MAX_LENGTH = 64;

  private final String[] table;
  private final int mask;
  /** Whether new entries are {@link String#intern interned}, as Jackson does with field names. */
  private final boolean intern;

  StringCache(int sizePowerOfTwo) {
    this(sizePowerOfTwo, false);
  }

  /**
   * @param intern whether the Strings it makes are interned: a cache of names read from bytes then
   *     hands out the very instances Jackson's field-name table does, so names read by either
   *     parser compare by identity
   */
  StringCache(int sizePowerOfTwo, boolean intern) {
    this.table = new String[sizePowerOfTwo];
    this.mask = sizePowerOfTwo - 1;
    this.intern = intern;
  }

  /**
   * The text of ASCII bytes (each below 0x80) as a String, the cached one when seen before. The
   * caller has checked the bytes: ASCII text without control characters is always storable. Same
   * hash as {@link #get(char[], int, int)}, so both find the same entries.
   */
  String get(byte[] buf, int off, int len) {
    if (len > MAX_LENGTH) {
      String s = new String(buf, off, len, java.nio.charset.StandardCharsets.ISO_8859_1);
      return intern ? s.intern() : s;
    }
    int h = 0;
    for (int i = off, end = off + len; i < end; i++) {
      h = 31 * h + buf[i];
    }
    int slot = (h ^ (h >>> 15)) & mask;
    String s = table[slot];
    if (s != null && s.length() == len) {
      boolean same = true;
      for (int i = 0; i < len; i++) {
        if (s.charAt(i) != buf[off + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        return s;
      }
    }
    s = new String(buf, off, len, java.nio.charset.StandardCharsets.ISO_8859_1);
    if (intern) {
      s = s.intern();
    }
    table[slot] = s;
    return s;
  }

  /** The text as a String, the cached one when seen before; null when it is not storable (see the class). */
  String get(char[] buf, int off, int len) {
    if (len > MAX_LENGTH) {
      String s = new String(buf, off, len);
      return io.pulse.core.Texts.unstorable(s) == null ? s : null;
    }
    int h = 0;
    for (int i = off, end = off + len; i < end; i++) {
      h = 31 * h + buf[i];
    }
    int slot = (h ^ (h >>> 15)) & mask;
    String s = table[slot];
    if (s != null && s.length() == len) {
      boolean same = true;
      for (int i = 0; i < len; i++) {
        if (s.charAt(i) != buf[off + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        return s;
      }
    }
    s = new String(buf, off, len);
    if (io.pulse.core.Texts.unstorable(s) != null) {
      return null;
    }
    table[slot] = s;
    return s;
  }
}
