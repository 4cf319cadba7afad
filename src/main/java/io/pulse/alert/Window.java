package io.pulse.alert;

import io.pulse.agg.Anomaly;
import io.pulse.agg.Rollup;
import io.pulse.agg.WindowAgg;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;

/**
 * One closed window of one series of one view, as the alert engine reads it: a final
 * {@link Rollup} live, or a stored window replayed by a preview.
 */
public interface Window {

  StreamId stream();

  /** The canonical text of the view ({@link io.pulse.agg.View#spec}): which rules read it. */
  String viewSpec();

  Dims series();

  long start();

  long end();

  /** {@code count}, or a value's figure; NaN when the window has no such value. */
  double figure(String metric, String figure);

  /** The window's anomaly score and explanation, or null (not scored, or warming up). */
  Anomaly anomaly();

  long outliers();

  /** The same window with an anomaly score put on it (a preview scoring stored history). */
  static Window scored(Window w, Anomaly a) {
    return new Fixed(w.stream(), w.viewSpec(), w.series(), w.start(), w.end(), w::figure, a, w.outliers());
  }

  /** A final rollup. */
  static Window of(Rollup r) {
    return new Fixed(r.view().stream(), r.view().spec(), r.series(), r.start(), r.end(), r::figure, r.anomaly(),
        r.outliers());
  }

  /** A stored window read back (its figures merged from storage); scores and outliers as given. */
  static Window of(StreamId stream, String viewSpec, Dims series, WindowAgg w, Anomaly anomaly, long outliers) {
    return new Fixed(stream, viewSpec, series, w.start(), w.end(), (metric, figure) -> storedFigure(w, metric, figure),
        anomaly, outliers);
  }

  /** {@code count}, or a value's figure of a stored window; NaN when the window has no such value. */
  private static double storedFigure(WindowAgg w, String metric, String figure) {
    if (metric == null || "count".equals(figure)) {
      return w.count();
    }
    for (int i = 0; i < w.valueCount(); i++) {
      if (w.valueName(i).equals(metric)) {
        return Rollup.figure(w.valueStats(i).summary(), figure); // not valueStatsFor: that would add the value
      }
    }
    return Double.NaN;
  }

  /** How a window answers {@link #figure}. */
  @FunctionalInterface
  interface Figures {
    double figure(String metric, String figure);
  }

  /** The one implementation: the window's identity and numbers, its figures read through {@code figures}. */
  record Fixed(StreamId stream, String viewSpec, Dims series, long start, long end, Figures figures, Anomaly anomaly,
      long outliers) implements Window {
    @Override
    public double figure(String metric, String figure) {
      return figures.figure(metric, figure);
    }
  }
}
