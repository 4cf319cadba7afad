package io.pulse.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PulseConfigTest {

  @Test
  @DisplayName("defaults come from conf/pulse.json")
  void defaults() {
    PulseConfig c = PulseConfig.load(Map.of(), Map.of());
    assertEquals(8080, c.http().port());
    assertEquals("./data", c.dataDir());
    assertEquals(1000, c.aggregation().windowMs());
    assertEquals(250, c.live().flushMs());
    assertEquals(PulseConfig.LatePolicy.FOLD, c.aggregation().latePolicy());
  }

  @Test
  @DisplayName("PULSE_* environment variables override the file, and -Dpulse.* overrides both")
  void environmentOverrides() {
    PulseConfig c = PulseConfig.load(Map.of("PULSE_HTTP_PORT", "9090", "PULSE_DATA_DIR", "/tmp/x", "PULSE_DEMO", "true",
        "PULSE_WINDOW", "5s"), Map.of("pulse.live.flushMs", "100"));
    assertEquals(9090, c.http().port());
    assertEquals("/tmp/x", c.dataDir());
    assertTrue(c.demo());
    assertEquals(5000, c.aggregation().windowMs());
    assertEquals(100, c.live().flushMs());
  }

  @Test
  @DisplayName("a bad value fails at start with a message naming the setting and its variable")
  void badValuesNameTheSetting() {
    ConfigException port = assertThrows(ConfigException.class,
        () -> PulseConfig.load(Map.of("PULSE_HTTP_PORT", "eighty"), Map.of()));
    assertTrue(port.getMessage().contains("http.port") && port.getMessage().contains("PULSE_HTTP_PORT"),
        port.getMessage());
    ConfigException range = assertThrows(ConfigException.class,
        () -> PulseConfig.load(Map.of("PULSE_HTTP_PORT", "70000"), Map.of()));
    assertTrue(range.getMessage().contains("between 0 and 65535"), range.getMessage());
    ConfigException demo = assertThrows(ConfigException.class,
        () -> PulseConfig.load(Map.of("PULSE_DEMO", "yes"), Map.of()));
    assertTrue(demo.getMessage().contains("PULSE_DEMO"), demo.getMessage());
    ConfigException policy = assertThrows(ConfigException.class,
        () -> PulseConfig.of(new JsonObject().put("aggregation", new JsonObject().put("latePolicy", "drop"))));
    assertTrue(policy.getMessage().contains("aggregation.latePolicy"), policy.getMessage());
    ConfigException window = assertThrows(ConfigException.class,
        () -> PulseConfig.load(Map.of("PULSE_WINDOW", "soon"), Map.of()));
    assertTrue(window.getMessage().contains("aggregation.window"), window.getMessage());
  }

  @Test
  @DisplayName("per-stream window and group-bys are read and checked")
  void streamSettings() {
    PulseConfig c = PulseConfig.of(new JsonObject("{\"streams\":{\"vitals\":{\"window\":\"5s\","
        + "\"groupBy\":[[\"ward\"]]}}}"));
    assertEquals(5000, c.stream("vitals").windowMs());
    assertEquals(List.of(List.of("ward")), c.stream("vitals").groupBy());
    assertEquals(1000, c.stream("other").windowMs());
    assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject("{\"streams\":{\"Bad Name\":{}}}")));
  }

  @Test
  @DisplayName("durations parse and print in their shortest form")
  void durations() {
    assertEquals(250, Durations.parse("250ms"));
    assertEquals(60_000, Durations.parse("1m"));
    assertEquals(-1, Durations.parse("1 minute"));
    assertEquals("1s", Durations.format(1000));
    assertEquals("1500ms", Durations.format(1500));
    assertEquals("1h", Durations.format(3_600_000));
  }

  @Test
  @DisplayName("a typo'd key fails; a quoted number is taken; a file value is not blamed on a variable")
  void strictButTolerant() {
    ConfigException typo = assertThrows(ConfigException.class,
        () -> PulseConfig.of(new JsonObject("{\"htp\":{\"port\":1}}")));
    assertTrue(typo.getMessage().startsWith("configuration htp: is not a setting"), typo.getMessage());
    assertEquals(18557, PulseConfig.of(new JsonObject("{\"http\":{\"port\":\"18557\"}}")).http().port());
    ConfigException fromFile = assertThrows(ConfigException.class,
        () -> PulseConfig.of(new JsonObject("{\"http\":{\"port\":\"x\"}}")));
    assertEquals("configuration http.port: must be a whole number, got \"x\"", fromFile.getMessage());
    ConfigException eighty = assertThrows(ConfigException.class,
        () -> PulseConfig.load(Map.of("PULSE_HTTP_PORT", "eighty"), Map.of()));
    assertEquals("configuration http.port (PULSE_HTTP_PORT): must be a whole number, got \"eighty\"",
        eighty.getMessage());
    assertEquals(0.02, PulseConfig.load(Map.of(), Map.of("pulse.aggregation.sketchRelativeAccuracy", "0.02"))
        .aggregation().sketchRelativeAccuracy());
  }
}
