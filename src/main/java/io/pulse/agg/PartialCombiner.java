package io.pulse.agg;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Adds up the shards' partial windows of coarser views into their rollups. Each shard reports,
 * per group and window, its latest running state or its final figures, and with every flush a
 * watermark; a window's final rollup goes out once every shard's watermark has passed its end,
 * so it holds every shard's share exactly once. A share of a window that already went out as final
 * is dropped: in cluster mode a partition replayed by a new owner sends again the windows it had
 * closed since its last commit, and their finals went out whole before (each shard's share is in a
 * final only once that shard's watermark passed the window). On a single node no shard sends one: a
 * shard never holds a window past its own watermark (an event routed on time whose window closed on
 * its way goes to the open window), and a view made later gets partials of open windows only.
 * Single-threaded (one combiner verticle).
 */
public final class PartialCombiner {

  private final long[] watermarks;
  private final Map<Key, Entry> entries = new HashMap<>();
  /** Groups with news since the last round of running updates. */
  private final Set<Entry> changed = new LinkedHashSet<>();
  private final boolean[] reported;
  private int reportedCount;
  private final AggregationGuard guard;
  /** Windows ending at or before this went out as finals: every shard's watermark had passed them. */
  private long combinedBefore = Long.MIN_VALUE;
  private long resentDropped;

  public PartialCombiner(int shards) {
    this(shards, AggregationGuard.standalone(shards));
  }

  /** @param guard where a group window that cannot be combined is reported (it is dropped, the others go on) */
  public PartialCombiner(int shards, AggregationGuard guard) {
    this.guard = guard;
    this.watermarks = new long[shards];
    this.reported = new boolean[shards];
    Arrays.fill(watermarks, Long.MIN_VALUE);
  }

  private record Key(ViewKey key, long start) {
  }

  private static final class Entry {
    final ViewKey key;
    final long end;
    final WindowAgg[] byShard;

    Entry(ViewKey key, long end, int shards) {
      this.key = key;
      this.end = end;
      this.byShard = new WindowAgg[shards];
    }

    WindowAgg merged() {
      WindowAgg sum = null;
      for (WindowAgg w : byShard) {
        if (w != null) {
          if (sum == null) {
            sum = w.emptyLike();
          }
          sum.merge(w);
        }
      }
      return sum;
    }
  }

  /**
   * Takes one shard's flush: its own series' rollups pass through; partials update their groups;
   * windows every shard has closed go out as finals. Running updates of the groups that changed
   * go out once per round, when every shard has reported since the last one: at most one per
   * group per flush tick, however many shards contributed.
   */
  public void accept(ShardOutput o, Consumer<Rollup> out) {
    accept(o, out, Long.MIN_VALUE);
  }

  /** {@link #accept(ShardOutput, Consumer)}, with processing time for the guard's reports. */
  public void accept(ShardOutput o, Consumer<Rollup> out, long now) {
    o.rollups().forEach(out);
    for (Partial p : o.partials()) {
      Key k = new Key(p.key(), p.window().start());
      Entry e = entries.get(k);
      if (e == null) {
        if (p.window().end() <= combinedBefore) {
          resentDropped++; // its final went out whole already (a replayed partition sends it again)
          continue;
        }
        e = new Entry(p.key(), p.window().end(), watermarks.length);
        entries.put(k, e);
      }
      e.byShard[o.shard()] = p.window(); // the latest state of that shard's share, final or running
      if (!p.fin()) {
        changed.add(e);
      }
    }
    watermarks[o.shard()] = Math.max(watermarks[o.shard()], o.closedBefore());
    long closed = Long.MAX_VALUE;
    for (long w : watermarks) {
      closed = Math.min(closed, w);
    }
    combinedBefore = Math.max(combinedBefore, closed);
    Iterator<Entry> it = entries.values().iterator();
    List<Entry> done = new ArrayList<>();
    while (it.hasNext()) {
      Entry e = it.next();
      if (e.end <= closed) {
        done.add(e);
        it.remove();
      }
    }
    done.sort((a, b) -> Long.compare(a.end, b.end));
    for (Entry e : done) {
      emit(e, true, out, now);
      changed.remove(e);
    }
    if (!reported[o.shard()]) {
      reported[o.shard()] = true;
      reportedCount++;
    }
    if (reportedCount == reported.length) {
      for (Entry e : changed) {
        if (e.key.view().live()) {
          emit(e, false, out, now);
        }
      }
      changed.clear();
      Arrays.fill(reported, false);
      reportedCount = 0;
    }
  }

  /** Emits every window held as final: for shutdown, after every shard has closed all. */
  public void closeAll(Consumer<Rollup> out) {
    closeAll(out, Long.MIN_VALUE);
  }

  /** {@link #closeAll(Consumer)}, with processing time for the guard's reports. */
  public void closeAll(Consumer<Rollup> out, long now) {
    List<Entry> all = new ArrayList<>(entries.values());
    entries.clear();
    changed.clear();
    all.sort((a, b) -> Long.compare(a.end, b.end));
    for (Entry e : all) {
      emit(e, true, out, now);
    }
  }

  /** One group window's rollup; one that cannot be combined is dropped and reported, the others go on. */
  private void emit(Entry e, boolean fin, Consumer<Rollup> out, long now) {
    Rollup r;
    try {
      r = e.merged().rollup(e.key, fin);
    } catch (RuntimeException ex) {
      guard.groupFailed(e.key, e.end - e.key.view().windowMs(), fin, ex, now);
      return;
    }
    out.accept(r);
  }

  /** Shares dropped because their window had gone out as final already (replays in cluster mode). */
  public long resentDropped() {
    return resentDropped;
  }

  /** Group windows waiting for shards to close them. */
  public int pending() {
    return entries.size();
  }
}
