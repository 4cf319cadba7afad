package io.pulse.verticles;

import io.pulse.agg.ShardOutput;
import io.pulse.cluster.EventBatchCodec;
import io.pulse.cluster.OutputCodec;
import io.pulse.cluster.Partitioning;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Event;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one instance of a cluster shares with the others (cluster mode, {@code kafka.bootstrap}):
 * the producer every verticle writes to the topics with (idempotent, {@code acks=all}), which
 * partitions of the events topic this instance owns now, and the codecs of both topics.
 * Thread-safe: the owned set is replaced whole by the group consumer.
 */
final class ClusterLink {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterLink.class);

  /** Header of the output topic's records: the instance that wrote it (its own are not read back). */
  static final String FROM = "pulse-from";
  /** Header of a tick record on the events topic: it only moves its partition's time on. */
  static final String TICK = "pulse-tick";

  final PulseConfig.Kafka config;
  final Partitioning partitioning;
  final String instance;
  final OutputCodec output;
  private final KafkaProducer<byte[], byte[]> producer;
  private final Vertx vertx;
  private volatile Set<Integer> owned = Set.of();

  private ClusterLink(Vertx vertx, PulseConfig.Kafka config, String instance, OutputCodec output,
      KafkaProducer<byte[], byte[]> producer) {
    this.vertx = vertx;
    this.config = config;
    this.partitioning = new Partitioning(config.partitions());
    this.instance = instance;
    this.output = output;
    this.producer = producer;
  }

  /** Client properties every Kafka client of Pulse starts from: the bootstrap and what {@code kafka.client} adds. */
  static Map<String, Object> clientProps(PulseConfig.Kafka k) {
    Map<String, Object> p = new HashMap<>(k.client());
    p.put("bootstrap.servers", k.bootstrap());
    return p;
  }

  /**
   * Makes sure both topics exist (the events topic with {@code kafka.partitions} partitions; a
   * partition count found different is used as it is, and said), then opens the producer.
   * Blocking calls on a worker thread.
   */
  static Future<ClusterLink> open(Vertx vertx, PulseConfig config, String instance, OutputCodec output) {
    PulseConfig.Kafka k = config.kafka();
    return vertx.executeBlocking(() -> {
      int partitions = ensureTopics(k);
      Map<String, Object> props = clientProps(k);
      props.put("enable.idempotence", "true");
      props.put("acks", "all");
      // a body's records for one partition are a few kB each: larger batches, a few ms to fill them
      props.putIfAbsent("linger.ms", "5");
      props.putIfAbsent("batch.size", "262144");
      props.putIfAbsent("compression.type", "lz4");
      props.put("client.id", "pulse-" + instance);
      // Kafka's own producer: send() only appends to its batches and never blocks while there is buffer
      // room; its acknowledgement callback runs on the producer's I/O thread and is handed back to the
      // caller's context (vertx-kafka-client's wrapper would hand every send to a worker context first)
      KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(),
          new ByteArraySerializer());
      PulseConfig.Kafka actual = partitions == k.partitions() ? k
          : new PulseConfig.Kafka(k.bootstrap(), k.eventsTopic(), k.outputTopic(), k.group(), partitions,
              k.sourceTopics(), k.sourceTenant(), k.client());
      return new ClusterLink(vertx, actual, instance, output, producer);
    });
  }

  private static int ensureTopics(PulseConfig.Kafka k) throws Exception {
    Map<String, Object> props = clientProps(k);
    props.put("request.timeout.ms", "15000");
    props.put("default.api.timeout.ms", "30000");
    try (Admin admin = Admin.create(props)) {
      List<NewTopic> wanted = List.of(new NewTopic(k.eventsTopic(), k.partitions(), (short) -1),
          new NewTopic(k.outputTopic(), 1, (short) -1));
      for (NewTopic t : wanted) {
        try {
          admin.createTopics(List.of(t)).all().get();
          LOG.info("kafka: created topic {} ({} partitions)", t.name(), t.numPartitions());
        } catch (java.util.concurrent.ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
      int n = admin.describeTopics(List.of(k.eventsTopic())).allTopicNames().get().get(k.eventsTopic())
          .partitions().size();
      if (n != k.partitions()) {
        LOG.warn("kafka: topic {} has {} partitions, not kafka.partitions={}: using {} (every instance must agree)",
            k.eventsTopic(), n, k.partitions(), n);
      }
      return n;
    }
  }

  /**
   * Records behind the end of {@code partitions}, summed per topic, as far as the consumer knows
   * from its last fetch (no request to the broker). On the consumer's own thread.
   */
  static Map<String, Long> lag(org.apache.kafka.clients.consumer.Consumer<?, ?> consumer,
      java.util.Collection<org.apache.kafka.common.TopicPartition> partitions) {
    Map<String, Long> sums = new HashMap<>();
    for (org.apache.kafka.common.TopicPartition tp : partitions) {
      sums.merge(tp.topic(), consumer.currentLag(tp).orElse(0L), Long::sum);
    }
    return sums;
  }

  /** Whether this instance raises the alerts of a stream's totals and group-bys (it owns the stream's home). */
  boolean ownsHome(StreamId stream) {
    return owned.contains(partitioning.home(stream));
  }

  /** Whether a stream's home partition is among these. */
  boolean homeIn(StreamId stream, Set<Integer> partitions) {
    return partitions.contains(partitioning.home(stream));
  }

  /** The partitions named in a handover or takeover message ({"partitions":[...]}). */
  static Set<Integer> partitions(JsonObject m) {
    Set<Integer> out = new java.util.HashSet<>();
    m.getJsonArray("partitions").forEach(p -> out.add(((Number) p).intValue()));
    return out;
  }

  static JsonObject partitionsMessage(java.util.Collection<Integer> partitions) {
    return new JsonObject().put("partitions", new io.vertx.core.json.JsonArray(List.copyOf(partitions)));
  }

  void owned(Set<Integer> partitions) {
    owned = Set.copyOf(partitions);
  }

  /**
   * Produces validated events to the events topic: one record per partition they fall in, stamped
   * with {@code now} (the partition's time moves with it). Completes once the broker has every record
   * ({@code acks=all}); fails if any is refused.
   */
  Future<Void> produce(List<Event> events, long now) {
    Map<Integer, List<Event>> byPartition = new HashMap<>();
    for (Event e : events) {
      byPartition.computeIfAbsent(partitioning.of(e.stream(), e.dims()), p -> new ArrayList<>()).add(e);
    }
    List<Future<Void>> sent = new ArrayList<>(byPartition.size());
    byPartition.forEach((p, es) -> sent.add(send(new ProducerRecord<>(config.eventsTopic(), p, now, null,
        EventBatchCodec.encode(es)))));
    return Future.all(sent).mapEmpty();
  }

  /** One record; completes on the caller's context once the broker has it (acks=all). */
  private Future<Void> send(ProducerRecord<byte[], byte[]> r) {
    io.vertx.core.Context caller = vertx.getOrCreateContext();
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    try {
      producer.send(r, (md, e) -> caller.runOnContext(x -> {
        if (e != null) {
          done.fail(e);
        } else {
          done.complete();
        }
      }));
    } catch (RuntimeException e) { // refused at once (too large, closed, not serializable)
      done.fail(e);
    }
    return done.future();
  }

  /** A tick on an events partition: its time moves on to {@code now} though no event came. */
  Future<Void> tick(int partition, long now) {
    ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(config.eventsTopic(), partition, now, null, new byte[0]);
    r.headers().add(TICK, instance.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return send(r);
  }

  /** Output records are kept under this size (Kafka refuses records above 1 MB by default). */
  static final int MAX_OUTPUT_RECORD = 512 * 1024;

  /**
   * A partition's flush, for every other instance's subscribers: in as many records as it takes to keep
   * each under {@link #MAX_OUTPUT_RECORD}. Only the last carries the watermark, so no instance closes a
   * window before it has every share of it.
   */
  Future<Void> export(ShardOutput o) {
    List<Future<Void>> sent = new ArrayList<>(1);
    split(o, sent);
    return Future.all(sent).mapEmpty();
  }

  private void split(ShardOutput o, List<Future<Void>> sent) {
    byte[] encoded = output.encodeFlush(o);
    int items = o.rollups().size() + o.partials().size();
    if (encoded.length <= MAX_OUTPUT_RECORD || items < 2) {
      sent.add(sendOutput(encoded));
      return;
    }
    List<io.pulse.agg.Rollup> rs = o.rollups();
    List<io.pulse.agg.Partial> ps = o.partials();
    int half = items / 2;
    ShardOutput first;
    ShardOutput rest;
    if (half <= rs.size()) {
      first = new ShardOutput(o.shard(), rs.subList(0, half), List.of(), Long.MIN_VALUE);
      rest = new ShardOutput(o.shard(), rs.subList(half, rs.size()), ps, o.closedBefore());
    } else {
      int p = half - rs.size();
      first = new ShardOutput(o.shard(), rs, ps.subList(0, p), Long.MIN_VALUE);
      rest = new ShardOutput(o.shard(), List.of(), ps.subList(p, ps.size()), o.closedBefore());
    }
    split(first, sent);
    split(rest, sent);
  }

  /** An alert transition (or any JSON message of the output topic), for every other instance. */
  Future<Void> export(JsonObject message) {
    return sendOutput(OutputCodec.encodeJson(message));
  }

  private Future<Void> sendOutput(byte[] value) {
    ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(config.outputTopic(), 0, null, null, value);
    r.headers().add(FROM, instance.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return send(r);
  }

  /** Sends what is buffered and closes the producer (blocking: on a worker thread). */
  Future<Void> close() {
    return vertx.executeBlocking(() -> {
      producer.close(java.time.Duration.ofSeconds(5));
      return null;
    });
  }
}
