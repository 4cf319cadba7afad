package io.pulse.catalog;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.pulse.agg.View;
import io.pulse.agg.ViewKey;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Streams seen, their series, dims and value names: what {@code GET /api/v1/streams} lists, and
 * the cardinality guard. Ingest threads call it for every event, so the common case (a known
 * series) is one lock-free map read.
 *
 * <p>A stream may hold at most {@code maxSeries} distinct dims combinations. Events of any
 * further series are folded into one overflow series, {@link #OVERFLOW}, and counted.
 */
public final class StreamCatalog {

  /** The series that excess series of a stream fold into. */
  public static final Dims OVERFLOW = Dims.of(io.pulse.agg.View.OVERFLOW_KEY, "true");

  /** Dim values listed per dim (the catalog is a guide for UIs, not an index). */
  private static final int MAX_LISTED_VALUES = 200;

  private final int maxStreams;
  private final int maxSeries;
  private final MeterRegistry registry;
  private final ConcurrentHashMap<String, StreamInfo> streams = new ConcurrentHashMap<>();

  public StreamCatalog(int maxStreams, int maxSeries, MeterRegistry registry) {
    this.maxStreams = maxStreams;
    this.maxSeries = maxSeries;
    this.registry = registry;
  }

  /** The stream's entry, made on first sight; null when the catalog is full. */
  public StreamInfo stream(String name, long now) {
    StreamInfo s = streams.get(name);
    if (s != null) {
      return s;
    }
    if (streams.size() >= maxStreams) {
      return null;
    }
    return streams.computeIfAbsent(name, n -> new StreamInfo(n, now, registry));
  }

  public StreamInfo get(String name) {
    return streams.get(name);
  }

  public Collection<StreamInfo> all() {
    return streams.values();
  }

  public int maxSeries() {
    return maxSeries;
  }

  /** Updates every stream's event rate; call about once a second. */
  public void tick(long now) {
    for (StreamInfo s : streams.values()) {
      s.tick(now);
    }
  }

  /** What the catalog knows of one stream. Thread-safe. */
  public final class StreamInfo {
    private final String name;
    private final long firstSeen;
    private volatile long lastSeen;
    private final ConcurrentHashMap<Dims, Series> series = new ConcurrentHashMap<>();
    private final Series overflow = new Series(OVERFLOW);
    private final AtomicInteger seriesCount = new AtomicInteger();
    private final ConcurrentHashMap<String, Set<String>> dimValues = new ConcurrentHashMap<>();
    private final Set<String> valueNames = ConcurrentHashMap.newKeySet();
    private final LongAdder events = new LongAdder();
    /** The names array of the last event whose names were recorded (a benign race: at worst a re-check). */
    private volatile String[] lastNames;
    private long lastCount;
    private long lastTick;
    private volatile double rate;

    final Counter accepted;
    final Counter rejected;
    final Counter late;
    final Counter lateQuarantined;
    final Counter overflowed;

    StreamInfo(String name, long now, MeterRegistry registry) {
      this.name = name;
      this.firstSeen = now;
      this.lastSeen = now;
      this.lastTick = now;
      this.accepted = Counter.builder("pulse.events.accepted").tag("stream", name)
          .description("Events taken into aggregation (on time, or late and folded in)").register(registry);
      this.rejected = Counter.builder("pulse.events.rejected").tag("stream", name)
          .description("Events that failed validation; each is in quarantine").register(registry);
      this.late = Counter.builder("pulse.events.late").tag("stream", name)
          .description("Events whose window had closed; folded into the open window").register(registry);
      this.lateQuarantined = Counter.builder("pulse.events.late.quarantined").tag("stream", name)
          .description("Late events sent to quarantine (latePolicy=quarantine)").register(registry);
      this.overflowed = Counter.builder("pulse.events.overflowed").tag("stream", name)
          .description("Events folded into the overflow series by the series cap").register(registry);
    }

    /**
     * Notes an event and returns the series to aggregate it under: its own, or the overflow
     * series when it would be a new series beyond the cap.
     */
    public Series admit(Event e) {
      if (!e.hasNamesArray(lastNames)) {
        for (int i = 0, n = e.valueCount(); i < n; i++) {
          String v = e.name(i);
          if (!valueNames.contains(v)) {
            valueNames.add(v);
          }
        }
        lastNames = e.namesArray(); // consecutive events usually share one names array
      }
      Dims d = e.dims();
      Series known = series.get(d);
      if (known != null) {
        return known;
      }
      if (seriesCount.get() >= maxSeries) {
        return overflow;
      }
      Series fresh = new Series(d);
      known = series.putIfAbsent(d, fresh);
      if (known != null) {
        return known;
      }
      {
        seriesCount.incrementAndGet();
        for (int i = 0; i < d.size(); i++) {
          Set<String> vals = dimValues.computeIfAbsent(d.key(i), k -> ConcurrentHashMap.newKeySet());
          if (vals.size() < MAX_LISTED_VALUES) {
            vals.add(d.value(i));
          }
        }
      }
      return fresh;
    }

    /** Counts one request's outcome for this stream. */
    public void count(long now, int acceptedN, int lateN, int lateQuarantinedN, int overflowedN) {
      lastSeen = now;
      events.add(acceptedN);
      if (acceptedN > 0) {
        accepted.increment(acceptedN);
      }
      if (lateN > 0) {
        late.increment(lateN);
      }
      if (lateQuarantinedN > 0) {
        lateQuarantined.increment(lateQuarantinedN);
      }
      if (overflowedN > 0) {
        overflowed.increment(overflowedN);
      }
    }

    public void countRejected(int n) {
      rejected.increment(n);
    }

    synchronized void tick(long now) {
      long total = events.sum();
      long dt = now - lastTick;
      if (dt <= 0) {
        return;
      }
      double instant = (total - lastCount) * 1000.0 / dt;
      // exponentially weighted, about a 10 s memory at one tick a second
      rate = rate == 0 ? instant : rate + 0.2 * (instant - rate);
      lastCount = total;
      lastTick = now;
    }

    public String name() {
      return name;
    }

    public long firstSeen() {
      return firstSeen;
    }

    public long lastSeen() {
      return lastSeen;
    }

    public int seriesCount() {
      return seriesCount.get();
    }

    public long events() {
      return events.sum();
    }

    /** Events per second, smoothed. */
    public double rate() {
      return rate;
    }

    public Map<String, List<String>> dims() {
      Map<String, List<String>> m = new TreeMap<>();
      dimValues.forEach((k, v) -> m.put(k, new ArrayList<>(new TreeSet<>(v))));
      return m;
    }

    public List<String> valueNames() {
      return new ArrayList<>(new TreeSet<>(valueNames));
    }
  }

  /**
   * One series of a stream, with its key in the stream's per-series view, made once and reused for
   * every event: routing allocates nothing and shards compare keys by identity.
   */
  public static final class Series {

    private final Dims dims;
    private volatile ViewKey key;

    Series(Dims dims) {
      this.dims = dims;
    }

    /** The canonical dims of the series ({@link #OVERFLOW} for the overflow series). */
    public Dims dims() {
      return dims;
    }

    /** The series' key in {@code seriesView}, the stream's per-series view. */
    public ViewKey key(View seriesView) {
      ViewKey k = key;
      if (k == null || k.view() != seriesView) {
        k = seriesView.key(dims);
        key = k;
      }
      return k;
    }
  }
}
