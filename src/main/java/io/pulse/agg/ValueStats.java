package io.pulse.agg;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.mapping.BitwiseLinearlyInterpolatedMapping;
import com.datadoghq.sketch.ddsketch.store.PaginatedStore;
import com.datadoghq.sketch.ddsketch.store.Store;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
  private DDSketch sketch;
  /**
   * Values not yet in the sketch. Feeding the sketch in runs of {@link #BUFFER} keeps its pages in
   * cache for the run: with thousands of series per shard, one sketch update per event was mostly
   * cache misses. Allocated on the first {@link #add}, so windows built by merging never carry one.
   */
  private double[] pending;
  private int pendingCount;

  private static final int BUFFER = 64;

  /** Most bins each of the sketch's two stores (positive, negative values) keeps; 0: no bound. */
  private final int maxBins;

  /**
   * @param maxBins most bins kept per store of the sketch (aggregation.sketchMaxBins), 0 for no
   *     bound; see {@link #bound}
   */
  public ValueStats(double relativeAccuracy, int maxBins) {
    this.sketch = new DDSketch(new BitwiseLinearlyInterpolatedMapping(relativeAccuracy), PaginatedStore::new);
    this.maxBins = maxBins;
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
    if (pending == null) {
      pending = new double[BUFFER];
    } else if (pendingCount == BUFFER) {
      drain();
    }
    pending[pendingCount++] = v;
  }

  /** Moves the buffered values into the sketch; every reader of the sketch calls it first. */
  private DDSketch sketch() {
    if (pendingCount > 0) {
      drain();
    }
    return sketch;
  }

  private void drain() {
    DDSketch s = sketch;
    double[] p = pending;
    for (int i = 0, n = pendingCount; i < n; i++) {
      s.accept(p[i]);
    }
    pendingCount = 0;
    bound();
  }

  /**
   * Keeps the sketch within {@link #maxBins} bins per store. sketches-java's PaginatedStore (chosen
   * for speed, see the README) is unbounded: values spread over the whole double range would take
   * about 4,000 pages of 32 bins (over 1 MB) per store, per value name, per window. So after every
   * run of updates and every merge, a store whose page array has outgrown the bound is rebuilt with
   * its bins collapsed, as sketches-java's collapsing stores do: in the positive store the lowest
   * bins fold into the lowest bin kept, in the negative store the bins of the largest magnitudes
   * fold into the largest kept. Either way the highest values keep their bins, so p50 to p99 stay
   * within the sketch's accuracy unless a window's values of one sign span more than a factor of
   * 2^(maxBins / bins per doubling) (2^32 at the default 1% and 2048 bins). The check costs two field
   * reads per 64 values; a rebuild happens only for such wide data.
   */
  private void bound() {
    if (maxBins > 0) {
      DDSketch s = sketch;
      if (tooWide(s.getPositiveValueStore()) || tooWide(s.getNegativeValueStore())) {
        sketch = collapsed(s, maxBins);
      }
    }
  }

  /** Pages a bounded store's page array may have: the bins' pages plus PaginatedStore's slack, rounded as it grows. */
  private int maxPages() {
    int pages = (maxBins + 31) / 32 + 3;
    return (pages + 7) & -8;
  }

  private boolean tooWide(Store store) {
    if (store.isEmpty()) {
      return false;
    }
    if (PAGES != null && store instanceof PaginatedStore) {
      double[][] pages = (double[][]) PAGES.get(store);
      if (pages == null || pages.length * 32 <= maxBins) {
        return false; // the usual case: the whole page array spans fewer bins than the bound
      }
      if (pages.length > maxPages()) {
        return true; // rebuilt: collapsed if too wide, and compacted either way
      }
    }
    // the first and last non-empty pages are near the ends of the array: a short scan
    return store.getMaxIndex() - store.getMinIndex() >= maxBins;
  }

  /** A copy of {@code s} on fresh PaginatedStores with at most {@code maxBins} bins per store (see {@link #bound}). */
  static DDSketch collapsed(DDSketch s, int maxBins) {
    DDSketch out = new DDSketch(s.getIndexMapping(), PaginatedStore::new);
    Store pos = s.getPositiveValueStore();
    Store neg = s.getNegativeValueStore();
    if (!pos.isEmpty()) {
      int floor = Math.max(pos.getMinIndex(), pos.getMaxIndex() - maxBins + 1);
      Store to = out.getPositiveValueStore();
      pos.forEach((index, c) -> to.add(Math.max(index, floor), c)); // ascending, so the array grows one way
    }
    if (!neg.isEmpty()) {
      int ceiling = Math.min(neg.getMaxIndex(), neg.getMinIndex() + maxBins - 1);
      Store to = out.getNegativeValueStore();
      neg.forEach((index, c) -> to.add(Math.min(index, ceiling), c));
    }
    double zeros = s.getCount() - pos.getTotalCount() - neg.getTotalCount();
    if (zeros > 0) {
      out.accept(0.0, zeros);
    }
    return out;
  }

  /** Feeds the buffered values to the sketch now (it throws here, not later, for a value the sketch cannot hold). */
  void settle() {
    sketch();
  }

  /** Folds another window's stats for the same value into this one; left as it was if the other's sketch fails. */
  public void merge(ValueStats other) {
    other.settle();
    count += other.count;
    sum += other.sum;
    min = Math.min(min, other.min);
    max = Math.max(max, other.max);
    sketch = mergeSketches(sketch(), other.sketch());
    bound();
  }

  /**
   * {@code into} merged with {@code from}: {@code into} itself, or a new sketch. sketches-java
   * 0.8.3's PaginatedStore.mergeWith indexes past its page array for one layout (the other store
   * starts on a lower page, is longer, and ends inside this one's range while this one can shift;
   * it threw under a 10k-series load, losing part of a shard's flush). For that layout the merge
   * runs the other way round, into a copy of {@code from}, which is safe; only if both ways are
   * unsafe does it go bin by bin.
   */
  private static DDSketch mergeSketches(DDSketch into, DDSketch from) {
    if (from.isEmpty()) {
      return into;
    }
    boolean forward = !risky(into.getPositiveValueStore(), from.getPositiveValueStore())
        && !risky(into.getNegativeValueStore(), from.getNegativeValueStore());
    if (forward) {
      into.mergeWith(from);
      return into;
    }
    boolean backward = !risky(from.getPositiveValueStore(), into.getPositiveValueStore())
        && !risky(from.getNegativeValueStore(), into.getNegativeValueStore());
    if (backward) {
      DDSketch copy = from.copy();
      copy.mergeWith(into);
      return copy;
    }
    from.getPositiveValueStore().forEach(into.getPositiveValueStore()::add);
    from.getNegativeValueStore().forEach(into.getNegativeValueStore()::add);
    double zeros = from.getCount() - from.getPositiveValueStore().getTotalCount()
        - from.getNegativeValueStore().getTotalCount();
    if (zeros > 0) {
      into.accept(0.0, zeros);
    }
    return into;
  }

  private static final VarHandle PAGES;
  private static final VarHandle MIN_PAGE;

  static {
    VarHandle pages = null;
    VarHandle minPage = null;
    try {
      MethodHandles.Lookup l = MethodHandles.privateLookupIn(PaginatedStore.class, MethodHandles.lookup());
      pages = l.findVarHandle(PaginatedStore.class, "pages", double[][].class);
      minPage = l.findVarHandle(PaginatedStore.class, "minPageIndex", int.class);
    } catch (ReflectiveOperationException | RuntimeException e) {
      pages = null; // another library version: always take the safe path
      minPage = null;
    }
    PAGES = pages;
    MIN_PAGE = minPage;
  }

  /** Whether {@code into.mergeWith(from)} would take PaginatedStore's out-of-bounds branch. */
  private static boolean risky(Store into, Store from) {
    if (PAGES == null || !(into instanceof PaginatedStore) || !(from instanceof PaginatedStore)) {
      return !into.isEmpty() && !from.isEmpty();
    }
    int intoMin = (int) MIN_PAGE.get(into);
    int fromMin = (int) MIN_PAGE.get(from);
    if (intoMin == Integer.MAX_VALUE || fromMin == Integer.MAX_VALUE || intoMin <= fromMin) {
      return false; // an empty side, or no shift: safe
    }
    return ((double[][]) PAGES.get(from)).length > ((double[][]) PAGES.get(into)).length;
  }

  public long count() {
    return count;
  }

  /** Non-empty bins of the sketch, per store: {positive, negative}. For tests of the bound. */
  int[] bins() {
    DDSketch s = sketch();
    int[] out = new int[2];
    s.getPositiveValueStore().forEach((i, c) -> out[0]++);
    s.getNegativeValueStore().forEach((i, c) -> out[1]++);
    return out;
  }

  /** Page slots (allocated or not) of the sketch's two PaginatedStores, and pages allocated. For tests. */
  int[] pages() {
    DDSketch s = sketch();
    int[] out = new int[2];
    for (Store st : new Store[] {s.getPositiveValueStore(), s.getNegativeValueStore()}) {
      double[][] p = PAGES == null ? null : (double[][]) PAGES.get(st);
      if (p != null) {
        out[0] += p.length;
        for (double[] page : p) {
          out[1] += page == null ? 0 : 1;
        }
      }
    }
    return out;
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
    DDSketch sketch = sketch();
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
    ByteBuffer b = sketch().serialize();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  /** Figures of one value in one window. */
  public record Summary(long count, double sum, double min, double max, double mean, double p50, double p95,
      double p99) {
  }

  // ---- storage (appended; the row format is io.pulse.store.RollupCodec's) ----

  public double sum() {
    return sum;
  }

  public double min() {
    return min;
  }

  public double max() {
    return max;
  }

  /**
   * Writes the sketch's bins in DDSketch's own binary format, without its index mapping (the codec
   * keeps that once per row), so that {@code DDSketch.decode}/{@code decodeAndMergeWith} read them
   * back: the zero count if any, then each non-empty store as index deltas and counts. Sparse:
   * PaginatedStore's own encoding writes whole 32-bin pages, mostly zeros for a 1 s window.
   */
  public void encodeSketch(com.datadoghq.sketch.ddsketch.encoding.Output out) throws java.io.IOException {
    DDSketch s = sketch();
    double zeros = s.getCount() - s.getPositiveValueStore().getTotalCount() - s.getNegativeValueStore().getTotalCount();
    if (zeros > 0) {
      com.datadoghq.sketch.ddsketch.encoding.Flag.ZERO_COUNT.encode(out);
      com.datadoghq.sketch.ddsketch.encoding.VarEncodingHelper.encodeVarDouble(out, zeros);
    }
    encodeStore(out, s.getPositiveValueStore(), com.datadoghq.sketch.ddsketch.encoding.Flag.Type.POSITIVE_STORE);
    encodeStore(out, s.getNegativeValueStore(), com.datadoghq.sketch.ddsketch.encoding.Flag.Type.NEGATIVE_STORE);
  }

  private static void encodeStore(com.datadoghq.sketch.ddsketch.encoding.Output out, Store store,
      com.datadoghq.sketch.ddsketch.encoding.Flag.Type type) throws java.io.IOException {
    if (store.isEmpty()) {
      return;
    }
    long[] bins = {0};
    store.forEach((index, c) -> bins[0]++);
    if (bins[0] == 0) {
      return;
    }
    com.datadoghq.sketch.ddsketch.encoding.BinEncodingMode.INDEX_DELTAS_AND_COUNTS.toFlag(type).encode(out);
    com.datadoghq.sketch.ddsketch.encoding.VarEncodingHelper.encodeUnsignedVarLong(out, bins[0]);
    long[] previous = {0};
    java.io.IOException[] failed = {null};
    store.forEach((index, c) -> { // ascending index order
      try {
        com.datadoghq.sketch.ddsketch.encoding.VarEncodingHelper.encodeSignedVarLong(out, index - previous[0]);
        com.datadoghq.sketch.ddsketch.encoding.VarEncodingHelper.encodeVarDouble(out, c);
      } catch (java.io.IOException e) {
        failed[0] = e;
      }
      previous[0] = index;
    });
    if (failed[0] != null) {
      throw failed[0];
    }
  }

  /**
   * Folds in one stored window's stats of this value: its exact count, sum, min and max, and its
   * sketch bins, decoded by DDSketch from the format {@link #encodeSketch} writes. The bins must
   * come from a sketch of the same index mapping (the codec checks).
   */
  public void mergeEncoded(long count, double sum, double min, double max,
      com.datadoghq.sketch.ddsketch.encoding.Input sketchBins) throws java.io.IOException {
    this.count += count;
    this.sum += sum;
    this.min = Math.min(this.min, min);
    this.max = Math.max(this.max, max);
    sketch().decodeAndMergeWith(sketchBins);
    bound();
  }

  /**
   * Stats restored from storage around an already decoded sketch, which must be on a
   * PaginatedStore with the configured mapping (as {@code DDSketch.decode(input, PaginatedStore::new,
   * mapping)} or {@code convert} make it).
   */
  public static ValueStats restore(long count, double sum, double min, double max, DDSketch sketch) {
    ValueStats v = new ValueStats(sketch.getIndexMapping().relativeAccuracy(), 0);
    v.count = count;
    v.sum = sum;
    v.min = min;
    v.max = max;
    v.sketch = sketch;
    return v;
  }
}
