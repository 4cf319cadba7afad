package io.pulse.event;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The dimensions of an event or a series: an immutable set of string pairs kept sorted by key,
 * so that two equal sets are equal objects with equal hashes whatever order they came in.
 */
public final class Dims {

  public static final Dims EMPTY = new Dims(new String[0], new String[0]);

  private final String[] keys;
  private final String[] values;
  private final int hash;

  private Dims(String[] keys, String[] values) {
    this.keys = keys;
    this.values = values;
    this.hash = hash(keys, values);
  }

  /**
   * A well-mixed hash. The plain 31-polynomial collides badly on the typical dims of real
   * streams (short, sequential values such as "r3" x "s042"), which showed up as hash-bin
   * chains in the profile of the ingest benchmark.
   */
  private static int hash(String[] keys, String[] values) {
    int h = 0x9E3779B9;
    for (int i = 0; i < keys.length; i++) {
      h = mix(h + keys[i].hashCode());
      h = mix(h + values[i].hashCode());
    }
    return h;
  }

  private static int mix(int x) {
    x *= 0x85EBCA6B;
    x ^= x >>> 13;
    x *= 0xC2B2AE35;
    return x ^ (x >>> 16);
  }

  public static Dims of(Map<String, String> map) {
    if (map == null || map.isEmpty()) {
      return EMPTY;
    }
    TreeMap<String, String> sorted = new TreeMap<>(map);
    String[] k = new String[sorted.size()];
    String[] v = new String[sorted.size()];
    int i = 0;
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      k[i] = e.getKey();
      v[i++] = e.getValue();
    }
    return new Dims(k, v);
  }

  /**
   * Builds dims from the first {@code n} pairs of two scratch arrays, in any order, copying them.
   * Returns null if a key appears twice. For parsers, which collect pairs as they read.
   */
  public static Dims fromPairs(String[] keys, String[] values, int n) {
    if (n == 0) {
      return EMPTY;
    }
    String[] k = Arrays.copyOf(keys, n);
    String[] v = Arrays.copyOf(values, n);
    // insertion sort: n is small (a handful of dims), and this keeps k and v paired
    for (int i = 1; i < n; i++) {
      String kk = k[i];
      String vv = v[i];
      int j = i - 1;
      while (j >= 0 && k[j].compareTo(kk) > 0) {
        k[j + 1] = k[j];
        v[j + 1] = v[j];
        j--;
      }
      k[j + 1] = kk;
      v[j + 1] = vv;
    }
    for (int i = 1; i < n; i++) {
      if (k[i].equals(k[i - 1])) {
        return null;
      }
    }
    return new Dims(k, v);
  }

  /** Convenience for tests and generators: {@code Dims.of("region", "eu", "store", "s1")}. */
  public static Dims of(String... pairs) {
    if (pairs.length % 2 != 0) {
      throw new IllegalArgumentException("pairs must come as key, value");
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return of(m);
  }

  public int size() {
    return keys.length;
  }

  public boolean isEmpty() {
    return keys.length == 0;
  }

  public String key(int i) {
    return keys[i];
  }

  public String value(int i) {
    return values[i];
  }

  /** The value of a dim, or null when absent. */
  public String get(String key) {
    int i = Arrays.binarySearch(keys, key);
    return i >= 0 ? values[i] : null;
  }

  /**
   * The dims named in {@code sortedKeys} (sorted ascending), keeping only those present.
   * Used to roll a series up into a group-by.
   */
  public Dims project(String[] sortedKeys) {
    if (sortedKeys.length == 0) {
      return EMPTY;
    }
    String[] k = new String[sortedKeys.length];
    String[] v = new String[sortedKeys.length];
    int n = 0;
    for (String key : sortedKeys) {
      int i = Arrays.binarySearch(keys, key);
      if (i >= 0) {
        k[n] = key;
        v[n++] = values[i];
      }
    }
    if (n == keys.length && n == sortedKeys.length) {
      return this;
    }
    return n == 0 ? EMPTY : new Dims(Arrays.copyOf(k, n), Arrays.copyOf(v, n));
  }

  public Map<String, String> toMap() {
    if (keys.length == 0) {
      return Collections.emptyMap();
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < keys.length; i++) {
      m.put(keys[i], values[i]);
    }
    return m;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Dims)) {
      return false;
    }
    Dims d = (Dims) o;
    return hash == d.hash && Arrays.equals(keys, d.keys) && Arrays.equals(values, d.values);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < keys.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(keys[i]).append('=').append(values[i]);
    }
    return sb.append('}').toString();
  }
}
