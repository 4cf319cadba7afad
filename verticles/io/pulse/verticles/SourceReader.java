package io.pulse.verticles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.pulse.cluster.EventBatchCodec;
import io.pulse.cluster.SourceRecord;
import io.pulse.event.Event;
import io.pulse.ingest.EventParser;
import io.pulse.ingest.ParseResult;
import io.pulse.ingest.Rejection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka as an ingest source ({@code kafka.sourceTopics}): records other systems write, JSON or
 * NDJSON events of tenant {@code kafka.sourceTenant}, checked exactly as HTTP bodies are. Valid
 * events go to the events topic, keyed to their series' partition like HTTP ingest; refused ones go
 * to quarantine with the record's topic, partition and offset, and never hold up the records after
 * them. The events and the source offsets are committed in one Kafka transaction, and the events
 * topic is read {@code read_committed}: a crash between the two neither loses nor repeats an event.
 *
 * <p>One thread of its own (consumer group {@code kafka.group + ".sources"}): parsing and the
 * blocking transaction calls never touch an event loop.
 */
final class SourceReader implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(SourceReader.class);

  private final PulseContext ctx;
  private final ClusterLink link;
  private final AtomicBoolean running;
  private final EventParser parser;
  private final Map<String, AtomicLong> lag = new ConcurrentHashMap<>();
  private final Map<String, Counter> taken = new HashMap<>();
  private final Map<String, Counter> refused = new HashMap<>();

  SourceReader(PulseContext ctx, AtomicBoolean running) {
    this.ctx = ctx;
    this.link = ctx.cluster;
    this.running = running;
    this.parser = new EventParser(ctx.config.ingest());
    for (String t : link.config.sourceTopics()) {
      AtomicLong l = new AtomicLong();
      lag.put(t, l);
      Gauge.builder("pulse.kafka.consumer.lag", l, AtomicLong::get).tag("topic", t)
          .description("Records behind the end of the source topic's partitions this instance reads")
          .register(ctx.registry);
      taken.put(t, Counter.builder("pulse.kafka.records").tag("topic", t)
          .description("Records of a source topic read by this instance").register(ctx.registry));
      refused.put(t, Counter.builder("pulse.kafka.quarantined").tag("topic", t)
          .description("Events of a source topic refused, quarantined with their topic, partition and offset")
          .register(ctx.registry));
    }
  }

  private KafkaProducer<byte[], byte[]> producer() {
    Map<String, Object> p = ClusterLink.clientProps(link.config);
    p.put("enable.idempotence", "true");
    p.put("acks", "all");
    p.put("transactional.id", "pulse-sources-" + link.instance);
    p.put("client.id", "pulse-" + link.instance + "-sources");
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    producer.initTransactions();
    return producer;
  }

  @Override
  public void run() {
    Map<String, Object> c = ClusterLink.clientProps(link.config);
    c.put("group.id", link.config.group() + ".sources");
    c.put("enable.auto.commit", "false");
    c.put("auto.offset.reset", "earliest");
    c.put("isolation.level", "read_committed");
    c.put("max.poll.records", "500");
    c.put("client.id", "pulse-" + link.instance + "-sources");
    KafkaProducer<byte[], byte[]> producer = null;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      consumer.subscribe(link.config.sourceTopics());
      producer = producer();
      long lagAt = 0;
      while (running.get()) {
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(200));
        if (!polled.isEmpty()) {
          try {
            forward(polled, producer, consumer);
          } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException e) {
            LOG.warn("kafka sources: producer cannot go on ({}); a new one takes over from the last commit", e.toString());
            producer.close(Duration.ofSeconds(5));
            producer = producer();
            rewind(consumer);
          } catch (KafkaException e) {
            LOG.warn("kafka sources: a transaction failed ({}); its records are read again", e.toString());
            try {
              producer.abortTransaction();
            } catch (KafkaException again) {
              producer.close(Duration.ofSeconds(5));
              producer = producer();
            }
            rewind(consumer);
          }
        }
        long now = System.currentTimeMillis();
        if (now - lagAt > 1000) {
          lagAt = now;
          Map<String, Long> sums = ClusterLink.lag(consumer, consumer.assignment());
          lag.forEach((t, l) -> l.set(sums.getOrDefault(t, 0L)));
        }
      }
    } catch (org.apache.kafka.common.errors.InterruptException | org.apache.kafka.common.errors.WakeupException e) {
      // stopping
    } catch (RuntimeException e) {
      if (running.get()) {
        LOG.error("kafka sources: the reader stopped; source topics are no longer read by this instance", e);
        ctx.health.degraded("kafka-sources", "the source topic reader stopped: " + e, ctx.clock.millis());
      }
    } finally {
      if (producer != null) {
        producer.close(Duration.ofSeconds(5));
      }
    }
  }

  /** One poll's records: parsed, refusals quarantined, events and offsets committed in one transaction. */
  private void forward(ConsumerRecords<byte[], byte[]> polled, KafkaProducer<byte[], byte[]> producer,
      KafkaConsumer<byte[], byte[]> consumer) {
    long now = ctx.clock.millis();
    String tenant = link.config.sourceTenant();
    Map<Integer, List<Event>> byPartition = new HashMap<>();
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : polled) {
      String where = SourceRecord.where(r.topic(), r.partition(), r.offset());
      ParseResult parsed = SourceRecord.parse(parser, r.value(), tenant, where, now);
      for (Rejection rej : parsed.rejections()) {
        ctx.ingestor.reject(rej, tenant, now, "kafka:" + where);
      }
      // admitted here, as HTTP ingest admits (a stream past the caps refused, a new series past them
      // folded): the events topic's records carry the decision, so a replay of them decides alike
      List<Event> admitted = new ArrayList<>(parsed.events().size());
      int capped = ctx.ingestor.admit(parsed, 0, parsed.events().size(), now, "kafka:" + where, null, admitted)
          .rejections().size();
      if (!parsed.rejections().isEmpty() || capped > 0) {
        refused.get(r.topic()).increment(parsed.rejections().size() + capped);
      }
      for (Event e : admitted) {
        byPartition.computeIfAbsent(link.partitioning.of(e.stream(), e.dims()), p -> new ArrayList<>()).add(e);
      }
      taken.get(r.topic()).increment();
      offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
    }
    producer.beginTransaction();
    byPartition.forEach((p, es) -> producer.send(new ProducerRecord<>(link.config.eventsTopic(), p, now, null,
        EventBatchCodec.encode(es))));
    producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
    producer.commitTransaction();
  }

  /** After a failed transaction: every assigned partition back to its committed offset. */
  private static void rewind(KafkaConsumer<byte[], byte[]> consumer) {
    Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(consumer.assignment());
    for (TopicPartition tp : consumer.assignment()) {
      OffsetAndMetadata om = committed.get(tp);
      if (om != null) {
        consumer.seek(tp, om.offset());
      } else {
        consumer.seekToBeginning(List.of(tp));
      }
    }
  }
}
