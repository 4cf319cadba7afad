package io.pulse.agg;

import io.pulse.event.Event;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The state of one aggregate shard: tumbling windows for every series it owns. Single-threaded
 * by design (one shard per event loop, series assigned by hash), so it takes no locks.
 *
 * <p>A window [start, end) stays open until processing time reaches end + allowed lateness; it
 * then closes once, with a final rollup, whether or not more events came (a quiet stream's
 * windows still close). While open and watched, every {@link #flush} sends one running update
 * per changed window.
 */
public final class ShardAggregator {

  private final long allowedLatenessMs;
  private final double accuracy;
  private final int maxBins;
  private final Map<ViewKey, Series> series = new HashMap<>();
  private long lateInFlight;

  /** {@code accuracy} and {@code maxBins} configure each value's DDSketch. */
  public ShardAggregator(long allowedLatenessMs, double accuracy, int maxBins) {
    this.allowedLatenessMs = allowedLatenessMs;
    this.accuracy = accuracy;
    this.maxBins = maxBins;
  }

  /** Folds a batch in. {@code now} is processing time. */
  public void add(ShardBatch batch, long now) {
    for (int i = 0, n = batch.size(); i < n; i++) {
      add(batch.key(i), batch.event(i), batch.windowTs(i), now);
    }
  }

  public void add(ViewKey key, Event event, long windowTs, long now) {
    long w = key.view().windowMs();
    long start = windowTs - Math.floorMod(windowTs, w);
    if (start + w + allowedLatenessMs <= now) {
      // Ingest judged it on time, but its window closed while the batch was on its way:
      // it goes into the window open now, and is counted.
      start = now - Math.floorMod(now, w);
      lateInFlight++;
    }
    Series s = series.get(key);
    if (s == null) {
      s = new Series(key);
      series.put(key, s);
    }
    s.window(start, w).add(event);
  }

  /**
   * Closes due windows and reports running updates of changed, watched ones.
   *
   * @param out receives final rollups of windows closed now, then running updates
   */
  public void flush(long now, Consumer<Rollup> out) {
    Iterator<Series> it = series.values().iterator();
    while (it.hasNext()) {
      Series s = it.next();
      boolean live = s.key.view().live();
      Iterator<Window> wi = s.windows.iterator();
      while (wi.hasNext()) {
        Window win = wi.next();
        if (win.end + allowedLatenessMs <= now) {
          out.accept(win.rollup(s.key, true));
          wi.remove();
        } else if (win.dirty && live) {
          out.accept(win.rollup(s.key, false));
          win.dirty = false;
        }
      }
      if (s.windows.isEmpty()) {
        it.remove();
      }
    }
  }

  /** Closes every window now, open or not: for shutdown, so no acknowledged event is left unpushed. */
  public void closeAll(Consumer<Rollup> out) {
    for (Series s : series.values()) {
      for (Window win : s.windows) {
        out.accept(win.rollup(s.key, true));
      }
    }
    series.clear();
  }

  /** Series with at least one open window. */
  public int openSeries() {
    return series.size();
  }

  /** Events that reached this shard after their window had closed, and were folded into the current one. */
  public long lateInFlight() {
    return lateInFlight;
  }

  private final class Series {
    final ViewKey key;
    /** Open windows in start order; usually one, two around a boundary while lateness runs. */
    final List<Window> windows = new ArrayList<>(2);

    Series(ViewKey key) {
      this.key = key;
    }

    Window window(long start, long w) {
      int i = windows.size() - 1;
      while (i >= 0 && windows.get(i).start > start) {
        i--;
      }
      if (i >= 0 && windows.get(i).start == start) {
        return windows.get(i);
      }
      Window win = new Window(start, start + w);
      windows.add(i + 1, win);
      return win;
    }
  }

  private final class Window {
    final long start;
    final long end;
    long count;
    long latest = Long.MIN_VALUE;
    long latestArrival = Long.MIN_VALUE;
    String[] names = new String[2];
    ValueStats[] stats = new ValueStats[2];
    int n;
    boolean dirty;

    Window(long start, long end) {
      this.start = start;
      this.end = end;
    }

    void add(Event e) {
      count++;
      dirty = true;
      if (e.ts() > latest) {
        latest = e.ts();
      }
      if (e.arrival() > latestArrival) {
        latestArrival = e.arrival();
      }
      for (int i = 0, m = e.valueCount(); i < m; i++) {
        stats(e.name(i)).add(e.value(i));
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
        names = java.util.Arrays.copyOf(names, n * 2);
        stats = java.util.Arrays.copyOf(stats, n * 2);
      }
      names[n] = name;
      stats[n] = new ValueStats(accuracy, maxBins);
      return stats[n++];
    }

    Rollup rollup(ViewKey key, boolean fin) {
      String[] nm = java.util.Arrays.copyOf(names, n);
      ValueStats.Summary[] sm = new ValueStats.Summary[n];
      byte[][] sk = fin ? new byte[n][] : null;
      for (int i = 0; i < n; i++) {
        sm[i] = stats[i].summary();
        if (fin) {
          sk[i] = stats[i].sketchBytes();
        }
      }
      return new Rollup(key.view(), key.series(), start, end, fin, count, latest, latestArrival, nm, sm, sk);
    }
  }
}
