package io.pulse.verticles;

import io.pulse.agg.PartialCombiner;
import io.pulse.agg.Rollup;
import io.pulse.agg.ShardOutput;
import io.pulse.live.RollupBatch;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.List;

/**
 * One instance: adds up the shards' shares of totals, group-bys and filtered views, and
 * publishes every rollup — series ones as the shards made them, coarser ones combined — on
 * {@link Addresses#ROLLUPS} for the live feed (and storage).
 */
public final class CombineVerticle extends VerticleBase {

  private final PulseContext ctx;
  private final PartialCombiner combiner;
  private long watchdog = -1;

  public CombineVerticle(PulseContext ctx) {
    this.ctx = ctx;
    this.combiner = new PartialCombiner(ctx.shards, ctx.aggregationGuard);
  }

  @Override
  public Future<?> start() {
    MessageConsumer<ShardOutput> outputs = vertx.eventBus().consumer(Addresses.SHARD_OUTPUT, m -> {
      List<Rollup> out = new ArrayList<>();
      try {
        combiner.accept(m.body(), out::add, ctx.clock.millis()); // failing groups are dropped inside
      } catch (RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(CombineVerticle.class).error("combining a shard's output failed", e);
      }
      publish(out); // what was combined before it still goes out
    });
    MessageConsumer<Object> closeAll = vertx.eventBus().consumer(Addresses.COMBINE_CLOSE_ALL, m -> {
      List<Rollup> out = new ArrayList<>();
      try {
        combiner.closeAll(out::add, ctx.clock.millis()); // failing groups are dropped inside
      } catch (RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(CombineVerticle.class).error("closing every group window failed", e);
      }
      publish(out);
      m.reply(out.size());
    });
    io.micrometer.core.instrument.Gauge.builder("pulse.combine.pending", combiner, PartialCombiner::pending)
        .description("Windows of totals and group-bys waiting for every shard to close them").register(ctx.registry);
    io.pulse.agg.AggregationGuard guard = ctx.aggregationGuard;
    io.micrometer.core.instrument.FunctionCounter.builder("pulse.shard.series.failed", guard,
        io.pulse.agg.AggregationGuard::seriesFailed)
        .description("Series windows dropped because they could not be aggregated (the others went on)")
        .register(ctx.registry);
    io.micrometer.core.instrument.FunctionCounter.builder("pulse.shard.events.lost", guard,
        io.pulse.agg.AggregationGuard::eventsLost)
        .description("Accepted events in series windows that were dropped: in no rollup").register(ctx.registry);
    io.micrometer.core.instrument.FunctionCounter.builder("pulse.aggregation.groups.failed", guard,
        io.pulse.agg.AggregationGuard::groupsFailed)
        .description("Series windows that could not be merged into a total or group-by, and combined group "
            + "windows dropped").register(ctx.registry);
    // the shards' watchdog runs here, off their event loops
    watchdog = vertx.setPeriodic(Math.max(250, ctx.config.live().flushMs()), t -> guard.check(ctx.clock.millis()));
    return Future.all(outputs.completion(), closeAll.completion());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(watchdog);
    return Future.succeededFuture();
  }

  private void publish(List<Rollup> out) {
    if (!out.isEmpty()) {
      vertx.eventBus().publish(Addresses.ROLLUPS, new RollupBatch(out));
    }
  }
}
