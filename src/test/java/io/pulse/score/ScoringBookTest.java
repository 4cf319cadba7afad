package io.pulse.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.ManualClock;
import io.pulse.core.StreamId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The model verticle's bookkeeping with a clock that moves only when told: when training is due, jobs, versions, outliers. */
class ScoringBookTest {

  private static final StreamId PAY = StreamId.of("acme", "pay");
  private static final StreamId OTHER_TENANT = StreamId.of("globex", "pay");
  private static final long RETRAIN = 600_000;

  private final ManualClock clock = new ManualClock(1_000_000);
  private final ModelTrainer trainer = new ModelTrainer(0.01, 16, clock);

  /** Moves the clock on by {@code ms} and answers the new time. */
  private long at(long ms) {
    clock.advance(ms);
    return clock.millis();
  }

  @Test
  @DisplayName("versions count up by one with every retraining; a failed job takes none; one job per stream at a time")
  void versionsAndJobs() {
    ScoringBook book = new ScoringBook(RETRAIN, 10);
    ScoringBook.Start s1 = book.start(PAY, "api", clock.millis());
    assertTrue(s1.started());
    ScoringBook.Start again = book.start(PAY, "schedule", clock.millis());
    assertFalse(again.started(), "a second request gets the running job");
    assertSame(s1.job(), again.job());
    assertEquals(1, book.nextVersion(PAY));
    book.succeeded(s1.job(), trainer.train(PAY, EventModelTest.sample(1, 300), book.nextVersion(PAY)), clock.millis());
    assertEquals(1, book.model(PAY).version());
    assertEquals("done", book.job(PAY).state());

    ScoringBook.Start s2 = book.start(PAY, "api", at(1000));
    book.failed(s2.job(), "only 3 recent events", clock.millis());
    assertEquals("failed", book.job(PAY).state());
    assertEquals(1, book.model(PAY).version(), "a failed training keeps the model it had");
    assertEquals(2, book.nextVersion(PAY));

    ScoringBook.Start s3 = book.start(PAY, "schedule", at(1000));
    book.succeeded(s3.job(), trainer.train(PAY, EventModelTest.sample(2, 300), book.nextVersion(PAY)), clock.millis());
    assertEquals(2, book.model(PAY).version());
    assertEquals(2, book.job(PAY).version());
    assertTrue(book.job(PAY).id() > s1.job().id());

    assertNull(book.model(OTHER_TENANT), "another tenant's stream of the same name has its own models");
    assertEquals(1, book.nextVersion(OTHER_TENANT));
    book.versionUsed(OTHER_TENANT, 7); // stored by an earlier run
    assertEquals(8, book.nextVersion(OTHER_TENANT));
  }

  @Test
  @DisplayName("training is due every 10 s until a stream has a model, then retrainEvery after the last; never while running")
  void due() {
    ScoringBook book = new ScoringBook(RETRAIN, 10);
    assertTrue(book.due(PAY, clock.millis()));
    ScoringBook.Start s = book.start(PAY, "schedule", clock.millis());
    assertFalse(book.due(PAY, at(60_000)), "running");
    book.failed(s.job(), "too few events", clock.millis());
    assertFalse(book.due(PAY, clock.millis()));
    assertTrue(book.due(PAY, at(ScoringBook.WARMUP_RETRY_MS)), "no model yet: tried again soon");
    s = book.start(PAY, "schedule", clock.millis());
    book.succeeded(s.job(), trainer.train(PAY, EventModelTest.sample(1, 300), 1), clock.millis());
    assertFalse(book.due(PAY, at(RETRAIN - 1)));
    assertTrue(book.due(PAY, at(1)));
  }

  @Test
  @DisplayName("each stream keeps its newest outliers, at most keepOutliers, listed newest first within a time range")
  void outlierRing() {
    ScoringBook book = new ScoringBook(RETRAIN, 10);
    for (int i = 0; i < 25; i++) {
      book.outlier(new OutlierRecord(PAY, 1000 + i, 1000 + i, null, new JsonObject(), new JsonObject(), 0.9, -1, 1,
          new JsonArray()));
    }
    List<OutlierRecord> all = book.outliers(PAY, 0, Long.MAX_VALUE, 100);
    assertEquals(10, all.size());
    assertEquals(1024, all.get(0).ts());
    assertEquals(1015, all.get(9).ts());
    assertEquals(List.of(1020L, 1019L), book.outliers(PAY, 1017, 1021, 2).stream().map(OutlierRecord::ts).toList());
    assertEquals(0, book.outliers(OTHER_TENANT, 0, Long.MAX_VALUE, 100).size());
  }
}
