package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.TestPulse;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A subscriber that stops reading is bounded and then closed; the server and other subscribers carry on. */
class SlowClientTest {

  private static double metric(String text, String name) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(text);
    double sum = 0;
    boolean found = false;
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
      found = true;
    }
    assertTrue(found, name + " is in /metrics");
    return sum;
  }

  private static double metric(TestPulse pulse, String name) {
    return metric(pulse.get("/metrics").body(), name);
  }

  @Test
  @DisplayName("a stalled WebSocket loses stale running updates first, then is closed with a reason")
  void stalledSubscriberIsClosed() throws Exception {
    try (TestPulse pulse = TestPulse.start(new JsonObject()
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        // 3 s without progress: long enough for several windows to close (and coalesce) while it waits
        .put("live", new JsonObject().put("flushMs", 50).put("slowClientTimeoutMs", 3000).put("maxPendingFinals", 5000)))) {
      try (LiveClient slow = LiveClient.websocket(pulse.port(), new WebSocketClientOptions().setReceiveBufferSize(4096));
          LiveClient healthy = LiveClient.websocket(pulse.port())) {
        slow.send(new JsonObject().put("op", "subscribe").put("id", "slow").put("stream", "flood")
            .put("groupBy", new JsonArray().add("k")));
        slow.await(m -> "subscribed".equals(m.type()), 5000);
        healthy.send(new JsonObject().put("op", "subscribe").put("id", "ok").put("stream", "flood"));
        healthy.await(m -> "subscribed".equals(m.type()), 5000);
        assertEquals(2.0, metric(pulse, "pulse_live_subscribers"), "both subscribers are counted");
        double droppedBefore = metric(pulse, "pulse_live_dropped_total");
        slow.pause();
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
          body.append("{\"dims\":{\"k\":\"key-").append(i).append("-with-some-length\"},\"values\":{\"v\":")
              .append(i).append("}}\n");
        }
        String flood = body.toString();
        // keep the flood coming until the stalled client is closed
        Await.until("the stalled client is closed", () -> {
          pulse.postNdjson("flood", flood);
          return metric(pulse, "pulse_live_slow_closed_total");
        }, n -> n >= 1, 30_000);
        String metrics = pulse.get("/metrics").body();
        assertTrue(metric(metrics, "pulse_live_coalesced_total") > 0, "stale running updates were replaced first");
        assertTrue(metric(metrics, "pulse_live_dropped_total") > droppedBefore,
            "what it still held when closed is counted as dropped");
        Await.until("only the healthy subscriber remains", () -> metric(pulse, "pulse_live_subscribers"),
            n -> n == 1.0, 5000);
        pulse.postNdjson("flood", flood);
        healthy.await(m -> "rollup".equals(m.type()), 5000);
        assertFalse(healthy.isClosed(), "the healthy subscriber is untouched");
      }
    }
  }
}
