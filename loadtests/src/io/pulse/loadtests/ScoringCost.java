package io.pulse.loadtests;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.config.PulseConfig;
import io.pulse.core.ManualClock;
import io.pulse.core.StreamId;
import io.pulse.event.Event;
import io.pulse.ingest.BodyFormat;
import io.pulse.ingest.EventParser;
import io.pulse.ingest.IngestJob;
import io.pulse.ingest.Ingestor;
import io.pulse.ingest.Quarantine;
import io.pulse.score.EventModel;
import io.pulse.score.ModelTrainer;
import io.pulse.score.ShardScoring;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What event scoring costs per event on the hot path, on one thread: W1 bodies go through the
 * parser, the ingestor and two shards' aggregators as in {@link HotPath}, once with stream w1
 * unscored and once scored (a model trained on W1's own events installed in every shard, so each
 * event is sampled and scored), alternating. Prints CPU ns/event of both and of scoring alone (the
 * difference), and the outlier fraction seen. No timing assertions: a figure to read.
 *
 * <pre>java -cp target/pulse.jar:target/test-classes io.pulse.loadtests.ScoringCost [rounds] [seconds per phase]</pre>
 */
public final class ScoringCost {

  private static final int SHARDS = 2;

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
    W1Workload workload = new W1Workload(1000, 16, 42);
    long t0 = 1_795_000_000_000L;
    PulseConfig config = PulseConfig.of(null);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StreamCatalog catalog = new StreamCatalog(config.aggregation().maxStreams(),
        config.aggregation().maxSeriesPerStream(), registry);
    ViewRegistry views = new ViewRegistry(config);
    StreamId w1 = StreamId.of(W1Workload.STREAM);
    views.acquire(w1, java.util.Map.of(), java.util.List.of("region"));
    views.acquire(w1, java.util.Map.of(), java.util.List.of());
    Ingestor ingestor = new Ingestor(config, catalog, views, new Quarantine(100, 1000), SHARDS, registry);
    EventParser parser = new EventParser(config.ingest());
    byte[][] bodies = new byte[16][];
    List<Event> sample = new ArrayList<>();
    for (int i = 0; i < bodies.length; i++) {
      bodies[i] = workload.nextBody(t0).getBytes();
      sample.addAll(parser.parse(bodies[i], BodyFormat.NDJSON, StreamId.DEFAULT_TENANT, null, t0).events());
    }
    EventModel model = new ModelTrainer(ModelTrainer.DEFAULT_NU, ModelTrainer.DEFAULT_MAX_FEATURES, new ManualClock(t0))
        .train(w1, sample.subList(0, 10_000), 1);
    System.out.printf(Locale.ROOT, "model of w1: %s, trained on %d events in %d ms; %.2f %% of its sample outside%n",
        model.features().names(), model.trainingSize(), model.trainingMs(), 100 * model.trainingOutsideFraction());
    ShardAggregator[] plain = new ShardAggregator[SHARDS];
    ShardAggregator[] scored = new ShardAggregator[SHARDS];
    ShardScoring[] scorings = new ShardScoring[SHARDS];
    for (int s = 0; s < SHARDS; s++) {
      plain[s] = new ShardAggregator(config.aggregation().allowedLatenessMs(), 0.01, 2048, views::views);
      scored[s] = new ShardAggregator(config.aggregation().allowedLatenessMs(), 0.01, 2048, views::views);
      scorings[s] = new ShardScoring(Set.of(W1Workload.STREAM), 10_000, 256, s);
      scorings[s].install(model);
      scored[s].scoring(scorings[s]);
    }
    System.out.printf(Locale.ROOT, "%-6s %18s %18s %16s %10s%n", "round", "unscored cpu ns/ev", "scored cpu ns/ev",
        "scoring ns/ev", "outliers");
    long[] now = {t0 + 100};
    for (int r = 0; r <= rounds; r++) {
      double a = time(seconds, bodies, b -> run(parser, ingestor, plain, b, now, workload, bodies));
      long before = outliers[0];
      long events0 = events[0];
      double b = time(seconds, bodies, x -> run(parser, ingestor, scored, x, now, workload, bodies));
      long unreported = 0;
      for (ShardScoring s : scorings) {
        outliers[0] += s.drainOutliers().size();
        unreported += s.unreported();
      }
      outliers[0] += unreported - unreportedBefore[0];
      unreportedBefore[0] = unreported;
      System.out.printf(Locale.ROOT, "%-6s %18.1f %18.1f %16.1f %9.2f%%%n", r == 0 ? "warm" : String.valueOf(r), a, b,
          b - a, 100.0 * (outliers[0] - before) / Math.max(1, events[0] - events0));
    }
  }

  private static final long[] outliers = {0};
  private static final long[] unreportedBefore = {0};
  private static final long[] events = {0};
  private static final long[] ticks = {0};

  private static int run(EventParser parser, Ingestor ingestor, ShardAggregator[] shards, byte[] b, long[] now,
      W1Workload workload, byte[][] bodies) {
    IngestJob job = new IngestJob(parser, ingestor, b, BodyFormat.NDJSON, StreamId.DEFAULT_TENANT, null, now[0], "bench");
    while (!job.done()) {
      ShardBatch[] routed = job.step();
      for (int s = 0; s < routed.length; s++) {
        shards[s].add(routed[s], now[0]);
      }
    }
    int accepted = job.outcome().accepted();
    events[0] += accepted;
    if (++ticks[0] % 750 == 0) { // a quarter-second flush tick every 750 bodies, as in HotPath
      now[0] += 250;
      for (int i = 0; i < bodies.length; i++) {
        bodies[i] = workload.nextBody(now[0] - 100).getBytes();
      }
      for (int s = 0; s < shards.length; s++) {
        shards[s].flush(s, now[0]);
      }
    }
    return accepted;
  }

  private interface Body {
    int run(byte[] body) throws Exception;
  }

  /** CPU nanoseconds of this thread per event over about {@code seconds} of wall time. */
  private static double time(double seconds, byte[][] bodies, Body work) throws Exception {
    long n = 0;
    long until = System.nanoTime() + (long) (seconds * 1e9);
    long cpu0 = CPU.getCurrentThreadCpuTime();
    int i = 0;
    while (System.nanoTime() < until) {
      for (int k = 0; k < 16; k++) {
        n += work.run(bodies[i]);
        i = (i + 1) % bodies.length;
      }
    }
    return (CPU.getCurrentThreadCpuTime() - cpu0) / (double) n;
  }

  private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
}
