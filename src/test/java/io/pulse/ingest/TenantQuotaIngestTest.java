package io.pulse.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.catalog.StreamForgetter;
import io.pulse.catalog.StreamMeters;
import io.pulse.config.ConfigException;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.core.TenantQuota;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Per-tenant caps on streams and series ({@code limits.perTenant.maxStreams}, {@code maxSeries}) in
 * the catalog, through the ingestor: the tenant at its cap is refused (new streams) or folded into
 * the overflow series (new series) with the reason, while another tenant goes on; forgetting gives
 * the tenant's share back. Global caps are far above the tenant caps here.
 */
class TenantQuotaIngestTest {

  private static final long NOW = 1_763_805_600_500L;

  private PulseConfig config;
  private StreamCatalog catalog;
  private ViewRegistry views;
  private Ingestor ingestor;
  private EventParser parser;

  private void start(JsonObject perTenant) {
    config = PulseConfig.of(new JsonObject().put("limits", new JsonObject().put("perTenant", perTenant)));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    PulseConfig.Aggregation a = config.aggregation();
    catalog = new StreamCatalog(a.maxStreams(), a.maxSeriesPerStream(), config.holding().maxSeries(), registry,
        new StreamMeters(registry, Set.of(), 100), config.perTenant().quota());
    views = new ViewRegistry(config);
    ingestor = new Ingestor(config, catalog, views, new Quarantine(100, 1000), 2, registry);
    parser = new EventParser(config.ingest());
  }

  private Ingestor.Outcome post(String tenant, String stream, String... keys) {
    StringBuilder b = new StringBuilder();
    for (String k : keys) {
      b.append("{\"stream\":\"").append(stream).append("\",\"dims\":{\"k\":\"").append(k)
          .append("\"},\"values\":{\"v\":1}}\n");
    }
    ParseResult parsed = parser.parse(b.toString().getBytes(StandardCharsets.UTF_8), BodyFormat.NDJSON, tenant, null,
        NOW);
    return ingestor.ingest(parsed, tenant, NOW, "http");
  }

  @Test
  @DisplayName("a tenant at maxStreams gets its new stream's events rejected with the reason; another tenant is not")
  void streamCapPerTenant() {
    start(new JsonObject().put("maxStreams", 2));
    assertEquals(1, post("acme", "s1", "a").accepted());
    assertEquals(1, post("acme", "s2", "a").accepted());
    Ingestor.Outcome refused = post("acme", "s3", "a", "b");
    assertEquals(0, refused.accepted());
    assertEquals(2, refused.rejections().size());
    String why = refused.rejections().get(0).error();
    assertTrue(why.startsWith("too many streams: tenant acme is at its limit of 2 streams"), why);
    assertTrue(why.contains("limits.perTenant.maxStreams"), why);
    assertNull(catalog.get(StreamId.of("acme", "s3")));
    assertEquals(1, post("acme", "s1", "b").accepted(), "its known streams go on");

    for (String s : new String[] {"s1", "s2"}) {
      assertEquals(1, post("globex", s, "a").accepted(), "another tenant's streams: " + s);
    }
    assertEquals(2, catalog.quota().used("globex", TenantQuota.Resource.STREAMS));

    // a stream forgotten (deleted or idle) gives its place back to its tenant
    assertEquals(StreamForgetter.Outcome.FORGOTTEN,
        StreamForgetter.forget(catalog, views, StreamId.of("acme", "s2"), NOW));
    assertEquals(1, catalog.quota().used("acme", TenantQuota.Resource.STREAMS));
    assertEquals(2, post("acme", "s3", "a", "b").accepted());
  }

  @Test
  @DisplayName("a tenant at maxSeries has new series folded into the overflow series with the reason; another tenant is not")
  void seriesCapPerTenant() {
    start(new JsonObject().put("maxSeries", 3));
    assertEquals(0, post("acme", "s1", "a", "b").overflowed());
    Ingestor.Outcome full = post("acme", "s2", "c", "d", "e");
    assertEquals(3, full.accepted(), "folded events are still aggregated");
    assertEquals(2, full.overflowed(), "the cap counts the tenant's series across its streams");
    assertTrue(full.overflowNote().startsWith("tenant acme is at its limit of 3 series"), full.overflowNote());
    assertTrue(full.overflowNote().contains("limits.perTenant.maxSeries"), full.overflowNote());
    assertEquals(1, catalog.get(StreamId.of("acme", "s2")).seriesCount());
    assertEquals(0, post("acme", "s1", "a", "b").overflowed(), "known series go on");

    Ingestor.Outcome other = post("globex", "s1", "a", "b", "c");
    assertEquals(0, other.overflowed(), "another tenant's series");
    assertNull(other.overflowNote());

    // idle series forgotten give their places back
    assertEquals(6, catalog.forgetIdleSeries(NOW + 3_600_000L, s -> 1000));
    assertEquals(0, catalog.quota().used("acme", TenantQuota.Resource.SERIES));
    assertEquals(0, post("acme", "s2", "x", "y", "z").overflowed());
    // a forgotten stream gives back its series too
    assertEquals(StreamForgetter.Outcome.FORGOTTEN,
        StreamForgetter.forget(catalog, views, StreamId.of("acme", "s2"), NOW));
    assertEquals(0, catalog.quota().used("acme", TenantQuota.Resource.SERIES));
  }

  @Test
  @DisplayName("no per-tenant caps by default; a cap must be 0 or from 1 to the global limit it sits under")
  void settings() {
    PulseConfig.PerTenant d = PulseConfig.of(null).perTenant();
    assertEquals(new PulseConfig.PerTenant(0, 0, 0, 0, 0, 0), d);
    TenantQuota q = d.quota();
    for (TenantQuota.Resource r : TenantQuota.Resource.values()) {
      assertEquals(Long.MAX_VALUE, q.cap(r), r.setting());
    }
    ConfigException neg = assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject().put("limits",
        new JsonObject().put("perTenant", new JsonObject().put("maxSeries", -1)))));
    assertTrue(neg.getMessage().contains("limits.perTenant.maxSeries"), neg.getMessage());
    ConfigException above = assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject()
        .put("aggregation", new JsonObject().put("maxStreams", 10))
        .put("limits", new JsonObject().put("perTenant", new JsonObject().put("maxStreams", 11)))));
    assertTrue(above.getMessage().contains("aggregation.maxStreams (10)"), above.getMessage());
    assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject().put("limits",
        new JsonObject().put("perTenant", new JsonObject().put("maxStream", 1)))), "a typo is not a new setting");
    assertEquals(5, PulseConfig.of(new JsonObject().put("limits", new JsonObject().put("perTenant",
        new JsonObject().put("maxStorageBacklog", 5)))).perTenant().quota().cap(TenantQuota.Resource.STORAGE_BACKLOG));
  }
}
