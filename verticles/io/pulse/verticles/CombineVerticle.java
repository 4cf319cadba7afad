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

  public CombineVerticle(PulseContext ctx) {
    this.ctx = ctx;
    this.combiner = new PartialCombiner(ctx.shards);
  }

  @Override
  public Future<?> start() {
    MessageConsumer<ShardOutput> outputs = vertx.eventBus().consumer(Addresses.SHARD_OUTPUT, m -> {
      List<Rollup> out = new ArrayList<>();
      combiner.accept(m.body(), out::add);
      publish(out);
    });
    MessageConsumer<Object> closeAll = vertx.eventBus().consumer(Addresses.COMBINE_CLOSE_ALL, m -> {
      List<Rollup> out = new ArrayList<>();
      combiner.closeAll(out::add);
      publish(out);
      m.reply(out.size());
    });
    io.micrometer.core.instrument.Gauge.builder("pulse.combine.pending", combiner, PartialCombiner::pending)
        .description("Windows of totals and group-bys waiting for every shard to close them").register(ctx.registry);
    return Future.all(outputs.completion(), closeAll.completion());
  }

  private void publish(List<Rollup> out) {
    if (!out.isEmpty()) {
      vertx.eventBus().publish(Addresses.ROLLUPS, new RollupBatch(out));
    }
  }
}
