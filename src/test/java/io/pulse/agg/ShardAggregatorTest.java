package io.pulse.agg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.StreamId;
import io.pulse.config.PulseConfig;
import io.pulse.core.ManualClock;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Window edges, closing and lateness, and totals and group-bys merged from series windows across
 * shards, with a clock that moves only when told. Windows are 1 s, lateness 500 ms, two shards.
 */
class ShardAggregatorTest {

  private static final long T0 = 1_763_805_600_000L; // a whole second

  private ManualClock clock;
  private ViewRegistry views;
  private ShardAggregator[] shards;
  private PartialCombiner combiner;
  private final List<Rollup> out = new ArrayList<>();

  @BeforeEach
  void setUp() {
    clock = new ManualClock(T0);
    views = new ViewRegistry(PulseConfig.of(new JsonObject()));
    shards = new ShardAggregator[2];
    for (int i = 0; i < 2; i++) {
      shards[i] = new ShardAggregator(500, 0.01, 2048, views::views);
    }
    combiner = new PartialCombiner(2);
  }

  private void add(Dims dims, long ts, double v) {
    Event e = new Event(StreamId.of("s"), ts, null, dims, new String[] {"v"}, new double[] {v}, clock.millis());
    ViewKey k = views.views(StreamId.of("s"))[ViewRegistry.SERIES].key(dims);
    shards[k.shard(2)].add(k, e, ts, clock.millis());
  }

  private void add(long ts, double v) {
    add(Dims.EMPTY, ts, v);
  }

  /** Flushes both shards through the combiner; returns what came out. */
  private List<Rollup> flush() {
    out.clear();
    for (int i = 0; i < 2; i++) {
      combiner.accept(shards[i].flush(i, clock.millis()), out::add);
    }
    return out;
  }

  private List<Rollup> totals(List<Rollup> rs) {
    return rs.stream().filter(r -> r.view().id() == views.views(StreamId.of("s"))[0].id()).collect(Collectors.toList());
  }

  @Test
  @DisplayName("an event at the last millisecond of a window and one at the first of the next land apart")
  void windowEdges() {
    add(T0 + 999, 1);
    add(T0 + 1000, 2);
    clock.set(T0 + 2500); // [T0, T0+1000) closes at T0+1500, the next at T0+2500
    List<Rollup> r = totals(flush());
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
    List<Rollup> r = totals(flush());
    assertEquals(1, r.size());
    assertEquals(2, r.get(0).count());
    assertEquals(0, shards[0].openSeries() + shards[1].openSeries());
    clock.set(T0 + 5000);
    assertTrue(flush().isEmpty(), "closed windows are not sent again");
  }

  @Test
  @DisplayName("a share sent again for a window already combined (a replayed partition) makes no second final")
  void resentShareOfAClosedWindowIsDropped() {
    List<Dims> onShard0 = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Dims d = Dims.of("k", "s" + i);
      add(d, T0 + 100, 1);
      if (views.views(StreamId.of("s"))[ViewRegistry.SERIES].key(d).shard(2) == 0) {
        onShard0.add(d);
      }
    }
    assertFalse(onShard0.isEmpty() || onShard0.size() == 8, "the series are on both shards");
    clock.set(T0 + 1500);
    List<Rollup> first = totals(flush());
    assertEquals(1, first.size());
    assertEquals(8, first.get(0).count(), "every shard's share");
    // shard 0's partition is replayed by a new owner: the same events, the window closed again
    ShardAggregator replay = new ShardAggregator(500, 0.01, 2048, views::views);
    for (Dims d : onShard0) {
      Event e = new Event(StreamId.of("s"), T0 + 100, null, d, new String[] {"v"}, new double[] {1}, T0 + 100);
      replay.add(views.views(StreamId.of("s"))[ViewRegistry.SERIES].key(d), e, T0 + 100, T0 + 100);
    }
    out.clear();
    combiner.accept(replay.flush(0, T0 + 1500), out::add);
    assertTrue(totals(out).isEmpty(), "no total of shard 0's share alone: " + totals(out));
    assertEquals(0, combiner.pending(), "nothing held for it either");
    // a window still open takes the replayed partition's share as usual, beside the other shard's
    Dims d0 = onShard0.get(0);
    Dims d1 = null;
    for (int i = 0; d1 == null; i++) {
      Dims d = Dims.of("k", "s" + i);
      if (!onShard0.contains(d)) {
        d1 = d;
      }
    }
    replay.add(views.views(StreamId.of("s"))[ViewRegistry.SERIES].key(d0),
        new Event(StreamId.of("s"), T0 + 1600, null, d0, new String[] {"v"}, new double[] {1}, T0 + 1600), T0 + 1600, T0 + 1600);
    clock.set(T0 + 1600);
    add(d1, T0 + 1600, 1);
    out.clear();
    combiner.accept(replay.flush(0, T0 + 2500), out::add);
    combiner.accept(shards[1].flush(1, T0 + 2500), out::add);
    assertEquals(2, totals(out).get(0).count(), "the replayed share of an open window is merged: " + totals(out));
  }

  @Test
  @DisplayName("a quiet stream's window closes on processing time with no further events")
  void quietStreamCloses() {
    add(T0 + 10, 5);
    clock.set(T0 + 60_000);
    List<Rollup> r = totals(flush());
    assertEquals(1, r.size());
    assertTrue(r.get(0).fin());
  }

  @Test
  @DisplayName("an event whose window closed while it was in flight folds into the open window, counted")
  void lateInFlightFolds() {
    clock.set(T0 + 3200);
    add(T0 + 100, 7); // its window closed at T0+1500
    assertEquals(1, shards[0].lateInFlight() + shards[1].lateInFlight());
    clock.set(T0 + 5000);
    List<Rollup> r = totals(flush());
    assertEquals(T0 + 3000, r.get(0).start());
    assertEquals(7.0, r.get(0).stats()[0].max());
  }

  @Test
  @DisplayName("the total and a group-by are exact merges of the series windows on every shard")
  void totalsAndGroupsMergeAcrossShards() throws Exception {
    View byRegion = views.acquire(StreamId.of("s"), Map.of(), List.of("region"));
    View euOnly = views.acquire(StreamId.of("s"), Map.of("region", Set.of("eu")), List.of());
    double sum = 0;
    for (int i = 0; i < 200; i++) {
      String region = i % 2 == 0 ? "eu" : "us";
      add(Dims.of("region", region, "store", "s" + (i / 2 % 20)), T0 + i, i);
      sum += i;
    }
    assertTrue(shards[0].openSeries() > 0 && shards[1].openSeries() > 0, "series spread over both shards");
    clock.set(T0 + 1500);
    List<Rollup> r = flush();
    Rollup total = totals(r).get(0);
    assertEquals(200, total.count());
    assertEquals(sum, total.stats()[0].sum(), 1e-9);
    assertEquals(0.0, total.stats()[0].min());
    assertEquals(199.0, total.stats()[0].max());
    List<Rollup> regions = r.stream().filter(x -> x.view() == byRegion).collect(Collectors.toList());
    assertEquals(2, regions.size());
    assertEquals(100, regions.get(0).count());
    assertEquals(1, regions.get(0).series().size());
    Rollup eu = r.stream().filter(x -> x.view() == euOnly).findFirst().orElseThrow();
    assertEquals(100, eu.count());
    assertEquals(Dims.EMPTY, eu.series());
    long series = r.stream().filter(x -> x.view().allDims()).count();
    assertEquals(40, series, "2 regions x 20 stores");
  }

  @Test
  @DisplayName("running updates go out only for watched views, once per change, and add up across shards")
  void runningUpdates() throws Exception {
    View live = views.acquire(StreamId.of("s"), Map.of(), List.of());
    assertTrue(live == views.views(StreamId.of("s"))[0], "the stream total is one view however it is asked for");
    add(Dims.of("k", "a"), T0 + 10, 1);
    add(Dims.of("k", "b"), T0 + 11, 2);
    add(Dims.of("k", "c"), T0 + 12, 3);
    List<Rollup> r = totals(flush());
    assertEquals(1, r.size(), "one combined running update");
    assertFalse(r.get(0).fin());
    assertEquals(3, r.get(0).count());
    assertTrue(flush().isEmpty(), "unchanged since the last tick");
    add(Dims.of("k", "a"), T0 + 20, 5);
    r = totals(flush());
    assertEquals(4, r.get(0).count(), "the running state includes the series that did not change");
    assertEquals(5.0, r.get(0).stats()[0].max());
    assertEquals(T0 + 20, r.get(0).latest());
    views.release(live, clock.millis());
    add(Dims.of("k", "a"), T0 + 30, 3);
    assertTrue(flush().isEmpty(), "nobody watches any more");
  }

  @Test
  @DisplayName("a window two shards close at different ticks is final only once both have closed it")
  void finalWaitsForEveryShard() {
    add(Dims.of("k", "a"), T0 + 10, 1);
    add(Dims.of("k", "b"), T0 + 10, 1);
    add(Dims.of("k", "c"), T0 + 10, 1);
    clock.set(T0 + 1500);
    out.clear();
    combiner.accept(shards[0].flush(0, clock.millis()), out::add);
    assertTrue(totals(out).isEmpty(), "shard 1 has not closed the window yet");
    combiner.accept(shards[1].flush(1, clock.millis()), out::add);
    List<Rollup> t = totals(out);
    assertEquals(1, t.size());
    assertEquals(3, t.get(0).count());
  }

  @Test
  @DisplayName("closeAll closes open windows at once, for shutdown")
  void closeAll() {
    add(T0 + 10, 1);
    add(T0 + 1010, 1);
    out.clear();
    for (int i = 0; i < 2; i++) {
      combiner.accept(shards[i].closeAll(i), out::add);
    }
    combiner.closeAll(out::add);
    assertEquals(2, totals(out).size());
    assertTrue(out.stream().allMatch(Rollup::fin));
    assertEquals(0, shards[0].openSeries() + shards[1].openSeries());
    assertEquals(0, combiner.pending());
  }

  @Test
  @DisplayName("percentiles come from the sketch, within its 1% relative error of the exact ones")
  void percentiles() {
    for (int i = 1; i <= 10_000; i++) {
      add(Dims.of("k", "s" + (i % 7)), T0 + (i % 1000), i);
    }
    clock.set(T0 + 1500);
    ValueStats.Summary s = totals(flush()).get(0).stats()[0];
    assertEquals(10_000, s.count());
    assertEquals(1, s.min());
    assertEquals(10_000, s.max());
    assertEquals(5000.5, s.mean(), 1e-9);
    assertEquals(5000, s.p50(), 5000 * 0.011);
    assertEquals(9500, s.p95(), 9500 * 0.011);
    assertEquals(9900, s.p99(), 9900 * 0.011);
  }

  @Test
  @DisplayName("filtered and grouped views pick and key events by their dims")
  void viewsMatchAndKey() throws Exception {
    View eu = views.acquire(StreamId.of("s"), Map.of("region", Set.of("eu")), List.of("store"));
    assertTrue(eu.matches(Dims.of("region", "eu", "store", "a")));
    assertFalse(eu.matches(Dims.of("region", "us", "store", "a")));
    assertFalse(eu.matches(Dims.of("store", "a")));
    assertEquals(Dims.of("store", "a"), eu.keyOf(Dims.of("region", "eu", "store", "a")));
    assertTrue(eu.key(Dims.of("region", "eu", "store", "a")) == eu.key(Dims.of("region", "eu", "store", "a")),
        "one key object per group");
    View series = views.views(StreamId.of("s"))[ViewRegistry.SERIES];
    assertTrue(series.allDims());
    assertEquals(Dims.of("region", "eu", "store", "a"), series.keyOf(Dims.of("region", "eu", "store", "a")));
  }

  @Test
  @DisplayName("10,000 series with values over many magnitudes: one final per group and window, every event counted")
  void manySeriesWideValues() throws Exception {
    View live = views.acquire(StreamId.of("s"), Map.of(), List.of());
    java.util.Random rnd = new java.util.Random(11);
    long events = 0;
    List<Rollup> all = new ArrayList<>();
    for (int tick = 0; tick < 12; tick++) {
      for (int i = 0; i < 10_000; i++) {
        double v = Math.pow(10, rnd.nextInt(16) - 6) * (1 + rnd.nextDouble()) * (rnd.nextInt(10) == 0 ? -1 : 1);
        add(Dims.of("u", "u" + i), clock.millis(), rnd.nextInt(20) == 0 ? 0 : v);
        events++;
      }
      clock.advance(250);
      all.addAll(flush());
    }
    clock.advance(5000);
    all.addAll(flush());
    List<Rollup> finals = totals(all).stream().filter(Rollup::fin).collect(Collectors.toList());
    assertEquals(finals.size(), finals.stream().map(Rollup::start).distinct().count(), "one final per window");
    assertEquals(events, finals.stream().mapToLong(Rollup::count).sum());
    assertEquals(0, combiner.pending());
    views.release(live, clock.millis());
  }
}
