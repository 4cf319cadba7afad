package io.pulse.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.core.StreamId;
import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.View;
import io.pulse.agg.ViewRegistry;
import io.pulse.config.PulseConfig;
import io.pulse.core.ManualClock;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.pulse.ingest.Ingestor;
import io.pulse.ingest.Quarantine;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Forgetting idle streams and series, the global series budget and view eviction, with a clock
 * that moves only when told: every cap a caller can fill recovers once the caller goes quiet,
 * and nothing that is watched or still open is forgotten.
 */
class CatalogSweeperTest {

  private static final long T0 = 1_763_805_600_000L;

  private final ManualClock clock = new ManualClock(T0);
  private SimpleMeterRegistry registry;
  private PulseConfig config;
  private StreamCatalog catalog;
  private ViewRegistry views;
  private Ingestor ingestor;
  private CatalogSweeper sweeper;

  /**
   * Idle times of 2 s (streams) and 2 s (series; forgotten 2 to 4 s after, series being timed in
   * ticks of 1,024 ms), 1 s windows closing at once, no future skew.
   */
  private void start(JsonObject aggregation) {
    JsonObject agg = new JsonObject().put("window", "1s").put("allowedLatenessMs", 0).put("streamIdleMs", 2000)
        .put("seriesIdleMs", 2000).mergeIn(aggregation);
    config = PulseConfig.of(new JsonObject().put("aggregation", agg)
        .put("ingest", new JsonObject().put("maxFutureSkewMs", 0))
        .put("live", new JsonObject().put("flushMs", 50).put("viewGraceMs", 500)));
    registry = new SimpleMeterRegistry();
    PulseConfig.Aggregation a = config.aggregation();
    catalog = new StreamCatalog(a.maxStreams(), a.maxSeriesPerStream(), config.holding().maxSeries(), registry);
    views = new ViewRegistry(config);
    ingestor = new Ingestor(config, catalog, views, new Quarantine(100, 1000), 2, registry);
    sweeper = new CatalogSweeper(config, catalog, views);
  }

  private Ingestor.Outcome send(String stream, String... series) {
    List<Event> events = new ArrayList<>();
    for (String s : series) {
      events.add(new Event(StreamId.of(stream), clock.millis(), null, Dims.of("k", s), new String[] {"v"}, new double[] {1},
          clock.millis()));
    }
    return ingestor.ingest(events, clock.millis(), "test");
  }

  private CatalogSweeper.Result sweep() {
    return sweeper.run(clock.millis());
  }

  @Test
  @DisplayName("a stream idle past streamIdleMs is forgotten with its views and meters, and its slot is reused")
  void idleStreamForgottenAndSlotReused() {
    start(new JsonObject().put("maxStreams", 2));
    assertEquals(1, send("a", "x").accepted());
    assertEquals(1, send("b", "x").accepted());
    Ingestor.Outcome refused = send("c", "x");
    assertEquals(0, refused.accepted());
    assertTrue(refused.rejections().get(0).error().contains("aggregation.maxStreams"));
    assertNotNull(registry.find("pulse.events.accepted").tag("stream", "a").counter());

    clock.advance(1999);
    assertEquals(List.of(), sweep().streams(), "not idle long enough yet");
    assertEquals(1, send("b", "x").accepted()); // b stays busy
    clock.advance(1);
    assertEquals(List.of(StreamId.of("a")), sweep().streams());

    assertNull(catalog.get(StreamId.of("a")));
    assertEquals(1, catalog.streamCount());
    assertEquals(1, catalog.seriesTotal(), "a's series left the global count with it");
    assertFalse(views.streams().contains(StreamId.of("a")), "its views went too");
    assertNull(registry.find("pulse.events.accepted").tag("stream", "a").counter(), "its meters were removed");
    assertEquals(1.0, registry.get("pulse.catalog.streams").gauge().value());

    assertEquals(1, send("c", "x").accepted(), "the slot a held takes a new stream");
    assertEquals(1, send("b", "y").accepted());
    assertEquals(0, send("a", "x").accepted(), "full again: a is refused like any new stream");
  }

  @Test
  @DisplayName("a returning stream starts afresh, with new views and counters")
  void returningStreamStartsAfresh() {
    start(new JsonObject());
    send("a", "x", "y");
    View oldTotal = views.views(StreamId.of("a"))[0];
    StreamCatalog.StreamInfo old = catalog.get(StreamId.of("a"));
    clock.advance(2000);
    assertEquals(List.of(StreamId.of("a")), sweep().streams());
    assertTrue(old.retired());
    send("a", "x");
    StreamCatalog.StreamInfo fresh = catalog.get(StreamId.of("a"));
    assertNotSame(old, fresh);
    assertEquals(1, fresh.seriesCount());
    assertEquals(1, fresh.events());
    assertNotSame(oldTotal, views.views(StreamId.of("a"))[0]);
    assertNull(views.byId(oldTotal.id()));
    assertEquals(1.0, registry.get("pulse.events.accepted").tag("stream", "a").counter().count());
  }

  @Test
  @DisplayName("a stream with a subscriber on any view is kept, however idle; it goes once the subscriber has left")
  void watchedStreamKept() throws Exception {
    start(new JsonObject());
    send("a", "x");
    View v = views.acquire(StreamId.of("a"), Map.of("k", Set.of("x")), List.of());
    clock.advance(10_000);
    assertEquals(List.of(), sweep().streams());
    assertNotNull(catalog.get(StreamId.of("a")));
    assertFalse(catalog.get(StreamId.of("a")).retired(), "a refused retirement leaves the entry in service");
    assertEquals(1, send("a", "x").accepted());
    clock.advance(10_000);
    views.release(v, clock.millis());
    assertEquals(List.of(), sweep().streams(), "within the view's resume grace (live.viewGraceMs)");
    clock.advance(500);
    assertEquals(List.of(StreamId.of("a")), sweep().streams());
  }

  @Test
  @DisplayName("a stream whose last window is still open is not forgotten until that window has closed")
  void openWindowKept() {
    config = PulseConfig.of(new JsonObject()
        .put("aggregation", new JsonObject().put("allowedLatenessMs", 500).put("streamIdleMs", 1000))
        .put("ingest", new JsonObject().put("maxFutureSkewMs", 0))
        .put("live", new JsonObject().put("flushMs", 50).put("viewGraceMs", 500))
        .put("streams", new JsonObject().put("slow", new JsonObject().put("window", "10s"))));
    registry = new SimpleMeterRegistry();
    catalog = new StreamCatalog(10, 100, 1000, registry);
    views = new ViewRegistry(config);
    ingestor = new Ingestor(config, catalog, views, new Quarantine(100, 1000), 1, registry);
    sweeper = new CatalogSweeper(config, catalog, views);
    ShardAggregator shard = new ShardAggregator(500, 0.01, 2048, views::views);

    Ingestor.Outcome o = send("slow", "x");
    for (ShardBatch b : o.batches()) {
      shard.add(b, clock.millis());
    }
    assertEquals(1, shard.openSeries());
    clock.advance(5_000);
    assertEquals(List.of(), sweep().streams(), "idle for 5 s, but its 10 s window is open");
    shard.flush(0, clock.millis());
    assertEquals(1, shard.openSeries());
    // window 10 s + lateness 0.5 s + two flush ticks
    clock.set(T0 + 10_000 + 500 + 100);
    shard.flush(0, clock.millis());
    assertEquals(0, shard.openSeries(), "the shard has closed it by now");
    assertEquals(List.of(StreamId.of("slow")), sweep().streams());
  }

  @Test
  @DisplayName("series not seen for seriesIdleMs leave their stream, the cap recovers, and they are admitted again")
  void idleSeriesForgottenAndReadmitted() {
    start(new JsonObject().put("maxSeriesPerStream", 2).put("streamIdleMs", 0));
    send("a", "x", "y");
    assertEquals(1, send("a", "z").overflowed(), "the per-stream cap is full");
    View seriesView = views.views(StreamId.of("a"))[ViewRegistry.SERIES];
    assertEquals(3, seriesView.keyCount(), "x, y and the overflow series");

    clock.advance(2000);
    send("a", "x"); // x is seen again; y is not
    assertEquals(0, sweep().series(), "y unseen for 2 s: not yet forgotten (within a tick of rounding)");
    clock.advance(2100);
    assertEquals(1, sweep().series(), "y, unseen for 4.1 s");
    assertEquals(1, catalog.get(StreamId.of("a")).seriesCount());
    assertEquals(1, catalog.seriesTotal());
    assertEquals(2, seriesView.keyCount(), "its key left the per-series view too");
    assertEquals(1.0, registry.get("pulse.catalog.series.forgotten").counter().count());

    Ingestor.Outcome o = send("a", "z", "y");
    assertEquals(1, o.overflowed(), "the freed slot takes z; y, back, finds the cap full again");
    assertEquals(2, catalog.get(StreamId.of("a")).seriesCount());
  }

  @Test
  @DisplayName("the global budget folds new series of any stream into its overflow series, and names the setting")
  void globalBudget() {
    start(new JsonObject().put("maxSeries", 3).put("maxSeriesPerStream", 10).put("streamIdleMs", 0));
    assertEquals(0, send("a", "x", "y").overflowed());
    Ingestor.Outcome o = send("b", "x", "y", "z");
    assertEquals(3, o.accepted(), "overflowed events are still aggregated");
    assertEquals(2, o.overflowed());
    assertTrue(o.overflowNote().contains("aggregation.maxSeries)"), o.overflowNote());
    assertEquals(3, catalog.seriesTotal());
    assertEquals(1, catalog.get(StreamId.of("b")).seriesCount());
    assertEquals(2.0, registry.get("pulse.events.overflowed").tag("stream", "b").counter().count());
    assertEquals(3.0, registry.get("pulse.catalog.series").gauge().value());

    clock.advance(2500);
    send("b", "x");
    clock.advance(2000);
    assertEquals(2, sweep().series(), "a's two series went idle");
    assertEquals(0, send("b", "y", "z").overflowed(), "the budget recovered");
    assertEquals(3, catalog.seriesTotal());
  }

  @Test
  @DisplayName("the per-stream cap's note still names maxSeriesPerStream")
  void streamCapNote() {
    start(new JsonObject().put("maxSeriesPerStream", 1));
    Ingestor.Outcome o = send("a", "x", "y");
    assertEquals(1, o.overflowed());
    assertTrue(o.overflowNote().contains("aggregation.maxSeriesPerStream"), o.overflowNote());
  }

  @Test
  @DisplayName("at the view cap, the unwatched on-demand view idle the longest makes room; watched ones never do")
  void viewEvictionOrder() throws Exception {
    start(new JsonObject().put("maxViewsPerStream", 4)); // total, series, and two on-demand
    View f1 = views.acquire(StreamId.of("a"), Map.of("k", Set.of("1")), List.of());
    View f2 = views.acquire(StreamId.of("a"), Map.of("k", Set.of("2")), List.of());
    clock.advance(10);
    views.release(f2, clock.millis()); // f2 idle first
    clock.advance(10);
    views.release(f1, clock.millis());

    List<View> evicted = new ArrayList<>();
    View f3 = views.acquire(StreamId.of("a"), Map.of("k", Set.of("3")), List.of(), evicted);
    assertEquals(List.of(f2), evicted, "the one idle the longest");
    assertNull(views.byId(f2.id()));
    assertSame(f1, views.byId(f1.id()));
    evicted.clear();
    View f4 = views.acquire(StreamId.of("a"), Map.of("k", Set.of("4")), List.of(), evicted);
    assertEquals(List.of(f1), evicted);

    ViewRegistry.ViewException e = assertThrows(ViewRegistry.ViewException.class,
        () -> views.acquire(StreamId.of("a"), Map.of("k", Set.of("5")), List.of()));
    assertTrue(e.getMessage().contains("aggregation.maxViewsPerStream"), e.getMessage());
    assertSame(f3, views.byId(f3.id()), "watched views are never evicted");
    assertSame(f4, views.byId(f4.id()));
    assertEquals(4, views.views(StreamId.of("a")).length);

    views.release(f3, clock.millis());
    evicted.clear();
    View f5 = views.acquire(StreamId.of("a"), Map.of("k", Set.of("5")), List.of(), evicted);
    assertEquals(List.of(f3), evicted);
    assertEquals(1, f5.subscribers());
    // asking again for a watched view's spec shares it, at the cap too
    assertSame(f4, views.acquire(StreamId.of("a"), Map.of("k", Set.of("4")), List.of()));
  }

  @Test
  @DisplayName("views of a stream that was subscribed to but never fed go once nobody watches them")
  void orphanViewsDropped() throws Exception {
    start(new JsonObject());
    View v = views.acquire(StreamId.of("ghost"), Map.of(), List.of("k"));
    sweep();
    assertTrue(views.streams().contains(StreamId.of("ghost")));
    views.release(v, clock.millis());
    clock.advance(500);
    sweep();
    assertFalse(views.streams().contains(StreamId.of("ghost")));
    assertNull(views.byId(v.id()));
  }

  @Test
  @DisplayName("forgetting racing with ingest threads loses and miscounts no event")
  void forgettingRacesWithIngest() throws Exception {
    start(new JsonObject().put("maxStreams", 1).put("streamIdleMs", 100).put("seriesIdleMs", 100));
    int threads = 4;
    int requests = 3000;
    long[] routed = new long[threads];
    long[] accepted = new long[threads];
    List<StreamCatalog.StreamInfo> forgotten = new ArrayList<>();
    List<Long> countedWhenForgotten = new ArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
    Thread forgetter = new Thread(() -> {
      while (!done.get()) {
        // far in the future: every entry not held right now looks idle
        for (StreamCatalog.StreamInfo s : catalog.forgetIdleStreams(T0 + 1_000_000, x -> 100,
            x -> views.forgetStream(x.id(), T0 + 1_000_000, 0))) {
          forgotten.add(s);
          countedWhenForgotten.add(s.events()); // final: nothing may count into it any more
        }
        catalog.forgetIdleSeries(T0 + 1_000_000, s -> 100);
      }
    });
    forgetter.start();
    List<Thread> ingest = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int me = t;
      Thread th = new Thread(() -> {
        try {
          for (int r = 0; r < requests; r++) {
            List<Event> events = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
              events.add(new Event(StreamId.of("s"), T0, null, Dims.of("k", "v" + (i + r) % 7), new String[] {"v"},
                  new double[] {1}, T0));
            }
            Ingestor.Outcome o = ingestor.ingest(events, T0, "race");
            accepted[me] += o.accepted();
            for (ShardBatch b : o.batches()) {
              routed[me] += b.size();
              for (int i = 0; i < b.size(); i++) {
                assertEquals(StreamId.of("s"), b.key(i).view().stream());
              }
            }
            assertTrue(o.rejections().isEmpty(), () -> o.rejections().get(0).error());
          }
        } catch (Throwable e) {
          failed.compareAndSet(null, e);
        }
      });
      ingest.add(th);
      th.start();
    }
    for (Thread th : ingest) {
      th.join();
    }
    done.set(true);
    forgetter.join();
    if (failed.get() != null) {
      throw new AssertionError("an ingest thread failed", failed.get());
    }
    long sent = (long) threads * requests * 5;
    long sumAccepted = 0;
    long sumRouted = 0;
    for (int t = 0; t < threads; t++) {
      sumAccepted += accepted[t];
      sumRouted += routed[t];
    }
    assertEquals(sent, sumAccepted);
    assertEquals(sent, sumRouted);
    long counted = catalog.get(StreamId.of("s")) == null ? 0 : catalog.get(StreamId.of("s")).events();
    for (int i = 0; i < forgotten.size(); i++) {
      assertEquals(countedWhenForgotten.get(i), forgotten.get(i).events(), "counted into after it was forgotten");
      counted += countedWhenForgotten.get(i);
    }
    assertTrue(forgotten.size() > 0, "the race was exercised: the stream was forgotten at least once");
    assertEquals(sent, counted, "every event counted by exactly one entry, forgotten or current");
    assertTrue(catalog.seriesTotal() >= 0 && catalog.seriesTotal() <= 7, "global count " + catalog.seriesTotal());
  }

  @Test
  @DisplayName("a stream the stored catalogue has not caught up with is kept until it has")
  void keptUntilStored() {
    start(new JsonObject());
    send("a", "x");
    clock.advance(5000);
    assertEquals(List.of(), sweeper.run(clock.millis(), info -> false).streams());
    assertNotNull(catalog.get(StreamId.of("a")));
    assertFalse(catalog.get(StreamId.of("a")).retired());
    assertTrue(views.streams().contains(StreamId.of("a")), "its views were left alone");
    assertEquals(List.of(StreamId.of("a")), sweeper.run(clock.millis(), info -> true).streams());
  }
}
