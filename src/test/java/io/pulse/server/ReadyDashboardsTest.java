package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.dash.ReadyDashboards;
import io.pulse.testing.Await;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The ready dashboards of the six cases: created with the demo on its first start, listed first, never twice. */
class ReadyDashboardsTest {

  private static JsonArray dashboards(TestPulse p) {
    return p.get("/api/v1/dashboards").json().getJsonArray("dashboards");
  }

  private static List<String> ids(JsonArray a) {
    return a.stream().map(o -> ((JsonObject) o).getString("id")).toList();
  }

  private static long ready(JsonArray a) {
    return ids(a).stream().filter(ReadyDashboards::isReady).count();
  }

  @Test
  @DisplayName("the first demo start stores the six ready dashboards, listed before the others; the next start "
      + "adds back only the one deleted by hand and leaves a changed one as it is")
  void readyDashboardsOnce() {
    PgFixture.Db db = PgFixture.freshDatabase();
    JsonObject demo = new JsonObject().put("demo", true);
    try (TestPulse p = TestPulse.startWithStorage(db, demo)) {
      Await.until("the ready dashboards stored", () -> dashboards(p), d -> ready(d) == 6, 20_000);
      assertEquals(201, p.request("POST", "/api/v1/dashboards", "{\"id\":\"a-first\",\"title\":\"mine\"}").statusCode());
      List<String> listed = ids(dashboards(p));
      assertEquals(List.of("ready-pipeline", "ready-payments", "ready-vitals", "ready-checkout", "ready-latency",
          "ready-sales", "a-first"), listed, "ready ones first, in the cases' order, though a-first sorts before them");
      JsonObject payments = p.get("/api/v1/dashboards/ready-payments").json();
      assertEquals("payments", payments.getString("ready"));
      assertEquals("pulse-demo", payments.getString("updatedBy"));
      assertTrue(payments.getJsonArray("panels").size() >= 5, payments.encode());
      assertEquals(200, p.request("DELETE", "/api/v1/dashboards/ready-vitals", null).statusCode());
      JsonObject changed = ReadyDashboards.one("sales").put("title", "Sales (ours)");
      assertEquals(200, p.request("PUT", "/api/v1/dashboards/ready-sales", changed.encode()).statusCode());
    }
    try (TestPulse p = TestPulse.startWithStorage(db, demo)) {
      JsonArray stored = Await.until("the deleted ready dashboard made again", () -> dashboards(p),
          d -> ready(d) == 6, 20_000);
      assertEquals(7, stored.size(), ids(stored).toString());
      assertEquals(3, p.get("/api/v1/dashboards/ready-vitals").json().getInteger("version"),
          "created again after its deletion (version 2): its history goes on");
      assertEquals("Sales (ours)", p.get("/api/v1/dashboards/ready-sales").json().getString("title"),
          "a changed ready dashboard is left as it is");
      assertEquals(2, p.get("/api/v1/dashboards/ready-sales").json().getInteger("version"));
      assertEquals(1, p.get("/api/v1/dashboards/ready-payments").json().getInteger("version"), "never stored twice");
      assertEquals(7, db.queryLong("select count(*) from definitions where kind = 'dashboard'"));
      assertEquals(6 + 1 + 1 + 1 + 1, db.queryLong("select count(*) from definition_versions where kind = 'dashboard'"),
          "six created, a-first, the deletion, the change and the one made again");
    }
  }
}
