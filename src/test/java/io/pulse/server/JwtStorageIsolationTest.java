package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * With authentication and storage on, the token's tenant decides which stored history and rules a
 * request sees: another tenant's stream and rule answer 404, as if they did not exist, and a read
 * scope narrowed to a pattern hides the other streams' history the same way.
 */
class JwtStorageIsolationTest {

  @Test
  @DisplayName("history and rules: another tenant's (or an unreadable pattern's) answer 404 and are not listed; the owner's 200")
  void storedPerTenant() {
    try (TestPulse p = TestPulse.startWithStorage(PgFixture.freshDatabase(),
        new JsonObject().put("auth", new JsonObject().put("enabled", true)))) {
      String acme = p.token("acme", "ingest", "read", "alerts");
      String globex = p.token("globex", "ingest", "read", "alerts");
      String narrow = p.token("acme", "read:chk*");
      HttpResponse<String> sent = p.request("POST", "/api/v1/events",
          "[{\"stream\":\"hist\",\"values\":{\"v\":1}},{\"stream\":\"chk-1\",\"values\":{\"v\":1}}]",
          TestPulse.bearer(acme));
      assertEquals(202, sent.statusCode(), sent.body());
      String series = "/api/v1/streams/hist/series?from=0&to=" + (System.currentTimeMillis() + 60_000);
      Await.until("acme's history of hist", () -> p.request("GET", series, null, TestPulse.bearer(acme)).statusCode(),
          s -> s == 200, 10_000);
      HttpResponse<String> other = p.request("GET", series, null, TestPulse.bearer(globex));
      assertEquals(404, other.statusCode(), other.body());
      HttpResponse<String> hidden = p.request("GET", series, null, TestPulse.bearer(narrow));
      assertEquals(404, hidden.statusCode(), hidden.body());
      assertEquals(new JsonObject(other.body()).getString("error").startsWith("no stream named"), true);

      HttpResponse<String> rule = p.request("POST", "/api/v1/rules",
          "{\"id\":\"r1\",\"name\":\"acme's rule\",\"stream\":\"hist\",\"kind\":\"outliers\"}", TestPulse.bearer(acme));
      assertEquals(201, rule.statusCode(), rule.body());
      assertEquals(200, p.request("GET", "/api/v1/rules/r1", null, TestPulse.bearer(acme)).statusCode());
      assertEquals(404, p.request("GET", "/api/v1/rules/r1", null, TestPulse.bearer(globex)).statusCode());
      JsonObject rules = new JsonObject(p.request("GET", "/api/v1/rules", null, TestPulse.bearer(globex)).body());
      assertEquals(0, rules.getJsonArray("rules").size(), rules.encode());
      // a token whose read scope does not cover the rule's stream sees neither it nor its listing entry
      assertEquals(404, p.request("GET", "/api/v1/rules/r1", null, TestPulse.bearer(narrow)).statusCode());
      JsonObject narrowRules = new JsonObject(p.request("GET", "/api/v1/rules", null, TestPulse.bearer(narrow)).body());
      assertEquals(0, narrowRules.getJsonArray("rules").size(), narrowRules.encode());
      assertEquals(1, new JsonObject(p.request("GET", "/api/v1/rules", null, TestPulse.bearer(acme)).body())
          .getJsonArray("rules").size(), "the owner with read on every stream lists it");
      JsonObject audit = new JsonObject(p.request("GET", "/api/v1/audit", null,
          TestPulse.bearer(p.token("acme", "admin"))).body());
      String actor = audit.getJsonArray("entries").getJsonObject(0).getString("actor");
      assertTrue(actor.startsWith("test-acme (token "), "the audit's actor is the subject and token id: " + actor);
    }
  }
}
