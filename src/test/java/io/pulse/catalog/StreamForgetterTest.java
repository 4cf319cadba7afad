package io.pulse.catalog;

import io.pulse.core.StreamId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.agg.View;
import io.pulse.agg.ViewRegistry;
import io.pulse.config.PulseConfig;
import io.pulse.core.ManualClock;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.pulse.ingest.Ingestor;
import io.pulse.ingest.Quarantine;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Forgetting one stream at once (deleting it), whatever its idle time; the others stay. */
class StreamForgetterTest {

  private final ManualClock clock = new ManualClock(1_763_805_600_000L);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final PulseConfig config = PulseConfig.of(new JsonObject()
      .put("aggregation", new JsonObject().put("streamIdleMs", 3_600_000)));
  private final StreamCatalog catalog = new StreamCatalog(10, 100, 1000, registry);
  private final ViewRegistry views = new ViewRegistry(config);
  private final Ingestor ingestor = new Ingestor(config, catalog, views, new Quarantine(100, 1000), 2, registry);

  private int send(String stream, String series) {
    Event e = new Event(StreamId.of(stream), clock.millis(), null, Dims.of("k", series), new String[] {"v"}, new double[] {1},
        clock.millis());
    return ingestor.ingest(List.of(e), clock.millis(), "test").accepted();
  }

  @Test
  @DisplayName("a stream that just had events is forgotten with its views and meters; another stream stays")
  void forgetsBusyStreamAtOnce() {
    assertEquals(1, send("a", "x"));
    assertEquals(1, send("a", "y"));
    assertEquals(1, send("b", "x"));
    assertNotNull(registry.find("pulse.events.accepted").tag("stream", "a").counter());

    assertEquals(StreamForgetter.Outcome.FORGOTTEN, StreamForgetter.forget(catalog, views, StreamId.of("a"), clock.millis()));
    assertNull(catalog.get(StreamId.of("a")));
    assertFalse(views.streams().contains(StreamId.of("a")), "its views went");
    assertNull(registry.find("pulse.events.accepted").tag("stream", "a").counter(), "its meters went");
    assertEquals(1, catalog.seriesTotal(), "only b's series are counted");
    assertNotNull(catalog.get(StreamId.of("b")));
    assertTrue(views.streams().contains(StreamId.of("b")));

    assertEquals(1, send("a", "z"), "events afterwards start it afresh");
    assertEquals(1, catalog.get(StreamId.of("a")).events());
    assertEquals(1, catalog.get(StreamId.of("a")).seriesCount());
  }

  @Test
  @DisplayName("a view with a subscriber stays (the subscriber sees the stream start afresh); the entry goes")
  void subscribedViewStays() throws Exception {
    assertEquals(1, send("a", "x"));
    View v = views.acquire(StreamId.of("a"), Map.of("k", Set.of("x")), List.of());
    assertEquals(StreamForgetter.Outcome.FORGOTTEN, StreamForgetter.forget(catalog, views, StreamId.of("a"), clock.millis()));
    assertNull(catalog.get(StreamId.of("a")));
    assertTrue(views.streams().contains(StreamId.of("a")), "held by its subscriber");
    assertEquals(1, send("a", "x"));
    assertSame(v, views.acquire(StreamId.of("a"), Map.of("k", Set.of("x")), List.of()), "the subscriber's view is still the one fed");
  }

  @Test
  @DisplayName("an unknown stream: nothing to forget")
  void unknown() {
    assertEquals(1, send("b", "x"));
    assertEquals(StreamForgetter.Outcome.UNKNOWN, StreamForgetter.forget(catalog, views, StreamId.of("a"), clock.millis()));
    assertNotNull(catalog.get(StreamId.of("b")));
  }
}
