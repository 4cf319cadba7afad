package io.pulse.agg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.PulseConfig;
import io.pulse.core.ManualClock;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Window edges, closing and lateness with a clock that moves only when told. Windows are 1 s, lateness 500 ms. */
class ShardAggregatorTest {

  private static final long T0 = 1_763_805_600_000L; // a whole second

  private ManualClock clock;
  private ViewRegistry views;
  private ShardAggregator agg;
  private View total;
  private final List<Rollup> out = new ArrayList<>();

  @BeforeEach
  void setUp() {
    clock = new ManualClock(T0);
    views = new ViewRegistry(PulseConfig.of(new JsonObject()));
    agg = new ShardAggregator(500, 0.01, 2048);
    total = views.views("s")[0];
  }

  private void add(long ts, double v) {
    Event e = new Event("s", ts, null, Dims.EMPTY, new String[] {"v"}, new double[] {v}, clock.millis());
    agg.add(new ViewKey(total, Dims.EMPTY), e, ts, clock.millis());
  }

  private List<Rollup> flush() {
    out.clear();
    agg.flush(clock.millis(), out::add);
    return out;
  }

  @Test
  @DisplayName("an event at the last millisecond of a window and one at the first of the next land apart")
  void windowEdges() {
    add(T0 + 999, 1);
    add(T0 + 1000, 2);
    clock.set(T0 + 2500); // [T0, T0+1000) closes at T0+1500, the next at T0+2500
    List<Rollup> r = flush();
    assertEquals(2, r.size());
    assertEquals(T0, r.get(0).start());
    assertEquals(T0 + 1000, r.get(0).end());
    assertEquals(1, r.get(0).count());
    assertEquals(1.0, r.get(0).stats()[0].sum());
    assertEquals(T0 + 1000, r.get(1).start());
    assertEquals(2.0, r.get(1).stats()[0].sum());
    assertTrue(r.get(0).fin() && r.get(1).fin());
  }

  @Test
  @DisplayName("a window stays open for the allowed lateness after its end, then closes once")
  void closesAfterLateness() {
    add(T0 + 100, 1);
    clock.set(T0 + 1499);
    assertTrue(flush().isEmpty(), "not watched and not due: nothing to say");
    add(T0 + 200, 2); // late by wall time but within lateness: still counted in its own window
    clock.set(T0 + 1500);
    List<Rollup> r = flush();
    assertEquals(1, r.size());
    assertEquals(2, r.get(0).count());
    assertEquals(0, agg.openSeries());
    clock.set(T0 + 5000);
    assertTrue(flush().isEmpty(), "closed windows are not sent again");
  }

  @Test
  @DisplayName("a quiet stream's window closes on processing time with no further events")
  void quietStreamCloses() {
    add(T0 + 10, 5);
    clock.set(T0 + 60_000);
    List<Rollup> r = flush();
    assertEquals(1, r.size());
    assertTrue(r.get(0).fin());
  }

  @Test
  @DisplayName("an event whose window closed while it was in flight folds into the open window, counted")
  void lateInFlightFolds() {
    clock.set(T0 + 3200);
    add(T0 + 100, 7); // its window closed at T0+1500
    assertEquals(1, agg.lateInFlight());
    clock.set(T0 + 5000);
    List<Rollup> r = flush();
    assertEquals(T0 + 3000, r.get(0).start());
    assertEquals(7.0, r.get(0).stats()[0].max());
  }

  @Test
  @DisplayName("running updates go out only for watched views, once per change")
  void runningUpdates() throws Exception {
    View live = views.acquire("s", Map.of(), List.of());
    assertTrue(live == total, "the stream total is one view however it is asked for");
    add(T0 + 10, 1);
    List<Rollup> r = flush();
    assertEquals(1, r.size());
    assertFalse(r.get(0).fin());
    assertTrue(flush().isEmpty(), "unchanged since the last tick");
    add(T0 + 20, 3);
    r = flush();
    assertEquals(2, r.get(0).count());
    assertEquals(3.0, r.get(0).stats()[0].max());
    assertEquals(T0 + 20, r.get(0).latest());
    views.release(live, clock.millis());
    add(T0 + 30, 3);
    assertTrue(flush().isEmpty(), "nobody watches any more");
  }

  @Test
  @DisplayName("closeAll closes open windows at once, for shutdown")
  void closeAll() {
    add(T0 + 10, 1);
    add(T0 + 1010, 1);
    agg.closeAll(out::add);
    assertEquals(2, out.size());
    assertTrue(out.stream().allMatch(Rollup::fin));
    assertEquals(0, agg.openSeries());
  }

  @Test
  @DisplayName("percentiles come from the sketch, within its 1% relative error of the exact ones")
  void percentiles() {
    for (int i = 1; i <= 10_000; i++) {
      add(T0 + (i % 1000), i);
    }
    clock.set(T0 + 1500);
    ValueStats.Summary s = flush().get(0).stats()[0];
    assertEquals(10_000, s.count());
    assertEquals(1, s.min());
    assertEquals(10_000, s.max());
    assertEquals(5000.5, s.mean(), 1e-9);
    // DDSketch at 1% relative accuracy
    assertEquals(5000, s.p50(), 5000 * 0.011);
    assertEquals(9500, s.p95(), 9500 * 0.011);
    assertEquals(9900, s.p99(), 9900 * 0.011);
  }

  @Test
  @DisplayName("filtered and grouped views pick and key events by their dims")
  void viewsMatchAndKey() throws Exception {
    View eu = views.acquire("s", Map.of("region", Set.of("eu")), List.of("store"));
    assertTrue(eu.matches(Dims.of("region", "eu", "store", "a")));
    assertFalse(eu.matches(Dims.of("region", "us", "store", "a")));
    assertFalse(eu.matches(Dims.of("store", "a")));
    assertEquals(Dims.of("store", "a"), eu.keyOf(Dims.of("region", "eu", "store", "a")));
    View series = views.views("s")[1];
    assertTrue(series.allDims());
    assertEquals(Dims.of("region", "eu", "store", "a"), series.keyOf(Dims.of("region", "eu", "store", "a")));
  }
}
