package io.pulse.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.agg.PartialCombiner;
import io.pulse.agg.Rollup;
import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.View;
import io.pulse.agg.ViewKey;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.CatalogSweeper;
import io.pulse.catalog.StreamCatalog;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Two tenants with a stream of the same name share nothing in the engine: not the catalog entry,
 * its series or caps, not a view (nor so a resume log, which is per view), not a shard's window,
 * not a quarantine entry.
 */
class TenantIsolationTest {

  private static final long NOW = 1_763_805_600_500L;
  private static final StreamId A = StreamId.of("acme", "checkout");
  private static final StreamId B = StreamId.of("globex", "checkout");

  private PulseConfig config;
  private SimpleMeterRegistry registry;
  private StreamCatalog catalog;
  private ViewRegistry views;
  private Quarantine quarantine;
  private Ingestor ingestor;
  private EventParser parser;

  @BeforeEach
  void setUp() {
    config = PulseConfig.of(new JsonObject().put("aggregation", new JsonObject().put("maxSeriesPerStream", 2)));
    registry = new SimpleMeterRegistry();
    catalog = new StreamCatalog(100, config.aggregation().maxSeriesPerStream(), registry);
    views = new ViewRegistry(config);
    quarantine = new Quarantine(100, 1000);
    ingestor = new Ingestor(config, catalog, views, quarantine, 2, registry);
    parser = new EventParser(config.ingest());
  }

  private Ingestor.Outcome post(String tenant, String ndjson) {
    ParseResult parsed = parser.parse(ndjson.getBytes(StandardCharsets.UTF_8), BodyFormat.NDJSON, tenant, null, NOW);
    return ingestor.ingest(parsed, tenant, NOW, "http");
  }

  private static List<ViewKey> keys(Ingestor.Outcome o) {
    List<ViewKey> out = new ArrayList<>();
    for (ShardBatch b : o.batches()) {
      for (int i = 0; i < b.size(); i++) {
        out.add(b.key(i));
      }
    }
    return out;
  }

  @Test
  @DisplayName("the parser gives a body's events their caller's tenant, one StreamId instance per stream")
  void parserStampsTheTenant() {
    ParseResult r = parser.parse(("{\"stream\":\"checkout\",\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"checkout\",\"values\":{\"v\":2}}").getBytes(StandardCharsets.UTF_8), BodyFormat.NDJSON,
        "acme", null, NOW);
    assertEquals(A, r.events().get(0).stream());
    assertSame(r.events().get(0).stream(), r.events().get(1).stream(), "shared, so routing compares by identity");
    ParseResult other = parser.parse("{\"stream\":\"checkout\",\"values\":{\"v\":1}}".getBytes(StandardCharsets.UTF_8),
        BodyFormat.JSON, "globex", null, NOW);
    assertEquals(B, other.events().get(0).stream());
  }

  @Test
  @DisplayName("the same stream name in two tenants: two catalog entries, two views, two series keys")
  void catalogViewsAndSeriesApart() {
    Ingestor.Outcome a = post("acme", "{\"stream\":\"checkout\",\"dims\":{\"region\":\"eu\"},\"values\":{\"v\":1}}");
    Ingestor.Outcome b = post("globex", "{\"stream\":\"checkout\",\"dims\":{\"region\":\"eu\"},\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"checkout\",\"dims\":{\"region\":\"eu\"},\"values\":{\"v\":2}}");
    assertEquals(1, a.accepted());
    assertEquals(2, b.accepted());
    StreamCatalog.StreamInfo ia = catalog.get(A);
    StreamCatalog.StreamInfo ib = catalog.get(B);
    assertNotNull(ia);
    assertNotNull(ib);
    assertNotSame(ia, ib);
    assertEquals(1, ia.events());
    assertEquals(2, ib.events());
    assertNull(catalog.get(StreamId.of("checkout")), "nothing in the default tenant");
    View[] va = views.views(A);
    View[] vb = views.views(B);
    for (int i = 0; i < va.length; i++) {
      assertNotSame(va[i], vb[i]);
      assertTrue(va[i].id() != vb[i].id());
      assertEquals(A, va[i].stream());
      assertEquals(B, vb[i].stream());
    }
    ViewKey ka = keys(a).get(0);
    ViewKey kb = keys(b).get(0);
    assertEquals(ka.series(), kb.series(), "the same dims");
    assertTrue(!ka.equals(kb), "but not the same series");
    assertSame(va[ViewRegistry.SERIES], ka.view());
    assertSame(vb[ViewRegistry.SERIES], kb.view());
    assertEquals(1.0, registry.get("pulse.events.accepted").tags("tenant", "acme", "stream", "checkout").counter()
        .count());
    assertEquals(2.0, registry.get("pulse.events.accepted").tags("tenant", "globex", "stream", "checkout").counter()
        .count());
  }

  @Test
  @DisplayName("one tenant's series count against its own stream's cap, never against the other tenant's")
  void capsPerTenant() {
    // maxSeriesPerStream is 2: acme fills its checkout, globex's checkout still takes two of its own
    Ingestor.Outcome a = post("acme", "{\"stream\":\"checkout\",\"dims\":{\"k\":\"1\"},\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"checkout\",\"dims\":{\"k\":\"2\"},\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"checkout\",\"dims\":{\"k\":\"3\"},\"values\":{\"v\":1}}");
    assertEquals(1, a.overflowed());
    Ingestor.Outcome b = post("globex", "{\"stream\":\"checkout\",\"dims\":{\"k\":\"4\"},\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"checkout\",\"dims\":{\"k\":\"5\"},\"values\":{\"v\":1}}");
    assertEquals(0, b.overflowed());
    assertEquals(2, catalog.get(A).seriesCount());
    assertEquals(2, catalog.get(B).seriesCount());
    assertEquals(List.of("1", "2"), catalog.get(A).dims().get("k"));
    assertEquals(List.of("4", "5"), catalog.get(B).dims().get("k"));
  }

  @Test
  @DisplayName("shards roll the two tenants' events up in separate windows: each final holds its tenant's events only")
  void windowsApart() {
    ShardAggregator[] shards = {new ShardAggregator(500, 0.01, 2048, views::views),
        new ShardAggregator(500, 0.01, 2048, views::views)};
    PartialCombiner combiner = new PartialCombiner(2);
    List<Ingestor.Outcome> outs = List.of(
        post("acme", "{\"stream\":\"checkout\",\"ts\":" + (NOW - 100) + ",\"values\":{\"v\":1}}"),
        post("globex", "{\"stream\":\"checkout\",\"ts\":" + (NOW - 100) + ",\"values\":{\"v\":10}}\n"
            + "{\"stream\":\"checkout\",\"ts\":" + (NOW - 100) + ",\"values\":{\"v\":20}}"));
    for (Ingestor.Outcome o : outs) {
      for (int s = 0; s < 2; s++) {
        ShardBatch b = o.batches()[s];
        for (int i = 0; i < b.size(); i++) {
          shards[s].add(b.key(i), b.event(i), b.windowTs(i), NOW);
        }
      }
    }
    List<Rollup> out = new ArrayList<>();
    long later = NOW + 5_000;
    for (int s = 0; s < 2; s++) {
      combiner.accept(shards[s].flush(s, later), out::add);
    }
    Rollup ta = null;
    Rollup tb = null;
    for (Rollup r : out) {
      if (r.fin() && r.view() == views.views(A)[0]) {
        ta = r;
      } else if (r.fin() && r.view() == views.views(B)[0]) {
        tb = r;
      }
    }
    assertNotNull(ta, out.toString());
    assertNotNull(tb, out.toString());
    assertEquals(1, ta.count());
    assertEquals(1.0, ta.stats()[0].sum());
    assertEquals(2, tb.count());
    assertEquals(30.0, tb.stats()[0].sum());
  }

  @Test
  @DisplayName("a subscription's view is its tenant's: the same filter and group-by make two views, one per tenant")
  void subscribedViewsApart() throws Exception {
    View a = views.acquire(A, Map.of("region", Set.of("eu")), List.of("store"));
    View b = views.acquire(B, Map.of("region", Set.of("eu")), List.of("store"));
    View a2 = views.acquire(A, Map.of("region", Set.of("eu")), List.of("store"));
    assertNotSame(a, b);
    assertSame(a, a2, "the same tenant shares its view (and so its resume log, kept per view id)");
    assertTrue(!a.spec().equals(b.spec()));
    assertEquals(2, a.subscribers());
    assertEquals(1, b.subscribers());
  }

  @Test
  @DisplayName("quarantine entries (rejected, and late by policy) are their tenant's: listed for it only")
  void quarantineApart() {
    post("acme", "{\"stream\":\"checkout\",\"values\":{\"v\":\"x\"}}");
    post("globex", "{\"stream\":\"checkout\",\"values\":{}}\n{\"stream\":\"Bad!\",\"values\":{\"v\":1}}");
    List<Quarantine.Entry> qa = quarantine.list("acme", null, 10);
    List<Quarantine.Entry> qb = quarantine.list("globex", "checkout", 10);
    assertEquals(1, qa.size());
    assertEquals("acme", qa.get(0).tenant());
    assertEquals("checkout", qa.get(0).stream());
    assertTrue(qa.get(0).reason().startsWith("values.v"), qa.get(0).reason());
    assertEquals(1, qb.size());
    assertEquals("globex", qb.get(0).tenant());
    assertEquals(2, quarantine.list("globex", null, 10).size(), "the unreadable stream is globex's too");
    assertEquals(0, quarantine.list(StreamId.DEFAULT_TENANT, null, 10).size());

    Ingestor lateQuarantined = new Ingestor(PulseConfig.of(new JsonObject().put("aggregation",
        new JsonObject().put("latePolicy", "quarantine"))), catalog, views, quarantine, 2, registry);
    ParseResult old = parser.parse(("{\"stream\":\"checkout\",\"ts\":" + (NOW - 60_000) + ",\"values\":{\"v\":1}}")
        .getBytes(StandardCharsets.UTF_8), BodyFormat.JSON, "acme", null, NOW);
    assertEquals(1, lateQuarantined.ingest(old, "acme", NOW, "http").late());
    assertEquals(2, quarantine.list("acme", "checkout", 10).size());
    assertEquals("late", quarantine.list("acme", "checkout", 10).get(0).source());
    assertEquals(1, quarantine.list("globex", "checkout", 10).size(), "globex sees none of acme's");
  }

  @Test
  @DisplayName("forgetting one tenant's idle stream leaves the other tenant's stream of that name and its views")
  void forgettingApart() {
    PulseConfig c = PulseConfig.of(new JsonObject().put("aggregation", new JsonObject().put("streamIdleMs", 10_000)));
    CatalogSweeper sweeper = new CatalogSweeper(c, catalog, views);
    post("acme", "{\"stream\":\"checkout\",\"values\":{\"v\":1}}");
    post("globex", "{\"stream\":\"checkout\",\"values\":{\"v\":1}}");
    // globex's stream is fed again later: only acme's is idle at the sweep
    ParseResult again = parser.parse("{\"stream\":\"checkout\",\"values\":{\"v\":1}}".getBytes(StandardCharsets.UTF_8),
        BodyFormat.JSON, "globex", null, NOW + 399_000);
    ingestor.ingest(again, "globex", NOW + 399_000, "http");
    View bSeries = views.views(B)[ViewRegistry.SERIES];
    assertEquals(List.of(A), sweeper.run(NOW + 400_000).streams());
    assertNull(catalog.get(A));
    assertNotNull(catalog.get(B));
    assertTrue(views.streams().contains(B));
    assertTrue(!views.streams().contains(A));
    assertSame(bSeries, views.views(B)[ViewRegistry.SERIES], "globex's views untouched");
  }
}
