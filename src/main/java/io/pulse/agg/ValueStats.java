package io.pulse.agg;

import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;

/**
 * Count, sum, min and max of one value name in one window, exactly, plus a KLL sketch for
 * percentiles. KLL (Apache DataSketches) is mergeable with a known rank error (about 1.3% at
 * k=200), so shards, group-bys and coarser resolutions combine without averaging percentiles.
 */
public final class ValueStats {

  private static final double[] RANKS = {0.5, 0.95, 0.99};

  private long count;
  private double sum;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;
  private final KllDoublesSketch sketch;

  public ValueStats(int k) {
    this.sketch = KllDoublesSketch.newHeapInstance(k);
  }

  public void add(double v) {
    count++;
    sum += v;
    if (v < min) {
      min = v;
    }
    if (v > max) {
      max = v;
    }
    sketch.update(v);
  }

  /** Folds another window's stats for the same value into this one. */
  public void merge(ValueStats other) {
    count += other.count;
    sum += other.sum;
    min = Math.min(min, other.min);
    max = Math.max(max, other.max);
    sketch.merge(other.sketch);
  }

  public long count() {
    return count;
  }

  /** An immutable summary: the figures a rollup message carries. */
  public Summary summary() {
    double[] q = count == 0 ? new double[] {Double.NaN, Double.NaN, Double.NaN}
        : sketch.getQuantiles(RANKS, QuantileSearchCriteria.INCLUSIVE);
    return new Summary(count, sum, min, max, count == 0 ? Double.NaN : sum / count, q[0], q[1], q[2]);
  }

  /** The sketch in DataSketches' compact binary form, for storage. */
  public byte[] sketchBytes() {
    return sketch.toByteArray();
  }

  /** Figures of one value in one window. */
  public record Summary(long count, double sum, double min, double max, double mean, double p50, double p95,
      double p99) {
  }
}
