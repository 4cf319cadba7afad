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
  @DisplayName("http.port 0 is taken: the OS chooses the port when Pulse binds (the banner and Pulse.port() say which)")
  void portZero() {
    assertEquals(0, PulseConfig.load(Map.of("PULSE_HTTP_PORT", "0"), Map.of()).http().port());
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

  @Test
  @DisplayName("storage: embedded by default, on unless PULSE_STORAGE=false, retention durations parsed")
  void storageDefaults() {
    PulseConfig.Storage s = PulseConfig.load(Map.of(), Map.of()).storage();
    assertTrue(s.enabled());
    assertTrue(s.embedded());
    assertEquals(4, s.poolSize());
    assertEquals(PulseConfig.SslMode.DISABLE, s.ssl().mode());
    assertEquals(200_000, s.writeQueue());
    assertEquals(2000, s.writeBatch());
    assertEquals(1000, s.retryMs());
    assertEquals(24 * 3_600_000L, s.retention().secondMs());
    assertEquals(30 * 86_400_000L, s.retention().minuteMs());
    assertEquals(730 * 86_400_000L, s.retention().hourMs());
    assertTrue(!PulseConfig.load(Map.of("PULSE_STORAGE", "false"), Map.of()).storage().enabled());
  }

  @Test
  @DisplayName("storage: PULSE_PG_URL and PULSE_PG_SSL_MODE are read; the URL is never logged with its password")
  void storageUrl() {
    PulseConfig.Storage s = PulseConfig.load(Map.of("PULSE_PG_URL", "postgresql://pulse:s%40cret@db.example:6543/hist",
        "PULSE_PG_SSL_MODE", "verify-full", "PULSE_PG_POOL_SIZE", "8"), Map.of()).storage();
    assertTrue(!s.embedded());
    assertEquals(new PgUrl("pulse", "s@cret", "db.example", 6543, "hist"), s.url());
    assertEquals("db.example:6543/hist", s.url().where());
    assertTrue(!s.url().toString().contains("cret"), s.url().toString());
    assertEquals(PulseConfig.SslMode.VERIFY_FULL, s.ssl().mode());
    assertEquals(8, s.poolSize());
    assertEquals(5432, PgUrl.parse("postgres://u@localhost/db").port());
    assertEquals("::1", PgUrl.parse("postgresql://u:p@[::1]:5433/db").host());
  }

  @Test
  @DisplayName("storage: a malformed URL, SSL mode or retention fails at start naming the setting")
  void storageBadValues() {
    for (String bad : new String[] {"mysql://u:p@h/db", "postgresql://h:5432/db", "postgresql://u:p@h:port/db",
        "postgresql://u:p@h:5432", "postgresql://u:p@h/db?sslmode=require", "postgresql://u:p@:5432/db"}) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> PulseConfig.load(Map.of("PULSE_PG_URL", bad), Map.of()), bad);
      assertTrue(e.getMessage().startsWith("configuration storage.url (PULSE_PG_URL): "), e.getMessage());
    }
    ConfigException pw = assertThrows(ConfigException.class,
        () -> PulseConfig.load(Map.of("PULSE_PG_URL", "postgresql://u:hunter2@h:x/db"), Map.of()));
    assertTrue(!pw.getMessage().contains("hunter2"), pw.getMessage());
    ConfigException mode = assertThrows(ConfigException.class,
        () -> PulseConfig.load(Map.of("PULSE_PG_SSL_MODE", "prefer"), Map.of()));
    assertTrue(mode.getMessage().contains("storage.ssl.mode (PULSE_PG_SSL_MODE)"), mode.getMessage());
    ConfigException retention = assertThrows(ConfigException.class, () -> PulseConfig.of(
        new JsonObject("{\"storage\":{\"retention\":{\"second\":\"a day\"}}}")));
    assertTrue(retention.getMessage().startsWith("configuration storage.retention.second: "), retention.getMessage());
    ConfigException typo = assertThrows(ConfigException.class,
        () -> PulseConfig.of(new JsonObject("{\"storage\":{\"pool\":3}}")));
    assertTrue(typo.getMessage().startsWith("configuration storage.pool: is not a setting"), typo.getMessage());
    ConfigException ca = assertThrows(ConfigException.class,
        () -> PulseConfig.load(Map.of("PULSE_PG_SSL_CA_FILE", "/nonexistent/ca.pem"), Map.of()));
    assertTrue(ca.getMessage().contains("storage.ssl.caFile"), ca.getMessage());
    ConfigException queue = assertThrows(ConfigException.class, () -> PulseConfig.of(
        new JsonObject("{\"storage\":{\"writeQueue\":10,\"writeBatch\":100}}")));
    assertTrue(queue.getMessage().contains("storage.writeQueue"), queue.getMessage());
  }
}
