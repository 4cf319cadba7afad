package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Rules, dashboards, quarantine and audit over HTTP, on a real server and database. */
class DefinitionsApiTest {

  private static JsonObject json(HttpResponse<String> r) {
    return new JsonObject(r.body());
  }

  /** Polls a GET until its JSON answer passes, for what background writers store (up to 10 s). */
  private static JsonObject eventually(TestPulse p, String path, Predicate<JsonObject> ok) throws Exception {
    return p.awaitJson(path, ok);
  }

  @Test
  @DisplayName("rules: create, read, stale write refused (409), update, history, delete, all audited")
  void ruleLifecycle() {
    try (TestPulse p = TestPulse.startWithStorage(PgFixture.freshDatabase(), null)) {
      // a rule the alert engine can evaluate (refused with 400 otherwise), plus a field of the client's own
      String fields = "\"stream\":\"payments\",\"kind\":\"threshold\",\"metric\":\"ms\",\"figure\":\"p99\","
          + "\"op\":\">\",\"value\":800,";
      String rule = "{\"id\":\"slow-pay\",\"name\":\"slow payments\"," + fields + "\"when\":\"p99 > 800\"}";
      HttpResponse<String> created = p.request("POST", "/api/v1/rules", rule);
      assertEquals(201, created.statusCode(), created.body());
      assertEquals("/api/v1/rules/slow-pay", created.headers().firstValue("Location").orElse(""));
      assertEquals("\"1\"", created.headers().firstValue("ETag").orElse(""));
      assertEquals(409, p.request("POST", "/api/v1/rules", rule).statusCode(), "the id exists");

      HttpResponse<String> read = p.request("GET", "/api/v1/rules/slow-pay", null);
      assertEquals("p99 > 800", json(read).getString("when"));
      assertEquals(1, json(read).getInteger("version"));

      String change = "{\"name\":\"slow payments\"," + fields + "\"when\":\"p99 > 900\"}";
      assertEquals(200, p.request("PUT", "/api/v1/rules/slow-pay", change, "If-Match", "\"1\"").statusCode());
      HttpResponse<String> stale = p.request("PUT", "/api/v1/rules/slow-pay", change, "If-Match", "\"1\"");
      assertEquals(409, stale.statusCode());
      assertTrue(json(stale).getString("error").contains("version 2"), stale.body());
      assertEquals(400, p.request("PUT", "/api/v1/rules/slow-pay", change, "If-Match", "yesterday").statusCode());

      JsonArray rules = json(p.request("GET", "/api/v1/rules", null)).getJsonArray("rules");
      assertEquals(1, rules.size());
      assertEquals("p99 > 900", rules.getJsonObject(0).getString("when"));
      JsonArray versions = json(p.request("GET", "/api/v1/rules/slow-pay/versions", null)).getJsonArray("versions");
      assertEquals(2, versions.size());

      assertEquals(200, p.request("DELETE", "/api/v1/rules/slow-pay", null).statusCode());
      assertEquals(404, p.request("GET", "/api/v1/rules/slow-pay", null).statusCode());
      assertEquals(404, p.request("DELETE", "/api/v1/rules/slow-pay", null).statusCode());

      JsonArray audit = json(p.request("GET", "/api/v1/audit?action=rule.", null)).getJsonArray("entries");
      assertEquals(List.of("rule.delete", "rule.update", "rule.create"),
          audit.stream().map(e -> ((JsonObject) e).getString("action")).toList());
      assertEquals("anonymous", audit.getJsonObject(0).getString("actor"));
    }
  }

  @Test
  @DisplayName("dashboards: bad bodies get a 400 with a reason, never a 500; unknown ids are 404")
  void badInput() {
    try (TestPulse p = TestPulse.startWithStorage(PgFixture.freshDatabase(), null)) {
      HttpResponse<String> notJson = p.request("POST", "/api/v1/dashboards", "{not json");
      assertEquals(400, notJson.statusCode());
      assertEquals("the body is not valid JSON (line 1, column 2)", json(notJson).getString("error"));
      HttpResponse<String> array = p.request("POST", "/api/v1/dashboards", "[1,2]");
      assertEquals(400, array.statusCode());
      assertEquals("the body must be a JSON object, not an array or a value", json(array).getString("error"));
      HttpResponse<String> noName = p.request("POST", "/api/v1/dashboards", "{\"tiles\":[]}");
      assertEquals(400, noName.statusCode());
      assertTrue(json(noName).getString("error").startsWith("title:"), noName.body());
      assertEquals(400, p.request("POST", "/api/v1/dashboards", "{\"name\":\"x\",\"id\":\"a b\"}").statusCode());
      assertEquals(404, p.request("PUT", "/api/v1/dashboards/nope", "{\"name\":\"x\"}").statusCode());
      assertEquals(404, p.request("GET", "/api/v1/dashboards/nope/versions", null).statusCode());
      HttpResponse<String> made = p.request("POST", "/api/v1/dashboards", "{\"name\":\"NOC wall\"}");
      assertEquals(201, made.statusCode());
      assertTrue(json(made).getString("id").startsWith("d-"));
      assertEquals(400, p.request("GET", "/api/v1/audit?limit=0", null).statusCode());
    }
  }

  @Test
  @DisplayName("quarantine and definitions survive a restart; quarantine stored with counts, requeued once a limit is raised, purged")
  void quarantine() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    JsonObject oneStream = new JsonObject().put("aggregation", new JsonObject().put("maxStreams", 1));
    try (TestPulse p = TestPulse.startWithStorage(db, oneStream)) {
      assertEquals(202, p.postNdjson("first", "{\"values\":{\"v\":1}}"));
      assertEquals(201, p.request("POST", "/api/v1/dashboards", "{\"id\":\"noc\",\"name\":\"NOC\"}").statusCode());
      // the same bad event twice, and an event of a second stream, refused by the one-stream limit
      p.post("/api/v1/events", "application/x-ndjson", "{\"stream\":\"first\",\"values\":{\"v\":\"x\"}}\n"
          + "{\"stream\":\"first\",\"values\":{\"v\":\"x\"}}\n"
          + "{\"stream\":\"second\",\"ts\":" + System.currentTimeMillis() + ",\"values\":{\"v\":2}}");
      JsonObject q = p.get("/api/v1/quarantine").json(); // at once: a read stores what was rejected a moment ago
      assertEquals(3, q.getLong("events"), q.encode());
      assertTrue(q.getBoolean("stored"));
      assertEquals(2, q.getLong("total"), "the repeated event is one row with count 2");
      HttpResponse<String> refused = p.request("POST", "/api/v1/quarantine/requeue?stream=second", null);
      assertEquals(0, json(refused).getInteger("requeued"), "the limit still holds");
      assertEquals(1, json(refused).getInteger("stillRejected"));
    }
    // the operator raises the limit and restarts on the same database: the quarantine is still there
    try (TestPulse p = TestPulse.startWithStorage(db, null)) {
      assertEquals("NOC", json(p.request("GET", "/api/v1/dashboards/noc", null)).getString("name"),
          "definitions survive the restart");
      JsonObject q = eventually(p, "/api/v1/quarantine?stream=second", j -> j.getLong("total", 0L) == 1);
      long id = q.getJsonArray("items").getJsonObject(0).getLong("id");
      // two requeues of the same item at once (two operators, a retried click): it is ingested exactly once
      java.util.concurrent.CompletableFuture<HttpResponse<String>> a = java.util.concurrent.CompletableFuture
          .supplyAsync(() -> p.request("POST", "/api/v1/quarantine/" + id + "/requeue", null));
      HttpResponse<String> b = p.request("POST", "/api/v1/quarantine/" + id + "/requeue", null);
      List<Integer> statuses = new java.util.ArrayList<>(List.of(a.join().statusCode(), b.statusCode()));
      java.util.Collections.sort(statuses);
      assertEquals(List.of(200, 404), statuses, a.join().body() + " / " + b.body());
      assertEquals(0, p.get("/api/v1/quarantine?stream=second").json().getLong("total"));
      assertTrue(p.get("/metrics").body().contains("pulse_events_accepted_total{stream=\"second\",tenant=\"default\"} 1.0"),
          "the requeued event is counted once");
      eventually(p, "/api/v1/streams", j -> j.getJsonArray("streams").stream()
          .anyMatch(s -> "second".equals(((JsonObject) s).getString("stream"))));

      JsonObject first = p.get("/api/v1/quarantine?stream=first").json();
      long badId = first.getJsonArray("items").getJsonObject(0).getLong("id");
      HttpResponse<String> still = p.request("POST", "/api/v1/quarantine/" + badId + "/requeue", null);
      assertEquals(422, still.statusCode());
      assertTrue(json(still).getString("error").contains("values.v: must be a number"), still.body());

      assertEquals(400, p.request("DELETE", "/api/v1/quarantine", null).statusCode(), "purging all needs all=true");
      assertEquals(1L, json(p.request("DELETE", "/api/v1/quarantine?stream=first", null)).getLong("deleted"));
      assertEquals(404, p.request("DELETE", "/api/v1/quarantine/" + badId, null).statusCode());
      JsonArray audit = json(p.request("GET", "/api/v1/audit?action=quarantine.", null)).getJsonArray("entries");
      // newest first: the purge, the requeue that was accepted, and the first one, which took the item out
      // and put it through ingest, where the stream limit quarantined it anew
      assertEquals(List.of("quarantine.purge", "quarantine.requeue", "quarantine.requeue"),
          audit.stream().map(e -> ((JsonObject) e).getString("action")).toList());
    }
  }

  @Test
  @DisplayName("with storage off, definitions answer 503 naming the setting, and the quarantine reads from memory")
  void storageOff() {
    try (TestPulse p = TestPulse.start(null)) {
      HttpResponse<String> r = p.request("GET", "/api/v1/rules", null);
      assertEquals(503, r.statusCode());
      assertTrue(json(r).getString("error").contains("storage.enabled"), r.body());
      p.post("/api/v1/events", "application/json", "{\"stream\":\"s\",\"values\":{}}");
      JsonObject q = p.get("/api/v1/quarantine").json();
      assertEquals(false, q.getBoolean("stored"));
      assertEquals(1, q.getJsonArray("items").size());
    }
  }
}
