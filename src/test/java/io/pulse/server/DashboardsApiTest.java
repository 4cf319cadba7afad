package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Dashboard documents checked on create and update, and playlists, over HTTP on a real server and database. */
class DashboardsApiTest {

  private static TestPulse p;

  @BeforeAll
  static void start() {
    p = TestPulse.startWithStorage(PgFixture.freshDatabase(), null);
  }

  @AfterAll
  static void stop() {
    p.close();
  }

  private static JsonObject json(HttpResponse<String> r) {
    return new JsonObject(r.body());
  }

  private static String dashboard(String id, String figure) {
    return "{\"id\":\"" + id + "\",\"title\":\"Payments\",\"theme\":{\"accent\":\"teal\"},\"panels\":["
        + "{\"id\":\"p1\",\"kind\":\"stat\",\"grid\":{\"x\":0,\"y\":0,\"w\":3,\"h\":2},"
        + "\"query\":{\"stream\":\"payments\",\"figure\":\"count\"}},"
        + "{\"id\":\"p2\",\"kind\":\"timeseries\",\"grid\":{\"x\":3,\"y\":0,\"w\":9,\"h\":4},"
        + "\"query\":{\"stream\":\"payments\",\"metric\":\"amount\",\"figure\":\"" + figure + "\"},"
        + "\"derive\":{\"op\":\"movingAverage\",\"n\":5}}]}";
  }

  @Test
  @DisplayName("dashboards: a document not in the contract's shape is 400 naming its path, on create and update; "
      + "unknown fields are kept")
  void dashboardsChecked() {
    HttpResponse<String> bad = p.request("POST", "/api/v1/dashboards", dashboard("pay", "median"));
    assertEquals(400, bad.statusCode(), bad.body());
    assertEquals("panels[1].query.figure: one of count, sum, min, max, mean, p50, p95, p99", json(bad).getString("error"));
    assertEquals(404, p.request("GET", "/api/v1/dashboards/pay", null).statusCode(), "nothing stored");

    HttpResponse<String> made = p.request("POST", "/api/v1/dashboards", dashboard("pay", "p99"));
    assertEquals(201, made.statusCode(), made.body());
    JsonObject stored = json(p.request("GET", "/api/v1/dashboards/pay", null));
    assertEquals("teal", stored.getJsonObject("theme").getString("accent"), "a field Pulse does not know is kept");
    assertEquals(2, stored.getJsonArray("panels").size());

    String unknownKind = dashboard("pay", "p99").replace("\"kind\":\"stat\"", "\"kind\":\"heatmap\"");
    HttpResponse<String> refused = p.request("PUT", "/api/v1/dashboards/pay", unknownKind, "If-Match", "\"1\"");
    assertEquals(400, refused.statusCode(), refused.body());
    assertTrue(json(refused).getString("error").startsWith("panels[0].kind: one of timeseries"), refused.body());
    String offGrid = dashboard("pay", "p99").replace("\"x\":3,", "\"x\":4,");
    HttpResponse<String> wide = p.request("PUT", "/api/v1/dashboards/pay", offGrid);
    assertEquals(400, wide.statusCode(), wide.body());
    assertTrue(json(wide).getString("error").startsWith("panels[1].grid: x + w must be at most 12"), wide.body());
    assertEquals(1, json(p.request("GET", "/api/v1/dashboards/pay", null)).getInteger("version"), "unchanged");
  }

  @Test
  @DisplayName("playlists: CRUD with versions, ETag/If-Match and audit; interval and dashboards checked, which must exist")
  void playlists() {
    assertEquals(201, p.request("POST", "/api/v1/dashboards", "{\"id\":\"wall-a\",\"title\":\"A\"}").statusCode());
    assertEquals(201, p.request("POST", "/api/v1/dashboards", "{\"id\":\"wall-b\",\"title\":\"B\"}").statusCode());

    HttpResponse<String> missing = p.request("POST", "/api/v1/playlists",
        "{\"id\":\"noc\",\"title\":\"NOC\",\"interval\":\"30s\",\"dashboards\":[\"wall-a\",\"nope\"]}");
    assertEquals(400, missing.statusCode(), missing.body());
    assertEquals("dashboards[1]: no dashboard nope", json(missing).getString("error"));
    for (String bad : List.of(
        "{\"title\":\"NOC\",\"interval\":\"5s\",\"dashboards\":[\"wall-a\"]}",
        "{\"title\":\"NOC\",\"interval\":\"2h\",\"dashboards\":[\"wall-a\"]}",
        "{\"title\":\"NOC\",\"interval\":\"30s\",\"dashboards\":[]}",
        "{\"title\":\"\",\"interval\":\"30s\",\"dashboards\":[\"wall-a\"]}",
        "{\"interval\":\"30s\",\"dashboards\":[\"wall-a\"]}",
        "{\"title\":\"NOC\",\"interval\":\"30s\",\"dashboards\":[\"a b\"]}")) {
      HttpResponse<String> r = p.request("POST", "/api/v1/playlists", bad);
      assertEquals(400, r.statusCode(), bad + " -> " + r.body());
    }

    HttpResponse<String> made = p.request("POST", "/api/v1/playlists",
        "{\"id\":\"noc\",\"title\":\"NOC\",\"interval\":\"30s\",\"dashboards\":[\"wall-a\",\"wall-b\"]}");
    assertEquals(201, made.statusCode(), made.body());
    assertEquals("/api/v1/playlists/noc", made.headers().firstValue("Location").orElse(""));
    assertEquals("\"1\"", made.headers().firstValue("ETag").orElse(""));
    assertEquals(409, p.request("POST", "/api/v1/playlists",
        "{\"id\":\"noc\",\"title\":\"NOC\",\"interval\":\"30s\",\"dashboards\":[\"wall-a\"]}").statusCode());

    String change = "{\"title\":\"NOC night\",\"interval\":\"1m\",\"dashboards\":[\"wall-b\"]}";
    assertEquals(200, p.request("PUT", "/api/v1/playlists/noc", change, "If-Match", "\"1\"").statusCode());
    HttpResponse<String> stale = p.request("PUT", "/api/v1/playlists/noc", change, "If-Match", "\"1\"");
    assertEquals(409, stale.statusCode(), stale.body());
    JsonObject read = json(p.request("GET", "/api/v1/playlists/noc", null));
    assertEquals("NOC night", read.getString("title"));
    assertEquals(new JsonArray().add("wall-b"), read.getJsonArray("dashboards"));
    JsonArray all = json(p.request("GET", "/api/v1/playlists", null)).getJsonArray("playlists");
    assertEquals(1, all.size(), all.encode());
    assertEquals(2, json(p.request("GET", "/api/v1/playlists/noc/versions", null)).getJsonArray("versions").size());
    assertEquals(1, json(p.request("GET", "/api/v1/dashboards", null)).getJsonArray("dashboards").stream()
        .filter(d -> "wall-a".equals(((JsonObject) d).getString("id"))).count(), "playlists and dashboards kept apart");

    assertEquals(200, p.request("DELETE", "/api/v1/playlists/noc", null).statusCode());
    assertEquals(404, p.request("GET", "/api/v1/playlists/noc", null).statusCode());
    assertEquals(404, p.request("DELETE", "/api/v1/playlists/noc", null).statusCode());
    JsonArray audit = json(p.request("GET", "/api/v1/audit?action=playlist.", null)).getJsonArray("entries");
    assertEquals(List.of("playlist.delete", "playlist.update", "playlist.create"),
        audit.stream().map(e -> ((JsonObject) e).getString("action")).toList());
  }
}
