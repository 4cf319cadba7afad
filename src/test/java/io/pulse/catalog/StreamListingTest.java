package io.pulse.catalog;

import io.pulse.core.StreamId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.pulse.store.CatalogStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** GET /api/v1/streams' merge of the live catalogue (this run) with the stored one (earlier runs). */
class StreamListingTest {

  private static final long T0 = 1_763_805_600_000L;

  private final StreamCatalog live = new StreamCatalog(100, 100, new SimpleMeterRegistry());

  private void see(String stream, long at, String host, String value) {
    StreamCatalog.StreamInfo s = live.stream(StreamId.of(stream), at);
    s.admit(Event.of(StreamId.of(stream), at, Dims.of("host", host), Map.of(value, 1)), at);
    s.count(at, 1, 0, 0, 0);
  }

  private static CatalogStore.Stream stored(String name, String dim, String value, String valueName, long first,
      long last) {
    return new CatalogStore.Stream(StreamId.of(name), Map.of(dim, List.of(value)), List.of(valueName), first, last);
  }

  @Test
  @DisplayName("live only, stored only and both: sorted by name; both shows the union and the widest seen times")
  void merge() {
    see("b", T0, "h1", "ms");
    see("c", T0 + 5, "h2", "ms");
    Map<StreamId, CatalogStore.Stream> before = Map.of(
        StreamId.of("a"), stored("a", "region", "eu", "bytes", T0 - 100, T0 - 50),
        StreamId.of("c"), stored("c", "host", "h0", "bytes", T0 - 1000, T0 - 10));
    List<StreamListing.Entry> out = StreamListing.merge(StreamId.DEFAULT_TENANT, live.all(), before);
    assertEquals(List.of("a", "b", "c"), out.stream().map(StreamListing.Entry::name).toList());

    StreamListing.Entry a = out.get(0);
    assertFalse(a.live());
    assertEquals(0.0, a.rate());
    assertNull(a.series());
    assertNull(a.events());
    assertEquals(T0 - 100, a.firstSeen());

    StreamListing.Entry b = out.get(1);
    assertTrue(b.live());
    assertEquals(1, b.series());
    assertEquals(1L, b.events());
    assertEquals(Map.of("host", List.of("h1")), b.dims());

    StreamListing.Entry c = out.get(2);
    assertTrue(c.live());
    assertEquals(List.of("h0", "h2"), c.dims().get("host"));
    assertEquals(List.of("bytes", "ms"), c.values());
    assertEquals(T0 - 1000, c.firstSeen(), "the earliest first seen, from the stored row");
    assertEquals(T0 + 5, c.lastSeen(), "the latest last seen, from this run");
  }

  @Test
  @DisplayName("the JSON answer: live streams carry series and events, stored-only ones do not; window per stream")
  void json() {
    see("b", T0, "h1", "ms");
    JsonObject body = StreamListing.json(StreamId.DEFAULT_TENANT, live.all(), Map.of(StreamId.of("a"), stored("a", "region", "eu", "bytes", T0 - 100,
        T0 - 50)), name -> name.equals("a") ? 60_000 : 1_000);
    JsonArray list = body.getJsonArray("streams");
    assertEquals(2, list.size());
    JsonObject a = list.getJsonObject(0);
    assertEquals("a", a.getString("stream"));
    assertFalse(a.getBoolean("live"));
    assertFalse(a.containsKey("series"));
    assertFalse(a.containsKey("events"));
    assertEquals("1m", a.getString("window"));
    assertEquals(new JsonArray().add("eu"), a.getJsonObject("dims").getJsonArray("region"));
    assertEquals(new JsonArray().add("bytes"), a.getJsonArray("values"));
    JsonObject b = list.getJsonObject(1);
    assertTrue(b.getBoolean("live"));
    assertEquals(1, b.getInteger("series"));
    assertEquals(1L, b.getLong("events"));
    assertEquals("1s", b.getString("window"));
    assertEquals(T0, b.getLong("firstSeen"));
    assertEquals(T0, b.getLong("lastSeen"));
  }
}
