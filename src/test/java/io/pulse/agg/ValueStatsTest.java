package io.pulse.agg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ValueStatsTest {

  @Test
  @DisplayName("merging shards' stats gives exact count, sum, min, max and the same sketch however grouped")
  void mergeIsExactForMomentsAndAssociativeForQuantiles() {
    Random rnd = new Random(7);
    ValueStats a = new ValueStats(200);
    ValueStats b = new ValueStats(200);
    ValueStats c = new ValueStats(200);
    ValueStats all = new ValueStats(200);
    double[] exact = new double[30_000];
    for (int i = 0; i < 30_000; i++) {
      double v = Math.exp(rnd.nextGaussian());
      exact[i] = v;
      (i % 3 == 0 ? a : i % 3 == 1 ? b : c).add(v);
      all.add(v);
    }
    ValueStats left = new ValueStats(200);
    left.merge(a);
    left.merge(b);
    left.merge(c);
    ValueStats right = new ValueStats(200);
    ValueStats bc = new ValueStats(200);
    bc.merge(b);
    bc.merge(c);
    right.merge(a);
    right.merge(bc);
    ValueStats.Summary l = left.summary();
    ValueStats.Summary r = right.summary();
    ValueStats.Summary x = all.summary();
    assertEquals(x.count(), l.count());
    assertEquals(x.sum(), l.sum(), 1e-6);
    assertEquals(x.min(), l.min());
    assertEquals(x.max(), l.max());
    // KLL's rank error at k=200 is about 1.3% (99% confidence): judge quantiles by their true rank
    java.util.Arrays.sort(exact);
    assertEquals(0.50, rank(exact, l.p50()), 0.02);
    assertEquals(0.95, rank(exact, l.p95()), 0.02);
    assertEquals(0.99, rank(exact, l.p99()), 0.02);
    assertEquals(0.99, rank(exact, r.p99()), 0.02);
    assertEquals(0.50, rank(exact, x.p50()), 0.02);
  }

  /** Fraction of the sorted data at or below v. */
  private static double rank(double[] sorted, double v) {
    int i = java.util.Arrays.binarySearch(sorted, v);
    int pos = i >= 0 ? i + 1 : -i - 1;
    return pos / (double) sorted.length;
  }
}
