package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.Caller;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every route takes the tenant and the audit's actor from the request's caller, resolved once by
 * the resolver installed in-process (here a test header stands in for a token).
 */
class CallerResolutionTest {

  private static JsonObject json(HttpResponse<String> r) {
    return new JsonObject(r.body());
  }

  @Test
  @DisplayName("definitions and the audit log are per tenant, the actor is the caller's subject")
  void tenantAndActorFromCaller() {
    AtomicInteger resolved = new AtomicInteger();
    try (TestPulse p = TestPulse.startWithStorage(PgFixture.freshDatabase(), null)) {
      p.pulse().callers((header, param) -> {
        resolved.incrementAndGet();
        String t = header.apply("X-Test-Tenant");
        return t == null ? Caller.ANONYMOUS : new Caller(t, "user-" + t);
      });
      HttpResponse<String> created = p.request("POST", "/api/v1/rules",
          "{\"id\":\"r1\",\"name\":\"acme's rule\",\"stream\":\"s\",\"kind\":\"outliers\"}",
          "X-Test-Tenant", "acme");
      assertEquals(201, created.statusCode(), created.body());
      assertEquals(1, resolved.get(), "resolved once for a request");

      assertEquals(1, json(p.request("GET", "/api/v1/rules", null, "X-Test-Tenant", "acme"))
          .getJsonArray("rules").size());
      assertEquals(0, json(p.request("GET", "/api/v1/rules", null)).getJsonArray("rules").size(),
          "the default tenant does not see acme's rule");
      assertEquals(404, p.request("GET", "/api/v1/rules/r1", null, "X-Test-Tenant", "other").statusCode());

      JsonArray audit = json(p.request("GET", "/api/v1/audit", null, "X-Test-Tenant", "acme"))
          .getJsonArray("entries");
      assertEquals(1, audit.size(), audit.encode());
      assertEquals("user-acme", audit.getJsonObject(0).getString("actor"));
      assertEquals(0, json(p.request("GET", "/api/v1/audit", null)).getJsonArray("entries").size(),
          "the audit log is per tenant too");
    }
  }

  @Test
  @DisplayName("a resolver that refuses the request answers 401 JSON on every non-public route; health stays open")
  void refusedCallerIs401() {
    try (TestPulse p = TestPulse.start(null)) {
      p.pulse().callers((header, param) -> {
        if (header.apply("Authorization") == null && param.apply("access_token") == null) {
          throw new IllegalArgumentException("no token");
        }
        return Caller.ANONYMOUS;
      });
      for (String[] call : new String[][] {{"GET", "/api/v1/streams"}, {"GET", "/api/v1/quarantine"},
          {"POST", "/api/v1/events"}, {"DELETE", "/api/v1/streams/x"}, {"GET", "/api/v1/live/sse?stream=x"}}) {
        HttpResponse<String> r = p.request(call[0], call[1], call[0].equals("POST") ? "{\"values\":{\"v\":1}}" : null);
        assertEquals(401, r.statusCode(), call[1] + ": " + r.body());
        assertEquals("no token", json(r).getString("error"), call[1]);
      }
      assertEquals(200, p.request("GET", "/api/v1/streams", null, "Authorization", "Bearer x").statusCode());
      // the query's token is read on the live endpoints only (browsers' EventSource and WebSocket;
      // JwtTenantIsolationTest subscribes with it)
      assertEquals(401, p.request("GET", "/api/v1/streams?access_token=x", null).statusCode());
      assertEquals(200, p.get("/health/live").status(), "public routes resolve no caller");
      assertEquals(200, p.get("/metrics").status());
      HttpResponse<String> unknown = p.request("GET", "/api/v1/nothing", null);
      assertEquals(404, unknown.statusCode(), unknown.body());
      assertTrue(json(unknown).getString("error").contains("no such endpoint"));
    }
  }
}
