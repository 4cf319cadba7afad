package io.pulse.score;

import io.pulse.core.StreamId;
import io.pulse.event.Event;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Event scoring inside one aggregate shard: for each scored stream, the bounded sample of its
 * recent events (for training) and its current {@link EventModel} (installed whole when the model
 * verticle publishes a new one). {@link #outlier} is the one call the shard makes per event;
 * events of streams that are not scored cost a reference compare (events of one request share one
 * {@link StreamId}) or one set lookup. Outliers found are held until the shard's next flush
 * ({@link #drainOutliers}), at most {@code maxPending} (the rest counted in {@link #unreported};
 * the rollups count them all). Single-threaded, like its shard.
 */
public final class ShardScoring {

  /** Series dims whose share of the decision is kept per scored stream and shard, at most. */
  static final int MAX_CACHED_DIMS = 20_000;

  private final Set<String> scoredNames;
  private final int sampleSize;
  private final int maxPending;
  private final long seed;
  private final Map<StreamId, Scored> streams = new HashMap<>();
  private StreamId lastId;
  private Scored last;
  private List<Outlier> pending = new ArrayList<>();
  private long unreported;

  /** One scored stream on this shard. */
  private static final class Scored {
    final Reservoir sample;
    EventModel model;
    /** The event's index of each value feature, for events sharing {@link #names} (parsers share the array). */
    int[] idx;
    String[] names;
    /** What each series' dims fix of the decision: worked out once per series, not per event. */
    Map<io.pulse.event.Dims, EventModel.SeriesPart> parts = new HashMap<>();

    Scored(Reservoir sample) {
      this.sample = sample;
    }
  }

  /**
   * @param scoredNames the stream names scored (in every tenant: {@code scoring.streams})
   * @param sampleSize events kept per stream for training
   * @param maxPending outliers held for the next flush, per shard
   */
  public ShardScoring(Set<String> scoredNames, int sampleSize, int maxPending, long seed) {
    this.scoredNames = Set.copyOf(scoredNames);
    this.sampleSize = sampleSize;
    this.maxPending = maxPending;
    this.seed = seed;
  }

  /** Samples the event if its stream is scored, and scores it once the stream has a model: true for an outlier. */
  public boolean outlier(Event e) {
    StreamId id = e.stream();
    Scored s;
    if (id == lastId) {
      s = last;
    } else {
      s = streams.get(id);
      if (s == null && scoredNames.contains(id.name())) {
        s = new Scored(new Reservoir(sampleSize, seed ^ id.hashCode()));
        streams.put(id, s);
      }
      lastId = id;
      last = s;
    }
    if (s == null) {
      return false;
    }
    s.sample.offer(e);
    EventModel m = s.model;
    if (m == null) {
      return false;
    }
    if (!e.hasNamesArray(s.names)) {
      s.names = e.namesArray();
      s.idx = indexes(m.features(), e);
    }
    EventModel.SeriesPart p = s.parts.get(e.dims());
    if (p == null) {
      if (s.parts.size() >= MAX_CACHED_DIMS) {
        s.parts.clear(); // bounded; series of a stream that churns through more start over
      }
      p = m.seriesPart(e.dims());
      s.parts.put(e.dims(), p);
    }
    double d = m.constant() + m.valuesPart(e, s.idx, p) + p.dims();
    if (!m.outlier(d)) {
      return false;
    }
    if (pending.size() < maxPending) {
      pending.add(new Outlier(e, d, m));
    } else {
      unreported++;
    }
    return true;
  }

  static int[] indexes(FeatureSpace f, Event e) {
    int[] idx = new int[f.valueFeatures()];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = -1;
      for (int j = 0; j < e.valueCount(); j++) {
        if (e.name(j).equals(f.valueName(i))) {
          idx[i] = j;
          break;
        }
      }
    }
    return idx;
  }

  /** Installs a stream's new model (from the model verticle); older versions are ignored. */
  public void install(EventModel m) {
    if (!scoredNames.contains(m.stream().name())) {
      return;
    }
    Scored s = streams.computeIfAbsent(m.stream(), id -> new Scored(new Reservoir(sampleSize, seed ^ id.hashCode())));
    lastId = null; // the cached lookup may predate this stream's entry
    if (s.model == null || s.model.version() < m.version()) {
      s.model = m;
      s.names = null;
      s.idx = null;
      s.parts = new HashMap<>();
    }
  }

  /** The stream's recent events held here (and a new sampling round), or an empty slice. */
  public Reservoir.Slice sample(StreamId stream) {
    Scored s = streams.get(stream);
    return s == null ? new Reservoir.Slice(List.of(), 0) : s.sample.take();
  }

  /** The outliers found since the last call, oldest first. */
  public List<Outlier> drainOutliers() {
    if (pending.isEmpty()) {
      return List.of();
    }
    List<Outlier> out = pending;
    pending = new ArrayList<>();
    return out;
  }

  /** Outliers counted in rollups but not reported for inspection (more than {@code maxPending} between flushes). */
  public long unreported() {
    return unreported;
  }

  /** The version of the stream's model here, 0 when none. */
  public int version(StreamId stream) {
    Scored s = streams.get(stream);
    return s == null || s.model == null ? 0 : s.model.version();
  }
}
