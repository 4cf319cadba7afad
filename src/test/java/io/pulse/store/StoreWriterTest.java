package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.Health;
import io.pulse.core.ManualClock;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.pgclient.PgException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The storage writer's engine against a fake database: no server, no PostgreSQL, time moved by hand. */
class StoreWriterTest {

  private static final long RETRY_MS = 1_000;
  private static final long QUERY_TIMEOUT_MS = 3_000;

  /** A database in memory: it stores, refuses rows marked bad for their content, is away, or hangs. */
  private static final class FakeDb implements StoreWriter.Sink<String> {
    final List<String> stored = new ArrayList<>();
    final List<List<String>> statements = new ArrayList<>();
    final Set<String> bad = new HashSet<>();
    boolean away;
    boolean hang;
    final List<Promise<Void>> hanging = new ArrayList<>();
    int pings;

    @Override
    public Future<?> write(List<String> batch) {
      statements.add(List.copyOf(batch));
      if (hang) {
        Promise<Void> p = Promise.promise();
        hanging.add(p);
        return p.future();
      }
      if (away) {
        return Future.failedFuture(new IOException("Connection refused"));
      }
      for (String row : batch) {
        if (bad.contains(row)) {
          return Future.failedFuture(new PgException("invalid byte sequence for encoding \"UTF8\": 0x00", "ERROR",
              "22021", null));
        }
      }
      stored.addAll(batch);
      return Future.succeededFuture();
    }

    @Override
    public Future<?> ping() {
      pings++;
      return away || hang ? Future.failedFuture(new IOException("Connection refused")) : Future.succeededFuture();
    }
  }

  private final ManualClock clock = new ManualClock(1_000_000);
  private final Health health = new Health();
  private final FakeDb db = new FakeDb();
  private final List<Long> wakes = new ArrayList<>();
  private final List<StoreWriter.Status> published = new ArrayList<>();

  private StoreWriter<String> writer(int capacity, int batch) {
    return new StoreWriter<>(new StoreWriter.Settings(capacity, batch, RETRY_MS, QUERY_TIMEOUT_MS), db, clock, health,
        wakes::add, published::add, row -> row, "the fake database");
  }

  private static List<String> rows(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> prefix + i).toList();
  }

  private static void hand(StoreWriter<String> w, List<String> rows) {
    w.expect(rows.size());
    w.arrived(rows.size(), rows);
  }

  @Test
  @DisplayName("rows are written in batches of writeBatch, in order, each once; the depth goes back to 0")
  void writesInBatches() {
    StoreWriter<String> w = writer(1_000, 4);
    hand(w, rows("r", 10));
    assertEquals(rows("r", 10), db.stored);
    assertEquals(List.of(4, 4, 2), db.statements.stream().map(List::size).toList());
    assertEquals(10, w.written());
    assertEquals(0, w.failed());
    assertEquals(new StoreWriter.Status(0, false, null), w.status());
    assertNull(health.get(StoreWriter.COMPONENT));
  }

  @Test
  @DisplayName("rows announced but not arrived yet count in the depth, and a drain waits for them")
  void expectedRowsCount() {
    StoreWriter<String> w = writer(1_000, 4);
    w.expect(3);
    assertEquals(3, w.status().depth());
    Future<Void> drained = w.drained();
    assertFalse(drained.isComplete(), "three rows are still being encoded");
    w.arrived(3, rows("r", 3));
    assertTrue(drained.succeeded());
    assertEquals(0, w.status().depth());
  }

  @Test
  @DisplayName("the database away: the batch is kept, retried after retryMs (not before), then written once")
  void retrySchedule() {
    StoreWriter<String> w = writer(1_000, 100);
    db.away = true;
    hand(w, rows("r", 5));
    assertEquals(1, db.statements.size());
    assertEquals(List.of(RETRY_MS), wakes, "the owner is asked to come back after retryMs");
    assertEquals(5, w.retried());
    assertEquals(5, w.status().depth(), "nothing dropped");
    assertTrue(w.retryWaiting());
    Health.Problem p = health.get(StoreWriter.COMPONENT);
    assertNotNull(p);
    assertEquals(Health.Level.DOWN, p.level());
    assertTrue(p.reason().startsWith("the database does not answer: Connection refused"), p.reason());
    assertEquals(p.reason(), w.status().problem());

    clock.advance(RETRY_MS - 1);
    w.pump(); // a wake too early (a stale timer) writes nothing
    assertEquals(1, db.statements.size());

    clock.advance(1);
    w.pump(); // still away: tried once more, scheduled once more
    assertEquals(2, db.statements.size());
    assertEquals(List.of(RETRY_MS, RETRY_MS), wakes);
    assertEquals(10, w.retried(), "each failed try counts its rows");

    db.away = false;
    clock.advance(RETRY_MS);
    w.pump();
    assertEquals(rows("r", 5), db.stored, "written once, in order");
    assertEquals(5, w.written());
    assertEquals(0, w.status().depth());
    assertNull(health.get(StoreWriter.COMPONENT), "clear once a write succeeds");
    assertNull(w.status().problem());
  }

  @Test
  @DisplayName("a ping that finds the database back sends the waiting retry at once")
  void pingResumes() {
    StoreWriter<String> w = writer(1_000, 100);
    db.away = true;
    clock.advance(900);
    hand(w, rows("r", 3)); // fails; the retry is due 1000 ms later
    clock.advance(100); // a second since the last success: the tick pings
    w.tick(); // away: the ping fails, nothing is written
    assertEquals(1, db.pings);
    assertEquals(1, db.statements.size());
    db.away = false;
    clock.advance(100); // well before retryMs
    w.tick();
    assertEquals(2, db.pings);
    assertEquals(rows("r", 3), db.stored);
    assertFalse(w.retryWaiting());
    assertNull(health.get(StoreWriter.COMPONENT));
  }

  @Test
  @DisplayName("while idle and healthy the database is pinged after a second without success; a failed ping is down")
  void idlePing() {
    StoreWriter<String> w = writer(1_000, 100);
    w.tick();
    assertEquals(0, db.pings, "a success (the start) less than a second ago");
    clock.advance(1_000);
    w.tick();
    assertEquals(1, db.pings);
    assertNull(health.get(StoreWriter.COMPONENT));
    db.away = true;
    clock.advance(1_000);
    w.tick();
    assertEquals(Health.Level.DOWN, health.get(StoreWriter.COMPONENT).level());
    assertNotNull(w.status().problem());
    db.away = false;
    clock.advance(1_000);
    w.tick();
    assertNull(health.get(StoreWriter.COMPONENT));
    assertNull(w.status().problem());
  }

  @Test
  @DisplayName("a write unanswered for queryTimeoutMs marks storage down; no ping meanwhile; its late answer clears it")
  void hungWrite() {
    StoreWriter<String> w = writer(1_000, 100);
    db.hang = true;
    hand(w, rows("r", 2));
    clock.advance(QUERY_TIMEOUT_MS - 1);
    w.tick();
    assertNull(health.get(StoreWriter.COMPONENT), "not yet");
    clock.advance(1);
    w.tick();
    Health.Problem p = health.get(StoreWriter.COMPONENT);
    assertEquals(Health.Level.DOWN, p.level());
    assertTrue(p.reason().contains("no reply for 3 s to a write in flight"), p.reason());
    assertEquals(0, db.pings, "the write in flight says more than a ping");
    db.hang = false;
    db.hanging.get(0).complete();
    assertEquals(2, w.written());
    assertNull(health.get(StoreWriter.COMPONENT));
  }

  @Test
  @DisplayName("a row refused for its content is isolated and given up, counted once; the others are stored")
  void isolatesBadRow() {
    StoreWriter<String> w = writer(1_000, 16);
    db.bad.add("r11");
    hand(w, rows("r", 16));
    List<String> expected = new ArrayList<>(rows("r", 16));
    expected.remove("r11");
    assertEquals(Set.copyOf(expected), Set.copyOf(db.stored));
    assertEquals(15, db.stored.size(), "every good row stored once");
    assertEquals(15, w.written());
    assertEquals(1, w.failed(), "the bad row counted once although tried in several statements");
    assertEquals(0, w.retried(), "a refusal is not retried");
    assertTrue(db.statements.size() > 2);
    assertEquals(0, w.status().depth());
    Health.Problem p = health.get(StoreWriter.COMPONENT);
    assertEquals(Health.Level.DEGRADED, p.level(), "readiness says degraded, not down");
    assertTrue(p.reason().contains("the database refused it"), p.reason());
    assertNull(w.status().problem(), "the database answers");

    hand(w, rows("s", 4)); // later rows go in one statement again
    assertEquals(List.of("s0", "s1", "s2", "s3"), db.statements.get(db.statements.size() - 1));
    assertEquals(1, w.failed());
  }

  @Test
  @DisplayName("degraded lasts REFUSED_QUIET_MS after the last given-up row, then clears")
  void degradedExpires() {
    StoreWriter<String> w = writer(1_000, 16);
    w.refuse("weird", "its series holds what PostgreSQL text cannot");
    assertEquals(1, w.failed());
    assertEquals(Health.Level.DEGRADED, health.get(StoreWriter.COMPONENT).level());
    clock.advance(StoreWriter.REFUSED_QUIET_MS - 1);
    w.tick();
    assertEquals(Health.Level.DEGRADED, health.get(StoreWriter.COMPONENT).level());
    clock.advance(1);
    w.tick();
    assertNull(health.get(StoreWriter.COMPONENT));
  }

  @Test
  @DisplayName("down beats degraded, and degraded comes back when the database does")
  void downOverDegraded() {
    StoreWriter<String> w = writer(1_000, 16);
    w.refuse("weird", "not storable");
    db.away = true;
    hand(w, rows("r", 1));
    assertEquals(Health.Level.DOWN, health.get(StoreWriter.COMPONENT).level());
    db.away = false;
    clock.advance(RETRY_MS);
    w.pump();
    assertEquals(Health.Level.DEGRADED, health.get(StoreWriter.COMPONENT).level());
  }

  @Test
  @DisplayName("full at the capacity (ingest refuses), clear again at 90%; rows past the capacity are still taken")
  void fullQueueRefuses() {
    StoreWriter<String> w = writer(10, 4);
    db.away = true;
    hand(w, rows("r", 9));
    assertFalse(w.status().full());
    hand(w, rows("s", 3)); // acknowledged events' finals: taken past the capacity
    assertTrue(w.status().full());
    assertEquals(12, w.status().depth());
    assertTrue(published.get(published.size() - 1).full(), "the refusal signal is published");
    db.away = false;
    clock.advance(RETRY_MS);
    w.pump();
    assertFalse(w.status().full());
    assertEquals(0, w.status().depth());
    assertEquals(12, db.stored.size());
    assertFalse(published.get(published.size() - 1).full());
  }

  @Test
  @DisplayName("a stop's flush does not wait for the retry delay; drained() does")
  void flushSkipsTheDelay() {
    StoreWriter<String> w = writer(1_000, 100);
    db.away = true;
    hand(w, rows("r", 2));
    db.away = false;
    Future<Void> drained = w.drained();
    assertFalse(drained.isComplete(), "a sync keeps the retry's pace");
    Future<Void> flushed = w.flush();
    assertTrue(flushed.succeeded());
    assertTrue(drained.succeeded());
    assertEquals(2, db.stored.size());
  }

  @Test
  @DisplayName("rows that could not be encoded are counted once as failed and leave the depth")
  void lostRows() {
    StoreWriter<String> w = writer(1_000, 100);
    w.expect(4);
    w.lost(4, new IllegalStateException("boom"));
    assertEquals(4, w.failed());
    assertEquals(0, w.status().depth());
    assertEquals(Health.Level.DEGRADED, health.get(StoreWriter.COMPONENT).level());
    assertTrue(w.drained().succeeded());
  }

  @Test
  @DisplayName("the status is published on every change, never twice the same")
  void publishesChanges() {
    StoreWriter<String> w = writer(1_000, 100);
    hand(w, rows("r", 2));
    for (int i = 1; i < published.size(); i++) {
      assertFalse(published.get(i).equals(published.get(i - 1)), published.toString());
    }
    assertEquals(new StoreWriter.Status(0, false, null), published.get(published.size() - 1));
  }
}
