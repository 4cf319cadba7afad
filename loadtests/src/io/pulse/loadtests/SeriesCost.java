package io.pulse.loadtests;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ShardBatch;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.CatalogSweeper;
import io.pulse.catalog.StreamCatalog;
import io.pulse.config.PulseConfig;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.pulse.ingest.Ingestor;
import io.pulse.ingest.Quarantine;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;

/**
 * What one series costs in heap: made through the real ingest path (catalog, views, routing) into
 * one aggregate shard, measured with the heap's used bytes after forced collections. Three
 * figures per series: with an open window (what a series costs while events flow), held in the
 * catalog only (its windows closed), and what is left once the catalog has forgotten it (should
 * be about nothing). They back the default of {@code aggregation.maxSeries}.
 *
 * <pre>
 *   loadtests/bench.sh SeriesCost [--series 200000] [--streams 20] [--events 1] [--values 2]
 * </pre>
 *
 * {@code --events} is events per series in the open window (more events grow each value's sketch,
 * up to {@code aggregation.sketchMaxBins} bins); {@code --values} is values per event.
 */
public final class SeriesCost {

  private SeriesCost() {
  }

  public static void main(String[] args) throws Exception {
    int series = 200_000;
    int streams = 20;
    int events = 1;
    int values = 2;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--series": series = Integer.parseInt(args[i + 1]); break;
        case "--streams": streams = Integer.parseInt(args[i + 1]); break;
        case "--events": events = Integer.parseInt(args[i + 1]); break;
        case "--values": values = Integer.parseInt(args[i + 1]); break;
        default:
          System.err.println("usage: SeriesCost [--series N] [--streams N] [--events N] [--values N]");
          System.exit(64);
      }
    }
    long t0 = 1_763_805_600_000L;
    PulseConfig config = PulseConfig.of(new JsonObject().put("aggregation", new JsonObject()
        .put("maxSeries", series + 1).put("maxSeriesPerStream", series + 1).put("window", "1s")
        .put("allowedLatenessMs", 0).put("seriesIdleMs", 60_000)));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StreamCatalog catalog = new StreamCatalog(streams, series + 1, series + 1, registry);
    ViewRegistry views = new ViewRegistry(config);
    Ingestor ingestor = new Ingestor(config, catalog, views, new Quarantine(10, 100), 1, registry);
    PulseConfig.Aggregation a = config.aggregation();
    ShardAggregator shard = new ShardAggregator(0, a.sketchRelativeAccuracy(), a.sketchMaxBins(), views::views);
    CatalogSweeper sweeper = new CatalogSweeper(config, catalog, views);
    String[] names = new String[values];
    for (int v = 0; v < values; v++) {
      names[v] = "value" + v;
    }

    long base = usedAfterGc();
    java.util.Random rnd = new java.util.Random(1);
    int perStream = series / streams;
    for (int s = 0; s < streams; s++) {
      for (int from = 0; from < perStream; from += 1000) {
        List<Event> batch = new ArrayList<>(1000 * events);
        for (int i = from; i < Math.min(perStream, from + 1000); i++) {
          // two dims, like region and store: short strings, made fresh as a parser would
          Dims d = Dims.of("region", "r" + (i % 10), "store", "s" + i);
          for (int e = 0; e < events; e++) {
            double[] vals = new double[values];
            for (int v = 0; v < values; v++) {
              vals[v] = Math.exp(rnd.nextGaussian() * 2);
            }
            batch.add(new Event(io.pulse.core.StreamId.of("stream" + s), t0 + 10, null, d, names, vals, t0 + 10));
          }
        }
        Ingestor.Outcome o = ingestor.ingest(batch, t0 + 20, "bench");
        for (ShardBatch b : o.batches()) {
          shard.add(b, t0 + 20);
        }
      }
    }
    int held = catalog.seriesTotal();
    long open = usedAfterGc();
    shard.flush(0, t0 + 2_000); // every window closes; the shard drops the series' state
    long idle = usedAfterGc();
    sweeper.run(t0 + 120_000); // past seriesIdleMs and streamIdleMs' window bound: all forgotten
    int left = catalog.seriesTotal();
    long gone = usedAfterGc();

    System.out.printf("series: %,d over %d streams, %d event(s) of %d value(s) each in the open window%n", held,
        streams, events, values);
    System.out.printf("heap per series with an open window: %,d B%n", (open - base) / held);
    System.out.printf("heap per series held in the catalog only (windows closed): %,d B%n", (idle - base) / held);
    System.out.printf("heap per series left after forgetting (%d series held): %,d B%n", left, (gone - base) / held);
    System.out.printf("(shard series open: %d; used heap MB: base %.1f, open %.1f, idle %.1f, forgotten %.1f)%n",
        shard.openSeries(), base / 1e6, open / 1e6, idle / 1e6, gone / 1e6);
  }

  private static long usedAfterGc() throws InterruptedException {
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(200);
      used = Math.min(used, mem.getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
