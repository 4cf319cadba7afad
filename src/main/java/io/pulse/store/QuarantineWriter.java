package io.pulse.store;

import io.pulse.core.Clock;
import io.pulse.ingest.Quarantine;
import io.vertx.core.Future;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves what ingest quarantined into the in-memory ring to PostgreSQL: each {@link #save} takes
 * what is new in the ring (repeats merged, text PostgreSQL cannot hold escaped: see
 * {@link QuarantineStore#rows}) and upserts it through {@code insert}.
 *
 * <ul>
 *   <li>The cursor moves past what was taken at once, so entries the ring overwrote before a save
 *       got to them are counted once in {@link #unsaved()}.</li>
 *   <li>A row the database refuses for its content is given up alone ({@link Isolating}); its
 *       entries are counted once in {@link #failed()}.</li>
 *   <li>While the database is away, the rows not stored yet (at most one batch) wait and are tried
 *       first at the next save, never twice after they were stored; the ring keeps the rest.</li>
 *   <li>Calls queue up behind each other: one save runs at a time.</li>
 * </ul>
 * Plain Java, single-threaded (the storage jobs verticle's event loop).
 */
public final class QuarantineWriter {

  private static final Logger LOG = LoggerFactory.getLogger(QuarantineWriter.class);
  private static final long LOG_EVERY_MS = 10_000;

  private final Quarantine ring;
  private final Function<List<QuarantineStore.Row>, Future<?>> insert;
  private final Clock clock;
  private final int batch;
  private long cursor;
  /** Rows taken from the ring and not stored yet (the database was away): tried again first. */
  private List<QuarantineStore.Row> pending = List.of();
  private long unsaved;
  private long failed;
  private long lastRefusedLog = Long.MIN_VALUE;
  private long refusedSinceLog;
  /** The save running or last run. */
  private Future<Void> saving = Future.succeededFuture();

  /**
   * Starts at the ring's end (the ring is new with the process).
   *
   * @param insert one upsert statement for the rows it is given (bounded by the caller)
   * @param batch ring entries taken per statement at most
   */
  public QuarantineWriter(Quarantine ring, Function<List<QuarantineStore.Row>, Future<?>> insert, Clock clock,
      int batch) {
    this.ring = ring;
    this.insert = insert;
    this.clock = clock;
    this.batch = batch;
    this.cursor = ring.total();
  }

  /** Ring entries overwritten before they could be stored. */
  public long unsaved() {
    return unsaved;
  }

  /** Ring entries given up: the database refused them for their content. */
  public long failed() {
    return failed;
  }

  /** Rows waiting to be tried again (the database was away). */
  public int pending() {
    return pending.size();
  }

  /**
   * Saves what is new in the ring, after any save still running; fails (with the database's error)
   * when the database is away, the rows not stored then waiting for the next save.
   */
  public Future<Void> save() {
    saving = saving.transform(ar -> saveNow());
    return saving;
  }

  private Future<Void> saveNow() {
    boolean more = !pending.isEmpty(); // the ring may have more behind what was pending
    if (pending.isEmpty()) {
      Quarantine.Since next = ring.since(cursor, batch);
      if (next.missed() > 0) {
        unsaved += next.missed();
        LOG.warn("quarantine: {} rejected events were overwritten in memory before they could be stored "
            + "(quarantine.capacity {}; is the database away?)", next.missed(), ring.capacity());
      }
      cursor = next.next();
      pending = QuarantineStore.rows(next.entries());
      more = next.entries().size() == batch; // a full batch: more may be waiting
    }
    if (pending.isEmpty()) {
      return Future.succeededFuture();
    }
    boolean goOn = more;
    return Isolating.write(pending, insert).compose(o -> saved(o, goOn));
  }

  /** Counts and logs what was given up, keeps what the database did not take for the next try. */
  private Future<Void> saved(Isolating.Outcome<QuarantineStore.Row> o, boolean goOn) {
    for (Isolating.Refusal<QuarantineStore.Row> r : o.refused()) {
      long entries = r.row().entries();
      failed += entries;
      refusedSinceLog += entries;
      long now = clock.millis();
      if (lastRefusedLog == Long.MIN_VALUE || now - lastRefusedLog >= LOG_EVERY_MS) { // one line per 10 s at most
        LOG.error("quarantine: the database refused a quarantined event of stream {} ({}); it is not stored{}",
            r.row().stream(), StoreErrors.describe(r.cause()), refusedSinceLog > entries
                ? " (" + (refusedSinceLog - entries) + " more refused since the last such line)" : "");
        lastRefusedLog = now;
        refusedSinceLog = 0;
      }
    }
    pending = o.remaining();
    if (o.transientCause() != null) {
      LOG.debug("quarantine: saving {} rows failed: {}", pending.size(), StoreErrors.describe(o.transientCause()));
      return Future.failedFuture(o.transientCause());
    }
    return goOn ? saveNow() : Future.succeededFuture();
  }
}
