package io.pulse.agg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ValueStatsTest {

  private static final double ACCURACY = 0.01;

  private static ValueStats stats() {
    return new ValueStats(ACCURACY, 2048);
  }

  /** The exact q-quantile of sorted data (lower). */
  private static double exact(double[] sorted, double q) {
    return sorted[(int) Math.floor(q * (sorted.length - 1))];
  }

  @Test
  @DisplayName("merging shards' stats is exact for count, sum, min, max and the same sketch however grouped")
  void mergeIsExactAndAssociative() {
    Random rnd = new Random(7);
    ValueStats a = stats();
    ValueStats b = stats();
    ValueStats c = stats();
    ValueStats all = stats();
    double[] data = new double[30_000];
    for (int i = 0; i < data.length; i++) {
      double v = Math.exp(rnd.nextGaussian()) * (i % 10 == 0 ? -1 : 1); // long tail, some negatives
      data[i] = v;
      (i % 3 == 0 ? a : i % 3 == 1 ? b : c).add(v);
      all.add(v);
    }
    ValueStats left = stats();
    left.merge(a);
    left.merge(b);
    left.merge(c);
    ValueStats bc = stats();
    bc.merge(b);
    bc.merge(c);
    ValueStats right = stats();
    right.merge(a);
    right.merge(bc);
    ValueStats.Summary l = left.summary();
    ValueStats.Summary r = right.summary();
    ValueStats.Summary x = all.summary();
    assertEquals(x.count(), l.count());
    assertEquals(x.sum(), l.sum(), 1e-6);
    assertEquals(x.min(), l.min());
    assertEquals(x.max(), l.max());
    // DDSketch merges bucket by bucket: merged equals direct, whatever the grouping
    assertEquals(x.p50(), l.p50());
    assertEquals(x.p99(), l.p99());
    assertEquals(l.p95(), r.p95());
    Arrays.sort(data);
    for (double[] qp : new double[][] {{0.5, l.p50()}, {0.95, l.p95()}, {0.99, l.p99()}}) {
      double truth = exact(data, qp[0]);
      assertEquals(truth, qp[1], Math.abs(truth) * ACCURACY + 1e-9, "q=" + qp[0]);
    }
  }

  @Test
  @DisplayName("percentiles never leave the exact min..max range")
  void clampedToRange() {
    ValueStats s = stats();
    s.add(42.0);
    ValueStats.Summary m = s.summary();
    assertEquals(42.0, m.p50());
    assertEquals(42.0, m.p99());
  }

  @Test
  @DisplayName("small windows use nearest-rank percentiles: the p99 of two values is the larger")
  void nearestRank() {
    ValueStats s = stats();
    s.add(27.17);
    s.add(78.92);
    ValueStats.Summary m = s.summary();
    assertEquals(78.92, m.p99(), 78.92 * ACCURACY);
    assertEquals(27.17, m.p50(), 27.17 * ACCURACY);
    ValueStats ten = stats();
    for (int i = 1; i <= 10; i++) {
      ten.add(i);
    }
    assertEquals(10, ten.summary().p95(), 10 * ACCURACY);
    assertEquals(5, ten.summary().p50(), 5 * ACCURACY);
  }

  @Test
  @DisplayName("windows with far-apart values merge in either order (a paginated-store merge bug once threw here)")
  void disjointRangesMerge() {
    for (int order = 0; order < 2; order++) {
      ValueStats low = stats();
      ValueStats high = stats();
      for (int i = 0; i < 50; i++) {
        low.add(0.001 * (1 + i));
        high.add(1e6 * (1 + i));
      }
      WindowAgg target = new WindowAgg(0, 1000, ACCURACY, 2048).emptyLike();
      ValueStats sum = stats();
      sum.merge(order == 0 ? high : low);
      sum.merge(order == 0 ? low : high);
      assertEquals(100, sum.summary().count());
      assertEquals(0.001, sum.summary().min());
      assertEquals(5e7, sum.summary().max());
      assertEquals(target.count(), 0);
    }
  }

  @Test
  @DisplayName("merges of sketches with every page layout work (sketches-java's own paginated merge throws on some)")
  void mergeFuzz() {
    Random r = new Random(5);
    for (int t = 0; t < 20_000; t++) {
      ValueStats x = stats();
      ValueStats y = stats();
      double base = Math.exp(r.nextDouble() * 20);
      int nx = 1 + r.nextInt(4);
      int ny = 1 + r.nextInt(4);
      for (int i = 0; i < nx; i++) {
        x.add(base * Math.exp(r.nextDouble() * r.nextInt(8)));
      }
      for (int i = 0; i < ny; i++) {
        y.add(base * Math.exp(-r.nextDouble() * 12 + r.nextDouble() * r.nextInt(12)));
      }
      x.merge(y); // t=363 of this sequence threw ArrayIndexOutOfBoundsException through PaginatedStore.mergeWith
      ValueStats.Summary s = x.summary();
      assertEquals(nx + ny, s.count());
      assertEquals(true, s.p50() >= s.min() && s.p99() <= s.max());
    }
  }
}
