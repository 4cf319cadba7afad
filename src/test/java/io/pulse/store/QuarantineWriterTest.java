package io.pulse.store;

import io.pulse.core.StreamId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.ManualClock;
import io.pulse.ingest.Quarantine;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.pgclient.PgException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The quarantine's way from the in-memory ring to the database, against a fake database. */
class QuarantineWriterTest {

  private final ManualClock clock = new ManualClock(1_000_000);
  private final Quarantine ring = new Quarantine(10, 1000);
  private final List<String> stored = new ArrayList<>();
  private final List<Integer> statements = new ArrayList<>();
  private boolean away;
  private Promise<Void> hanging;

  private QuarantineWriter writer(int batch) {
    return new QuarantineWriter(ring, rows -> {
      statements.add(rows.size());
      if (hanging != null) {
        return hanging.future();
      }
      if (away) {
        return Future.failedFuture(new IOException("Connection refused"));
      }
      if (rows.stream().anyMatch(r -> r.payload().contains("bad"))) {
        return Future.failedFuture(new PgException("invalid input", "ERROR", "22P02", null));
      }
      rows.forEach(r -> stored.add(r.payload()));
      return Future.succeededFuture();
    }, clock, batch);
  }

  private void quarantine(String... payloads) {
    for (String p : payloads) {
      ring.add(clock.millis(), StreamId.DEFAULT_TENANT, "s", "http", "bad value", p);
    }
  }

  @Test
  @DisplayName("only what entered the ring after the start is saved, each once")
  void savesNewEntries() {
    quarantine("before");
    QuarantineWriter w = writer(100);
    quarantine("a", "b");
    assertTrue(w.save().succeeded());
    assertEquals(List.of("a", "b"), stored);
    assertTrue(w.save().succeeded());
    assertEquals(List.of("a", "b"), stored, "nothing new: nothing written again");
  }

  @Test
  @DisplayName("the database away: the rows wait and are stored at the next save, once; later entries follow")
  void awayKeepsRows() {
    QuarantineWriter w = writer(100);
    quarantine("a", "b");
    away = true;
    assertTrue(w.save().failed());
    assertEquals(2, w.pending());
    quarantine("c");
    away = false;
    assertTrue(w.save().succeeded());
    assertEquals(List.of("a", "b", "c"), stored, "the waiting rows first, then what is behind them in the ring");
    assertEquals(List.of(2, 2, 1), statements);
    assertTrue(w.save().succeeded());
    assertEquals(List.of("a", "b", "c"), stored, "nothing twice");
    assertEquals(0, w.unsaved());
  }

  @Test
  @DisplayName("entries the ring overwrote before a save are counted once as unsaved")
  void overwrittenCountedOnce() {
    QuarantineWriter w = writer(100);
    for (int i = 0; i < 14; i++) {
      quarantine("e" + i); // the ring holds 10
    }
    w.save();
    assertEquals(4, w.unsaved());
    assertEquals(10, stored.size());
    w.save();
    assertEquals(4, w.unsaved());
  }

  @Test
  @DisplayName("a row refused for its content is given up alone and its entries counted once; the rest stored")
  void refusedAlone() {
    QuarantineWriter w = writer(100);
    quarantine("a", "bad", "bad", "c"); // the two "bad" repeats are one row of 2 entries
    assertTrue(w.save().succeeded());
    assertEquals(List.of("a", "c"), stored);
    assertEquals(2, w.failed());
    w.save();
    assertEquals(2, w.failed());
  }

  @Test
  @DisplayName("a full batch is followed by the next in the same save; calls queue behind a running save")
  void batchesAndQueueing() {
    QuarantineWriter w = writer(3);
    quarantine("a", "b", "c", "d", "e");
    hanging = Promise.promise();
    Future<Void> first = w.save();
    Future<Void> second = w.save();
    assertEquals(List.of(3), statements, "the second save waits for the first");
    Promise<Void> h = hanging;
    hanging = null;
    h.complete();
    assertTrue(first.succeeded());
    assertTrue(second.succeeded());
    assertEquals(List.of(3, 2), statements, "the first save went on to the next batch; the second found nothing new");
    assertEquals(List.of("d", "e"), stored); // the fake keeps only the rows of statements it answered itself
  }
}
