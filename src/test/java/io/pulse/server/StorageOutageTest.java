package io.pulse.server;

import static io.pulse.server.StorageServerTest.events;
import static io.pulse.server.StorageServerTest.query;
import static io.pulse.server.StorageServerTest.storedEvents;
import static io.pulse.server.StorageServerTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The database going away and coming back under a running server, and a Pulse killed with -9.
 * These need a PostgreSQL of their own to stop and start, so they use zonky directly rather than
 * the shared PgFixture server.
 */
class StorageOutageTest {

  private static EmbeddedPostgres startPg(Path dir, int port) throws Exception {
    return EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).setPort(port).start();
  }

  @Test
  @DisplayName("database away: readiness 503 with the reason, live feed goes on, ingest 503 + Retry-After when the "
      + "queue is full; back: every buffered final is written")
  void databaseAwayAndBack() throws Exception {
    Path dir = Files.createTempDirectory("pulse-outage");
    int port = TestPulse.freePort();
    EmbeddedPostgres pg = startPg(dir, port);
    pg.getPostgresDatabase().getConnection().close();
    JsonObject conf = StorageServerTest.fast().put("storage", new JsonObject().put("enabled", true)
        .put("url", "postgresql://postgres:x@localhost:" + port + "/postgres")
        .put("writeQueue", 20).put("writeBatch", 5).put("retryMs", 200));
    try (TestPulse pulse = TestPulse.start(conf); LiveClient ws = LiveClient.websocket(pulse.port())) {
      ws.send(new JsonObject().put("op", "subscribe").put("id", "s").put("stream", "out"));
      ws.await(m -> "subscribed".equals(m.type()), 5000);
      assertEquals(202, pulse.postNdjson("out", events(10, "a", "b")));
      // the metric must be there and above 0 (a missing line is -1: not yet, never a pass)
      Await.until("first finals written", () -> HostileStorageInputTest.metric(pulse, "pulse_store_rows_written_total"),
          v -> v > 0, 10_000);

      pg.close(); // the database goes away
      waitFor("readiness says so", () -> pulse.get("/health/ready").status(), 503, 10_000);
      JsonObject ready = pulse.get("/health/ready").json();
      assertTrue(ready.getString("reason").startsWith("storage: the database does not answer"), ready.encode());

      // the live feed goes on: a running update of new events still arrives
      assertEquals(202, pulse.postNdjson("out", "{\"values\":{\"amount\":7}}"));
      ws.await(m -> "rollup".equals(m.type()), 5000);

      // finals pile up; past storage.writeQueue ingest says 503 with Retry-After, never loses silently. Each
      // probe posts one more batch of new series (Await's poll paces them) until ingest refuses one.
      long[] total = {11};
      int[] batch = {0};
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> refused = Await.until("ingest refused once the write queue is full", () -> {
        int i = batch[0]++;
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(pulse.baseUrl()
            + "/api/v1/streams/out/events")).header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString(events(12, "r" + i + "x", "r" + i + "y", "r" + i + "z")))
            .build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 202) {
          total[0] += 12;
        }
        return r;
      }, r -> r.statusCode() != 202, 30_000);
      assertNotNull(refused, "ingest refused once the queue was full");
      assertEquals(503, refused.statusCode());
      assertTrue(refused.headers().firstValue("Retry-After").isPresent());
      assertTrue(new JsonObject(refused.body()).getString("error").contains("storage.writeQueue"), refused.body());

      pg = startPg(dir, port); // back, same folder and port
      waitFor("readiness back", () -> pulse.get("/health/ready").status(), 200, 15_000);
      long expected = total[0];
      EmbeddedPostgres back = pg;
      waitFor("every accepted event in a stored series window", () -> storedEvents(back, "out"), expected, 15_000);
      assertEquals(202, pulse.postNdjson("out", "{\"values\":{\"amount\":1}}"), "ingest open again");
    } finally {
      pg.close();
    }
  }

  @Test
  @DisplayName("kill -9: the closed windows written before are kept, and the next start takes over the orphaned "
      + "embedded PostgreSQL")
  void killNine() throws Exception {
    Path data = Files.createTempDirectory("pulse-kill9");
    ProcessBuilder pb = TestPulse.childProcess(data, 0);
    pb.environment().put("PULSE_ALLOWED_LATENESS_MS", "100");
    Process p = pb.start();
    HttpClient http = HttpClient.newHttpClient();
    try {
      int port = TestPulse.awaitStarted(p, data, Duration.ofSeconds(60));
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/api/v1/streams/k9/events")).header("Content-Type", "application/x-ndjson")
          .POST(HttpRequest.BodyPublishers.ofString(events(25, "eu", "us"))).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(202, r.statusCode());
      waitFor("the finals written", () -> written(http, port), 3, 15_000); // two series and the total
    } finally {
      p.destroyForcibly(); // SIGKILL: no shutdown hook, the embedded PostgreSQL is left running
      p.waitFor(10, TimeUnit.SECONDS);
    }
    JsonObject conf = new JsonObject().put("dataDir", data.toString())
        .put("storage", new JsonObject().put("enabled", true));
    try (TestPulse again = TestPulse.start(conf)) {
      assertEquals(25, query(again.pulse().database().pool(), "select sum(r.count) from rollup_1s r join series s "
          + "on s.id = r.series_id where s.stream = 'k9' and s.kind = 'series'"));
    }
  }

  private static long written(HttpClient http, int port) {
    try {
      String m = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      for (String line : m.split("\n")) {
        if (line.startsWith("pulse_store_rows_written_total ")) {
          return (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1));
        }
      }
    } catch (Exception e) {
      // not up
    }
    return -1;
  }

}
