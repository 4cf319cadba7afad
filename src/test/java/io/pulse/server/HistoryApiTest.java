package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.StreamId;
import io.pulse.agg.ValueStats;
import io.pulse.agg.WindowAgg;
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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * GET /api/v1/streams/{stream}/series on a real server over known stored windows: two minutes of
 * 1 s windows of four series (region eu/us x store s1/s2), the stream total stored for the second
 * minute only, and the first minute also downsampled to 1 min. Expected figures are computed by
 * merging the same windows directly.
 */
class HistoryApiTest {

  static final long T0 = 1_763_805_600_000L; // 2025-11-22T10:00:00Z, on an hour
  static final List<Dims> SERIES = List.of(Dims.of("region", "eu", "store", "s1"), Dims.of("region", "eu", "store",
      "s2"), Dims.of("region", "us", "store", "s1"), Dims.of("region", "us", "store", "s2"));

  static TestPulse pulse;
  static TestPulse noStorage;
  /** Every stored 1 s window, by series and start. */
  static final Map<Dims, Map<Long, WindowAgg>> windows = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    Migrations.migrate(db.jdbcUrl(), db.user(), db.password(), null);
    Vertx vertx = Vertx.vertx();
    Pool pool = Database.buildPool(vertx, new Database.Target(db.host(), db.port(), db.name(), db.user(),
        db.password(), io.pulse.config.PulseConfig.SslMode.DISABLE, ""), 2);
    RollupCodec codec = new RollupCodec(0.01, 2048);
    RollupStore store = new RollupStore(pool);
    Random rnd = new Random(11);
    List<Row> rows = new ArrayList<>();
    WindowAgg[] firstMinute = new WindowAgg[SERIES.size()];
    for (int s = 0; s < SERIES.size(); s++) {
      firstMinute[s] = new WindowAgg(T0, T0 + 60_000, 0.01, 2048);
    }
    for (long t = T0; t < T0 + 120_000; t += 1000) {
      WindowAgg total = new WindowAgg(t, t + 1000, 0.01, 2048);
      for (int s = 0; s < SERIES.size(); s++) {
        WindowAgg w = new WindowAgg(t, t + 1000, 0.01, 2048);
        int n = 1 + rnd.nextInt(6);
        for (int i = 0; i < n; i++) {
          w.add(new Event(StreamId.of("hist"), t + i, null, SERIES.get(s), new String[] {"amount", "items"},
              new double[] {Math.exp(rnd.nextGaussian()) * 100, 1 + rnd.nextInt(4)}, t + i));
        }
        windows.computeIfAbsent(SERIES.get(s), k -> new HashMap<>()).put(t, w);
        rows.add(Row.of(SeriesKey.series(StreamId.of("hist"), SERIES.get(s)), w, codec));
        total.merge(w);
        if (t < T0 + 60_000) {
          firstMinute[s].merge(w);
        }
      }
      if (t >= T0 + 60_000) {
        rows.add(Row.of(SeriesKey.group(StreamId.of("hist"), List.of(), Dims.EMPTY), total, codec));
      }
    }
    for (int s = 0; s < SERIES.size(); s++) {
      rows.add(Row.of(SeriesKey.series(StreamId.of("hist"), SERIES.get(s)), firstMinute[s], codec)); // a 1 min row
    }
    store.write(rows).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    db.exec("insert into streams (name, dims, value_names, first_seen, last_seen) values ('hist', "
        + "'{\"region\":[\"eu\",\"us\"],\"store\":[\"s1\",\"s2\"]}', '[\"amount\",\"items\"]', "
        + "to_timestamp(" + T0 / 1000 + "), to_timestamp(" + (T0 + 120_000) / 1000 + "))");
    pool.close();
    vertx.close();
    pulse = TestPulse.startWithStorage(db, null);
    noStorage = TestPulse.start(null);
  }

  @AfterAll
  static void stop() {
    pulse.close();
    noStorage.close();
  }

  /** The direct merge of the stored windows of the series matching {@code match}, over [from, to). */
  static WindowAgg expected(java.util.function.Predicate<Dims> match, long from, long to) {
    WindowAgg sum = new WindowAgg(from, to, 0.01, 2048);
    windows.forEach((d, byStart) -> {
      if (match.test(d)) {
        byStart.forEach((t, w) -> {
          if (t >= from && t < to) {
            sum.merge(w);
          }
        });
      }
    });
    return sum;
  }

  static ValueStats stats(WindowAgg w, String name) {
    for (int i = 0; i < w.valueCount(); i++) {
      if (w.valueName(i).equals(name)) {
        return w.valueStats(i);
      }
    }
    throw new AssertionError(name);
  }

  /** The point's figures equal the direct merge's: exact count/sum/min/max, and the same percentiles. */
  static void assertPoint(WindowAgg want, JsonArray point) {
    JsonObject p = point.getJsonObject(1);
    assertEquals(want.count(), p.getLong("count"));
    ValueStats.Summary s = stats(want, "amount").summary();
    JsonObject a = p.getJsonObject("values").getJsonObject("amount");
    assertEquals(s.count(), a.getLong("count"));
    assertEquals(s.sum(), a.getDouble("sum"), Math.abs(s.sum()) * 1e-12);
    assertEquals(s.min(), a.getDouble("min"));
    assertEquals(s.max(), a.getDouble("max"));
    assertEquals(s.p50(), a.getDouble("p50"));
    assertEquals(s.p95(), a.getDouble("p95"));
    assertEquals(s.p99(), a.getDouble("p99"));
  }

  static JsonObject ok(String query) {
    TestPulse.Response r = pulse.get("/api/v1/streams/hist/series?" + query);
    assertEquals(200, r.status(), r.body());
    return r.json();
  }

  static String range() {
    return "from=" + T0 + "&to=" + (T0 + 120_000);
  }

  @Test
  @DisplayName("step=1m, no groupBy: the stream total per minute, percentiles from merged sketches, 1 min rows used")
  void totalPerMinute() {
    JsonObject body = ok(range() + "&step=1m");
    assertEquals("1m", body.getString("step"));
    assertEquals("1m", body.getString("resolution"));
    JsonArray series = body.getJsonArray("series");
    assertEquals(1, series.size());
    assertEquals(new JsonObject(), series.getJsonObject(0).getJsonObject("series"));
    JsonArray points = series.getJsonObject(0).getJsonArray("points");
    assertEquals(2, points.size());
    assertEquals(T0, points.getJsonArray(0).getLong(0));
    assertEquals(T0 + 60_000, points.getJsonArray(1).getLong(0));
    assertPoint(expected(d -> true, T0, T0 + 60_000), points.getJsonArray(0));
    assertPoint(expected(d -> true, T0 + 60_000, T0 + 120_000), points.getJsonArray(1));
  }

  @Test
  @DisplayName("a range wider than the data has every bucket: empty ones count 0 with no figures, cut ends partial")
  void gapsAndPartialEnds() {
    // 25.5 s before the data to 5.5 s after it, in 10 s buckets: 3 empty, 12 with data, 1 empty
    JsonObject body = ok("from=" + (T0 - 25_500) + "&to=" + (T0 + 125_500) + "&step=10s");
    JsonArray points = body.getJsonArray("series").getJsonObject(0).getJsonArray("points");
    assertEquals(16, points.size(), points.encode());
    for (int i = 0; i < 16; i++) {
      long t = T0 - 30_000 + i * 10_000L;
      JsonArray point = points.getJsonArray(i);
      assertEquals(t, point.getLong(0));
      JsonObject p = point.getJsonObject(1);
      if (i < 3 || i == 15) {
        assertEquals(0, p.getLong("count"), p.encode());
        assertEquals(new JsonObject(), p.getJsonObject("values"), "no figures in an empty bucket: " + p.encode());
      } else {
        assertPoint(expected(d -> true, t, t + 10_000), point);
      }
      assertEquals(i == 0 || i == 15, p.getBoolean("partial", false), "partial only where the range cuts: " + i);
    }
  }

  @Test
  @DisplayName("step=1s: one point a second, from stored totals where kept and from series elsewhere")
  void perSecond() {
    JsonArray points = ok(range() + "&step=1s").getJsonArray("series").getJsonObject(0).getJsonArray("points");
    assertEquals(120, points.size());
    for (int i : new int[] {0, 59, 60, 119}) {
      long t = T0 + i * 1000L;
      assertPoint(expected(d -> true, t, t + 1000), points.getJsonArray(i));
    }
  }

  @Test
  @DisplayName("step=10s merges ten 1 s windows into each point; no step picks one giving at most 1000 points")
  void coarserStepAndDefault() {
    JsonArray points = ok(range() + "&step=10s").getJsonArray("series").getJsonObject(0).getJsonArray("points");
    assertEquals(12, points.size());
    assertPoint(expected(d -> true, T0 + 30_000, T0 + 40_000), points.getJsonArray(3));
    JsonObject dflt = ok(range());
    assertEquals("1s", dflt.getString("step"));
    assertEquals(120, dflt.getJsonArray("series").getJsonObject(0).getJsonArray("points").size());
  }

  @Test
  @DisplayName("groupBy=region: one series per region, merged from the series rows")
  void groupBy() {
    JsonArray series = ok(range() + "&step=1m&groupBy=region").getJsonArray("series");
    assertEquals(2, series.size());
    assertEquals(new JsonObject().put("region", "eu"), series.getJsonObject(0).getJsonObject("series"));
    assertEquals(new JsonObject().put("region", "us"), series.getJsonObject(1).getJsonObject("series"));
    assertPoint(expected(d -> d.get("region").equals("us"), T0 + 60_000, T0 + 120_000),
        series.getJsonObject(1).getJsonArray("points").getJsonArray(1));
  }

  @Test
  @DisplayName("filter=region:eu, alone and with groupBy=store, in the live feed's syntax")
  void filter() {
    JsonArray total = ok(range() + "&step=1m&filter=region:eu").getJsonArray("series");
    assertEquals(1, total.size());
    assertPoint(expected(d -> d.get("region").equals("eu"), T0, T0 + 60_000),
        total.getJsonObject(0).getJsonArray("points").getJsonArray(0));
    JsonArray byStore = ok(range() + "&step=2m&filter=region:eu&groupBy=store").getJsonArray("series");
    assertEquals(2, byStore.size());
    assertEquals(new JsonObject().put("store", "s2"), byStore.getJsonObject(1).getJsonObject("series"));
    assertPoint(expected(d -> d.equals(SERIES.get(1)), T0, T0 + 120_000),
        byStore.getJsonObject(1).getJsonArray("points").getJsonArray(0));
    JsonArray both = ok(range() + "&step=1m&filter=region:eu,region:us&filter=store:s1").getJsonArray("series");
    assertPoint(expected(d -> d.get("store").equals("s1"), T0, T0 + 60_000),
        both.getJsonObject(0).getJsonArray("points").getJsonArray(0));
  }

  @Test
  @DisplayName("metric=items: only that value; from/to narrow the range (ISO-8601 accepted)")
  void metricAndRange() {
    JsonObject body = ok("from=2025-11-22T10:00:30Z&to=2025-11-22T10:00:40Z&step=5s&metric=items");
    JsonArray points = body.getJsonArray("series").getJsonObject(0).getJsonArray("points");
    assertEquals(2, points.size());
    assertEquals(T0 + 30_000, points.getJsonArray(0).getLong(0));
    JsonObject values = points.getJsonArray(0).getJsonObject(1).getJsonObject("values");
    assertEquals(List.of("items"), new ArrayList<>(values.fieldNames()));
    assertEquals(expected(d -> true, T0 + 30_000, T0 + 35_000).count(),
        points.getJsonArray(0).getJsonObject(1).getLong("count"));
    assertTrue(ok("from=" + (T0 + 200_000) + "&to=" + (T0 + 300_000) + "&step=1m").getJsonArray("series").isEmpty());
  }

  @Test
  @DisplayName("each bad parameter is a 400 with a JSON reason")
  void badParameters() {
    Map<String, String> bad = new java.util.LinkedHashMap<>();
    bad.put(range().replace("from=" + T0, "from=" + (T0 + 120_000)), "from: must be before to");
    bad.put(range() + "&step=soon", "step:");
    bad.put(range() + "&step=1500ms", "whole number of seconds");
    bad.put("from=0&to=" + T0 + "&step=1s", "points per series");
    bad.put(range() + "&filter=region", "is not dim:value");
    bad.put(range() + "&groupBy=re%20gion", "is not a dim name");
    bad.put(range() + "&metric=a%20b", "is not a value name");
    bad.put(range() + "&window=1m", "not a parameter");
    bad.put("from=yesterday", "neither epoch milliseconds, an ISO-8601");
    bad.put("from=-9223372036854775808", "outside 1970 to 9999");
    bad.put(range() + "&step=1m&step=1h", "give it once");
    bad.forEach((query, why) -> {
      TestPulse.Response r = pulse.get("/api/v1/streams/hist/series?" + query);
      assertEquals(400, r.status(), query + " -> " + r.body());
      assertTrue(r.json().getString("error").contains(why), query + " -> " + r.body());
    });
    TestPulse.Response path = pulse.get("/api/v1/streams/Not%20Valid/series");
    assertEquals(400, path.status());
  }

  @Test
  @DisplayName("a range of decades without a step gets whole days, at most 1000 points; from= takes a duration back")
  void longRangesAndDurations() {
    TestPulse.Response decades = pulse.get("/api/v1/streams/hist/series?from=0&to=" + (T0 + 120_000));
    assertEquals(200, decades.status(), decades.body());
    assertTrue(decades.json().getString("step").endsWith("d"), decades.body().substring(0, 200));
    TestPulse.Response ago = pulse.get("/api/v1/streams/hist/series?from=15m");
    assertEquals(200, ago.status(), ago.body());
  }

  @Test
  @DisplayName("a group-by, filter or metric the stream never had gets a warning, as on the live feed")
  void warnings() {
    JsonObject known = pulse.get("/api/v1/streams/hist/series?" + range() + "&groupBy=region").json();
    assertTrue(!known.containsKey("warnings"), known.encode().substring(0, 120));
    JsonObject typo = pulse.get("/api/v1/streams/hist/series?" + range() + "&groupBy=regoin&metric=amuont").json();
    JsonArray w = typo.getJsonArray("warnings");
    assertEquals(2, w.size(), typo.encode());
    assertTrue(w.getString(0).contains("no dim \"regoin\""), w.encode());
    assertTrue(w.getString(1).contains("no value \"amuont\""), w.encode());
  }

  @Test
  @DisplayName("404 for a stream never seen; 503 when storage is off")
  void notFoundAndOff() {
    TestPulse.Response none = pulse.get("/api/v1/streams/nosuch/series");
    assertEquals(404, none.status());
    assertTrue(none.json().getString("error").contains("nosuch"));
    TestPulse.Response off = noStorage.get("/api/v1/streams/hist/series");
    assertEquals(503, off.status());
    assertTrue(off.json().getString("error").contains("storage is off"), off.body());
  }

  @Test
  @DisplayName("GET /api/v1/streams lists streams from earlier runs (the stored catalogue) beside live ones")
  void catalogue() {
    pulse.postNdjson("fresh", "{\"dims\":{\"k\":\"v\"},\"values\":{\"x\":1}}");
    JsonArray streams = pulse.get("/api/v1/streams").json().getJsonArray("streams");
    JsonObject hist = null;
    JsonObject fresh = null;
    for (Object o : streams) {
      JsonObject s = (JsonObject) o;
      if ("hist".equals(s.getString("stream"))) {
        hist = s;
      } else if ("fresh".equals(s.getString("stream"))) {
        fresh = s;
      }
    }
    assertFalse(hist.getBoolean("live"));
    assertEquals(new JsonArray().add("eu").add("us"), hist.getJsonObject("dims").getJsonArray("region"));
    assertEquals(new JsonArray().add("amount").add("items"), hist.getJsonArray("values"));
    assertEquals(T0, hist.getLong("firstSeen"));
    assertNull(hist.getValue("series"));
    assertTrue(fresh.getBoolean("live"));
    assertEquals(1, fresh.getInteger("series"));
  }
}
