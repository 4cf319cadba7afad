package io.pulse.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The fair-use settings ({@code limits.*}, {@code http.trustedProxies}): defaults, variables, refusals. */
class FairUseConfigTest {

  @Test
  @DisplayName("defaults: ingest 10,000 requests/s per token and address, queries 1,000 per token and 2,000 per "
      + "address, bursts twice the rate; no events limit; 1,000 live connections per token, 64 subscriptions per socket, no proxies")
  void defaults() {
    PulseConfig.FairUse f = PulseConfig.load(Map.of(), Map.of()).fairUse();
    assertEquals(new PulseConfig.Rate("limits.ingestPerToken", 10_000, 20_000), f.ingestPerToken());
    assertEquals(new PulseConfig.Rate("limits.ingestPerAddress", 10_000, 20_000), f.ingestPerAddress());
    assertEquals(new PulseConfig.Rate("limits.queryPerToken", 1_000, 2_000), f.queryPerToken());
    assertEquals(new PulseConfig.Rate("limits.queryPerAddress", 2_000, 4_000), f.queryPerAddress());
    assertTrue(f.ingestEventsPerToken().unlimited(), "no events-a-second limit by default");
    assertTrue(f.ingestEventsPerAddress().unlimited());
    assertEquals(1_000, f.liveConnectionsPerToken());
    assertEquals(64, f.subscriptionsPerConnection());
    assertEquals(50_000, f.maxKeys());
    assertEquals(List.of(), f.trustedProxies());
  }

  @Test
  @DisplayName("the PULSE_LIMIT_* variables and PULSE_TRUSTED_PROXIES set their keys; 0 is no limit; a burst of its own")
  void variables() {
    PulseConfig.FairUse f = PulseConfig.load(Map.of("PULSE_LIMIT_INGEST_PER_TOKEN", "0",
        "PULSE_LIMIT_INGEST_PER_ADDRESS", "50", "PULSE_LIMIT_QUERY_PER_TOKEN", "5", "PULSE_LIMIT_QUERY_PER_ADDRESS", "7",
        "PULSE_LIMIT_LIVE_CONNECTIONS_PER_TOKEN", "0", "PULSE_LIMIT_SUBSCRIPTIONS_PER_CONNECTION", "8",
        "PULSE_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.0.1", "PULSE_LIMIT_INGEST_EVENTS_PER_TOKEN", "500",
        "PULSE_LIMIT_INGEST_EVENTS_PER_ADDRESS", "900"), Map.of()).fairUse();
    assertEquals(new PulseConfig.Rate("limits.ingestEventsPerToken", 500, 1000), f.ingestEventsPerToken());
    assertEquals(900, f.ingestEventsPerAddress().rate());
    assertTrue(f.ingestPerToken().unlimited());
    assertEquals(100, f.ingestPerAddress().burst());
    assertEquals(5, f.queryPerToken().rate());
    assertEquals(7, f.queryPerAddress().rate());
    assertEquals(0, f.liveConnectionsPerToken());
    assertEquals(8, f.subscriptionsPerConnection());
    assertEquals(List.of("10.0.0.0/8", "192.168.0.1"), f.trustedProxies());
    PulseConfig.FairUse own = PulseConfig.of(new JsonObject().put("limits", new JsonObject()
        .put("queryPerAddress", new JsonObject().put("rate", 3).put("burst", 1)))
        .put("http", new JsonObject().put("trustedProxies", new JsonArray().add("::1")))).fairUse();
    assertEquals(new PulseConfig.Rate("limits.queryPerAddress", 3, 1), own.queryPerAddress());
    assertEquals(List.of("::1"), own.trustedProxies());
  }

  @Test
  @DisplayName("a negative rate, burst or cap, no subscriptions, or a proxy that is not an address is refused, naming the setting")
  void refused() {
    ConfigException rate = assertThrows(ConfigException.class, () -> PulseConfig.load(
        Map.of("PULSE_LIMIT_QUERY_PER_TOKEN", "-1"), Map.of()));
    assertTrue(rate.getMessage().contains("limits.queryPerToken.rate (PULSE_LIMIT_QUERY_PER_TOKEN)"), rate.getMessage());
    ConfigException burst = assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject()
        .put("limits", new JsonObject().put("ingestPerAddress", new JsonObject().put("burst", -5)))));
    assertTrue(burst.getMessage().contains("limits.ingestPerAddress.burst"), burst.getMessage());
    ConfigException conns = assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject()
        .put("limits", new JsonObject().put("liveConnectionsPerToken", -1))));
    assertTrue(conns.getMessage().contains("limits.liveConnectionsPerToken"), conns.getMessage());
    ConfigException subs = assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject()
        .put("limits", new JsonObject().put("subscriptionsPerConnection", 0))));
    assertTrue(subs.getMessage().contains("limits.subscriptionsPerConnection"), subs.getMessage());
    ConfigException proxy = assertThrows(ConfigException.class, () -> PulseConfig.load(
        Map.of("PULSE_TRUSTED_PROXIES", "lb.example.com"), Map.of()));
    assertTrue(proxy.getMessage().contains("http.trustedProxies (PULSE_TRUSTED_PROXIES)"), proxy.getMessage());
    ConfigException typo = assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject()
        .put("limits", new JsonObject().put("queryPerToken", new JsonObject().put("rps", 5)))));
    assertTrue(typo.getMessage().contains("limits.queryPerToken.rps"), typo.getMessage());
  }
}
