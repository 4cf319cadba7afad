package io.pulse.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.ConfigException;
import io.pulse.config.PulseConfig;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Keys from configuration: PEM files (RS256), PEM text from the environment, an HS256 secret, the issuer check. */
class ConfiguredKeysTest {

  private static KeyPair rsa() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    return g.generateKeyPair();
  }

  private static String error(HttpResponse<String> r) {
    return new JsonObject(r.body()).getString("error");
  }

  @Test
  @DisplayName("RS256 from PEM files: the server signs with the private key; a token of another issuer is 401")
  void pemFilesAndIssuer() throws Exception {
    KeyPair pair = rsa();
    Path dir = Files.createTempDirectory("pulse-keys");
    Path pub = Files.writeString(dir.resolve("pub.pem"), AuthKeys.pem("PUBLIC KEY", pair.getPublic().getEncoded()));
    Path priv = Files.writeString(dir.resolve("priv.pem"), AuthKeys.pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
    try (TestPulse p = TestPulse.startWithAuth(new JsonObject().put("auth", new JsonObject()
        .put("publicKeyFile", pub.toString()).put("privateKeyFile", priv.toString())
        .put("issuer", "https://idp.example")))) {
      String t = p.token("acme", "read");
      assertEquals("RS256", new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(t.split("\\.")[0])))
          .getString("alg"));
      assertEquals(200, p.request("GET", "/api/v1/whoami", null, TestPulse.bearer(t)).statusCode());
      Minter m = Minter.of(p.pulse().vertx(), pair, null);
      HttpResponse<String> wrong = p.request("GET", "/api/v1/whoami", null,
          TestPulse.bearer(m.sign(Minter.claims("acme", "read").put("iss", "https://other.example"))));
      assertEquals(401, wrong.statusCode());
      assertTrue(error(wrong).contains("wrong issuer"), wrong.body());
      HttpResponse<String> none = p.request("GET", "/api/v1/whoami", null,
          TestPulse.bearer(m.sign(Minter.claims("acme", "read"))));
      assertTrue(error(none).contains("wrong issuer"), "no iss is not the configured one: " + none.body());
      assertEquals(200, p.request("GET", "/api/v1/whoami", null, TestPulse.bearer(
          m.sign(Minter.claims("acme", "read").put("iss", "https://idp.example")))).statusCode());
      assertTrue(Files.notExists(Path.of(p.pulse().config().dataDir(), AuthKeys.DIR)),
          "no key pair generated when keys are configured");
    }
  }

  @Test
  @DisplayName("a public key from the environment (one line, \\n escapes) checks tokens; the server cannot sign")
  void publicKeyFromEnvironment() throws Exception {
    KeyPair pair = Minter.es256();
    String oneLine = AuthKeys.pem("PUBLIC KEY", pair.getPublic().getEncoded()).replace("\n", "\\n");
    PulseConfig cfg = PulseConfig.load(Map.of("PULSE_AUTH_PUBLIC_KEY", oneLine, "PULSE_AUTH", "true"), Map.of());
    assertTrue(cfg.auth().enabled());
    try (TestPulse p = TestPulse.startWithAuth(new JsonObject().put("auth", new JsonObject()
        .put("publicKey", cfg.auth().publicKey())))) {
      assertNull(p.pulse().signer(), "only a public key: nothing to sign with");
      Minter m = Minter.of(p.pulse().vertx(), pair, "any");
      assertEquals(200, p.request("GET", "/api/v1/whoami", null,
          TestPulse.bearer(m.sign(Minter.claims("acme", "read")))).statusCode());
    }
  }

  @Test
  @DisplayName("HS256 only when a secret is configured, and then its tokens are accepted; a short secret is refused")
  void hs256() {
    String secret = "a-shared-secret-of-at-least-32-bytes!";
    try (TestPulse p = TestPulse.startWithAuth(new JsonObject().put("auth", new JsonObject()
        .put("hs256Secret", secret)))) {
      HttpResponse<String> r = p.request("GET", "/api/v1/whoami", null,
          TestPulse.bearer(Minter.hs256(p.pulse().vertx(), secret).sign(Minter.claims("acme", "read"))));
      assertEquals(200, r.statusCode(), r.body());
      HttpResponse<String> bad = p.request("GET", "/api/v1/whoami", null, TestPulse.bearer(
          Minter.hs256(p.pulse().vertx(), secret + "x").sign(Minter.claims("acme", "read"))));
      assertTrue(error(bad).contains("bad signature"), bad.body());
    }
    ConfigException e = assertThrows(ConfigException.class, () -> PulseConfig.of(new JsonObject()
        .put("auth", new JsonObject().put("hs256Secret", "short"))));
    assertTrue(e.getMessage().contains("auth.hs256Secret"), e.getMessage());
  }

  @Test
  @DisplayName("with auth off, whoami says so: the default tenant, anonymous, every scope; no key is generated")
  void whoamiOff() {
    try (TestPulse p = TestPulse.start(null)) {
      JsonObject me = p.get("/api/v1/whoami").json();
      assertEquals("off", me.getString("auth"));
      assertEquals("default", me.getString("tenant"));
      assertEquals("anonymous", me.getString("subject"));
      assertEquals(java.util.List.of("admin"), me.getJsonArray("scopes").getList());
      assertNull(p.pulse().signer());
      assertTrue(Files.notExists(Path.of(p.pulse().config().dataDir(), AuthKeys.DIR)));
    }
  }

  @Test
  @DisplayName("auth is on by default, off by default in the demo, and PULSE_AUTH decides either way")
  void defaults() {
    assertTrue(PulseConfig.load(Map.of(), Map.of()).auth().enabled());
    assertTrue(!PulseConfig.load(Map.of("PULSE_DEMO", "true"), Map.of()).auth().enabled());
    assertTrue(PulseConfig.load(Map.of("PULSE_DEMO", "true", "PULSE_AUTH", "true"), Map.of()).auth().enabled());
    assertTrue(!PulseConfig.load(Map.of("PULSE_AUTH", "false"), Map.of()).auth().enabled());
    assertThrows(ConfigException.class, () -> PulseConfig.load(Map.of("PULSE_AUTH", "maybe"), Map.of()));
    assertTrue(!PulseConfig.of(null).auth().toString().contains("secret"));
  }
}
