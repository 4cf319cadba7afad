package io.pulse.verticles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.pulse.store.Downsampler;
import io.pulse.store.QuarantineStore;
import io.pulse.store.QuarantineWriter;
import io.pulse.store.StoreErrors;
import io.pulse.store.StoreWriter;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The storage's background jobs, each on its own timer, one run at a time:
 * <ul>
 *   <li>the quarantine writer ({@link QuarantineWriter}): every second, what ingest quarantined into the in-memory ring goes
 *       to PostgreSQL in one upsert (repeats merged; text PostgreSQL cannot hold stored escaped, see
 *       {@link io.pulse.store.PgText}); a row the database refuses for its content is given up alone
 *       ({@code pulse_quarantine_failed_total}); if the database is away, one batch waits to be
 *       retried and the ring keeps the rest, and what the ring overwrites before the writer gets to
 *       it is counted once ({@code pulse_quarantine_unsaved_total});</li>
 *   <li>downsampling and retention ({@link Downsampler}): every minute, or sooner while catching
 *       up. It runs only while the database answers and the write queue is empty, and merges only
 *       windows that closed more than the allowed lateness and a margin ago, so a minute is never
 *       merged before all its seconds are stored.</li>
 * </ul>
 */
public final class StorageJobsVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(StorageJobsVerticle.class);
  private static final long QUARANTINE_EVERY_MS = 1_000;
  private static final int QUARANTINE_BATCH = 5_000;
  private static final long DOWNSAMPLE_EVERY_MS = 60_000;
  private static final long CATCH_UP_MS = 1_000;
  /** Beyond lateness: time for a closed window's final to cross the event bus and the write queue. */
  private static final long SETTLE_MS = 15_000;

  private final PulseContext ctx;
  private QuarantineWriter quarantine;
  private Downsampler downsampler;
  private WorkerExecutor worker;
  private Counter downsampled;
  private Counter expired;
  private long quarantineTimer = -1;
  private long downsampleTimer = -1;
  private boolean stopping;

  public StorageJobsVerticle(PulseContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Future<?> start() {
    QuarantineStore store = new QuarantineStore(ctx.db.pool());
    long bound = Math.max(30_000, 3 * ctx.config.storage().queryTimeoutMs()); // then retried; a late commit recounts
    quarantine = new QuarantineWriter(ctx.quarantine,
        batch -> StoreErrors.bounded(store.insert(batch), bound), ctx.clock, QUARANTINE_BATCH);
    worker = vertx.createSharedWorkerExecutor("pulse-downsample", 1);
    downsampler = new Downsampler(ctx.db.pool(), ctx.codec, ctx.config.storage().retention(), worker::executeBlocking);
    FunctionCounter.builder("pulse.quarantine.unsaved", quarantine, QuarantineWriter::unsaved)
        .description("Quarantined events the in-memory ring overwrote before they could be stored")
        .register(ctx.registry);
    FunctionCounter.builder("pulse.quarantine.failed", quarantine, QuarantineWriter::failed)
        .description("Quarantined events given up: the database refused them for their content").register(ctx.registry);
    downsampled = Counter.builder("pulse.store.downsampled.rows")
        .description("1 min and 1 h rows written by downsampling").register(ctx.registry);
    expired = Counter.builder("pulse.store.expired.rows")
        .description("Rows deleted by retention").register(ctx.registry);
    quarantineTimer = vertx.setPeriodic(QUARANTINE_EVERY_MS, t -> saveQuarantine());
    if (ctx.config.storage().downsample()) {
      downsampleTimer = vertx.setTimer(5_000, t -> downsample());
    } else {
      LOG.info("storage: downsampling and retention are off (storage.downsample)");
    }
    MessageConsumer<Object> flush = vertx.eventBus().consumer(Addresses.JOBS_FLUSH, this::onFlush);
    MessageConsumer<Object> save = vertx.eventBus().consumer(Addresses.QUARANTINE_SAVE,
        m -> saveQuarantine().onComplete(ar -> m.reply(ar.succeeded() ? 0 : 1)));
    return Future.all(flush.completion(), save.completion());
  }

  // ---- quarantine ----

  /** Saves what is new in the ring; calls queue up behind each other, so one save runs at a time. */
  private Future<Void> saveQuarantine() {
    return quarantine.save();
  }

  // ---- downsampling and retention ----

  private void downsample() {
    downsampleTimer = -1;
    if (stopping) {
      return;
    }
    StoreWriter.Status store = ctx.store.get();
    if (store.problem() != null || store.depth() > 0) {
      schedule(DOWNSAMPLE_EVERY_MS / 4); // the database is away or behind: try again soon
      return;
    }
    long now = ctx.clock.millis();
    long safeBefore = now - ctx.config.aggregation().allowedLatenessMs() - ctx.config.maxWindowMs() - SETTLE_MS;
    downsampler.run(now, safeBefore).onComplete(ar -> {
      if (ar.succeeded()) {
        Downsampler.Result r = ar.result();
        downsampled.increment(r.rowsWritten());
        expired.increment(r.rowsDeleted());
        if (r.rowsWritten() > 0 || r.rowsDeleted() > 0) {
          LOG.debug("downsampling: {} min and {} h windows, {} rows written, {} expired{}", r.minutes(), r.hours(),
              r.rowsWritten(), r.rowsDeleted(), r.more() ? ", more to do" : "");
        }
        schedule(r.more() ? CATCH_UP_MS : DOWNSAMPLE_EVERY_MS);
      } else {
        LOG.warn("downsampling failed, trying again in a minute: {}", StoreErrors.describe(ar.cause()));
        schedule(DOWNSAMPLE_EVERY_MS);
      }
    });
  }

  private void schedule(long delayMs) {
    if (!stopping) {
      downsampleTimer = vertx.setTimer(delayMs, t -> downsample());
    }
  }

  // ---- shutdown ----

  private void onFlush(Message<Object> m) {
    stopping = true;
    saveQuarantine().onComplete(ar -> m.reply(ar.succeeded() ? 0 : 1));
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    vertx.cancelTimer(quarantineTimer);
    if (downsampleTimer >= 0) {
      vertx.cancelTimer(downsampleTimer);
    }
    return worker.close();
  }
}
