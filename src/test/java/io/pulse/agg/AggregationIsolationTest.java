package io.pulse.agg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.StreamId;
import io.pulse.config.PulseConfig;
import io.pulse.core.Health;
import io.pulse.core.ManualClock;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * One series whose window cannot be aggregated (here: a value past what DDSketch can index, built
 * directly so that it skips the parser's validation, which refuses it) must not stop the shard:
 * it is dropped, counted and reported, and every other series, total and group-by goes on. And a
 * shard that stops completing flushes makes aggregation "down". One shard, 1 s windows, 500 ms
 * lateness, a clock that moves only when told.
 */
class AggregationIsolationTest {

  private static final long T0 = 1_763_805_600_000L;
  private static final double UNINDEXABLE = 1.79e308; // > maxIndexableValue (~1.78e308 at 1%)

  private ManualClock clock;
  private ViewRegistry views;
  private Health health;
  private AggregationGuard guard;
  private ShardAggregator shard;
  private PartialCombiner combiner;
  private final List<Rollup> out = new ArrayList<>();

  @BeforeEach
  void setUp() {
    clock = new ManualClock(T0);
    views = new ViewRegistry(PulseConfig.of(new JsonObject()));
    health = new Health();
    guard = new AggregationGuard(health, 1, 5_000, 300_000, T0);
    shard = new ShardAggregator(500, 0.01, 2048, views::views, 0, guard);
    combiner = new PartialCombiner(1, guard);
  }

  private void add(String stream, Dims dims, long ts, double v) {
    Event e = new Event(StreamId.of(stream), ts, null, dims, new String[] {"v"}, new double[] {v}, clock.millis());
    ViewKey k = views.views(StreamId.of(stream))[ViewRegistry.SERIES].key(dims);
    shard.add(k, e, ts, clock.millis());
  }

  private List<Rollup> flush() {
    out.clear();
    combiner.accept(shard.flush(0, clock.millis()), out::add, clock.millis());
    return out;
  }

  private static List<Rollup> finals(List<Rollup> rs, String stream, int view) {
    return rs.stream().filter(r -> r.fin() && r.view().stream().equals(StreamId.of(stream)) && r.view().id() == view)
        .collect(Collectors.toList());
  }

  private int total(String stream) {
    return views.views(StreamId.of(stream))[0].id();
  }

  private int series(String stream) {
    return views.views(StreamId.of(stream))[ViewRegistry.SERIES].id();
  }

  @Test
  @DisplayName("a series whose window throws at close is dropped and counted; other series and streams on the shard "
      + "still get their finals, and readiness says degraded, then clears after a quiet time")
  void failingCloseIsIsolated() {
    add("other", Dims.of("a", "1"), T0 + 10, UNINDEXABLE);
    add("other", Dims.of("a", "2"), T0 + 20, 5);
    add("good", Dims.EMPTY, T0 + 30, 7);
    clock.set(T0 + 1500);
    List<Rollup> r = flush();
    List<Rollup> otherSeries = finals(r, "other", series("other"));
    assertEquals(1, otherSeries.size(), r.toString());
    assertEquals(Dims.of("a", "2"), otherSeries.get(0).series());
    List<Rollup> otherTotal = finals(r, "other", total("other"));
    assertEquals(1, otherTotal.size());
    assertEquals(1, otherTotal.get(0).count(), "the total holds the good series only");
    assertEquals(5.0, otherTotal.get(0).stats()[0].sum());
    assertEquals(1, finals(r, "good", total("good")).size());
    assertEquals(7.0, finals(r, "good", total("good")).get(0).stats()[0].sum());
    assertEquals(1, guard.seriesFailed());
    assertEquals(1, guard.eventsLost());
    Health.Problem p = health.get(AggregationGuard.COMPONENT);
    assertEquals(Health.Level.DEGRADED, p.level());
    assertTrue(p.reason().contains("stream other series {a=1}"), p.reason());
    assertTrue(p.reason().contains("1 events lost"), p.reason());

    // the shard goes on: the next window of the same streams closes as usual
    add("other", Dims.of("a", "2"), T0 + 1600, 6);
    clock.set(T0 + 2500);
    r = flush();
    assertEquals(6.0, finals(r, "other", total("other")).get(0).stats()[0].sum());
    clock.set(T0 + 1500 + 299_000);
    flush();
    guard.check(clock.millis());
    assertEquals(Health.Level.DEGRADED, health.get(AggregationGuard.COMPONENT).level());
    clock.set(T0 + 1500 + 300_000);
    shard.flush(0, clock.millis());
    guard.check(clock.millis());
    assertNull(health.get(AggregationGuard.COMPONENT), "five quiet minutes clear it");
  }

  @Test
  @DisplayName("a window that throws while adding (the window hands its values to the stats 32 at a time, the "
      + "sketch takes them in 64 at a time) is dropped whole with its events counted; the rest of the batch and the "
      + "series' later windows are kept")
  void failingAddIsIsolated() {
    for (int i = 0; i < 100; i++) {
      add("other", Dims.of("a", "1"), T0 + i, UNINDEXABLE);
      add("other", Dims.of("a", "2"), T0 + i, 1);
    }
    // events 1-32 and 33-64 filled the sketch's buffer; the 97th event handed it the 65th value
    assertEquals(1, guard.seriesFailed(), "the 97th event made the sketch throw");
    assertEquals(97, guard.eventsLost());
    clock.set(T0 + 1500);
    List<Rollup> r = flush();
    // the 3 values after the drop went to a fresh window of {a=1}: it fails at close, once more
    assertEquals(2, guard.seriesFailed());
    assertEquals(100, guard.eventsLost());
    assertEquals(100, finals(r, "other", total("other")).get(0).count());
    assertEquals(List.of(Dims.of("a", "2")), finals(r, "other", series("other")).stream().map(Rollup::series)
        .collect(Collectors.toList()));
  }

  @Test
  @DisplayName("a series that cannot be merged into a watched group's running update leaves out that update only")
  void failingRunningMergeIsIsolated() throws Exception {
    views.acquire(StreamId.of("other"), Map.of(), List.of()); // somebody watches the total: running updates are merged
    add("other", Dims.of("a", "1"), T0 + 10, UNINDEXABLE);
    add("other", Dims.of("a", "2"), T0 + 10, 3);
    add("good", Dims.EMPTY, T0 + 10, 4);
    views.acquire(StreamId.of("good"), Map.of(), List.of());
    clock.set(T0 + 250);
    List<Rollup> r = flush();
    assertTrue(guard.groupsFailed() >= 1);
    assertTrue(r.stream().anyMatch(x -> !x.fin() && x.view().stream().equals(StreamId.of("good"))), r.toString());
    clock.set(T0 + 1500);
    r = flush();
    assertEquals(3.0, finals(r, "other", total("other")).get(0).stats()[0].sum());
  }

  @Test
  @DisplayName("the combiner drops a group window that cannot be combined and emits the others")
  void failingGroupInCombinerIsIsolated() {
    View totalOther = views.views(StreamId.of("other"))[0];
    View totalGood = views.views(StreamId.of("good"))[0];
    WindowAgg bad = new WindowAgg(T0, T0 + 1000, 0.01, 2048);
    bad.add(new Event(StreamId.of("other"), T0, null, Dims.EMPTY, new String[] {"v"}, new double[] {UNINDEXABLE}, T0));
    WindowAgg good = new WindowAgg(T0, T0 + 1000, 0.01, 2048);
    good.add(new Event(StreamId.of("good"), T0, null, Dims.EMPTY, new String[] {"v"}, new double[] {2}, T0));
    ShardOutput o = new ShardOutput(0, List.of(), List.of(new Partial(totalOther.key(Dims.EMPTY), bad, true),
        new Partial(totalGood.key(Dims.EMPTY), good, true)), T0 + 1000);
    combiner.accept(o, out::add, T0 + 1500);
    assertEquals(1, out.size());
    assertEquals(StreamId.of("good"), out.get(0).view().stream());
    assertEquals(1, guard.groupsFailed());
    assertEquals(0, combiner.pending(), "the failed group is not held for ever");
    assertTrue(health.get(AggregationGuard.COMPONENT).reason().contains("combiner dropped the final rollup of stream "
        + "other"), health.get(AggregationGuard.COMPONENT).reason());
  }

  @Test
  @DisplayName("a shard that completes no flush for the stall time makes aggregation down; its next flush clears it")
  void watchdog() {
    Health h = new Health();
    AggregationGuard g = new AggregationGuard(h, 2, 5_000, 300_000, T0);
    g.flushed(0, T0 + 4_000);
    g.check(T0 + 4_999);
    assertNull(h.get(AggregationGuard.COMPONENT));
    g.check(T0 + 5_000);
    Health.Problem p = h.get(AggregationGuard.COMPONENT);
    assertEquals(Health.Level.DOWN, p.level());
    assertEquals("shard 1 has not closed windows for 5 s: no final rollups from it", p.reason());
    assertTrue(h.down());
    g.flushed(1, T0 + 6_000);
    assertNull(h.get(AggregationGuard.COMPONENT));
    // down outranks degraded, and degraded comes back once the shard flushes again
    g.seriesFailed(0, views.views(StreamId.of("s"))[ViewRegistry.SERIES].key(Dims.EMPTY), T0, 3, "closing the window",
        new IllegalStateException("boom"), T0 + 6_500);
    g.check(T0 + 20_000);
    assertEquals(Health.Level.DOWN, h.get(AggregationGuard.COMPONENT).level());
    g.flushed(0, T0 + 20_100);
    g.flushed(1, T0 + 20_100);
    assertEquals(Health.Level.DEGRADED, h.get(AggregationGuard.COMPONENT).level());
  }

  @Test
  @DisplayName("a merge that fails leaves the target window as it was: a group never holds half a series")
  void failedMergeLeavesTargetIntact() {
    WindowAgg group = new WindowAgg(T0, T0 + 1000, 0.01, 2048);
    group.add(new Event(StreamId.of("s"), T0, null, Dims.EMPTY, new String[] {"a", "b"}, new double[] {3, 4}, T0));
    WindowAgg bad = new WindowAgg(T0, T0 + 1000, 0.01, 2048);
    bad.add(new Event(StreamId.of("s"), T0, null, Dims.EMPTY, new String[] {"a", "b"}, new double[] {5, UNINDEXABLE}, T0));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> group.merge(bad));
    assertEquals(1, group.count());
    assertEquals(1, group.valueStatsFor("a").count());
    assertEquals(3.0, group.valueStatsFor("a").sum());
    assertEquals(4.0, group.valueStatsFor("b").summary().p99());
  }
}
