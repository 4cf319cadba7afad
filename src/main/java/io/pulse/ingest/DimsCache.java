package io.pulse.ingest;

import io.pulse.event.Dims;
import java.util.Arrays;

/**
 * Hands out one {@link Dims} instance for the dims pairs seen recently, so the events of a series
 * share their dims: no arrays, sort or hash per event, and the catalog's series look-up then
 * matches by identity. Keyed by the identity of the pair strings, which the parser canonicalises
 * (Jackson's field-name table for keys, {@link StringCache} for values), so a hit costs a few
 * reference compares. A direct-mapped table: a collision just replaces the entry. Single
 * threaded: one per parser.
 */
final class DimsCache {

  private final String[][] keys;
  private final String[][] values;
  private final Dims[] dims;
  private final int mask;

  DimsCache(int sizePowerOfTwo) {
    keys = new String[sizePowerOfTwo][];
    values = new String[sizePowerOfTwo][];
    dims = new Dims[sizePowerOfTwo];
    mask = sizePowerOfTwo - 1;
  }

  /** Dims of the first {@code n} pairs, as {@link Dims#fromPairs}: null when a key is given twice. */
  Dims get(String[] k, String[] v, int n) {
    if (n == 0) {
      return Dims.EMPTY;
    }
    int h = n;
    for (int i = 0; i < n; i++) {
      h = (h ^ k[i].hashCode()) * 0x9E3779B1;
      h = (h ^ v[i].hashCode()) * 0x85EBCA6B;
    }
    int slot = (h ^ (h >>> 16)) & mask;
    String[] ek = keys[slot];
    if (ek != null && ek.length == n && same(ek, k, n) && same(values[slot], v, n)) {
      return dims[slot];
    }
    Dims d = Dims.fromPairs(k, v, n);
    if (d != null) {
      keys[slot] = Arrays.copyOf(k, n);
      values[slot] = Arrays.copyOf(v, n);
      dims[slot] = d;
    }
    return d;
  }

  private static boolean same(String[] a, String[] b, int n) {
    for (int i = 0; i < n; i++) {
      if (a[i] != b[i]) {
        return false;
      }
    }
    return true;
  }
}
