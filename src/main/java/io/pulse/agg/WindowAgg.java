package io.pulse.agg;

import io.pulse.event.Event;
import java.util.Arrays;

/**
 * The mergeable state of one window of one series or group: event count, newest event and
 * arrival times, and {@link ValueStats} per value name. Shards fill it event by event for their
 * series, and build the windows of coarser views (totals, group-bys) by merging series windows;
 * the combiner merges the shards' partial windows. Not thread-safe: a window is mutated by one
 * thread, and once handed to another it is only read.
 */
public final class WindowAgg {

  private final long start;
  private final long end;
  private final double accuracy;
  private final int maxBins;
  private long count;
  private long latest = Long.MIN_VALUE;
  private long latestArrival = Long.MIN_VALUE;
  /** Events the stream's event model scored as outliers (io.pulse.score); added up by merges like the count. */
  private long outliers;
  private String[] names = new String[2];
  private ValueStats[] stats = new ValueStats[2];
  private int n;
  /** The stats of the last event's value names, by position, while events share one names array. */
  private String[] lastNames;
  private ValueStats[] lastStats;
  /**
   * The values of the last events, not yet given to their stats: {@link #rows} events of
   * {@code lastStats.length} values each, row by row. An event then touches only this window and
   * this buffer; each value's stats take a run of values at a time, while they are in cache (with
   * thousands of series per shard, a stats update per value was mostly cache misses). Every reader
   * of the stats settles the buffer first ({@link #settle}), and the stats see the values in the
   * order the events came, so nothing a reader sees changes.
   */
  private double[] rowValues;
  private int rows;

  private static final int ROWS = 32;

  public WindowAgg(long start, long end, double accuracy, int maxBins) {
    this.start = start;
    this.end = end;
    this.accuracy = accuracy;
    this.maxBins = maxBins;
  }

  /** An empty window of the same span and sketch settings. */
  public WindowAgg emptyLike() {
    return new WindowAgg(start, end, accuracy, maxBins);
  }

  public void add(Event e) {
    count++;
    if (e.ts() > latest) {
      latest = e.ts();
    }
    if (e.arrival() > latestArrival) {
      latestArrival = e.arrival();
    }
    ValueStats[] ls = lastStats;
    if (ls != null && !e.hasNamesArray(lastNames) && sameNames(e.namesArray(), lastNames)) {
      lastNames = e.namesArray(); // another array of the same names (producers that make one per event)
    }
    if (ls == null || !e.hasNamesArray(lastNames)) {
      settle(); // the buffered rows belong to the previous names
      // parsers share one names array between the events of a body that name the same values
      String[] names = e.namesArray();
      ls = new ValueStats[names.length];
      for (int i = 0; i < names.length; i++) {
        ls[i] = stats(names[i]);
      }
      lastNames = names;
      lastStats = ls;
      if (rowValues == null || rowValues.length < ROWS * ls.length) {
        rowValues = new double[ROWS * Math.max(2, ls.length)];
      }
    } else if (rows == ROWS) {
      settle();
    }
    double[] buf = rowValues;
    int width = ls.length;
    int at = rows * width;
    for (int i = 0; i < width; i++) {
      buf[at + i] = e.value(i);
    }
    rows++;
  }

  /** Whether two names arrays hold the same names in the same order (names are canonical, so by identity first). */
  private static boolean sameNames(String[] a, String[] b) {
    if (a.length != b.length) {
      return false;
    }
    for (int i = 0; i < a.length; i++) {
      if (a[i] != b[i] && !a[i].equals(b[i])) {
        return false;
      }
    }
    return true;
  }

  /** Gives the buffered values to their stats, each value's run in event order. */
  private void settle() {
    int r = rows;
    if (r == 0) {
      return;
    }
    rows = 0; // first: a stats update that throws must not leave the rows to be given again
    ValueStats[] ls = lastStats;
    double[] buf = rowValues;
    int width = ls.length;
    for (int i = 0; i < width; i++) {
      ValueStats st = ls[i];
      for (int k = 0, at = i; k < r; k++, at += width) {
        st.add(buf[at]);
      }
    }
  }

  /**
   * Folds another window of the same span into this one. The other window's buffered values are
   * fed to its sketches first: if that fails (a value its sketch cannot hold), this window is left
   * as it was.
   */
  public void merge(WindowAgg other) {
    other.settle();
    settle();
    for (int i = 0; i < other.n; i++) {
      other.stats[i].settle();
    }
    count += other.count;
    outliers += other.outliers;
    latest = Math.max(latest, other.latest);
    latestArrival = Math.max(latestArrival, other.latestArrival);
    for (int i = 0; i < other.n; i++) {
      stats(other.names[i]).merge(other.stats[i]);
    }
  }

  private ValueStats stats(String name) {
    for (int i = 0; i < n; i++) {
      // names come canonicalised from the parser, so identity usually hits first
      if (names[i] == name || names[i].equals(name)) {
        return stats[i];
      }
    }
    if (n == names.length) {
      names = Arrays.copyOf(names, n * 2);
      stats = Arrays.copyOf(stats, n * 2);
    }
    names[n] = name;
    stats[n] = new ValueStats(accuracy, maxBins);
    return stats[n++];
  }

  public long start() {
    return start;
  }

  public long end() {
    return end;
  }

  public long count() {
    return count;
  }

  /** The rollup of this window for a key. */
  public Rollup rollup(ViewKey key, boolean fin) {
    settle();
    String[] nm = Arrays.copyOf(names, n);
    ValueStats.Summary[] sm = new ValueStats.Summary[n];
    for (int i = 0; i < n; i++) {
      sm[i] = stats[i].summary();
    }
    return new Rollup(key.view(), key.series(), start, end, fin, count, latest, latestArrival, nm, sm,
        fin ? this : null, null, outliers); // a final carries its closed window, for storage
  }

  /** Counts one event of this window as an outlier (it was {@link #add}ed as usual). */
  public void countOutlier() {
    outliers++;
  }

  /** Events of this window scored as outliers. */
  public long outliers() {
    return outliers;
  }

  // ---- storage (appended; the row format is io.pulse.store.RollupCodec's) ----

  /** Newest event time folded in (Long.MIN_VALUE when none). */
  public long latest() {
    return latest;
  }

  /** Number of value names in the window. */
  public int valueCount() {
    return n;
  }

  public String valueName(int i) {
    return names[i];
  }

  public ValueStats valueStats(int i) {
    settle();
    return stats[i];
  }

  /** The stats of one value name, made empty if the window has none yet: for merging stored windows in. */
  public ValueStats valueStatsFor(String name) {
    settle();
    return stats(name);
  }

  /** Folds in a stored window's event count and newest event time (its values go through {@link #valueStatsFor}). */
  public void addCounts(long count, long latest) {
    this.count += count;
    this.latest = Math.max(this.latest, latest);
  }

  /** Relative accuracy of the window's sketches. */
  public double accuracy() {
    return accuracy;
  }
}
