package io.pulse.server;

import io.pulse.agg.WindowAgg;
import io.pulse.core.ManualClock;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.pulse.store.Database;
import io.pulse.store.Migrations;
import io.pulse.store.RollupCodec;
import io.pulse.store.RollupStore;
import io.pulse.store.RollupStore.Row;
import io.pulse.store.RollupStore.SeriesKey;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Known history for /api/v1/query (QueryApiTest, DeriveBrowserTest): stream "pay" with dims status
 * (ok, declined) and method (card, bank) and the value amount, 1 s windows of random events from
 * {@link #FROM} to {@link #TO} around a UTC midnight {@link #MIDNIGHT} (so that "today" cuts the
 * range), with silent stretches: nothing at all for three minutes, and declined/bank silent from ten
 * minutes after midnight (a silent job for lastSeen). Written straight to the rollup table, as
 * ingest stores finals; the server's clock stands still half an hour after midnight.
 */
public final class QueryData {

  /** 2025-11-23T00:00:00Z. */
  public static final long MIDNIGHT = 1_763_856_000_000L;
  public static final long FROM = MIDNIGHT - 20 * 60_000L;
  public static final long TO = MIDNIGHT + 20 * 60_000L;
  public static final long NOW = MIDNIGHT + 30 * 60_000L;
  public static final String STREAM = "pay";
  static final List<Dims> SERIES = List.of(Dims.of("method", "bank", "status", "declined"),
      Dims.of("method", "bank", "status", "ok"), Dims.of("method", "card", "status", "declined"),
      Dims.of("method", "card", "status", "ok"));

  private QueryData() {
  }

  /** A fresh database with the history, and a Pulse on it (clock at {@link #NOW}). */
  public static TestPulse start() throws Exception {
    return start(null, new ManualClock(NOW));
  }

  /** A fresh database with the history, and a Pulse on it with these settings and clock. */
  public static TestPulse start(JsonObject overrides, io.pulse.core.Clock clock) throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    Migrations.migrate(db.jdbcUrl(), db.user(), db.password(), null);
    Vertx vertx = Vertx.vertx();
    Pool pool = Database.buildPool(vertx, new Database.Target(db.host(), db.port(), db.name(), db.user(),
        db.password(), io.pulse.config.PulseConfig.SslMode.DISABLE, ""), 2, 60_000); // patient: a loaded machine
    try {
      RollupCodec codec = new RollupCodec(0.01, 2048);
      RollupStore store = new RollupStore(pool);
      Random rnd = new Random(14);
      List<Row> rows = new ArrayList<>();
      for (long t = FROM; t < TO; t += 1000) {
        if (t >= MIDNIGHT + 5 * 60_000L && t < MIDNIGHT + 8 * 60_000L) {
          continue; // everything silent
        }
        for (Dims d : SERIES) {
          boolean declinedBank = d.equals(SERIES.get(0));
          if (declinedBank && t >= MIDNIGHT + 10 * 60_000L) {
            continue;
          }
          if (rnd.nextDouble() > (d.get("status").equals("ok") ? 0.5 : 0.15)) {
            continue;
          }
          WindowAgg w = new WindowAgg(t, t + 1000, 0.01, 2048);
          int n = 1 + rnd.nextInt(5);
          for (int i = 0; i < n; i++) {
            double amount = Math.round(Math.exp(rnd.nextGaussian()) * 4000) / 100.0;
            w.add(new Event(StreamId.of(STREAM), t + i, null, d, new String[] {"amount"}, new double[] {amount},
                t + i));
          }
          rows.add(Row.of(SeriesKey.series(StreamId.of(STREAM), d), w, codec));
        }
      }
      store.write(rows).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      db.exec("insert into streams (name, dims, value_names, first_seen, last_seen) values ('" + STREAM + "', "
          + "'{\"status\":[\"declined\",\"ok\"],\"method\":[\"bank\",\"card\"]}', '[\"amount\"]', "
          + "to_timestamp(" + FROM / 1000 + "), to_timestamp(" + TO / 1000 + "))");
    } finally {
      pool.close();
      vertx.close();
    }
    return TestPulse.startWithStorage(db, overrides, clock);
  }

  /** The request {@code {"query", "derive", "from", "to", "tz"}} over the whole range. */
  public static JsonObject request(JsonObject query, JsonObject derive, int tz) {
    JsonObject r = new JsonObject().put("query", query).put("from", FROM).put("to", TO).put("tz", tz);
    if (derive != null) {
      r.put("derive", derive);
    }
    return r;
  }

  /**
   * The /series path that answers a QUERY over [from, to) at {@code stepMs}, in its query-string
   * syntax (groupBy and filter comma-separated, dim:value).
   */
  public static String seriesPath(JsonObject query, long from, long to, long stepMs) {
    StringBuilder sb = new StringBuilder("/api/v1/streams/").append(query.getString("stream")).append("/series?from=")
        .append(from).append("&to=").append(to).append("&step=").append(stepMs);
    if (query.getJsonArray("groupBy") != null && !query.getJsonArray("groupBy").isEmpty()) {
      List<String> g = new ArrayList<>();
      query.getJsonArray("groupBy").forEach(x -> g.add((String) x));
      sb.append("&groupBy=").append(enc(String.join(",", g)));
    }
    JsonObject f = query.getJsonObject("filter");
    if (f != null && !f.isEmpty()) {
      Set<String> parts = new TreeSet<>();
      for (String k : f.fieldNames()) {
        Object v = f.getValue(k);
        if (v instanceof String s) {
          parts.add(k + ":" + s);
        } else {
          ((io.vertx.core.json.JsonArray) v).forEach(x -> parts.add(k + ":" + x));
        }
      }
      sb.append("&filter=").append(enc(String.join(",", parts)));
    }
    if (query.getString("metric") != null) {
      sb.append("&metric=").append(enc(query.getString("metric")));
    }
    return sb.toString();
  }

  /** A query with {@code changes} in place of its fields (the ratio's denominator). */
  public static JsonObject withChanges(JsonObject query, JsonObject changes) {
    JsonObject q = query.copy();
    changes.forEach(e -> q.put(e.getKey(), e.getValue()));
    return q;
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
