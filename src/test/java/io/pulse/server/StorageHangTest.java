package io.pulse.server;

import static io.pulse.server.StorageServerTest.events;
import static io.pulse.server.StorageServerTest.storedEvents;
import static io.pulse.server.StorageServerTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.PgProcesses;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A database that stops answering without closing its connections (every PostgreSQL process
 * SIGSTOPped, as a hung server or a frozen VM looks): readiness must say so within a few seconds
 * and reads must answer 503 at once instead of hanging; when it resumes, everything acknowledged
 * is written. Uses a zonky server of its own: stopping the shared PgFixture one would stall other
 * tests.
 */
class StorageHangTest {

  @Test
  @DisplayName("PostgreSQL SIGSTOPped: readiness 503 naming it, /series /rules /quarantine /audit 503 + Retry-After "
      + "within storage.queryTimeoutMs; SIGCONT: ready again and every acknowledged event stored")
  void hungDatabase() throws Exception {
    Path dir = Files.createTempDirectory("pulse-hang");
    EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(true).start();
    JsonObject conf = StorageServerTest.fast().put("storage", new JsonObject().put("enabled", true)
        .put("url", "postgresql://postgres:x@localhost:" + pg.getPort() + "/postgres").put("downsample", false)
        .put("writeBatch", 50).put("retryMs", 200).put("queryTimeoutMs", 800));
    List<Long> stopped = List.of();
    try (TestPulse pulse = TestPulse.start(conf)) {
      long total = 30;
      assertEquals(202, pulse.postNdjson("hang", events(30, "a", "b")));
      assertEquals(201, pulse.request("POST", "/api/v1/rules",
          "{\"id\":\"r\",\"name\":\"r\",\"stream\":\"s\",\"kind\":\"outliers\"}").statusCode());
      waitFor("first finals stored", () -> storedEvents(pg, "hang"), total, 15_000);
      waitFor("ready", () -> pulse.get("/health/ready").status(), 200, 10_000);

      stopped = PgProcesses.of(dir);
      assertTrue(stopped.size() > 1, "the postmaster has children");
      PgProcesses.signal("STOP", stopped);
      // acknowledged while the database is frozen: these must be stored once it is back
      for (int i = 0; i < 5; i++) {
        assertEquals(202, pulse.postNdjson("hang", events(10, "c" + i, "d")));
        total += 10;
      }
      waitFor("readiness says the database does not answer", () -> pulse.get("/health/ready").status(), 503, 10_000);
      JsonObject ready = pulse.get("/health/ready").json();
      assertTrue(ready.getString("reason").startsWith("storage: the database does not answer"), ready.encode());

      // reads answer 503 with the reason instead of hanging (TestPulse's client gives up after 10 s)
      for (String path : List.of("/api/v1/streams/hang/series?from=15m", "/api/v1/rules", "/api/v1/rules/r",
          "/api/v1/quarantine", "/api/v1/audit", "/api/v1/dashboards")) {
        HttpResponse<String> r = pulse.request("GET", path, null);
        assertEquals(503, r.statusCode(), path + " -> " + r.body());
        assertTrue(r.headers().firstValue("Retry-After").isPresent(), path);
        assertTrue(new JsonObject(r.body()).getString("error").contains("does not answer"), path + " -> " + r.body());
      }

      PgProcesses.signal("CONT", stopped);
      stopped = List.of();
      waitFor("ready again", () -> pulse.get("/health/ready").status(), 200, 20_000);
      long expected = total;
      waitFor("every acknowledged event in a stored series window", () -> storedEvents(pg, "hang"), expected, 20_000);
      assertEquals(200, pulse.get("/api/v1/rules/r").status());
    } finally {
      PgProcesses.signal("CONT", stopped);
      pg.close();
    }
  }

  @Test
  @DisplayName("quarantine while the database is away: what the ring overwrote is counted once in "
      + "pulse_quarantine_unsaved_total, not again at every retry; the rest is stored when it is back")
  void quarantineUnsavedCountedOnce() throws Exception {
    Path dir = Files.createTempDirectory("pulse-qaway");
    int port = TestPulse.freePort();
    EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false)
        .setPort(port).start();
    JsonObject conf = StorageServerTest.fast().put("quarantine", new JsonObject().put("capacity", 5))
        .put("storage", new JsonObject().put("enabled", true).put("downsample", false).put("retryMs", 200)
            .put("url", "postgresql://postgres:x@localhost:" + port + "/postgres"));
    try (TestPulse pulse = TestPulse.start(conf)) {
      assertEquals(202, pulse.postNdjson("q", "{\"values\":{\"a\":\"first\"}}"));
      waitFor("the first rejection stored", () -> quarantined(pulse), 1, 10_000);
      pg.close(); // the database goes away
      waitFor("readiness says so", () -> pulse.get("/health/ready").status(), 503, 10_000);
      StringBuilder bad = new StringBuilder();
      for (int i = 0; i < 20; i++) {
        bad.append("{\"values\":{\"a\":\"bad").append(i).append("\"}}\n");
      }
      assertEquals(202, pulse.postNdjson("q", bad.toString()));
      // the subject is what repeated failed saves count: drive three saves (besides the writer's own, every
      // second) and see each one fail, instead of waiting for the timer
      for (int i = 0; i < 3; i++) {
        Object reply = pulse.pulse().vertx().eventBus().request(io.pulse.verticles.Addresses.QUARANTINE_SAVE, "save")
            .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).body();
        assertEquals(1, reply, "save " + i + " failed: the database is away");
      }
      pg = EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).setPort(port).start();
      waitFor("ready again", () -> pulse.get("/health/ready").status(), 200, 15_000);
      // every one of the 21 rejections is either stored or counted as overwritten, once
      waitFor("stored + unsaved = rejected", () -> quarantined(pulse)
          + (long) HostileStorageInputTest.metric(pulse, "pulse_quarantine_unsaved_total"), 21, 10_000);
      assertTrue(HostileStorageInputTest.metric(pulse, "pulse_quarantine_unsaved_total") > 0, "the ring did overflow");
    } finally {
      pg.close();
    }
  }

  /** Rejections stored, repeats included (the quarantine's "events"); -1 while unreadable. */
  private static long quarantined(TestPulse pulse) {
    TestPulse.Response r = pulse.get("/api/v1/quarantine");
    return r.status() == 200 ? r.json().getLong("events") : -1;
  }
}
