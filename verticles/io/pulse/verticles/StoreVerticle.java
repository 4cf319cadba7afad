package io.pulse.verticles;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.pulse.agg.Rollup;
import io.pulse.agg.View;
import io.pulse.live.RollupBatch;
import io.pulse.store.CatalogSync;
import io.pulse.store.PgText;
import io.pulse.store.RollupStore;
import io.pulse.store.StoreErrors;
import io.pulse.store.StoreWriter;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes closed windows to PostgreSQL: the final rollups of every series, of the stream total and
 * of the configured group-bys. One instance; an adapter of {@link StoreWriter} (the write queue,
 * retries, isolation of refused rows, storage health) and {@link CatalogSync} (the stored stream
 * catalogue).
 *
 * <p>Finals are encoded on a worker pool as they arrive and wait in the writer's bounded queue
 * ({@code pulse_store_queue_depth}); one batch of up to {@code storage.writeBatch} rows is written
 * at a time, an idempotent upsert. A write that fails because the database is away or busy is
 * retried after {@code storage.retryMs}, as it is: nothing is dropped while the queue has room.
 * When the queue reaches {@code storage.writeQueue}, ingest answers 503 until it drains; when one
 * tenant's rows in it reach {@code limits.perTenant.maxStorageBacklog}, ingest answers that tenant
 * 503 (published in the status as {@link StoreWriter.Status#tenantsFull()}) while others go on. Readiness
 * and the log (once per change) say whether the database answers. What other verticles may know is
 * published in {@link PulseContext#store} and {@link PulseContext#storedStreams}, by this one only.
 *
 * <p>Filtered views are never stored, nor group-bys that only live subscribers asked for: those
 * exist only while somebody watches, and the first window of one created between two shards'
 * closings can lack a shard's share. The history API rebuilds any group-by from the series rows.
 */
public final class StoreVerticle extends VerticleBase {

  private static final long CATALOG_SYNC_MS = 5_000;

  private final PulseContext ctx;
  private WorkerExecutor encoder;
  private StoreWriter<RollupStore.Row> writer;
  private CatalogSync catalog;
  private long pingTimer = -1;
  private long catalogTimer = -1;

  public StoreVerticle(PulseContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Future<?> start() {
    encoder = vertx.createSharedWorkerExecutor("pulse-store", 1);
    var s = ctx.config.storage();
    // a write not answered by then is given up and retried (rows are upserts: a late commit is harmless)
    long writeTimeoutMs = Math.max(30_000, 3 * s.queryTimeoutMs());
    StoreWriter.Sink<RollupStore.Row> sink = new StoreWriter.Sink<>() {
      @Override
      public Future<?> write(List<RollupStore.Row> batch) {
        return StoreErrors.bounded(ctx.rollups.write(batch), writeTimeoutMs);
      }

      @Override
      public Future<?> ping() {
        return ctx.db.ping();
      }
    };
    writer = new StoreWriter<>(new StoreWriter.Settings(s.writeQueue(), s.writeBatch(), s.retryMs(), s.queryTimeoutMs()),
        sink, ctx.clock, ctx.health, ms -> vertx.setTimer(ms, t -> writer.pump()), ctx.store::set,
        row -> PgText.escape(PgText.cap(row.key().toString(), 500)) + " at " + row.start(), ctx.db.description(),
        row -> row.key().stream().tenant(), ctx.quota.cap(io.pulse.core.TenantQuota.Resource.STORAGE_BACKLOG));
    catalog = new CatalogSync(batch -> StoreErrors.bounded(ctx.catalogStore.save(batch), writeTimeoutMs), ctx.clock,
        ctx.storedStreams::set);
    registerMeters();
    MessageConsumer<RollupBatch> rollups = vertx.eventBus().consumer(Addresses.ROLLUPS, m -> onRollups(m.body()));
    MessageConsumer<Object> flush = vertx.eventBus().consumer(Addresses.STORE_FLUSH, this::onFlush);
    // answered when the queue is empty; unlike a stop's flush, retries keep their pace
    MessageConsumer<Object> sync = vertx.eventBus().consumer(Addresses.STORE_SYNC,
        m -> writer.drained().onComplete(ar -> m.reply(0)));
    MessageConsumer<io.vertx.core.json.JsonObject> forget = vertx.eventBus().consumer(Addresses.STORE_FORGET_STREAM, m -> {
      catalog.forget(io.pulse.core.StreamId.of(m.body().getString("tenant"), m.body().getString("stream")));
      m.reply(0);
    });
    pingTimer = vertx.setPeriodic(Math.max(500, Math.min(s.retryMs(), 2000)), t -> writer.tick());
    catalogTimer = vertx.setPeriodic(CATALOG_SYNC_MS, t -> catalog.sync(ctx.catalog.all()));
    Future<?> loaded = ctx.catalogStore.load().onSuccess(catalog::loaded);
    return Future.all(List.of(rollups.completion(), flush.completion(), sync.completion(), forget.completion(), loaded));
  }

  private void registerMeters() {
    Gauge.builder("pulse.store.queue.depth", writer, w -> w.status().depth())
        .description("Final rollups waiting to be written to PostgreSQL").register(ctx.registry);
    FunctionCounter.builder("pulse.store.rows.written", writer, StoreWriter::written)
        .description("Final rollups written to PostgreSQL").register(ctx.registry);
    FunctionCounter.builder("pulse.store.rows.retried", writer, StoreWriter::retried)
        .description("Rows of writes that failed (database away or busy) and were queued again").register(ctx.registry);
    FunctionCounter.builder("pulse.store.rows.failed", writer, StoreWriter::failed)
        .description("Final rollups given up: refused by the database for their content").register(ctx.registry);
    FunctionCounter.builder("pulse.catalog.skipped", catalog, CatalogSync::skipped)
        .description("Dim names, dim values and value names left out of the stored catalogue: text PostgreSQL "
            + "cannot hold").register(ctx.registry);
  }

  // ---- intake ----

  private void onRollups(RollupBatch batch) {
    if (batch.remote()) {
      return; // cluster mode: another instance's partition, stored by its owner
    }
    boolean cluster = ctx.cluster != null;
    List<Rollup> finals = new ArrayList<>();
    for (Rollup r : batch.rollups()) {
      // cluster mode: series rows only; a total or group-by combined here may lack a share that was on
      // its way when this instance started, and history rebuilds them exactly from the series rows
      if (r.fin() && r.window() != null && (cluster ? r.view().allDims() : stored(r.view()))) {
        finals.add(r);
      }
    }
    if (finals.isEmpty()) {
      return;
    }
    writer.expect(finals.size());
    encoder.executeBlocking(() -> encode(finals), true).onComplete(ar -> {
      if (ar.failed()) {
        writer.lost(finals.size(), ar.cause());
        return;
      }
      List<RollupStore.Row> storable = new ArrayList<>(ar.result().size());
      for (RollupStore.Row row : ar.result()) {
        if (row.key().storable()) {
          storable.add(row);
        } else {
          writer.refuse(row, "its series holds what PostgreSQL text cannot (NUL or an unpaired surrogate)");
        }
      }
      writer.arrived(finals.size(), storable);
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
      rows.add(RollupStore.Row.of(key, r, ctx.codec));
    }
    return rows;
  }

  // ---- shutdown ----

  /** A stop: the catalogue once more, then every final handed in, a waiting retry at once. */
  private void onFlush(Message<Object> m) {
    catalog.sync(ctx.catalog.all()).transform(v -> writer.flush()).onComplete(ar -> m.reply(0));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(pingTimer);
    vertx.cancelTimer(catalogTimer);
    return encoder.close();
  }
}
