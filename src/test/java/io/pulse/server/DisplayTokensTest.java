package io.pulse.server;

import static io.pulse.testing.TestTokens.bearer;
import static io.pulse.testing.TestTokens.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.pulse.testing.TestTokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Display tokens for wallboards on a real server with storage: created and listed by an admin
 * through the API (the token shown once, signed by the server's signer: here the test HS256 one),
 * read-only and bound to one dashboard, revoked by deleting the display (REST 401, its live
 * connections closed). Each test makes displays of its own.
 */
class DisplayTokensTest {

  private static final String ADMIN = token("acme", "adm", "admin");
  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.startWithStorage(PgFixture.freshDatabase(), new JsonObject()
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 200)));
    pulse.pulse().callers(TestTokens.resolver(pulse.pulse()::revocations));
    pulse.pulse().signer(TestTokens.signer(pulse.pulse().vertx()));
    // lobby shows stream lobby; noc shows checkout over cart (a ratio's denominator); sales shows sales
    for (String[] d : new String[][] {{"lobby", "lobby", null}, {"noc", "checkout", "cart"}, {"sales", "sales", null}}) {
      HttpResponse<String> r = pulse.request("POST", "/api/v1/dashboards", dashboard(d[0], d[1], d[2]), bearer(ADMIN));
      assertEquals(201, r.statusCode(), r.body());
    }
  }

  /** A dashboard with one stat panel on {@code stream}, over {@code denominator}'s stream when not null. */
  private static String dashboard(String id, String stream, String denominator) {
    JsonObject panel = new JsonObject().put("id", "p1").put("kind", "stat")
        .put("grid", new JsonObject().put("x", 0).put("y", 0).put("w", 4).put("h", 2))
        .put("query", new JsonObject().put("stream", stream));
    if (denominator != null) {
      panel.put("derive", new JsonObject().put("op", "ratio").put("denominator", new JsonObject().put("stream", denominator)));
    }
    return new JsonObject().put("id", id).put("title", id).put("panels", new JsonArray().add(panel)).encode();
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static HttpResponse<String> as(String token, String method, String path, String body) {
    return pulse.request(method, path, body, bearer(token));
  }

  private static JsonObject create(String body) {
    HttpResponse<String> r = as(ADMIN, "POST", "/api/v1/displays", body);
    assertEquals(201, r.statusCode(), r.body());
    assertEquals("/api/v1/displays/" + new JsonObject(r.body()).getString("id"),
        r.headers().firstValue("Location").orElse(null));
    return new JsonObject(r.body());
  }

  @Test
  @DisplayName("an admin creates a display: 201 with its binding, expiry, a signed read-only token bound to the dashboard, and the kiosk URL")
  void createAndList() throws Exception {
    long before = System.currentTimeMillis();
    JsonObject d = create("{\"name\":\"Lobby TV\",\"dashboard\":\"lobby\"}");
    String id = d.getString("id");
    assertTrue(id.startsWith("dsp-"), id);
    assertEquals("Lobby TV", d.getString("name"));
    assertEquals(new JsonObject().put("dashboard", "lobby"), d.getJsonObject("binding"));
    assertEquals("user-adm (token adm)", d.getString("createdBy"));
    long year = 365L * 86_400_000L;
    assertTrue(d.getLong("expiresAt") >= before + year && d.getLong("expiresAt") <= System.currentTimeMillis() + year,
        "long-lived by default (displays.defaultTtl 365d): " + d.encode());
    String tok = d.getString("token");
    assertEquals("/?kiosk=1&dashboard=lobby&access_token=" + tok, d.getString("url"));

    // signed by the server's signer, with the display's claims
    User user = TestTokens.jwtAuth(pulse.pulse().vertx()).authenticate(new TokenCredentials(tok))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    JsonObject claims = user.principal();
    assertEquals("display:" + id, claims.getString("sub"));
    assertEquals("acme", claims.getString("tenant"));
    assertEquals("read", claims.getString("scope"));
    assertEquals(new JsonObject().put("dashboard", "lobby"), claims.getJsonObject("display"));
    assertEquals(id, claims.getString("jti"));

    HttpResponse<String> one = as(ADMIN, "GET", "/api/v1/displays/" + id, null);
    assertEquals(200, one.statusCode(), one.body());
    assertNull(new JsonObject(one.body()).getValue("token"), "the token is shown once, never stored");
    assertFalse(new JsonObject(one.body()).getBoolean("revoked"));
    JsonArray all = new JsonObject(as(ADMIN, "GET", "/api/v1/displays", null).body()).getJsonArray("displays");
    assertTrue(all.stream().anyMatch(o -> id.equals(((JsonObject) o).getString("id"))), all.encode());
    assertTrue(all.stream().noneMatch(o -> ((JsonObject) o).containsKey("token")), all.encode());

    String other = token("beta", "adm-b", "admin");
    assertEquals(404, as(other, "GET", "/api/v1/displays/" + id, null).statusCode(), "another tenant's display");
    assertTrue(new JsonObject(as(other, "GET", "/api/v1/displays", null).body()).getJsonArray("displays").isEmpty());

    JsonObject shortLived = create("{\"name\":\"for a day\",\"dashboard\":\"noc\",\"ttl\":\"1d\"}");
    assertEquals(86_400_000L, shortLived.getLong("expiresAt") - shortLived.getLong("createdAt"));

    JsonArray audit = new JsonObject(as(ADMIN, "GET", "/api/v1/audit?action=display.", null).body())
        .getJsonArray("entries");
    assertTrue(audit.stream().anyMatch(o -> id.equals(((JsonObject) o).getString("target"))
        && "display.create".equals(((JsonObject) o).getString("action"))), audit.encode());
  }

  @Test
  @DisplayName("a display token sees only its dashboard: the list holds it alone, another dashboard is 404, writes 403")
  void boundToItsDashboard() {
    String tok = create("{\"name\":\"NOC wall\",\"dashboard\":\"noc\"}").getString("token");
    HttpResponse<String> list = as(tok, "GET", "/api/v1/dashboards", null);
    assertEquals(200, list.statusCode(), list.body());
    JsonArray ds = new JsonObject(list.body()).getJsonArray("dashboards");
    assertEquals(1, ds.size(), ds.encode());
    assertEquals("noc", ds.getJsonObject(0).getString("id"));
    assertEquals(3, new JsonObject(as(ADMIN, "GET", "/api/v1/dashboards", null).body()).getJsonArray("dashboards")
        .size(), "an admin sees them all");

    assertEquals(200, as(tok, "GET", "/api/v1/dashboards/noc", null).statusCode());
    HttpResponse<String> other = as(tok, "GET", "/api/v1/dashboards/sales", null);
    assertEquals(404, other.statusCode(), other.body());
    assertEquals("no dashboard sales", new JsonObject(other.body()).getString("error"));
    assertEquals(404, as(tok, "GET", "/api/v1/dashboards/sales/versions", null).statusCode());
    assertEquals(200, as(tok, "GET", "/api/v1/dashboards/noc/versions", null).statusCode());
    assertEquals(403, as(tok, "PUT", "/api/v1/dashboards/noc", "{\"name\":\"mine now\"}").statusCode());
    assertEquals(403, as(tok, "DELETE", "/api/v1/dashboards/noc", null).statusCode());
    assertEquals(403, as(tok, "POST", "/api/v1/dashboards", "{\"name\":\"new\"}").statusCode());
    // what a dashboard draws is readable; the tenant's definitions and raw records are not, though the scope is read
    assertEquals(200, as(tok, "GET", "/api/v1/streams", null).statusCode());
    assertEquals(200, as(tok, "GET", "/api/v1/alerts", null).statusCode());
    for (String path : new String[] {"/api/v1/rules", "/api/v1/webhooks", "/api/v1/quarantine", "/api/v1/silences",
        "/api/v1/streams/sales/model", "/api/v1/streams/sales/detectors"}) {
      HttpResponse<String> r = as(tok, "GET", path, null);
      assertEquals(403, r.statusCode(), path + ": " + r.body());
      assertTrue(new JsonObject(r.body()).getString("error").contains("display token"), r.body());
    }
  }

  @Test
  @DisplayName("deleting a display revokes its token: REST 401, its SSE ended with \"token revoked\", listed as revoked; idempotent")
  void deleteRevokes() {
    JsonObject d = create("{\"name\":\"Sales TV\",\"dashboard\":\"sales\"}");
    String id = d.getString("id");
    String tok = d.getString("token");
    String kept = create("{\"name\":\"Sales TV 2\",\"dashboard\":\"sales\"}").getString("token");
    try (LiveClient sse = LiveClient.sse(pulse.port(), "stream=sales&access_token=" + tok, null);
        LiveClient keptSse = LiveClient.sse(pulse.port(), "stream=sales&access_token=" + kept, null)) {
      sse.await(m -> "subscribed".equals(m.event()), 5000);
      keptSse.await(m -> "subscribed".equals(m.event()), 5000);
      HttpResponse<String> del = as(ADMIN, "DELETE", "/api/v1/displays/" + id, null);
      assertEquals(200, del.statusCode(), del.body());
      assertTrue(new JsonObject(del.body()).getBoolean("revoked"));
      assertEquals(401, as(tok, "GET", "/api/v1/dashboards/sales", null).statusCode());
      assertEquals(200, as(kept, "GET", "/api/v1/dashboards/sales", null).statusCode());
      assertEquals("token revoked", sse.await(m -> "error".equals(m.event()), 5000).json().getString("error"));
      Await.until("the display's SSE ended", sse::isClosed, b -> b, 5000);
      assertFalse(keptSse.isClosed(), "the other display's connection stays");
    }
    JsonObject shown = new JsonObject(as(ADMIN, "GET", "/api/v1/displays/" + id, null).body());
    assertTrue(shown.getBoolean("revoked"), shown.encode());
    assertEquals(200, as(ADMIN, "DELETE", "/api/v1/displays/" + id, null).statusCode(), "idempotent");
    JsonArray revoked = new JsonObject(as(ADMIN, "GET", "/api/v1/tokens/revoked", null).body()).getJsonArray("revoked");
    assertTrue(revoked.stream().anyMatch(o -> id.equals(((JsonObject) o).getString("tokenId"))), revoked.encode());
    assertEquals(404, as(ADMIN, "DELETE", "/api/v1/displays/dsp-none", null).statusCode());
  }

  @Test
  @DisplayName("revoking a display's token id through /tokens/{id}/revoke marks the display revoked too")
  void revokeByTokenId() {
    JsonObject d = create("{\"name\":\"Hall TV\",\"dashboard\":\"lobby\"}");
    String id = d.getString("id");
    HttpResponse<String> r = as(ADMIN, "POST", "/api/v1/tokens/" + id + "/revoke", "{\"reason\":\"stolen TV\"}");
    assertEquals(200, r.statusCode(), r.body());
    JsonObject j = new JsonObject(r.body());
    assertFalse(j.getBoolean("alreadyRevoked"), j.encode());
    assertEquals("stolen TV", j.getString("reason"));
    assertEquals(d.getLong("expiresAt"), j.getLong("expiresAt"), "the display's expiry is known: " + j.encode());
    assertEquals(401, as(d.getString("token"), "GET", "/api/v1/dashboards/lobby", null).statusCode());
    assertTrue(new JsonObject(as(ADMIN, "GET", "/api/v1/displays/" + id, null).body()).getBoolean("revoked"));
    assertTrue(new JsonObject(as(ADMIN, "POST", "/api/v1/tokens/" + id + "/revoke", null).body())
        .getBoolean("alreadyRevoked"));
  }

  @Test
  @DisplayName("refused: unknown dashboard or playlist 404, bad bodies 400 with the reason, no signer 503")
  void refusals() {
    HttpResponse<String> unknown = as(ADMIN, "POST", "/api/v1/displays", "{\"name\":\"x\",\"dashboard\":\"nope\"}");
    assertEquals(404, unknown.statusCode(), unknown.body());
    assertEquals("no dashboard nope", new JsonObject(unknown.body()).getString("error"));
    HttpResponse<String> playlist = as(ADMIN, "POST", "/api/v1/displays", "{\"name\":\"x\",\"playlist\":\"p-none\"}");
    assertEquals(404, playlist.statusCode(), playlist.body());
    assertEquals("no playlist p-none", new JsonObject(playlist.body()).getString("error"));
    assertEquals(404, as(token("beta", "adm-b", "admin"), "POST", "/api/v1/displays",
        "{\"name\":\"x\",\"dashboard\":\"lobby\"}").statusCode(), "another tenant's dashboard does not exist for it");
    for (String bad : new String[] {"{\"dashboard\":\"lobby\"}", "{\"name\":\"\",\"dashboard\":\"lobby\"}",
        "{\"name\":\"x\"}", "{\"name\":\"x\",\"dashboard\":\"lobby\",\"playlist\":\"p\"}",
        "{\"name\":\"x\",\"dashboard\":\"a b\"}", "{\"name\":\"x\",\"dashboard\":\"lobby\",\"ttl\":\"forever\"}",
        "{\"name\":\"x\",\"dashboard\":\"lobby\",\"ttl\":\"99999d\"}", "{\"name\":\"x\",\"dashboard\":\"lobby\",\"ttl\":\"1s\"}",
        "{\"name\":\"x\",\"dashbord\":\"lobby\"}", "[1]", "{nope"}) {
      HttpResponse<String> r = as(ADMIN, "POST", "/api/v1/displays", bad);
      assertEquals(400, r.statusCode(), bad + " -> " + r.body());
      assertTrue(new JsonObject(r.body()).getString("error") != null, r.body());
    }
    pulse.pulse().signer(null);
    try {
      HttpResponse<String> noSigner = as(ADMIN, "POST", "/api/v1/displays", "{\"name\":\"x\",\"dashboard\":\"lobby\"}");
      assertEquals(503, noSigner.statusCode(), noSigner.body());
      assertTrue(new JsonObject(noSigner.body()).getString("error").contains("authentication on"), noSigner.body());
    } finally {
      pulse.pulse().signer(TestTokens.signer(pulse.pulse().vertx()));
    }
  }

  /** Sends one event to {@code stream} as the admin. */
  private static void send(String stream) {
    HttpResponse<String> r = as(ADMIN, "POST", "/api/v1/streams/" + stream + "/events", "{\"values\":{\"v\":1}}");
    assertEquals(202, r.statusCode(), r.body());
  }

  /** Streams checkout, cart, sales and lobby exist (an unknown stream's history is 404 for everybody). */
  private static void fourStreams() {
    for (String s : new String[] {"checkout", "cart", "sales", "lobby"}) {
      send(s);
    }
    Await.until("the admin sees the four streams", () -> streamsSeen(ADMIN),
        s -> s.containsAll(java.util.Set.of("checkout", "cart", "sales", "lobby")), 10_000);
    Await.until("their history is readable", () -> as(ADMIN, "GET", "/api/v1/streams/lobby/series?from=5m", null)
        .statusCode(), c -> c == 200, 10_000);
  }

  private static java.util.Set<String> streamsSeen(String token) {
    HttpResponse<String> r = as(token, "GET", "/api/v1/streams", null);
    assertEquals(200, r.statusCode(), r.body());
    java.util.Set<String> names = new java.util.TreeSet<>();
    new JsonObject(r.body()).getJsonArray("streams").forEach(o -> names.add(((JsonObject) o).getString("stream")));
    return names;
  }

  @Test
  @DisplayName("a display reads only the streams its dashboard's panels name: listing, series, anomalies, SSE and "
      + "WebSocket refuse the others as unknown; an edit of the dashboard takes effect")
  void readsOnlyItsStreams() {
    fourStreams();
    String tok = create("{\"name\":\"NOC scoped\",\"dashboard\":\"noc\"}").getString("token");
    assertEquals(java.util.Set.of("cart", "checkout"), streamsSeen(tok), "its panel's stream and its denominator's");
    for (String path : new String[] {"/series?from=5m", "/anomalies"}) {
      assertEquals(200, as(tok, "GET", "/api/v1/streams/checkout" + path, null).statusCode(), path);
      assertEquals(200, as(tok, "GET", "/api/v1/streams/cart" + path, null).statusCode(), path);
      HttpResponse<String> other = as(tok, "GET", "/api/v1/streams/sales" + path, null);
      assertEquals(404, other.statusCode(), path + ": " + other.body());
      assertEquals("no stream named \"sales\" is known", new JsonObject(other.body()).getString("error"));
    }
    assertEquals(200, as(ADMIN, "GET", "/api/v1/streams/sales/series?from=5m", null).statusCode(), "the admin reads it");

    HttpResponse<String> refused = pulse.request("GET", "/api/v1/live/sse?stream=sales&access_token=" + tok, null);
    assertEquals(404, refused.statusCode(), refused.body());
    assertEquals("no stream named \"sales\" is known", new JsonObject(refused.body()).getString("error"));
    try (LiveClient ok = LiveClient.sse(pulse.port(), "stream=checkout&access_token=" + tok, null);
        LiveClient ws = LiveClient.websocket(pulse.port(), new io.vertx.core.http.WebSocketClientOptions(),
            java.util.Map.of("Authorization", "Bearer " + tok))) {
      ok.await(m -> "subscribed".equals(m.event()), 5000);
      ws.send(new JsonObject().put("op", "subscribe").put("id", "a").put("stream", "sales"));
      LiveClient.Msg no = ws.await(m -> "error".equals(m.type()), 5000);
      assertEquals("subscribe: no stream named sales is known", no.json().getString("error"), no.json().encode());
      ws.send(new JsonObject().put("op", "subscribe").put("id", "b").put("stream", "cart"));
      ws.await(m -> "subscribed".equals(m.type()), 5000);

      // the admin points the dashboard at sales: the display follows (at once here; within 5 s elsewhere)
      HttpResponse<String> edit = as(ADMIN, "PUT", "/api/v1/dashboards/noc", dashboard("noc", "sales", null));
      assertEquals(200, edit.statusCode(), edit.body());
      assertEquals(java.util.Set.of("sales"), streamsSeen(tok));
      assertEquals(200, as(tok, "GET", "/api/v1/streams/sales/series?from=5m", null).statusCode());
      assertEquals(404, as(tok, "GET", "/api/v1/streams/checkout/series?from=5m", null).statusCode());
      ws.send(new JsonObject().put("op", "subscribe").put("id", "c").put("stream", "checkout"));
      LiveClient.Msg gone = ws.await(m -> "error".equals(m.type()) && "c".equals(m.json().getString("sub")), 5000);
      assertTrue(gone.json().getString("error").contains("no stream named checkout"), gone.json().encode());
    } finally {
      as(ADMIN, "PUT", "/api/v1/dashboards/noc", dashboard("noc", "checkout", "cart"));
    }
  }

  @Test
  @DisplayName("a display bound to a playlist: 201 with the playlist's kiosk URL; it reads the playlist, its "
      + "dashboards and their streams, nothing else")
  void boundToAPlaylist() {
    fourStreams();
    HttpResponse<String> made = as(ADMIN, "POST", "/api/v1/playlists",
        "{\"id\":\"night\",\"title\":\"Night shift\",\"interval\":\"30s\",\"dashboards\":[\"lobby\",\"sales\"]}");
    assertEquals(201, made.statusCode(), made.body());
    assertEquals(201, as(ADMIN, "POST", "/api/v1/playlists",
        "{\"id\":\"day\",\"title\":\"Day\",\"interval\":\"1m\",\"dashboards\":[\"noc\"]}").statusCode());
    JsonObject d = create("{\"name\":\"Hall TV\",\"playlist\":\"night\"}");
    String tok = d.getString("token");
    assertEquals(new JsonObject().put("playlist", "night"), d.getJsonObject("binding"));
    assertEquals("/?kiosk=1&playlist=night&access_token=" + tok, d.getString("url"));

    assertEquals(200, as(tok, "GET", "/api/v1/playlists/night", null).statusCode());
    assertEquals(404, as(tok, "GET", "/api/v1/playlists/day", null).statusCode());
    JsonArray lists = new JsonObject(as(tok, "GET", "/api/v1/playlists", null).body()).getJsonArray("playlists");
    assertEquals(1, lists.size(), lists.encode());
    JsonArray ds = new JsonObject(as(tok, "GET", "/api/v1/dashboards", null).body()).getJsonArray("dashboards");
    assertEquals(java.util.Set.of("lobby", "sales"), ds.stream().map(o -> ((JsonObject) o).getString("id"))
        .collect(java.util.stream.Collectors.toSet()));
    assertEquals(200, as(tok, "GET", "/api/v1/dashboards/sales", null).statusCode());
    assertEquals(404, as(tok, "GET", "/api/v1/dashboards/noc", null).statusCode());
    assertEquals(404, as(tok, "GET", "/api/v1/streams/checkout/series?from=5m", null).statusCode());
    assertEquals(200, as(tok, "GET", "/api/v1/streams/sales/series?from=5m", null).statusCode());
    assertEquals(200, as(tok, "GET", "/api/v1/streams/lobby/series?from=5m", null).statusCode());
    assertEquals(403, as(tok, "PUT", "/api/v1/playlists/night",
        "{\"title\":\"mine\",\"interval\":\"30s\",\"dashboards\":[\"noc\"]}").statusCode());

    // a dashboard-bound display sees no playlist
    String dashTok = create("{\"name\":\"Lobby\",\"dashboard\":\"lobby\"}").getString("token");
    assertEquals(404, as(dashTok, "GET", "/api/v1/playlists/night", null).statusCode());
    assertTrue(new JsonObject(as(dashTok, "GET", "/api/v1/playlists", null).body()).getJsonArray("playlists").isEmpty());
  }

  @Test
  @DisplayName("a display lists only the alerts of its dashboard's streams, and another stream's alert by id is 404")
  void alertsOfItsStreams() {
    fourStreams();
    for (String stream : new String[] {"checkout", "sales"}) {
      HttpResponse<String> r = as(ADMIN, "POST", "/api/v1/rules", "{\"id\":\"any-" + stream + "\",\"name\":\"any "
          + stream + "\",\"stream\":\"" + stream + "\",\"kind\":\"threshold\",\"metric\":\"v\",\"figure\":\"max\","
          + "\"op\":\">\",\"value\":0,\"severity\":\"info\"}");
      assertEquals(201, r.statusCode(), r.body());
    }
    // events go on until both rules fire (a rule's view holds events sent after it was made)
    JsonArray firing = Await.until("both rules firing", () -> {
      send("checkout");
      send("sales");
      return new JsonObject(as(ADMIN, "GET", "/api/v1/alerts?state=firing", null).body()).getJsonArray("alerts");
    }, a -> a.stream().map(o -> ((JsonObject) o).getString("stream")).collect(java.util.stream.Collectors.toSet())
        .containsAll(java.util.Set.of("checkout", "sales")), 20_000, 300);
    String salesAlert = null;
    String checkoutAlert = null;
    for (Object o : firing) {
      JsonObject a = (JsonObject) o;
      if ("sales".equals(a.getString("stream"))) {
        salesAlert = a.getString("id");
      } else if ("checkout".equals(a.getString("stream"))) {
        checkoutAlert = a.getString("id");
      }
    }
    String tok = create("{\"name\":\"NOC alerts\",\"dashboard\":\"noc\"}").getString("token");
    JsonArray seen = new JsonObject(as(tok, "GET", "/api/v1/alerts", null).body()).getJsonArray("alerts");
    assertTrue(seen.stream().anyMatch(o -> "checkout".equals(((JsonObject) o).getString("stream"))), seen.encode());
    assertTrue(seen.stream().allMatch(o -> java.util.Set.of("checkout", "cart").contains(((JsonObject) o)
        .getString("stream"))), seen.encode());
    assertEquals(200, as(tok, "GET", "/api/v1/alerts/" + checkoutAlert, null).statusCode());
    HttpResponse<String> other = as(tok, "GET", "/api/v1/alerts/" + salesAlert, null);
    assertEquals(404, other.statusCode(), other.body());
    assertEquals(200, as(ADMIN, "GET", "/api/v1/alerts/" + salesAlert, null).statusCode());
    for (String stream : new String[] {"checkout", "sales"}) {
      as(ADMIN, "DELETE", "/api/v1/rules/any-" + stream, null);
    }
  }
}
