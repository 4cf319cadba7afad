package io.pulse.server;

import static io.pulse.server.StorageServerTest.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.LiveClient;
import io.pulse.testing.RawWire;
import io.pulse.testing.Await;
import io.pulse.testing.PgFixture;
import io.pulse.testing.PgProcesses;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Faults under load, each checked against what the server acknowledged: SIGTERM stores exactly
 * the acknowledged events; kill -9 loses at most the windows still open (and the next start is
 * ready); a stalled database turns readiness 503 and then stores everything acknowledged; a slow
 * WebSocket is closed with its reason while a normal subscriber of the same view misses nothing.
 * ShutdownTest, StorageOutageTest and SlowClientTest prove the same paths without load or without
 * exact accounting. The SIGTERM and kill -9 children store into a fresh database of the shared
 * PgFixture server (no embedded PostgreSQL to create for each); the embedded server's own stop and
 * its takeover after a kill -9 are ShutdownTest's and StorageOutageTest's subject.
 */
class FaultsTest {

  /** Posts NDJSON batches in a loop and keeps every 202's {@code accepted}, with when it came. */
  static final class Loader implements AutoCloseable {
    record Ack(long atMs, long accepted) {
    }

    final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    final AtomicLong refused = new AtomicLong(); // 503s and failed connections: not acknowledged
    final AtomicLong hung = new AtomicLong(); // requests with no answer within 10 s
    final List<String> oddAnswers = new ArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();

    Loader(int port, String stream, int connections, int batch, long pauseMs) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(2)).build();
      for (int t = 0; t < connections; t++) {
        int id = t;
        Thread th = new Thread(() -> {
          StringBuilder sb = new StringBuilder();
          for (int i = 0; i < batch; i++) {
            sb.append("{\"dims\":{\"k\":\"t").append(id).append('-').append(i % 10).append("\"},\"values\":{\"v\":")
                .append(i).append("}}\n");
          }
          HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/streams/" + stream
              + "/events")).header("Content-Type", "application/x-ndjson").timeout(Duration.ofSeconds(10))
              .POST(HttpRequest.BodyPublishers.ofString(sb.toString())).build();
          while (!stop.get()) {
            try {
              HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
              if (r.statusCode() == 202) {
                acks.add(new Ack(System.currentTimeMillis(), new JsonObject(r.body()).getLong("accepted")));
              } else {
                refused.incrementAndGet();
                if (r.statusCode() != 503) {
                  synchronized (oddAnswers) {
                    oddAnswers.add(r.statusCode() + " " + r.body());
                  }
                }
              }
            } catch (HttpTimeoutException e) {
              hung.incrementAndGet();
            } catch (IOException e) {
              refused.incrementAndGet();
              pause(50); // the server is going or gone: do not spin
            } catch (InterruptedException e) {
              return;
            }
            if (pauseMs > 0) {
              pause(pauseMs);
            }
          }
        }, "loader-" + stream + "-" + t);
        th.setDaemon(true);
        threads.add(th);
        th.start();
      }
    }

    private static void pause(long ms) {
      try {
        Thread.sleep(ms); // pacing the load generator, not waiting for an outcome
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    long acknowledged() {
      return acks.stream().mapToLong(Ack::accepted).sum();
    }

    long acknowledgedBefore(long ms) {
      return acks.stream().filter(a -> a.atMs() < ms).mapToLong(Ack::accepted).sum();
    }

    void awaitAcks(long events, long timeoutMs) {
      Await.until("the load got going: " + events + " events acknowledged", this::acknowledged, n -> n >= events,
          timeoutMs);
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      for (Thread t : threads) {
        t.join(15_000);
      }
    }
  }

  private static final String SERIES_SUM = "select coalesce(sum(r.count), 0) from rollup_1s r join series s "
      + "on s.id = r.series_id where s.kind = 'series' and s.stream = ";
  private static final String TOTAL_SUM = "select coalesce(sum(r.count), 0) from rollup_1s r join series s "
      + "on s.id = r.series_id where s.kind = 'group' and s.group_by = '{}' and s.stream = ";

  @Test
  @DisplayName("SIGTERM under load: after a restart on the same data the stored totals equal exactly the "
      + "acknowledged events")
  void sigtermUnderLoad() throws Exception {
    Path data = Files.createTempDirectory("pulse-faults-term");
    PgFixture.Db db = PgFixture.freshDatabase();
    ProcessBuilder pb = TestPulse.childProcess(data, 0);
    pb.environment().put("PULSE_PG_URL", db.url());
    Process p = pb.start();
    Loader load;
    try {
      int port = TestPulse.awaitStarted(p, data, Duration.ofSeconds(90));
      load = new Loader(port, "term", 2, 200, 0);
      load.awaitAcks(2_000, 20_000);
      load.awaitAcks(load.acknowledged() + 4_000, 20_000); // more load: the stop lands among requests and open windows
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the process exits: " + Files.readString(data.resolve("pulse.log")));
      load.close();
    } finally {
      p.destroyForcibly();
    }
    long ack = load.acknowledged();
    assertTrue(load.oddAnswers.isEmpty(), "only 202 or 503 while stopping: " + load.oddAnswers);
    System.out.println("FaultsTest SIGTERM: " + ack + " events acknowledged, " + load.refused.get()
        + " requests refused or failed");
    try (TestPulse again = TestPulse.startWithStorage(db, null)) {
      var pool = again.pulse().database().pool();
      assertEquals(ack, query(pool, SERIES_SUM + "'term'"), "series windows hold exactly the acknowledged events "
          + "(refused or failed requests: " + load.refused.get() + ")");
      assertEquals(ack, query(pool, TOTAL_SUM + "'term'"), "the stream total's windows too");
    }
  }

  @Test
  @DisplayName("kill -9 under load: at most the windows still open are lost, nothing is counted twice, and the "
      + "next start is ready")
  void killNineUnderLoad() throws Exception {
    Path data = Files.createTempDirectory("pulse-faults-kill");
    PgFixture.Db db = PgFixture.freshDatabase();
    ProcessBuilder pb = TestPulse.childProcess(data, 0);
    pb.environment().put("PULSE_PG_URL", db.url());
    pb.environment().put("PULSE_ALLOWED_LATENESS_MS", "100");
    Process p = pb.start();
    Loader load;
    long killedAt;
    try {
      int port = TestPulse.awaitStarted(p, data, Duration.ofSeconds(90));
      load = new Loader(port, "k9load", 2, 200, 0);
      load.awaitAcks(2_000, 20_000);
      // enough acknowledged long enough before the kill (past window + lateness + a store write) that the
      // assertion below has stored windows to check, not only open ones
      Loader going = load;
      Await.until("load acknowledged 2.5 s before now", () -> going.acknowledgedBefore(System.currentTimeMillis()
          - 2_500), n -> n >= 20_000, 30_000);
      killedAt = System.currentTimeMillis();
      p.destroyForcibly(); // SIGKILL
      assertTrue(p.waitFor(10, TimeUnit.SECONDS));
      load.close();
    } finally {
      p.destroyForcibly();
    }
    long ack = load.acknowledged();
    // open at the kill: the 1 s window and the one before it, still within its 100 ms lateness, and its final
    // on its way to the database (the flush tick and one write batch): 2.5 s of acknowledgements may be lost
    long safe = load.acknowledgedBefore(killedAt - 2_500);
    try (TestPulse again = TestPulse.startWithStorage(db, null)) {
      assertEquals(200, again.get("/health/ready").status(), "the next start is ready");
      var pool = again.pulse().database().pool();
      long stored = query(pool, SERIES_SUM + "'k9load'");
      System.out.println("FaultsTest kill -9: acknowledged " + ack + ", of which " + safe + " more than 2.5 s before "
          + "the kill; stored " + stored);
      assertTrue(stored >= safe && stored <= ack, "stored " + stored + " events: at least the " + safe
          + " acknowledged more than 2.5 s before the kill, at most the " + ack + " acknowledged in all");
      assertEquals(0, query(pool, "select count(*) from (select series_id, start from rollup_1s group by 1, 2 "
          + "having count(*) > 1) d"), "no window stored twice");
      assertEquals(202, again.postNdjson("k9load", "{\"values\":{\"v\":1}}"), "ingest works on the next start");
    }
  }

  @Test
  @DisplayName("a database that stops answering (SIGSTOP) turns readiness 503 without hanging anyone; resumed, "
      + "readiness is 200 again and every acknowledged event is stored")
  void stalledDatabase() throws Exception {
    Path dir = Files.createTempDirectory("pulse-faults-stall");
    EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).start();
    int pgPort = pg.getPort();
    JsonObject conf = StorageServerTest.fast().put("storage", new JsonObject().put("enabled", true)
        .put("url", "postgresql://postgres:x@localhost:" + pgPort + "/postgres").put("retryMs", 200)
        .put("queryTimeoutMs", 1000)); // readiness turns 503 after a write in flight this long
    List<Long> pids = PgProcesses.of(dir);
    boolean stopped = false;
    try (TestPulse pulse = TestPulse.start(conf)) {
      Loader load = new Loader(pulse.port(), "stall", 1, 20, 50);
      try {
        load.awaitAcks(200, 20_000);
        pids = PgProcesses.of(dir); // the backends Pulse's pool opened are children now
        PgProcesses.signal("STOP", pids);
        stopped = true;
        // hold the database stopped until readiness says so, 12 s at most (the issue asks for ~8 s); each probe is
        // itself timed: readiness must answer promptly while the database does not
        HttpResponse<String> turned = Await.until("readiness 503 while the database does not answer", () -> {
          long asked = System.currentTimeMillis();
          HttpResponse<String> r;
          try {
            r = pulse.request("GET", "/health/ready", null);
          } catch (IllegalStateException e) {
            throw new AssertionError("/health/ready did not answer within 10 s while the database was stalled", e);
          }
          assertTrue(System.currentTimeMillis() - asked < 5_000, "/health/ready answers promptly while stalled");
          return r;
        }, r -> r.statusCode() == 503, 12_000);
        int ready = turned.statusCode();
        String readyBody = turned.body();
        PgProcesses.signal("CONT", pids);
        stopped = false;
        assertEquals(503, ready, "readiness turned 503 while the database did not answer: " + readyBody);
        assertTrue(new JsonObject(readyBody).getString("reason", "").startsWith("storage"), readyBody);

        Await.until("ready again once the database answers", () -> pulse.get("/health/ready").status(),
            st -> st == 200, 30_000);
        load.awaitAcks(load.acknowledged() + 400, 20_000); // a little more load after the resume, stored like the rest
      } finally {
        if (stopped) {
          PgProcesses.signal("CONT", pids);
        }
        load.close();
      }
      assertEquals(0, load.hung.get(), "no ingest request hung while the database was stalled");
      assertTrue(load.oddAnswers.isEmpty(), "only 202 or 503 while stalled: " + load.oddAnswers);
      long ack = load.acknowledged();
      long stored = Await.until("every acknowledged event (" + ack + ") stored after the stall",
          () -> query(pulse.pulse().database().pool(), SERIES_SUM + "'stall'"), n -> n == ack, 30_000);
      assertEquals(ack, stored, "every acknowledged event is stored after the stall");
    } finally {
      pg.close();
    }
  }

  @Test
  @DisplayName("a WebSocket that stops reading is closed with its reason; a normal subscriber of the same view "
      + "receives every final window (counts equal the acknowledged events)")
  void slowWebSocketAndNormalSubscriber() throws Exception {
    try (TestPulse pulse = TestPulse.start(new JsonObject()
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("slowClientTimeoutMs", 1000)
            .put("maxPendingFinals", 5000)));
        LiveClient normal = LiveClient.websocket(pulse.port());
        RawWire.Ws slow = RawWire.Ws.open(pulse.port(), "/api/v1/live/ws", 5000, 4096)) {
      String sub = new JsonObject().put("op", "subscribe").put("id", "s").put("stream", "flood")
          .put("groupBy", new JsonArray().add("k")).encode();
      normal.sendText(sub);
      normal.await(m -> "subscribed".equals(m.type()), 5000);
      slow.text(sub); // and from now on this client reads nothing
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < 2000; i++) {
        body.append("{\"dims\":{\"k\":\"key-").append(i).append("-with-some-length\"},\"values\":{\"v\":")
            .append(i).append("}}\n");
      }
      // flood (one body a probe, paced by Await's poll) until the metric says the stalled WebSocket was closed
      long[] acked = {0};
      boolean closed = Await.until("the stalled WebSocket closed (pulse_live_slow_closed_total above 0)", () -> {
        TestPulse.Response r = pulse.post("/api/v1/streams/flood/events", "application/x-ndjson", body.toString());
        if (r.status() == 202) {
          acked[0] += r.json().getLong("accepted");
        }
        return pulse.get("/metrics").body().lines().anyMatch(l -> l.startsWith("pulse_live_slow_closed_total")
            && !l.endsWith(" 0.0"));
      }, c -> c, 30_000);
      long ack = acked[0];
      assertTrue(closed, "the stalled WebSocket was closed");

      // the stalled client now reads what reached it: the reason must be there, before the end of the stream
      String reason = null;
      slow.setTimeout(5000);
      try {
        for (RawWire.Frame f = slow.next(); f != null && reason == null; f = slow.next()) {
          if (f.opcode() == 8) {
            reason = f.closeCode() + " " + f.closeReason();
            assertTrue(!f.closeReason().isBlank(), "the close frame has a reason: code " + f.closeCode());
          } else if (f.opcode() == 1 && f.text().contains("\"closing\"")) {
            reason = new JsonObject(f.text()).getString("reason");
          }
        }
      } catch (SocketTimeoutException | java.net.SocketException e) {
        // reset or silence: no reason reached the client
      }
      assertTrue(reason != null && reason.contains("slow"), "the slow client was told why: " + reason);
      System.out.println("FaultsTest slow WebSocket: told " + reason);

      long finals = 0;
      long total = ack;
      long deadline = System.currentTimeMillis() + 20_000;
      while (finals != total && System.currentTimeMillis() < deadline) {
        for (LiveClient.Msg m : normal.collect(200)) {
          if ("rollup".equals(m.type()) && Boolean.TRUE.equals(m.json().getBoolean("final"))) {
            finals += m.json().getLong("count");
          }
        }
      }
      System.out.println("FaultsTest slow WebSocket: acknowledged " + total + ", normal subscriber's finals " + finals);
      assertEquals(total, finals, "the normal subscriber's final windows add up to every acknowledged event");
      assertTrue(!normal.isClosed(), "the normal subscriber is still connected");
    }
  }

  /** Used heap after garbage collection has settled: the median of 5 readings. */
  private static long heap() throws InterruptedException {
    long[] v = new long[5];
    for (int i = 0; i < v.length; i++) {
      for (int g = 0; g < 3; g++) {
        System.gc();
        Thread.sleep(50); // lets the collector finish; the reading is the subject, not a wait for an outcome
      }
      v[i] = java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
    java.util.Arrays.sort(v);
    return v[v.length / 2];
  }

  /** Bound on the server heap an idle SSE connection may hold (measured: about 11 kB, loadtests HeapCost). */
  static final long SSE_HEAP_BOUND = 32 * 1024;

  @Test
  @DisplayName("idle SSE connections cost a bounded amount of heap each (under 32 kB), and it does not grow while "
      + "they sit idle through heartbeats")
  void idleSseHeapIsBounded() throws Exception {
    int n = 500;
    try (TestPulse pulse = TestPulse.start(new JsonObject().put("live", new JsonObject().put("heartbeatMs", 100)))) {
      List<java.net.Socket> held = new ArrayList<>();
      try {
        long before = heap();
        for (int i = 0; i <= n; i++) { // n idle ones, and one more that reads: the witness of the heartbeats
          java.net.Socket s = new java.net.Socket("127.0.0.1", pulse.port());
          s.setSoTimeout(10_000);
          s.getOutputStream().write(("GET /api/v1/live/sse?stream=idle HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
              .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
          StringBuilder got = new StringBuilder();
          byte[] buf = new byte[4096];
          while (got.indexOf("subscribed") < 0) {
            int r = s.getInputStream().read(buf);
            assertTrue(r > 0, "SSE connection " + i + " was answered: " + got);
            got.append(new String(buf, 0, r, java.nio.charset.StandardCharsets.ISO_8859_1));
          }
          held.add(s);
        }
        // the client side of each connection (a Socket and its streams, about 1 kB) is in this heap too,
        // so the figure is a little above the server's own
        long opened = heap() - before;
        // ten heartbeats to every connection, which never reads them: nothing may pile up (the witness reads its
        // own, which come from the same timers)
        java.net.Socket witness = held.get(n);
        StringBuilder seen = new StringBuilder();
        byte[] buf = new byte[4096];
        Await.until("ten heartbeats on the witness connection", () -> {
          int r = witness.getInputStream().read(buf);
          if (r > 0) {
            seen.append(new String(buf, 0, r, java.nio.charset.StandardCharsets.ISO_8859_1));
          }
          return seen.toString().split(": heartbeat", -1).length - 1;
        }, k -> k >= 10, 10_000);
        long idle = heap() - before;
        System.out.println("FaultsTest idle SSE: " + opened / n + " bytes each when opened, " + idle / n
            + " bytes each after ten heartbeats (" + n + " connections)");
        assertTrue(opened / n < SSE_HEAP_BOUND, "heap per idle SSE connection " + opened / n + " bytes");
        assertTrue(idle / n < SSE_HEAP_BOUND, "heap per idle SSE connection after heartbeats " + idle / n + " bytes");
        assertTrue(pulse.get("/metrics").body().lines().anyMatch(l -> l.startsWith("pulse_live_subscribers")
            && l.endsWith(" " + (n + 1) + ".0")), "all " + n + " subscribers (and the witness) are still connected");
      } finally {
        for (java.net.Socket s : held) {
          s.close();
        }
      }
    }
  }
}
