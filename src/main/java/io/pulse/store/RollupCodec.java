package io.pulse.store;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.encoding.ByteArrayInput;
import com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput;
import com.datadoghq.sketch.ddsketch.mapping.BitwiseLinearlyInterpolatedMapping;
import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;
import com.datadoghq.sketch.ddsketch.store.PaginatedStore;
import io.pulse.agg.ValueStats;
import io.pulse.agg.WindowAgg;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;

/**
 * The {@code data} column of a rollup row: one closed window's figures per value name, exactly
 * (count, sum, min, max) plus its DDSketch, so that stored windows merge into coarser ones exactly
 * as the sketch allows. The window's event count and newest event time are columns of their own.
 *
 * <pre>
 * byte    format version (1)
 * varint  length, then the sketches' index mapping in DDSketch's encoding (once per row)
 * varint  number of values, then per value:
 *   varint length + UTF-8 name
 *   varint count; double sum, min, max (IEEE 754, little-endian)
 *   varint length + the sketch's bins in DDSketch's encoding, without the mapping
 * </pre>
 *
 * Sketches are read back with DDSketch's own decoder into PaginatedStores of the configured
 * mapping ({@link BitwiseLinearlyInterpolatedMapping} at {@code aggregation.sketchRelativeAccuracy}).
 * Rows written under another accuracy are converted to it (each bin re-indexed: an extra error of at
 * most that accuracy, never silently wrong). Immutable and thread-safe.
 */
public final class RollupCodec {

  static final byte VERSION = 1;

  private final double accuracy;
  private final int maxBins;
  private final IndexMapping mapping;
  private final byte[] mappingBytes;

  public RollupCodec(double accuracy, int maxBins) {
    this.accuracy = accuracy;
    this.maxBins = maxBins;
    this.mapping = new BitwiseLinearlyInterpolatedMapping(accuracy);
    GrowingByteArrayOutput out = GrowingByteArrayOutput.withInitialCapacity(32);
    try {
      mapping.encode(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.mappingBytes = out.trimmedCopy();
  }

  public double accuracy() {
    return accuracy;
  }

  /** A closed window's values as stored; the window is only read (its sketches are drained by it, as by a summary). */
  public byte[] encode(WindowAgg w) {
    Bytes out = new Bytes(64 + 48 * w.valueCount());
    GrowingByteArrayOutput sketch = GrowingByteArrayOutput.withInitialCapacity(64);
    out.put(VERSION);
    out.varint(mappingBytes.length);
    out.put(mappingBytes, mappingBytes.length);
    out.varint(w.valueCount());
    try {
      for (int i = 0; i < w.valueCount(); i++) {
        ValueStats v = w.valueStats(i);
        byte[] name = w.valueName(i).getBytes(StandardCharsets.UTF_8);
        out.varint(name.length);
        out.put(name, name.length);
        out.varint(v.count());
        out.float64(v.sum());
        out.float64(v.min());
        out.float64(v.max());
        sketch.clear();
        v.encodeSketch(sketch);
        out.varint(sketch.numWrittenBytes());
        out.put(sketch.backingArray(), sketch.numWrittenBytes());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // writes to memory only
    }
    return out.toArray();
  }

  /** A stored window as a mergeable WindowAgg of the configured sketch settings. */
  public WindowAgg decode(byte[] data, long start, long end, long count, long latest) {
    WindowAgg w = new WindowAgg(start, end, accuracy, maxBins);
    mergeInto(w, data, count, latest, null);
    return w;
  }

  /**
   * Folds a stored window into {@code target} (of the same or a coarser span), reading the sketch
   * bins straight into the target's sketches: no window per row when merging many.
   *
   * @param metrics the value names to keep, or null for all
   * @throws IllegalArgumentException when the bytes are not a rollup of a known format
   */
  public void mergeInto(WindowAgg target, byte[] data, long count, long latest, Collection<String> metrics) {
    Reader in = new Reader(data);
    try {
      byte version = in.get();
      if (version != VERSION) {
        throw new IllegalArgumentException("unknown rollup format " + version);
      }
      int mlen = (int) in.varint();
      int mpos = in.pos;
      in.skip(mlen);
      IndexMapping stored = Arrays.equals(data, mpos, mpos + mlen, mappingBytes, 0, mappingBytes.length) ? null
          : DDSketch.decode(ByteArrayInput.wrap(data, mpos, mlen), PaginatedStore::new).getIndexMapping();
      target.addCounts(count, latest);
      long values = in.varint();
      for (long i = 0; i < values; i++) {
        int nlen = (int) in.varint();
        String name = new String(data, in.pos, nlen, StandardCharsets.UTF_8);
        in.skip(nlen);
        long c = in.varint();
        double sum = in.float64();
        double min = in.float64();
        double max = in.float64();
        int slen = (int) in.varint();
        int spos = in.pos;
        in.skip(slen);
        if (metrics != null && !metrics.contains(name)) {
          continue;
        }
        ValueStats into = target.valueStatsFor(name);
        if (stored == null) {
          into.mergeEncoded(c, sum, min, max, ByteArrayInput.wrap(data, spos, slen));
        } else {
          DDSketch other = DDSketch.decode(ByteArrayInput.wrap(data, spos, slen), PaginatedStore::new, stored)
              .convert(mapping, PaginatedStore::new);
          into.merge(ValueStats.restore(c, sum, min, max, other));
        }
      }
    } catch (IOException | IndexOutOfBoundsException e) {
      throw new IllegalArgumentException("a stored rollup is malformed: " + e, e);
    }
  }

  /** A growable byte array with LEB128 varints and little-endian doubles. */
  private static final class Bytes {
    private byte[] buf;
    private int n;

    Bytes(int capacity) {
      buf = new byte[capacity];
    }

    private void room(int more) {
      if (n + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, n + more));
      }
    }

    void put(byte b) {
      room(1);
      buf[n++] = b;
    }

    void put(byte[] b, int len) {
      room(len);
      System.arraycopy(b, 0, buf, n, len);
      n += len;
    }

    void varint(long v) {
      room(10);
      while ((v & ~0x7FL) != 0) {
        buf[n++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      buf[n++] = (byte) v;
    }

    void float64(double d) {
      long bits = Double.doubleToRawLongBits(d);
      room(8);
      for (int i = 0; i < 8; i++) {
        buf[n++] = (byte) (bits >>> (8 * i));
      }
    }

    byte[] toArray() {
      return Arrays.copyOf(buf, n);
    }
  }

  private static final class Reader {
    private final byte[] buf;
    int pos;

    Reader(byte[] buf) {
      this.buf = buf;
    }

    byte get() {
      return buf[pos++];
    }

    void skip(int len) {
      if (len < 0 || pos + len > buf.length) {
        throw new IndexOutOfBoundsException("length " + len + " at " + pos + " of " + buf.length);
      }
      pos += len;
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        byte b = buf[pos++];
        v |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return v;
        }
      }
      throw new IndexOutOfBoundsException("varint too long at " + pos);
    }

    double float64() {
      long bits = 0;
      for (int i = 0; i < 8; i++) {
        bits |= (long) (buf[pos++] & 0xFF) << (8 * i);
      }
      return Double.longBitsToDouble(bits);
    }
  }
}
