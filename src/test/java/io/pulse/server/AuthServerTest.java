package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.auth.Minter;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** JWT authentication on a real server: each reason a token is refused (401), scopes (403), whoami. */
class AuthServerTest {

  private static TestPulse pulse;
  private static Minter minter;
  /** Revoked tokens as "tenant/jti". */
  private static final Set<String> revoked = ConcurrentHashMap.newKeySet();

  @BeforeAll
  static void start() {
    pulse = TestPulse.startWithAuth(null);
    pulse.pulse().revocations((tenant, jti) -> revoked.contains(tenant + "/" + jti));
    minter = Minter.of(pulse.pulse().vertx(), pulse.pulse().config());
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static HttpResponse<String> get(String path, String token) {
    return token == null ? pulse.request("GET", path, null) : pulse.request("GET", path, null, TestPulse.bearer(token));
  }

  private static void refused(HttpResponse<String> r, String reasonPart) {
    assertEquals(401, r.statusCode(), r.body());
    String error = new JsonObject(r.body()).getString("error");
    assertTrue(error.contains(reasonPart), "\"" + error + "\" says " + reasonPart);
    String challenge = r.headers().firstValue("WWW-Authenticate").orElse("");
    assertTrue(challenge.startsWith("Bearer "), challenge);
  }

  @Test
  @DisplayName("no token: 401, a Bearer challenge without an error code; health and metrics stay open")
  void missing() {
    HttpResponse<String> r = get("/api/v1/streams", null);
    refused(r, "token is required");
    assertEquals("Bearer realm=\"pulse\"", r.headers().firstValue("WWW-Authenticate").orElseThrow());
    assertEquals(200, pulse.get("/health/live").status());
    assertEquals(200, pulse.get("/metrics").status());
  }

  @Test
  @DisplayName("malformed tokens and headers: 401 malformed, with error=\"invalid_token\"")
  void malformed() {
    HttpResponse<String> r = get("/api/v1/streams", "not-a-jwt");
    refused(r, "malformed");
    assertTrue(r.headers().firstValue("WWW-Authenticate").orElseThrow().contains("error=\"invalid_token\""));
    refused(get("/api/v1/streams", "a.b.c"), "malformed");
    refused(pulse.request("GET", "/api/v1/streams", null, "Authorization", "Basic YWxpY2U6c2VjcmV0"), "malformed");
  }

  @Test
  @DisplayName("expired, not yet valid, badly signed, unsigned (alg none), HS256 not configured: each its own 401")
  void eachCause() {
    long now = System.currentTimeMillis() / 1000;
    refused(get("/api/v1/streams", minter.sign(Minter.claims("acme", "read").put("exp", now - 3600))), "expired");
    refused(get("/api/v1/streams", minter.sign(Minter.claims("acme", "read").put("nbf", now + 3600))),
        "not yet valid");
    refused(get("/api/v1/streams", Minter.stranger(pulse.pulse().vertx(), null).sign(Minter.claims("acme", "read"))),
        "bad signature");
    String good = minter.sign(Minter.claims("acme", "read"));
    String[] p = good.split("\\.");
    String forged = p[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
        Minter.claims("other", "admin").encode().getBytes(java.nio.charset.StandardCharsets.UTF_8)) + "." + p[2];
    refused(get("/api/v1/streams", forged), "bad signature");
    refused(get("/api/v1/streams", Minter.unsigned(Minter.claims("acme", "admin"))), "alg none");
    refused(get("/api/v1/streams", Minter.hs256(pulse.pulse().vertx(), "0123456789abcdef0123456789abcdef")
        .sign(Minter.claims("acme", "admin"))), "HS256");
    assertEquals(200, get("/api/v1/streams", good).statusCode(), "the same claims, signed by the server's key");
  }

  @Test
  @DisplayName("a token without a tenant, with an invalid tenant or without an id is refused; a revoked one too")
  void claims() {
    refused(get("/api/v1/streams", minter.sign(Minter.claims("acme", "read").put("tenant", (String) null))),
        "no \"tenant\" claim");
    JsonObject noTenant = Minter.claims("acme", "read");
    noTenant.remove("tenant");
    refused(get("/api/v1/streams", minter.sign(noTenant)), "no \"tenant\" claim");
    refused(get("/api/v1/streams", minter.sign(Minter.claims("ACME!", "read"))), "not a valid tenant");
    JsonObject noJti = Minter.claims("acme", "read");
    noJti.remove("jti");
    refused(get("/api/v1/streams", minter.sign(noJti)), "jti");
    JsonObject c = Minter.claims("acme", "read");
    String token = minter.sign(c);
    assertEquals(200, get("/api/v1/streams", token).statusCode());
    revoked.add("acme/" + c.getString("jti"));
    refused(get("/api/v1/streams", token), "token revoked");
    // the authenticator asks with the token's own tenant: another tenant's token with that jti is not revoked
    String other = minter.sign(Minter.claims("other", "read").put("jti", c.getString("jti")));
    assertEquals(200, get("/api/v1/streams", other).statusCode());
  }

  @Test
  @DisplayName("a valid token without the route's scope: 403 naming the scope; access_token is read on the live endpoints only")
  void scopes() {
    String ingest = pulse.token("acme", "ingest");
    HttpResponse<String> r = get("/api/v1/streams", ingest);
    assertEquals(403, r.statusCode(), r.body());
    assertEquals("read", new JsonObject(r.body()).getString("scope"));
    HttpResponse<String> rule = pulse.request("POST", "/api/v1/rules", "{}", TestPulse.bearer(pulse.token("acme",
        "read")));
    assertEquals(403, rule.statusCode(), rule.body());
    assertEquals("alerts", new JsonObject(rule.body()).getString("scope"));
    // the query's token is for the live endpoints (EventSource, WebSocket); elsewhere it is not read
    assertEquals(401, pulse.request("GET", "/api/v1/streams?access_token=" + pulse.token("acme", "read"), null)
        .statusCode());
    assertEquals(200, get("/api/v1/streams", pulse.token("acme", "admin")).statusCode(), "admin allows everything");
    HttpResponse<String> sent = pulse.request("POST", "/api/v1/events",
        "{\"stream\":\"s\",\"values\":{\"v\":1}}", TestPulse.bearer(ingest));
    assertEquals(202, sent.statusCode(), sent.body());
  }

  @Test
  @DisplayName("whoami: tenant, subject, token id, scopes (unknown ones reported apart), expiry, auth jwt")
  void whoami() {
    JsonObject c = Minter.claims("acme", "read:checkout* ingest frobnicate");
    HttpResponse<String> r = get("/api/v1/whoami", minter.sign(c));
    assertEquals(200, r.statusCode(), r.body());
    JsonObject me = new JsonObject(r.body());
    assertEquals("acme", me.getString("tenant"));
    assertEquals("alice", me.getString("subject"));
    assertEquals(c.getString("jti"), me.getString("tokenId"));
    assertEquals(new JsonArray().add("read:checkout*").add("ingest"), me.getJsonArray("scopes"));
    assertEquals(new JsonArray().add("frobnicate"), me.getJsonArray("ignoredScopes"));
    assertEquals(c.getLong("exp") * 1000, me.getLong("expiresAt"));
    assertEquals("jwt", me.getString("auth"));
    assertNull(me.getValue("display"));
    refused(get("/api/v1/whoami", null), "token is required");
  }

  @Test
  @DisplayName("a display token only reads, whatever its scopes say; whoami shows its binding")
  void display() {
    String t = minter.sign(Minter.claims("acme", "admin").put("display", new JsonObject().put("dashboard", "wall")));
    JsonObject me = new JsonObject(get("/api/v1/whoami", t).body());
    assertEquals(new JsonObject().put("kind", "dashboard").put("id", "wall"), me.getJsonObject("display"));
    assertEquals(new JsonArray().add("read"), me.getJsonArray("scopes"));
    assertEquals(200, get("/api/v1/streams", t).statusCode());
    HttpResponse<String> del = pulse.request("DELETE", "/api/v1/streams/x", null, TestPulse.bearer(t));
    assertEquals(403, del.statusCode(), del.body());
  }

  @Test
  @DisplayName("the page is served without a token (it reads access_token from its address); the API is not")
  void pageWithoutToken() {
    TestPulse.Response page = pulse.get("/");
    assertEquals(200, page.status());
    assertTrue(page.body().contains("<html") || page.body().contains("<!DOCTYPE") || page.body().contains("<!doctype"));
    TestPulse.Response js = pulse.get("/js/main.js");
    assertEquals(200, js.status());
    assertTrue(js.body().contains("access_token"), "the page sends the token of its address");
    assertEquals(200, pulse.get("/vendor/uplot/uPlot.esm.js").status(), "its chart library, without a token");
    assertEquals(401, pulse.get("/api/v1/streams").status());
  }

  @Test
  @DisplayName("the server's signer adds iat, exp, iss and a fresh jti")
  void signer() {
    String t = pulse.token("acme", "read");
    JsonObject me = new JsonObject(get("/api/v1/whoami", t).body());
    assertNotNull(me.getString("tokenId"));
    assertTrue(me.getLong("expiresAt") > System.currentTimeMillis() + 3_000_000L);
    JsonObject payload = new JsonObject(new String(java.util.Base64.getUrlDecoder().decode(t.split("\\.")[1]),
        java.nio.charset.StandardCharsets.UTF_8));
    assertEquals("pulse", payload.getString("iss"));
    assertNotNull(payload.getLong("iat"));
  }
}
