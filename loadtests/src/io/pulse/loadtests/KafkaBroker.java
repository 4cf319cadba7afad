package io.pulse.loadtests;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * A single-node KRaft Kafka (one combined broker and controller) in its own JVM, for
 * loadtests/cluster.sh: Kafka's own test kit from the test-scoped Maven artifacts (RECIPES.md
 * section 3), the internal topics at replication factor 1. Writes its bootstrap address to the file
 * given as the first argument once the broker is ready, then runs until it is stopped (SIGTERM /
 * SIGINT close it; its log folders are under java.io.tmpdir, which cluster.sh points into its run
 * folder).
 *
 * <pre>java -cp target/pulse.jar:target/test-classes:&lt;test jars&gt; io.pulse.loadtests.KafkaBroker BOOTSTRAP_FILE</pre>
 */
public final class KafkaBroker {

  /** Largest record the broker takes; cluster.sh gives Pulse's producers the same max.request.size. */
  static final int MAX_MESSAGE_BYTES = 16 << 20;

  private KafkaBroker() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: KafkaBroker BOOTSTRAP_FILE");
      System.exit(64);
    }
    Path out = Path.of(args[0]);
    long t0 = System.nanoTime();
    KafkaClusterTestKit kafka = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder().setCombined(true)
        .setNumBrokerNodes(1).setNumControllerNodes(1).build())
        .setConfigProp("offsets.topic.replication.factor", "1")
        .setConfigProp("offsets.topic.num.partitions", "1")
        .setConfigProp("transaction.state.log.replication.factor", "1")
        .setConfigProp("transaction.state.log.min.isr", "1")
        .setConfigProp("group.initial.rebalance.delay.ms", "0")
        // Pulse's flush records on the output topic can pass Kafka's default 1 MB (see cluster.sh)
        .setConfigProp("message.max.bytes", String.valueOf(MAX_MESSAGE_BYTES))
        .build();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        kafka.close();
      } catch (Exception e) {
        System.err.println("KafkaBroker: close failed: " + e);
      }
      stopped.countDown();
    }, "kafka-broker-stop"));
    kafka.format();
    kafka.startup();
    kafka.waitForReadyBrokers();
    String bootstrap = kafka.bootstrapServers();
    Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
    Files.writeString(tmp, bootstrap + "\n", StandardCharsets.US_ASCII);
    Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    System.out.printf("KafkaBroker ready in %.1f s at %s%n", (System.nanoTime() - t0) / 1e9, bootstrap);
    stopped.await();
  }
}
