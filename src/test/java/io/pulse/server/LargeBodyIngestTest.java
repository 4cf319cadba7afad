package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.ingest.IngestJob;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Bodies too large for one slice of the event loop (IngestJob) over real HTTP: the answer, the
 * quarantine and the counts are those of a body taken in one go, and a body refused as a whole
 * leaves nothing behind.
 */
class LargeBodyIngestTest {

  private static final int EVENTS = 30_000; // several slices of IngestJob.SLICE
  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    assertTrue(EVENTS > 4 * IngestJob.SLICE);
    pulse = TestPulse.start(new JsonObject().put("ingest", new JsonObject().put("maxEventsPerRequest", 40_000)));
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static String event(String stream, int i) {
    return "{\"stream\":\"" + stream + "\",\"dims\":{\"k\":\"v" + (i % 50) + "\"},\"values\":{\"v\":" + i + "}}";
  }

  @Test
  @DisplayName("a large NDJSON body keeps every good event next to its bad ones, and quarantines each bad one")
  void largeNdjson() {
    StringBuilder nd = new StringBuilder();
    for (int i = 0; i < EVENTS; i++) {
      nd.append(i % 1000 == 999 ? "{\"stream\":\"bigl\",\"values\":{\"v\":\"bad " + i + "\"}}" : event("bigl", i))
          .append('\n');
    }
    TestPulse.Response r = pulse.post("/api/v1/events", "application/x-ndjson", nd.toString());
    assertEquals(202, r.status(), r.body());
    JsonObject a = r.json();
    assertEquals(EVENTS - 30, a.getInteger("accepted"));
    assertEquals(30, a.getInteger("rejected"));
    JsonArray errors = a.getJsonArray("errors");
    assertEquals(30, errors.size());
    for (int k = 0; k < 30; k++) {
      assertEquals(1000 * k + 999, errors.getJsonObject(k).getInteger("index"));
      assertEquals("values.v: must be a number", errors.getJsonObject(k).getString("error"));
    }
    JsonArray items = pulse.get("/api/v1/quarantine?stream=bigl&limit=100").json().getJsonArray("items");
    assertEquals(30, items.size());
    assertEquals("{\"stream\":\"bigl\",\"values\":{\"v\":\"bad 29999\"}}", items.getJsonObject(0).getString("payload"));
    assertEquals(EVENTS - 30, find(pulse.get("/api/v1/streams").json(), "bigl").getLong("events"));
  }

  @Test
  @DisplayName("a large JSON array broken at its end is refused as a whole (400): nothing of it is kept")
  void largeArrayBroken() {
    StringBuilder arr = new StringBuilder("[");
    for (int i = 0; i < EVENTS; i++) {
      arr.append(i % 1000 == 999 ? "\"bad\"" : event("bigb", i)).append(',');
    }
    arr.append("{\"stream\":\"bigb\""); // never closed
    TestPulse.Response r = pulse.post("/api/v1/events", "application/json", arr.toString());
    assertEquals(400, r.status(), r.body());
    assertTrue(r.json().getString("error").startsWith("the body is not valid JSON"), r.body());
    assertEquals(202, pulse.post("/api/v1/events", "application/json", event("after", 1)).status());
    JsonObject streams = pulse.get("/api/v1/streams").json();
    assertTrue(find(streams, "after") != null, streams.encode());
    assertEquals(null, find(streams, "bigb"), "no event of the refused body was kept");
    assertTrue(pulse.get("/api/v1/quarantine?limit=1000").json().getJsonArray("items").stream()
        .map(o -> ((JsonObject) o).getString("payload")).noneMatch("\"bad\""::equals), "none of its rejections either");
  }

  @Test
  @DisplayName("more events than ingest.maxEventsPerRequest, found slices into the body, is a 413 that keeps nothing")
  void tooManyEvents() {
    StringBuilder nd = new StringBuilder();
    for (int i = 0; i <= 40_000; i++) {
      nd.append(event("bigm", i)).append('\n');
    }
    TestPulse.Response r = pulse.post("/api/v1/events", "application/x-ndjson", nd.toString());
    assertEquals(413, r.status(), r.body());
    assertEquals(202, pulse.post("/api/v1/events", "application/json", event("after2", 1)).status());
    JsonObject streams = pulse.get("/api/v1/streams").json();
    assertTrue(find(streams, "after2") != null, streams.encode());
    assertEquals(null, find(streams, "bigm"));
  }

  private static JsonObject find(JsonObject streams, String name) {
    for (Object o : streams.getJsonArray("streams")) {
      if (name.equals(((JsonObject) o).getString("stream"))) {
        return (JsonObject) o;
      }
    }
    return null;
  }
}
