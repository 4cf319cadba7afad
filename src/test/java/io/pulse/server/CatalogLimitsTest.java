package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Caps a caller can fill recover, against a real server: streams that went idle give their slots
 * to new ones (issue 10, defect 8), and one client churning filters cannot lock another out of a
 * stream's views (defect 6). Idle times are short: streams are forgotten 300 ms after their last
 * event (windows of 100 ms closing at once, no future skew allowed); views are capped at two
 * on-demand ones per stream and kept 60 s after their last subscriber, as by default.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the stream cap is shared: the idle-streams test fills it first
class CatalogLimitsTest {

  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject()
        .put("aggregation", new JsonObject().put("window", "100ms").put("allowedLatenessMs", 0)
            .put("maxStreams", 3).put("maxViewsPerStream", 4).put("streamIdleMs", 300).put("seriesIdleMs", 300))
        .put("ingest", new JsonObject().put("maxFutureSkewMs", 0))
        // the subject is the stream's view cap: the per-socket share and op rate have tests of their own
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 1000)
            .put("maxViewsPerStreamPerSocket", 4).put("maxOpsPerSecond", 1_000_000)));
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static String event(String stream, String region) {
    return "{\"stream\":\"" + stream + "\",\"dims\":{\"region\":\"" + region + "\"},\"values\":{\"v\":1}}\n";
  }

  private static JsonObject post(String stream, String region) {
    TestPulse.Response r = pulse.post("/api/v1/events", "application/x-ndjson", event(stream, region));
    assertEquals(202, r.status(), r.body());
    return r.json();
  }

  @Test
  @Order(1)
  @DisplayName("after maxStreams streams went idle, a new stream is accepted, and the idle ones' meters are gone")
  void idleStreamsFreeTheirSlots() throws Exception {
    for (String s : new String[] {"idle1", "idle2", "idle3"}) {
      assertEquals(1, post(s, "eu").getInteger("accepted"));
    }
    JsonObject refused = post("fresh", "eu");
    assertEquals(0, refused.getInteger("accepted"), "the catalog is full");
    assertTrue(refused.getJsonArray("errors").getJsonObject(0).getString("error").contains("aggregation.maxStreams"),
        refused.encode());
    assertTrue(pulse.get("/metrics").body().contains("pulse_events_accepted_total{stream=\"idle1\",tenant=\"default\"}"));

    // the idle streams are left alone (posting to the refused stream does not touch them) until they go
    JsonObject answer = Await.until("a slot came free once the streams were idle", () -> post("fresh", "eu"),
        a -> a.getInteger("accepted") == 1, 10_000);
    assertEquals(1, answer.getInteger("accepted"), answer.encode());

    String metrics = pulse.get("/metrics").body();
    assertFalse(metrics.contains("pulse_events_accepted_total{stream=\"idle1\",tenant=\"default\"}"), "forgotten stream's meters removed");
    assertTrue(metrics.contains("pulse_catalog_streams "), metrics);
    assertTrue(metrics.contains("pulse_catalog_series "), metrics);
    JsonObject streams = pulse.get("/api/v1/streams").json();
    assertTrue(streams.getJsonArray("streams").stream().map(o -> ((JsonObject) o).getString("stream"))
        .anyMatch("fresh"::equals), streams.encode());
  }

  @Test
  @Order(2)
  @DisplayName("one socket subscribing and unsubscribing 200 filters does not lock another client out of the stream")
  void filterChurnDoesNotLockOthersOut() {
    try (LiveClient churn = LiveClient.websocket(pulse.port()); LiveClient other = LiveClient.websocket(pulse.port())) {
      for (int i = 0; i < 200; i++) {
        String id = "c" + i;
        churn.send(new JsonObject().put("op", "subscribe").put("id", id).put("stream", "crowded")
            .put("filter", new JsonObject().put("region", "r" + i)));
        Msg m = churn.await(x -> id.equals(x.json().getString("sub"))
            && ("subscribed".equals(x.type()) || "error".equals(x.type())), 5000);
        assertEquals("subscribed", m.type(), "the churning client's own filter " + i + ": " + m.json());
        churn.send(new JsonObject().put("op", "unsubscribe").put("id", id));
        churn.await(x -> "unsubscribed".equals(x.type()) && id.equals(x.json().getString("sub")), 5000);
      }
      other.send(new JsonObject().put("op", "subscribe").put("id", "mine").put("stream", "crowded")
          .put("filter", new JsonObject().put("region", "eu")));
      Msg m = other.await(x -> "subscribed".equals(x.type()) || "error".equals(x.type()), 5000);
      assertEquals("subscribed", m.type(), "another client's new filter is accepted: " + m.json());
      long deadline = System.currentTimeMillis() + 5000;
      Msg rollup = null;
      while (rollup == null && System.currentTimeMillis() < deadline) {
        post("crowded", "eu");
        try {
          rollup = other.await(x -> "rollup".equals(x.type()), 500);
        } catch (AssertionError e) {
          rollup = null;
        }
      }
      assertNotNull(rollup, "its view works");
      assertEquals("mine", rollup.json().getString("sub"));
    }
  }

  private static Msg subscribe(LiveClient ws, String id, String stream, String region) {
    // retried while a view the test let go of is still counted as watched (its release is on its way)
    long deadline = System.currentTimeMillis() + 5000;
    while (true) {
      ws.send(new JsonObject().put("op", "subscribe").put("id", id).put("stream", stream)
          .put("filter", new JsonObject().put("region", region)));
      Msg m = ws.await(x -> id.equals(x.json().getString("sub"))
          && ("subscribed".equals(x.type()) || "error".equals(x.type())), 5000);
      if ("subscribed".equals(m.type()) || System.currentTimeMillis() > deadline) {
        return m;
      }
      ws.collect(100);
    }
  }

  private static boolean isFinal(Msg m) {
    return "rollup".equals(m.type()) && m.json().getBoolean("final");
  }

  @Test
  @Order(3)
  @DisplayName("SSE: resuming into a view that was evicted and made again gets a reset, not another view's messages")
  void resumeIntoEvictedViewResets() {
    String lastId;
    try (LiveClient a = LiveClient.sse(pulse.port(), "stream=resumed&filter=region:eu", null)) {
      a.await(m -> "subscribed".equals(m.event()), 5000);
      post("resumed", "eu");
      lastId = a.await(CatalogLimitsTest::isFinal, 5000).id();
    }
    long n = Long.parseLong(lastId.substring(lastId.lastIndexOf('-') + 1));
    try (LiveClient b = LiveClient.websocket(pulse.port()); LiveClient c = LiveClient.websocket(pulse.port())) {
      // two other filters fill the stream's two on-demand views: a's (unwatched now) is evicted
      assertEquals("subscribed", subscribe(b, "us", "resumed", "us").type());
      assertEquals("subscribed", subscribe(b, "apac", "resumed", "apac").type());
      b.send(new JsonObject().put("op", "unsubscribe").put("id", "us"));
      b.await(x -> "unsubscribed".equals(x.type()), 5000);
      // a's filter made again, by someone else, evicting the unwatched "us" view; it numbers its finals past n
      assertEquals("subscribed", subscribe(c, "eu", "resumed", "eu").type());
      long deadline = System.currentTimeMillis() + 10_000;
      int finals = 0;
      while (finals <= n + 1 && System.currentTimeMillis() < deadline) {
        post("resumed", "eu");
        finals += (int) c.collect(150).stream().filter(CatalogLimitsTest::isFinal).count();
      }
      assertTrue(finals > n + 1, "the view made again gave out more finals than a had seen");
      b.send(new JsonObject().put("op", "unsubscribe").put("id", "apac"));
      b.await(x -> "unsubscribed".equals(x.type()), 5000);

      try (LiveClient a2 = LiveClient.sse(pulse.port(), "stream=resumed&filter=region:eu", lastId)) {
        Msg first = a2.await(m -> true, 5000);
        assertEquals("reset", first.event(), "a clean reset first: " + first);
        a2.await(m -> "subscribed".equals(m.event()), 5000);
        assertTrue(a2.seen().stream().noneMatch(m -> "error".equals(m.event())), a2.seen().toString());
        post("resumed", "eu");
        a2.await(CatalogLimitsTest::isFinal, 5000);
      }
    }
  }
}
