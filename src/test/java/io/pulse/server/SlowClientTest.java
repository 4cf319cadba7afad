package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

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
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
    }
    return sum;
  }

  @Test
  @DisplayName("a stalled WebSocket loses stale running updates first, then is closed with a reason")
  void stalledSubscriberIsClosed() throws Exception {
    try (TestPulse pulse = TestPulse.start(new JsonObject()
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("slowClientTimeoutMs", 1000).put("maxPendingFinals", 5000)))) {
      try (LiveClient slow = LiveClient.websocket(pulse.port(), new WebSocketClientOptions().setReceiveBufferSize(4096));
          LiveClient healthy = LiveClient.websocket(pulse.port())) {
        slow.send(new JsonObject().put("op", "subscribe").put("id", "slow").put("stream", "flood")
            .put("groupBy", new JsonArray().add("k")));
        slow.await(m -> "subscribed".equals(m.type()), 5000);
        healthy.send(new JsonObject().put("op", "subscribe").put("id", "ok").put("stream", "flood"));
        healthy.await(m -> "subscribed".equals(m.type()), 5000);
        slow.pause();
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
          body.append("{\"dims\":{\"k\":\"key-").append(i).append("-with-some-length\"},\"values\":{\"v\":")
              .append(i).append("}}\n");
        }
        long deadline = System.currentTimeMillis() + 20_000;
        String metrics = "";
        while (System.currentTimeMillis() < deadline) {
          pulse.postNdjson("flood", body.toString());
          metrics = pulse.get("/metrics").body();
          if (metric(metrics, "pulse_live_slow_closed_total") >= 1) {
            break;
          }
          Thread.sleep(100);
        }
        assertTrue(metric(metrics, "pulse_live_slow_closed_total") >= 1, "the stalled client was closed");
        assertTrue(metric(metrics, "pulse_live_coalesced_total") > 0, "stale running updates were replaced first");
        assertTrue(metric(metrics, "pulse_live_subscribers") <= 1.0, "only the healthy subscriber remains");
        pulse.postNdjson("flood", body.toString());
        healthy.await(m -> "rollup".equals(m.type()), 5000);
        assertTrue(!healthy.isClosed(), "the healthy subscriber is untouched");
      }
    }
  }
}
