package io.pulse.store;

import static io.pulse.store.RollupCodecTest.CODEC;
import static io.pulse.store.RollupCodecTest.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.store.RollupStore.Query;
import io.pulse.store.RollupStore.Resolution;
import io.pulse.store.RollupStore.Row;
import io.pulse.store.RollupStore.SeriesKey;
import io.pulse.store.RollupStore.Stored;
import io.pulse.testing.PgFixture;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Scores, their explanations and outlier counts through PostgreSQL: written, read, downsampled, rendered. */
class AnomalyStoreTest {

  private static final long MIN = 60_000L;
  private static final long T0 = 1_795_000_000_000L / 3_600_000L * 3_600_000L;
  private static final String WHY = "{\"figure\":\"count\",\"value\":90.0,\"expected\":10.0,\"band\":[6.0,14.0],"
      + "\"deviation\":12.5,\"method\":\"ewma\"}";

  private static Vertx vertx;
  private static Pool pool;
  private static RollupStore store;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    pool = StoreTesting.migratedPool(vertx, PgFixture.freshDatabase(), 4);
    store = new RollupStore(pool);
  }

  @AfterAll
  static void stop() throws Exception {
    pool.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /** Ten 1 s windows of one series: the fourth scored 0.97 with its reason and 3 outliers, the others 0.1 or unscored. */
  private static List<Row> rows(String stream) {
    Random rnd = new Random(5);
    List<Row> rows = new ArrayList<>();
    SeriesKey key = SeriesKey.series(StreamId.of(stream), Dims.of("job", "etl"));
    for (int s = 0; s < 10; s++) {
      Row plain = Row.of(key, window(T0 + s * 1000L, 1000, 10, rnd), CODEC);
      double score = s == 3 ? 0.97 : s % 2 == 0 ? 0.1 : Double.NaN;
      rows.add(new Row(key, plain.start(), plain.end(), plain.count(), plain.latest(), plain.data(), score,
          s == 3 ? WHY : null, s == 3 ? 3 : s == 5 ? 1 : 0));
    }
    return rows;
  }

  @Test
  @DisplayName("a stored window keeps its score, its explanation and its outliers; unscored ones read back as NaN")
  void roundTrip() throws Exception {
    await(store.write(rows("scored")));
    List<Stored> back = await(store.query(new Query(StreamId.of("scored"), Resolution.SECOND, T0, T0 + MIN, Map.of(),
        List.of(), 1000)));
    assertEquals(10, back.size());
    assertEquals(0.97, back.get(3).score(), 1e-6);
    assertEquals(new JsonObject(WHY), new JsonObject(back.get(3).anomaly()));
    assertEquals(3, back.get(3).outliers());
    assertTrue(Double.isNaN(back.get(1).score()));
    assertEquals(0.1, back.get(2).score(), 1e-6);
    assertEquals(1, back.get(5).outliers());
  }

  @Test
  @DisplayName("history: a 10 s point carries the highest score of its windows with that score's reason, and the sum of outliers")
  void historyPoint() throws Exception {
    await(store.write(rows("hist")));
    History.Request req = new History.Request(StreamId.of("hist"), T0, T0 + 20_000, 10_000, Map.of(), List.of(), Set.of());
    JsonObject out = History.render(req, await(store.read(req, 10_000)), CODEC, 2048);
    JsonArray points = out.getJsonArray("series").getJsonObject(0).getJsonArray("points");
    JsonObject first = points.getJsonArray(0).getJsonObject(1);
    assertEquals(0.97, first.getDouble("score"), 1e-4);
    assertEquals("ewma", first.getJsonObject("anomaly").getString("method"));
    assertEquals(4, first.getLong("outliers"));
    JsonObject empty = points.getJsonArray(1).getJsonObject(1);
    assertFalse(empty.containsKey("score"));
    assertFalse(empty.containsKey("outliers"));
  }

  @Test
  @DisplayName("downsampling keeps the minute's highest score with its reason and adds up the outliers")
  void downsampled() throws Exception {
    await(store.write(rows("down")));
    PulseConfig.Retention keep = new PulseConfig.Retention(Long.MAX_VALUE / 4, Long.MAX_VALUE / 4, Long.MAX_VALUE / 4);
    Downsampler d = new Downsampler(pool, CODEC, keep, vertx::executeBlocking);
    Downsampler.Result r;
    int guard = 0;
    do {
      r = await(d.run(T0 + 10 * MIN, T0 + 5 * MIN));
    } while (r.more() && ++guard < 50);
    List<Stored> minute = await(store.query(new Query(StreamId.of("down"), Resolution.MINUTE, T0, T0 + MIN, Map.of(),
        List.of(), 1000)));
    assertEquals(1, minute.size());
    assertEquals(0.97, minute.get(0).score(), 1e-6);
    assertEquals(new JsonObject(WHY), new JsonObject(minute.get(0).anomaly()));
    assertEquals(4, minute.get(0).outliers());
  }

  @Test
  @DisplayName("the anomalies list: windows at or above the level, oldest first, with their reason; a limit says truncated")
  void anomaliesList() throws Exception {
    await(store.write(rows("listed")));
    PulseConfig.Retention keep = new PulseConfig.Retention(86_400_000L, 30 * 86_400_000L, 730 * 86_400_000L);
    Anomalies.Request req = Anomalies.parse(StreamId.of("listed"), Map.of("from", List.of(String.valueOf(T0)),
        "to", List.of(String.valueOf(T0 + MIN))), T0 + MIN, keep);
    assertEquals(Anomalies.DEFAULT_MIN, req.min());
    assertEquals(Resolution.SECOND, req.resolution());
    JsonObject out = Anomalies.render(req, await(Anomalies.read(pool, req)));
    JsonArray list = out.getJsonArray("anomalies");
    assertEquals(1, list.size(), out.encode());
    assertEquals(T0 + 3000, list.getJsonObject(0).getLong("start"));
    assertEquals("series", list.getJsonObject(0).getString("view"));
    assertEquals("etl", list.getJsonObject(0).getJsonObject("series").getString("job"));
    assertEquals("ewma", list.getJsonObject(0).getJsonObject("anomaly").getString("method"));
    assertFalse(out.getBoolean("truncated"));

    Anomalies.Request low = Anomalies.parse(StreamId.of("listed"), Map.of("from", List.of(String.valueOf(T0)),
        "to", List.of(String.valueOf(T0 + MIN)), "min", List.of("0.05"), "limit", List.of("3")), T0 + MIN, keep);
    JsonObject some = Anomalies.render(low, await(Anomalies.read(pool, low)));
    assertEquals(3, some.getJsonArray("anomalies").size());
    assertTrue(some.getBoolean("truncated"));
    // another tenant's stream of the same name has none
    Anomalies.Request other = new Anomalies.Request(StreamId.of("acme", "listed"), T0, T0 + MIN, 0, 100,
        Resolution.SECOND);
    assertTrue(await(Anomalies.read(pool, other)).isEmpty());
  }

  @Test
  @DisplayName("bad anomalies parameters are refused with the reason")
  void badParameters() {
    PulseConfig.Retention keep = new PulseConfig.Retention(86_400_000L, 30 * 86_400_000L, 730 * 86_400_000L);
    for (Map<String, List<String>> p : List.of(Map.of("min", List.of("2")), Map.of("min", List.of("x")),
        Map.of("limit", List.of("0")), Map.of("limit", List.of("99999999999")), Map.of("resolution", List.of("5s")),
        Map.of("step", List.of("1m")))) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> Anomalies.parse(StreamId.of("x"), p, T0, keep), p.toString());
      assertTrue(e.getMessage().startsWith(p.keySet().iterator().next()), e.getMessage());
    }
  }
}
