package io.pulse.agg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datadoghq.sketch.ddsketch.mapping.BitwiseLinearlyInterpolatedMapping;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * aggregation.sketchMaxBins bounds a sketch's memory: values spread over the whole range DDSketch
 * can index stay within the bound in one window, through merges too, while the high percentiles
 * stay within the sketch's accuracy.
 */
class ValueStatsBoundTest {

  private static final double ACCURACY = 0.01;
  private static final int MAX_BINS = 2048;
  private static final double MIN = new BitwiseLinearlyInterpolatedMapping(ACCURACY).minIndexableValue();
  private static final double MAX = io.pulse.ingest.EventParser.MAX_ABS_VALUE;

  /** Log-uniform magnitudes over the whole indexable range; one in ten negative when {@code signs}. */
  private static double[] wide(int n, long seed, boolean signs) {
    SplittableRandom r = new SplittableRandom(seed);
    double lo = Math.log(MIN);
    double hi = Math.log(MAX);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = Math.exp(lo + (hi - lo) * r.nextDouble());
      if (signs && r.nextInt(10) == 0) {
        v[i] = -v[i];
      }
    }
    return v;
  }

  private static double nearestRank(double[] sorted, double q) {
    return sorted[(int) Math.ceil(q * sorted.length) - 1];
  }

  private static void assertBounded(ValueStats s, String what) {
    int[] bins = s.bins();
    assertTrue(bins[0] <= MAX_BINS && bins[1] <= MAX_BINS, what + ": bins " + Arrays.toString(bins));
    int[] pages = s.pages();
    // two stores of at most 2048 bins: 2 x 65 pages of 32 bins (2048 bins straddle at most 65), and
    // page arrays of at most 2 x 72 slots (65 + PaginatedStore's slack, rounded to its growth of 8)
    assertTrue(pages[0] <= 2 * 72, what + ": page slots " + pages[0]);
    assertTrue(pages[1] <= 2 * 65, what + ": pages " + pages[1]);
  }

  @Test
  @DisplayName("one window fed values over the whole indexable range stays within sketchMaxBins, p99 within accuracy")
  void oneWindowBounded() {
    double[] v = wide(200_000, 7, false);
    ValueStats s = new ValueStats(ACCURACY, MAX_BINS);
    for (int i = 0; i < v.length; i++) {
      s.add(v[i]);
      if (i % 10_007 == 0) {
        assertBounded(s, "after " + i + " values");
      }
    }
    assertBounded(s, "at the end");
    double[] sorted = v.clone();
    Arrays.sort(sorted);
    ValueStats.Summary sum = s.summary();
    double p99 = nearestRank(sorted, 0.99);
    assertEquals(p99, sum.p99(), p99 * ACCURACY, "p99");
    assertEquals(v.length, sum.count());
    assertEquals(sorted[0], sum.min());
    assertEquals(sorted[sorted.length - 1], sum.max());
  }

  @Test
  @DisplayName("without the bound the same data takes thousands of pages: what the bound prevents")
  void unboundedForComparison() {
    ValueStats s = new ValueStats(ACCURACY, 0);
    for (double x : wide(200_000, 7, false)) {
      s.add(x);
    }
    assertTrue(s.pages()[1] > 1000, "pages " + s.pages()[1]);
  }

  @Test
  @DisplayName("positive and negative values, merged across many windows, stay bounded; the top stays accurate")
  void mergesBounded() {
    ValueStats total = new ValueStats(ACCURACY, MAX_BINS);
    double[] all = new double[0];
    for (int w = 0; w < 20; w++) {
      double[] v = wide(5_000, 100 + w, true);
      ValueStats s = new ValueStats(ACCURACY, MAX_BINS);
      for (double x : v) {
        s.add(x);
      }
      assertBounded(s, "window " + w);
      total.merge(s);
      assertBounded(total, "total after " + w);
      int at = all.length;
      all = Arrays.copyOf(all, at + v.length);
      System.arraycopy(v, 0, all, at, v.length);
    }
    Arrays.sort(all);
    double p99 = nearestRank(all, 0.99);
    assertEquals(p99, total.summary().p99(), p99 * ACCURACY, "p99");
    assertEquals(all.length, total.count());
  }

  @Test
  @DisplayName("narrow data is untouched by the bound: every percentile within accuracy")
  void narrowUntouched() {
    SplittableRandom r = new SplittableRandom(3);
    double[] v = new double[50_000];
    ValueStats s = new ValueStats(ACCURACY, MAX_BINS);
    for (int i = 0; i < v.length; i++) {
      v[i] = (r.nextBoolean() ? -1 : 1) * Math.exp(20 * r.nextDouble()); // both signs, 1 to 5e8
      s.add(v[i]);
    }
    Arrays.sort(v);
    ValueStats.Summary sum = s.summary();
    for (double[] qp : new double[][] {{0.5, sum.p50()}, {0.95, sum.p95()}, {0.99, sum.p99()}}) {
      double want = nearestRank(v, qp[0]);
      assertEquals(want, qp[1], Math.abs(want) * ACCURACY, "q" + qp[0]);
    }
  }
}
