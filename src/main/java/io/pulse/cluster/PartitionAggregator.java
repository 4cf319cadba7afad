package io.pulse.cluster;

import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.ShardOutput;
import io.pulse.agg.ViewKey;
import io.pulse.event.Event;
import io.pulse.ingest.Ingestor;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The aggregation of one partition of the events topic, made a pure function of the partition's
 * records so that a replay after a crash or a rebalance gives the same windows, and knowing which
 * offset it is safe to commit.
 *
 * <p><b>Time is the partition's.</b> Processing time is not the wall clock but the highest record
 * timestamp seen in the partition (each HTTP body's records carry the time the body arrived; idle
 * partitions get tick records). Lateness, the window an event goes to and when a window closes
 * all follow from the records alone.
 *
 * <p><b>Commits.</b> Each record is remembered by the close time of the latest window it fed. After
 * a flush at partition time {@code T}, every window closing at or before {@code T} is final; once
 * those finals are stored, every record whose windows all closed is covered. The commit point is
 * the lowest offset of a record still feeding an open window (or the next offset when none does),
 * with two numbers as the commit's metadata: the partition time just before that record, and
 * {@code T}. A replay from there restores the first (so every decision is made again exactly as
 * before) and skips what fed windows closed by {@code T} (they are stored, whole), while every
 * window still open at {@code T} started at or after the commit point and is rebuilt whole. Final
 * rows are idempotent upserts: a window stored twice holds the same figures.
 *
 * <p>Single-threaded: one instance per owned partition, on one event loop.
 */
public final class PartitionAggregator {

  /** Where a replay starts: the offset to commit and its metadata. */
  public record Commit(long offset, long clock, long closed) {

    private static final String PREFIX = "pulse1;";

    /** The commit's metadata text: stored by Kafka beside the offset. */
    public String metadata() {
      return PREFIX + clock + ";" + closed;
    }

    /** The state a replay from {@code offset} starts with; a missing or foreign metadata: from scratch. */
    public static Commit parse(long offset, String metadata) {
      if (metadata != null && metadata.startsWith(PREFIX)) {
        String[] parts = metadata.substring(PREFIX.length()).split(";");
        if (parts.length == 2) {
          try {
            return new Commit(offset, Long.parseLong(parts[0]), Long.parseLong(parts[1]));
          } catch (NumberFormatException e) {
            // fall through: from scratch
          }
        }
      }
      return new Commit(offset, Long.MIN_VALUE, Long.MIN_VALUE);
    }
  }

  private final int partition;
  private final Ingestor ingestor;
  private final ShardAggregator windows;
  private final long allowedLatenessMs;
  /** Windows closing at or before this were stored before the replay began: their events are skipped. */
  private final long skipClosedBy;
  /** The partition's time: the highest record timestamp so far. */
  private long clock;
  /** The offset after the last record taken. */
  private long next;
  /** Close time of open windows -> {lowest offset feeding one, the partition time before that record}. */
  private final TreeMap<Long, long[]> open = new TreeMap<>();
  private long skipped;

  /**
   * @param start where the partition's consumption starts, with the metadata of its last commit
   * @param windows the partition's own windows (a shard aggregator nobody else feeds)
   */
  public PartitionAggregator(int partition, Commit start, Ingestor ingestor, ShardAggregator windows,
      long allowedLatenessMs) {
    this.partition = partition;
    this.ingestor = ingestor;
    this.windows = windows;
    this.allowedLatenessMs = allowedLatenessMs;
    this.clock = start.clock();
    this.skipClosedBy = start.closed();
    this.next = start.offset();
  }

  public int partition() {
    return partition;
  }

  /** The partition's time. */
  public long clock() {
    return clock;
  }

  /** Events skipped because the windows they fed were stored before this replay began. */
  public long skipped() {
    return skipped;
  }

  /** A tick: the partition's time moves on, nothing else. */
  public void tick(long offset, long timestamp) {
    clock = Math.max(clock, timestamp);
    next = offset + 1;
  }

  /**
   * Takes one record's events, validated and admitted where they were produced (their streams taken
   * and their series admitted or folded into the overflow series there, so nothing here depends on
   * what this instance holds). Returns the ingest outcome (late events, already quarantined by the
   * ingestor when the policy says so).
   */
  public Ingestor.Outcome add(long offset, long timestamp, List<Event> events, String source) {
    long before = clock;
    clock = Math.max(clock, timestamp);
    next = offset + 1;
    Ingestor.Outcome out = ingestor.ingestDecided(events, clock, source);
    long feeds = Long.MIN_VALUE;
    for (ShardBatch b : out.batches()) {
      for (int i = 0, n = b.size(); i < n; i++) {
        ViewKey k = b.key(i);
        long w = k.view().windowMs();
        long ts = b.windowTs(i);
        long closes = ts - Math.floorMod(ts, w) + w + allowedLatenessMs;
        if (closes <= skipClosedBy) {
          skipped++;
          continue; // its window was stored whole before this replay
        }
        windows.add(k, b.event(i), ts, clock);
        feeds = Math.max(feeds, closes);
      }
    }
    if (feeds != Long.MIN_VALUE) {
      long[] first = open.get(feeds);
      if (first == null) {
        open.put(feeds, new long[] {offset, before});
      } // else an earlier record already holds the lowest offset for that close time
    }
    return out;
  }

  /**
   * Closes the windows due at the partition's time and reports what changed (see
   * {@link ShardAggregator#flush}), with the commit that becomes safe once this flush's finals
   * (and every earlier one's) are stored.
   */
  public Flushed flush() {
    ShardOutput out = windows.flush(partition, clock);
    Iterator<Map.Entry<Long, long[]>> it = open.entrySet().iterator();
    while (it.hasNext()) {
      if (it.next().getKey() <= clock) {
        it.remove();
      } else {
        break; // sorted by close time
      }
    }
    long offset = next;
    long at = clock;
    for (long[] first : open.values()) {
      if (first[0] < offset) {
        offset = first[0];
        at = first[1];
      }
    }
    return new Flushed(out, new Commit(offset, at, clock));
  }

  /** One flush: what goes to the combiner and storage, and the commit it makes safe. */
  public record Flushed(ShardOutput output, Commit commit) {
  }
}
