package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Every ingest path with good and bad input, against a real server. */
class IngestApiTest {

  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject().put("ingest", new JsonObject().put("maxBodyBytes", 4096))
        .put("aggregation", new JsonObject().put("maxSeriesPerStream", 3)));
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  @Test
  @DisplayName("a known path with the wrong method is a JSON 405 naming the methods it takes; an unknown path a 404")
  void wrongMethod() {
    var get = pulse.request("GET", "/api/v1/events", null);
    assertEquals(405, get.statusCode());
    assertEquals("POST", get.headers().firstValue("Allow").orElse(""));
    assertTrue(new JsonObject(get.body()).getString("error").contains("POST"), get.body());
    var patch = pulse.request("PATCH", "/api/v1/rules/r1", "{}");
    assertEquals(405, patch.statusCode());
    assertEquals("DELETE, GET, HEAD, PUT", patch.headers().firstValue("Allow").orElse(""));
    assertEquals(405, pulse.request("DELETE", "/api/v1/streams/checkout/series", null).statusCode());
    assertEquals(404, pulse.request("GET", "/api/v1/nothing-here", null).statusCode());
  }

  @Test
  @DisplayName("POST one JSON object: 202, accepted 1")
  void oneObject() {
    TestPulse.Response r = pulse.post("/api/v1/events", "application/json",
        "{\"stream\":\"one\",\"dims\":{\"region\":\"eu\"},\"values\":{\"amount\":129.9,\"items\":3}}");
    assertEquals(202, r.status());
    assertEquals(new JsonObject().put("accepted", 1).put("rejected", 0).put("errors", new JsonArray()), r.json());
  }

  @Test
  @DisplayName("POST an array with bad events: good ones kept, each bad one named by index and quarantined")
  void arrayWithBadEvents() {
    TestPulse.Response r = pulse.post("/api/v1/events", "application/json",
        "[{\"stream\":\"arr\",\"values\":{\"v\":1}},{\"stream\":\"arr\",\"values\":{\"v\":\"NaN\"}},"
            + "{\"stream\":\"arr\",\"values\":{\"v\":3}},{\"stream\":\"arr\"}]");
    assertEquals(202, r.status());
    JsonObject j = r.json();
    assertEquals(2, j.getInteger("accepted"));
    assertEquals(2, j.getInteger("rejected"));
    assertEquals(1, j.getJsonArray("errors").getJsonObject(0).getInteger("index"));
    assertEquals("values.v: must be a number", j.getJsonArray("errors").getJsonObject(0).getString("error"));
    assertEquals(3, j.getJsonArray("errors").getJsonObject(1).getInteger("index"));
    JsonArray q = pulse.get("/api/v1/quarantine?stream=arr").json().getJsonArray("items");
    assertEquals(2, q.size());
    assertTrue(q.getJsonObject(1).getString("payload").contains("\"NaN\""), q.encode());
    assertEquals("http", q.getJsonObject(0).getString("source"));
  }

  @Test
  @DisplayName("POST NDJSON with a broken line: the other lines are kept")
  void ndjson() {
    TestPulse.Response r = pulse.post("/api/v1/events", "application/x-ndjson",
        "{\"stream\":\"nd\",\"values\":{\"v\":1}}\n{oops\n{\"stream\":\"nd\",\"values\":{\"v\":2}}\n");
    assertEquals(202, r.status());
    assertEquals(2, r.json().getInteger("accepted"));
    assertEquals(1, r.json().getJsonArray("errors").getJsonObject(0).getInteger("index"));
  }

  @Test
  @DisplayName("POST to /streams/{stream}/events: the path names the stream")
  void streamPath() {
    assertEquals(202, pulse.postNdjson("pathy", "{\"values\":{\"v\":1}}\n{\"values\":{\"v\":2}}"));
    TestPulse.Response bad = pulse.post("/api/v1/streams/Not%20Valid/events", "application/json",
        "{\"values\":{\"v\":1}}");
    assertEquals(400, bad.status());
    assertTrue(bad.json().getString("error").contains("in the path"));
  }

  @Test
  @DisplayName("400 with a JSON reason when the body cannot be read")
  void unreadable() {
    TestPulse.Response r = pulse.post("/api/v1/events", "application/json", "[{\"stream\":");
    assertEquals(400, r.status());
    assertTrue(r.json().getString("error").startsWith("the body is not valid JSON"), r.body());
    assertEquals(400, pulse.post("/api/v1/events", "application/json", "").status());
  }

  @Test
  @DisplayName("413 with a JSON reason when the body is too large")
  void tooLarge() {
    StringBuilder sb = new StringBuilder();
    while (sb.length() < 5000) {
      sb.append("{\"stream\":\"big\",\"values\":{\"v\":1}}\n");
    }
    TestPulse.Response r = pulse.post("/api/v1/events", "application/x-ndjson", sb.toString());
    assertEquals(413, r.status());
    assertTrue(r.json().getString("error").contains("ingest.maxBodyBytes"), r.body());
  }

  @Test
  @DisplayName("415 with a JSON reason for an unknown content type")
  void unsupportedType() {
    TestPulse.Response r = pulse.post("/api/v1/events", "text/csv", "a,b\n1,2");
    assertEquals(415, r.status());
    assertTrue(r.json().getString("error").contains("application/x-ndjson"), r.body());
  }

  @Test
  @DisplayName("past the series cap, new series fold into the overflow series and the answer says so")
  void overflow() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      sb.append("{\"dims\":{\"user\":\"u").append(i).append("\"},\"values\":{\"v\":1}}\n");
    }
    TestPulse.Response r = pulse.post("/api/v1/streams/capped/events", "application/x-ndjson", sb.toString());
    assertEquals(202, r.status());
    assertEquals(5, r.json().getInteger("accepted"));
    assertEquals(2, r.json().getInteger("overflowed"));
    assertTrue(r.json().getString("overflowNote").contains("_overflow"));
    assertTrue(pulse.get("/metrics").body().contains("pulse_events_overflowed_total{stream=\"capped\",tenant=\"default\"} 2.0"));
  }

  @Test
  @DisplayName("unknown API paths are a JSON 404")
  void notFound() {
    TestPulse.Response r = pulse.get("/api/v1/nothing");
    assertEquals(404, r.status());
    assertTrue(r.json().containsKey("error"));
  }

  @Test
  @DisplayName("the catalog lists streams with dims, values and rate")
  void streams() {
    pulse.post("/api/v1/events", "application/json",
        "[{\"stream\":\"cat\",\"dims\":{\"region\":\"eu\"},\"values\":{\"a\":1}},"
            + "{\"stream\":\"cat\",\"dims\":{\"region\":\"us\"},\"values\":{\"b\":1}}]");
    JsonObject cat = null;
    for (Object o : pulse.get("/api/v1/streams").json().getJsonArray("streams")) {
      if ("cat".equals(((JsonObject) o).getString("stream"))) {
        cat = (JsonObject) o;
      }
    }
    assertEquals(new JsonArray().add("eu").add("us"), cat.getJsonObject("dims").getJsonArray("region"));
    assertEquals(new JsonArray().add("a").add("b"), cat.getJsonArray("values"));
    assertEquals(2, cat.getInteger("series"));
    assertEquals("1s", cat.getString("window"));
  }

  @Test
  @DisplayName("health answers, and /metrics has the per-stream event counters in Prometheus text")
  void operations() {
    assertEquals(200, pulse.get("/health/live").status());
    assertEquals(200, pulse.get("/health/ready").status());
    pulse.post("/api/v1/events", "application/json", "{\"stream\":\"met\",\"values\":{\"v\":1}}");
    pulse.post("/api/v1/events", "application/json", "{\"stream\":\"met\",\"values\":{}}");
    String m = pulse.get("/metrics").body();
    assertTrue(m.contains("pulse_events_accepted_total{stream=\"met\",tenant=\"default\"} 1.0"), m);
    assertTrue(m.contains("pulse_events_rejected_total{stream=\"met\",tenant=\"default\"} 1.0"), m);
    assertTrue(m.contains("pulse_events_late_total{stream=\"met\",tenant=\"default\"}"), m);
    assertTrue(m.contains("pulse_events_overflowed_total{stream=\"met\",tenant=\"default\"}"), m);
    assertTrue(m.contains("pulse_live_subscribers"), m);
    assertTrue(m.contains("pulse_live_coalesced_total"), m);
    assertTrue(m.contains("pulse_live_dropped_total"), m);
    assertTrue(m.contains("pulse_push_latency_seconds_bucket"), m);
    assertTrue(m.contains("process_cpu_usage"), m);
  }
}
