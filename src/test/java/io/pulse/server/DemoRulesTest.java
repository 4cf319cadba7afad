package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pulse.demo.DemoReport;
import io.pulse.testing.Await;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The demo's ready rules: created on the first start, stored and audited, never twice. */
class DemoRulesTest {

  private static JsonArray rules(TestPulse p) {
    return p.get("/api/v1/rules").json().getJsonArray("rules");
  }

  @Test
  @DisplayName("the first demo start stores the ready rules; the next start, after one was deleted by hand, adds only that one back")
  void readyRulesOnce() {
    PgFixture.Db db = PgFixture.freshDatabase();
    JsonObject demo = new JsonObject().put("demo", true);
    int ready = DemoReport.readyRules().size();
    String deleted;
    try (TestPulse p = TestPulse.startWithStorage(db, demo)) {
      JsonArray stored = Await.until("the ready rules stored", () -> rules(p), r -> r.size() == ready, 20_000);
      deleted = stored.getJsonObject(0).getString("id");
      assertEquals(200, p.request("DELETE", "/api/v1/rules/" + deleted, null).statusCode());
    }
    try (TestPulse p = TestPulse.startWithStorage(db, demo)) {
      JsonArray stored = Await.until("the missing ready rule made again", () -> rules(p), r -> r.size() == ready,
          20_000);
      assertEquals(ready, stored.size());
      assertEquals(ready + 1, db.queryLong("select count(distinct id) from definitions where kind = 'rule'"),
          "one new rule; the others were left as they were");
    }
  }
}
