package io.pulse.agg;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.mapping.BitwiseLinearlyInterpolatedMapping;
import com.datadoghq.sketch.ddsketch.store.PaginatedStore;
import com.datadoghq.sketch.ddsketch.store.Store;
import java.nio.ByteBuffer;

/**
 * Count, sum, min and max of one value name in one window, exactly, plus a DDSketch for
 * percentiles.
 *
 * <p>Why DDSketch: every quantile it reports is within a relative error of the true value (1% by
 * default), whatever the distribution; updates are O(1) with no sorting (it sits on the ingest hot
 * path, once per value per view); and two sketches of the same mapping merge bucket by bucket, so
 * shards, group-bys and coarser resolutions combine with no loss beyond that one guarantee.
 */
public final class ValueStats {

  private static final double[] QUANTILES = {0.5, 0.95, 0.99};

  private long count;
  private double sum;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;
  private final DDSketch sketch;

  public ValueStats(double relativeAccuracy, int maxBins) {
    this.sketch = new DDSketch(new BitwiseLinearlyInterpolatedMapping(relativeAccuracy), PaginatedStore::new);
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
    sketch.accept(v);
  }

  /** Folds another window's stats for the same value into this one. */
  public void merge(ValueStats other) {
    count += other.count;
    sum += other.sum;
    min = Math.min(min, other.min);
    max = Math.max(max, other.max);
    // Bin by bin through the stores' add path. PaginatedStore's own mergeWith has an index bug
    // for some page layouts (ArrayIndexOutOfBoundsException seen under a 10k-series load);
    // adding the other's bins is the same lossless merge by the well-trodden route.
    Store pos = sketch.getPositiveValueStore();
    Store neg = sketch.getNegativeValueStore();
    other.sketch.getPositiveValueStore().forEach(pos::add);
    other.sketch.getNegativeValueStore().forEach(neg::add);
    double zeros = other.sketch.getCount() - other.sketch.getPositiveValueStore().getTotalCount()
        - other.sketch.getNegativeValueStore().getTotalCount();
    if (zeros > 0) {
      sketch.accept(0.0, zeros);
    }
  }

  public long count() {
    return count;
  }

  /**
   * An immutable summary: the figures a rollup message carries. Percentiles are clamped to the
   * exact min and max, which the sketch's bucket midpoints could otherwise overshoot.
   */
  public Summary summary() {
    if (count == 0) {
      return new Summary(0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    return new Summary(count, sum, min, max, sum / count, quantile(QUANTILES[0]), quantile(QUANTILES[1]),
        quantile(QUANTILES[2]));
  }

  /**
   * The nearest-rank quantile: the smallest value with at least q of the values at or below it
   * (so the p99 of two values is the larger one). DDSketch ranks from 0 to count-1 and takes the
   * lower value, which for small windows reads low; asking it for the rank nearest-rank names
   * gives the usual definition, within the sketch's relative error.
   */
  private double quantile(double q) {
    if (count == 1) {
      return clamp(sketch.getValueAtQuantile(0.5));
    }
    long rank = (long) Math.ceil(q * count) - 1; // 0-based
    double asked = Math.min(1.0, Math.max(0.0, rank / (double) (count - 1)));
    return clamp(sketch.getValueAtQuantile(asked));
  }

  private double clamp(double v) {
    return Math.max(min, Math.min(max, v));
  }

  /** The sketch in DDSketch's binary encoding, for storage. */
  public byte[] sketchBytes() {
    ByteBuffer b = sketch.serialize();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  /** Figures of one value in one window. */
  public record Summary(long count, double sum, double min, double max, double mean, double p50, double p95,
      double p99) {
  }
}
