package io.pulse.server;

import static io.pulse.testing.TestTokens.bearer;
import static io.pulse.testing.TestTokens.token;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.pulse.testing.TestTokens;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Revocations with storage (PostgreSQL): stored with an audit entry, in force again after a
 * restart, and followed from the table when another process sharing the database adds one.
 */
class TokenStorageTest {

  private static final String ADMIN = token("acme", "adm", "admin");

  private static TestPulse start(PgFixture.Db db) {
    TestPulse p = TestPulse.startWithStorage(db, new JsonObject()
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 200)));
    p.pulse().callers(TestTokens.resolver(p.pulse()::revocations));
    return p;
  }

  private static int streams(TestPulse p, String token) {
    return p.request("GET", "/api/v1/streams", null, bearer(token)).statusCode();
  }

  @Test
  @DisplayName("a revocation is stored with its audit entry and is still in force after a restart")
  void survivesRestart() {
    PgFixture.Db db = PgFixture.freshDatabase();
    String gone = token("acme", "tok-stored", "read");
    try (TestPulse p = start(db)) {
      HttpResponse<String> r = p.request("POST", "/api/v1/tokens/tok-stored/revoke", "{\"reason\":\"left the team\"}",
          bearer(ADMIN));
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(401, streams(p, gone));
      assertEquals(200, streams(p, token("beta", "tok-stored", "read")), "acme's revocation is acme's only");
      JsonArray audit = new JsonObject(p.request("GET", "/api/v1/audit", null, bearer(ADMIN)).body())
          .getJsonArray("entries");
      JsonObject entry = audit.getJsonObject(0);
      assertEquals("token.revoke", entry.getString("action"), audit.encode());
      assertEquals("tok-stored", entry.getString("target"));
      assertEquals("user-adm (token adm)", entry.getString("actor"));
      assertEquals("left the team", entry.getJsonObject("detail").getString("reason"));
      assertEquals(1, db.queryLong("select count(*) from revoked_tokens where jti = 'tok-stored'"));
    }
    try (TestPulse p = start(db)) {
      HttpResponse<String> r = p.request("GET", "/api/v1/streams", null, bearer(gone));
      assertEquals(401, r.statusCode(), "still revoked after the restart: " + r.body());
      assertEquals(200, streams(p, token("acme", "tok-other", "read")));
      assertEquals(200, streams(p, token("beta", "tok-stored", "read")),
          "loaded per tenant: beta's token of the same id is not acme's revoked one");
      JsonArray listed = new JsonObject(p.request("GET", "/api/v1/tokens/revoked", null, bearer(ADMIN)).body())
          .getJsonArray("revoked");
      assertEquals(1, listed.size(), listed.encode());
      assertEquals("left the team", listed.getJsonObject(0).getString("reason"));
      assertTrue(new JsonObject(p.request("POST", "/api/v1/tokens/tok-stored/revoke", null, bearer(ADMIN)).body())
          .getBoolean("alreadyRevoked"));
      assertEquals(1, db.queryLong("select count(*) from audit where action = 'token.revoke'"),
          "revoking again writes no second audit entry");
    }
  }

  @Test
  @DisplayName("a revocation another process stores is followed: REST refused and its live connections closed")
  void followsOtherProcesses() {
    PgFixture.Db db = PgFixture.freshDatabase();
    try (TestPulse p = start(db);
        LiveClient c = LiveClient.websocket(p.port(), new WebSocketClientOptions(),
            Map.of("Authorization", "Bearer " + token("acme", "tok-elsewhere", "read")));
        LiveClient beta = LiveClient.websocket(p.port(), new WebSocketClientOptions(),
            Map.of("Authorization", "Bearer " + token("beta", "tok-elsewhere", "read")))) {
      beta.send(new JsonObject().put("op", "ping"));
      beta.await(m -> "pong".equals(m.type()), 5000);
      c.send(new JsonObject().put("op", "ping"));
      c.await(m -> "pong".equals(m.type()), 5000);
      // as another Pulse sharing the database would write it
      db.exec("insert into revoked_tokens (jti, tenant, revoked_at, revoked_by, reason) values "
          + "('tok-elsewhere', 'acme', now(), 'someone', 'elsewhere')");
      Await.until("the revocation followed from storage", () -> streams(p, token("acme", "tok-elsewhere", "read")),
          s -> s == 401, 10_000);
      Await.until("its WebSocket closed", c::isClosed, b -> b, 10_000);
      assertEquals((short) 4401, c.closeCode());
      // acme's revocation, followed from storage, leaves beta's token of the same id alone
      assertEquals(200, streams(p, token("beta", "tok-elsewhere", "read")));
      beta.send(new JsonObject().put("op", "ping").put("id", "after"));
      beta.await(m -> "pong".equals(m.type()), 5000);
      assertFalse(beta.isClosed(), "beta's connection stays open: " + beta.seen());
    }
  }
}
