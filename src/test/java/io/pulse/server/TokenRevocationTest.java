package io.pulse.server;

import static io.pulse.testing.TestTokens.bearer;
import static io.pulse.testing.TestTokens.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.TestPulse;
import io.pulse.testing.TestTokens;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Revoking a token through the API (storage off: kept in memory): its REST calls answer 401 at once
 * (through the server's revocation slot, asked by the test resolver as the real one does), its
 * WebSocket and SSE connections are closed with the reason on whichever HTTP instance holds them,
 * and other tokens' connections stay open; an expired token's live connections are closed at the
 * heartbeat. Each test uses token ids of its own.
 */
class TokenRevocationTest {

  private static TestPulse pulse;
  private static final String ADMIN = token("acme", "adm", "admin");

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject()
        .put("http", new JsonObject().put("instances", 2)) // connections spread over two hubs
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 200)));
    pulse.pulse().callers(TestTokens.resolver(pulse.pulse()::revocations));
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static LiveClient ws(String token) {
    return LiveClient.websocket(pulse.port(), new WebSocketClientOptions(), Map.of("Authorization", "Bearer " + token));
  }

  private static LiveClient sse(String stream, String token) {
    LiveClient c = LiveClient.sse(pulse.port(), "stream=" + stream + "&access_token=" + token, null);
    c.await(m -> "subscribed".equals(m.event()), 5000);
    return c;
  }

  private static void subscribe(LiveClient c, String stream) {
    c.send(new JsonObject().put("op", "subscribe").put("id", "s").put("stream", stream));
    c.await(m -> "subscribed".equals(m.type()), 5000);
  }

  private static HttpResponse<String> revoke(String admin, String id, String body) {
    return pulse.request("POST", "/api/v1/tokens/" + id + "/revoke", body, bearer(admin));
  }

  private static int streams(String token) {
    return pulse.request("GET", "/api/v1/streams", null, bearer(token)).statusCode();
  }

  @Test
  @DisplayName("a revoked token: REST 401, its WebSocket closed 4401 and its SSE ended with an error event; other tokens go on")
  void revocationClosesItsConnections() {
    String gone = token("acme", "tok-gone", "read,ingest");
    String kept = token("acme", "tok-kept", "read,ingest");
    assertEquals(200, streams(gone));
    try (LiveClient goneWs1 = ws(gone); LiveClient goneWs2 = ws(gone); LiveClient keptWs = ws(kept);
        LiveClient goneSse = sse("revoked", gone); LiveClient keptSse = sse("revoked", kept)) {
      subscribe(goneWs1, "revoked");
      subscribe(goneWs2, "revoked");
      subscribe(keptWs, "revoked");

      HttpResponse<String> r = revoke(ADMIN, "tok-gone", "{\"reason\":\"lost laptop\"}");
      assertEquals(200, r.statusCode(), r.body());
      JsonObject j = new JsonObject(r.body());
      assertEquals("tok-gone", j.getString("tokenId"));
      assertEquals("user-adm (token adm)", j.getString("by"));
      assertEquals("lost laptop", j.getString("reason"));
      assertFalse(j.getBoolean("alreadyRevoked"));

      HttpResponse<String> refused = pulse.request("GET", "/api/v1/streams", null, bearer(gone));
      assertEquals(401, refused.statusCode(), "in force at once on REST: " + refused.body());
      assertEquals("token revoked", new JsonObject(refused.body()).getString("error"));
      assertEquals(200, streams(kept));

      for (LiveClient c : new LiveClient[] {goneWs1, goneWs2}) {
        Msg closing = c.await(m -> "closing".equals(m.type()), 5000);
        assertEquals("token revoked", closing.json().getString("reason"));
        Await.until("the revoked token's WebSocket closed", c::isClosed, b -> b, 5000);
        assertEquals((short) 4401, c.closeCode());
      }
      Msg err = goneSse.await(m -> "error".equals(m.event()), 5000);
      assertEquals("token revoked", err.json().getString("error"));
      Await.until("the revoked token's SSE response ended", goneSse::isClosed, b -> b, 5000);

      // the other token's connections still carry the feed
      JsonObject event = new JsonObject().put("values", new JsonObject().put("v", 1));
      Await.until("a rollup on the kept token's SSE", () -> {
        pulse.request("POST", "/api/v1/streams/revoked/events", event.encode(), bearer(kept));
        return keptSse.collect(300).stream().anyMatch(m -> "rollup".equals(m.event()));
      }, b -> b, 10_000, 1);
      keptWs.send(new JsonObject().put("op", "ping"));
      keptWs.await(m -> "pong".equals(m.type()), 5000);
      assertFalse(keptWs.isClosed());
      assertFalse(keptSse.isClosed());

      // a new connection with the revoked token is refused before it opens
      HttpResponse<String> sseAgain = pulse.request("GET", "/api/v1/live/sse?stream=revoked&access_token=" + gone, null);
      assertEquals(401, sseAgain.statusCode(), sseAgain.body());
    }
  }

  @Test
  @DisplayName("revoking is idempotent, needs a valid body, and the tenant's admin lists its revocations only")
  void idempotentAndListed() {
    HttpResponse<String> first = revoke(ADMIN, "tok-twice", null);
    assertEquals(200, first.statusCode(), first.body());
    HttpResponse<String> again = revoke(ADMIN, "tok-twice", "{\"reason\":\"again\"}");
    assertEquals(200, again.statusCode(), again.body());
    assertTrue(new JsonObject(again.body()).getBoolean("alreadyRevoked"));
    assertEquals(null, new JsonObject(again.body()).getString("reason"), "the first revocation stays in force");

    assertEquals(400, revoke(ADMIN, "tok-bad", "{\"reason\":5}").statusCode());
    assertEquals(400, revoke(ADMIN, "tok-bad", "{\"why\":\"x\"}").statusCode());
    assertEquals(400, revoke(ADMIN, "tok-bad", "[1]").statusCode());
    assertEquals(200, streams(token("acme", "tok-bad", "read")), "a refused revocation revokes nothing");

    JsonArray listed = new JsonObject(pulse.request("GET", "/api/v1/tokens/revoked", null, bearer(ADMIN)).body())
        .getJsonArray("revoked");
    assertTrue(listed.stream().anyMatch(o -> "tok-twice".equals(((JsonObject) o).getString("tokenId"))), listed.encode());
    JsonObject entry = listed.stream().map(o -> (JsonObject) o).filter(o -> "tok-twice".equals(o.getString("tokenId")))
        .findFirst().orElseThrow();
    assertEquals("user-adm (token adm)", entry.getString("by"));
    assertTrue(entry.getLong("revokedAt") > 0);

    JsonArray other = new JsonObject(pulse.request("GET", "/api/v1/tokens/revoked", null,
        bearer(token("beta", "adm-b", "admin"))).body()).getJsonArray("revoked");
    assertTrue(other.stream().noneMatch(o -> "tok-twice".equals(((JsonObject) o).getString("tokenId"))),
        "another tenant does not see acme's revocations: " + other.encode());
  }

  @Test
  @DisplayName("a live connection whose token expires is closed at the heartbeat with \"token expired\"")
  void expiredTokenClosed() {
    long expires = System.currentTimeMillis() + 2_000;
    String soon = "t:acme:tok-soon:read:" + expires;
    try (LiveClient c = ws(soon); LiveClient later = ws(token("acme", "tok-later", "read"))) {
      Msg closing = c.await(m -> "closing".equals(m.type()), 10_000);
      assertEquals("token expired", closing.json().getString("reason"));
      Await.until("the expired token's WebSocket closed", c::isClosed, b -> b, 5000);
      assertEquals((short) 4401, c.closeCode());
      assertTrue(System.currentTimeMillis() >= expires, "not closed before its token expired");
      later.send(new JsonObject().put("op", "ping"));
      later.await(m -> "pong".equals(m.type()), 5000);
    }
  }
}
