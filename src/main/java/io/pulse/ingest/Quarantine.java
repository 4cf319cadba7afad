package io.pulse.ingest;

import java.util.ArrayList;
import java.util.List;

/**
 * Rejected events with their reasons, newest kept: a bounded ring in memory (PostgreSQL takes
 * over with the storage work). Written by ingest threads on the error path only, so a plain lock
 * is fine here.
 */
public final class Quarantine {

  /**
   * One quarantined event of a tenant. {@code stream} is the name the event gave (null when it gave
   * none that could be read); {@code source} says which path it came by ("http", "late", "demo").
   */
  public record Entry(long seq, long at, String tenant, String stream, String source, String reason, String payload) {
  }

  private final Entry[] ring;
  private final int maxPayloadChars;
  private long next;

  public Quarantine(int capacity, int maxPayloadChars) {
    this.ring = new Entry[capacity];
    this.maxPayloadChars = maxPayloadChars;
  }

  public synchronized void add(long at, String tenant, String stream, String source, String reason, String payload) {
    String p = payload == null ? "" : payload;
    if (p.length() > maxPayloadChars) {
      p = p.substring(0, maxPayloadChars) + "…";
    }
    ring[(int) (next % ring.length)] = new Entry(next, at, tenant, stream, source, reason, p);
    next++;
  }

  /** The tenant's entries, newest first; {@code stream} null for all its streams. */
  public synchronized List<Entry> list(String tenant, String stream, int limit) {
    List<Entry> out = new ArrayList<>();
    long oldest = Math.max(0, next - ring.length);
    for (long s = next - 1; s >= oldest && out.size() < limit; s--) {
      Entry e = ring[(int) (s % ring.length)];
      if (tenant.equals(e.tenant()) && (stream == null || stream.equals(e.stream()))) {
        out.add(e);
      }
    }
    return out;
  }

  /**
   * What was added from sequence number {@code from} on, oldest first, at most {@code max}: for the
   * writer that stores the ring in the database. {@code missed} counts entries after {@code from}
   * that the ring overwrote before they were asked for; {@code next} is where to ask from next time.
   */
  public synchronized Since since(long from, int max) {
    long oldest = Math.max(0, next - ring.length);
    long start = Math.max(from, oldest);
    long end = Math.min(next, start + max);
    List<Entry> out = new ArrayList<>((int) (end - start));
    for (long s = start; s < end; s++) {
      out.add(ring[(int) (s % ring.length)]);
    }
    return new Since(out, start - Math.min(from, start), end);
  }

  /** A slice of the ring for the database writer; see {@link #since}. */
  public record Since(List<Entry> entries, long missed, long next) {
  }

  /** Entries ever quarantined, including those the ring no longer holds. */
  public synchronized long total() {
    return next;
  }

  public int capacity() {
    return ring.length;
  }
}
