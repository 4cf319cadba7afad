package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.ManualClock;
import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Anomaly detection in the running server, with storage and a manual clock (windows close when the
 * test moves time, so 300 one-second windows take no waiting): detectors warm up, a burst of
 * events scores high on the live feed, in history and in the anomalies list, "not an anomaly"
 * reaches the detectors and the audit log, and detectors survive a restart.
 */
class DetectionServerTest {

  private static final long T0 = 1_796_000_000_000L;
  private static final int WINDOWS = 300;
  private static final int SPIKE = 250;
  /**
   * Longer than the whole run in manual time: the test moves the clock faster than a loaded machine
   * may aggregate, and a batch whose window had closed would join a later one. Every window closes
   * when the clock finally passes it.
   */
  private static final long LATENESS = 600_000;

  private static JsonObject settings() {
    return new JsonObject()
        .put("aggregation", new JsonObject().put("window", "1s").put("allowedLatenessMs", LATENESS)
            .put("seriesIdleMs", 0).put("streamIdleMs", 0))
        .put("live", new JsonObject().put("flushMs", 20));
  }

  private static String events(int n, Random rnd) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append("{\"dims\":{\"job\":\"etl\"},\"values\":{\"ms\":").append(100 + Math.round(rnd.nextGaussian() * 5))
          .append("}}\n");
    }
    return sb.toString();
  }

  private static JsonObject status(TestPulse p) {
    return p.get("/api/v1/streams/det/detectors").json();
  }

  @Test
  @DisplayName("warm-up, a burst scored on the live feed, in history and the anomalies list, feedback, and a restart")
  void detection() {
    PgFixture.Db db = PgFixture.freshDatabase();
    ManualClock clock = new ManualClock(T0);
    Random rnd = new Random(12);
    long spikeStart = 0;
    int[] counts = new int[WINDOWS];
    String anomalyAlert;
    try (TestPulse p = TestPulse.startWithStorage(db, settings(), clock);
        LiveClient live = LiveClient.sse(p.port(), "stream=det", null)) {
      live.await(m -> "subscribed".equals(m.type()), 5000);
      // an anomaly rule and a threshold rule, both for the burst
      for (String rule : new String[] {"{\"name\":\"det unusual\",\"stream\":\"det\",\"kind\":\"anomaly\","
          + "\"value\":0.9}", "{\"name\":\"det busy\",\"stream\":\"det\",\"kind\":\"threshold\",\"op\":\">\","
          + "\"value\":100}"}) {
        assertEquals(201, p.request("POST", "/api/v1/rules", rule, "Content-Type", "application/json").statusCode());
      }
      for (int w = 0; w < WINDOWS; w++) {
        int n = w == SPIKE ? 120 : 20 + rnd.nextInt(5);
        counts[w] = n;
        if (w == SPIKE) {
          spikeStart = clock.millis(); // whole seconds: the window of the burst
        }
        assertEquals(202, p.postNdjson("det", events(n, rnd)));
        long start = clock.millis();
        clock.advance(1000);
        if (w == 10) {
          // once the shard has this window's events, close the first windows: their detectors exist, warming up
          live.await(m -> "rollup".equals(m.type()) && m.json().getLong("start") == start
              && m.json().getLong("count") == n, 10_000);
          clock.advance(LATENESS);
          JsonObject warming = Await.until("the detectors exist, warming up", () -> status(p),
              s -> s.getInteger("detectors") == 4, 10_000);
          assertEquals(0, warming.getInteger("warm"), warming.encode());
        }
      }
      long last = clock.millis() - 1000;
      int lastCount = counts[WINDOWS - 1];
      live.await(m -> "rollup".equals(m.type()) && m.json().getLong("start") == last
          && m.json().getLong("count") == lastCount, 10_000); // the shard has every event: now close every window
      clock.advance(LATENESS + 10_000);
      JsonObject s = Await.until("every detector warm and done", () -> status(p),
          x -> x.getInteger("warm") == 4 && x.getJsonArray("items").stream()
              .allMatch(i -> ((JsonObject) i).getLong("seen") >= WINDOWS), 20_000);
      assertEquals(4, s.getInteger("detectors"), "count and ms.mean of the series and of the stream total");

      // live: the stream total's final rollup of the burst carries its score and why
      long burst = spikeStart;
      JsonObject fin = live.await(m -> "rollup".equals(m.type()) && m.json().getBoolean("final")
          && m.json().getLong("start") == burst, 20_000).json();
      assertTrue(fin.getDouble("score") >= 0.9, fin.encode());
      assertEquals("count", fin.getJsonObject("anomaly").getString("figure"), fin.encode());
      assertEquals(120.0, fin.getJsonObject("anomaly").getDouble("value"));

      // the anomalies list: the burst, for the series and the total; nothing else at the default level
      JsonObject listed = Await.until("the burst stored and listed", () -> p.get(
              "/api/v1/streams/det/anomalies?from=" + T0 + "&to=" + clock.millis()).json(),
          x -> x.getJsonArray("anomalies").size() >= 2, 20_000);
      JsonArray hits = listed.getJsonArray("anomalies");
      assertTrue(hits.stream().allMatch(h -> ((JsonObject) h).getLong("start") == burst), hits.encode());
      assertEquals(java.util.Set.of("series", "total"),
          hits.stream().map(h -> ((JsonObject) h).getString("view")).collect(java.util.stream.Collectors.toSet()));

      // history: the point of the burst has its score
      JsonObject hist = p.get("/api/v1/streams/det/series?from=" + spikeStart + "&to=" + (spikeStart + 1000)
          + "&step=1s").json();
      JsonObject point = hist.getJsonArray("series").getJsonObject(0).getJsonArray("points").getJsonArray(0)
          .getJsonObject(1);
      assertTrue(point.getDouble("score") >= 0.9, point.encode());

      // not an anomaly, said on the alert the burst raised: the detectors of its series take it; an alert of a
      // threshold rule has no detector to teach (409), an unknown one is a 404
      JsonArray alerts = Await.until("both rules fired on the burst", () -> p.get("/api/v1/alerts?stream=det").json()
          .getJsonArray("alerts"), a -> a.stream().map(x -> ((JsonObject) x).getString("ruleName")).distinct().count() == 2,
          20_000);
      anomalyAlert = null;
      String thresholdAlert = null;
      for (Object o : alerts) {
        JsonObject a = (JsonObject) o;
        if ("det unusual".equals(a.getString("ruleName"))) {
          anomalyAlert = a.getString("id");
          assertEquals(burst, a.getLong("windowStart"), "opened by the burst's window: " + a.encode());
          assertTrue(a.getString("message").contains("count = 120"), a.encode());
        } else {
          thresholdAlert = a.getString("id");
        }
      }
      HttpResponse<String> na = p.request("POST", "/api/v1/alerts/" + anomalyAlert + "/not-anomaly",
          "{\"comment\":\"a planned load test\"}", "Content-Type", "application/json");
      assertEquals(200, na.statusCode(), na.body());
      assertEquals(1, new JsonObject(na.body()).getInteger("detectors"), "the stream total's count detector: " + na.body());
      HttpResponse<String> no = p.request("POST", "/api/v1/alerts/" + thresholdAlert + "/not-anomaly", "",
          "Content-Type", "application/json");
      assertEquals(409, no.statusCode(), no.body());
      assertEquals(404, p.request("POST", "/api/v1/alerts/nope/not-anomaly", "", "Content-Type", "application/json")
          .statusCode());

      // not an anomaly, said on the window: the detectors that flagged it take it, audited; a window nobody flagged
      // is a 404
      HttpResponse<String> fb = p.request("POST", "/api/v1/streams/det/anomalies/feedback",
          new JsonObject().put("start", spikeStart).encode(), "Content-Type", "application/json");
      assertEquals(200, fb.statusCode(), fb.body());
      assertTrue(new JsonObject(fb.body()).getInteger("detectors") >= 2, fb.body());
      assertEquals(404, p.request("POST", "/api/v1/streams/det/anomalies/feedback",
          new JsonObject().put("start", T0 + 7000).encode(), "Content-Type", "application/json").statusCode());
      assertEquals(400, p.request("POST", "/api/v1/streams/det/anomalies/feedback", "{\"start\":\"x\"}",
          "Content-Type", "application/json").statusCode());
      JsonArray audit = p.get("/api/v1/audit?action=anomaly.not-anomaly").json().getJsonArray("entries");
      assertEquals(2, audit.size(), audit.encode());
    }
    // the stop saved the detectors; the next run starts warm
    try (TestPulse p = TestPulse.startWithStorage(db, settings(), new ManualClock(clock.millis()))) {
      JsonObject s = status(p);
      assertEquals(4, s.getInteger("warm"), "restored at start, warm: " + s.encode());
      // the resolved anomaly alert, now read from storage, is still known as one (a 409 names the detectors, not
      // the rule's kind: the windows it flagged before the restart are not remembered)
      HttpResponse<String> stored = p.request("POST", "/api/v1/alerts/" + anomalyAlert + "/not-anomaly", "",
          "Content-Type", "application/json");
      assertEquals(409, stored.statusCode(), stored.body());
      assertTrue(stored.body().contains("flagged"), stored.body());
    }
  }
}
