package io.pulse.agg;

import io.pulse.core.StreamId;
import io.pulse.event.Event;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The state of one aggregate shard: tumbling windows for every series it owns. Single-threaded
 * by design (one shard per event loop, series assigned by hash), so it takes no locks.
 *
 * <p>Events update only their own series' window. The stream total, group-bys and filtered views
 * are built at each flush by merging the windows of the series that roll up into them (lossless:
 * count, sum, min and max add up, and DDSketches merge bucket by bucket); each shard reports its
 * share as {@link Partial}s, which a {@link PartialCombiner} adds up across shards. Per event
 * that is one window update instead of one per view.
 *
 * <p>A window [start, end) stays open until processing time reaches end + allowed lateness; it
 * then closes once, whether or not more events came (a quiet stream's windows still close).
 * While open, every flush reports the windows that changed, for the views somebody watches.
 */
public final class ShardAggregator {

  private final long allowedLatenessMs;
  private final double accuracy;
  private final int maxBins;
  private final Function<StreamId, View[]> viewsOf;
  private final Map<ViewKey, Series> series = new HashMap<>();
  private long lateInFlight;
  private final int shard;
  private final AggregationGuard guard;
  /** Event scoring of this shard's scored streams, or null when no stream is scored. */
  private io.pulse.score.ShardScoring scoring;

  /**
   * @param viewsOf the current views of a stream (the registry's lock-free read)
   * @param accuracy relative accuracy of each value's DDSketch
   * @param maxBins bin cap of each DDSketch
   */
  public ShardAggregator(long allowedLatenessMs, double accuracy, int maxBins, Function<StreamId, View[]> viewsOf) {
    this(allowedLatenessMs, accuracy, maxBins, viewsOf, 0, AggregationGuard.standalone(1));
  }

  /**
   * @param shard this shard's number, for the guard
   * @param guard where a failing series window is reported (it is dropped, the others go on), and
   *     each completed flush, for the watchdog
   */
  public ShardAggregator(long allowedLatenessMs, double accuracy, int maxBins, Function<StreamId, View[]> viewsOf,
      int shard, AggregationGuard guard) {
    this.allowedLatenessMs = allowedLatenessMs;
    this.accuracy = accuracy;
    this.maxBins = maxBins;
    this.viewsOf = viewsOf;
    this.shard = shard;
    this.guard = guard;
  }

  /** Scores the events of scored streams as they are added (null: none scored); set before the first event. */
  public void scoring(io.pulse.score.ShardScoring s) {
    this.scoring = s;
  }

  /** Folds a batch in. {@code now} is processing time. */
  public void add(ShardBatch batch, long now) {
    for (int i = 0, n = batch.size(); i < n; i++) {
      add(batch.key(i), batch.event(i), batch.windowTs(i), now);
    }
  }

  /** Adds one event to a series window; {@code key} is the series' key in its stream's per-series view. */
  public void add(ViewKey key, Event event, long windowTs, long now) {
    long w = key.view().windowMs();
    long start = windowTs - Math.floorMod(windowTs, w);
    if (start + w + allowedLatenessMs <= now) {
      // Ingest judged it on time, but its window closed while the batch was on its way:
      // it goes into the window open now, and is counted.
      start = now - Math.floorMod(now, w);
      lateInFlight++;
    }
    Object cached = key.shardState();
    Series s;
    if (cached instanceof Series c && c.owner() == this && !c.removed) {
      s = c;
    } else {
      s = series.get(key);
      if (s == null) {
        s = new Series(key);
        series.put(key, s);
      }
      key.shardState(s);
    }
    WindowAgg window = s.window(start, w);
    try {
      window.add(event);
      if (scoring != null && scoring.outlier(event)) {
        window.countOutlier();
      }
    } catch (RuntimeException e) {
      // the window may be half-updated: drop it whole, count it, and go on with the batch
      s.drop(window);
      guard.seriesFailed(shard, key, window.start(), window.count(), "adding an event", e, now);
    }
  }

  /**
   * Closes due windows and reports what changed: complete rollups of this shard's series (finals
   * always, running ones when the per-series view is watched) and partial windows of the coarser
   * views (finals always, running ones for watched views).
   */
  public ShardOutput flush(int shard, long now) {
    List<Rollup> rollups = new ArrayList<>();
    Map<GroupWindow, WindowAgg> finals = new LinkedHashMap<>();
    Set<GroupWindow> touched = new HashSet<>();
    Iterator<Series> it = series.values().iterator();
    while (it.hasNext()) {
      Series s = it.next();
      ViewKey[] coarse = s.coarse(viewsOf.apply(s.key.view().stream()));
      boolean live = s.key.view().live();
      Iterator<Open> wi = s.windows.iterator();
      while (wi.hasNext()) {
        Open o = wi.next();
        if (o.agg.end() + allowedLatenessMs <= now) {
          wi.remove();
          if (s.last == o) {
            s.last = null; // a closed window never takes another event
          }
          close(s.key, coarse, o.agg, rollups, finals, now);
        } else if (o.dirty) {
          if (live) {
            Rollup r;
            try {
              r = o.agg.rollup(s.key, false);
            } catch (RuntimeException e) {
              // this window cannot be summed up: drop it, count it, and go on with the others
              wi.remove();
              if (s.last == o) {
                s.last = null;
              }
              guard.seriesFailed(shard, s.key, o.agg.start(), o.agg.count(), "summing up a running update", e, now);
              continue;
            }
            rollups.add(r);
          }
          for (ViewKey k : coarse) {
            if (k.view().live()) {
              touched.add(new GroupWindow(k, o.agg.start()));
            }
          }
          o.dirty = false;
        }
      }
      if (s.windows.isEmpty()) {
        s.removed = true;
        it.remove();
      }
    }
    List<Partial> partials = finalPartials(finals);
    if (!touched.isEmpty()) {
      // a group's running state is the merge of all its series' open windows, changed or not
      Map<GroupWindow, WindowAgg> running = new LinkedHashMap<>();
      Set<GroupWindow> failed = new HashSet<>(0);
      for (Series s : series.values()) {
        ViewKey[] coarse = s.coarse(viewsOf.apply(s.key.view().stream()));
        for (Open o : s.windows) {
          for (ViewKey k : coarse) {
            GroupWindow g = new GroupWindow(k, o.agg.start());
            if (touched.contains(g)) {
              try {
                running.computeIfAbsent(g, x -> o.agg.emptyLike()).merge(o.agg);
              } catch (RuntimeException e) {
                failed.add(g); // a running update only: the next tick merges it again
                guard.mergeFailed(shard, s.key, k, o.agg.start(), e, now);
              }
            }
          }
        }
      }
      running.forEach((g, agg) -> {
        if (!failed.contains(g)) {
          partials.add(new Partial(g.key, agg, false));
        }
      });
    }
    guard.flushed(this.shard, now);
    // saturating: a partition that has seen no record yet has no time (Long.MIN_VALUE), and must not wrap to the far future
    long closedBefore = now < Long.MIN_VALUE + allowedLatenessMs ? Long.MIN_VALUE : now - allowedLatenessMs;
    return new ShardOutput(shard, rollups, partials, closedBefore);
  }

  /** Closes every window now, open or not: for shutdown, so no acknowledged event is left unpushed. */
  public ShardOutput closeAll(int shard) {
    return closeAll(shard, Long.MIN_VALUE);
  }

  /** {@link #closeAll(int)}, with processing time for the guard's reports. */
  public ShardOutput closeAll(int shard, long now) {
    List<Rollup> rollups = new ArrayList<>();
    Map<GroupWindow, WindowAgg> finals = new LinkedHashMap<>();
    for (Series s : series.values()) {
      ViewKey[] coarse = s.coarse(viewsOf.apply(s.key.view().stream()));
      for (Open o : s.windows) {
        close(s.key, coarse, o.agg, rollups, finals, now);
      }
      s.removed = true;
    }
    series.clear();
    if (now != Long.MIN_VALUE) {
      guard.flushed(this.shard, now);
    }
    return new ShardOutput(shard, rollups, finalPartials(finals), Long.MAX_VALUE);
  }

  /**
   * Closes one series window: its final rollup, and its share of every coarser group's final. A
   * window that cannot be summed up is dropped whole (counted, reported); one that cannot be merged
   * into a group leaves that group without it (reported) and the others with it.
   */
  private void close(ViewKey key, ViewKey[] coarse, WindowAgg window, List<Rollup> rollups,
      Map<GroupWindow, WindowAgg> finals, long now) {
    Rollup r;
    try {
      r = window.rollup(key, true);
    } catch (RuntimeException e) {
      guard.seriesFailed(shard, key, window.start(), window.count(), "closing the window", e, now);
      return;
    }
    rollups.add(r);
    for (ViewKey k : coarse) {
      try {
        finals.computeIfAbsent(new GroupWindow(k, window.start()), g -> window.emptyLike()).merge(window);
      } catch (RuntimeException e) {
        guard.mergeFailed(shard, key, k, window.start(), e, now);
      }
    }
  }

  private static List<Partial> finalPartials(Map<GroupWindow, WindowAgg> finals) {
    List<Partial> partials = new ArrayList<>(finals.size());
    finals.forEach((g, agg) -> partials.add(new Partial(g.key, agg, true)));
    return partials;
  }

  /** Series with at least one open window. */
  public int openSeries() {
    return series.size();
  }

  /** Events that reached this shard after their window had closed, and were folded into the current one. */
  public long lateInFlight() {
    return lateInFlight;
  }

  /** A window of one group of a coarser view. */
  private record GroupWindow(ViewKey key, long start) {
  }

  private static final class Open {
    final WindowAgg agg;
    boolean dirty;

    Open(WindowAgg agg) {
      this.agg = agg;
    }
  }

  private final class Series {
    final ViewKey key;
    /** Open windows in start order; usually one, two around a boundary while lateness runs. */
    final List<Open> windows = new ArrayList<>(2);
    /** The window the last event went to: nearly every event goes to the same one. */
    private Open last;
    /** Set when the shard drops this series, so a key's cached state is not reused. */
    boolean removed;
    private View[] viewsSeen;
    private ViewKey[] coarse;

    Series(ViewKey key) {
      this.key = key;
    }

    /** The keys of the stream's other views that this series rolls up into, worked out once per set of views. */
    ViewKey[] coarse(View[] views) {
      if (views != viewsSeen) {
        List<ViewKey> keys = new ArrayList<>(views.length);
        for (View v : views) {
          if (v != key.view() && v.matches(key.series())) {
            keys.add(v.key(key.series()));
          }
        }
        coarse = keys.toArray(new ViewKey[0]);
        viewsSeen = views;
      }
      return coarse;
    }

    ShardAggregator owner() {
      return ShardAggregator.this;
    }

    /** Forgets one open window (it failed); the series goes at the next flush if it has no other. */
    void drop(WindowAgg agg) {
      windows.removeIf(o -> o.agg == agg);
      if (last != null && last.agg == agg) {
        last = null;
      }
    }

    WindowAgg window(long start, long w) {
      Open l = last;
      if (l != null && l.agg.start() == start) {
        l.dirty = true;
        return l.agg;
      }
      int i = windows.size() - 1;
      while (i >= 0 && windows.get(i).agg.start() > start) {
        i--;
      }
      Open o;
      if (i >= 0 && windows.get(i).agg.start() == start) {
        o = windows.get(i);
      } else {
        o = new Open(new WindowAgg(start, start + w, accuracy, maxBins));
        windows.add(i + 1, o);
      }
      o.dirty = true;
      last = o;
      return o.agg;
    }
  }
}
