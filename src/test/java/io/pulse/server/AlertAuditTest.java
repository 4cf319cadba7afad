package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pulse.core.Caller;
import io.pulse.core.Grants;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Silences and acknowledgements change what people are told: each is in the audit log with its actor. */
class AlertAuditTest {

  @Test
  @DisplayName("creating and expiring a silence are audited with the token's subject and id; a refused ack is not")
  void silencesAreAudited() {
    PgFixture.Db db = PgFixture.freshDatabase();
    try (TestPulse p = TestPulse.startWithStorage(db, new JsonObject())) {
      p.pulse().callers((header, param) -> new Caller("default", "ops-alice", "t-17", Grants.ALL, null, Long.MAX_VALUE));
      HttpResponse<String> made = p.request("POST", "/api/v1/silences", "{\"matchers\":[{\"name\":\"stream\","
          + "\"value\":\"checkout\"}],\"duration\":\"2h\",\"comment\":\"deploy\"}", "Content-Type", "application/json");
      assertEquals(201, made.statusCode(), made.body());
      String id = new JsonObject(made.body()).getString("id");
      assertEquals(200, p.request("DELETE", "/api/v1/silences/" + id, null).statusCode());
      assertEquals(404, p.request("POST", "/api/v1/alerts/nosuch/ack", "{}", "Content-Type", "application/json")
          .statusCode());

      JsonArray entries = p.get("/api/v1/audit").json().getJsonArray("entries");
      assertEquals(2, entries.size(), entries.encode());
      JsonObject expired = entries.getJsonObject(0);
      JsonObject created = entries.getJsonObject(1);
      assertEquals("silence.create", created.getString("action"), entries.encode());
      assertEquals("silence " + id, created.getString("target"));
      assertEquals("ops-alice (token t-17)", created.getString("actor"));
      assertEquals("silence.expire", expired.getString("action"), entries.encode());
      assertEquals("silence " + id, expired.getString("target"));
    }
  }
}
