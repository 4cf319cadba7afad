package io.pulse.loadtests;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.ingest.BodyFormat;
import io.pulse.ingest.EventParser;
import io.pulse.ingest.IngestJob;
import io.pulse.ingest.Ingestor;
import io.pulse.ingest.Quarantine;
import java.util.Locale;

/**
 * Pulse's per-event CPU cost on one thread, without HTTP, the event bus or subscribers: W1 bodies
 * go through the parser, the ingestor and the shards' aggregators (flushed every 250 ms of
 * simulated time), alternating with the parse-and-discard baseline's token walk over the same
 * bodies. Much steadier than {@code w1.sh} on a shared machine, so it is the quick A/B check for a
 * hot-path change; {@code w1.sh} stays the figure of record.
 *
 * <pre>java -cp target/pulse.jar:target/test-classes io.pulse.loadtests.HotPath [rounds] [seconds per phase]</pre>
 */
public final class HotPath {

  private static final int SHARDS = 2;

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
    W1Workload workload = new W1Workload(1000, 16, 42);
    long t0 = 1_795_000_000_000L;
    byte[][] bodies = new byte[16][];
    for (int i = 0; i < bodies.length; i++) {
      bodies[i] = workload.nextBody(t0).getBytes();
    }
    PulseConfig config = PulseConfig.of(null);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StreamCatalog catalog = new StreamCatalog(config.aggregation().maxStreams(),
        config.aggregation().maxSeriesPerStream(), registry);
    ViewRegistry views = new ViewRegistry(config);
    views.acquire(StreamId.of(W1Workload.STREAM), java.util.Map.of(), java.util.List.of("region"));
    views.acquire(StreamId.of(W1Workload.STREAM), java.util.Map.of(), java.util.List.of());
    Ingestor ingestor = new Ingestor(config, catalog, views, new Quarantine(100, 1000), SHARDS, registry);
    EventParser parser = new EventParser(config.ingest());
    ShardAggregator[] shards = new ShardAggregator[SHARDS];
    for (int s = 0; s < SHARDS; s++) {
      shards[s] = new ShardAggregator(config.aggregation().allowedLatenessMs(), 0.01, 2048, views::views);
    }
    ParseDiscardServer baseline = new ParseDiscardServer(0);

    System.out.printf(Locale.ROOT, "%-6s %16s %16s %8s %12s%n", "round", "pulse cpu ns/ev", "baseline cpu ns/ev", "ratio",
        "parse only");
    long[] now = {t0 + 100};
    for (int r = 0; r <= rounds; r++) {
      double pulse = time(seconds, bodies, b -> {
        // the path HTTP ingest takes: a W1 body is one IngestJob step
        IngestJob job = new IngestJob(parser, ingestor, b, BodyFormat.NDJSON, StreamId.DEFAULT_TENANT, null, now[0], "bench");
        while (!job.done()) {
          ShardBatch[] routed = job.step();
          for (int s = 0; s < routed.length; s++) {
            shards[s].add(routed[s], now[0]);
          }
        }
        Ingestor.Outcome out = job.outcome();
        // 1,000 events per body at ~3M events/s: a quarter-second tick every 750 bodies
        if (++ticks[0] % 750 == 0) {
          now[0] += 250;
          for (int i = 0; i < bodies.length; i++) {
            bodies[i] = workload.nextBody(now[0] - 100).getBytes(); // on time: the usual path
          }
          for (int s = 0; s < SHARDS; s++) {
            shards[s].flush(s, now[0]);
          }
        }
        return out.accepted();
      });
      double base = time(seconds, bodies, b -> (int) baseline.walk(b));
      double parse = time(seconds / 2, bodies,
          b -> parser.parse(b, BodyFormat.NDJSON, StreamId.DEFAULT_TENANT, null, now[0]).events().size());
      System.out.printf(Locale.ROOT, "%-6s %16.1f %16.1f %7.1f%% %12.1f%n", r == 0 ? "warm" : String.valueOf(r), pulse,
          base, 100 * base / pulse, parse);
    }
  }

  private static final long[] ticks = {0};

  private interface Body {
    int run(byte[] body) throws Exception;
  }

  /**
   * CPU nanoseconds of this thread per event over about {@code seconds} of wall time. Thread CPU
   * time rather than wall time, so that other processes on a shared machine shift the figures
   * less (they still share caches and the GC's threads).
   */
  private static double time(double seconds, byte[][] bodies, Body work) throws Exception {
    long events = 0;
    long until = System.nanoTime() + (long) (seconds * 1e9);
    long cpu0 = CPU.getCurrentThreadCpuTime();
    int i = 0;
    while (System.nanoTime() < until) {
      for (int k = 0; k < 16; k++) {
        events += work.run(bodies[i]);
        i = (i + 1) % bodies.length;
      }
    }
    return (CPU.getCurrentThreadCpuTime() - cpu0) / (double) events;
  }

  private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
}
