package io.pulse.store;

import static io.pulse.store.RollupCodecTest.CODEC;
import static io.pulse.store.RollupCodecTest.stats;
import static io.pulse.store.RollupCodecTest.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.pulse.core.StreamId;
import io.pulse.agg.ValueStats;
import io.pulse.agg.WindowAgg;
import io.pulse.config.PulseConfig;
import io.pulse.event.Dims;
import io.pulse.store.RollupStore.Row;
import io.pulse.store.RollupStore.SeriesKey;
import io.pulse.testing.PgFixture;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Downsampling and retention against a real PostgreSQL. */
class DownsamplerTest {

  private static final long MIN = 60_000L;
  private static final long HOUR = 3_600_000L;
  private static final long T0 = 1_795_000_000_000L / HOUR * HOUR; // an hour boundary
  private static final PulseConfig.Retention KEEP_ALL = new PulseConfig.Retention(Long.MAX_VALUE / 4,
      Long.MAX_VALUE / 4, Long.MAX_VALUE / 4);

  private Vertx vertx;
  private PgFixture.Db db;
  private Pool pool;
  private RollupStore store;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    db = PgFixture.freshDatabase();
    pool = StoreTesting.migratedPool(vertx, db, 4);
    store = new RollupStore(pool);
  }

  @AfterEach
  void tearDown() throws Exception {
    pool.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private Downsampler downsampler(PulseConfig.Retention retention) {
    return new Downsampler(pool, CODEC, retention, vertx::executeBlocking);
  }

  /** Runs until caught up. */
  private Downsampler.Result drain(Downsampler d, long now, long safeBefore) throws Exception {
    Downsampler.Result last;
    int written = 0;
    int guard = 0;
    do {
      last = d.run(now, safeBefore).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      written += last.rowsWritten();
    } while (last.more() && ++guard < 100);
    return new Downsampler.Result(last.minutes(), last.hours(), written, last.rowsDeleted(), last.more());
  }

  /** 1 s windows of two series at the given seconds after T0; returns the windows by series, in order. */
  private List<List<WindowAgg>> writeSeconds(long[] seconds) throws Exception {
    Random rnd = new Random(11);
    List<List<WindowAgg>> out = List.of(new ArrayList<>(), new ArrayList<>());
    List<Row> rows = new ArrayList<>();
    for (long s : seconds) {
      for (int k = 0; k < 2; k++) {
        WindowAgg w = window(T0 + s * 1000, 1000, 5 + rnd.nextInt(30), rnd);
        out.get(k).add(w);
        rows.add(Row.of(SeriesKey.series(StreamId.of("pay"), Dims.of("region", "r" + k)), w, CODEC));
      }
    }
    await(store.write(rows));
    return out;
  }

  private static WindowAgg direct(List<WindowAgg> windows, long start, long end) {
    WindowAgg m = new WindowAgg(start, end, RollupCodecTest.ACC, 2048);
    for (WindowAgg w : windows) {
      if (w.start() >= start && w.start() < end) {
        m.merge(CODEC.decode(CODEC.encode(w), w.start(), w.end(), w.count(), w.latest()));
      }
    }
    return m;
  }

  private WindowAgg stored(String table, int series, long start) throws Exception {
    var rows = await(pool.preparedQuery("select r.count, r.latest, r.data from " + table + " r join series s "
        + "on s.id = r.series_id where s.dims->>'region' = $1 and r.start = $2")
        .execute(io.vertx.sqlclient.Tuple.of("r" + series, start)));
    assertEquals(1, rows.size(), table + " r" + series + " @" + start);
    var r = rows.iterator().next();
    long span = table.equals("rollup_1m") ? MIN : HOUR;
    return CODEC.decode(r.getBuffer("data").getBytes(), start, start + span, r.getLong("count"), r.getLong("latest"));
  }

  private static void assertSameFigures(WindowAgg expected, WindowAgg actual) {
    assertEquals(expected.count(), actual.count());
    for (String name : List.of("amount", "items")) {
      ValueStats.Summary e = stats(expected, name).summary();
      ValueStats.Summary a = stats(actual, name).summary();
      assertEquals(e.count(), a.count(), name);
      assertEquals(e.sum(), a.sum(), 1e-9 * Math.max(1, Math.abs(e.sum())), name);
      assertEquals(e.min(), a.min(), name);
      assertEquals(e.max(), a.max(), name);
      assertEquals(e.p50(), a.p50(), name + " p50: merged sketches, not averaged percentiles");
      assertEquals(e.p95(), a.p95(), name);
      assertEquals(e.p99(), a.p99(), name);
    }
  }

  @Test
  @DisplayName("1 s windows merge into exact 1 min and 1 h windows; a second run changes nothing")
  void minutesAndHours() throws Exception {
    // three full minutes, then a gap, then one second in the second hour
    long[] secs = new long[181];
    for (int i = 0; i < 180; i++) {
      secs[i] = i;
    }
    secs[180] = 3600 + 7;
    List<List<WindowAgg>> windows = writeSeconds(secs);
    Downsampler d = downsampler(KEEP_ALL);
    long now = T0 + 3 * HOUR;
    drain(d, now, now);

    for (int k = 0; k < 2; k++) {
      for (int m = 0; m < 3; m++) {
        long start = T0 + m * MIN;
        assertSameFigures(direct(windows.get(k), start, start + MIN), stored("rollup_1m", k, start));
      }
      assertSameFigures(direct(windows.get(k), T0 + HOUR, T0 + HOUR + MIN), stored("rollup_1m", k, T0 + HOUR));
      assertSameFigures(direct(windows.get(k), T0, T0 + HOUR), stored("rollup_1h", k, T0));
      assertSameFigures(direct(windows.get(k), T0 + HOUR, T0 + 2 * HOUR), stored("rollup_1h", k, T0 + HOUR));
    }
    assertEquals(8, db.queryLong("select count(*) from rollup_1m"));
    assertEquals(4, db.queryLong("select count(*) from rollup_1h"));

    String before = db.queryLong("select sum(count) from rollup_1m") + "/" + db.queryLong(
        "select sum(length(data)) from rollup_1h");
    drain(downsampler(KEEP_ALL), now, now); // a restart: watermarks read back from the tables
    assertEquals(8, db.queryLong("select count(*) from rollup_1m"));
    assertEquals(before, db.queryLong("select sum(count) from rollup_1m") + "/" + db.queryLong(
        "select sum(length(data)) from rollup_1h"));
  }

  @Test
  @DisplayName("a minute is merged only once all its seconds are stored (safeBefore), then completed by a later run")
  void waitsForCompleteMinutes() throws Exception {
    long[] secs = new long[120];
    for (int i = 0; i < 120; i++) {
      secs[i] = i;
    }
    List<List<WindowAgg>> windows = writeSeconds(secs);
    Downsampler d = downsampler(KEEP_ALL);
    drain(d, T0 + HOUR, T0 + MIN + 30_000); // the second minute is still being written
    assertEquals(2, db.queryLong("select count(*) from rollup_1m"), "the first minute, for both series");
    assertEquals(0, db.queryLong("select count(*) from rollup_1h"));
    drain(d, T0 + HOUR, T0 + 2 * MIN);
    assertEquals(4, db.queryLong("select count(*) from rollup_1m"));
    assertSameFigures(direct(windows.get(1), T0 + MIN, T0 + 2 * MIN), stored("rollup_1m", 1, T0 + MIN));
  }

  @Test
  @DisplayName("retention deletes old rows of each resolution, but never fine rows not yet merged")
  void retention() throws Exception {
    long[] secs = new long[90];
    for (int i = 0; i < 90; i++) {
      secs[i] = i;
    }
    writeSeconds(secs);
    PulseConfig.Retention tight = new PulseConfig.Retention(MIN, HOUR, Long.MAX_VALUE / 4);
    Downsampler d = downsampler(tight);
    // an hour later everything is past the 1 s retention, but only the first minute is complete
    Downsampler.Result r = drain(d, T0 + HOUR, T0 + 70_000);
    assertEquals(2, db.queryLong("select count(*) from rollup_1m"));
    assertEquals(60, db.queryLong("select count(*) from rollup_1s"), "the unmerged second minute stays");
    assertEquals(120, r.rowsDeleted());
    drain(d, T0 + 3 * HOUR, T0 + 3 * HOUR);
    assertEquals(0, db.queryLong("select count(*) from rollup_1s"));
    assertEquals(0, db.queryLong("select count(*) from rollup_1m"), "merged into the hour, then past retention");
    assertEquals(2, db.queryLong("select count(*) from rollup_1h"));
    assertFalse(d.run(T0 + 3 * HOUR, T0 + 3 * HOUR).toCompletionStage().toCompletableFuture().get().more());
  }
}
