package io.pulse.verticles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.config.PulseConfig;
import io.pulse.core.Clock;
import io.pulse.ingest.Ingestor;
import io.pulse.ingest.Quarantine;
import io.pulse.store.CatalogStore;
import io.pulse.store.Database;
import io.pulse.store.RollupCodec;
import io.pulse.store.RollupStore;
import java.time.Duration;
import io.pulse.store.StoreWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the verticles of one Pulse share: configuration, clock, meters and the thread-safe engine
 * parts (catalog, views, quarantine, ingest routing, health, the aggregation guard, the edge
 * limits). Built once by {@link Pulse}; each verticle takes it in its constructor.
 *
 * <p><b>The rule: verticles share no mutable state outside the event bus.</b> What one verticle
 * must tell the others goes in a message, or in a status object that exactly one owner updates and
 * everyone else only reads:
 * <ul>
 *   <li>a {@link Published} value, replaced whole by its owner with an immutable one
 *       ({@link #store}: the store verticle's {@link StoreWriter.Status}; {@link #draining}: set by
 *       {@link Pulse} when a stop starts; {@link #storedStreams}: the stored catalogue, by the store
 *       verticle);</li>
 *   <li>a {@link Count} that only its owner adds to: each shard its processed events
 *       ({@link #processed}), each sender of events (an HTTP instance, the demo) what it sent to each
 *       shard ({@link Sender}), each live hub its subscribers ({@link #subscriberCount}). Totals are
 *       sums read from them, never a read-modify-write shared by two threads: the events pending at a
 *       shard are the sum of what was sent to it minus what it processed.</li>
 * </ul>
 * The lists of those owners' counts only grow, as verticles are made, and are copy-on-write. The
 * engine parts above are shared on purpose: they are thread-safe by design, each documented so.
 * Nothing else here may be changed after construction, except by the owner named on it; a new
 * signal between verticles follows the same rule (one owner, an immutable value or an own count).
 */
public final class PulseContext {

  /** Ingest answers 503 while any shard has more events than this waiting. */
  static final long MAX_PENDING_EVENTS_PER_SHARD = 2_000_000;

  final PulseConfig config;
  final Clock clock;
  final MeterRegistry registry;
  final int shards;
  final StreamCatalog catalog;
  /**
   * What each tenant holds, with its caps ({@code limits.perTenant.*}): a thread-safe engine part
   * shared like the catalog (which takes streams and series in it).
   */
  final io.pulse.core.TenantQuota quota;
  final ViewRegistry views;
  final Quarantine quarantine;
  final Ingestor ingestor;
  /** Distinguishes this server run in SSE event ids, so a resume across a restart resets cleanly. */
  final String bootId;
  /** Set by {@link Pulse} when shutdown starts: ingest refuses new events so that the closing windows are final. */
  final Published<Boolean> draining = new Published<>(false);
  /** Events each shard has aggregated; {@code processed[s]} is added to by shard {@code s} only. */
  final Count[] processed;
  /** Every sender of events to the shards (HTTP instances, the demo), each owned by its sender. */
  private final List<Sender> senders = new CopyOnWriteArrayList<>();

  /** PostgreSQL history; all null when storage is off. */
  final Database db;
  final RollupStore rollups;
  final CatalogStore catalogStore;
  final RollupCodec codec;
  /** The stream catalogue as stored (earlier runs included); published by the store verticle only. */
  final StoredStreams storedStreams = new StoredStreams();
  /**
   * The storage writer's status, published by the store verticle only: rows waiting (for the
   * stop's log and readiness), whether the write queue is full (ingest answers 503 so nothing is
   * lost) and what is wrong with the database.
   */
  final Published<StoreWriter.Status> store = new Published<>(StoreWriter.Status.IDLE);
  /** What is wrong, by component, for readiness (storage, aggregation, ...). */
  final io.pulse.core.Health health = new io.pulse.core.Health();
  /** Failing series windows and stalled shards: counted, logged, told to {@link #health}. */
  final io.pulse.agg.AggregationGuard aggregationGuard;
  /** Cluster mode: the link to the other instances through Kafka; null on a single node. Set once at start. */
  volatile ClusterLink cluster;

  /**
   * Who each HTTP request is from: the JWT authenticator with {@code auth.enabled}, else everyone is
   * {@link io.pulse.core.Caller#ANONYMOUS}. Set by {@link Pulse} before the HTTP instances start;
   * tests install their own resolver in-process ({@link Pulse#callers}), never configuration.
   */
  volatile io.pulse.auth.Authenticator auth = io.pulse.auth.Authenticator.of(io.pulse.core.CallerResolver.ANONYMOUS);
  /**
   * Which token ids are revoked, asked on every request with a token (answered from memory):
   * {@link io.pulse.auth.Revocations#NONE} until the {@link TokensVerticle} has loaded
   * {@link #revocationList} and set it (tests may install their own: {@link Pulse#revocations}).
   */
  volatile io.pulse.auth.Revocations revocations = io.pulse.auth.Revocations.NONE;
  /** Signs tokens with the server's key (display tokens); null when Pulse holds no private key. Set by {@link Pulse}. */
  volatile io.pulse.auth.TokenSigner signer;

  /**
   * The certificate the HTTP instances start with (null: TLS off): set by {@link Pulse} before they
   * are deployed, read by them as they start; later changes go to the running servers directly.
   */
  volatile io.pulse.http.TlsMaterial tls;
  /** TLS connection and reload meters; null when TLS is off. */
  final TlsServer.Meters tlsMeters;

  /**
   * The revoked token ids, in memory: a thread-safe engine part shared like the catalog. The tokens
   * API adds to it; the {@link TokensVerticle} loads it from storage and follows what other processes add.
   */
  final io.pulse.auth.RevocationList revocationList;
  /** Revocations and displays in PostgreSQL; null when storage is off. */
  final io.pulse.store.TokenStore tokens;
  /** What each display token may read (its dashboard's streams), cached briefly; shared by the HTTP instances. */
  final io.pulse.dash.DisplayScopes displayScopes;

  /** Connection cap, request-body budget and their meters, shared by the HTTP instances. */
  final EdgeLimits edge;

  /** Live subscriptions, one count per live hub, each added to by its hub only. */
  private final List<Count> subscribers = new CopyOnWriteArrayList<>();
  final Counter coalesced;
  final Counter dropped;
  final Counter slowClosed;
  final Timer pushLatency;
  final Timer pushLatencyFinal;

  PulseContext(PulseConfig config, Clock clock, MeterRegistry registry, int shards, Database db) {
    this.config = config;
    this.db = db;
    this.rollups = db == null ? null : new RollupStore(db.pool(), db.queryTimeoutMs());
    this.catalogStore = db == null ? null : new CatalogStore(db.pool());
    this.tokens = db == null ? null : new io.pulse.store.TokenStore(db.pool());
    this.displayScopes = DisplayScoping.scopes(db == null ? null : db.pool(), clock,
        config.storage().queryTimeoutMs());
    this.revocationList = new io.pulse.auth.RevocationList(clock);
    this.codec = new RollupCodec(config.aggregation().sketchRelativeAccuracy(), config.aggregation().sketchMaxBins());
    this.clock = clock;
    this.registry = registry;
    this.shards = shards;
    PulseConfig.Aggregation a = config.aggregation();
    this.quota = config.perTenant().quota();
    for (io.pulse.core.TenantQuota.Resource r : io.pulse.core.TenantQuota.Resource.values()) {
      io.micrometer.core.instrument.FunctionCounter.builder("pulse.tenant.refusals", quota, q -> q.refused(r))
          .tag("resource", r.name().toLowerCase(java.util.Locale.ROOT))
          .description("Refusals of a tenant's cap (limits.perTenant.*), all tenants together: each event of a new "
              + "stream or series past it (a series' events are folded), a live connection, a subscription, a view "
              + "no idle one could make room for, a storage backlog past it")
          .register(registry);
    }
    this.catalog = new StreamCatalog(a.maxStreams(), a.maxSeriesPerStream(), config.holding().maxSeries(), registry,
        new io.pulse.catalog.StreamMeters(registry, config.configuredStreams(), config.holding().maxMeteredStreams()),
        quota);
    this.views = new ViewRegistry(config, quota);
    this.quarantine = new Quarantine(config.quarantine().capacity(), config.quarantine().maxPayloadChars());
    this.ingestor = new Ingestor(config, catalog, views, quarantine, shards, registry);
    this.bootId = Long.toString(clock.millis(), 36);
    this.processed = new Count[shards];
    for (int i = 0; i < shards; i++) {
      processed[i] = new Count();
    }
    Gauge.builder("pulse.live.subscribers", this, PulseContext::subscribers)
        .description("Live subscriptions (WebSocket and SSE)").register(registry);
    Gauge.builder("pulse.quarantine.size", quarantine, q -> Math.min(q.total(), q.capacity()))
        .description("Entries held in the in-memory quarantine").register(registry);
    this.coalesced = Counter.builder("pulse.live.coalesced")
        .description("Running updates replaced by a newer one before a slow subscriber could take them")
        .register(registry);
    this.dropped = Counter.builder("pulse.live.dropped")
        .description("Messages never delivered because their subscriber was closed as too slow").register(registry);
    this.slowClosed = Counter.builder("pulse.live.slow.closed")
        .description("Subscriber connections closed for not keeping up").register(registry);
    this.pushLatency = latency(registry, "running");
    this.pushLatencyFinal = latency(registry, "final");
    // a shard that has not completed a flush for 10 ticks (5 s at least) has stopped closing windows
    this.aggregationGuard = new io.pulse.agg.AggregationGuard(health, shards,
        Math.max(5_000L, 10 * config.live().flushMs()), io.pulse.agg.AggregationGuard.DEFAULT_QUIET_MS, clock.millis());
    this.edge = new EdgeLimits(config.edge(), config.ingest().maxBodyBytes(), registry, config.fairUse(), clock,
        config.tls().enabled());
    this.tlsMeters = config.tls().enabled() ? new TlsServer.Meters(registry) : null;
  }

  private static Timer latency(MeterRegistry registry, String kind) {
    return Timer.builder("pulse.push.latency").tag("kind", kind)
        .description("From the arrival of the newest event in a rollup to its write to a subscriber; running "
            + "updates measure the live path, finals include the window and its allowed lateness")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
  }

  /** A new sender of events to the shards, owned by the caller (one per HTTP instance, one for the demo). */
  Sender sender() {
    Sender s = new Sender(shards);
    senders.add(s);
    return s;
  }

  /** A new count of live subscriptions, owned by the calling live hub. */
  Count subscriberCount() {
    Count c = new Count();
    subscribers.add(c);
    return c;
  }

  /** Live subscriptions now, over every hub. */
  long subscribers() {
    long n = 0;
    for (Count c : subscribers) {
      n += c.get();
    }
    return n;
  }

  /** Events sent to shard {@code shard} and not yet aggregated: ingest's back-pressure signal. */
  long pending(int shard) {
    long done = processed[shard].get(); // first: whatever it counts was sent before, so the difference is >= 0
    long sent = 0;
    for (Sender s : senders) {
      sent += s.sent[shard].get();
    }
    return sent - done;
  }

  /** What is wrong with storage, for messages; null while the database answers. */
  String storageProblem() {
    return store.get().problem();
  }

  boolean storageEnabled() {
    return db != null;
  }

  /** Events sent to any shard and not yet aggregated. */
  long pendingTotal() {
    long n = 0;
    for (int i = 0; i < shards; i++) {
      n += pending(i);
    }
    return n;
  }

  boolean overloaded() {
    for (int i = 0; i < shards; i++) {
      if (pending(i) > MAX_PENDING_EVENTS_PER_SHARD) {
        return true;
      }
    }
    return false;
  }

  /**
   * A value one owner publishes and everyone else reads: replaced whole, never changed in place
   * (so it must be immutable). Only its owner, named where it is declared, calls {@link #set}.
   */
  static final class Published<T> {

    private volatile T value;

    Published(T initial) {
      this.value = initial;
    }

    T get() {
      return value;
    }

    /** Owner only. */
    void set(T v) {
      value = v;
    }
  }

  /** A count one owner adds to (on its own thread) and anyone reads; no read-modify-write is shared. */
  static final class Count {

    private volatile long value;

    long get() {
      return value;
    }

    /** Owner only: the one writer, so this read-then-write cannot lose an update. */
    void add(long n) {
      value = value + n;
    }
  }

  /** One sender's counts of events sent to each shard; used only on its owner's event loop. */
  static final class Sender {

    private final Count[] sent;

    private Sender(int shards) {
      sent = new Count[shards];
      for (int i = 0; i < shards; i++) {
        sent[i] = new Count();
      }
    }

    /** Hands each shard its part of an ingest call, counted as sent first (the shard counts it processed). */
    void dispatch(io.vertx.core.eventbus.EventBus bus, io.pulse.agg.ShardBatch[] batches) {
      for (int s = 0; s < batches.length; s++) {
        if (batches[s].size() > 0) {
          sent[s].add(batches[s].size());
          bus.send(Addresses.shard(s), batches[s]);
        }
      }
    }
  }

  /** The stored stream catalogue, an immutable map replaced whole by the store verticle (its owner). */
  static final class StoredStreams {

    private volatile Map<io.pulse.core.StreamId, CatalogStore.Stream> streams = Map.of();

    CatalogStore.Stream get(io.pulse.core.StreamId name) {
      return streams.get(name);
    }

    boolean containsKey(io.pulse.core.StreamId name) {
      return streams.containsKey(name);
    }

    /** Every stored stream, as last published. */
    Map<io.pulse.core.StreamId, CatalogStore.Stream> snapshot() {
      return streams;
    }

    /** Owner only (the store verticle). */
    void set(Map<io.pulse.core.StreamId, CatalogStore.Stream> s) {
      streams = Map.copyOf(s);
    }
  }
}
