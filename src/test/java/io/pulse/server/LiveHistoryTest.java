package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.PgFixture;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * since= on live subscriptions: stored windows first, then the live feed, with no gap and no
 * duplicate, while events keep arriving. Short windows (200 ms) so many close during a test.
 */
class LiveHistoryTest {

  private static TestPulse pulse;
  private static PgFixture.Db db;

  @BeforeAll
  static void start() {
    db = PgFixture.freshDatabase();
    pulse = TestPulse.startWithStorage(db, new JsonObject()
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 1000)));
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static boolean finalRollup(Msg m) {
    return "rollup".equals(m.type()) && m.json().getBoolean("final");
  }

  /**
   * Waits until storage has written {@code windows} more windows of a stream fed by {@link #feeder}
   * (3 rows a window: the total and the two regions).
   */
  private static void awaitStored(int windows) {
    double before = HostileStorageInputTest.metric(pulse, "pulse_store_rows_written_total");
    Await.until(windows + " windows stored", () -> HostileStorageInputTest.metric(pulse,
        "pulse_store_rows_written_total"), n -> n >= before + 3 * windows, 20_000);
  }

  /** Final rollups until they count {@code expected} events (or more: then a window came twice), and that count. */
  private static long awaitCounted(LiveClient client, long expected) {
    long counted;
    while ((counted = client.seen().stream().filter(LiveHistoryTest::finalRollup)
        .mapToLong(m -> m.json().getLong("count")).sum()) < expected) {
      client.await(LiveHistoryTest::finalRollup, 5000);
    }
    return counted;
  }

  /** Events counted by {@code windows} and the final windows in {@code seen} not among them (by start). */
  private static long mergedCount(Map<String, Long> windows, List<Msg> seen) {
    Map<String, Long> all = new HashMap<>(windows);
    for (Msg m : seen) {
      if (finalRollup(m)) {
        all.putIfAbsent(m.json().getLong("start") + "", m.json().getLong("count"));
      }
    }
    return all.values().stream().mapToLong(Long::longValue).sum();
  }

  /** Posts one event per call to {@code stream}, one region of two, until told to stop; counts them. */
  private static Thread feeder(String stream, AtomicBoolean stop, AtomicInteger sent) {
    Thread t = new Thread(() -> {
      int i = 0;
      while (!stop.get()) {
        String region = i % 2 == 0 ? "eu" : "us";
        int status = pulse.postNdjson(stream, "{\"dims\":{\"region\":\"" + region + "\"},\"values\":{\"v\":" + i
            + "}}");
        if (status == 202) {
          sent.incrementAndGet();
        }
        i++;
        try {
          Thread.sleep(20); // paces the load generator across real windows, not a wait for an outcome
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "feeder-" + stream);
    t.start();
    return t;
  }

  /**
   * Feeds a stream for a while, subscribes with since= while events keep coming, stops feeding,
   * waits for the last windows to close; then every event must be counted in exactly one final
   * window the subscriber saw, stored or live.
   */
  private static void historyThenLive(String stream, LiveClient client, Runnable subscribe) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger sent = new AtomicInteger();
    Thread feed = feeder(stream, stop, sent);
    awaitStored(6);
    subscribe.run();
    Msg done = client.await(m -> "history".equals(m.type()), 10_000);
    client.await(m -> finalRollup(m) && !m.json().getBoolean("history", false), 10_000); // live after the history
    stop.set(true);
    feed.join();
    awaitCounted(client, sent.get()); // the last windows close (200 ms + 100 ms lateness) and arrive

    List<Msg> seen = client.seen();
    int doneAt = seen.indexOf(done);
    long historyWindows = 0;
    long counted = 0;
    Set<String> windows = new HashSet<>();
    for (int i = 0; i < seen.size(); i++) {
      Msg m = seen.get(i);
      if (!finalRollup(m)) {
        continue;
      }
      boolean history = m.json().getBoolean("history", false);
      assertEquals(history, i < doneAt, "history windows come before the history message, live ones after: " + m);
      historyWindows += history ? 1 : 0;
      counted += m.json().getLong("count");
      assertTrue(windows.add(m.json().getJsonObject("series").encode() + "@" + m.json().getLong("start")),
          "each window once, stored or live: " + m.json());
    }
    assertTrue(historyWindows >= 4, "several stored windows were sent first: " + historyWindows);
    assertEquals(historyWindows, done.json().getLong("windows"));
    if (sent.get() != counted) {
      StringBuilder diag = new StringBuilder();
      for (Msg m : seen) {
        if (finalRollup(m)) {
          long start = m.json().getLong("start");
          diag.append(start % 100000).append(m.json().getBoolean("history", false) ? "h" : "l")
              .append(m.json().getJsonObject("series").encode()).append('=').append(m.json().getLong("count"))
              .append("/db").append(db.queryLong("select coalesce(sum(r.count),0) from rollup_1s r join series s on "
                  + "s.id = r.series_id where s.stream = '" + stream + "' and s.kind = 'series' and r.start = " + start
                  + " and s.dims->>'region' = '" + m.json().getJsonObject("series").getString("region", "") + "'"))
              .append(' ');
        }
      }
      diag.append(" done@").append(done.json().encode());
      assertEquals(sent.get(), counted, "every event in exactly one final window: no gap, no duplicate " + diag);
    }
  }

  @Test
  @DisplayName("WebSocket since=: stored windows (grouped by region), a history marker, then live; every event once")
  void websocket() throws Exception {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      long since = System.currentTimeMillis();
      historyThenLive("hws", ws, () -> ws.send(new JsonObject().put("op", "subscribe").put("id", "h")
          .put("stream", "hws").put("groupBy", new JsonArray().add("region")).put("since", since)));
      Msg sub = ws.seen().stream().filter(m -> "subscribed".equals(m.type())).findFirst().orElseThrow();
      assertEquals(since, sub.json().getLong("since"));
      Msg first = ws.seen().stream().filter(LiveHistoryTest::finalRollup).findFirst().orElseThrow();
      assertEquals("h", first.json().getString("sub"));
      assertTrue(first.json().getJsonObject("series").containsKey("region"), first.json().encode());
    }
  }

  @Test
  @DisplayName("SSE since= as a duration: the stream total's stored windows, then live; every event once")
  void sse() throws Exception {
    LiveClient probe = null;
    try {
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger sent = new AtomicInteger();
      Thread feed = feeder("hsse", stop, sent);
      awaitStored(6);
      probe = LiveClient.sse(pulse.port(), "stream=hsse&since=1m", null); // after the feed ran a while
      Msg done = probe.await(m -> "history".equals(m.type()), 10_000);
      assertEquals("history", done.event());
      probe.await(m -> finalRollup(m) && !m.json().getBoolean("history", false), 10_000); // live after the history
      stop.set(true);
      feed.join();
      long counted = awaitCounted(probe, sent.get());
      assertEquals(sent.get(), counted, "every event in exactly one final window");
      assertTrue(done.json().getLong("windows") >= 4, done.json().encode());
    } finally {
      if (probe != null) {
        probe.close();
      }
    }
  }

  @Test
  @DisplayName("since= that cannot be read is a 400 on SSE and an error message on WebSocket")
  void badSince() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      ws.send(new JsonObject().put("op", "subscribe").put("id", "b").put("stream", "hws").put("since", "yesterday"));
      Msg err = ws.await(m -> "error".equals(m.type()), 5000);
      assertTrue(err.json().getString("error").startsWith("since:"), err.json().encode());
      ws.send(new JsonObject().put("op", "subscribe").put("id", "c").put("stream", "hws").put("since", 1_700_000_000));
      Msg secs = ws.await(m -> "error".equals(m.type()) && "c".equals(m.json().getString("sub")), 5000);
      assertTrue(secs.json().getString("error").contains("seconds"), secs.json().encode());
    }
    assertEquals(400, pulse.get("/api/v1/live/sse?stream=hws&since=soon").status());
  }

  @Test
  @DisplayName("SSE across a restart: a reconnect with the last event id replays the missed windows from storage, "
      + "no reset, no event lost")
  void resumeAcrossRestart() throws Exception {
    PgFixture.Db own = PgFixture.freshDatabase();
    JsonObject fast = new JsonObject()
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 1000));
    Map<String, Long> windows = new HashMap<>();
    long sent = 0;
    String lastId;
    TestPulse first = TestPulse.startWithStorage(own, fast);
    try (LiveClient sse = LiveClient.sse(first.port(), "stream=rs", null)) {
      sse.await(m -> "subscribed".equals(m.type()), 5000);
      for (int i = 0; i < 10; i++) {
        assertEquals(202, first.postNdjson("rs", "{\"values\":{\"v\":" + i + "}}"));
        sent++;
        Thread.sleep(60); // spreads events over real 1 s windows the resume must span, not a wait for an outcome
      }
      sse.await(LiveHistoryTest::finalRollup, 5000);
      lastId = sse.seen().get(sse.seen().size() - 1).id();
      // events after the client's last message: it misses them, and the server restarts meanwhile
      for (int i = 0; i < 10; i++) {
        assertEquals(202, first.postNdjson("rs", "{\"values\":{\"v\":" + i + "}}"));
        sent++;
        Thread.sleep(40); // spreads events over real windows, not a wait for an outcome
      }
      for (Msg m : sse.seen()) {
        if (finalRollup(m)) {
          windows.merge(m.json().getLong("start") + "", m.json().getLong("count"), (a, b) -> a);
        }
      }
    } finally {
      first.close(); // graceful: the open windows are closed and stored
    }
    assertTrue(lastId.contains("~"), "SSE ids name a window: " + lastId);

    try (TestPulse second = TestPulse.startWithStorage(own, fast);
        LiveClient sse = LiveClient.sse(second.port(), "stream=rs", lastId)) {
      Msg done = sse.await(m -> "history".equals(m.type()), 10_000);
      for (int i = 0; i < 5; i++) {
        assertEquals(202, second.postNdjson("rs", "{\"values\":{\"v\":" + i + "}}"));
        sent++;
        Thread.sleep(40); // spreads events over real windows, not a wait for an outcome
      }
      // the windows of the second run close and arrive: every event sent is in a window seen (or more)
      while (mergedCount(windows, sse.seen()) < sent) {
        sse.await(LiveHistoryTest::finalRollup, 5000);
      }
      assertTrue(sse.seen().stream().noneMatch(m -> "reset".equals(m.type())), "resumed, not reset");
      assertTrue(done.json().getLong("windows") >= 1, done.json().encode());
      for (Msg m : sse.seen()) {
        if (finalRollup(m)) {
          Long before = windows.putIfAbsent(m.json().getLong("start") + "", m.json().getLong("count"));
          if (before != null) {
            // the window named in the id comes again: same figures
            assertEquals(before, m.json().getLong("count"), "a window seen twice has the same count");
          }
        }
      }
    }
    assertEquals(sent, windows.values().stream().mapToLong(Long::longValue).sum(),
        "every event counted once over both runs");
  }
}
