package io.pulse.verticles;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.ShardOutput;
import io.pulse.score.ShardScoring;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;

/**
 * One aggregate shard: owns the series whose keys hash to it, folds in the batches ingest sends,
 * and on every flush tick sends the combiner what changed: its series' rollups, its share of the
 * coarser views, and its watermark. It publishes how many events it has processed
 * ({@link PulseContext#processed}, its own count), from which ingest sees what is pending.
 */
public final class AggregateVerticle extends VerticleBase {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AggregateVerticle.class);

  private final PulseContext ctx;
  private final int shard;
  private final ShardAggregator aggregator;
  /** Event scoring of the streams named in scoring.streams, or null when none is. */
  private final ShardScoring scoring;
  private long timer = -1;

  public AggregateVerticle(PulseContext ctx, int shard) {
    this.ctx = ctx;
    this.shard = shard;
    this.aggregator = new ShardAggregator(ctx.config.aggregation().allowedLatenessMs(),
        ctx.config.aggregation().sketchRelativeAccuracy(), ctx.config.aggregation().sketchMaxBins(), ctx.views::views,
        shard, ctx.aggregationGuard);
    io.pulse.config.PulseConfig.Scoring sc = ctx.config.scoring();
    this.scoring = sc.streams().isEmpty() ? null
        : new ShardScoring(sc.streams(), sc.sample(), MAX_OUTLIERS_PER_FLUSH, shard);
    aggregator.scoring(scoring);
  }

  /** Outliers a shard reports for inspection per flush tick (all are counted in the rollups). */
  static final int MAX_OUTLIERS_PER_FLUSH = 256;

  @Override
  public Future<?> start() {
    Gauge.builder("pulse.shard.open.series", aggregator, ShardAggregator::openSeries).tag("shard", "" + shard)
        .description("Series with an open window on this shard").register(ctx.registry);
    Gauge.builder("pulse.shard.late.inflight", aggregator, ShardAggregator::lateInFlight).tag("shard", "" + shard)
        .description("Events whose window closed while they were on their way; folded into the open one")
        .register(ctx.registry);
    Gauge.builder("pulse.shard.pending.events", ctx, c -> c.pending(shard)).tag("shard", "" + shard)
        .description("Events sent to this shard and not yet aggregated").register(ctx.registry);
    MessageConsumer<ShardBatch> batches = vertx.eventBus().consumer(Addresses.shard(shard), m -> {
      ShardBatch b = m.body();
      try {
        aggregator.add(b, ctx.clock.millis()); // a failing series is dropped inside, the rest of the batch kept
      } finally {
        ctx.processed[shard].add(b.size()); // whatever happened, ingest's back-pressure must not stick
      }
    });
    MessageConsumer<Object> closeAll = vertx.eventBus().consumer(Addresses.shardCloseAll(shard), m -> {
      ShardOutput out;
      try {
        out = aggregator.closeAll(shard, ctx.clock.millis()); // failing series are dropped inside
      } catch (RuntimeException e) {
        // anything else: answer anyway, so that shutdown goes on to the combiner and storage
        LOG.error("shard {}: closing every window failed", shard, e);
        m.reply(0);
        return;
      }
      vertx.eventBus().send(Addresses.SHARD_OUTPUT, out);
      m.reply(out.rollups().size());
    });
    timer = vertx.setPeriodic(ctx.config.live().flushMs(), t -> {
      ShardOutput out;
      try {
        out = aggregator.flush(shard, ctx.clock.millis());
      } catch (RuntimeException e) {
        // failures of one series are caught inside; this is anything else. The shard's watchdog
        // (AggregationGuard.check) marks aggregation down if it keeps happening.
        LOG.error("shard {}: flush failed", shard, e);
        return;
      }
      vertx.eventBus().send(Addresses.SHARD_OUTPUT, out);
      if (scoring != null) {
        java.util.List<io.pulse.score.Outlier> found = scoring.drainOutliers();
        if (!found.isEmpty()) {
          vertx.eventBus().send(Addresses.SCORE_OUTLIERS, new io.pulse.score.OutlierBatch(found));
        }
      }
    });
    if (scoring == null) {
      return Future.all(batches.completion(), closeAll.completion());
    }
    FunctionCounter.builder("pulse.score.outliers.unreported", scoring, ShardScoring::unreported).tag("shard", "" + shard)
        .description("Outliers counted in rollups but not listed: more than " + MAX_OUTLIERS_PER_FLUSH
            + " on a shard in one flush tick").register(ctx.registry);
    MessageConsumer<io.pulse.score.EventModel> models = vertx.eventBus().consumer(Addresses.SCORE_MODEL,
        m -> scoring.install(m.body()));
    MessageConsumer<io.vertx.core.json.JsonObject> samples = vertx.eventBus().consumer(Addresses.scoreSample(shard),
        m -> m.reply(scoring.sample(io.pulse.core.StreamId.of(m.body().getString("tenant"),
            m.body().getString("stream")))));
    return Future.all(batches.completion(), closeAll.completion(), models.completion(), samples.completion());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }
}
