package io.pulse.ingest;

/**
 * Reuses the String of a short text seen before (dim values, stream names repeat in nearly every
 * event), so parsing allocates one String per distinct value rather than per event, and equal
 * dims compare by identity. A direct-mapped table: a collision just replaces the entry. Single
 * threaded: one per parser.
 */
final class StringCache {

  private static final int MAX_LENGTH = 64;

  private final String[] table;
  private final int mask;
  /**
   * Whether the last string handed out is known to be storable as PostgreSQL text (no NUL, no
   * unpaired surrogate): only such strings are cached, and each is checked once, when first seen.
   */
  private boolean lastChecked;

  StringCache(int sizePowerOfTwo) {
    this.table = new String[sizePowerOfTwo];
    this.mask = sizePowerOfTwo - 1;
  }

  String get(char[] buf, int off, int len) {
    if (len > MAX_LENGTH) {
      lastChecked = false;
      return new String(buf, off, len);
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
        lastChecked = true;
        return s;
      }
    }
    s = new String(buf, off, len);
    lastChecked = io.pulse.core.Texts.unstorable(s) == null;
    if (lastChecked) {
      table[slot] = s;
    }
    return s;
  }

  /** Whether the string the last {@link #get} returned is known to be storable text (see the field). */
  boolean lastChecked() {
    return lastChecked;
  }
}
