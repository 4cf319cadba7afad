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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the verticles of one Pulse share: configuration, clock, meters and the thread-safe engine
 * parts (catalog, views, quarantine, ingest routing). Built once by {@link Pulse}; each verticle
 * takes it in its constructor.
 */
public final class PulseContext {

  /** Ingest answers 503 while any shard has more events than this waiting. */
  static final long MAX_PENDING_EVENTS_PER_SHARD = 2_000_000;

  final PulseConfig config;
  final Clock clock;
  final MeterRegistry registry;
  final int shards;
  final StreamCatalog catalog;
  final ViewRegistry views;
  final Quarantine quarantine;
  final Ingestor ingestor;
  /**
   * Finds the caller (and so the tenant) of every request and live connection. Anonymous (the
   * tenant "default") until JWT lands; tests install their own in-process through {@link Pulse#callers}.
   */
  volatile io.pulse.core.CallerResolver callers = io.pulse.core.CallerResolver.ANONYMOUS;
  /** Distinguishes this server run in SSE event ids, so a resume across a restart resets cleanly. */
  final String bootId;
  /** Set when shutdown starts: ingest refuses new events so that the closing windows are final. */
  final AtomicBoolean draining = new AtomicBoolean();
  /** Events sent to each shard and not yet aggregated: ingest's back-pressure signal. */
  final AtomicLongArray pending;

  /** PostgreSQL history; all null when storage is off. */
  final Database db;
  final RollupStore rollups;
  final CatalogStore catalogStore;
  final RollupCodec codec;
  /** The stream catalogue as stored (earlier runs included); the store verticle loads and updates it. */
  final ConcurrentHashMap<io.pulse.core.StreamId, CatalogStore.Stream> storedStreams = new ConcurrentHashMap<>();
  /** Set while the storage write queue is at its capacity: ingest answers 503 so nothing is lost. */
  final AtomicBoolean storeFull = new AtomicBoolean();
  /** Final rollups waiting to be written (the queue's depth), for the stop's log. */
  final AtomicInteger storeDepth = new AtomicInteger();
  /** What is wrong, by component, for readiness (storage, aggregation, ...). */
  final io.pulse.core.Health health = new io.pulse.core.Health();
  /** Failing series windows and stalled shards: counted, logged, told to {@link #health}. */
  final io.pulse.agg.AggregationGuard aggregationGuard;

  /** Connection cap, request-body budget and their meters, shared by the HTTP instances. */
  final EdgeLimits edge;

  final AtomicInteger subscribers = new AtomicInteger();
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
    this.codec = new RollupCodec(config.aggregation().sketchRelativeAccuracy(), config.aggregation().sketchMaxBins());
    this.clock = clock;
    this.registry = registry;
    this.shards = shards;
    PulseConfig.Aggregation a = config.aggregation();
    this.catalog = new StreamCatalog(a.maxStreams(), a.maxSeriesPerStream(), config.holding().maxSeries(), registry);
    this.views = new ViewRegistry(config);
    this.quarantine = new Quarantine(config.quarantine().capacity(), config.quarantine().maxPayloadChars());
    this.ingestor = new Ingestor(config, catalog, views, quarantine, shards, registry);
    this.bootId = Long.toString(clock.millis(), 36);
    this.pending = new AtomicLongArray(shards);
    Gauge.builder("pulse.live.subscribers", subscribers, AtomicInteger::get)
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
    this.edge = new EdgeLimits(config.edge(), config.ingest().maxBodyBytes(), registry);
  }

  private static Timer latency(MeterRegistry registry, String kind) {
    return Timer.builder("pulse.push.latency").tag("kind", kind)
        .description("From the arrival of the newest event in a rollup to its write to a subscriber; running "
            + "updates measure the live path, finals include the window and its allowed lateness")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
  }

  /** Hands each shard its part of an ingest call; the shard takes the count off {@link #pending}. */
  void dispatch(io.vertx.core.eventbus.EventBus bus, io.pulse.agg.ShardBatch[] batches) {
    for (int s = 0; s < batches.length; s++) {
      if (batches[s].size() > 0) {
        pending.addAndGet(s, batches[s].size());
        bus.send(Addresses.shard(s), batches[s]);
      }
    }
  }

  /** What is wrong with storage, for messages; null while the database answers. */
  String storageProblem() {
    io.pulse.core.Health.Problem p = health.get("storage");
    return p == null ? null : p.reason();
  }

  boolean storageEnabled() {
    return db != null;
  }

  boolean overloaded() {
    for (int i = 0; i < shards; i++) {
      if (pending.get(i) > MAX_PENDING_EVENTS_PER_SHARD) {
        return true;
      }
    }
    return false;
  }
}
