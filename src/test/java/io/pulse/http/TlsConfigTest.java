package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.ConfigException;
import io.pulse.config.PulseConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

@DisplayName("Configuration of TLS (tls.*) and allowed origins (http.allowedOrigins)")
class TlsConfigTest {

  private static PulseConfig.Tls tls(JsonObject t) {
    return PulseConfig.of(new JsonObject().put("tls", t)).tls();
  }

  private static String refusal(Runnable r) {
    return assertThrows(ConfigException.class, r::run).getMessage();
  }

  @Test
  @DisplayName("defaults: TLS off, TLS 1.3 only, reload every 5 s; no allowed origins")
  void defaults() {
    PulseConfig c = PulseConfig.of(new JsonObject());
    assertFalse(c.tls().enabled());
    assertEquals(List.of("TLSv1.3"), c.tls().protocols());
    assertEquals(5000, c.tls().reloadCheckMs());
    assertEquals(List.of(), c.allowedOrigins());
  }

  @Test
  @DisplayName("PULSE_TLS_CERT and PULSE_TLS_KEY together turn TLS on; PULSE_TLS_PROTOCOLS and PULSE_ALLOWED_ORIGINS are lists")
  void fromEnvironment() throws Exception {
    Path dir = Files.createTempDirectory("tls-conf");
    Path cert = Files.writeString(dir.resolve("c.pem"), "x");
    Path key = Files.writeString(dir.resolve("k.pem"), "x");
    PulseConfig c = PulseConfig.load(Map.of("PULSE_TLS_CERT", cert.toString(), "PULSE_TLS_KEY", key.toString(),
        "PULSE_TLS_PROTOCOLS", "TLSv1.3,TLSv1.2", "PULSE_ALLOWED_ORIGINS", "https://a.example, http://b.example:8080/"),
        Map.of());
    assertTrue(c.tls().enabled());
    assertTrue(c.tls().fromFiles());
    assertEquals(List.of("TLSv1.3", "TLSv1.2"), c.tls().protocols());
    assertEquals(List.of("https://a.example", "http://b.example:8080"), c.allowedOrigins());
    assertTrue(PulseConfig.load(Map.of("PULSE_TLS_SELF_SIGNED", "true"), Map.of()).tls().selfSigned());
  }

  @Test
  @DisplayName("TLS 1.1, 1.0 and SSL are refused with a clear message; an empty list too")
  void oldProtocolsRefused() {
    for (String p : new String[] {"TLSv1.1", "TLSv1", "SSLv3", "tlsv1.3"}) {
      String m = refusal(() -> tls(new JsonObject().put("protocols", new JsonArray().add("TLSv1.3").add(p))));
      assertTrue(m.startsWith("configuration tls.protocols: \"" + p + "\" is refused"), m);
    }
    String env = assertThrows(ConfigException.class, () -> PulseConfig.load(Map.of("PULSE_TLS_PROTOCOLS", "TLSv1.1"),
        Map.of())).getMessage();
    assertTrue(env.contains("(PULSE_TLS_PROTOCOLS)"), env);
    assertTrue(refusal(() -> tls(new JsonObject().put("protocols", new JsonArray()))).contains("at least one"));
  }

  @Test
  @DisplayName("a certificate without its key, files that cannot be read, TLS on without a certificate: refused")
  void certificateSettings() throws Exception {
    Path dir = Files.createTempDirectory("tls-conf");
    Path cert = Files.writeString(dir.resolve("c.pem"), "x");
    assertTrue(refusal(() -> tls(new JsonObject().put("cert", cert.toString()))).contains("go together"));
    assertTrue(refusal(() -> tls(new JsonObject().put("cert", cert.toString()).put("key", dir.resolve("nope").toString())))
        .contains("configuration tls.key: cannot read"));
    assertTrue(refusal(() -> tls(new JsonObject().put("enabled", true))).contains("needs a certificate"));
    assertTrue(refusal(() -> tls(new JsonObject().put("selfSigned", true).put("cert", cert.toString())
        .put("key", cert.toString()))).contains("tls.selfSigned"));
    assertTrue(refusal(() -> tls(new JsonObject().put("reloadCheckMs", 5))).contains("tls.reloadCheckMs"));
    assertTrue(tls(new JsonObject().put("selfSigned", true)).enabled());
    assertFalse(tls(new JsonObject().put("selfSigned", true)).fromFiles());
  }

  @Test
  @DisplayName("allowed origins: * only as written; a path or a non-origin is refused")
  void origins() {
    assertEquals(List.of("*"), PulseConfig.of(new JsonObject().put("http", new JsonObject()
        .put("allowedOrigins", new JsonArray().add("*")))).allowedOrigins());
    String m = refusal(() -> PulseConfig.of(new JsonObject().put("http", new JsonObject()
        .put("allowedOrigins", new JsonArray().add("https://a.example/app")))));
    assertTrue(m.startsWith("configuration http.allowedOrigins: \"https://a.example/app\" is not an origin"), m);
  }
}
