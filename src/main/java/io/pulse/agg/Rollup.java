package io.pulse.agg;

import io.pulse.event.Dims;

/**
 * The figures of one series of one view for one window: a running update while the window is
 * open ({@code fin} false), or the closing figures once ({@code fin} true). Immutable; it crosses
 * the event bus by reference and many subscribers share it.
 *
 * @param latest newest event time folded in so far
 * @param latestArrival when the newest event arrived, for the push-latency metric
 * @param window for a final rollup, the closed window itself (with its sketches), for storage;
 *     null for running updates. A closed window is never mutated again, so readers on other
 *     threads may encode it.
 */
public record Rollup(View view, Dims series, long start, long end, boolean fin, long count, long latest,
    long latestArrival, String[] names, ValueStats.Summary[] stats, WindowAgg window) {

  /** A rollup without its window: a running update, or a final whose window is not needed. */
  public Rollup(View view, Dims series, long start, long end, boolean fin, long count, long latest,
      long latestArrival, String[] names, ValueStats.Summary[] stats) {
    this(view, series, start, end, fin, count, latest, latestArrival, names, stats, null);
  }

  /** The same figures without the window, for holders that keep rollups long (the live resume log). */
  public Rollup withoutWindow() {
    return window == null ? this
        : new Rollup(view, series, start, end, fin, count, latest, latestArrival, names, stats, null);
  }
}
