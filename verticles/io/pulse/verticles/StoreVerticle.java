package io.pulse.verticles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.pulse.agg.Rollup;
import io.pulse.agg.View;
import io.pulse.catalog.StreamCatalog;
import io.pulse.live.RollupBatch;
import io.pulse.store.CatalogStore;
import io.pulse.store.Isolating;
import io.pulse.store.RollupStore;
import io.pulse.store.StoreErrors;
import io.pulse.store.WriteQueue;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes closed windows to PostgreSQL: the final rollups of every series, of the stream total and
 * of the configured group-bys. One instance.
 *
 * <p>Finals are encoded on a worker pool as they arrive and wait in a bounded {@link WriteQueue}
 * ({@code pulse_store_queue_depth}); one batch of up to {@code storage.writeBatch} rows is written
 * at a time, an idempotent upsert. A write that fails because the database is away or busy is
 * retried after {@code storage.retryMs}, as it is: nothing is dropped while the queue has room.
 * When the queue reaches {@code storage.writeQueue}, ingest answers 503 until it drains. Readiness
 * and the log (once per change) say whether the database answers.
 *
 * <p>Filtered views are never stored, nor group-bys that only live subscribers asked for: those
 * exist only while somebody watches, and the first window of one created between two shards'
 * closings can lack a shard's share. The history API rebuilds any group-by from the series rows.
 */
public final class StoreVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(StoreVerticle.class);
  private static final long CATALOG_SYNC_MS = 5_000;

  private final PulseContext ctx;
  private final WriteQueue queue;
  private final int batchSize;
  private final long retryMs;
  private WorkerExecutor encoder;
  private Counter written;
  private Counter retried;
  private Counter failed;
  private int encoding;
  private boolean writing;
  private long retryTimer = -1;
  /** Shrinks while a batch fails for its content, to isolate the rows at fault; back to batchSize on success. */
  private int batchLimit;
  private long lastSuccess;
  private long lastRefusedLog = System.nanoTime() - 20_000_000_000L;
  private long refusedSinceLog;
  private final List<Message<Object>> flushWaiters = new ArrayList<>();
  private final Map<io.pulse.core.StreamId, Long> catalogSynced = new HashMap<>();
  private long pingTimer = -1;
  private long catalogTimer = -1;
  private Future<Void> catalogRun;
  private Counter catalogSkipped;
  /** Per stream, how many of its names and values were left out so far (streams are bounded by maxStreams). */
  private final Map<io.pulse.core.StreamId, Integer> catalogSkippedSeen = new HashMap<>();
  private long lastCatalogLog = System.nanoTime() - 20_000_000_000L;
  /** How long the database may leave a query unanswered before readiness says so. */
  private final long queryTimeoutMs;
  /** A write not answered by then is given up and retried (rows are upserts: a late commit is harmless). */
  private final long writeTimeoutMs;
  private long writeStarted;
  private boolean pinging;

  public StoreVerticle(PulseContext ctx) {
    this.ctx = ctx;
    this.queue = new WriteQueue(ctx.config.storage().writeQueue());
    this.batchSize = ctx.config.storage().writeBatch();
    this.batchLimit = batchSize;
    this.retryMs = ctx.config.storage().retryMs();
    this.queryTimeoutMs = ctx.config.storage().queryTimeoutMs();
    this.writeTimeoutMs = Math.max(30_000, 3 * queryTimeoutMs);
  }

  @Override
  public Future<?> start() {
    encoder = vertx.createSharedWorkerExecutor("pulse-store", 1);
    Gauge.builder("pulse.store.queue.depth", queue, WriteQueue::depth)
        .description("Final rollups waiting to be written to PostgreSQL").register(ctx.registry);
    written = Counter.builder("pulse.store.rows.written").description("Final rollups written to PostgreSQL")
        .register(ctx.registry);
    retried = Counter.builder("pulse.store.rows.retried")
        .description("Rows of writes that failed (database away or busy) and were queued again").register(ctx.registry);
    failed = Counter.builder("pulse.store.rows.failed")
        .description("Final rollups given up: refused by the database for their content").register(ctx.registry);
    catalogSkipped = Counter.builder("pulse.catalog.skipped")
        .description("Dim names, dim values and value names left out of the stored catalogue: text PostgreSQL "
            + "cannot hold").register(ctx.registry);
    MessageConsumer<RollupBatch> rollups = vertx.eventBus().consumer(Addresses.ROLLUPS, m -> onRollups(m.body()));
    MessageConsumer<Object> flush = vertx.eventBus().consumer(Addresses.STORE_FLUSH, this::onFlush);
    MessageConsumer<Object> sync = vertx.eventBus().consumer(Addresses.STORE_SYNC, m -> {
      flushWaiters.add(m); // answered when the queue is empty; unlike a stop's flush, retries keep their pace
      pump();
    });
    lastSuccess = System.nanoTime();
    pingTimer = vertx.setPeriodic(Math.max(500, Math.min(retryMs, 2000)), t -> checkHealth());
    catalogTimer = vertx.setPeriodic(CATALOG_SYNC_MS, t -> syncCatalog());
    Future<?> loaded = ctx.catalogStore.load().onSuccess(ctx.storedStreams::putAll);
    return Future.all(rollups.completion(), flush.completion(), sync.completion(), loaded);
  }

  // ---- intake ----

  private void onRollups(RollupBatch batch) {
    List<Rollup> finals = new ArrayList<>();
    for (Rollup r : batch.rollups()) {
      if (r.fin() && r.window() != null && stored(r.view())) {
        finals.add(r);
      }
    }
    if (finals.isEmpty()) {
      return;
    }
    encoding += finals.size();
    publishDepth();
    encoder.executeBlocking(() -> encode(finals), true).onComplete(ar -> {
      encoding -= finals.size();
      if (ar.succeeded()) {
        for (RollupStore.Row row : ar.result()) {
          if (row.key().storable()) {
            queue.offer(row); // acknowledged events' finals are never dropped
          } else {
            refused(row, "its series holds what PostgreSQL text cannot (NUL or an unpaired surrogate)");
          }
        }
      } else {
        failed.increment(finals.size());
        LOG.error("storage: {} final rollups could not be encoded", finals.size(), ar.cause());
      }
      publishDepth();
      pump();
    });
  }

  /** Series views, and unfiltered group-bys that always exist (the stream total, configured group-bys). */
  private static boolean stored(View v) {
    return v.allDims() || (v.filter().isEmpty() && v.permanent());
  }

  private List<RollupStore.Row> encode(List<Rollup> finals) {
    List<RollupStore.Row> rows = new ArrayList<>(finals.size());
    for (Rollup r : finals) {
      View v = r.view();
      RollupStore.SeriesKey key = v.allDims() ? RollupStore.SeriesKey.series(v.stream(), r.series())
          : RollupStore.SeriesKey.group(v.stream(), v.groupBy(), r.series());
      rows.add(RollupStore.Row.of(key, r.window(), ctx.codec));
    }
    return rows;
  }

  // ---- writing ----

  private void pump() {
    if (writing || retryTimer >= 0 || !queue.waiting()) {
      answerFlushWaiters();
      return;
    }
    List<RollupStore.Row> batch = queue.take(batchLimit);
    writing = true;
    writeStarted = System.nanoTime();
    StoreErrors.bounded(ctx.rollups.write(batch), writeTimeoutMs).onComplete(ar -> {
      writing = false;
      if (ar.succeeded()) {
        queue.done(batch);
        written.increment(batch.size());
        batchLimit = batchSize;
        healthy();
      } else {
        failedWrite(batch, ar.cause());
      }
      publishDepth();
      pump();
    });
  }

  private void failedWrite(List<RollupStore.Row> batch, Throwable e) {
    if (StoreErrors.transientFailure(e)) {
      queue.requeue(batch);
      retried.increment(batch.size());
      unhealthy(StoreErrors.describe(e));
      retryTimer = vertx.setTimer(retryMs, t -> {
        retryTimer = -1;
        pump();
      });
    } else if (batch.size() > 1) {
      // the database refused the content: halve the batches until the rows at fault are alone
      queue.requeue(batch);
      batchLimit = Math.max(1, batch.size() / 2);
    } else {
      queue.done(batch);
      refused(batch.get(0), "the database refused it: " + StoreErrors.describe(e));
    }
  }

  /** A final rollup given up, counted once in pulse_store_rows_failed_total; one log line per 10 s at most. */
  private void refused(RollupStore.Row row, String why) {
    failed.increment();
    refusedSinceLog++;
    long now = System.nanoTime();
    if (now - lastRefusedLog > 10_000_000_000L) { // a broken schema would refuse every row: one line per 10 s
      String key = io.pulse.store.PgText.escape(io.pulse.store.PgText.cap(row.key().toString(), 500));
      LOG.error("storage: the final rollup of {} at {} is not stored: {}{}", key, row.start(), why,
          refusedSinceLog > 1 ? " (" + (refusedSinceLog - 1) + " more refused since the last such line)" : "");
      lastRefusedLog = now;
      refusedSinceLog = 0;
    }
  }

  // ---- health ----

  /**
   * Keeps readiness honest within about {@code storage.queryTimeoutMs}: a write in flight that long
   * means the database does not answer (hung, stopped, unreachable); while idle, a ping bounded by
   * the same time asks it. After an outage it resumes writing at once.
   */
  private void checkHealth() {
    long now = System.nanoTime();
    if (writing) {
      long waited = (now - writeStarted) / 1_000_000;
      if (waited >= queryTimeoutMs) {
        unhealthy("no reply for " + (waited / 1000) + " s to a write in flight");
      }
      return; // its answer (or its timeout) says more
    }
    if (pinging || now - lastSuccess < 1_000_000_000L) {
      return;
    }
    pinging = true;
    ctx.db.ping().onComplete(ar -> {
      pinging = false;
      if (ar.succeeded()) {
        healthy();
        if (retryTimer >= 0) {
          vertx.cancelTimer(retryTimer);
          retryTimer = -1;
          pump();
        }
      } else {
        unhealthy(StoreErrors.describe(ar.cause()));
      }
    });
  }

  private void healthy() {
    lastSuccess = System.nanoTime();
    if (ctx.health.clear("storage")) {
      LOG.info("storage: {} answers again; writing the {} buffered final rollups", ctx.db.description(),
          queue.depth());
    }
  }

  private void unhealthy(String reason) {
    if (ctx.health.down("storage", "the database does not answer: " + reason, ctx.clock.millis())) {
      LOG.warn("storage: {} does not answer ({}); the live feed goes on, final rollups are buffered ({} now, "
          + "ingest answers 503 at {}) and written when it is back", ctx.db.description(), reason, queue.depth(),
          queue.capacity());
    }
  }

  private void publishDepth() {
    ctx.storeDepth.set(queue.depth() + encoding);
    ctx.storeFull.set(queue.full());
  }

  // ---- catalogue ----

  /**
   * Upserts the streams that changed since the last sync. What PostgreSQL cannot hold is left out
   * and counted ({@code pulse_catalog_skipped_total}); a stream the database refuses is given up
   * alone until it changes again, never failing the others; while the database is away the next
   * sync tries again. One sync at a time: a call while one runs gets that one.
   */
  private Future<Void> syncCatalog() {
    if (catalogRun != null) {
      return catalogRun;
    }
    List<CatalogStore.Stream> changed = new ArrayList<>();
    Map<io.pulse.core.StreamId, Long> seen = new HashMap<>();
    int skipped = 0;
    for (StreamCatalog.StreamInfo s : ctx.catalog.all()) {
      // lastSeen once, before the dims: ingest adds an event's dims (admit) before it moves lastSeen (count),
      // so what is copied below holds at least every event up to `at`, and a later one changes lastSeen
      long at = s.lastSeen();
      Long synced = catalogSynced.get(s.id());
      if (synced != null && synced == at) {
        continue;
      }
      CatalogStore.Stream live = new CatalogStore.Stream(s.id(), s.dims(), s.valueNames(), s.firstSeen(), at);
      CatalogStore.Stream before = ctx.storedStreams.get(s.id());
      CatalogStore.Storable ok = CatalogStore.storable(before == null ? live : before.merge(live));
      // each left-out name or value counted once per stream, not at every sync
      int before0 = catalogSkippedSeen.getOrDefault(s.id(), 0);
      if (ok.skipped() > before0) {
        skipped += ok.skipped() - before0;
        catalogSkippedSeen.put(s.id(), ok.skipped());
      }
      seen.put(s.id(), at);
      if (ok.stream() != null) {
        changed.add(ok.stream());
      } else {
        catalogSynced.put(s.id(), at); // nothing of it can be stored
      }
    }
    if (skipped > 0) {
      catalogSkipped.increment(skipped);
      catalogProblem("{} dim names, dim values or value names hold what PostgreSQL text cannot (NUL, unpaired "
          + "surrogates): not stored in the catalogue", skipped);
    }
    if (changed.isEmpty()) {
      return Future.succeededFuture();
    }
    Future<Void> run = Isolating.write(changed, batch -> StoreErrors.bounded(ctx.catalogStore.save(batch),
        writeTimeoutMs)).map(o -> {
          java.util.Set<io.pulse.core.StreamId> notStored = new java.util.HashSet<>();
          o.remaining().forEach(s -> notStored.add(s.stream())); // the database is away: the next sync tries again
          for (Isolating.Refusal<CatalogStore.Stream> r : o.refused()) {
            notStored.add(r.row().stream());
            catalogSynced.put(r.row().stream(), seen.get(r.row().stream())); // again only once it changes
            catalogProblem("the database refused the catalogue row of stream {}: {}", r.row().stream(),
                StoreErrors.describe(r.cause()));
          }
          for (CatalogStore.Stream s : changed) {
            if (!notStored.contains(s.stream())) {
              ctx.storedStreams.put(s.stream(), s);
              catalogSynced.put(s.stream(), seen.get(s.stream()));
            }
          }
          return (Void) null;
        });
    catalogRun = run;
    return run.onComplete(ar -> catalogRun = null);
  }

  /** Logs a catalogue problem at most once per 10 s. */
  private void catalogProblem(String format, Object... args) {
    long now = System.nanoTime();
    if (now - lastCatalogLog > 10_000_000_000L) {
      LOG.warn("storage: " + format, args);
      lastCatalogLog = now;
    }
  }

  // ---- shutdown ----

  private void onFlush(Message<Object> m) {
    syncCatalog().onComplete(v -> {
      flushWaiters.add(m);
      if (retryTimer >= 0) { // during the stop, try again at once rather than after the retry delay
        vertx.cancelTimer(retryTimer);
        retryTimer = -1;
      }
      pump();
    });
  }

  private void answerFlushWaiters() {
    if (flushWaiters.isEmpty() || encoding > 0 || queue.depth() > 0 || writing) {
      return;
    }
    for (Message<Object> m : flushWaiters) {
      m.reply(0);
    }
    flushWaiters.clear();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(pingTimer);
    vertx.cancelTimer(catalogTimer);
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
    }
    return encoder.close();
  }
}
