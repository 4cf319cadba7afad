package io.pulse.agg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.datadoghq.sketch.ddsketch.mapping.BitwiseLinearlyInterpolatedMapping;
import io.pulse.core.StreamId;
import io.pulse.config.PulseConfig;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.pulse.ingest.EventParser;
import io.pulse.live.LiveJson;
import io.pulse.store.RollupCodec;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every finite number the parser lets through is aggregated correctly: up to ±1e308 (below what
 * DDSketch can index at any accuracy the configuration allows), down to subnormals (the sketch's
 * zero bucket), and sums that overflow become null on the wire and survive storage.
 */
class ValueStatsRangeTest {

  @Test
  @DisplayName("the parser's bound is below DDSketch's maxIndexableValue for every accuracy the config allows")
  void boundHoldsForEveryAccuracy() {
    for (double a : new double[] {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5}) {
      BitwiseLinearlyInterpolatedMapping m = new BitwiseLinearlyInterpolatedMapping(a);
      assertTrue(m.maxIndexableValue() > EventParser.MAX_ABS_VALUE, a + ": " + m.maxIndexableValue());
      ValueStats s = new ValueStats(a, 2048);
      s.add(EventParser.MAX_ABS_VALUE);
      s.add(-EventParser.MAX_ABS_VALUE);
      s.add(Double.MIN_VALUE);
      ValueStats.Summary sum = s.summary(); // would throw past maxIndexableValue
      assertEquals(EventParser.MAX_ABS_VALUE, sum.max());
      assertEquals(-EventParser.MAX_ABS_VALUE, sum.min());
    }
    // what the library refuses, for the record: 1.79e308 is past it at the default accuracy
    assertTrue(new BitwiseLinearlyInterpolatedMapping(0.01).maxIndexableValue() < 1.79e308);
  }

  @Test
  @DisplayName("tiny magnitudes (subnormals, below minIndexableValue): count, sum, min, max exact, percentiles in range")
  void tiny() {
    ValueStats s = new ValueStats(0.01, 2048);
    double[] v = {Double.MIN_VALUE, 2 * Double.MIN_VALUE, 1e-310, Double.MIN_NORMAL, 1e-300};
    double total = 0;
    for (double x : v) {
      s.add(x);
      total += x;
    }
    ValueStats.Summary sum = s.summary();
    assertEquals(5, sum.count());
    assertEquals(total, sum.sum());
    assertEquals(Double.MIN_VALUE, sum.min());
    assertEquals(1e-300, sum.max());
    assertTrue(sum.p50() >= sum.min() && sum.p50() <= sum.max(), "p50 " + sum.p50());
    assertEquals(1e-300, sum.p99(), 1e-300 * 0.01, "the top value is indexable: p99 within accuracy");
    ValueStats neg = new ValueStats(0.01, 2048);
    neg.add(-Double.MIN_VALUE);
    neg.add(-1e-310);
    assertEquals(-1e-310, neg.summary().min());
    assertEquals(-Double.MIN_VALUE, neg.summary().p99(), "clamped to the exact max");
  }

  @Test
  @DisplayName("a sum that overflows is null on the live feed and survives the stored form (±Infinity, NaN)")
  void overflowingSums() {
    ViewRegistry views = new ViewRegistry(PulseConfig.of(new JsonObject()));
    WindowAgg w = new WindowAgg(0, 1000, 0.01, 2048);
    String[] names = {"up", "down", "both"};
    for (int i = 0; i < 3; i++) {
      w.add(new Event(StreamId.of("s"), 1, null, Dims.EMPTY, names, new double[] {1e308, -1e308, i % 2 == 0 ? 1e308 : -1e308}, 1));
    }
    w.add(new Event(StreamId.of("s"), 1, null, Dims.EMPTY, names, new double[] {1e308, -1e308, -1e308}, 1));
    Rollup r = w.rollup(views.views(StreamId.of("s"))[0].key(Dims.EMPTY), true);
    assertEquals(Double.POSITIVE_INFINITY, r.stats()[0].sum());
    assertEquals(Double.NEGATIVE_INFINITY, r.stats()[1].sum());
    JsonObject json = new JsonObject(LiveJson.rollup(r));
    JsonObject up = json.getJsonObject("values").getJsonObject("up");
    assertTrue(up.containsKey("sum") && up.getValue("sum") == null, up.encode());
    assertTrue(up.getValue("mean") == null, up.encode());
    assertEquals(1e308, up.getDouble("max"));
    assertEquals(1e308, up.getDouble("p99"));

    RollupCodec codec = new RollupCodec(0.01, 2048);
    byte[] bytes = codec.encode(w);
    WindowAgg back = codec.decode(bytes, 0, 1000, w.count(), w.latest());
    assertEquals(Double.POSITIVE_INFINITY, back.valueStatsFor("up").sum());
    assertEquals(Double.NEGATIVE_INFINITY, back.valueStatsFor("down").sum());
    assertEquals(w.valueStatsFor("both").sum(), back.valueStatsFor("both").sum(), 0.0);
    assertEquals(1e308, back.valueStatsFor("up").summary().p99());
    // merging stored windows whose sums overflowed: still no exception, still null on the wire
    WindowAgg merged = new WindowAgg(0, 60_000, 0.01, 2048);
    codec.mergeInto(merged, bytes, w.count(), w.latest(), null);
    codec.mergeInto(merged, bytes, w.count(), w.latest(), null);
    assertEquals(8, merged.valueStatsFor("down").count());
    assertEquals(Double.POSITIVE_INFINITY, merged.valueStatsFor("up").summary().mean());
  }
}
