package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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

/**
 * What a caller sends that PostgreSQL cannot hold (NUL, unpaired surrogates, numbers past a
 * bigint, huge values) never reaches the database as it is: definitions, quarantine and audit
 * routes answer 400 or 404 with the reason, never a 503 blaming the database, and the quarantine
 * stores rejected events whatever their bytes, without blocking the others.
 */
class HostileStorageInputTest {

  private static final String LONG = "x".repeat(1000);
  private static final int ANY_BUT_5XX = -1;

  /** method, path, body (null for none), the status expected. */
  private record Call(String method, String path, String body, int status) {
  }

  @Test
  @DisplayName("NUL, unpaired surrogates, huge ids and numbers past a bigint on every definitions, quarantine and "
      + "audit route: 400 or 404 JSON with the reason; a 1 MiB rule is 413 naming 256 KiB; the database still works")
  void hostileParameters() {
    try (TestPulse p = TestPulse.startWithStorage(PgFixture.freshDatabase(), null)) {
      assertEquals(201, p.request("POST", "/api/v1/rules", "{\"id\":\"r1\",\"name\":\"ok\",\"stream\":\"s\",\"kind\":\"outliers\"}").statusCode());
      List<Call> calls = new java.util.ArrayList<>();
      for (String kind : List.of("rules", "dashboards", "playlists")) {
        String base = "/api/v1/" + kind;
        for (String id : List.of("a%00b", "%00", "%ED%A0%80", LONG, "r1%00")) {
          calls.add(new Call("GET", base + "/" + id, null, 404));
          calls.add(new Call("PUT", base + "/" + id, "{\"name\":\"n\"}", 404));
          calls.add(new Call("DELETE", base + "/" + id, null, 404));
          calls.add(new Call("GET", base + "/" + id + "/versions", null, 404));
        }
        calls.add(new Call("POST", base, "{\"name\":\"a\\u0000b\"}", 400));
        calls.add(new Call("POST", base, "{\"name\":\"n\",\"when\":{\"x\\u0000\":1}}", 400));
        calls.add(new Call("POST", base, "{\"name\":\"n\",\"tags\":[\"ok\",\"\\ud800\"]}", 400));
        calls.add(new Call("POST", base, "{\"id\":\"a\\u0000\",\"name\":\"n\"}", 400));
        calls.add(new Call("POST", base, "{\"name\":\"n\",\"big\":1e999}", 400));
        calls.add(new Call("PUT", base + "/r1", "{\"name\":\"n\",\"when\":\"\\u0000\"}", kind.equals("rules") ? 400
            : 400));
      }
      calls.add(new Call("PUT", "/api/v1/rules/r1", "{\"name\":\"n\",\"version\":99999999999}", 400));
      for (String q : List.of("stream=%00", "stream=" + LONG, "before=99999999999999999999",
          "before=%00", "limit=%00", "limit=99999999999")) {
        calls.add(new Call("GET", "/api/v1/quarantine?" + q, null, 400));
      }
      for (String q : List.of("action=%00", "action=" + LONG, "before=99999999999999999999", "limit=-1")) {
        calls.add(new Call("GET", "/api/v1/audit?" + q, null, 400));
      }
      for (String q : List.of("stream=%00", "before=99999999999999999", "before=-5", "before=%00")) {
        calls.add(new Call("DELETE", "/api/v1/quarantine?" + q, null, 400));
      }
      calls.add(new Call("POST", "/api/v1/quarantine/requeue?stream=%00", null, 400));
      assertEquals(202, p.postNdjson("seen", "{\"dims\":{\"r\":\"eu\"},\"values\":{\"a\":1}}"));
      for (String q : List.of("filter=r:%00", "filter=%00:x", "groupBy=%00", "metric=%00", "filter=r:%ED%A0%80x%00")) {
        calls.add(new Call("GET", "/api/v1/streams/seen/series?" + q, null, ANY_BUT_5XX)); // History.parse decides
      }
      // a NUL inside a filter value reaches the query unless the parser refuses it: either way a 400
      calls.add(new Call("GET", "/api/v1/streams/seen/series?filter=r:a%00b", null, 400));
      for (String id : List.of("%00", "99999999999999999999", "-1", LONG)) {
        calls.add(new Call("POST", "/api/v1/quarantine/" + id + "/requeue", null, 404));
        calls.add(new Call("DELETE", "/api/v1/quarantine/" + id, null, 404));
      }
      for (Call c : calls) {
        HttpResponse<String> r = p.request(c.method(), c.path(), c.body());
        String what = c.method() + " " + c.path().substring(0, Math.min(80, c.path().length())) + " " + c.body();
        if (c.status() == ANY_BUT_5XX) {
          assertTrue(r.statusCode() < 500, what + " -> " + r.statusCode() + " " + r.body());
          continue;
        }
        assertEquals(c.status(), r.statusCode(), what + " -> " + r.body());
        String error = new JsonObject(r.body()).getString("error");
        assertNotNull(error, what);
        assertTrue(!error.contains("does not answer") && !error.contains("did not answer"), what + " -> " + error);
      }

      String huge = "{\"name\":\"big\",\"pad\":\"" + "x".repeat(1 << 20) + "\"}";
      HttpResponse<String> tooBig = p.request("POST", "/api/v1/rules", huge);
      assertEquals(413, tooBig.statusCode(), tooBig.body());
      assertTrue(new JsonObject(tooBig.body()).getString("error").contains("256 KiB"), tooBig.body());
      HttpResponse<String> tooBigPut = p.request("PUT", "/api/v1/dashboards/d1", huge);
      assertEquals(413, tooBigPut.statusCode(), tooBigPut.body());
      assertTrue(new JsonObject(tooBigPut.body()).getString("error").contains("256 KiB"), tooBigPut.body());

      // nothing above reached or hurt the database
      assertEquals(201, p.request("POST", "/api/v1/rules", "{\"id\":\"r2\",\"name\":\"ok\",\"stream\":\"s\",\"kind\":\"outliers\"}").statusCode());
      assertEquals(2, new JsonObject(p.request("GET", "/api/v1/rules", null).body()).getJsonArray("rules").size());
      assertEquals(200, p.get("/api/v1/audit?action=rule.").status());
    }
  }

  @Test
  @DisplayName("rejected events with NUL or invalid UTF-8 in stream, reason or payload are stored (escaped) beside "
      + "the others, listed, requeued coherently, and nothing poisonous is left for the next start")
  void quarantineStoresAnyBytes() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    try (TestPulse p = TestPulse.startWithStorage(db, null)) {
      // one body, two rejections: a plain one, and a line with a raw NUL character
      String body = "{\"values\":{\"a\":\"x\"}}\n{\"values\":{\"a\":1},\"s\":\"\u0000\"}\n";
      TestPulse.Response r = p.post("/api/v1/streams/fine/events", "application/x-ndjson", body);
      assertEquals(2, r.json().getInteger("rejected"), r.body());
      // and a stream named with a NUL (JSON-escaped), in its own request
      r = p.post("/api/v1/events", "application/json", "{\"stream\":\"q\\u0000\",\"values\":{\"a\":1}}");
      assertEquals(1, r.json().getInteger("rejected"), r.body());
      JsonObject page = eventually(p, "/api/v1/quarantine", j -> j.getJsonArray("items").size() == 3);
      List<JsonObject> items = page.getJsonArray("items").stream().map(JsonObject.class::cast).toList();
      assertTrue(items.stream().anyMatch(i -> "fine".equals(i.getString("stream")) && !i.containsKey("escaped")
          && i.getString("payload").equals("{\"values\":{\"a\":\"x\"}}")), page.encode());
      // ingest keeps NUL out of what it quarantines (a raw NUL becomes U+FFFD; a stream name that cannot be
      // stored is not carried), so these are stored as they are; QuarantineStoreTest covers the escaping of
      // text from other sources
      assertTrue(items.stream().anyMatch(i -> "fine".equals(i.getString("stream"))
          && i.getString("payload").contains("\uFFFD")), page.encode());
      JsonObject odd = items.stream().filter(i -> i.getString("stream") == null
          && i.getString("payload").contains("q\\u0000")).findFirst()
          .orElseThrow(() -> new AssertionError("the NUL stream's rejection is stored: " + page.encode()));
      assertTrue(odd.getString("reason").contains("q\\u0000"), odd.encode());
      // requeue parses the payload again: refused with the parser's reason, not a database error
      HttpResponse<String> again = p.request("POST", "/api/v1/quarantine/" + odd.getLong("id") + "/requeue", null);
      assertEquals(422, again.statusCode(), again.body());
      assertEquals(202, p.postNdjson("fine", "{\"values\":{\"a\":\"y\"}}"));
      eventually(p, "/api/v1/quarantine?stream=fine", j -> j.getJsonArray("items").stream()
          .map(JsonObject.class::cast).anyMatch(i -> i.getString("payload").contains("\"y\"")));
      assertEquals(0.0, metric(p, "pulse_quarantine_unsaved_total"));
      assertEquals(0.0, metric(p, "pulse_quarantine_failed_total"));
    }
    // a restart on the same database: loads, lists, and stores new rejections
    try (TestPulse p = TestPulse.startWithStorage(db, null)) {
      assertEquals(200, p.get("/api/v1/quarantine").status());
      assertEquals(202, p.postNdjson("fine", "{\"values\":{\"a\":\"z\"}}"));
      eventually(p, "/api/v1/quarantine?stream=fine", j -> j.getJsonArray("items").stream()
          .map(JsonObject.class::cast).anyMatch(i -> i.getString("payload").contains("\"z\"")));
    }
  }

  @Test
  @DisplayName("catalogue: a stream the database refuses and a dim value it cannot hold never keep the other "
      + "streams from being stored; a series with such a value is given up once, counted once")
  void catalogueIsolatesBadRows() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    long ts = 1_795_000_000_000L;
    try (TestPulse p = TestPulse.startWithStorage(db, StorageServerTest.fast())) {
      // a stream whose row the database refuses for its content, whatever the reason
      db.exec("alter table streams add constraint test_poison check (name <> 'poison')");
      assertEquals(202, p.postNdjson("good1", "{\"dims\":{\"r\":\"eu\"},\"values\":{\"a\":1}}"));
      assertEquals(202, p.postNdjson("poison", "{\"dims\":{\"r\":\"eu\"},\"values\":{\"a\":1}}"));
      // a dim value PostgreSQL cannot hold (the parser may refuse it at ingest; either way nothing is blocked)
      TestPulse.Response nul = p.post("/api/v1/streams/nul/events", "application/x-ndjson",
          "{\"ts\":" + ts + ",\"dims\":{\"r\":\"a\\u0000\"},\"values\":{\"a\":1}}\n"
              + "{\"ts\":" + ts + ",\"dims\":{\"r\":\"ok\"},\"values\":{\"a\":2}}");
      assertEquals(202, nul.status(), nul.body());
      boolean nulAccepted = nul.json().getInteger("accepted") == 2;
      assertEquals(202, p.postNdjson("good2", "{\"dims\":{\"r\":\"us\"},\"values\":{\"b\":1}}"));
      StorageServerTest.waitFor("good streams stored", () -> db.queryLong(
          "select count(*) from streams where name in ('good1', 'good2', 'nul')"), 3, 15_000);
      assertEquals(0, db.queryLong("select count(*) from streams where name = 'poison'"));
      StorageServerTest.waitFor("the ok series of nul stored", () -> db.queryLong(
          "select count(*) from series where stream = 'nul' and kind = 'series'"), 1, 15_000);
      if (nulAccepted) {
        StorageServerTest.waitFor("the unstorable series given up once", () -> (long) metric(p,
            "pulse_store_rows_failed_total"), 1, 15_000);
        assertTrue(metric(p, "pulse_catalog_skipped_total") >= 1);
      }
      assertEquals(202, p.postNdjson("good3", "{\"values\":{\"c\":1}}"));
      StorageServerTest.waitFor("a stream first seen later is stored too", () -> db.queryLong(
          "select count(*) from streams where name = 'good3'"), 1, 15_000);
      assertEquals(nulAccepted ? 1.0 : 0.0, metric(p, "pulse_store_rows_failed_total"), "counted once, not per retry");
    }
    try (TestPulse p = TestPulse.startWithStorage(db, null)) {
      String streams = p.get("/api/v1/streams").body();
      for (String name : List.of("good1", "good2", "good3", "nul")) {
        assertTrue(streams.contains("\"" + name + "\""), name + " after a restart: " + streams);
      }
    }
  }

  static double metric(TestPulse p, String name) {
    for (String line : p.get("/metrics").body().split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return -1;
  }

  private static JsonObject eventually(TestPulse p, String path, Predicate<JsonObject> ok) throws Exception {
    return p.awaitJson(path, ok);
  }
}
