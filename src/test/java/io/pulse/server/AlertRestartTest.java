package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Alerts across a restart on the same database: an acknowledged alert is taken up again with its
 * id and acknowledgement; an active alert whose rule is gone is closed with a "restart" transition;
 * silences are loaded again.
 */
class AlertRestartTest {

  private static final JsonObject CONF = new JsonObject()
      .put("aggregation", new JsonObject().put("window", "1s").put("allowedLatenessMs", 100));

  @Test
  @DisplayName("restart: the acknowledged alert is listed again, acknowledged by the same subject; an orphan is closed; "
      + "the silence is still there")
  void restart() {
    PgFixture.Db db = PgFixture.freshDatabase();
    String id;
    String silence;
    try (TestPulse p = TestPulse.startWithStorage(db, CONF)) {
      assertEquals(201, p.post("/api/v1/rules", "application/json", "{\"id\":\"slow\",\"name\":\"slow\","
          + "\"stream\":\"rs\",\"kind\":\"threshold\",\"metric\":\"ms\",\"figure\":\"max\",\"op\":\">\",\"value\":5}")
          .status());
      JsonObject firing = Await.until("the alert firing", () -> {
        p.postNdjson("rs", "{\"values\":{\"ms\":50}}");
        return p.get("/api/v1/alerts?state=firing").json();
      }, j -> j.getJsonArray("alerts").size() == 1, 15_000, 300);
      id = firing.getJsonArray("alerts").getJsonObject(0).getString("id");
      assertEquals(200, p.post("/api/v1/alerts/" + id + "/ack", "application/json", "{\"comment\":\"mine\"}").status());
      silence = p.post("/api/v1/silences", "application/json", "{\"matchers\":[{\"name\":\"team\",\"value\":\"x\"}],"
          + "\"duration\":\"1h\"}").json().getString("id");
      Await.until("the acknowledgement stored", () -> db.queryLong("select count(*) from alerts where id = '" + id
          + "' and state = 'acknowledged'"), n -> n == 1, 10_000);
      // an active alert of a rule that no longer exists, as a crashed run could leave it
      db.exec("insert into alerts (tenant, id, rule_id, rule_name, stream, series, severity, state, labels, "
          + "started_at, updated_at) values ('default', 'orphan', 'gone', 'gone', 'rs', '{}', 'info', 'firing', '{}', "
          + "now(), now())");
    }
    try (TestPulse p = TestPulse.startWithStorage(db, CONF)) {
      JsonObject a = p.get("/api/v1/alerts/" + id).json();
      assertEquals("acknowledged", a.getString("state"), a.encode());
      assertEquals("anonymous", a.getJsonObject("ack").getString("by"));
      assertEquals("mine", a.getJsonObject("ack").getString("comment"));
      assertEquals(1, db.queryLong("select count(*) from alerts where id = 'orphan' and state = 'resolved'"));
      assertEquals(1, db.queryLong("select count(*) from alert_transitions where alert_id = 'orphan' "
          + "and reason = 'restart' and previous = 'firing'"));
      JsonObject orphan = p.get("/api/v1/alerts/orphan").json();
      assertEquals("resolved", orphan.getString("state"), "read from storage: " + orphan.encode());
      assertTrue(p.get("/api/v1/silences").json().getJsonArray("silences").stream()
          .anyMatch(s -> silence.equals(((JsonObject) s).getString("id"))));
      assertEquals(200, p.post("/api/v1/alerts/" + id + "/unack", "application/json", "").status(),
          "the engine owns it again");
    }
  }
}
