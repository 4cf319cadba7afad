package io.pulse.catalog;

import io.pulse.agg.View;
import io.pulse.agg.ViewRegistry;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Forgets what nobody uses any more, so that every cap a caller can fill recovers: series not
 * seen for {@code aggregation.seriesIdleMs}, streams without events for
 * {@code aggregation.streamIdleMs} (with their views and meters), views of streams that have no
 * catalog entry (subscribed to, never fed), and group keys cached for forgotten series. Run it
 * about once a second with the time passed in; not thread-safe against itself (one caller).
 *
 * <p>A stream is forgotten only once the window of its last event has certainly closed: its idle
 * time is at least the window, plus the allowed lateness, plus how far in the future an event's
 * time may be ({@code ingest.maxFutureSkewMs}), plus two flush ticks for the batch to reach its
 * shard. Its open windows, if any survived a shard far behind, would still close and be stored;
 * only their live updates would go to views nobody holds any more.
 */
public final class CatalogSweeper {

  /** What one run forgot. */
  public record Result(List<StreamId> streams, int series) {
  }

  /** Group keys a view may cache beyond the stream's series count before they are dropped and remade. */
  private static final int KEY_SLACK = 64;

  private final PulseConfig config;
  private final StreamCatalog catalog;
  private final ViewRegistry views;
  private long lastSeriesSweep = Long.MIN_VALUE;

  public CatalogSweeper(PulseConfig config, StreamCatalog catalog, ViewRegistry views) {
    this.config = config;
    this.catalog = catalog;
    this.views = views;
  }

  /** How long the stream may go without events before it is forgotten; 0 for never. */
  public long streamIdleMs(StreamId stream) {
    long idle = config.holding().streamIdleMs();
    if (idle <= 0) {
      return 0;
    }
    long open = config.stream(stream.name()).windowMs() + config.aggregation().allowedLatenessMs()
        + config.ingest().maxFutureSkewMs() + 2 * config.live().flushMs();
    return Math.max(idle, open);
  }

  /** How long a series of the stream may go without events before it is forgotten; 0 for never. */
  public long seriesIdleMs(StreamId stream) {
    long idle = config.holding().seriesIdleMs();
    if (idle <= 0) {
      return 0;
    }
    // not before its window closed: the count of series held then says what the shards hold too
    return Math.max(idle, config.stream(stream.name()).windowMs() + config.aggregation().allowedLatenessMs());
  }

  /** One pass, forgetting any stream idle long enough. */
  public Result run(long now) {
    return run(now, s -> true);
  }

  /**
   * One pass.
   *
   * @param mayForget whether an idle stream may go now; with storage on, only once the stored
   *     catalogue has its last dims, value names and last seen (else they would be lost). Asked
   *     with the entry retired, so its figures are final.
   */
  public Result run(long now, Predicate<StreamCatalog.StreamInfo> mayForget) {
    int series = 0;
    long seriesIdle = config.holding().seriesIdleMs();
    // a pass looks at every series: every tenth of the idle time is often enough (at most every minute)
    long every = Math.min(60_000, seriesIdle / 10);
    if (seriesIdle > 0 && (lastSeriesSweep == Long.MIN_VALUE || now - lastSeriesSweep >= every)) {
      lastSeriesSweep = now;
      series = catalog.forgetIdleSeries(now, this::seriesIdleMs);
      trimKeys();
    }
    long grace = config.live().viewGraceMs();
    List<StreamId> streams = new ArrayList<>();
    for (StreamCatalog.StreamInfo s : catalog.forgetIdleStreams(now, this::streamIdleMs,
        info -> mayForget.test(info) && views.forgetStream(info.id(), now, grace))) {
      streams.add(s.id());
    }
    for (StreamId s : views.streams()) {
      if (catalog.get(s) == null) {
        // subscribed to but never fed (or fed no more): ingest cannot make its entry meanwhile
        catalog.whileAbsent(s, () -> views.forgetStream(s, now, grace));
      }
    }
    return new Result(streams, series);
  }

  /** Drops group keys of forgotten series: a view caches at most about one per series of its stream. */
  private void trimKeys() {
    for (StreamCatalog.StreamInfo s : catalog.all()) {
      View[] vs = views.views(s.id());
      for (int i = 0; i < vs.length; i++) {
        if (i != ViewRegistry.SERIES && vs[i].keyCount() > s.seriesCount() + KEY_SLACK) {
          vs[i].clearKeys();
        }
      }
    }
  }
}
