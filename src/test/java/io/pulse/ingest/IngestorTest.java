package io.pulse.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.core.StreamId;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.config.PulseConfig;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Routing, lateness, overflow and the counting that says where every event went. */
class IngestorTest {

  private static final long NOW = 1_763_805_600_500L;

  private SimpleMeterRegistry registry;
  private StreamCatalog catalog;
  private ViewRegistry views;
  private Quarantine quarantine;

  private Ingestor ingestor(JsonObject overrides, int shards) {
    PulseConfig c = PulseConfig.of(overrides);
    registry = new SimpleMeterRegistry();
    catalog = new StreamCatalog(c.aggregation().maxStreams(), c.aggregation().maxSeriesPerStream(), registry);
    views = new ViewRegistry(c);
    quarantine = new Quarantine(100, 1000);
    return new Ingestor(c, catalog, views, quarantine, shards, registry);
  }

  private static Event ev(String stream, long ts, Dims d, double v) {
    return new Event(StreamId.of(stream), ts, null, d, new String[] {"v"}, new double[] {v}, NOW);
  }

  private double counter(String name, String stream) {
    return registry.get(name).tag("stream", stream).counter().count();
  }

  @Test
  @DisplayName("each event goes to its own series, and series spread over the shards")
  void routesToTotalAndSeries() {
    Ingestor in = ingestor(new JsonObject(), 4);
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      events.add(ev("s", NOW, Dims.of("k", "v" + i), i));
    }
    Ingestor.Outcome o = in.ingest(events, NOW, "test");
    assertEquals(100, o.accepted());
    int entries = 0;
    Set<Integer> used = new HashSet<>();
    for (int s = 0; s < o.batches().length; s++) {
      ShardBatch b = o.batches()[s];
      entries += b.size();
      if (b.size() > 0) {
        used.add(s);
      }
    }
    assertEquals(100, entries, "each event into its own series only; totals are merged at flush");
    assertTrue(used.size() >= 3, "series spread over the shards: " + used);
    assertEquals(100.0, counter("pulse.events.accepted", "s"));
  }

  @Test
  @DisplayName("a late event folds into the open window under the default policy, and is counted as late")
  void lateFolds() {
    Ingestor in = ingestor(new JsonObject(), 1);
    long old = NOW - 10_000;
    Ingestor.Outcome o = in.ingest(List.of(ev("s", old, Dims.EMPTY, 1)), NOW, "test");
    assertEquals(1, o.accepted());
    assertEquals(1, o.late());
    assertEquals(NOW, o.batches()[0].windowTs(0), "windowed at its arrival");
    assertEquals(old, o.batches()[0].event(0).ts(), "its own time is kept");
    assertEquals(1.0, counter("pulse.events.late", "s"));
  }

  @Test
  @DisplayName("a late event goes to quarantine with a reason under latePolicy=quarantine")
  void lateQuarantined() {
    Ingestor in = ingestor(new JsonObject().put("aggregation", new JsonObject().put("latePolicy", "quarantine")), 1);
    Ingestor.Outcome o = in.ingest(List.of(ev("s", NOW - 10_000, Dims.EMPTY, 1), ev("s", NOW, Dims.EMPTY, 2)),
        NOW, "test");
    assertEquals(1, o.accepted());
    assertEquals(1, o.late());
    assertEquals(1, o.batches()[0].size(), "only the on-time event is aggregated");
    Quarantine.Entry q = quarantine.list("default", "s", 10).get(0);
    assertEquals("late", q.source());
    assertTrue(q.reason().startsWith("late:"), q.reason());
    assertEquals(1.0, counter("pulse.events.late.quarantined", "s"));
  }

  @Test
  @DisplayName("series past the cap fold into the overflow series, counted and reported")
  void overflow() {
    Ingestor in = ingestor(new JsonObject().put("aggregation", new JsonObject().put("maxSeriesPerStream", 3)), 1);
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      events.add(ev("s", NOW, Dims.of("k", "v" + i), i));
    }
    events.add(ev("s", NOW, Dims.of("k", "v0"), 9)); // a known series still goes to itself
    Ingestor.Outcome o = in.ingest(events, NOW, "test");
    assertEquals(6, o.accepted());
    assertEquals(2, o.overflowed());
    assertEquals(3, catalog.get(StreamId.of("s")).seriesCount());
    ShardBatch b = o.batches()[0];
    int overflowEntries = 0;
    for (int i = 0; i < b.size(); i++) {
      if (b.event(i).dims().equals(StreamCatalog.OVERFLOW)) {
        overflowEntries++;
      }
    }
    assertEquals(2, overflowEntries, "the 2 excess events, in the overflow series");
    assertEquals(2.0, counter("pulse.events.overflowed", "s"));
  }

  @Test
  @DisplayName("past the stream cap, events of new streams are rejected with a reason and quarantined")
  void tooManyStreams() {
    Ingestor in = ingestor(new JsonObject().put("aggregation", new JsonObject().put("maxStreams", 1)), 1);
    Ingestor.Outcome o = in.ingest(List.of(ev("a", NOW, Dims.EMPTY, 1), ev("b", NOW, Dims.EMPTY, 1)), NOW, "test");
    assertEquals(1, o.accepted());
    assertEquals(1, o.rejections().size());
    assertEquals(1, o.rejections().get(0).index());
    assertTrue(o.rejections().get(0).error().startsWith("too many streams"));
    assertEquals(1, quarantine.total());
  }

  @Test
  @DisplayName("parse rejections are quarantined with their payload and counted per known stream")
  void parseRejections() {
    Ingestor in = ingestor(new JsonObject(), 1);
    in.ingest(List.of(ev("s", NOW, Dims.EMPTY, 1)), NOW, "test");
    ParseResult pr = new ParseResult(List.of(), new int[0], List.of(new Rejection(0, "values: bad", "s", "{}"),
        new Rejection(1, "stream: bad", null, "{\"x\":1}")));
    Ingestor.Outcome o = in.ingest(pr, "default", NOW, "http");
    assertEquals(2, o.rejections().size());
    assertEquals(2, quarantine.total());
    assertEquals(1.0, counter("pulse.events.rejected", "s"));
    assertEquals(1.0, counter("pulse.events.rejected", "_other"));
    assertEquals("values: bad", quarantine.list("default", "s", 5).get(0).reason());
  }

  @Test
  @DisplayName("events of one series share one key object, whatever the request")
  void canonicalKeys() {
    Ingestor in = ingestor(new JsonObject(), 1);
    Ingestor.Outcome a = in.ingest(List.of(ev("s", NOW, Dims.of("region", "eu"), 1)), NOW, "test");
    Ingestor.Outcome b = in.ingest(List.of(ev("s", NOW, Dims.of("region", "eu"), 2)), NOW, "test");
    assertTrue(a.batches()[0].key(0) == b.batches()[0].key(0));
    assertTrue(a.batches()[0].key(0).view().allDims());
  }
}
