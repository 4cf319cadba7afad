package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.pulse.testing.TestTenants;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Event scoring through the real server and a real PostgreSQL: a scored stream trains on demand
 * after normal events, on a worker thread; a burst of outliers is then counted in the final rollup,
 * listed with its scores by the outliers endpoint, and the model record is stored.
 */
class ScoringServerTest {

  private static final String[] COUNTRIES = {"us", "us", "us", "gb", "gb", "de", "fr", "nl"};
  private static final String[] REGIONS = {"eu", "us", "ap"};

  private static String normal(Random r, long ts) {
    double amount = Math.exp(Math.log(40) + 0.5 * r.nextGaussian());
    return event(ts, amount, 1 + r.nextInt(4), COUNTRIES[r.nextInt(COUNTRIES.length)], REGIONS[r.nextInt(3)]);
  }

  private static String event(long ts, double amount, int items, String country, String region) {
    return new JsonObject().put("ts", ts).put("dims", new JsonObject().put("country", country).put("region", region))
        .put("values", new JsonObject().put("amount", amount).put("items", items)).encode();
  }

  @Test
  @DisplayName("train on demand (on a worker), then a burst of outliers: counted in the final rollup, listed with "
      + "their scores, model and outliers stored by tenant; an unscored stream answers 409 and 404")
  void trainThenBurst() {
    PgFixture.Db db = PgFixture.freshDatabase();
    JsonObject scoring = new JsonObject().put("streams", new JsonArray().add("pay")).put("sample", 2000)
        .put("minTrain", 200).put("retrainEvery", "1h");
    try (TestPulse pulse = TestPulse.startWithStorage(db, new JsonObject().put("scoring", scoring))) {
      Random r = new Random(11);
      StringBuilder body = new StringBuilder();
      long now = System.currentTimeMillis();
      for (int i = 0; i < 1500; i++) {
        body.append(normal(r, now - 1500 + i)).append('\n');
      }
      assertEquals(202, pulse.postNdjson("pay", body.toString()));
      TestPulse.Response train = pulse.post("/api/v1/streams/pay/model/train", null, "");
      assertEquals(202, train.status(), train.body());
      JsonObject job = train.json().getJsonObject("job");
      assertEquals("pay", job.getString("stream"));
      JsonObject model = pulse.awaitJson("/api/v1/streams/pay/model", j -> j.getInteger("version", 0) >= 1
          && "done".equals(j.getJsonObject("job").getString("state")), 30_000);
      assertTrue(model.getInteger("trainingSize") >= 200 && model.getInteger("trainingSize") <= 2000, model.encode());
      assertTrue(model.getJsonArray("features").contains("value:amount"), model.encode());
      assertTrue(model.getJsonArray("features").contains("dim:country"), model.encode());
      assertEquals(0.01, model.getDouble("nu"));
      assertTrue(model.containsKey("threshold") && model.containsKey("trainedAt") && model.containsKey("trainingMs"));
      assertTrue(model.getString("trainedOn").startsWith("pulse-score-train"),
          "trained on the scoring worker pool, not an event loop: " + model.getString("trainedOn"));
      int version = model.getInteger("version");

      try (LiveClient sse = LiveClient.sse(pulse.port(), "stream=pay", null)) {
        sse.await(m -> "subscribed".equals(m.type()), 5000);
        // the model was published to the shards before its job was marked done, long before this request
        StringBuilder burst = new StringBuilder();
        // in a window of its own: the next whole second, after every event sent before (ts may be a little ahead)
        long at = (Math.max(now, System.currentTimeMillis()) / 1000 + 1) * 1000 + 100;
        for (int i = 0; i < 100; i++) {
          burst.append(normal(r, at)).append('\n');
        }
        for (int i = 0; i < 30; i++) {
          burst.append(event(at, 1_000_000 + i, 2, "kp", "eu")).append('\n');
        }
        assertEquals(202, pulse.postNdjson("pay", burst.toString()));
        LiveClient.Msg fin = sse.await(m -> "rollup".equals(m.type()) && m.json().getBoolean("final", false)
            && m.json().getLong("start") <= at && at < m.json().getLong("end"), 10_000);
        assertEquals(130, fin.json().getLong("count"));
        long outliers = fin.json().getLong("outliers", 0L);
        assertTrue(outliers >= 30 && outliers <= 33, "the burst's 30 and at most 3 of 100 normal events: " + outliers);
      }

      JsonObject listed = pulse.awaitJson("/api/v1/streams/pay/outliers?limit=1000", j -> j.getJsonArray("outliers")
          .stream().filter(o -> ((JsonObject) o).getJsonObject("values").getDouble("amount") >= 1_000_000).count() == 30,
          10_000);
      assertTrue(listed.getBoolean("stored"));
      for (Object o : listed.getJsonArray("outliers")) {
        JsonObject x = (JsonObject) o;
        assertTrue(x.getDouble("score") > 0.5 && x.getDouble("score") <= 1, x.encode());
        assertEquals(version, x.getInteger("modelVersion"));
        assertFalse(x.getJsonArray("reasons").isEmpty(), x.encode());
      }
      assertEquals(0, pulse.get("/api/v1/streams/pay/outliers?to=1000").json().getJsonArray("outliers").size(),
          "a range before them lists none");
      assertEquals(400, pulse.get("/api/v1/streams/pay/outliers?limit=0").status());
      assertEquals(1, db.queryLong("select count(*) from event_models where tenant = 'default' and stream = 'pay' "
          + "and trained_on like 'pulse-score-train%'"));

      // another tenant's stream of the same name: its own (no) model, its own (no) outliers, its own training
      pulse.pulse().callers(TestTenants.RESOLVER);
      String[] globex = {TestTenants.HEADER, "globex"};
      assertEquals(404, pulse.request("GET", "/api/v1/streams/pay/model", null, globex).statusCode());
      assertEquals(0, new JsonObject(pulse.request("GET", "/api/v1/streams/pay/outliers", null, globex).body())
          .getJsonArray("outliers").size());
      assertEquals(404, pulse.request("POST", "/api/v1/streams/pay/model/train", null, globex).statusCode(),
          "no events of globex's pay in this run");
      JsonArray few = new JsonArray();
      for (int i = 0; i < 50; i++) {
        few.add(new JsonObject(normal(r, System.currentTimeMillis())));
      }
      var sent = pulse.request("POST", "/api/v1/streams/pay/events", few.encode(), TestTenants.HEADER, "globex");
      assertEquals(202, sent.statusCode(), sent.body());
      assertEquals(202, pulse.request("POST", "/api/v1/streams/pay/model/train", null, globex).statusCode());
      JsonObject failed = Await.until("globex's training to fail for too few events", () -> new JsonObject(
          pulse.request("GET", "/api/v1/streams/pay/model", null, globex).body()),
          j -> j.getJsonObject("job") != null && "failed".equals(j.getJsonObject("job").getString("state")), 20_000);
      assertTrue(failed.getJsonObject("job").getString("error").contains("scoring.minTrain"), failed.encode());
      assertEquals(version, pulse.get("/api/v1/streams/pay/model").json().getInteger("version"),
          "the default tenant's model is untouched");

      TestPulse.Response other = pulse.post("/api/v1/streams/other/model/train", null, "");
      assertEquals(409, other.status());
      assertTrue(other.json().getString("error").contains("scoring.streams"), other.body());
      TestPulse.Response none = pulse.get("/api/v1/streams/other/model");
      assertEquals(404, none.status());
      assertTrue(none.json().containsKey("error"));
    }
  }

  @Test
  @DisplayName("model versions count on from the stored ones after a restart")
  void versionsSurviveRestart() {
    PgFixture.Db db = PgFixture.freshDatabase();
    JsonObject scoring = new JsonObject().put("streams", new JsonArray().add("pay")).put("sample", 1000)
        .put("minTrain", 100).put("retrainEvery", "1h");
    Random r = new Random(12);
    for (int run = 1; run <= 2; run++) {
      try (TestPulse pulse = TestPulse.startWithStorage(db, new JsonObject().put("scoring", scoring))) {
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 300; i++) {
          body.append(normal(r, System.currentTimeMillis())).append('\n');
        }
        assertEquals(202, pulse.postNdjson("pay", body.toString()));
        assertEquals(202, pulse.post("/api/v1/streams/pay/model/train", null, "").status());
        int expected = run;
        // (a scheduled warm-up training may come first after the restart: the answer is then its version)
        pulse.awaitJson("/api/v1/streams/pay/model", j -> j.getInteger("version", 0) >= expected, 30_000);
      }
    }
    assertEquals(2, db.queryLong("select count(*) from event_models where stream = 'pay' and version in (1, 2)"));
    assertEquals(0, db.queryLong("select count(*) from event_models where stream = 'pay' and version < 1"));
  }
}
