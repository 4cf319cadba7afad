package io.pulse.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.View;
import io.pulse.agg.ViewKey;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Event;
import io.pulse.event.EventJson;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides where every valid event goes, once: into which series, on which shard,
 * and whether it is on time, late (folded in or quarantined by policy) or in the overflow series.
 * Rejected events go to quarantine here too, so each event ends in exactly one counted place.
 *
 * <p>Thread-safe; each ingest thread may share one instance.
 */
public final class Ingestor {

  /** What became of one request's events, and the work for each shard. */
  public record Outcome(ShardBatch[] batches, int accepted, int late, int overflowed, List<Rejection> rejections,
      String overflowNote) {

    public Outcome(ShardBatch[] batches, int accepted, int late, int overflowed, List<Rejection> rejections) {
      this(batches, accepted, late, overflowed, rejections, null);
    }
  }

  private final PulseConfig.Aggregation agg;
  private final StreamCatalog catalog;
  private final ViewRegistry views;
  private final Quarantine quarantine;
  private final int shards;
  private final Counter rejectedOther;

  public Ingestor(PulseConfig config, StreamCatalog catalog, ViewRegistry views, Quarantine quarantine, int shards,
      MeterRegistry registry) {
    this.agg = config.aggregation();
    this.catalog = catalog;
    this.views = views;
    this.quarantine = quarantine;
    this.shards = shards;
    this.rejectedOther = Counter.builder("pulse.events.rejected").tag("stream", "_other").tag("tenant", "_other")
        .description("Rejected events whose stream is unknown or unreadable").register(registry);
  }

  /**
   * Routes a body parsed for {@code tenant} (its events are streams of that tenant): quarantines its
   * rejections under the tenant and splits its events into shard batches.
   */
  public Outcome ingest(ParseResult parsed, String tenant, long now, String source) {
    List<Rejection> rejections = new ArrayList<>(parsed.rejections());
    for (Rejection r : parsed.rejections()) {
      reject(r, tenant, now, source);
    }
    return route(parsed.events(), parsed.indices(), 0, parsed.events().size(), now, source, rejections, null,
        Mode.LOCAL, null);
  }

  /**
   * Quarantines the rejections {@code [from, to)} of a parsed body: the first part of
   * {@link #ingest(ParseResult, String, long, String)}, for a body taken a slice at a time ({@link IngestJob}).
   */
  public void quarantine(ParseResult parsed, String tenant, int from, int to, long now, String source) {
    List<Rejection> rs = parsed.rejections();
    for (int i = from; i < to; i++) {
      reject(rs.get(i), tenant, now, source);
    }
  }

  /**
   * Routes the events {@code [from, to)} of a parsed body: the second part of
   * {@link #ingest(ParseResult, String, long, String)}, for a body taken a slice at a time ({@link IngestJob}).
   * The outcome's rejections are only those routing added (too many streams).
   */
  public Outcome route(ParseResult parsed, int from, int to, long now, String source) {
    return route(parsed.events(), parsed.indices(), from, to, now, source, new ArrayList<>(0), null, Mode.LOCAL, null);
  }

  /**
   * {@link #route(ParseResult, int, int, long, String)} for a caller that may send events only to
   * some streams (a token's narrowed ingest scope): the events of other streams are rejected, each
   * with the reason, and the rest kept.
   *
   * @param mayWrite whether the caller may send events to the stream of this name; null for any
   */
  public Outcome route(ParseResult parsed, int from, int to, long now, String source,
      java.util.function.Predicate<String> mayWrite) {
    return route(parsed.events(), parsed.indices(), from, to, now, source, new ArrayList<>(0), mayWrite, Mode.LOCAL,
        null);
  }

  /**
   * Cluster mode, where an event enters (an HTTP ingest slice, a source topic's record): the events
   * {@code [from, to)} of a parsed body are admitted as {@link #route} admits them (a stream past the
   * caps refused with the reason, a new series past them folded into its stream's overflow series)
   * and added to {@code out}, to be produced to Kafka with that decision in them. Lateness and the
   * stream's counters are left to the owner of each event's partition ({@link #ingestDecided}), which
   * admits what the record says: so a replay on any instance decides every event as the first run did.
   * The outcome has no batches; its counts are of this slice.
   *
   * @param mayWrite whether the caller may send events to the stream of this name; null for any
   */
  public Outcome admit(ParseResult parsed, int from, int to, long now, String source,
      java.util.function.Predicate<String> mayWrite, List<Event> out) {
    return route(parsed.events(), parsed.indices(), from, to, now, source, new ArrayList<>(0), mayWrite, Mode.EDGE,
        out);
  }

  /** Routes already-valid events (in-process producers); each names its tenant in its stream. */
  public Outcome ingest(List<Event> events, long now, String source) {
    return ingest(events, now, source, Mode.LOCAL, null);
  }

  /** {@link #admit(ParseResult, int, int, long, String, java.util.function.Predicate, List)} for events made in process (the demo). */
  public Outcome admit(List<Event> events, long now, String source, List<Event> out) {
    return ingest(events, now, source, Mode.EDGE, out);
  }

  /**
   * Cluster mode, the owner of a partition: routes a record's events, whose streams and series were
   * admitted where they entered ({@link #admit}): none is refused or folded here for a cap.
   */
  public Outcome ingestDecided(List<Event> events, long now, String source) {
    return ingest(events, now, source, Mode.OWNER, null);
  }

  /** Routes (or, {@link Mode#EDGE}, admits into {@code out}) events made whole, each at its own index. */
  private Outcome ingest(List<Event> events, long now, String source, Mode mode, List<Event> out) {
    int[] idx = new int[events.size()];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    return route(events, idx, 0, events.size(), now, source, new ArrayList<>(0), null, mode, out);
  }

  /** Where {@link #route} runs: a single node, or in cluster mode where an event enters or where it is aggregated. */
  private enum Mode { LOCAL, EDGE, OWNER }

  private Outcome route(List<Event> events, int[] indices, int from, int to, long now, String source,
      List<Rejection> rejections, java.util.function.Predicate<String> mayWrite, Mode mode, List<Event> forward) {
    boolean decided = mode == Mode.OWNER;
    ShardBatch[] batches = new ShardBatch[mode == Mode.EDGE ? 0 : shards];
    // a shard's share, with room for the spread of the hash (so the batch rarely grows)
    int per = Math.max(4, (to - from) / shards + (to - from) / (4 * shards) + 16);
    for (int s = 0; s < batches.length; s++) {
      batches[s] = new ShardBatch(per);
    }
    // the streams of this request, each entered once (so none is forgotten while its events are
    // routed) and exited only after its events are counted
    Map<StreamCatalog.StreamInfo, int[]> counts = new IdentityHashMap<>(2);
    StreamCatalog.Overflow overflowCause = StreamCatalog.Overflow.NONE;
    String overflowTenant = null; // the tenant whose cap folded events, for the note
    int accepted = 0;
    int late = 0;
    int overflowed = 0;
    try {
      StreamCatalog.StreamInfo info = null;
      int[] c = null;
      View[] vs = null; // the stream's views, looked up again only when the stream changes
      StreamId checked = null; // the last stream asked of mayWrite, and its answer
      boolean allowed = true;
      for (int i = from; i < to; i++) {
        Event e = events.get(i);
        StreamId sid = e.stream();
        if (mayWrite != null) {
          if (checked == null || !checked.equals(sid)) {
            checked = sid;
            allowed = mayWrite.test(sid.name());
          }
          if (!allowed) {
            Rejection r = new Rejection(indices[i], "this token may not send events to stream " + sid.name()
                + " (its ingest scope names other streams)", sid.name(), EventJson.encode(e));
            rejections.add(r);
            reject(r, sid.tenant(), now, source);
            continue;
          }
        }
        if (info == null || (info.id() != sid && !info.id().equals(sid))) {
          info = catalog.enter(sid, now, decided);
          if (info == null) {
            String tenantCap = catalog.streamRefusal(sid);
            Rejection r = new Rejection(indices[i], tenantCap != null
                ? "too many streams: " + tenantCap + "; streams without events for aggregation.streamIdleMs are forgotten"
                : "too many streams: Pulse holds at most " + agg.maxStreams()
                + " (aggregation.maxStreams); streams without events for aggregation.streamIdleMs are forgotten",
                sid.name(), EventJson.encode(e));
            rejections.add(r);
            reject(r, sid.tenant(), now, source);
            continue;
          }
          c = counts.get(info);
          if (c == null) {
            counts.put(info, c = new int[4]);
          } else {
            info.exit(); // already held since its first event in this request
          }
          // looked up while the stream is held: its views cannot be dropped meanwhile (where an event
          // only enters the cluster, its owner routes it: no views needed here)
          vs = mode == Mode.EDGE ? null : views.views(sid);
        }
        StreamCatalog.Series series = info.admit(e, now, decided);
        if (series.overflow() != StreamCatalog.Overflow.NONE) {
          e = e.withDims(StreamCatalog.OVERFLOW);
          if (series.overflow().compareTo(overflowCause) > 0) {
            overflowCause = series.overflow();
            overflowTenant = sid.tenant();
          }
          c[3]++;
          overflowed++;
        }
        if (mode == Mode.EDGE) {
          forward.add(e); // on time or late is for the owner to say, by its partition's time
          accepted++;
          continue;
        }
        long w = vs[0].windowMs();
        long windowTs = e.ts();
        long start = windowTs - Math.floorMod(windowTs, w);
        if (start + w + agg.allowedLatenessMs() <= now) {
          if (agg.latePolicy() == PulseConfig.LatePolicy.QUARANTINE) {
            quarantine.add(now, sid.tenant(), sid.name(), "late", "late: its window [" + start + ", " + (start + w)
                + ") closed before it arrived (allowed lateness " + agg.allowedLatenessMs() + " ms)", EventJson.encode(e));
            c[2]++;
            late++;
            continue;
          }
          windowTs = now;
          c[1]++;
          late++;
        }
        // only the series' own window is updated per event; totals and group-bys are merged from
        // series windows at each flush (see ShardAggregator)
        ViewKey k = series.key(vs[ViewRegistry.SERIES]);
        batches[k.shard(shards)].add(k, e, windowTs);
        c[0]++;
        accepted++;
      }
    } finally {
      for (Map.Entry<StreamCatalog.StreamInfo, int[]> en : counts.entrySet()) {
        int[] k = en.getValue();
        if (mode == Mode.EDGE) {
          en.getKey().count(now, 0, 0, 0, 0); // seen now; the owner counts the events
        } else {
          en.getKey().count(now, k[0], k[1], k[2], k[3]);
        }
        en.getKey().exit();
      }
    }
    return new Outcome(batches, accepted, late, overflowed, rejections, overflowNote(overflowCause, overflowTenant));
  }

  /**
   * Of two overflow notes of one request (from two slices), the one the answer gives: the global
   * cap's first, then the tenant's, then the stream's.
   */
  String worseNote(String a, String b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return noteRank(b) > noteRank(a) ? b : a;
  }

  private int noteRank(String note) {
    if (note.equals(overflowNote(StreamCatalog.Overflow.GLOBAL_CAP, null))) {
      return 2;
    }
    return note.startsWith("tenant ") ? 1 : 0; // TenantQuota's refusal, as the tenant's note starts
  }

  /** What the ingest answer says about overflowed events: which cap folded them, by its setting. */
  private String overflowNote(StreamCatalog.Overflow cause, String tenant) {
    switch (cause) {
      case TENANT_CAP:
        return catalog.quota().refusal(tenant, io.pulse.core.TenantQuota.Resource.SERIES)
            + "; events of its new series were folded into their stream's series {\"_overflow\":\"true\"} until "
            + "idle series are forgotten (aggregation.seriesIdleMs)";
      case STREAM_CAP:
        return "the stream holds its maximum of " + catalog.maxSeries() + " series (aggregation.maxSeriesPerStream); "
            + "events of new series were folded into the series {\"_overflow\":\"true\"}";
      case GLOBAL_CAP:
        return "Pulse holds its maximum of " + catalog.maxSeriesTotal() + " series across all streams "
            + "(aggregation.maxSeries); events of new series were folded into their stream's series "
            + "{\"_overflow\":\"true\"} until idle series are forgotten (aggregation.seriesIdleMs)";
      default:
        return null;
    }
  }

  /** Quarantines one refused event (counted under its stream), as routing does with its own refusals. */
  public void reject(Rejection r, String tenant, long now, String source) {
    quarantine.add(now, tenant, r.stream(), source, r.error(), r.payload());
    StreamCatalog.StreamInfo info = r.stream() == null || !StreamId.validName(r.stream()) ? null
        : catalog.get(StreamId.of(tenant, r.stream()));
    if (info == null || !info.countRejected(1)) { // unknown, or forgotten meanwhile
      rejectedOther.increment();
    }
  }
}
