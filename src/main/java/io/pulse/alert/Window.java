package io.pulse.alert;

import io.pulse.agg.Anomaly;
import io.pulse.agg.Rollup;
import io.pulse.agg.ValueStats;
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
    return new Window() {
      @Override
      public StreamId stream() {
        return w.stream();
      }

      @Override
      public String viewSpec() {
        return w.viewSpec();
      }

      @Override
      public Dims series() {
        return w.series();
      }

      @Override
      public long start() {
        return w.start();
      }

      @Override
      public long end() {
        return w.end();
      }

      @Override
      public double figure(String metric, String figure) {
        return w.figure(metric, figure);
      }

      @Override
      public Anomaly anomaly() {
        return a;
      }

      @Override
      public long outliers() {
        return w.outliers();
      }
    };
  }

  /** A final rollup. */
  static Window of(Rollup r) {
    return new Window() {
      @Override
      public StreamId stream() {
        return r.view().stream();
      }

      @Override
      public String viewSpec() {
        return r.view().spec();
      }

      @Override
      public Dims series() {
        return r.series();
      }

      @Override
      public long start() {
        return r.start();
      }

      @Override
      public long end() {
        return r.end();
      }

      @Override
      public double figure(String metric, String figure) {
        return r.figure(metric, figure);
      }

      @Override
      public Anomaly anomaly() {
        return r.anomaly();
      }

      @Override
      public long outliers() {
        return r.outliers();
      }
    };
  }

  /** A stored window read back (its figures merged from storage); scores and outliers as given. */
  static Window of(StreamId stream, String viewSpec, Dims series, WindowAgg w, Anomaly anomaly, long outliers) {
    return new Window() {
      @Override
      public StreamId stream() {
        return stream;
      }

      @Override
      public String viewSpec() {
        return viewSpec;
      }

      @Override
      public Dims series() {
        return series;
      }

      @Override
      public long start() {
        return w.start();
      }

      @Override
      public long end() {
        return w.end();
      }

      @Override
      public double figure(String metric, String figure) {
        if (metric == null || "count".equals(figure)) {
          return w.count();
        }
        ValueStats v = null;
        for (int i = 0; i < w.valueCount(); i++) {
          if (w.valueName(i).equals(metric)) {
            v = w.valueStats(i);
          }
        }
        if (v == null) {
          return Double.NaN; // not valueStatsFor: that would add the value to the window
        }
        return Rollup.figure(v.summary(), figure);
      }

      @Override
      public Anomaly anomaly() {
        return anomaly;
      }

      @Override
      public long outliers() {
        return outliers;
      }
    };
  }
}
