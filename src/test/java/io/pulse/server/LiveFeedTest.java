package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.live.LiveId;
import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * WebSocket and SSE subscriptions against a real server: filters, group-bys, metrics, running and
 * final rollups, window edges, lateness, resume. Windows are 200 ms with 100 ms lateness so that
 * the tests see many windows close quickly.
 */
class LiveFeedTest {

  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject()
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 1000)));
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static String line(String stream, String region, double v) {
    return "{\"stream\":\"" + stream + "\",\"dims\":{\"region\":\"" + region + "\",\"store\":\"s1\"},"
        + "\"values\":{\"v\":" + v + ",\"w\":1}}\n";
  }

  private static boolean rollup(Msg m) {
    return "rollup".equals(m.type());
  }

  private static boolean finalRollup(Msg m) {
    return rollup(m) && m.json().getBoolean("final");
  }

  @Test
  @DisplayName("WebSocket: an unsubscribe sent right after its subscribe ends it; no rollups follow")
  void unsubscribeBeforeSubscribed() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      ws.send(new JsonObject().put("op", "subscribe").put("id", "quick").put("stream", "quickunsub"));
      ws.send(new JsonObject().put("op", "unsubscribe").put("id", "quick"));
      ws.await(m -> "unsubscribed".equals(m.type()), 5000);
      // a probe on the same view: had "quick" lived on, its copy of each rollup would come before the probe's
      ws.send(new JsonObject().put("op", "subscribe").put("id", "probe").put("stream", "quickunsub"));
      ws.await(m -> "subscribed".equals(m.type()) && "probe".equals(m.json().getString("sub")), 5000);
      assertEquals(202, pulse.postNdjson("quickunsub", line("quickunsub", "eu", 1)));
      ws.await(m -> finalRollup(m) && "probe".equals(m.json().getString("sub")), 5000);
      assertTrue(ws.seen().stream().noneMatch(m -> "quick".equals(m.json().getString("sub"))
          && ("rollup".equals(m.type()) || "error".equals(m.type()))),
          "nothing for a subscription that was ended: " + ws.seen());
    }
  }

  @Test
  @DisplayName("WebSocket: ping, subscribe and unsubscribe sent back to back each get their answer, in order")
  void opsAnsweredInOrder() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      for (int round = 0; round < 5; round++) {
        String id = "o" + round;
        ws.send(new JsonObject().put("op", "ping"));
        ws.send(new JsonObject().put("op", "subscribe").put("id", id).put("stream", "inorder"));
        ws.send(new JsonObject().put("op", "unsubscribe").put("id", id));
        List<String> answers = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
          Msg m = ws.await(x -> !"heartbeat".equals(x.type()), 5000);
          answers.add(m.type() + (m.json().containsKey("sub") ? ":" + m.json().getString("sub") : ""));
        }
        assertEquals(List.of("pong", "subscribed:" + id, "unsubscribed:" + id), answers, "round " + round);
      }
    }
  }

  @Test
  @DisplayName("WebSocket: running updates move while the window is open, one final per window, and finals count every event once")
  void websocketTotal() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      ws.send(new JsonObject().put("op", "subscribe").put("id", "t").put("stream", "wstotal"));
      Msg sub = ws.await(m -> "subscribed".equals(m.type()), 5000);
      assertEquals("t", sub.json().getString("sub"));
      assertEquals("200ms", sub.json().getString("window"));
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < 50; i++) {
        body.append(line("wstotal", i % 2 == 0 ? "eu" : "us", i));
      }
      assertEquals(202, pulse.postNdjson("wstotal", body.toString()));
      Msg running = ws.await(m -> rollup(m) && !m.json().getBoolean("final"), 5000);
      assertEquals("t", running.json().getString("sub"));
      assertEquals(new JsonObject(), running.json().getJsonObject("series"), "the stream total has no dims");
      long counted = awaitCounted(ws, 50);
      assertEquals(50, counted, "every event in exactly one final window");
      Set<Long> starts = new HashSet<>();
      for (Msg m : ws.seen()) {
        if (finalRollup(m)) {
          assertTrue(starts.add(m.json().getLong("start")), "one final per window");
          JsonObject v = m.json().getJsonObject("values").getJsonObject("v");
          for (String k : List.of("sum", "min", "max", "mean", "p50", "p95", "p99")) {
            assertNotNull(v.getDouble(k), k);
          }
        }
      }
    }
  }

  @Test
  @DisplayName("WebSocket: filter and groupBy select and split the series; metrics trims the values")
  void websocketFilterGroupBy() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      ws.send(new JsonObject("{\"op\":\"subscribe\",\"id\":\"g\",\"stream\":\"wsgroup\",\"groupBy\":[\"region\"],"
          + "\"filter\":{\"region\":[\"eu\",\"us\"]},\"metrics\":[\"v\"]}"));
      ws.await(m -> "subscribed".equals(m.type()), 5000);
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < 30; i++) {
        body.append(line("wsgroup", List.of("eu", "us", "apac").get(i % 3), 1));
      }
      assertEquals(202, pulse.postNdjson("wsgroup", body.toString()));
      long counted = awaitCounted(ws, 20);
      Set<String> regions = ws.seen().stream().filter(LiveFeedTest::rollup)
          .map(m -> m.json().getJsonObject("series").getString("region")).collect(Collectors.toSet());
      assertEquals(Set.of("eu", "us"), regions);
      assertEquals(20, counted);
      for (Msg m : ws.seen()) {
        if (rollup(m)) {
          assertEquals(Set.of("v"), m.json().getJsonObject("values").fieldNames());
          assertEquals(1, m.json().getJsonObject("series").size(), "grouped by region only");
        }
      }
    }
  }

  @Test
  @DisplayName("WebSocket: bad requests come back as error messages, and unsubscribe stops the feed")
  void websocketErrorsAndUnsubscribe() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      ws.sendText("not json");
      assertTrue(ws.await(m -> "error".equals(m.type()), 3000).json().getString("error").contains("JSON object"));
      ws.send(new JsonObject().put("op", "subscribe").put("id", "bad").put("stream", "No Such!"));
      Msg e = ws.await(m -> "error".equals(m.type()), 3000);
      assertEquals("bad", e.json().getString("sub"));
      assertTrue(e.json().getString("error").startsWith("stream:"));
      ws.send(new JsonObject().put("op", "dance").put("id", "x"));
      assertTrue(ws.await(m -> "error".equals(m.type()), 3000).json().getString("error").contains("unknown op"));
      ws.send(new JsonObject().put("op", "subscribe").put("id", "u").put("stream", "wsunsub"));
      ws.await(m -> "subscribed".equals(m.type()), 3000);
      ws.send(new JsonObject().put("op", "subscribe").put("id", "u").put("stream", "wsunsub"));
      assertTrue(ws.await(m -> "error".equals(m.type()), 3000).json().getString("error").contains("already in use"));
      ws.send(new JsonObject().put("op", "unsubscribe").put("id", "u"));
      ws.await(m -> "unsubscribed".equals(m.type()), 3000);
      // a probe on the same view: had "u" lived on, its copy of the rollup would come before the probe's
      ws.send(new JsonObject().put("op", "subscribe").put("id", "probe").put("stream", "wsunsub"));
      ws.await(m -> "subscribed".equals(m.type()) && "probe".equals(m.json().getString("sub")), 3000);
      int before = ws.seen().size();
      pulse.postNdjson("wsunsub", line("wsunsub", "eu", 1));
      ws.await(m -> finalRollup(m) && "probe".equals(m.json().getString("sub")), 5000);
      List<Msg> after = ws.seen().subList(before, ws.seen().size());
      assertFalse(after.stream().anyMatch(m -> rollup(m) && "u".equals(m.json().getString("sub"))),
          "no rollups after unsubscribe: " + after);
    }
  }

  @Test
  @DisplayName("window edges on the server: the last millisecond of a window and the first of the next land apart")
  void windowEdges() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      ws.send(new JsonObject().put("op", "subscribe").put("id", "e").put("stream", "edges"));
      ws.await(m -> "subscribed".equals(m.type()), 3000);
      long boundary = (System.currentTimeMillis() / 200 + 3) * 200; // a window edge about half a second ahead
      pulse.postNdjson("edges", "{\"ts\":" + (boundary - 1) + ",\"values\":{\"v\":1}}\n{\"ts\":" + boundary
          + ",\"values\":{\"v\":2}}\n");
      Msg first = ws.await(m -> finalRollup(m) && m.json().getLong("start") == boundary - 200, 5000);
      Msg second = ws.await(m -> finalRollup(m) && m.json().getLong("start") == boundary, 5000);
      assertEquals(1, first.json().getLong("count"));
      assertEquals(1.0, first.json().getJsonObject("values").getJsonObject("v").getDouble("sum"));
      assertEquals(2.0, second.json().getJsonObject("values").getJsonObject("v").getDouble("sum"));
    }
  }

  @Test
  @DisplayName("a late event is folded into the open window, counted, and said so in the ingest answer")
  void lateEvents() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      ws.send(new JsonObject().put("op", "subscribe").put("id", "l").put("stream", "latey"));
      ws.await(m -> "subscribed".equals(m.type()), 3000);
      long old = System.currentTimeMillis() - 60_000;
      TestPulse.Response r = pulse.post("/api/v1/streams/latey/events", "application/json",
          "{\"ts\":" + old + ",\"values\":{\"v\":5}}");
      assertEquals(1, r.json().getInteger("late"));
      Msg f = ws.await(LiveFeedTest::finalRollup, 5000);
      assertTrue(f.json().getLong("start") > old + 50_000, "folded into a current window");
      assertEquals(old, f.json().getLong("latest"), "the event keeps its own time");
      assertTrue(pulse.get("/metrics").body().contains("pulse_events_late_total{stream=\"latey\",tenant=\"default\"} 1.0"));
    }
  }

  @Test
  @DisplayName("SSE: ids on every message, filter and groupBy from the query, finals after running updates")
  void sse() {
    try (LiveClient sse = LiveClient.sse(pulse.port(), "stream=ssea&groupBy=region&filter=region:eu", null)) {
      assertEquals(200, sse.sseStatus());
      sse.await(m -> "subscribed".equals(m.event()), 3000);
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < 10; i++) {
        body.append(line("ssea", i % 2 == 0 ? "eu" : "us", 1));
      }
      pulse.postNdjson("ssea", body.toString());
      Msg f = sse.await(m -> "rollup".equals(m.event()) && m.json().getBoolean("final"), 5000);
      assertEquals(new JsonObject().put("region", "eu"), f.json().getJsonObject("series"));
      assertEquals(5, f.json().getLong("count"));
      Set<String> ids = new HashSet<>();
      for (Msg m : sse.seen()) {
        assertNotNull(m.id(), "every message has an id");
        if ("rollup".equals(m.event())) {
          assertTrue(ids.add(m.id()), "rollup ids are unique: " + m.id());
        }
      }
    }
    TestPulse.Response bad = pulse.get("/api/v1/live/sse?groupBy=region");
    assertEquals(400, bad.status());
    assertEquals("stream: required", bad.json().getString("error"));
  }

  @Test
  @DisplayName("SSE: a reconnect with Last-Event-ID gets the finals it missed, with no gap and no duplicate")
  void sseResume() {
    String lastId;
    long lastSeq;
    try (LiveClient sse = LiveClient.sse(pulse.port(), "stream=resume", null)) {
      sse.await(m -> "subscribed".equals(m.event()), 3000);
      pulse.postNdjson("resume", line("resume", "eu", 1));
      Msg f = sse.await(m -> "rollup".equals(m.event()) && m.json().getBoolean("final"), 5000);
      lastId = f.id();
      lastSeq = LiveId.parse(lastId).seq();
    }
    // while disconnected, three more windows close: a probe on the same view sees each
    try (LiveClient probe = LiveClient.sse(pulse.port(), "stream=resume", null)) {
      probe.await(m -> "subscribed".equals(m.event()), 3000);
      for (int i = 0; i < 3; i++) {
        double v = 10 + i;
        pulse.postNdjson("resume", line("resume", "eu", v));
        probe.await(m -> finalRollup(m) && m.json().getJsonObject("values").getJsonObject("v").getDouble("sum") == v,
            5000);
      }
    }
    try (LiveClient sse = LiveClient.sse(pulse.port(), "stream=resume", lastId)) {
      sse.await(m -> "subscribed".equals(m.event()), 3000);
      // a live final after the replay: anything replayed twice would come before it
      pulse.postNdjson("resume", line("resume", "eu", 100));
      sse.await(m -> finalRollup(m) && m.json().getJsonObject("values").getJsonObject("v").getDouble("sum") == 100,
          5000);
      List<Msg> finals = sse.seen().stream().filter(LiveFeedTest::finalRollup).collect(Collectors.toList());
      List<Long> seqs = finals.stream().map(m -> LiveId.parse(m.id()).seq()).collect(Collectors.toList());
      assertEquals(4, seqs.size(), "three missed finals replayed, then the live one: " + finals);
      for (int i = 0; i < seqs.size(); i++) {
        assertEquals(lastSeq + 1 + i, seqs.get(i), "contiguous after the last seen id: " + seqs);
      }
      double replayed = finals.subList(0, 3).stream()
          .mapToDouble(m -> m.json().getJsonObject("values").getJsonObject("v").getDouble("sum")).sum();
      assertEquals(33.0, replayed, 1e-9, "10 + 11 + 12, each once");
    }
  }

  @Test
  @DisplayName("SSE: a Last-Event-ID from another server run gets an explicit reset, then the live feed")
  void sseReset() {
    try (LiveClient sse = LiveClient.sse(pulse.port(), "stream=resetme", "oldrun-42")) {
      Msg reset = sse.await(m -> "reset".equals(m.event()), 3000);
      assertTrue(reset.json().getString("reason").contains("earlier server run"));
      sse.await(m -> "subscribed".equals(m.event()), 3000);
      pulse.postNdjson("resetme", line("resetme", "eu", 1));
      sse.await(m -> "rollup".equals(m.event()), 5000);
    }
  }

  @Test
  @DisplayName("subscribed repeats the subscription and warns of dims and values the stream never had")
  void subscribedWarnsOfTypos() {
    pulse.postNdjson("typo", line("typo", "eu", 1));
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      ws.send(new JsonObject("{\"op\":\"subscribe\",\"id\":\"t\",\"stream\":\"typo\",\"groupBy\":[\"regoin\"],"
          + "\"filter\":{\"region\":\"eu\"},\"metrics\":[\"vv\"]}"));
      Msg sub = ws.await(m -> "subscribed".equals(m.type()), 3000);
      assertEquals(new JsonObject().put("region", new JsonArray().add("eu")), sub.json().getJsonObject("filter"));
      assertEquals(new JsonArray().add("vv"), sub.json().getJsonArray("metrics"));
      String warnings = sub.json().getJsonArray("warnings").encode();
      assertTrue(warnings.contains("regoin") && warnings.contains("vv"), warnings);
      ws.send(new JsonObject().put("op", "unsubscribe").put("id", "nope"));
      assertEquals("error", ws.await(m -> "nope".equals(m.json().getString("sub")), 3000).type());
      // replies come in the order of the ops: an "unsubscribed" for nope would come before this pong
      ws.send(new JsonObject().put("op", "ping"));
      ws.await(m -> "pong".equals(m.type()), 3000);
      assertTrue(ws.seen().stream().noneMatch(m -> "unsubscribed".equals(m.type())), ws.seen().toString());
    }
    TestPulse.Response plain = pulse.get("/api/v1/live/ws");
    assertEquals(400, plain.status());
    assertTrue(plain.json().getString("error").contains("WebSocket"));
  }

  @Test
  @DisplayName("WebSocket heartbeats keep an idle connection visibly alive")
  void heartbeat() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      Msg hb = ws.await(m -> "heartbeat".equals(m.type()), 3000);
      assertTrue(hb.json().getLong("at") > 0);
    }
  }

  @Test
  @DisplayName("too many distinct views on one stream is an error message, not a crash")
  void viewCap() {
    int share = 64 / 4; // live.maxViewsPerStreamPerSocket 0: a quarter of aggregation.maxViewsPerStream (64)
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      for (int i = 0; i < 70; i++) {
        ws.send(new JsonObject().put("op", "subscribe").put("id", "v" + i).put("stream", "manyviews")
            .put("filter", new JsonObject().put("k", "x" + i)));
      }
      JsonArray errors = new JsonArray();
      for (int i = 0; i < 70; i++) {
        Msg m = ws.await(x -> "subscribed".equals(x.type()) || "error".equals(x.type()), 5000);
        assertEquals("v" + i, m.json().getString("sub"), "each subscribe answered, in order: " + m);
        if (i < share) {
          assertEquals("subscribed", m.type(), m.json().encode());
        } else {
          assertEquals("error", m.type(), m.json().encode());
          errors.add(m.json());
        }
      }
      assertEquals(70 - share, errors.size());
      for (Object e : errors) {
        assertTrue(((JsonObject) e).getString("error").contains("live.maxViewsPerStreamPerSocket"), e.toString());
      }
      ws.send(new JsonObject().put("op", "ping"));
      ws.await(m -> "pong".equals(m.type()), 5000);
      assertFalse(ws.isClosed(), "the socket lives on");
    }
  }

  /** Final rollups until they count {@code expected} events (or more), and their count. */
  private static long awaitCounted(LiveClient ws, long expected) {
    long counted;
    while ((counted = ws.seen().stream().filter(LiveFeedTest::finalRollup).mapToLong(m -> m.json().getLong("count"))
        .sum()) < expected) {
      ws.await(LiveFeedTest::finalRollup, 5000);
    }
    return counted;
  }


  @Test
  @DisplayName("WebSocket ping flood: 500 pings in a burst get at most a few seconds' worth of pongs; the rest are dropped and counted")
  void pingFlood() {
    try (LiveClient c = LiveClient.websocket(pulse.port())) {
      java.util.concurrent.atomic.AtomicInteger pongs = new java.util.concurrent.atomic.AtomicInteger();
      c.webSocket().pongHandler(b -> pongs.incrementAndGet());
      long t0 = System.nanoTime();
      for (int i = 0; i < 500; i++) {
        c.webSocket().writePing(io.vertx.core.buffer.Buffer.buffer("p" + i));
      }
      java.util.regex.Pattern dropped = java.util.regex.Pattern.compile("(?m)^pulse_live_pings_dropped_total(\\{[^}]*\\})? ([0-9.eE+]+)$");
      io.pulse.testing.Await.until("pings dropped and counted", () -> {
        java.util.regex.Matcher m = dropped.matcher(pulse.get("/metrics").body());
        return m.find() ? Double.parseDouble(m.group(2)) : 0;
      }, n -> n >= 400, 10_000, 100);
      io.pulse.testing.Await.until("pongs for the answered pings", pongs::get, n -> n >= 20, 5_000, 50);
      long seconds = (System.nanoTime() - t0) / 1_000_000_000L + 1;
      assertTrue(pongs.get() <= 20 * (seconds + 1), pongs.get() + " pongs in about " + seconds + " s");
      c.subscribe("after", "pingflood");
      assertFalse(c.isClosed(), "the socket serves on");
    }
  }
}
