package io.pulse.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The catalog's budget and idle times: defaults, variables, and refusals that name the setting. */
class HoldingConfigTest {

  @Test
  @DisplayName("defaults: 100,000 series across streams, streams forgotten after 1 h idle, series after 10 min")
  void defaults() {
    PulseConfig c = PulseConfig.load(Map.of(), Map.of());
    assertEquals(100_000, c.holding().maxSeries());
    assertEquals(3_600_000, c.holding().streamIdleMs());
    assertEquals(600_000, c.holding().seriesIdleMs());
  }

  @Test
  @DisplayName("PULSE_MAX_SERIES, PULSE_STREAM_IDLE_MS and PULSE_SERIES_IDLE_MS set them; 0 keeps for ever")
  void environment() {
    PulseConfig c = PulseConfig.load(Map.of("PULSE_MAX_SERIES", "5000", "PULSE_STREAM_IDLE_MS", "0",
        "PULSE_SERIES_IDLE_MS", "60000"), Map.of());
    assertEquals(5000, c.holding().maxSeries());
    assertEquals(0, c.holding().streamIdleMs());
    assertEquals(60_000, c.holding().seriesIdleMs());
  }

  @Test
  @DisplayName("bad values fail at start, naming the setting")
  void badValues() {
    ConfigException tiny = assertThrows(ConfigException.class, () -> PulseConfig.of(
        new JsonObject().put("aggregation", new JsonObject().put("streamIdleMs", 50))));
    assertTrue(tiny.getMessage().contains("aggregation.streamIdleMs"), tiny.getMessage());
    ConfigException negative = assertThrows(ConfigException.class, () -> PulseConfig.of(
        new JsonObject().put("aggregation", new JsonObject().put("seriesIdleMs", -1))));
    assertTrue(negative.getMessage().contains("aggregation.seriesIdleMs"), negative.getMessage());
    ConfigException none = assertThrows(ConfigException.class, () -> PulseConfig.load(
        Map.of("PULSE_MAX_SERIES", "0"), Map.of()));
    assertTrue(none.getMessage().contains("aggregation.maxSeries (PULSE_MAX_SERIES)"), none.getMessage());
  }
}
