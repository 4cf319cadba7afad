package io.pulse.store;

import static io.pulse.store.RollupCodecTest.ACC;
import static io.pulse.store.RollupCodecTest.CODEC;
import static io.pulse.store.RollupCodecTest.bins;
import static io.pulse.store.RollupCodecTest.stats;
import static io.pulse.store.RollupCodecTest.window;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.StreamId;
import io.pulse.agg.ValueStats;
import io.pulse.agg.WindowAgg;
import io.pulse.event.Dims;
import io.pulse.store.RollupStore.Query;
import io.pulse.store.RollupStore.Resolution;
import io.pulse.store.RollupStore.Row;
import io.pulse.store.RollupStore.SeriesKey;
import io.pulse.store.RollupStore.Stored;
import io.pulse.testing.PgFixture;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** RollupStore against a real PostgreSQL (PgFixture), one fresh database for the class. */
class RollupStoreTest {

  private static Vertx vertx;
  private static PgFixture.Db db;
  private static Pool pool;
  private static RollupStore store;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    db = PgFixture.freshDatabase();
    Migrations.migrate(db.jdbcUrl(), db.user(), db.password(), null);
    Database.Target t = new Database.Target(db.host(), db.port(), db.name(), db.user(), db.password(),
        io.pulse.config.PulseConfig.SslMode.DISABLE, "");
    pool = Database.buildPool(vertx, t, 4);
    store = new RollupStore(pool);
  }

  @AfterAll
  static void stop() throws Exception {
    pool.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static Query query(String stream, long from, long to, Map<String, Set<String>> filter, List<String> groupBy) {
    return new Query(StreamId.of(stream), Resolution.SECOND, from, to, filter, groupBy, 100_000);
  }

  @Test
  @DisplayName("a replayed batch never double-counts: the second write replaces the first")
  void replayIsIdempotent() throws Exception {
    Random rnd = new Random(3);
    List<Row> batch = new ArrayList<>();
    for (int s = 0; s < 3; s++) {
      for (int w = 0; w < 10; w++) {
        WindowAgg win = window(w * 1000L, 1000, 20, rnd);
        batch.add(Row.of(SeriesKey.series(StreamId.of("replay"), Dims.of("store", "s" + s)), win, CODEC));
      }
    }
    await(store.write(batch));
    await(store.write(batch));
    await(store.write(batch.subList(5, 12))); // and a partial replay
    assertEquals(30, db.queryLong("select count(*) from rollup_1s r join series s on s.id = r.series_id "
        + "where s.stream = 'replay'"));
    assertEquals(30 * 20, db.queryLong("select sum(r.count) from rollup_1s r join series s on s.id = r.series_id "
        + "where s.stream = 'replay'"));
    assertEquals(3, db.queryLong("select count(*) from series where stream = 'replay'"));
  }

  @Test
  @DisplayName("a round trip through the database keeps count, sum, min, max exact and percentiles within the sketch's error")
  void roundTrip() throws Exception {
    Random rnd = new Random(4);
    double[] values = new double[20_000];
    WindowAgg w = new WindowAgg(5_000, 6_000, ACC, 2048);
    for (int i = 0; i < values.length; i++) {
      values[i] = Math.exp(rnd.nextGaussian());
      w.add(new io.pulse.event.Event(StreamId.of("rt"), 5_000 + i % 1000, null, Dims.EMPTY, new String[] {"ms"},
          new double[] {values[i]}, 5_000));
    }
    await(store.write(List.of(Row.of(SeriesKey.series(StreamId.of("rt"), Dims.EMPTY), w, CODEC))));
    List<Stored> rows = await(store.query(query("rt", 0, 10_000, Map.of(), List.of())));
    assertEquals(1, rows.size());
    Stored r = rows.get(0);
    WindowAgg back = CODEC.decode(r.data(), r.start(), r.start() + 1000, r.count(), r.latest());
    ValueStats.Summary s = stats(back, "ms").summary();
    ValueStats.Summary orig = stats(w, "ms").summary();
    assertEquals(values.length, back.count());
    assertEquals(orig.sum(), s.sum());
    assertEquals(Arrays.stream(values).min().getAsDouble(), s.min());
    assertEquals(Arrays.stream(values).max().getAsDouble(), s.max());
    Arrays.sort(values);
    for (double[] qp : new double[][] {{0.5, s.p50()}, {0.95, s.p95()}, {0.99, s.p99()}}) {
      double truth = values[(int) Math.ceil(qp[0] * values.length) - 1];
      assertEquals(truth, qp[1], truth * ACC * 1.0001, "q=" + qp[0]);
    }
  }

  @Test
  @DisplayName("merging 60 stored 1 s windows equals the 1 min window computed directly")
  void sixtyStoredSecondsMakeAMinute() throws Exception {
    Random rnd = new Random(6);
    WindowAgg minute = new WindowAgg(120_000, 180_000, ACC, 2048);
    List<Row> rows = new ArrayList<>();
    for (int s = 0; s < 60; s++) {
      WindowAgg second = window(120_000 + s * 1000L, 1000, 30 + rnd.nextInt(100), rnd);
      minute.merge(second);
      rows.add(Row.of(SeriesKey.series(StreamId.of("minute"), Dims.of("host", "a")), second, CODEC));
    }
    await(store.write(rows));
    WindowAgg merged = new WindowAgg(120_000, 180_000, ACC, 2048);
    for (Stored r : await(store.query(query("minute", 120_000, 180_000, Map.of(), List.of())))) {
      CODEC.mergeInto(merged, r.data(), r.count(), r.latest(), null);
    }
    assertEquals(minute.count(), merged.count());
    assertEquals(minute.latest(), merged.latest());
    for (String name : List.of("amount", "items")) {
      ValueStats.Summary a = stats(minute, name).summary();
      ValueStats.Summary b = stats(merged, name).summary();
      assertEquals(a.count(), b.count());
      assertEquals(a.min(), b.min());
      assertEquals(a.max(), b.max());
      assertEquals(a.sum(), b.sum(), Math.abs(a.sum()) * 1e-12);
      assertArrayEquals(bins(stats(minute, name)), bins(stats(merged, name)), name + ": identical bins");
    }
  }

  @Test
  @DisplayName("history read: stored group rows where they exist, series rows for the other windows; a filter reads series")
  void queryShapes() throws Exception {
    Random rnd = new Random(8);
    List<Row> rows = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      long start = w * 1000L;
      WindowAgg total = new WindowAgg(start, start + 1000, ACC, 2048);
      for (String region : List.of("eu", "us")) {
        WindowAgg win = window(start, 1000, 5, rnd);
        total.merge(win);
        rows.add(Row.of(SeriesKey.series(StreamId.of("shapes"), Dims.of("region", region)), win, CODEC));
      }
      if (w >= 2) { // the total was stored for the last two windows only
        rows.add(Row.of(SeriesKey.group(StreamId.of("shapes"), List.of(), Dims.EMPTY), total, CODEC));
      }
    }
    await(store.write(rows));
    List<Stored> total = await(store.query(query("shapes", 0, 4000, Map.of(), List.of())));
    assertEquals(2 * 2 + 2, total.size(), "series rows for windows 0 and 1, the total's rows for 2 and 3");
    assertTrue(total.stream().filter(Stored::grouped).allMatch(r -> r.start() >= 2000));
    assertEquals(40, total.stream().mapToLong(Stored::count).sum(), "every event once");
    List<Stored> eu = await(store.query(query("shapes", 0, 4000, Map.of("region", Set.of("eu")), List.of())));
    assertEquals(4, eu.size());
    assertTrue(eu.stream().allMatch(r -> !r.grouped() && r.dims().equals(Dims.of("region", "eu"))));
    assertEquals(0, await(store.query(query("shapes", 4000, 9000, Map.of(), List.of()))).size());
    List<Stored> capped = await(store.query(new Query(StreamId.of("shapes"), Resolution.SECOND, 0, 4000, Map.of(),
        List.of("region"), 3)));
    assertEquals(4, capped.size(), "one more than the limit tells there are more");
  }
}
