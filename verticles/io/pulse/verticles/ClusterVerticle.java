package io.pulse.verticles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.pulse.agg.AggregationGuard;
import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ShardOutput;
import io.pulse.cluster.EventBatchCodec;
import io.pulse.cluster.OutputCodec;
import io.pulse.cluster.PartitionAggregator;
import io.pulse.event.Event;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One instance's part of a cluster (cluster mode): aggregates the events-topic partitions the
 * consumer group gives it, and reads the output topic for what the other instances aggregate.
 *
 * <p>Two threads of its own hold the Kafka consumers (a consumer is single-threaded, and its
 * rebalance callbacks must run before a partition moves); everything else runs on this verticle's
 * event loop. The group consumer hands each partition's records here in order, an assignment before
 * its first record and a revocation after its last. Every {@code live.flushMs} each owned partition
 * is flushed at its own time ({@link PartitionAggregator}); its output goes to the combiner, which
 * scores it, sends it to the output topic and hands its finals to storage. About once a second a
 * barrier through the combiner and the store waits until everything flushed so far is stored, then
 * the offsets those flushes made safe are committed. A crash or a rebalance replays from there.
 */
public final class ClusterVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterVerticle.class);
  /** How often offsets are committed (after a storage barrier). */
  static final long COMMIT_MS = 1000;
  /** A partition without a record for this long gets a tick, so its windows close on time. */
  static final long TICK_MS = 250;
  /** How long a revoked partition waits for its alerts and detectors to be stored for the next owner. */
  static final long HANDOVER_WAIT_MS = 10_000;
  /** How long a new partition's records wait for its alerts and detectors to be read. */
  static final long TAKEOVER_WAIT_MS = 30_000;
  /** Records handed to the event loop and not yet aggregated past which the consumer pauses. */
  private static final long MAX_QUEUED_RECORDS = 20_000;

  private final PulseContext ctx;
  private final ClusterLink link;
  private final Map<Integer, Owned> partitions = new HashMap<>();
  private final ConcurrentLinkedQueue<Map<TopicPartition, OffsetAndMetadata>> commits = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong queued = new AtomicLong();
  private final AtomicLong lag = new AtomicLong();
  private final AtomicLong outputLag = new AtomicLong();
  private Thread groupThread;
  private Thread outputThread;
  private Thread sourceThread;
  private Context context;
  private long flushTimer = -1;
  private long commitTimer = -1;
  private boolean barrierInFlight;
  private Counter records;
  private Counter malformed;
  private Counter remoteDropped;
  /** Event scoring of the streams named in scoring.streams, for every partition owned here; null when none is. */
  private io.pulse.score.ShardScoring scoring;
  private long holdsTimer = -1;
  /** On-demand views held here for subscribers of other instances: spec -> the hold. */
  private final Map<String, RemoteHold> remoteHolds = new HashMap<>();
  /** The on-demand views this instance's subscribers hold, as last sent to the others. */
  private Set<String> holdsSent = Set.of();
  private long holdsSentAt;

  /** How often this instance looks at the views its subscribers hold (sent on change, and every 2 s). */
  static final long HOLDS_MS = 250;
  /** A view held for another instance is let go when that instance has not named it for this long. */
  static final long HOLD_TTL_MS = 6_000;

  private static final class RemoteHold {
    final io.pulse.agg.View view;
    long until;

    RemoteHold(io.pulse.agg.View view, long until) {
      this.view = view;
      this.until = until;
    }
  }

  /** A partition this instance owns now. */
  private static final class Owned {
    final PartitionAggregator agg;
    /** The commit the latest flush made safe (once stored), or null. */
    PartitionAggregator.Commit flushed;
    long lastRecordWall;
    /**
     * False until the alert verticle and the combiner have taken the partition up (its series'
     * detectors and its streams' alerts, as the last owner left them); its records wait meanwhile.
     */
    boolean ready;
    List<List<ConsumerRecord<byte[], byte[]>>> waiting = new ArrayList<>();

    Owned(PartitionAggregator agg, long now) {
      this.agg = agg;
      this.lastRecordWall = now;
    }
  }

  ClusterVerticle(PulseContext ctx) {
    this.ctx = ctx;
    this.link = ctx.cluster;
  }

  @Override
  public Future<?> start() {
    context = vertx.getOrCreateContext();
    records = Counter.builder("pulse.kafka.records").tag("topic", link.config.eventsTopic())
        .description("Records of the events topic aggregated by this instance").register(ctx.registry);
    malformed = Counter.builder("pulse.kafka.quarantined").tag("topic", link.config.eventsTopic())
        .description("Records that could not be read, quarantined with their topic, partition and offset")
        .register(ctx.registry);
    remoteDropped = Counter.builder("pulse.kafka.output.dropped")
        .description("Shares of views read from the output topic that no subscriber of this instance holds")
        .register(ctx.registry);
    Gauge.builder("pulse.kafka.consumer.lag", lag, AtomicLong::get).tag("topic", link.config.eventsTopic())
        .description("Records behind the end of the partitions this instance owns").register(ctx.registry);
    Gauge.builder("pulse.kafka.consumer.lag", outputLag, AtomicLong::get).tag("topic", link.config.outputTopic())
        .description("Records behind the end of the output topic").register(ctx.registry);
    Gauge.builder("pulse.kafka.partitions.owned", partitions, Map::size)
        .description("Events-topic partitions this instance aggregates").register(ctx.registry);
    io.pulse.config.PulseConfig.Scoring sc = ctx.config.scoring();
    if (!sc.streams().isEmpty()) {
      // one scorer for the partitions owned here (all on this loop); models trained by this instance's
      // scoring verticle from their events
      scoring = new io.pulse.score.ShardScoring(sc.streams(), sc.sample(), AggregateVerticle.MAX_OUTLIERS_PER_FLUSH, 0);
      vertx.eventBus().<io.pulse.score.EventModel>consumer(Addresses.SCORE_MODEL, m -> scoring.install(m.body()));
      vertx.eventBus().<io.vertx.core.json.JsonObject>consumer(Addresses.scoreSample(0), m -> m.reply(scoring.sample(
          io.pulse.core.StreamId.of(m.body().getString("tenant"), m.body().getString("stream")))));
    }
    // a rule saved on any instance is evaluated by whichever owns its series: every instance learns of it
    vertx.eventBus().<io.vertx.core.json.JsonObject>consumer(Addresses.RULES_CHANGED, m -> {
      if (!m.body().getBoolean("remote", false)) {
        link.export(new io.vertx.core.json.JsonObject().put("kind", "rule").put("change", m.body()))
            .onFailure(e -> LOG.warn("kafka: a rule change did not reach the output topic: {}", e.toString()));
      }
    });
    Promise<Void> outputReady = Promise.promise();
    outputThread = new Thread(() -> readOutput(outputReady), "pulse-kafka-output");
    outputThread.setDaemon(true);
    outputThread.start();
    // the output thread completes outputReady: the timers must still be set on this verticle's context
    // (vertx.setPeriodic from a foreign thread picks another event loop, and flush() then races take())
    return outputReady.future().compose(v -> {
      Promise<Void> onContext = Promise.promise();
      context.runOnContext(x -> {
        groupThread = new Thread(this::consumeGroup, "pulse-kafka-group");
        groupThread.setDaemon(true);
        groupThread.start();
        if (!link.config.sourceTopics().isEmpty()) {
          sourceThread = new Thread(new SourceReader(ctx, running), "pulse-kafka-sources");
          sourceThread.setDaemon(true);
          sourceThread.start();
          LOG.info("kafka: reading source topics {} for tenant {}", link.config.sourceTopics(),
              link.config.sourceTenant());
        }
        flushTimer = vertx.setPeriodic(ctx.config.live().flushMs(), t -> {
          flush();
          reportOutliers();
        });
        commitTimer = vertx.setPeriodic(COMMIT_MS, t -> commit());
        holdsTimer = vertx.setPeriodic(HOLDS_MS, t -> holds());
        onContext.complete();
      });
      return onContext.future();
    });
  }

  // ---- the group consumer's thread ----

  private Map<String, Object> consumerProps(String group) {
    Map<String, Object> p = ClusterLink.clientProps(link.config);
    if (group != null) {
      p.put("group.id", group);
      // a rebalance moves only the partitions that change owner; the others are not revoked (and handed over)
      p.put("partition.assignment.strategy",
          org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class.getName());
    }
    p.put("enable.auto.commit", "false");
    p.put("auto.offset.reset", "earliest");
    p.put("isolation.level", "read_committed");
    p.put("max.poll.records", "2000");
    p.put("client.id", "pulse-" + link.instance + (group != null ? "-group" : "-output"));
    return p;
  }

  private void consumeGroup() {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps(link.config.group()),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(link.config.eventsTopic()), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> tps) {
          left(tps, true);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> tps) {
          left(tps, false); // another instance has them already: nothing to wait for
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> tps) {
          if (tps.isEmpty()) {
            return;
          }
          Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new HashSet<>(tps));
          Map<Integer, PartitionAggregator.Commit> starts = new HashMap<>();
          for (TopicPartition tp : tps) {
            OffsetAndMetadata om = committed.get(tp);
            long offset = om != null ? om.offset() : consumer.position(tp);
            starts.put(tp.partition(), PartitionAggregator.Commit.parse(offset, om == null ? null : om.metadata()));
          }
          context.runOnContext(x -> assigned(starts));
          updateOwned(consumer);
        }

        private void left(Collection<TopicPartition> tps, boolean wait) {
          if (tps.isEmpty()) {
            return;
          }
          updateOwned(consumer, tps);
          java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
          context.runOnContext(x -> revoked(tps, done));
          if (wait) { // the next owner starts from what this one stored: the rebalance waits for it, bounded
            try {
              done.get(HANDOVER_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
              LOG.warn("kafka: handing over partitions {} took more than {} ms; their next owner may miss the last "
                  + "alert and detector changes", tps, HANDOVER_WAIT_MS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        }
      });
      boolean paused = false;
      long lagAt = 0;
      while (running.get()) {
        Map<TopicPartition, OffsetAndMetadata> c;
        while ((c = commits.poll()) != null) {
          Map<TopicPartition, OffsetAndMetadata> mine = new HashMap<>();
          Set<TopicPartition> assigned = consumer.assignment();
          c.forEach((tp, om) -> {
            if (assigned.contains(tp)) {
              mine.put(tp, om);
            }
          });
          if (!mine.isEmpty()) {
            consumer.commitAsync(mine, (offsets, e) -> {
              if (e != null) {
                LOG.debug("kafka: commit not taken ({}); the next one covers it", e.toString());
              }
            });
          }
        }
        if (!paused && queued.get() > MAX_QUEUED_RECORDS) {
          consumer.pause(consumer.assignment());
          paused = true;
        } else if (paused && queued.get() < MAX_QUEUED_RECORDS / 2) {
          consumer.resume(consumer.paused());
          paused = false;
        }
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(100));
        for (TopicPartition tp : polled.partitions()) {
          List<ConsumerRecord<byte[], byte[]>> rs = polled.records(tp);
          queued.addAndGet(rs.size());
          context.runOnContext(x -> take(tp, rs));
        }
        long now = System.currentTimeMillis();
        if (now - lagAt > 1000) {
          lagAt = now;
          lag.set(ClusterLink.lag(consumer, consumer.assignment()).values().stream().mapToLong(Long::longValue).sum());
        }
      }
      // a stop: what is stored is committed by the last barrier; the rest is replayed by the next owner
      Map<TopicPartition, OffsetAndMetadata> c;
      while ((c = commits.poll()) != null) {
        Map<TopicPartition, OffsetAndMetadata> last = c;
        last.keySet().retainAll(consumer.assignment());
        if (!last.isEmpty()) {
          try {
            consumer.commitSync(last, Duration.ofSeconds(5));
          } catch (RuntimeException e) {
            LOG.warn("kafka: last commit not taken ({}); the next owner replays a little more", e.toString());
          }
        }
      }
    } catch (org.apache.kafka.common.errors.InterruptException | org.apache.kafka.common.errors.WakeupException e) {
      // stopping
    } catch (RuntimeException e) {
      if (running.get()) {
        LOG.error("kafka: the group consumer stopped; this instance no longer aggregates", e);
        ctx.health.down("kafka", "the group consumer stopped: " + e, ctx.clock.millis());
      }
    }
  }

  private void updateOwned(KafkaConsumer<byte[], byte[]> consumer) {
    updateOwned(consumer, List.of());
  }

  private void updateOwned(KafkaConsumer<byte[], byte[]> consumer, Collection<TopicPartition> leaving) {
    Set<Integer> owned = new HashSet<>();
    for (TopicPartition tp : consumer.assignment()) {
      if (!leaving.contains(tp)) {
        owned.add(tp.partition());
      }
    }
    link.owned(owned);
  }

  // ---- this verticle's event loop ----

  private void assigned(Map<Integer, PartitionAggregator.Commit> starts) {
    List<Owned> taken = new ArrayList<>();
    starts.forEach((partition, start) -> {
      ShardAggregator windows = new ShardAggregator(ctx.config.aggregation().allowedLatenessMs(),
          ctx.config.aggregation().sketchRelativeAccuracy(), ctx.config.aggregation().sketchMaxBins(), ctx.views::views,
          partition, AggregationGuard.standalone(link.config.partitions()));
      windows.scoring(scoring);
      Owned o = new Owned(new PartitionAggregator(partition, start, ctx.ingestor, windows,
          ctx.config.aggregation().allowedLatenessMs()), System.currentTimeMillis());
      partitions.put(partition, o);
      taken.add(o);
      LOG.info("kafka: partition {} assigned; from offset {}", partition, start.offset());
    });
    // the alerts of streams homed here and the detectors of series here, as their last owner left them,
    // before any record of these partitions is aggregated
    JsonObject which = ClusterLink.partitionsMessage(starts.keySet());
    DeliveryOptions wait = new DeliveryOptions().setSendTimeout(TAKEOVER_WAIT_MS);
    Future.join(vertx.eventBus().request(Addresses.CLUSTER_TAKEOVER_ALERTS, which, wait),
        vertx.eventBus().request(Addresses.CLUSTER_TAKEOVER_DETECTORS, which, wait)).onComplete(ar -> {
          if (ar.failed()) {
            LOG.warn("kafka: taking up partitions {} did not complete ({}); their records go on without it",
                starts.keySet(), ar.cause().toString());
          }
          for (Owned o : taken) {
            if (partitions.get(o.agg.partition()) != o) {
              continue; // revoked meanwhile
            }
            o.ready = true;
            List<List<ConsumerRecord<byte[], byte[]>>> held = o.waiting;
            o.waiting = null;
            held.forEach(rs -> take(o, rs));
          }
        });
  }

  /**
   * Partitions leave: their aggregators go (the next owner replays from the last commit), then the
   * alert verticle and the combiner hand over what belongs to them; {@code done} once both answered.
   * Sent from here, after every flush of those partitions, so the combiner sees no flush of theirs after.
   */
  private void revoked(Collection<TopicPartition> tps, java.util.concurrent.CompletableFuture<Void> done) {
    List<Integer> gone = new ArrayList<>();
    for (TopicPartition tp : tps) {
      Owned o = partitions.remove(tp.partition());
      if (o != null) {
        gone.add(tp.partition());
        if (o.waiting != null) {
          o.waiting.forEach(rs -> queued.addAndGet(-rs.size()));
        }
        LOG.info("kafka: partition {} revoked; its next owner replays it from the last commit", tp.partition());
      }
    }
    if (gone.isEmpty()) {
      done.complete(null);
      return;
    }
    JsonObject which = ClusterLink.partitionsMessage(gone);
    DeliveryOptions wait = new DeliveryOptions().setSendTimeout(HANDOVER_WAIT_MS);
    Future.join(vertx.eventBus().request(Addresses.CLUSTER_HANDOVER_ALERTS, which, wait),
        vertx.eventBus().request(Addresses.CLUSTER_HANDOVER_DETECTORS, which, wait))
        .onComplete(ar -> done.complete(null));
  }

  private void take(TopicPartition tp, List<ConsumerRecord<byte[], byte[]>> rs) {
    Owned o = partitions.get(tp.partition());
    if (o == null) {
      queued.addAndGet(-rs.size());
      return; // revoked meanwhile: its next owner reads these again
    }
    if (!o.ready) {
      o.waiting.add(rs); // still counted as queued: the consumer pauses when too many wait
      return;
    }
    take(o, rs);
  }

  private void take(Owned o, List<ConsumerRecord<byte[], byte[]>> rs) {
    queued.addAndGet(-rs.size());
    o.lastRecordWall = System.currentTimeMillis();
    for (ConsumerRecord<byte[], byte[]> r : rs) {
      if (r.headers().lastHeader(ClusterLink.TICK) != null) {
        o.agg.tick(r.offset(), r.timestamp());
        continue;
      }
      List<Event> events;
      try {
        events = EventBatchCodec.decode(r.value() == null ? new byte[0] : r.value());
      } catch (IllegalArgumentException e) {
        malformed.increment();
        ctx.quarantine.add(ctx.clock.millis(), "_kafka", "_unknown", "malformed", "record " + where(r)
            + " is not an events record of this version: " + e.getMessage(), preview(r.value()));
        o.agg.tick(r.offset(), r.timestamp());
        continue;
      }
      try {
        o.agg.add(r.offset(), r.timestamp(), events, "kafka");
      } catch (RuntimeException e) {
        malformed.increment();
        LOG.error("kafka: record {} could not be aggregated; left out", where(r), e);
        o.agg.tick(r.offset(), r.timestamp());
      }
      records.increment();
    }
  }

  static String where(ConsumerRecord<?, ?> r) {
    return r.topic() + "/" + r.partition() + "@" + r.offset();
  }

  static String preview(byte[] value) {
    if (value == null) {
      return "";
    }
    return new String(value, 0, Math.min(value.length, 2048), StandardCharsets.UTF_8);
  }

  /** Flushes every owned partition at its own time; ticks the idle ones. */
  private void flush() {
    long wall = System.currentTimeMillis();
    for (Owned o : partitions.values()) {
      if (!o.ready) {
        continue; // being taken up: nothing aggregated yet
      }
      PartitionAggregator.Flushed f;
      try {
        f = o.agg.flush();
      } catch (RuntimeException e) {
        LOG.error("kafka: flushing partition {} failed", o.agg.partition(), e);
        continue;
      }
      // every flush goes out, empty or not: its watermark is what lets the combiners close windows
      vertx.eventBus().send(Addresses.SHARD_OUTPUT, f.output());
      o.flushed = f.commit();
      if (wall - o.lastRecordWall >= TICK_MS) {
        o.lastRecordWall = wall; // one tick per TICK_MS while idle
        link.tick(o.agg.partition(), wall)
            .onFailure(e -> LOG.debug("kafka: tick of partition {} not sent: {}", o.agg.partition(), e.toString()));
      }
    }
  }

  /** Outliers found since the last flush, to the scoring verticle (as the shards send theirs). */
  private void reportOutliers() {
    if (scoring != null) {
      List<io.pulse.score.Outlier> found = scoring.drainOutliers();
      if (!found.isEmpty()) {
        vertx.eventBus().send(Addresses.SCORE_OUTLIERS, new io.pulse.score.OutlierBatch(found));
      }
    }
  }

  /** Once everything flushed so far is stored, commits the offsets those flushes made safe. */
  private void commit() {
    if (barrierInFlight || partitions.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetAndMetadata> safe = new HashMap<>();
    partitions.forEach((p, o) -> {
      if (o.flushed != null) {
        safe.put(new TopicPartition(link.config.eventsTopic(), p),
            new OffsetAndMetadata(o.flushed.offset(), o.flushed.metadata()));
      }
    });
    if (safe.isEmpty()) {
      return;
    }
    barrierInFlight = true;
    vertx.eventBus().request(Addresses.CLUSTER_BARRIER, "barrier",
        new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(30_000))
        .onComplete(ar -> barrierInFlight = false)
        .onSuccess(m -> {
          if (Integer.valueOf(0).equals(m.body())) {
            commits.add(safe);
          }
        })
        .onFailure(e -> LOG.warn("kafka: storage did not confirm within 30 s ({}); offsets not committed yet",
            e.toString()));
  }

  // ---- the output topic's thread ----

  private void readOutput(Promise<Void> ready) {
    OutputCodec codec = link.output;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps(null), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> tps = new ArrayList<>();
      // a topic made a moment ago (by this instance or another) may not be in the metadata yet
      long until = System.currentTimeMillis() + 60_000;
      while (tps.isEmpty() && running.get()) {
        consumer.partitionsFor(link.config.outputTopic()).forEach(pi -> tps.add(new TopicPartition(pi.topic(),
            pi.partition())));
        if (tps.isEmpty()) {
          if (System.currentTimeMillis() > until) {
            throw new IllegalStateException("topic " + link.config.outputTopic() + " has no partitions after 60 s");
          }
          Thread.sleep(200);
        }
      }
      consumer.assign(tps);
      consumer.seekToEnd(tps); // what the others flush from now on; history is in the database
      tps.forEach(consumer::position);
      ready.complete();
      long lagAt = 0;
      while (running.get()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          Header from = r.headers().lastHeader(ClusterLink.FROM);
          if (from != null && link.instance.equals(new String(from.value(), StandardCharsets.UTF_8))) {
            continue; // this instance's own
          }
          byte[] v = r.value();
          if (v == null || v.length == 0) {
            continue;
          }
          try {
            if (v[0] == OutputCodec.FLUSH) {
              OutputCodec.Decoded d = codec.decodeFlush(v, ctx.views::bySpec);
              if (d.droppedViews() > 0) {
                remoteDropped.increment(d.droppedViews());
              }
              vertx.eventBus().send(Addresses.CLUSTER_OUTPUT, d.output());
            } else if (v[0] == OutputCodec.JSON) {
              io.vertx.core.json.JsonObject json = OutputCodec.decodeJson(v);
              if ("alert".equals(json.getString("kind"))) {
                vertx.eventBus().publish(Addresses.REMOTE_ALERTS, json.getJsonObject("transition"));
              } else if ("alert-op".equals(json.getString("kind"))) {
                vertx.eventBus().send(Addresses.CLUSTER_ALERT_OPS, json.getJsonObject("request"));
              } else if ("silences".equals(json.getString("kind"))) {
                vertx.eventBus().send(Addresses.CLUSTER_SILENCES, "changed");
              } else if ("views".equals(json.getString("kind"))) {
                io.vertx.core.json.JsonArray views = json.getJsonArray("views");
                context.runOnContext(x -> remoteViews(views));
              } else if ("rule".equals(json.getString("kind"))) {
                vertx.eventBus().publish(Addresses.RULES_CHANGED, json.getJsonObject("change").put("remote", true));
              }
            }
          } catch (RuntimeException e) {
            LOG.warn("kafka: output record {} left out: {}", where(r), e.toString());
          }
        }
        long now = System.currentTimeMillis();
        if (now - lagAt > 1000) {
          lagAt = now;
          outputLag.set(ClusterLink.lag(consumer, tps).values().stream().mapToLong(Long::longValue).sum());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ready.tryFail(e);
    } catch (RuntimeException e) {
      if (!ready.tryFail(e) && running.get()) {
        LOG.error("kafka: the output topic reader stopped; other instances' series no longer reach this one", e);
        ctx.health.down("kafka", "the output topic reader stopped: " + e, ctx.clock.millis());
      }
    }
  }

  /**
   * Leaves the cluster: one last flush and storage barrier, its offsets committed by the group
   * consumer on its way out, then both consumers stop (the group gives the partitions to others).
   */
  Future<Void> quiesce() {
    Promise<Void> last = Promise.promise();
    context.runOnContext(x -> {
      vertx.cancelTimer(flushTimer);
      vertx.cancelTimer(commitTimer);
      flush();
      lastCommit(System.currentTimeMillis() + 10_000, last);
    });
    return last.future().recover(e -> Future.succeededFuture()).compose(v -> {
      running.set(false);
      return vertx.executeBlocking(() -> {
      if (groupThread != null) {
        groupThread.join(HANDOVER_WAIT_MS + 5_000); // its consumer hands its partitions over as it closes
      }
      if (outputThread != null) {
        outputThread.join(5_000);
      }
      if (sourceThread != null) {
        sourceThread.join(5_000);
      }
      return null;
      });
    });
  }

  /** The commit of a stop: after the barrier in flight, if any, one more; bounded by {@code deadline}. */
  private void lastCommit(long deadline, Promise<Void> done) {
    if (barrierInFlight && System.currentTimeMillis() < deadline) {
      vertx.setTimer(20, t -> lastCommit(deadline, done));
      return;
    }
    commit();
    waitBarrier(deadline, done);
  }

  private void waitBarrier(long deadline, Promise<Void> done) {
    if (barrierInFlight && System.currentTimeMillis() < deadline) {
      vertx.setTimer(20, t -> waitBarrier(deadline, done));
      return;
    }
    done.tryComplete();
  }

  // ---- on-demand views across the cluster ----

  /**
   * A group-by or filter one subscriber asks for exists only where it subscribed; the owners of the
   * stream's partitions must make their shares of it too. Each instance names the on-demand views its
   * subscribers hold on the output topic (when they change, and every 2 s); each instance holds every
   * view another names, as a subscriber would, and lets it go {@link #HOLD_TTL_MS} after the last naming.
   */
  private void holds() {
    long now = System.currentTimeMillis();
    remoteHolds.values().removeIf(h -> {
      if (h.until < now) {
        ctx.views.release(h.view, ctx.clock.millis());
        return true;
      }
      return false;
    });
    Set<String> specs = new java.util.TreeSet<>();
    io.vertx.core.json.JsonArray list = new io.vertx.core.json.JsonArray();
    for (io.pulse.core.StreamId stream : ctx.views.streams()) {
      for (io.pulse.agg.View v : ctx.views.views(stream)) {
        int local = v.subscribers() - (remoteHolds.containsKey(v.spec()) ? 1 : 0);
        if (!v.permanent() && local > 0 && specs.add(v.spec())) {
          io.vertx.core.json.JsonObject f = new io.vertx.core.json.JsonObject();
          v.filter().forEach((k, vals) -> f.put(k, new io.vertx.core.json.JsonArray(new ArrayList<>(vals))));
          list.add(new io.vertx.core.json.JsonObject().put("tenant", stream.tenant()).put("stream", stream.name())
              .put("groupBy", new io.vertx.core.json.JsonArray(v.groupBy())).put("filter", f));
        }
      }
    }
    if (!specs.equals(holdsSent) || (!specs.isEmpty() && now - holdsSentAt >= 2_000)) {
      holdsSent = specs;
      holdsSentAt = now;
      link.export(new io.vertx.core.json.JsonObject().put("kind", "views").put("views", list))
          .onFailure(e -> LOG.debug("kafka: views held not sent: {}", e.toString()));
    }
  }

  /** Another instance names the on-demand views its subscribers hold. */
  private void remoteViews(io.vertx.core.json.JsonArray views) {
    long until = System.currentTimeMillis() + HOLD_TTL_MS;
    for (Object o : views) {
      if (!(o instanceof io.vertx.core.json.JsonObject j)) {
        continue;
      }
      try {
        io.pulse.core.StreamId stream = io.pulse.core.StreamId.of(j.getString("tenant"), j.getString("stream"));
        List<String> groupBy = new ArrayList<>();
        j.getJsonArray("groupBy").forEach(g -> groupBy.add((String) g));
        Map<String, Set<String>> filter = new java.util.TreeMap<>();
        j.getJsonObject("filter").forEach(e -> {
          Set<String> vals = new java.util.TreeSet<>();
          ((io.vertx.core.json.JsonArray) e.getValue()).forEach(x -> vals.add((String) x));
          filter.put(e.getKey(), vals);
        });
        String spec = io.pulse.agg.View.spec(stream, filter, groupBy);
        RemoteHold h = remoteHolds.get(spec);
        if (h != null) {
          h.until = until;
        } else {
          remoteHolds.put(spec, new RemoteHold(ctx.views.acquire(stream, filter, groupBy), until));
        }
      } catch (io.pulse.agg.ViewRegistry.ViewException | RuntimeException e) {
        LOG.warn("kafka: a view another instance's subscribers hold cannot be made here ({}); its figures there "
            + "lack this instance's partitions", e.getMessage());
      }
    }
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(holdsTimer);
    vertx.cancelTimer(flushTimer);
    vertx.cancelTimer(commitTimer);
    running.set(false);
    return Future.succeededFuture();
  }
}
