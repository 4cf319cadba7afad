package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.Caller;
import io.pulse.testing.Await;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** DELETE /api/v1/streams/{stream}: history, catalogue and live entry gone, audited; other streams untouched. */
class StreamDeleteTest {

  private static JsonObject listed(TestPulse p, String name) {
    JsonArray list = p.get("/api/v1/streams").json().getJsonArray("streams");
    for (int i = 0; i < list.size(); i++) {
      if (name.equals(list.getJsonObject(i).getString("stream"))) {
        return list.getJsonObject(i);
      }
    }
    return null;
  }

  private static String windowsOf(String stream) {
    return "(select count(*) from rollup_1s r join series s on s.id = r.series_id where s.stream = '" + stream + "')";
  }

  @Test
  @DisplayName("deleting a stream removes its windows, series and catalogue row, audits it, and leaves the others")
  void deleteStoredStream() {
    PgFixture.Db db = PgFixture.freshDatabase();
    try (TestPulse p = TestPulse.startWithStorage(db, new JsonObject()
        .put("aggregation", new JsonObject().put("window", "100ms").put("allowedLatenessMs", 0))
        .put("ingest", new JsonObject().put("maxFutureSkewMs", 0))
        .put("live", new JsonObject().put("flushMs", 50)))) {
      p.pulse().callers((header, param) -> new Caller("default", "ops-alice"));
      assertEquals(202, p.postNdjson("gone", "{\"dims\":{\"region\":\"eu\"},\"values\":{\"amount\":1}}\n"
          + "{\"dims\":{\"region\":\"us\"},\"values\":{\"amount\":2}}\n"));
      assertEquals(202, p.postNdjson("kept", "{\"dims\":{\"region\":\"eu\"},\"values\":{\"amount\":3}}\n"));
      // the windows close within a few flush ticks and are stored; the catalogue syncs every few seconds
      Await.until("both streams' windows and catalogue rows stored",
          () -> db.queryLong("select " + windowsOf("gone") + " * " + windowsOf("kept")
              + " * (select count(*) from streams where name in ('gone', 'kept'))"), n -> n > 0, 20_000);
      long keptWindows = db.queryLong("select " + windowsOf("kept"));
      long keptSeries = db.queryLong("select count(*) from series where stream = 'kept'");
      long goneIds = db.queryLong("select count(*) from series where stream = 'gone'");
      assertTrue(goneIds > 0);
      db.exec("create table gone_ids as select id from series where stream = 'gone'");

      HttpResponse<String> r = p.request("DELETE", "/api/v1/streams/gone", null);
      assertEquals(200, r.statusCode(), r.body());
      JsonObject deleted = new JsonObject(r.body()).getJsonObject("deleted");
      assertEquals(goneIds, deleted.getLong("series"), r.body());
      assertTrue(deleted.getLong("windowsTotal") > 0, r.body());
      assertEquals(true, deleted.getBoolean("catalogue"), r.body());
      assertEquals(true, deleted.getBoolean("live"), r.body());

      assertEquals(0, db.queryLong("select count(*) from series where stream = 'gone'"), "series rows gone");
      assertEquals(0, db.queryLong("select (select count(*) from rollup_1s where series_id in (select id from gone_ids))"
          + " + (select count(*) from rollup_1m where series_id in (select id from gone_ids))"
          + " + (select count(*) from rollup_1h where series_id in (select id from gone_ids))"), "windows gone");
      assertEquals(0, db.queryLong("select count(*) from streams where name = 'gone'"), "catalogue row gone");
      assertNull(listed(p, "gone"), "not listed any more");
      assertEquals(404, p.get("/api/v1/streams/gone/series").status(), "no history");

      JsonArray audit = p.get("/api/v1/audit?action=stream.delete").json().getJsonArray("entries");
      assertEquals(1, audit.size(), audit.encode());
      assertEquals("ops-alice", audit.getJsonObject(0).getString("actor"), "the actor is the caller");
      assertEquals("gone", audit.getJsonObject(0).getString("target"));

      assertEquals(keptWindows, db.queryLong("select " + windowsOf("kept")), "the other stream's windows stay");
      assertEquals(keptSeries, db.queryLong("select count(*) from series where stream = 'kept'"));
      assertNotNull(listed(p, "kept"));
      assertEquals(200, p.get("/api/v1/streams/kept/series").status());

      HttpResponse<String> again = p.request("DELETE", "/api/v1/streams/gone", null);
      assertEquals(404, again.statusCode(), again.body());
      assertTrue(new JsonObject(again.body()).containsKey("error"), again.body());

      assertEquals(202, p.postNdjson("gone", "{\"dims\":{\"region\":\"eu\"},\"values\":{\"amount\":5}}\n"));
      JsonObject fresh = listed(p, "gone");
      assertNotNull(fresh, "events afterwards start it again");
      assertEquals(1, fresh.getLong("events"), "afresh: " + fresh);
      Await.until("the new window stored under a new series", () -> db.queryLong("select " + windowsOf("gone")),
          n -> n > 0, 20_000);
    }
  }

  @Test
  @DisplayName("a stream unknown live and stored answers 404 JSON; a name that cannot be a stream too")
  void unknownStream() {
    try (TestPulse p = TestPulse.startWithStorage(PgFixture.freshDatabase(), null)) {
      HttpResponse<String> r = p.request("DELETE", "/api/v1/streams/never", null);
      assertEquals(404, r.statusCode(), r.body());
      assertTrue(new JsonObject(r.body()).getString("error").contains("never"), r.body());
      assertEquals(404, p.request("DELETE", "/api/v1/streams/NOT%20A%20NAME", null).statusCode());
      assertEquals(0, p.get("/api/v1/audit?action=stream.delete").json().getJsonArray("entries").size(),
          "nothing deleted, nothing audited");
    }
  }

  @Test
  @DisplayName("with storage off, deleting forgets the live stream; a second delete answers 404")
  void storageOff() {
    try (TestPulse p = TestPulse.start(null)) {
      assertEquals(202, p.postNdjson("mem", "{\"values\":{\"v\":1}}\n"));
      HttpResponse<String> r = p.request("DELETE", "/api/v1/streams/mem", null);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(false, new JsonObject(r.body()).getBoolean("stored"));
      assertNull(listed(p, "mem"));
      assertEquals(404, p.request("DELETE", "/api/v1/streams/mem", null).statusCode());
      assertFalse(p.get("/api/v1/streams").body().contains("\"mem\""));
    }
  }
}
