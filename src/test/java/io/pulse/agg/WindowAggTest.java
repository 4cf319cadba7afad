package io.pulse.agg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A window buffers its events' values and gives them to each value's stats a run at a time: what
 * any reader sees (rollups, merges, the stats themselves) is what stats fed value by value, in event
 * order, give.
 */
class WindowAggTest {

  private static final StreamId S = StreamId.of("s");

  @Test
  @DisplayName("rollups, merges and stats read at any point equal stats fed value by value, names changing between events")
  void sameAsValueByValue() {
    View series = new ViewRegistry(PulseConfig.of(new JsonObject())).views(S)[ViewRegistry.SERIES];
    ViewKey key = series.key(Dims.EMPTY);
    SplittableRandom rnd = new SplittableRandom(5);
    String[] ab = {"a", "b"};
    String[] ba = {"b", "a"};
    String[] abc = {"a", "b", "c"};
    String[][] layouts = {ab, ab, ab, ba, abc, {"c"}};
    WindowAgg window = new WindowAgg(0, 1000, 0.01, 2048);
    Map<String, ValueStats> reference = new LinkedHashMap<>();
    long count = 0;
    for (int i = 0; i < 5000; i++) {
      String[] names = layouts[rnd.nextInt(10) < 7 ? 0 : rnd.nextInt(layouts.length)];
      double[] values = new double[names.length];
      for (int k = 0; k < names.length; k++) {
        values[k] = rnd.nextInt(20) == 0 ? -rnd.nextDouble() * 1e6 : Math.exp(rnd.nextGaussian() * 3);
        reference.computeIfAbsent(names[k], n -> new ValueStats(0.01, 2048)).add(values[k]);
      }
      window.add(new Event(S, i, null, Dims.EMPTY, names, values, i));
      count++;
      if (rnd.nextInt(300) == 0) {
        same(reference, window.rollup(key, false), count);
      }
      if (rnd.nextInt(500) == 0) {
        WindowAgg merged = window.emptyLike();
        merged.merge(window);
        same(reference, merged.rollup(key, false), count);
      }
      if (rnd.nextInt(700) == 0) {
        assertEquals(reference.get(window.valueName(0)).count(), window.valueStats(0).count());
      }
    }
    same(reference, window.rollup(key, true), count);
    for (int i = 0; i < window.valueCount(); i++) {
      assertArrayEquals(reference.get(window.valueName(i)).sketchBytes(), window.valueStats(i).sketchBytes(),
          "the sketch of " + window.valueName(i));
    }
  }

  private static void same(Map<String, ValueStats> reference, Rollup r, long count) {
    assertEquals(count, r.count());
    assertEquals(reference.size(), r.names().length);
    for (int i = 0; i < r.names().length; i++) {
      assertEquals(reference.get(r.names()[i]).summary(), r.stats()[i], "the stats of " + r.names()[i]);
    }
  }
}
