package io.pulse.anomaly;

import io.pulse.agg.PartialCombiner;
import io.pulse.agg.Rollup;
import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.ShardOutput;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Event;
import io.pulse.ingest.Ingestor;
import io.pulse.ingest.Quarantine;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The server's path from valid events to scored rollups, in one thread and in simulated time: the
 * same ingest routing, shard aggregation, combining across shards and {@link RollupScorer} the
 * verticles run, without the event bus. Commands that replay hours of demo data in seconds (the
 * demo's alert report) and engine tests drive it; the server itself never does.
 *
 * <p>Time is whatever the caller passes: events are routed at their own timestamps, and
 * {@link #tick} closes the windows that processing time {@code now} has passed.
 */
public final class Pipeline {

  private final ViewRegistry views;
  private final Ingestor ingestor;
  private final ShardAggregator shard;
  private final PartialCombiner combiner;
  private final RollupScorer scorer;

  /**
   * @param config the server's configuration (windows, lateness, limits, detect settings)
   * @param scorer the detectors (null: rollups go out unscored)
   */
  public Pipeline(PulseConfig config, RollupScorer scorer) {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    this.views = new ViewRegistry(config);
    StreamCatalog catalog = new StreamCatalog(config.aggregation().maxStreams(),
        config.aggregation().maxSeriesPerStream(), registry);
    this.ingestor = new Ingestor(config, catalog, views, new Quarantine(100, 1000), 1, registry);
    this.shard = new ShardAggregator(config.aggregation().allowedLatenessMs(),
        config.aggregation().sketchRelativeAccuracy(), config.aggregation().sketchMaxBins(), views::views);
    this.combiner = new PartialCombiner(1);
    this.scorer = scorer;
  }

  /** Scores events as the shards do (null: none); rollups then count their outliers. */
  public void scoring(io.pulse.score.ShardScoring s) {
    shard.scoring(s);
  }

  /** The views: acquire one to have its rollups (a rule's group-by, say); the series view and total always exist. */
  public ViewRegistry views() {
    return views;
  }

  /** Routes events (each names its tenant's stream) as ingest would at processing time {@code now}. */
  public void add(List<Event> events, long now) {
    if (events.isEmpty()) {
      return;
    }
    for (ShardBatch b : ingestor.ingest(events, now, "replay").batches()) {
      if (b != null) {
        shard.add(b, now);
      }
    }
  }

  /** Closes what {@code now} has passed and hands out the rollups, scored, in order. */
  public void tick(long now, Consumer<Rollup> out) {
    emit(shard.flush(0, now), now, out);
  }

  /** Closes every window still open. */
  public void closeAll(long now, Consumer<Rollup> out) {
    emit(shard.closeAll(0, now), now, out);
    List<Rollup> rest = new ArrayList<>();
    combiner.closeAll(rest::add, now);
    send(rest, out);
  }

  private void emit(ShardOutput o, long now, Consumer<Rollup> out) {
    List<Rollup> rollups = new ArrayList<>();
    combiner.accept(o, rollups::add, now);
    send(rollups, out);
  }

  private void send(List<Rollup> rollups, Consumer<Rollup> out) {
    for (Rollup r : scorer == null ? rollups : scorer.score(rollups)) {
      out.accept(r);
    }
  }

  /** The streams seen. */
  public List<StreamId> streams() {
    return views.streams();
  }
}
