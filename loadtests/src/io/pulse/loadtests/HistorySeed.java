package io.pulse.loadtests;

import io.pulse.agg.WindowAgg;
import io.pulse.config.PulseConfig;
import io.pulse.event.Dims;
import io.pulse.store.Database;
import io.pulse.store.RollupCodec;
import io.pulse.store.RollupStore;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Writes a day of W1 history straight into the database of a Pulse data folder, with Pulse's own
 * storage classes: {@link Database} (the embedded PostgreSQL under {@code <dataDir>/pg} and the
 * Flyway migrations, as Pulse starts it), {@link RollupStore} (the idempotent multi-row upserts the
 * store verticle uses) and {@link RollupCodec} (the row format). Pulse must not run on that folder
 * meanwhile. Events cannot be sent with timestamps a day old (they would be late), hence rows.
 *
 * <p>The rows hold real sketches: 64 windows of 2,000 W1 values each (1 s at 2 M events/s over
 * 1,000 series) are built and encoded once; each 1 s row takes one of them and each 1 min row is
 * the merge of the 60 one-second windows that follow its own pick, so that the 1 min row of a
 * minute that also has 1 s rows is exactly their merge (as downsampling would make it).
 */
final class HistorySeed {

  static final String STREAM = W1Workload.STREAM;
  /** The series the history query asks for: region r3, store s042. */
  static final int TARGET = 3 * W1Workload.STORES + 42;
  static final long MINUTE_MS = 60_000;
  static final long DAY_MS = 86_400_000;
  static final int EVENTS_PER_SECOND_ROW = 2_000;
  private static final int POOL = 64;
  private static final int BATCH = 5_000;

  /**
   * What to write, relative to {@code end} (a minute boundary): the target series gets 1 min rows
   * for the 24 h before it and 1 s rows for the last hour; the other 999 series get 1 min rows for
   * the last {@code othersMinutes} minutes and 1 s rows for the last {@code othersSeconds} seconds.
   */
  record Plan(long end, int othersMinutes, int othersSeconds) {

    Plan {
      if (end % MINUTE_MS != 0 || othersMinutes < 0 || othersMinutes > 1440 || othersSeconds < 0
          || othersSeconds > 3600) {
        throw new IllegalArgumentException("seed plan: end on a minute, 0..1440 minutes, 0..3600 seconds");
      }
    }

    long minuteRows() {
      return 1440 + (long) (W1Workload.SERIES - 1) * othersMinutes;
    }

    long secondRows() {
      return 3600 + (long) (W1Workload.SERIES - 1) * othersSeconds;
    }
  }

  /** What was written, and how long the whole seeding took (database start, writes, vacuum, stop). */
  record Result(Plan plan, long minuteRows, long secondRows, long dataBytes, double seconds, String database) {

    String describe() {
      return String.format(Locale.ROOT, "%,d rows of 1 min (r3/s042: 1,440 = 24 h; the other %d series: the last %d min) "
              + "and %,d rows of 1 s (r3/s042: the last hour; the others: the last %d s), %,.1f MB of figures; "
              + "windows of %,d events a second (%,d a minute)", minuteRows, W1Workload.SERIES - 1,
          plan.othersMinutes(), secondRows, plan.othersSeconds(), dataBytes / 1e6, EVENTS_PER_SECOND_ROW,
          EVENTS_PER_SECOND_ROW * 60);
    }
  }

  private final RollupCodec codec;
  private final RollupStore.SeriesKey[] keys = new RollupStore.SeriesKey[W1Workload.SERIES];
  private final byte[][] second = new byte[POOL][];
  private final byte[][] minute = new byte[POOL][];

  private HistorySeed(RollupCodec codec) {
    this.codec = codec;
    for (int i = 0; i < keys.length; i++) {
      keys[i] = RollupStore.SeriesKey.series(io.pulse.core.StreamId.of(STREAM),
          Dims.of("region", "r" + i / W1Workload.STORES,
              "store", String.format(Locale.ROOT, "s%03d", i % W1Workload.STORES)));
    }
    SplittableRandom rnd = new SplittableRandom(7);
    WindowAgg[] windows = new WindowAgg[POOL];
    for (int p = 0; p < POOL; p++) {
      WindowAgg w = new WindowAgg(0, 1000, codec.accuracy(), 0);
      for (int e = 0; e < EVENTS_PER_SECOND_ROW; e++) {
        w.valueStatsFor("amount").add(W1Workload.amount(rnd));
        w.valueStatsFor("items").add(W1Workload.items(rnd));
      }
      w.addCounts(EVENTS_PER_SECOND_ROW, 999);
      windows[p] = w;
      second[p] = codec.encode(w);
    }
    for (int p = 0; p < POOL; p++) {
      WindowAgg m = new WindowAgg(0, MINUTE_MS, codec.accuracy(), 0);
      for (int s = 0; s < 60; s++) {
        codec.mergeInto(m, second[(p + s) % POOL], EVENTS_PER_SECOND_ROW, 999, null);
      }
      minute[p] = codec.encode(m);
    }
  }

  /** Starts the folder's database (creating and migrating it if new), writes the plan's rows, vacuums, stops it. */
  static Result seed(Vertx vertx, Path dataDir, Plan plan) throws Exception {
    long t0 = System.nanoTime();
    PulseConfig cfg = PulseConfig.of(new JsonObject());
    HistorySeed seed = new HistorySeed(new RollupCodec(cfg.aggregation().sketchRelativeAccuracy(),
        cfg.aggregation().sketchMaxBins()));
    Database db = Database.start(vertx, cfg.storage(), dataDir).await(120, TimeUnit.SECONDS);
    try {
      Writer w = new Writer(new RollupStore(db.pool()));
      // oldest first, every series of a window together, as Pulse writes them
      long othersFromMinute = plan.end() - plan.othersMinutes() * MINUTE_MS;
      for (long m = plan.end() - DAY_MS; m < plan.end(); m += MINUTE_MS) {
        for (int i = 0; i < seed.keys.length; i++) {
          if (i == TARGET || m >= othersFromMinute) {
            w.add(seed.row(i, m, MINUTE_MS));
          }
        }
      }
      long othersFromSecond = plan.end() - plan.othersSeconds() * 1000L;
      for (long s = plan.end() - 3_600_000L; s < plan.end(); s += 1000) {
        for (int i = 0; i < seed.keys.length; i++) {
          if (i == TARGET || s >= othersFromSecond) {
            w.add(seed.row(i, s, 1000));
          }
        }
      }
      w.flush();
      // a bulk load is followed by autovacuum's analyze within a minute; do it now rather than during a measurement
      db.pool().query("vacuum analyze").execute().await(300, TimeUnit.SECONDS);
      return new Result(plan, w.rows[1], w.rows[0], w.bytes, (System.nanoTime() - t0) / 1e9, db.description());
    } finally {
      db.close();
    }
  }

  /** The row of series {@code i} for the window at {@code start}: a pool pick that the minute row agrees with. */
  private RollupStore.Row row(int i, long start, long spanMs) {
    long minuteStart = Math.floorDiv(start, MINUTE_MS) * MINUTE_MS;
    int pick = (int) Math.floorMod(mix(i * 1_000_003L + minuteStart / MINUTE_MS), (long) POOL);
    if (spanMs == MINUTE_MS) {
      return new RollupStore.Row(keys[i], start, start + spanMs, EVENTS_PER_SECOND_ROW * 60L, start + spanMs - 1,
          minute[pick]);
    }
    int s = (int) ((start - minuteStart) / 1000);
    return new RollupStore.Row(keys[i], start, start + spanMs, EVENTS_PER_SECOND_ROW, start + spanMs - 1,
        second[(pick + s) % POOL]);
  }

  private static long mix(long x) {
    x = (x ^ (x >>> 33)) * 0xff51afd7ed558ccdL;
    x = (x ^ (x >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return x ^ (x >>> 33);
  }

  /** Writes rows in batches, one statement at a time, counting them by resolution. */
  private static final class Writer {
    private final RollupStore store;
    private final List<RollupStore.Row> batch = new ArrayList<>(BATCH);
    final long[] rows = new long[2]; // [1 s, 1 min]
    long bytes;

    Writer(RollupStore store) {
      this.store = store;
    }

    void add(RollupStore.Row r) throws Exception {
      batch.add(r);
      rows[r.end() - r.start() == MINUTE_MS ? 1 : 0]++;
      bytes += r.data().length;
      if (batch.size() == BATCH) {
        flush();
      }
    }

    void flush() throws Exception {
      if (!batch.isEmpty()) {
        store.write(new ArrayList<>(batch)).await(120, TimeUnit.SECONDS);
        batch.clear();
      }
    }
  }
}
