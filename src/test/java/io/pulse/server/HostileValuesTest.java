package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.LiveClient;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Issue 10, defects 1 and 4 over real sockets: a value the sketch cannot hold, and times past the
 * year range, are refused with a reason; nothing else is lost and the shard keeps closing windows.
 * One shard, so that the bad stream and the good one share it.
 */
class HostileValuesTest {

  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject().put("aggregation", new JsonObject().put("shards", 1)
        .put("allowedLatenessMs", 200)));
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  @Test
  @DisplayName("1.79e308 answers 202 with the event rejected and a reason; another stream on the same shard still "
      + "gets its final rollup, and readiness stays clean")
  void unindexableValue() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      ws.send(new JsonObject().put("op", "subscribe").put("id", "g").put("stream", "good"));
      ws.await(m -> "subscribed".equals(m.type()), 10_000);
      TestPulse.Response bad = pulse.post("/api/v1/events", "application/json",
          "{\"stream\":\"other\",\"values\":{\"v\":1.79e308}}");
      assertEquals(202, bad.status(), bad.body());
      assertEquals(0, bad.json().getInteger("accepted"), bad.body());
      assertEquals(1, bad.json().getInteger("rejected"), bad.body());
      String why = bad.json().getJsonArray("errors").getJsonObject(0).getString("error");
      assertEquals("values.v: 1.79E308 is outside the range percentiles can hold, -1e308 to 1e308", why);
      TestPulse.Response good = pulse.post("/api/v1/events", "application/json",
          "{\"stream\":\"good\",\"values\":{\"v\":42}}");
      assertEquals(1, good.json().getInteger("accepted"), good.body());
      LiveClient.Msg fin = ws.await(m -> "rollup".equals(m.type()) && m.json().getBoolean("final")
          && m.json().getLong("count") == 1, 15_000);
      assertEquals(42.0, fin.json().getJsonObject("values").getJsonObject("v").getDouble("sum"));
    }
    TestPulse.Response ready = pulse.get("/health/ready");
    assertEquals(200, ready.status(), ready.body());
    assertTrue(!ready.body().contains("aggregation"), ready.body());
    String metrics = pulse.get("/metrics").body();
    for (String m : new String[] {"pulse_shard_series_failed_total 0.0", "pulse_shard_events_lost_total 0.0",
        "pulse_aggregation_groups_failed_total 0.0"}) {
      assertTrue(metrics.contains(m), m);
    }
  }

  @Test
  @DisplayName("a time past the year range: on ingest that event is rejected and the rest kept (no 500); "
      + "on /series?to= and SSE since= a 400; on a WebSocket subscribe an error message")
  void timesPastTheYearRange() {
    String far = "+999999999-01-01T00:00:00Z";
    TestPulse.Response r = pulse.post("/api/v1/events", "application/x-ndjson",
        "{\"stream\":\"t\",\"ts\":\"" + far + "\",\"values\":{\"v\":1}}\n"
            + "{\"stream\":\"t\",\"ts\":1e30,\"values\":{\"v\":1}}\n"
            + "{\"stream\":\"t\",\"ts\":99999999999999999999,\"values\":{\"v\":1}}\n"
            + "{\"stream\":\"t\",\"values\":{\"v\":2}}\n");
    assertEquals(202, r.status(), r.body());
    assertEquals(1, r.json().getInteger("accepted"), r.body());
    assertEquals(3, r.json().getInteger("rejected"), r.body());
    assertTrue(r.json().getJsonArray("errors").getJsonObject(0).getString("error").contains("outside 1970 to 9999"),
        r.body());
    String q = URLEncoder.encode(far, StandardCharsets.UTF_8);
    for (String query : new String[] {"to=" + q, "from=" + q, "to=99999999999999999999", "from=999999999999d",
        "step=999999999999d"}) {
      TestPulse.Response s = pulse.get("/api/v1/streams/t/series?" + query);
      assertEquals(400, s.status(), query + " -> " + s.body());
      assertTrue(s.json().getString("error").length() > 10, s.body());
    }
    for (String since : new String[] {q, "99999999999999999999", "999999999999d"}) {
      var sse = pulse.request("GET", "/api/v1/live/sse?stream=t&since=" + since, null);
      assertEquals(400, sse.statusCode(), since + " -> " + sse.body());
      assertTrue(new JsonObject(sse.body()).getString("error").startsWith("since: "), sse.body());
    }
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      ws.send(new JsonObject().put("op", "subscribe").put("id", "far").put("stream", "t").put("since", far));
      LiveClient.Msg err = ws.await(m -> "error".equals(m.type()), 10_000);
      assertEquals("far", err.json().getString("sub"));
      assertTrue(err.json().getString("error").startsWith("since: "), err.json().encode());
      ws.sendText("{\"op\":\"subscribe\",\"id\":\"big\",\"stream\":\"t\",\"since\":1e30}");
      err = ws.await(m -> "error".equals(m.type()) && "big".equals(m.json().getString("sub")), 10_000);
      assertTrue(err.json().getString("error").startsWith("since: "), err.json().encode());
    }
  }
}
