package io.pulse.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.TestPulse;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Keys from a partner's identity provider: a small Vert.x server in the test serves the JWKS
 * document, Pulse fetches it at start, again when a token names a key id it does not know (at most
 * every auth.jwksMinRefreshMs), and then accepts tokens of the rotated key.
 */
class JwksServerTest {

  private Vertx vertx;
  private HttpServer idp;
  private final AtomicReference<JsonObject> served = new AtomicReference<>();
  private final AtomicInteger fetches = new AtomicInteger();

  @BeforeEach
  void startIdp() throws Exception {
    vertx = Vertx.vertx();
    idp = vertx.createHttpServer().requestHandler(req -> {
      fetches.incrementAndGet();
      req.response().putHeader("Content-Type", "application/json").end(served.get().encode());
    }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stopIdp() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** The public JWK of an ES256 pair. */
  static JsonObject jwk(KeyPair pair, String kid) {
    ECPublicKey k = (ECPublicKey) pair.getPublic();
    return new JsonObject().put("kty", "EC").put("crv", "P-256").put("use", "sig").put("kid", kid)
        .put("x", coord(k.getW().getAffineX())).put("y", coord(k.getW().getAffineY()));
  }

  private static String coord(BigInteger v) {
    byte[] b = v.toByteArray();
    byte[] out = new byte[32];
    int n = Math.min(32, b.length);
    System.arraycopy(b, b.length - n, out, 32 - n, n);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
  }

  private TestPulse pulse(long minRefreshMs) {
    return TestPulse.startWithAuth(new JsonObject().put("auth", new JsonObject()
        .put("jwksUrl", "http://127.0.0.1:" + idp.actualPort() + "/.well-known/jwks.json")
        .put("jwksMinRefreshMs", minRefreshMs)));
  }

  private static int whoami(TestPulse p, String token) {
    HttpResponse<String> r = p.request("GET", "/api/v1/whoami", null, TestPulse.bearer(token));
    return r.statusCode();
  }

  @Test
  @DisplayName("tokens of the JWKS key are accepted; after a rotation, a token of the new kid fetches the set again")
  void rotation() {
    KeyPair k1 = Minter.es256();
    KeyPair k2 = Minter.es256();
    served.set(new JsonObject().put("keys", new JsonArray().add(jwk(k1, "k1"))));
    try (TestPulse p = pulse(0)) {
      assertEquals(1, fetches.get(), "fetched once at start");
      Minter m1 = Minter.of(p.pulse().vertx(), k1, "k1");
      Minter m2 = Minter.of(p.pulse().vertx(), k2, "k2");
      assertEquals(200, whoami(p, m1.sign(Minter.claims("acme", "read"))));
      assertEquals(1, fetches.get(), "a known kid needs no fetch");
      served.set(new JsonObject().put("keys", new JsonArray().add(jwk(k2, "k2"))));
      assertEquals(200, whoami(p, m2.sign(Minter.claims("acme", "read"))));
      assertEquals(2, fetches.get(), "the unknown kid fetched the set again");
      // a body sent with a token whose key must be fetched first is kept whole (held while the set is fetched)
      KeyPair k3 = Minter.es256();
      served.set(new JsonObject().put("keys", new JsonArray().add(jwk(k2, "k2")).add(jwk(k3, "k3"))));
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < 20_000; i++) {
        body.append("{\"stream\":\"jw\",\"values\":{\"v\":").append(i).append("}}\n");
      }
      HttpResponse<String> sent = p.request("POST", "/api/v1/streams/jw/events", null,
          "Content-Type", "application/x-ndjson",
          "Authorization", "Bearer " + Minter.of(p.pulse().vertx(), k3, "k3").sign(Minter.claims("acme", "ingest")));
      assertEquals(3, fetches.get(), "k3 was fetched");
      assertEquals(400, sent.statusCode(), "an empty body is still read and answered: " + sent.body());
      KeyPair k4 = Minter.es256();
      served.set(new JsonObject().put("keys", new JsonArray().add(jwk(k3, "k3")).add(jwk(k4, "k4"))));
      try {
        HttpResponse<String> big = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create(p.baseUrl() + "/api/v1/events")).header("Content-Type", "application/x-ndjson")
            .header("Authorization", "Bearer " + Minter.of(p.pulse().vertx(), k4, "k4")
                .sign(Minter.claims("acme", "ingest")))
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body.toString())).build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals(202, big.statusCode(), big.body());
        assertEquals(20_000, new JsonObject(big.body()).getInteger("accepted"), big.body());
        assertEquals(4, fetches.get(), "k4 was fetched while the body waited");
      } catch (java.io.IOException | InterruptedException e) {
        throw new AssertionError(e);
      }
      HttpResponse<String> old = p.request("GET", "/api/v1/whoami", null,
          TestPulse.bearer(m1.sign(Minter.claims("acme", "read"))));
      assertEquals(401, old.statusCode(), "k1 left the set: " + old.body());
      assertTrue(new JsonObject(old.body()).getString("error").contains("unknown key id"), old.body());
      // a key of the right id that did not sign it: a bad signature, not an unknown key
      HttpResponse<String> forged = p.request("GET", "/api/v1/whoami", null,
          TestPulse.bearer(Minter.stranger(p.pulse().vertx(), "k4").sign(Minter.claims("acme", "read"))));
      assertTrue(new JsonObject(forged.body()).getString("error").contains("bad signature"), forged.body());
    }
  }

  @Test
  @DisplayName("unknown key ids fetch the set at most every auth.jwksMinRefreshMs; a private part in the set is ignored")
  void rateLimited() {
    KeyPair k1 = Minter.es256();
    served.set(new JsonObject().put("keys", new JsonArray().add(jwk(k1, "k1"))));
    try (TestPulse p = pulse(3_600_000L)) {
      int atStart = fetches.get();
      Minter stranger = Minter.stranger(p.pulse().vertx(), "nobody");
      for (int i = 0; i < 20; i++) {
        HttpResponse<String> r = p.request("GET", "/api/v1/whoami", null,
            TestPulse.bearer(stranger.sign(Minter.claims("acme", "read"))));
        assertEquals(401, r.statusCode(), r.body());
      }
      assertEquals(atStart, fetches.get(), "no fetch within the minimum interval");
    }
    assertEquals(JsonObject.class, Jwks.keys(new JsonObject().put("keys", new JsonArray()
        .add(jwk(k1, "k1").put("d", "secret")))).get(0).getClass());
    assertTrue(!Jwks.keys(new JsonObject().put("keys", new JsonArray().add(jwk(k1, "k1").put("d", "secret"))))
        .get(0).containsKey("d"));
    assertEquals(0, Jwks.keys(new JsonObject().put("keys", new JsonArray()
        .add(jwk(k1, "k1").put("use", "enc")))).size(), "encryption keys are not signature keys");
  }
}
