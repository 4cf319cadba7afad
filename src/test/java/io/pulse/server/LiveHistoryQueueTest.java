package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.PgFixture;
import io.pulse.testing.Await;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Several since= subscriptions on one WebSocket: their histories are read and sent one after
 * another (so that a connection holds one subscription's history at a time), and each still gets
 * its stored windows, its history message, then the live feed, with every event once.
 */
class LiveHistoryQueueTest {

  @Test
  @DisplayName("three since= subscriptions on one socket: each gets history then live, every event once in each")
  void historiesOneAfterAnother() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    try (TestPulse pulse = TestPulse.startWithStorage(db, new JsonObject()
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 1000)));
        LiveClient ws = LiveClient.websocket(pulse.port())) {
      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger sent = new AtomicInteger();
      Thread feed = new Thread(() -> {
        int i = 0;
        while (!stop.get()) {
          String region = i % 2 == 0 ? "eu" : "us";
          if (pulse.postNdjson("hq", "{\"dims\":{\"region\":\"" + region + "\",\"store\":\"s" + (i % 3)
              + "\"},\"values\":{\"v\":" + i + "}}") == 202) {
            sent.incrementAndGet();
          }
          i++;
          try {
            Thread.sleep(20); // paces the load generator (about 50 events a second), not a wait for an outcome
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      feed.start();
      // several windows close and are stored: 7 rows a window (6 series and the total), at least 4 windows
      // are asserted to come from history below, so wait for 6
      Await.until("6 windows stored", () -> HostileStorageInputTest.metric(pulse, "pulse_store_rows_written_total"),
          n -> n >= 42, 20_000);
      long since = System.currentTimeMillis() - 5_000;
      String[] ids = {"total", "region", "store"};
      ws.send(new JsonObject().put("op", "subscribe").put("id", "total").put("stream", "hq").put("since", since));
      ws.send(new JsonObject().put("op", "subscribe").put("id", "region").put("stream", "hq")
          .put("groupBy", new JsonArray().add("region")).put("since", since));
      ws.send(new JsonObject().put("op", "subscribe").put("id", "store").put("stream", "hq")
          .put("groupBy", new JsonArray().add("store")).put("since", since));
      for (String id : ids) {
        ws.await(m -> "history".equals(m.type()) && id.equals(m.json().getString("sub")), 20_000);
      }
      ws.await(m -> "rollup".equals(m.type()) && m.json().getBoolean("final", false)
          && !m.json().getBoolean("history", false), 10_000); // live finals flow after the histories
      stop.set(true);
      feed.join();
      for (String id : ids) { // the last windows close and arrive
        while (counted(ws.seen(), id) < sent.get()) {
          ws.await(m -> "rollup".equals(m.type()) && m.json().getBoolean("final"), 5000);
        }
      }

      List<Msg> seen = ws.seen();
      for (String id : ids) {
        boolean historyDone = false;
        long counted = 0;
        long historyWindows = 0;
        Set<String> windows = new HashSet<>();
        for (Msg m : seen) {
          if (!id.equals(m.json().getString("sub"))) {
            continue;
          }
          if ("history".equals(m.type())) {
            historyDone = true;
            assertEquals(historyWindows, m.json().getLong("windows"), id);
            continue;
          }
          if (!"rollup".equals(m.type()) || !m.json().getBoolean("final")) {
            continue;
          }
          boolean history = m.json().getBoolean("history", false);
          assertEquals(history, !historyDone, id + ": stored windows before its history message, live after: " + m);
          historyWindows += history ? 1 : 0;
          counted += m.json().getLong("count");
          assertTrue(windows.add(m.json().getJsonObject("series").encode() + "@" + m.json().getLong("start")),
              id + ": each window once: " + m.json());
        }
        assertTrue(historyWindows >= 4, id + ": stored windows first: " + historyWindows);
        assertEquals(sent.get(), counted, id + ": every event in exactly one final window");
      }
    }
  }

  /** Events counted by the final windows of subscription {@code id} seen so far. */
  private static long counted(List<Msg> seen, String id) {
    return seen.stream().filter(m -> id.equals(m.json().getString("sub")) && "rollup".equals(m.type())
        && m.json().getBoolean("final")).mapToLong(m -> m.json().getLong("count")).sum();
  }
}
