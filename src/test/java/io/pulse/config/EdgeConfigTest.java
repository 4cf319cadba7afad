package io.pulse.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The edge limits' settings: defaults, variables, and the values that cannot work refused at start. */
class EdgeConfigTest {

  @Test
  @DisplayName("defaults: 10,000 connections, 10 s headers, 30 s body, 5 min idle, a quarter of the heap of bodies")
  void defaults() {
    PulseConfig.Edge e = PulseConfig.load(Map.of(), Map.of()).edge();
    assertEquals(10_000, e.maxConnections());
    assertEquals(10_000, e.headerTimeoutMs());
    assertEquals(30_000, e.bodyTimeoutMs());
    assertEquals(300_000, e.idleTimeoutMs());
    assertEquals(Math.max(16 << 20, Runtime.getRuntime().maxMemory() / 4), e.maxBufferedBodyBytes());
    assertEquals(262_144, e.wsMaxMessageBytes());
    assertEquals(256, e.wsMaxPendingReplies());
    assertEquals(50, e.wsMaxOpsPerSecond());
    assertEquals(16, e.wsMaxViewsPerStream());
  }

  @Test
  @DisplayName("PULSE_HTTP_MAX_CONNECTIONS and PULSE_MAX_BUFFERED_BODY_BYTES set their keys")
  void variables() {
    PulseConfig.Edge e = PulseConfig.load(Map.of("PULSE_HTTP_MAX_CONNECTIONS", "500",
        "PULSE_MAX_BUFFERED_BODY_BYTES", "67108864"), Map.of()).edge();
    assertEquals(500, e.maxConnections());
    assertEquals(64 << 20, e.maxBufferedBodyBytes());
  }

  @Test
  @DisplayName("a body budget below one body, a view share above the stream's views, or an idle timeout "
      + "that heartbeats cannot beat is refused, naming the setting")
  void refused() {
    ConfigException budget = assertThrows(ConfigException.class, () -> PulseConfig.load(
        Map.of("PULSE_MAX_BUFFERED_BODY_BYTES", "1000"), Map.of()));
    assertTrue(budget.getMessage().contains("ingest.maxBufferedBodyBytes (PULSE_MAX_BUFFERED_BODY_BYTES)"),
        budget.getMessage());
    ConfigException views = assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject()
        .put("live", new JsonObject().put("maxViewsPerStreamPerSocket", 100))));
    assertTrue(views.getMessage().contains("aggregation.maxViewsPerStream"), views.getMessage());
    ConfigException idle = assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject()
        .put("http", new JsonObject().put("idleTimeoutMs", 20_000))));
    assertTrue(idle.getMessage().contains("live.heartbeatMs"), idle.getMessage());
  }
}
