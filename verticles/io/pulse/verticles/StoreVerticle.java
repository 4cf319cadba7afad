package io.pulse.verticles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.pulse.agg.Rollup;
import io.pulse.agg.View;
import io.pulse.catalog.StreamCatalog;
import io.pulse.live.RollupBatch;
import io.pulse.store.CatalogStore;
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
  private final Map<String, Long> catalogSynced = new HashMap<>();
  private long pingTimer = -1;
  private long catalogTimer = -1;

  public StoreVerticle(PulseContext ctx) {
    this.ctx = ctx;
    this.queue = new WriteQueue(ctx.config.storage().writeQueue());
    this.batchSize = ctx.config.storage().writeBatch();
    this.batchLimit = batchSize;
    this.retryMs = ctx.config.storage().retryMs();
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
        ar.result().forEach(queue::offer); // acknowledged events' finals are never dropped
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
    ctx.rollups.write(batch).onComplete(ar -> {
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
      failed.increment();
      refusedSinceLog++;
      long now = System.nanoTime();
      if (now - lastRefusedLog > 10_000_000_000L) { // a broken schema would refuse every row: one line per 10 s
        LOG.error("storage: the database refused the final rollup of {} at {}: {}; it is not stored{}",
            batch.get(0).key(), batch.get(0).start(), StoreErrors.describe(e),
            refusedSinceLog > 1 ? " (" + (refusedSinceLog - 1) + " more refused since the last such line)" : "");
        lastRefusedLog = now;
        refusedSinceLog = 0;
      }
    }
  }

  // ---- health ----

  /** While idle, one query now and then keeps readiness honest; after an outage it resumes writing at once. */
  private void checkHealth() {
    if (writing || System.nanoTime() - lastSuccess < 1_000_000_000L) {
      return;
    }
    ctx.db.ping().onComplete(ar -> {
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

  private Future<Void> syncCatalog() {
    List<CatalogStore.Stream> changed = new ArrayList<>();
    for (StreamCatalog.StreamInfo s : ctx.catalog.all()) {
      Long synced = catalogSynced.get(s.name());
      if (synced != null && synced == s.lastSeen()) {
        continue;
      }
      CatalogStore.Stream live = new CatalogStore.Stream(s.name(), s.dims(), s.valueNames(), s.firstSeen(),
          s.lastSeen());
      CatalogStore.Stream before = ctx.storedStreams.get(s.name());
      CatalogStore.Stream merged = before == null ? live : before.merge(live);
      changed.add(merged);
    }
    if (changed.isEmpty()) {
      return Future.succeededFuture();
    }
    return ctx.catalogStore.save(changed).onSuccess(v -> {
      for (CatalogStore.Stream s : changed) {
        ctx.storedStreams.put(s.name(), s);
        StreamCatalog.StreamInfo live = ctx.catalog.get(s.name());
        if (live != null) {
          catalogSynced.put(s.name(), live.lastSeen());
        }
      }
    }); // a failure is the database being away: the next sync tries again, and health says so
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
