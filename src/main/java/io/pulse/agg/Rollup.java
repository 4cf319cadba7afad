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
 * @param anomaly the window's anomaly score and its explanation, or null (not scored, or the
 *     series' detector still warming up)
 * @param outliers events of the window that the stream's event model scored as outliers
 */
public record Rollup(View view, Dims series, long start, long end, boolean fin, long count, long latest,
    long latestArrival, String[] names, ValueStats.Summary[] stats, WindowAgg window, Anomaly anomaly,
    long outliers) {

  /** A rollup as the window made it: not scored yet. */
  public Rollup(View view, Dims series, long start, long end, boolean fin, long count, long latest,
      long latestArrival, String[] names, ValueStats.Summary[] stats, WindowAgg window) {
    this(view, series, start, end, fin, count, latest, latestArrival, names, stats, window, null, 0);
  }

  /** A rollup without its window: a running update, or a final whose window is not needed. */
  public Rollup(View view, Dims series, long start, long end, boolean fin, long count, long latest,
      long latestArrival, String[] names, ValueStats.Summary[] stats) {
    this(view, series, start, end, fin, count, latest, latestArrival, names, stats, null);
  }

  /** The same figures without the window, for holders that keep rollups long (the live resume log). */
  public Rollup withoutWindow() {
    return window == null ? this
        : new Rollup(view, series, start, end, fin, count, latest, latestArrival, names, stats, null, anomaly,
            outliers);
  }

  /** The same rollup with its anomaly score (null: none). */
  public Rollup withAnomaly(Anomaly a) {
    return a == anomaly ? this
        : new Rollup(view, series, start, end, fin, count, latest, latestArrival, names, stats, window, a, outliers);
  }

  /** The same rollup with its count of outlier events. */
  public Rollup withOutliers(long n) {
    return n == outliers ? this
        : new Rollup(view, series, start, end, fin, count, latest, latestArrival, names, stats, window, anomaly, n);
  }

  /**
   * The value of one figure in this rollup: {@code count}, or {@code name.figure} with figure one
   * of sum, min, max, mean, p50, p95, p99. NaN when the window has no such value.
   */
  public double figure(String metric, String figure) {
    return figure(count, names, stats, metric, figure);
  }

  /**
   * A figure of a window given as its event count and its values' summaries: {@code count}
   * (metric null, or figure "count"), or a value's sum, min, max, mean, p50, p95, p99 or count;
   * NaN when the window has no such value.
   */
  public static double figure(long count, String[] names, ValueStats.Summary[] stats, String metric, String figure) {
    if (metric == null || "count".equals(figure)) {
      return count;
    }
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(metric)) {
        return figure(stats[i], figure);
      }
    }
    return Double.NaN;
  }

  /** One figure of a value's summary: sum, min, max, mean, p50, p95, p99 or count; NaN for any other name. */
  public static double figure(ValueStats.Summary s, String figure) {
    return switch (figure) {
      case "sum" -> s.sum();
      case "min" -> s.min();
      case "max" -> s.max();
      case "mean" -> s.mean();
      case "p50" -> s.p50();
      case "p95" -> s.p95();
      case "p99" -> s.p99();
      case "count" -> s.count();
      default -> Double.NaN;
    };
  }
}
