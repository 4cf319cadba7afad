package io.pulse.ingest;

import io.pulse.event.Dims;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * {@link Dims} by the exact bytes of the JSON object they were read from ({@code {"region":"r3",
 * "store":"s042"}}), so a line whose dims object is byte for byte one read before skips reading
 * it: no strings to look up, no pairs to match. Only objects the quick pass read in full and found
 * valid go in, so equal bytes mean equal dims.
 *
 * <p>One table for every parser (every event loop): the same bytes give the same Dims instance on
 * every thread, so the catalog's series look-up matches by identity. A table of immutable entries,
 * two ways per set (so two hot objects that hash alike do not keep evicting each other): a third
 * replaces the older one, and a racy read sees a whole entry or none (final fields), at worst a
 * miss.
 */
final class SpanCache {

  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /** {@code rule}: the limits the dims were checked under (parsers of other settings may share the table). */
  private record Entry(byte[] bytes, Dims dims, long rule) {
  }

  private final Entry[] table;
  private final int mask;

  SpanCache(int sizePowerOfTwo) {
    table = new Entry[sizePowerOfTwo];
    mask = sizePowerOfTwo - 1;
  }

  /** The dims read before from the bytes {@code [from, to)} under the limits {@code rule}, or null. */
  Dims get(byte[] b, int from, int to, long rule) {
    int slot = slot(b, from, to);
    Entry e = table[slot];
    if (e != null && e.rule == rule && same(e.bytes, b, from, to)) {
      return e.dims;
    }
    e = table[slot ^ 1];
    if (e != null && e.rule == rule && same(e.bytes, b, from, to)) {
      return e.dims;
    }
    return null;
  }

  /** Whether {@code [from, to)} of {@code b} holds exactly {@code bytes}: 8 at a time, as the spans are short. */
  private static boolean same(byte[] bytes, byte[] b, int from, int to) {
    int n = bytes.length;
    if (n != to - from) {
      return false;
    }
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      if ((long) LONGS.get(bytes, i) != (long) LONGS.get(b, from + i)) {
        return false;
      }
    }
    for (; i < n; i++) {
      if (bytes[i] != b[from + i]) {
        return false;
      }
    }
    return true;
  }

  /** Notes that the bytes {@code [from, to)}, a whole valid dims object, make {@code dims}. */
  void put(byte[] b, int from, int to, Dims dims, long rule) {
    int slot = slot(b, from, to);
    if (table[slot] != null) {
      table[slot ^ 1] = table[slot]; // the newer entry first; the older one stays as the second way
    }
    table[slot] = new Entry(Arrays.copyOfRange(b, from, to), dims, rule);
  }

  private int slot(byte[] b, int from, int to) {
    long h = to - from;
    int i = from;
    for (; i + 8 <= to; i += 8) {
      h = (h ^ (long) LONGS.get(b, i)) * 0x9E3779B97F4A7C15L;
    }
    if (i < to) {
      // the last (up to) 8 bytes, overlapping words already mixed when the span is long enough
      long tail = to - from >= 8 ? (long) LONGS.get(b, to - 8) : small(b, i, to);
      h = (h ^ tail) * 0x9E3779B97F4A7C15L;
    }
    h ^= h >>> 32;
    h ^= h >>> 15;
    return (int) h & mask;
  }

  private static long small(byte[] b, int from, int to) {
    long v = 0;
    for (int i = from; i < to; i++) {
      v = (v << 8) | (b[i] & 0xFF);
    }
    return v;
  }
}
