package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Final rollups reach PostgreSQL from a real server, exactly once, and survive a restart. */
class StorageServerTest {

  /** Short windows and lateness so finals come quickly. */
  static JsonObject fast() {
    return new JsonObject().put("aggregation", new JsonObject().put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50));
  }

  /** Events in the stored 1 s series windows of {@code stream} (sum of their counts); -1 while unreadable. */
  static long storedEvents(io.zonky.test.db.postgres.embedded.EmbeddedPostgres pg, String stream) {
    try (var c = pg.getPostgresDatabase().getConnection();
        var s = c.prepareStatement("select coalesce(sum(r.count), 0) from rollup_1s r join series s "
            + "on s.id = r.series_id where s.stream = ? and s.kind = 'series'")) {
      s.setString(1, stream);
      try (var rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (Exception e) {
      return -1;
    }
  }

  /** Waits (with {@link Await}) until {@code value} is {@code expected}; fails saying what was last seen. */
  static void waitFor(String what, LongSupplier value, long expected, long timeoutMs) {
    Await.until(what + " (expected " + expected + ")", value::getAsLong, v -> v == expected, timeoutMs);
  }

  /** {@link #events} with explicit times: event i at {@code ts0 + i * stepMs}. */
  static String eventsAt(int n, long ts0, long stepMs, String... regions) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append("{\"ts\":").append(ts0 + i * stepMs).append(",\"dims\":{\"region\":\"")
          .append(regions[i % regions.length]).append("\"},\"values\":{\"amount\":").append(i + 1).append("}}\n");
    }
    return sb.toString();
  }

  static long query(Pool pool, String sql) {
    try {
      Object v = pool.query(sql).execute().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)
          .iterator().next().getValue(0);
      return v == null ? 0 : ((Number) v).longValue();
    } catch (Exception e) {
      throw new IllegalStateException(sql + ": " + e, e);
    }
  }

  static String events(int n, String... regions) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append("{\"dims\":{\"region\":\"").append(regions[i % regions.length]).append("\"},\"values\":{\"amount\":")
          .append(i + 1).append("}}\n");
    }
    return sb.toString();
  }

  @Test
  @DisplayName("every final lands once per (series, window): series rows and the stream total each add up to the events")
  void finalsLandOnce() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    try (TestPulse pulse = TestPulse.startWithStorage(db, fast())) {
      // 150 events over more than one window (750 ms of event time from now), in five requests
      long ts0 = System.currentTimeMillis();
      for (int i = 0; i < 5; i++) {
        assertEquals(202, pulse.postNdjson("orders", eventsAt(30, ts0 + i * 150, 5, "eu", "us", "apac")));
      }
      String series = "select coalesce(sum(r.count), 0) from rollup_1s r join series s on s.id = r.series_id "
          + "where s.stream = 'orders' and s.kind = ";
      waitFor("events in series rows", () -> db.queryLong(series + "'series'"), 150, 10_000);
      waitFor("events in the total's rows", () -> db.queryLong(series + "'group' and s.group_by = '{}'"), 150,
          10_000);
      assertEquals(3, db.queryLong("select count(*) from series where stream = 'orders' and kind = 'series'"));
      assertEquals(0, db.queryLong("select count(*) from (select series_id, start from rollup_1s group by 1, 2 "
          + "having count(*) > 1) d"));
      String metrics = pulse.get("/metrics").body();
      assertTrue(metrics.contains("pulse_store_queue_depth"), metrics);
      assertTrue(metrics.contains("pulse_store_rows_written_total"), metrics);
      assertEquals(200, pulse.get("/health/ready").status());
    }
  }

  @Test
  @DisplayName("a graceful stop writes the open windows; a restart on the same embedded data folder still has them")
  void restartKeepsHistory() throws Exception {
    Path data = Files.createTempDirectory("pulse-restart");
    JsonObject conf = new JsonObject().put("dataDir", data.toString())
        .put("storage", new JsonObject().put("enabled", true))
        .put("aggregation", new JsonObject().put("window", "1h")); // open until the stop
    try (TestPulse pulse = TestPulse.start(conf); LiveClient ws = LiveClient.websocket(pulse.port())) {
      assertTrue(pulse.pulse().database().embedded());
      ws.send(new JsonObject().put("op", "subscribe").put("id", "t").put("stream", "kept"));
      ws.await(m -> "subscribed".equals(m.type()), 5000);
      assertEquals(202, pulse.postNdjson("kept", events(40, "eu", "us")));
      // the shards took the batch (its running update says so) before the stop closes their windows
      ws.await(m -> "rollup".equals(m.type()) && m.json().getLong("count") == 40, 10_000);
    }
    try (TestPulse again = TestPulse.start(conf)) {
      Pool pool = again.pulse().database().pool();
      assertEquals(40, query(pool, "select sum(r.count) from rollup_1h r join series s on s.id = r.series_id "
          + "where s.stream = 'kept' and s.kind = 'series'"));
      assertEquals(40, query(pool, "select sum(r.count) from rollup_1h r join series s on s.id = r.series_id "
          + "where s.stream = 'kept' and s.kind = 'group' and s.group_by = '{}'"));
      assertEquals(1, query(pool, "select count(*) from streams where name = 'kept'"));
    }
  }

  @Test
  @DisplayName("a row the database refuses for its content is isolated and counted; the rest of its batch is written")
  void refusedRowIsolated() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    try (TestPulse pulse = TestPulse.startWithStorage(db, fast())) {
      db.exec("alter table rollup_1s add constraint at_most_499 check (count < 500)"); // a stand-in for bad data
      StringBuilder big = new StringBuilder();
      for (int i = 0; i < 1200; i++) {
        big.append("{\"dims\":{\"s\":\"big\"},\"values\":{\"v\":1}}\n");
      }
      big.append("{\"dims\":{\"s\":\"small\"},\"values\":{\"v\":1}}\n".repeat(3));
      assertEquals(202, pulse.postNdjson("refuse", big.toString()));
      waitFor("the small series written", () -> db.queryLong("select coalesce(sum(r.count), 0) from rollup_1s r "
          + "join series s on s.id = r.series_id where s.stream = 'refuse' and s.dims->>'s' = 'small'"), 3, 10_000);
      waitFor("refused rows counted", () -> {
        for (String line : pulse.get("/metrics").body().split("\n")) {
          if (line.startsWith("pulse_store_rows_failed_total ")) {
            return Double.parseDouble(line.substring(line.indexOf(' ') + 1)) >= 2 ? 1 : 0;
          }
        }
        return 0;
      }, 1, 10_000);
      assertEquals(200, pulse.get("/health/ready").status(), "refused content is not the database being away");
    }
  }
}
