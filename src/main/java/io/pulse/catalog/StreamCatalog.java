package io.pulse.catalog;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pulse.agg.View;
import io.pulse.agg.ViewKey;
import io.pulse.core.StreamId;
import io.pulse.core.TenantQuota;
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
import java.util.function.Predicate;

/**
 * Streams seen, their series, dims and value names: what {@code GET /api/v1/streams} lists, and
 * the cardinality guard. Ingest threads call it for every event, so the common case (a known
 * series) is one lock-free map read.
 *
 * <p>Streams are keyed by {@link StreamId}, tenant and name: two tenants' streams of one name are
 * two entries with their own series, caps per stream and meters (tagged by tenant and stream). The
 * limits on streams and on series across streams are for the whole process, all tenants together;
 * under them, a {@link TenantQuota} caps each tenant's streams and series ({@code limits.perTenant.*}),
 * checked only when a stream or series is new (never per event of a known one) and given back when it
 * is forgotten.
 *
 * <p>A stream may hold at most {@code maxSeries} distinct dims combinations, and all streams
 * together at most {@code maxSeriesTotal}. Events of any further series are folded into the
 * stream's overflow series, {@link #OVERFLOW}, and counted.
 *
 * <p>Nothing is held for ever: {@link #forgetIdleSeries} drops series not seen for a while, and
 * {@link #forgetIdleStreams} drops whole streams (entry, series, views, meters), so the caps
 * recover. See {@link StreamInfo#enter()} for how that stays safe against ingest threads that
 * read the catalog without a lock.
 */
public final class StreamCatalog {

  /** The series that excess series of a stream fold into. */
  public static final Dims OVERFLOW = Dims.of(io.pulse.agg.View.OVERFLOW_KEY, "true");

  /** Dim values listed per dim (the catalog is a guide for UIs, not an index). */
  private static final int MAX_LISTED_VALUES = 200;
  /** Dim names and value names listed per stream: a caller inventing names cannot grow the listing. */
  static final int MAX_LISTED_NAMES = 1000;

  /**
   * An owner holds what the records say, past its own caps (another instance admitted it), but not
   * past this many times {@code aggregation.maxSeries}: a backstop against records that were never
   * admitted where they entered (an older version's, a producer other than Pulse), whose series
   * would otherwise be held without bound. Folding there is by what this instance holds, so not
   * replay-exact: it is for a cluster already far past its caps.
   */
  static final int DECIDED_BACKSTOP = 4;

  /** Why an event went to the overflow series. */
  public enum Overflow { NONE, STREAM_CAP, TENANT_CAP, GLOBAL_CAP }

  private final int maxStreams;
  private final int maxSeries;
  private final int maxSeriesTotal;
  private final MeterRegistry registry;
  private final StreamMeters meters;
  /** Each tenant's streams and series, with its caps. */
  private final TenantQuota quota;
  private final ConcurrentHashMap<StreamId, StreamInfo> streams = new ConcurrentHashMap<>();
  /**
   * Streams held, counted here rather than by the map's size: the map's count is updated after a
   * removal's lock is released, so it could refuse a stream whose slot was freed a moment ago.
   */
  private final AtomicInteger held = new AtomicInteger();
  /** Series held across all streams (the global budget). */
  private final AtomicInteger seriesTotal = new AtomicInteger();
  private final Counter streamsForgotten;
  private final Counter seriesForgotten;

  /** The per-stream event counters: {@link StreamMeters#rebalance} them every few seconds. */
  public StreamMeters meters() {
    return meters;
  }

  /** A catalog without a global series budget. */
  public StreamCatalog(int maxStreams, int maxSeries, MeterRegistry registry) {
    this(maxStreams, maxSeries, Integer.MAX_VALUE, registry);
  }

  /**
   * @param maxSeries series per stream ({@code aggregation.maxSeriesPerStream})
   * @param maxSeriesTotal series across all streams ({@code aggregation.maxSeries})
   */
  public StreamCatalog(int maxStreams, int maxSeries, int maxSeriesTotal, MeterRegistry registry) {
    this(maxStreams, maxSeries, maxSeriesTotal, registry, new StreamMeters(registry, java.util.Set.of(), Integer.MAX_VALUE));
  }

  /**
   * @param meters the per-stream event counters, whose label set it bounds ({@link StreamMeters})
   */
  public StreamCatalog(int maxStreams, int maxSeries, int maxSeriesTotal, MeterRegistry registry, StreamMeters meters) {
    this(maxStreams, maxSeries, maxSeriesTotal, registry, meters, TenantQuota.unlimited());
  }

  /**
   * @param quota each tenant's caps; the catalog takes and gives back {@link TenantQuota.Resource#STREAMS}
   *     and {@link TenantQuota.Resource#SERIES} in it
   */
  public StreamCatalog(int maxStreams, int maxSeries, int maxSeriesTotal, MeterRegistry registry, StreamMeters meters,
      TenantQuota quota) {
    this.meters = meters;
    this.quota = quota;
    this.maxStreams = maxStreams;
    this.maxSeries = maxSeries;
    this.maxSeriesTotal = maxSeriesTotal;
    this.registry = registry;
    Gauge.builder("pulse.catalog.streams", held, AtomicInteger::get)
        .description("Streams held in memory (aggregation.maxStreams bounds it; idle ones are forgotten)")
        .register(registry);
    Gauge.builder("pulse.catalog.series", seriesTotal, AtomicInteger::get)
        .description("Series held in memory across all streams (aggregation.maxSeries bounds it)").register(registry);
    this.streamsForgotten = Counter.builder("pulse.catalog.streams.forgotten")
        .description("Streams forgotten after aggregation.streamIdleMs without events").register(registry);
    this.seriesForgotten = Counter.builder("pulse.catalog.series.forgotten")
        .description("Series forgotten after aggregation.seriesIdleMs without events").register(registry);
  }

  /**
   * The stream's entry, made on first sight, <em>entered</em>: it cannot be forgotten until the
   * caller {@link StreamInfo#exit() exits} it, which it must do once its events are routed and
   * counted. Null when the catalog holds {@code maxStreams} streams, or the stream's tenant holds its
   * cap of streams ({@link #streamRefusal} says which).
   */
  public StreamInfo enter(StreamId name, long now) {
    return enter(name, now, false);
  }

  /**
   * {@link #enter(StreamId, long)}, or with {@code decided} for an event whose admission was decided
   * where it entered the cluster (see {@link StreamInfo#admit(io.pulse.event.Event, long, boolean)}):
   * then the stream is made whatever the caps, and counted against them.
   */
  public StreamInfo enter(StreamId name, long now, boolean decided) {
    StreamInfo s = streams.get(name);
    if (s != null && s.enter()) {
      return s; // the common case: lock-free
    }
    // Absent, or being forgotten at this very moment. The forgetter retires and removes an entry
    // inside computeIfPresent on its key, so this compute waits for it to finish and then sees
    // either the entry back in service or no entry (and makes a fresh one, whose views are made
    // afresh: the old ones were removed before the old entry left the map).
    StreamInfo[] out = new StreamInfo[1];
    streams.compute(name, (k, cur) -> {
      if (cur == null) {
        if (decided) {
          quota.acquire(k.tenant(), TenantQuota.Resource.STREAMS, 1);
          held.incrementAndGet();
        } else if (!quota.tryAcquire(k.tenant(), TenantQuota.Resource.STREAMS, 1)) {
          return null;
        } else if (held.incrementAndGet() > maxStreams) {
          held.decrementAndGet();
          quota.release(k.tenant(), TenantQuota.Resource.STREAMS, 1);
          return null;
        }
        cur = new StreamInfo(k, now, meters.open(k));
      }
      if (cur.enter()) { // cannot fail: only the forgetter retires, and only while it holds this key
        out[0] = cur;
      }
      return cur;
    });
    return out[0];
  }

  /**
   * The stream's entry, made on first sight; null when the catalog is full. Not entered: for
   * callers that only read it (tests, tools), never for routing events.
   */
  public StreamInfo stream(StreamId name, long now) {
    StreamInfo s = enter(name, now);
    if (s != null) {
      s.exit();
    }
    return s;
  }

  /**
   * Why {@link #enter} refused a new stream of {@code name}'s tenant: its tenant's cap when the tenant
   * holds it, else null (the global cap, which the caller words).
   */
  public String streamRefusal(StreamId name) {
    String t = name.tenant();
    return quota.used(t, TenantQuota.Resource.STREAMS) >= quota.cap(TenantQuota.Resource.STREAMS)
        ? quota.refusal(t, TenantQuota.Resource.STREAMS) : null;
  }

  /** The per-tenant caps this catalog applies (and the other resources' counts, shared). */
  public TenantQuota quota() {
    return quota;
  }

  public StreamInfo get(StreamId name) {
    return streams.get(name);
  }

  public Collection<StreamInfo> all() {
    return streams.values();
  }

  public int maxSeries() {
    return maxSeries;
  }

  /** The global series budget ({@code aggregation.maxSeries}). */
  public int maxSeriesTotal() {
    return maxSeriesTotal;
  }

  /** Streams held. */
  public int streamCount() {
    return held.get();
  }

  /** Series held across all streams. */
  public int seriesTotal() {
    return seriesTotal.get();
  }

  /** Updates every stream's event rate; call about once a second. */
  public void tick(long now) {
    for (StreamInfo s : streams.values()) {
      s.tick(now);
    }
  }

  /** Coarse time unit of a series' "last seen" (about a second): cheap to compute, written only when it moves. */
  static int seenTick(long now) {
    return (int) (now >>> 10);
  }

  /**
   * Forgets series of every stream not seen for their idle time ({@code idleMsOf} of the stream's
   * name; 0 or less keeps them). A series event racing with its removal is still aggregated (it
   * carries the series' view key, equal to the one a readmission makes); the next event of that
   * series admits it again. Returns how many were forgotten.
   */
  public int forgetIdleSeries(long now, java.util.function.ToLongFunction<StreamId> idleMsOf) {
    int forgotten = 0;
    int nowTick = seenTick(now);
    for (StreamInfo s : streams.values()) {
      long idle = idleMsOf.applyAsLong(s.id);
      if (idle <= 0) {
        continue;
      }
      // whole ticks, rounded up, so a series is never dropped before its idle time
      int idleTicks = (int) Math.min(Integer.MAX_VALUE, (idle + 1023) >>> 10) + 1;
      for (Series x : s.series.values()) {
        if (nowTick - x.seen >= idleTicks && s.series.remove(x.dims, x)) {
          s.seriesCount.decrementAndGet();
          seriesTotal.decrementAndGet();
          quota.release(s.tenant(), TenantQuota.Resource.SERIES, 1);
          ViewKey k = x.key;
          if (k != null) {
            k.view().forgetKey(x.dims);
          }
          forgotten++;
        }
      }
    }
    if (forgotten > 0) {
      seriesForgotten.increment(forgotten);
    }
    return forgotten;
  }

  /**
   * Forgets every stream with no events for its idle time ({@code idleMsOf} of its name; 0 or less
   * keeps it) whose views {@code dropViews} agrees to drop (it answers false, and drops nothing,
   * while a view has a subscriber, or while the stream may not be forgotten yet for another
   * reason: it is asked once the entry is retired, so the entry's figures are final). Forgetting removes the entry, its series and its meters; a
   * stream whose events return starts afresh.
   *
   * <p>Why no event is lost or miscounted: ingest threads route a request's events while holding
   * the stream's entry {@link StreamInfo#enter() entered}, and count them before they exit. The
   * forgetter, inside {@code computeIfPresent} on the stream's key, first retires the entry, which
   * succeeds only when no thread holds it and makes every later {@code enter} of that instance
   * fail; then re-checks idleness (a thread that exited just before left its {@code lastSeen});
   * then drops the views and meters; then removes the entry. A thread that failed to enter goes to
   * {@code compute} on the same key, which waits for the forgetter and then makes a fresh entry
   * (or finds the old one back in service, when the forgetter gave up). So every event is routed
   * and counted against an entry that is in the map, with views that are registered.
   *
   * @return the entries forgotten (their counts are final)
   */
  public List<StreamInfo> forgetIdleStreams(long now, java.util.function.ToLongFunction<StreamId> idleMsOf,
      Predicate<StreamInfo> dropViews) {
    List<StreamInfo> forgotten = new ArrayList<>();
    for (StreamInfo s : streams.values()) {
      long idle = idleMsOf.applyAsLong(s.id);
      if (idle <= 0 || now - s.lastSeen < idle) {
        continue; // the cheap look first, without the key's lock
      }
      streams.computeIfPresent(s.id, (k, cur) -> {
        if (!cur.tryRetire()) {
          return cur; // an ingest thread is routing events of it right now
        }
        if (now - cur.lastSeen < idle || !dropViews.test(cur)) {
          cur.unretire();
          return cur;
        }
        meters.forget(cur.meters);
        int seriesHeld = cur.seriesCount.get();
        seriesTotal.addAndGet(-seriesHeld);
        held.decrementAndGet();
        quota.release(k.tenant(), TenantQuota.Resource.SERIES, seriesHeld);
        quota.release(k.tenant(), TenantQuota.Resource.STREAMS, 1);
        forgotten.add(cur);
        return null;
      });
    }
    if (!forgotten.isEmpty()) {
      streamsForgotten.increment(forgotten.size());
    }
    return forgotten;
  }

  /**
   * Runs {@code action} for a stream name that has no entry, excluded from ingest making one
   * meanwhile (it holds the key's lock): for dropping views of streams that have none.
   */
  public void whileAbsent(StreamId name, Runnable action) {
    streams.compute(name, (k, cur) -> {
      if (cur == null) {
        action.run();
      }
      return cur;
    });
  }

  /** What the catalog knows of one stream. Thread-safe. */
  public final class StreamInfo {
    /** {@link #holders} value of a retired entry: being forgotten, or forgotten. */
    private static final int RETIRED = -1;

    private final StreamId id;
    private final String name;
    private final long firstSeen;
    private volatile long lastSeen;
    private final ConcurrentHashMap<Dims, Series> series = new ConcurrentHashMap<>();
    private final Series overflow = new Series(OVERFLOW, Overflow.STREAM_CAP);
    private final Series overflowGlobal = new Series(OVERFLOW, Overflow.GLOBAL_CAP);
    private final Series overflowTenant = new Series(OVERFLOW, Overflow.TENANT_CAP);
    private final AtomicInteger seriesCount = new AtomicInteger();
    private final ConcurrentHashMap<String, Set<String>> dimValues = new ConcurrentHashMap<>();
    private final Set<String> valueNames = ConcurrentHashMap.newKeySet();
    private final LongAdder events = new LongAdder();
    /** Threads routing events of this stream now, or {@link #RETIRED}. */
    private final AtomicInteger holders = new AtomicInteger();
    /** The names array of the last event whose names were recorded (a benign race: at worst a re-check). */
    private volatile String[] lastNames;
    private long lastCount;
    private long lastTick;
    private volatile double rate;

    /** Its event counters (pulse_events_*_total): its own series or its tenant's _other. */
    final StreamMeters.Handle meters;

    StreamInfo(StreamId id, long now, StreamMeters.Handle meters) {
      this.id = id;
      this.name = id.name();
      this.firstSeen = now;
      this.lastSeen = now;
      this.lastTick = now;
      this.meters = meters;
    }

    /** Holds the entry against forgetting; false when it is retired (look it up again). */
    boolean enter() {
      for (;;) {
        int h = holders.get();
        if (h == RETIRED) {
          return false;
        }
        if (holders.compareAndSet(h, h + 1)) {
          return true;
        }
      }
    }

    /** Releases one {@link #enter}. */
    public void exit() {
      holders.decrementAndGet();
    }

    boolean tryRetire() {
      return holders.compareAndSet(0, RETIRED);
    }

    void unretire() {
      holders.set(0);
    }

    /** Whether it has been forgotten (or is being forgotten now). */
    public boolean retired() {
      return holders.get() == RETIRED;
    }

    /**
     * Notes an event and returns the series to aggregate it under: its own, or the overflow
     * series when it would be a new series beyond a cap.
     */
    public Series admit(Event e, long now) {
      return admit(e, now, false);
    }

    /**
     * {@link #admit(Event, long)}, or with {@code decided} for an event whose series was decided where
     * it entered the cluster. In cluster mode the instance that takes an event in (its HTTP ingest, a
     * source topic's reader) admits its series or folds it into the overflow series before the event
     * goes to Kafka, so the record carries the decision and a replay on any instance repeats it; the
     * owner of the partition then admits what the record says: {@link #OVERFLOW} dims are the overflow
     * series, any other series is held whatever the caps (and counted against them).
     */
    public Series admit(Event e, long now, boolean decided) {
      if (!e.hasNamesArray(lastNames)) {
        for (int i = 0, n = e.valueCount(); i < n; i++) {
          String v = e.name(i);
          if (!valueNames.contains(v) && valueNames.size() < MAX_LISTED_NAMES) {
            valueNames.add(v);
          }
        }
        lastNames = e.namesArray(); // consecutive events usually share one names array
      }
      Dims d = e.dims();
      int tick = seenTick(now);
      Series known = series.get(d);
      if (known != null) {
        if (known.seen != tick) {
          known.seen = tick; // at most one shared write per series and second
        }
        return known;
      }
      String tenant = id.tenant();
      if (decided) {
        if (View.isOverflow(d)) {
          return overflow;
        }
        if (seriesTotal.get() >= (long) maxSeriesTotal * DECIDED_BACKSTOP) {
          return overflowGlobal; // records nobody admitted (an older version's, an outside producer's)
        }
        quota.acquire(tenant, TenantQuota.Resource.SERIES, 1);
        seriesTotal.incrementAndGet();
      } else if (seriesCount.get() >= maxSeries) {
        return overflow;
      } else if (!quota.tryAcquire(tenant, TenantQuota.Resource.SERIES, 1)) {
        return overflowTenant;
      } else if (seriesTotal.incrementAndGet() > maxSeriesTotal) {
        seriesTotal.decrementAndGet();
        quota.release(tenant, TenantQuota.Resource.SERIES, 1);
        return overflowGlobal;
      }
      Series fresh = new Series(d, Overflow.NONE);
      fresh.seen = tick;
      known = series.putIfAbsent(d, fresh);
      if (known != null) {
        seriesTotal.decrementAndGet();
        quota.release(tenant, TenantQuota.Resource.SERIES, 1);
        return known;
      }
      seriesCount.incrementAndGet();
      for (int i = 0; i < d.size(); i++) {
        Set<String> vals = dimValues.get(d.key(i));
        if (vals == null) {
          if (dimValues.size() >= MAX_LISTED_NAMES) {
            continue;
          }
          vals = dimValues.computeIfAbsent(d.key(i), k -> ConcurrentHashMap.newKeySet());
        }
        if (vals.size() < MAX_LISTED_VALUES) {
          vals.add(d.value(i));
        }
      }
      return fresh;
    }

    /** {@link #admit(Event, long)} at an unknown time (the series counts as seen at time 0). */
    public Series admit(Event e) {
      return admit(e, 0);
    }

    /** Counts one request's outcome for this stream. */
    public void count(long now, int acceptedN, int lateN, int lateQuarantinedN, int overflowedN) {
      lastSeen = now;
      events.add(acceptedN);
      meters.count(acceptedN, lateN, lateQuarantinedN, overflowedN);
    }

    /** Counts rejected events of this stream; false (nothing counted) when the stream was forgotten meanwhile. */
    public boolean countRejected(int n) {
      if (!enter()) {
        return false;
      }
      try {
        meters.rejected(n);
      } finally {
        exit();
      }
      return true;
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

    /** The stream's identity, tenant and name: the instance the catalog keys it by. */
    public StreamId id() {
      return id;
    }

    /** The stream's name within its tenant. */
    public String name() {
      return name;
    }

    public String tenant() {
      return id.tenant();
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
    private final Overflow overflow;
    private volatile ViewKey key;
    /** When an event of it was last admitted, in {@link #seenTick} units. */
    private volatile int seen;

    Series(Dims dims, Overflow overflow) {
      this.dims = dims;
      this.overflow = overflow;
    }

    /** The canonical dims of the series ({@link #OVERFLOW} for the overflow series). */
    public Dims dims() {
      return dims;
    }

    /** Whether this is an overflow series, and which cap sent events to it. */
    public Overflow overflow() {
      return overflow;
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
