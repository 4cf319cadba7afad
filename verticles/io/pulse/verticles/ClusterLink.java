package io.pulse.verticles;

import io.pulse.agg.ShardOutput;
import io.pulse.cluster.EventBatchCodec;
import io.pulse.cluster.OutputCodec;
import io.pulse.cluster.Partitioning;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
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
  private volatile Set<Integer> owned = Set.of();

  private ClusterLink(PulseConfig.Kafka config, String instance, OutputCodec output,
      KafkaProducer<byte[], byte[]> producer) {
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
      Map<String, String> props = new HashMap<>();
      clientProps(k).forEach((key, v) -> props.put(key, String.valueOf(v)));
      props.put("enable.idempotence", "true");
      props.put("acks", "all");
      props.put("linger.ms", "2");
      props.put("compression.type", props.getOrDefault("compression.type", "lz4"));
      props.put("client.id", "pulse-" + instance);
      KafkaProducer<byte[], byte[]> producer = KafkaProducer.createShared(vertx, "pulse-" + instance, props,
          new ByteArraySerializer(), new ByteArraySerializer());
      PulseConfig.Kafka actual = partitions == k.partitions() ? k
          : new PulseConfig.Kafka(k.bootstrap(), k.eventsTopic(), k.outputTopic(), k.group(), partitions,
              k.sourceTopics(), k.sourceTenant(), k.client());
      return new ClusterLink(actual, instance, output, producer);
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

  /** Whether this instance owns the events partition. */
  boolean owns(int partition) {
    return owned.contains(partition);
  }

  /** Whether this instance raises the alerts of a series (it owns the series' partition). */
  boolean ownsSeries(StreamId stream, Dims dims) {
    return owned.contains(partitioning.of(stream, dims));
  }

  /** Whether this instance raises the alerts of a stream's totals and group-bys (it owns the stream's home). */
  boolean ownsHome(StreamId stream) {
    return owned.contains(partitioning.home(stream));
  }

  void owned(Set<Integer> partitions) {
    owned = Set.copyOf(partitions);
  }

  Set<Integer> owned() {
    return owned;
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
    List<Future<?>> sent = new ArrayList<>(byPartition.size());
    byPartition.forEach((p, es) -> sent.add(producer.send(KafkaProducerRecord.create(config.eventsTopic(), null,
        EventBatchCodec.encode(es), now, p))));
    return Future.all(sent).mapEmpty();
  }

  /** A tick on an events partition: its time moves on to {@code now} though no event came. */
  Future<Void> tick(int partition, long now) {
    KafkaProducerRecord<byte[], byte[]> r = KafkaProducerRecord.create(config.eventsTopic(), null, new byte[0], now,
        partition);
    r.addHeader(TICK, Buffer.buffer(instance));
    return producer.send(r).mapEmpty();
  }

  /** A partition's flush, for every other instance's subscribers. */
  Future<Void> export(ShardOutput o) {
    return send(output.encodeFlush(o));
  }

  /** An alert transition (or any JSON message of the output topic), for every other instance. */
  Future<Void> export(JsonObject message) {
    return send(OutputCodec.encodeJson(message));
  }

  private Future<Void> send(byte[] value) {
    KafkaProducerRecord<byte[], byte[]> r = KafkaProducerRecord.create(config.outputTopic(), null, value, null, 0);
    r.addHeader(FROM, Buffer.buffer(instance));
    return producer.send(r).mapEmpty();
  }

  /** Sends what is buffered and closes the producer. */
  Future<Void> close() {
    return producer.close();
  }
}
