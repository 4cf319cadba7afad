package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A revocation belongs to its tenant (issue 13 defect): with real JWTs and storage on, an admin of
 * acme naming a token id of tenant other (a jti, or a display's dsp- id) records a revocation for
 * acme only: the other tenant's token keeps working on REST and its live WebSocket stays open, and
 * the other tenant's revocation list and audit log stay empty; the other tenant's own admin then
 * revokes it as usual (not "alreadyRevoked"). Revocation lists and audit entries stay per tenant.
 */
class RevocationTenantIsolationTest {

  private static PgFixture.Db db;
  private static TestPulse pulse;
  private static String acmeAdmin;
  private static String otherAdmin;

  @BeforeAll
  static void start() {
    db = PgFixture.freshDatabase();
    pulse = TestPulse.startWithStorage(db, new JsonObject()
        .put("auth", new JsonObject().put("enabled", true))
        .put("http", new JsonObject().put("instances", 2)) // connections and requests spread over two hubs
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 200)));
    acmeAdmin = pulse.token("acme", "admin");
    otherAdmin = pulse.token("other", "admin");
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static HttpResponse<String> as(String token, String method, String path, String body) {
    return pulse.request(method, path, body, TestPulse.bearer(token));
  }

  private static JsonObject ok(HttpResponse<String> r) {
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private static String jti(String token) {
    String id = ok(as(token, "GET", "/api/v1/whoami", null)).getString("tokenId");
    assertNotNull(id, "a minted token has an id");
    return id;
  }

  private static JsonObject revoke(String admin, String id) {
    return ok(as(admin, "POST", "/api/v1/tokens/" + id + "/revoke", "{\"reason\":\"test\"}"));
  }

  private static List<String> revokedIds(String admin) {
    JsonArray a = ok(as(admin, "GET", "/api/v1/tokens/revoked", null)).getJsonArray("revoked");
    return a.stream().map(o -> ((JsonObject) o).getString("tokenId")).toList();
  }

  /** The tenant's audit entries of {@code action} on {@code target}. */
  private static long audited(String admin, String action, String target) {
    JsonArray a = ok(as(admin, "GET", "/api/v1/audit", null)).getJsonArray("entries");
    return a.stream().map(o -> (JsonObject) o)
        .filter(e -> action.equals(e.getString("action")) && target.equals(e.getString("target"))).count();
  }

  private static LiveClient ws(String token) {
    return LiveClient.websocket(pulse.port(), new WebSocketClientOptions(), Map.of("Authorization", "Bearer " + token));
  }

  private static void subscribe(LiveClient c, String stream) {
    c.send(new JsonObject().put("op", "subscribe").put("id", "s").put("stream", stream));
    c.await(m -> "subscribed".equals(m.type()), 5000);
  }

  /** Waits for {@code n} heartbeats: each one comes after the hub asked whether the connection's token is revoked. */
  private static void heartbeats(LiveClient c, int n) {
    for (int i = 0; i < n; i++) {
      Msg m = c.await(x -> "heartbeat".equals(x.type()) || "closing".equals(x.type()), 5000);
      assertEquals("heartbeat", m.type(), "the connection was closed: " + m.json());
    }
    assertFalse(c.isClosed(), "closed (" + c.closeCode() + "): " + c.seen());
  }

  @Test
  @DisplayName("acme's admin revoking other's jti: 200 for acme only; other's token works on REST and live, other's list and audit stay empty; other's admin then revokes it")
  void anotherTenantsJti() {
    String victim = pulse.token("other", "read", "ingest");
    String victimJti = jti(victim);
    try (LiveClient live = ws(victim); LiveClient bystander = ws(victim)) {
      subscribe(live, "iso-revoke");
      subscribe(bystander, "iso-revoke");

      // acme's admin names other's token id: recorded for acme only (it cannot know whose id it is)
      JsonObject a = revoke(acmeAdmin, victimJti);
      assertEquals(victimJti, a.getString("tokenId"));
      assertFalse(a.getBoolean("alreadyRevoked"), a.encode());
      assertTrue(revokedIds(acmeAdmin).contains(victimJti), "acme sees its own (harmless) record");
      assertEquals(1, audited(acmeAdmin, "token.revoke", victimJti));

      assertEquals(200, as(victim, "GET", "/api/v1/streams", null).statusCode(), "other's token still works");
      for (LiveClient c : new LiveClient[] {live, bystander}) {
        // heartbeats after this pong were sent after the revocation was in force (each asks whether its token is revoked)
        c.send(new JsonObject().put("op", "ping"));
        c.await(m -> "pong".equals(m.type()), 5000);
        heartbeats(c, 2);
        c.send(new JsonObject().put("op", "ping"));
        c.await(m -> "pong".equals(m.type()), 5000);
        assertFalse(c.isClosed(), "other's live connection stays open");
      }
      assertTrue(revokedIds(otherAdmin).isEmpty(), "other's revocation list stays empty");
      assertEquals(0, audited(otherAdmin, "token.revoke", victimJti), "other's audit log shows nothing of acme's");

      // other's own admin revokes it: a new revocation, in force on REST and live at once
      JsonObject b = revoke(otherAdmin, victimJti);
      assertFalse(b.getBoolean("alreadyRevoked"), "acme's record is not other's: " + b.encode());
      HttpResponse<String> refused = as(victim, "GET", "/api/v1/streams", null);
      assertEquals(401, refused.statusCode(), refused.body());
      assertEquals("token revoked", new JsonObject(refused.body()).getString("error"));
      for (LiveClient c : new LiveClient[] {live, bystander}) {
        Msg closing = c.await(m -> "closing".equals(m.type()), 5000);
        assertEquals("token revoked", closing.json().getString("reason"));
        Await.until("other's revoked WebSocket closed", c::isClosed, x -> x, 5000);
        assertEquals((short) 4401, c.closeCode());
      }
      assertEquals(List.of(victimJti), revokedIds(otherAdmin));
      assertEquals(1, audited(otherAdmin, "token.revoke", victimJti));
      assertEquals(1, audited(acmeAdmin, "token.revoke", victimJti), "each tenant's audit has its own entry only");
      assertEquals(1, revokedIds(acmeAdmin).stream().filter(victimJti::equals).count());
      assertEquals(2, db.queryLong("select count(*) from revoked_tokens where jti = '" + victimJti + "'"),
          "one stored row per tenant");
      assertTrue(revoke(otherAdmin, victimJti).getBoolean("alreadyRevoked"));
    }
  }

  @Test
  @DisplayName("acme's admin revoking other's display id (dsp-...): other's display stays unrevoked and its token works; other's DELETE revokes it")
  void anotherTenantsDisplay() {
    String globexAdmin = pulse.token("globex", "admin"); // a tenant of its own: lists start empty
    assertEquals(201, as(globexAdmin, "POST", "/api/v1/dashboards", "{\"id\":\"wall\",\"name\":\"wall\"}").statusCode());
    HttpResponse<String> created = as(globexAdmin, "POST", "/api/v1/displays", "{\"name\":\"Lobby\",\"dashboard\":\"wall\"}");
    assertEquals(201, created.statusCode(), created.body());
    JsonObject display = new JsonObject(created.body());
    String id = display.getString("id");
    String token = display.getString("token");
    assertTrue(id.startsWith("dsp-"), id);
    assertEquals(200, as(token, "GET", "/api/v1/whoami", null).statusCode());

    assertFalse(revoke(acmeAdmin, id).getBoolean("alreadyRevoked"));
    assertEquals(404, as(acmeAdmin, "DELETE", "/api/v1/displays/" + id, null).statusCode(), "not acme's display");
    assertEquals(200, as(token, "GET", "/api/v1/whoami", null).statusCode(), "globex's display token still works");
    assertFalse(ok(as(globexAdmin, "GET", "/api/v1/displays/" + id, null)).getBoolean("revoked"));
    assertTrue(revokedIds(globexAdmin).isEmpty(), "globex's revocation list stays empty");
    assertEquals(0, audited(globexAdmin, "display.revoke", id));
    assertEquals(0, audited(globexAdmin, "token.revoke", id), "globex's audit shows nothing of acme's");
    assertEquals(1, audited(acmeAdmin, "token.revoke", id), "acme's own record, in acme's audit");

    assertTrue(ok(as(globexAdmin, "DELETE", "/api/v1/displays/" + id, null)).getBoolean("revoked"));
    assertEquals(401, as(token, "GET", "/api/v1/whoami", null).statusCode(), "globex's own revocation is in force");
    assertEquals(List.of(id), revokedIds(globexAdmin));
    assertEquals(1, audited(globexAdmin, "display.revoke", id));
  }
}
