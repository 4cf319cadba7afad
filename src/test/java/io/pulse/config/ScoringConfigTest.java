package io.pulse.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Event scoring settings: off unless a stream is named, defaults, the variable, refusals naming the setting. */
class ScoringConfigTest {

  @Test
  @DisplayName("defaults: no stream scored, retrained every 10 min on up to 10,000 events (500 at least), nu 0.01")
  void defaults() {
    PulseConfig.Scoring s = PulseConfig.load(Map.of(), Map.of()).scoring();
    assertEquals(Set.of(), s.streams());
    assertEquals(600_000, s.retrainEveryMs());
    assertEquals(10_000, s.sample());
    assertEquals(500, s.minTrain());
    assertEquals(0.01, s.nu());
    assertEquals(16, s.maxFeatures());
    assertEquals(1000, s.keepOutliers());
    assertEquals(7 * 86_400_000L, s.outlierRetentionMs());
  }

  @Test
  @DisplayName("scoring.streams as a list in the file, or PULSE_SCORING_STREAMS=a,b")
  void streams() {
    assertEquals(Set.of("payments"), PulseConfig.of(new JsonObject().put("scoring",
        new JsonObject().put("streams", new JsonArray().add("payments")))).scoring().streams());
    PulseConfig c = PulseConfig.load(Map.of("PULSE_SCORING_STREAMS", "w1, payments"), Map.of());
    assertEquals(Set.of("w1", "payments"), c.scoring().streams());
    assertTrue(c.scoring().scored("w1"));
  }

  @Test
  @DisplayName("bad values fail at start, naming the setting")
  void badValues() {
    ConfigException name = assertThrows(ConfigException.class,
        () -> PulseConfig.load(Map.of("PULSE_SCORING_STREAMS", "Pay Ments"), Map.of()));
    assertTrue(name.getMessage().contains("scoring.streams (PULSE_SCORING_STREAMS)"), name.getMessage());
    ConfigException nu = assertThrows(ConfigException.class, () -> PulseConfig.of(
        new JsonObject().put("scoring", new JsonObject().put("nu", 0.9))));
    assertTrue(nu.getMessage().contains("scoring.nu"), nu.getMessage());
    ConfigException min = assertThrows(ConfigException.class, () -> PulseConfig.of(
        new JsonObject().put("scoring", new JsonObject().put("sample", 100).put("minTrain", 500))));
    assertTrue(min.getMessage().contains("scoring.minTrain"), min.getMessage());
    ConfigException every = assertThrows(ConfigException.class, () -> PulseConfig.of(
        new JsonObject().put("scoring", new JsonObject().put("retrainEvery", "soon"))));
    assertTrue(every.getMessage().contains("scoring.retrainEvery"), every.getMessage());
  }
}
