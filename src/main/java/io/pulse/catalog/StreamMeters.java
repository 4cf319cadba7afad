package io.pulse.catalog;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.pulse.core.StreamId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-stream event counters whose label set stays bounded whatever stream names callers invent.
 *
 * <p>A stream gets meters of its own ({@code tenant} and {@code stream} tags) when it is
 * configured, or while fewer than {@code busiest} other streams have theirs (so a small install
 * sees every stream by name from its first event); past that, a new stream counts into its
 * tenant's {@code stream="_other"} series until a {@link #rebalance} finds it among the busiest.
 * So a Prometheus server sees at most (configured + busiest + 1) stream series per tenant and per
 * counter, and the sum over a counter's series is every event counted, exactly.
 *
 * <p>Counters stay monotonic: a stream counts into {@code _other} until it is promoted and into its
 * own series after (its own series starts at 0 at promotion, and nothing leaves {@code _other}).
 * A promoted stream keeps its series while it is active; one that counted nothing since the last
 * rebalance gives its place to a busier waiting stream, and its series is removed, as when the
 * catalog forgets a stream. Tenants are not client-chosen (they come from the server's own
 * configuration and, later, from tokens it signed), so the tenant tag is bounded by the operator.
 *
 * <p>Thread-safe: ingest threads count concurrently; {@link #rebalance} runs on one thread at a
 * time (the catalog sweeper's).
 */
public final class StreamMeters {

  /** The stream tag of the series that sums every stream without one of its own. */
  public static final String OTHER = "_other";

  private final MeterRegistry registry;
  private final Set<String> configured;
  private final int busiest;
  private final Set<Handle> handles = ConcurrentHashMap.newKeySet();
  /** Streams with series of their own that are not configured: at most {@link #busiest}. */
  private final java.util.concurrent.atomic.AtomicInteger promoted = new java.util.concurrent.atomic.AtomicInteger();
  private final ConcurrentHashMap<String, Counters> others = new ConcurrentHashMap<>();

  /**
   * @param configured stream names with settings of their own: labelled in every tenant, always
   * @param busiest how many other streams (over all tenants) get series of their own
   */
  public StreamMeters(MeterRegistry registry, Set<String> configured, int busiest) {
    if (busiest < 0) {
      throw new IllegalArgumentException("busiest must be 0 or more");
    }
    this.registry = registry;
    this.configured = Set.copyOf(configured);
    this.busiest = busiest;
  }

  /** The counters of a stream the catalog has just taken in; give it back with {@link #forget}. */
  public Handle open(StreamId stream) {
    Handle h = new Handle(stream, configured.contains(stream.name()));
    boolean own = h.pinned || takePlace();
    h.target = own ? new Counters(registry, stream.tenant(), stream.name()) : other(stream.tenant());
    handles.add(h);
    return h;
  }

  /** The catalog forgot the stream: its own series (if any) is removed; what it counted stays in the sums. */
  public void forget(Handle h) {
    if (handles.remove(h) && h.own()) {
      h.target.remove(registry);
      if (!h.pinned) {
        promoted.decrementAndGet();
      }
    }
  }

  private boolean takePlace() {
    while (true) {
      int n = promoted.get();
      if (n >= busiest) {
        return false;
      }
      if (promoted.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /**
   * Gives free places to the busiest waiting streams by what each counted since the last call, and
   * takes places back from promoted streams that counted nothing since then when busier ones wait.
   * Call it every few seconds.
   */
  public void rebalance() {
    List<Handle> waiting = new ArrayList<>();
    List<Handle> idle = new ArrayList<>();
    java.util.Map<Handle, Long> recentOf = new java.util.HashMap<>();
    for (Handle h : handles) {
      long recent = h.recent.sumThenReset();
      if (h.pinned) {
        continue;
      }
      if (h.own()) {
        if (recent == 0) {
          idle.add(h);
        }
      } else if (recent > 0) {
        waiting.add(h);
        recentOf.put(h, recent);
      }
    }
    if (waiting.isEmpty()) {
      return;
    }
    waiting.sort(Comparator.comparingLong((Handle h) -> recentOf.get(h)).reversed());
    int next = 0;
    while (next < waiting.size() && takePlace()) {
      promote(waiting.get(next++));
    }
    for (int i = 0; next < waiting.size() && i < idle.size(); next++, i++) {
      Handle gone = idle.get(i);
      Counters own = gone.target;
      gone.target = other(gone.stream.tenant());
      own.remove(registry);
      promote(waiting.get(next));
    }
  }

  /** Gives {@code h} series of its own, in a place already taken for it. */
  private void promote(Handle h) {
    if (handles.contains(h)) {
      h.target = new Counters(registry, h.stream.tenant(), h.stream.name());
    } else {
      promoted.decrementAndGet(); // forgotten meanwhile
    }
  }

  private Counters other(String tenant) {
    return others.computeIfAbsent(tenant, t -> new Counters(registry, t, OTHER));
  }

  /** The counters of one stream, as its catalog entry holds them. */
  public static final class Handle {
    private final StreamId stream;
    private final boolean pinned;
    /** Where counts go now: the stream's own series or its tenant's {@code _other}. */
    private volatile Counters target;
    /** Events accepted since the last rebalance: the measure of "busiest". */
    private final LongAdder recent = new LongAdder();

    private Handle(StreamId stream, boolean pinned) {
      this.stream = stream;
      this.pinned = pinned;
    }

    public StreamId stream() {
      return stream;
    }

    /** Whether the stream has series of its own now (else it counts under {@code _other}). */
    public boolean own() {
      return !OTHER.equals(target.stream);
    }

    /** Counts one request's outcome for the stream. */
    public void count(int acceptedN, int lateN, int lateQuarantinedN, int overflowedN) {
      Counters c = target;
      if (acceptedN > 0) {
        recent.add(acceptedN);
        c.accepted.increment(acceptedN);
      }
      if (lateN > 0) {
        c.late.increment(lateN);
      }
      if (lateQuarantinedN > 0) {
        c.lateQuarantined.increment(lateQuarantinedN);
      }
      if (overflowedN > 0) {
        c.overflowed.increment(overflowedN);
      }
    }

    /** Counts events of the stream that failed validation. */
    public void rejected(int n) {
      if (n > 0) {
        recent.add(n);
        target.rejected.increment(n);
      }
    }
  }

  /** The five counters of one (tenant, stream) series. */
  private static final class Counters {
    final String stream;
    final Counter accepted;
    final Counter rejected;
    final Counter late;
    final Counter lateQuarantined;
    final Counter overflowed;

    Counters(MeterRegistry registry, String tenant, String stream) {
      this.stream = stream;
      this.accepted = counter(registry, "pulse.events.accepted", tenant, stream,
          "Events taken into aggregation (on time, or late and folded in)");
      this.rejected = counter(registry, "pulse.events.rejected", tenant, stream,
          "Events that failed validation; each is in quarantine");
      this.late = counter(registry, "pulse.events.late", tenant, stream,
          "Events whose window had closed; folded into the open window");
      this.lateQuarantined = counter(registry, "pulse.events.late.quarantined", tenant, stream,
          "Late events sent to quarantine (latePolicy=quarantine)");
      this.overflowed = counter(registry, "pulse.events.overflowed", tenant, stream,
          "Events folded into the overflow series by the series cap");
    }

    private static Counter counter(MeterRegistry registry, String name, String tenant, String stream, String what) {
      return Counter.builder(name).tag("tenant", tenant).tag("stream", stream)
          .description(what + "; streams without a series of their own count under stream=\"_other\"")
          .register(registry);
    }

    void remove(MeterRegistry registry) {
      for (Meter m : new Meter[] {accepted, rejected, late, lateQuarantined, overflowed}) {
        registry.remove(m);
      }
    }
  }
}
