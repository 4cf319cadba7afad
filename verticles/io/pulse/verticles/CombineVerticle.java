package io.pulse.verticles;

import io.pulse.agg.PartialCombiner;
import io.pulse.anomaly.RollupScorer;
import io.pulse.cluster.Partitioning;
import io.pulse.config.PulseConfig;
import io.pulse.core.SlicedQueue;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.store.DetectorStore;
import io.vertx.core.json.JsonObject;
import io.pulse.agg.Rollup;
import io.pulse.agg.ShardOutput;
import io.pulse.live.RollupBatch;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
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
  /** The anomaly detectors of every series (null when detection is off). */
  private final RollupScorer scorer;
  private final java.util.Map<StreamId, RollupScorer.Watch> watches = new java.util.HashMap<>();
  private long watchdog = -1;
  private long saver = -1;
  private boolean saving;
  /** Everything touching the combiner and the detectors, in order, in slices of at most 20 ms a turn. */
  private SlicedQueue work;

  public CombineVerticle(PulseContext ctx) {
    this.ctx = ctx;
    // in cluster mode the combiner adds up the shares of every partition of the events topic
    this.combiner = new PartialCombiner(ctx.cluster != null ? ctx.cluster.partitioning.partitions() : ctx.shards,
        ctx.aggregationGuard);
    PulseConfig.Detect d = ctx.config.detect();
    this.scorer = d.enabled() ? new RollupScorer(this::watch, d.alertLevel(), d.maxDetectors()) : null;
    if (scorer != null && ctx.cluster != null) { // a series' detectors move with its partition
      Partitioning partitioning = ctx.cluster.partitioning;
      scorer.partitioner(partitioning::of);
    }
  }

  /** A stream's watch from its settings (cached: settings do not change while running). */
  private RollupScorer.Watch watch(StreamId stream) {
    return watches.computeIfAbsent(stream, s -> RollupScorer.Watch.of(ctx.config, s));
  }

  @Override
  public Future<?> start() {
    if (scorer == null || !ctx.storageEnabled()) {
      return consume();
    }
    // detectors saved by the last run first, so that no series starts its warm-up again
    // (cluster mode: those of totals and group-bys; a series' come with its partition, see takeOver)
    return DetectorStore.load(ctx.db.pool(), ctx.config.detect().maxDetectors(), ctx.cluster != null)
        .map(saved -> {
          int n = scorer.restore(saved);
          LOG.info("anomaly detection: {} detectors restored of {} saved", n, saved.size());
          return n;
        })
        .recover(e -> {
          LOG.warn("anomaly detection: saved detectors could not be read ({}); every series warms up again",
              e.toString());
          return Future.succeededFuture(0);
        })
        .compose(n -> consume());
  }

  private Future<?> consume() {
    io.vertx.core.Context loop = context;
    work = new SlicedQueue(next -> loop.runOnContext(v -> next.run()), System::nanoTime, 20_000_000L,
        e -> LOG.error("combining or scoring failed; the next work goes on", e));
    // every message that reads or changes the combiner or the detectors goes through one ordered queue
    MessageConsumer<ShardOutput> outputs = vertx.eventBus().consumer(Addresses.SHARD_OUTPUT, m -> local(m.body()));
    MessageConsumer<ShardOutput> remote = vertx.eventBus().consumer(Addresses.CLUSTER_OUTPUT,
        m -> work.submit(() -> combine(m.body(), true, true)));
    MessageConsumer<Object> barrier = vertx.eventBus().consumer(Addresses.CLUSTER_BARRIER, m -> work.submit(() -> {
      // every flush sent before this is combined and its finals published to the store verticle
      // (which takes them before this request, in order); its reply says they are in the database
      if (!ctx.storageEnabled()) {
        m.reply(0);
        return;
      }
      vertx.eventBus().request(Addresses.STORE_SYNC, "sync").onComplete(ar -> m.reply(ar.succeeded() ? 0 : 1));
    }));
    MessageConsumer<Object> closeAll = vertx.eventBus().consumer(Addresses.COMBINE_CLOSE_ALL, m -> work.submit(() -> {
      List<Rollup> out = new ArrayList<>();
      try {
        combiner.closeAll(out::add, ctx.clock.millis()); // failing groups are dropped inside
      } catch (RuntimeException e) {
        org.slf4j.LoggerFactory.getLogger(CombineVerticle.class).error("closing every group window failed", e);
      }
      publish(out);
      // the stop: every detector that learnt since its last save is saved now (bounded), then the answer
      save(0, Integer.MAX_VALUE, true).timeout(10, java.util.concurrent.TimeUnit.SECONDS)
          .onSuccess(n -> LOG.info("anomaly detection: {} detector states saved at the stop", n))
          .onFailure(e -> LOG.warn("anomaly detection: detector states not saved at the stop: {}", e.toString()))
          .onComplete(ar -> m.reply(out.size()));
    }));
    io.micrometer.core.instrument.Gauge.builder("pulse.combine.pending", combiner, PartialCombiner::pending)
        .description("Windows of totals and group-bys waiting for every shard to close them").register(ctx.registry);
    io.micrometer.core.instrument.FunctionCounter.builder("pulse.combine.resent.dropped", combiner,
        PartialCombiner::resentDropped)
        .description("Shares of total and group-by windows already combined, sent again by a replayed partition (cluster mode) and dropped")
        .register(ctx.registry);
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
    // (cluster mode has no local shards: a partition's time moves only with its records and ticks)
    if (ctx.cluster == null) {
      watchdog = vertx.setPeriodic(Math.max(250, ctx.config.live().flushMs()), t -> guard.check(ctx.clock.millis()));
    }
    // behind every flush of the partitions before it: no detector of theirs is made again after the handover
    MessageConsumer<JsonObject> handOver = vertx.eventBus().consumer(Addresses.CLUSTER_HANDOVER_DETECTORS,
        m -> work.submit(() -> handOver(m)));
    MessageConsumer<JsonObject> takeOver = vertx.eventBus().consumer(Addresses.CLUSTER_TAKEOVER_DETECTORS,
        m -> work.submit(() -> takeOver(m)));
    io.micrometer.core.instrument.Gauge.builder("pulse.combine.backlog", work, SlicedQueue::size)
        .description("Combiner and detector work waiting for the event loop (a replay burst is scored in slices)")
        .register(ctx.registry);
    if (scorer == null) {
      return Future.all(List.of(outputs.completion(), remote.completion(), barrier.completion(), closeAll.completion(),
          handOver.completion(), takeOver.completion()));
    }
    io.micrometer.core.instrument.Gauge.builder("pulse.detect.detectors", scorer, RollupScorer::size)
        .description("Anomaly detectors held (one per watched figure of a series of a view)").register(ctx.registry);
    io.micrometer.core.instrument.FunctionCounter.builder("pulse.detect.evicted", scorer, RollupScorer::evicted)
        .description("Detectors dropped at detect.maxDetectors (their series warm up again)").register(ctx.registry);
    io.micrometer.core.instrument.FunctionCounter.builder("pulse.detect.scored", scorer, RollupScorer::scored)
        .description("Final windows scored by anomaly detectors").register(ctx.registry);
    MessageConsumer<JsonObject> status = vertx.eventBus().consumer(Addresses.DETECT_STATUS, m -> {
      JsonObject q = m.body();
      m.reply(scorer.status(StreamId.of(q.getString("tenant"), q.getString("stream")), q.getInteger("limit", 1000)));
    });
    MessageConsumer<JsonObject> feedback = vertx.eventBus().consumer(Addresses.DETECT_FEEDBACK, m -> work.submit(() -> {
      JsonObject q = m.body();
      JsonObject series = q.getJsonObject("series");
      Dims dims = series == null ? null : Dims.of(series.getMap().entrySet().stream().collect(
          java.util.stream.Collectors.toMap(java.util.Map.Entry::getKey, e -> String.valueOf(e.getValue()))));
      long start = q.getLong("start");
      m.reply(new JsonObject().put("detectors", scorer.markNormal(StreamId.of(q.getString("tenant"),
          q.getString("stream")), dims, start, q.getLong("to", start))));
    }));
    MessageConsumer<JsonObject> forget = vertx.eventBus().consumer(Addresses.DETECT_FORGET, m -> work.submit(() ->
        scorer.forget(StreamId.of(m.body().getString("tenant"), m.body().getString("stream")))));
    if (ctx.storageEnabled()) {
      // a slice a second: each detector saved at most every detect.saveEvery, never a long pause here
      saver = vertx.setPeriodic(1000, t -> save(ctx.config.detect().saveEveryMs(), SAVE_SLICE, false));
    }
    return Future.all(List.of(outputs.completion(), remote.completion(), barrier.completion(), closeAll.completion(),
        handOver.completion(), takeOver.completion(), status.completion(), feedback.completion(),
        forget.completion()));
  }

  /**
   * Cluster mode: partitions leave this instance. The detectors of their series are saved as they
   * stand and dropped here; the reply comes once they are stored, for the next owner to read.
   */
  private void handOver(Message<JsonObject> m) {
    if (scorer == null) {
      m.reply(0);
      return;
    }
    java.util.Set<Integer> leaving = ClusterLink.partitions(m.body());
    List<RollupScorer.Saved> out = scorer.handOver(leaving, ctx.clock.millis());
    if (out.isEmpty() || !ctx.storageEnabled()) {
      m.reply(out.size());
      return;
    }
    DetectorStore.save(ctx.db.pool(), out).onComplete(ar -> {
      if (ar.succeeded()) {
        LOG.info("anomaly detection: {} detectors of partitions {} saved for their next owner", out.size(), leaving);
      } else {
        LOG.warn("anomaly detection: the detectors of partitions {} could not be saved ({}); their next owner has "
            + "their last periodic save", leaving, ar.cause().toString());
      }
      m.reply(out.size());
    });
  }

  /** Cluster mode: partitions came to this instance; the saved detectors of their series are read first. */
  private void takeOver(Message<JsonObject> m) {
    if (scorer == null || !ctx.storageEnabled()) {
      m.reply(0);
      return;
    }
    java.util.Set<Integer> taking = ClusterLink.partitions(m.body());
    DetectorStore.loadPartitions(ctx.db.pool(), taking).onComplete(ar -> {
      if (ar.failed()) {
        LOG.warn("anomaly detection: the detectors of partitions {} could not be read ({}); their series warm up "
            + "again", taking, ar.cause().toString());
        m.reply(0);
        return;
      }
      int n = scorer.restore(ar.result());
      LOG.info("anomaly detection: partitions {} taken up with {} saved detectors", taking, n);
      m.reply(n);
    });
  }

  /**
   * A shard's output (a partition's flush, in cluster mode). In cluster mode its series are scored
   * here, once, in slices of {@link #SCORE_SLICE} (a partition replayed after a crash brings minutes of
   * windows at once), then exported for every other instance and combined.
   */
  private void local(ShardOutput o) {
    if (ctx.cluster == null) {
      work.submit(() -> combine(o, false, false));
      return;
    }
    List<Rollup> scored = new ArrayList<>(o.rollups().size());
    scoring(o.rollups(), scored).forEach(work::submit);
    work.submit(() -> {
      ShardOutput out = new ShardOutput(o.shard(), scored, o.partials(), o.closedBefore());
      ctx.cluster.export(out).onFailure(e -> LOG.warn("kafka: a flush of partition {} did not reach the output "
          + "topic ({}); other instances miss it", o.shard(), e.toString()));
      combine(out, true, false);
    });
  }

  /** Rollups scored per task (a few milliseconds of detector work). */
  static final int SCORE_SLICE = 256;

  /** Tasks that score {@code rollups} into {@code into}, {@link #SCORE_SLICE} at a time, in order. */
  private List<Runnable> scoring(List<Rollup> rollups, List<Rollup> into) {
    List<Runnable> tasks = new ArrayList<>();
    for (int from = 0; from < rollups.size(); from += SCORE_SLICE) {
      List<Rollup> part = new ArrayList<>(rollups.subList(from, Math.min(rollups.size(), from + SCORE_SLICE)));
      tasks.add(() -> into.addAll(score(part)));
    }
    return tasks;
  }

  /** Detectors saved per second at most (state snapshots are taken on this loop). */
  private static final int SAVE_SLICE = 500;

  /** Saves detectors that learnt since their last save; {@code force}: even while a save is in flight (the stop). */
  private Future<Integer> save(long everyMs, int max, boolean force) {
    if (scorer == null || !ctx.storageEnabled() || (saving && !force)) {
      return Future.succeededFuture(0);
    }
    List<RollupScorer.Saved> dirty = scorer.dirty(ctx.clock.millis(), everyMs, max);
    if (dirty.isEmpty()) {
      return Future.succeededFuture(0);
    }
    saving = true;
    return DetectorStore.save(ctx.db.pool(), dirty)
        .onFailure(e -> {
          scorer.unsaved(dirty); // changed again: the next pass saves them
          LOG.warn("anomaly detection: {} detector states not saved ({}); tried again later", dirty.size(),
              e.toString());
        })
        .onComplete(ar -> saving = false);
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(watchdog);
    vertx.cancelTimer(saver);
    return Future.succeededFuture();
  }

  /**
   * One shard's (or partition's) output combined and published.
   *
   * @param seriesScored its series' rollups are scored already (cluster mode): only the combined ones are scored here
   * @param remote its partition is another instance's (cluster mode): its series are neither stored nor alerted on here
   */
  private void combine(ShardOutput o, boolean seriesScored, boolean remote) {
    List<Rollup> out = new ArrayList<>();
    try {
      combiner.accept(o, out::add, ctx.clock.millis()); // failing groups are dropped inside
    } catch (RuntimeException e) {
      LOG.error("combining a shard's output failed", e);
    }
    // what was combined before a failure still goes out
    if (!seriesScored) {
      publish(score(out), remote);
      return;
    }
    int series = Math.min(o.rollups().size(), out.size()); // they come first, as the shard made them
    List<Rollup> combined = out.subList(series, out.size());
    // a burst (a replay's catch-up windows of every group) is scored in slices, published after the last,
    // before any work queued behind this
    List<Rollup> all = new ArrayList<>(out.subList(0, series));
    List<Runnable> steps = scoring(combined, all);
    steps.add(() -> publish(all, remote));
    if (combined.size() <= SCORE_SLICE) {
      steps.forEach(Runnable::run);
    } else {
      work.next(steps);
    }
  }

  private List<Rollup> score(List<Rollup> out) {
    if (scorer != null && !out.isEmpty()) {
      try {
        return scorer.score(out);
      } catch (RuntimeException e) {
        LOG.error("scoring rollups failed; they go out unscored", e);
      }
    }
    return out;
  }

  private void publish(List<Rollup> out) {
    publish(score(out), false);
  }

  private void publish(List<Rollup> out, boolean remote) {
    if (!out.isEmpty()) {
      vertx.eventBus().publish(Addresses.ROLLUPS, new RollupBatch(out, remote));
    }
  }

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CombineVerticle.class);
}
