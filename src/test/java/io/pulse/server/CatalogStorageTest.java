package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.pulse.testing.PgFixture;
import io.pulse.testing.Await;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A forgotten stream keeps its stored history: /api/v1/streams lists it from storage, and it returns afresh. */
class CatalogStorageTest {

  private static JsonObject find(TestPulse pulse, String name) {
    JsonArray list = pulse.get("/api/v1/streams").json().getJsonArray("streams");
    for (int i = 0; i < list.size(); i++) {
      if (name.equals(list.getJsonObject(i).getString("stream"))) {
        return list.getJsonObject(i);
      }
    }
    return null;
  }

  @Test
  @DisplayName("with storage on, a stream forgotten for idleness is still listed, from the stored catalogue")
  void forgottenStreamListedFromStorage() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    try (TestPulse pulse = TestPulse.startWithStorage(db, new JsonObject()
        .put("aggregation", new JsonObject().put("window", "100ms").put("allowedLatenessMs", 0)
            .put("streamIdleMs", 300))
        .put("ingest", new JsonObject().put("maxFutureSkewMs", 0))
        .put("live", new JsonObject().put("flushMs", 50)))) {
      assertEquals(202, pulse.postNdjson("gone", "{\"dims\":{\"region\":\"eu\"},\"values\":{\"amount\":1}}\n"));
      JsonObject s = find(pulse, "gone");
      assertNotNull(s);
      assertEquals(true, s.getBoolean("live"));
      // the stored catalogue syncs every 5 s, then the stream may go
      s = Await.until("stream gone forgotten in memory", () -> find(pulse, "gone"), j -> !j.getBoolean("live"),
          20_000);
      assertEquals(false, s.getBoolean("live"), "forgotten in memory: " + s);
      assertEquals(new JsonArray().add("eu"), s.getJsonObject("dims").getJsonArray("region"), "listed from storage");
      assertEquals(new JsonArray().add("amount"), s.getJsonArray("values"));

      assertEquals(202, pulse.postNdjson("gone", "{\"dims\":{\"region\":\"us\"},\"values\":{\"amount\":1}}\n"));
      s = find(pulse, "gone");
      assertEquals(true, s.getBoolean("live"), "back, afresh");
      assertEquals(new JsonArray().add("eu").add("us"), s.getJsonObject("dims").getJsonArray("region"),
          "its stored dims and its new ones");
    }
  }
}
