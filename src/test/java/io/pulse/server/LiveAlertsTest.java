package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.TestPulse;
import io.pulse.testing.TestTenants;
import io.pulse.verticles.Addresses;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Alert transitions published on the bus ({@link Addresses#ALERTS}) reach the live subscribers of
 * their tenant's stream, over SSE and WebSocket, as API.md's alert message: a subscriber of the
 * same stream name in another tenant, or of a filter the alert's series contradicts, gets none.
 * Absence is shown by order: each client's first alert is the one meant for it, although the
 * other alerts were published before it.
 */
class LiveAlertsTest {

  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject().put("live", new JsonObject().put("flushMs", 50)));
    pulse.pulse().callers(TestTenants.RESOLVER);
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static JsonObject transition(String tenant, String id, String region) {
    return new JsonObject().put("type", "alert").put("id", id).put("rule", "r1").put("ruleName", "too many")
        .put("state", "firing").put("previous", "pending").put("severity", "critical").put("tenant", tenant)
        .put("stream", "alerting").put("series", new JsonObject().put("region", region)).put("value", 42.0)
        .put("message", "count 42 > 10").put("at", 1_796_000_000_000L).put("labels", new JsonObject())
        .put("flapping", false).put("notify", true);
  }

  private static boolean alert(Msg m) {
    return "alert".equals(m.type());
  }

  @Test
  @DisplayName("SSE and WebSocket subscribers get their tenant's alerts of their stream, within their filter")
  void alertsReachSubscribers() {
    try (LiveClient sse = LiveClient.sse(pulse.port(), "stream=alerting&filter=region:eu", null,
            TestTenants.headers("acme"));
        LiveClient ws = LiveClient.websocket(pulse.port(), new WebSocketClientOptions(), TestTenants.headers("acme"));
        LiveClient other = LiveClient.sse(pulse.port(), "stream=alerting", null, TestTenants.headers("globex"))) {
      ws.send(new JsonObject("{\"op\":\"subscribe\",\"id\":\"w\",\"stream\":\"alerting\",\"groupBy\":[\"region\"]}"));
      sse.await(m -> "subscribed".equals(m.type()), 5000);
      ws.await(m -> "subscribed".equals(m.type()), 5000);
      other.await(m -> "subscribed".equals(m.type()), 5000);

      var bus = pulse.pulse().vertx().eventBus();
      bus.publish(Addresses.ALERTS, transition("acme", "us-1", "us")); // outside the SSE filter
      bus.publish(Addresses.ALERTS, transition("acme", "eu-1", "eu"));
      bus.publish(Addresses.ALERTS, transition("globex", "g-1", "eu"));

      JsonObject s = sse.await(LiveAlertsTest::alert, 5000).json();
      assertEquals("eu-1", s.getString("id"), "the SSE subscriber filtered to eu gets eu's alert first");
      assertEquals("firing", s.getString("state"));
      assertEquals("alerting", s.getString("stream"));
      assertEquals("eu", s.getJsonObject("series").getString("region"));
      assertNull(s.getValue("tenant"), "the wire never names the tenant");
      assertFalse(s.containsKey("notify"));
      Msg first = ws.await(LiveAlertsTest::alert, 5000);
      assertEquals("us-1", first.json().getString("id"));
      assertEquals("w", first.json().getString("sub"));
      ws.await(m -> alert(m) && "eu-1".equals(m.json().getString("id")), 5000);
      assertEquals("g-1", other.await(LiveAlertsTest::alert, 5000).json().getString("id"),
          "globex's subscriber gets globex's alert, and acme's went before it");
    }
  }
}
