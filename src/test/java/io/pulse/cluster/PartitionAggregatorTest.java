package io.pulse.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.agg.AggregationGuard;
import io.pulse.agg.Rollup;
import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ViewRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.pulse.ingest.Ingestor;
import io.pulse.ingest.Quarantine;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The exactly-once scheme of one partition, without Kafka: a run that crashes after any flush
 * (having stored finals past its last commit, or not) and is replayed from its last commit stores
 * exactly what a run without a crash stores, window by window.
 */
class PartitionAggregatorTest {

  private static final long LATENESS = 300;
  private static final long T0 = 1_763_805_600_000L;
  private final PulseConfig config = PulseConfig.of(new JsonObject()
      .put("aggregation", new JsonObject().put("allowedLatenessMs", LATENESS)));

  /** A record of the partition: events (empty: a tick) at a record time. */
  private record Rec(long offset, long ts, List<Event> events) {
  }

  /** Records over about 20 s: 1-5 events each over 12 series, event times up to 1.5 s behind (some late), ticks between. */
  private static List<Rec> records(long seed) {
    Random rnd = new Random(seed);
    List<Rec> out = new ArrayList<>();
    long t = T0;
    StreamId stream = StreamId.of("p");
    for (int i = 0; i < 600; i++) {
      t += rnd.nextInt(60);
      long recordTs = rnd.nextInt(10) == 0 ? t - rnd.nextInt(200) : t; // producers' clocks differ a little
      if (rnd.nextInt(8) == 0) {
        out.add(new Rec(i, recordTs, List.of()));
        continue;
      }
      List<Event> es = new ArrayList<>();
      for (int k = 1 + rnd.nextInt(5); k > 0; k--) {
        long ets = recordTs - (rnd.nextInt(6) == 0 ? rnd.nextInt(1500) : rnd.nextInt(100));
        es.add(new Event(stream, ets, null, Dims.of("k", "s" + rnd.nextInt(12)), new String[] {"v"},
            new double[] {rnd.nextInt(100)}, recordTs));
      }
      out.add(new Rec(i, recordTs, es));
    }
    out.add(new Rec(out.size(), t + 10_000, List.of())); // closes every window
    return out;
  }

  /** One instance: its own catalogue, views and ingestor, as another process would have. */
  private PartitionAggregator aggregator(PartitionAggregator.Commit start) {
    return aggregator(start, new StreamCatalog(100, 1000, 100_000, new SimpleMeterRegistry()));
  }

  private PartitionAggregator aggregator(PartitionAggregator.Commit start, StreamCatalog catalog) {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ViewRegistry views = new ViewRegistry(config);
    Ingestor ingestor = new Ingestor(config, catalog, views, new Quarantine(1000, 1000), 2, registry);
    ShardAggregator windows = new ShardAggregator(LATENESS, 0.01, 2048, views::views, 0, AggregationGuard.standalone(1));
    return new PartitionAggregator(0, start, ingestor, windows, LATENESS);
  }

  private static void take(PartitionAggregator a, Rec r) {
    if (r.events().isEmpty()) {
      a.tick(r.offset(), r.ts());
    } else {
      a.add(r.offset(), r.ts(), r.events(), "test");
    }
  }

  /** Upserts a flush's final series rows into the "database": window -> count and sum. */
  private static void store(PartitionAggregator.Flushed f, Map<String, double[]> db) {
    for (Rollup r : f.output().rollups()) {
      if (r.fin() && r.view().allDims()) {
        double sum = r.names().length == 0 ? 0 : r.stats()[0].sum();
        db.put(r.series() + "@" + r.start(), new double[] {r.count(), sum});
      }
    }
  }

  private Map<String, double[]> straight(List<Rec> recs, int flushEvery) {
    Map<String, double[]> db = new TreeMap<>();
    PartitionAggregator a = aggregator(PartitionAggregator.Commit.parse(0, null));
    for (Rec r : recs) {
      take(a, r);
      if (r.offset() % flushEvery == 0) {
        store(a.flush(), db);
      }
    }
    store(a.flush(), db);
    return db;
  }

  private static String show(Map<String, double[]> db) {
    StringBuilder sb = new StringBuilder();
    db.forEach((k, v) -> sb.append(k).append('=').append((long) v[0]).append('/').append((long) v[1]).append(' '));
    return sb.toString();
  }

  @Test
  @DisplayName("a crash after any flush, replayed from the last commit, stores exactly what a run without one stores")
  void replayFromAnyCommitIsExact() {
    for (long seed = 1; seed <= 8; seed++) {
      List<Rec> recs = records(seed);
      Map<String, double[]> want = straight(recs, 5);
      long total = want.values().stream().mapToLong(v -> (long) v[0]).sum();
      long events = recs.stream().mapToLong(r -> r.events().size()).sum();
      assertEquals(events, total, "every event is in exactly one stored window (seed " + seed + ")");
      for (int crashAfter = 3; crashAfter < recs.size(); crashAfter += 37) {
        Map<String, double[]> db = new TreeMap<>();
        PartitionAggregator a = aggregator(PartitionAggregator.Commit.parse(0, null));
        PartitionAggregator.Commit committed = PartitionAggregator.Commit.parse(0, null);
        int i = 0;
        for (; i < crashAfter; i++) {
          take(a, recs.get(i));
          if (i % 5 == 0) {
            PartitionAggregator.Flushed f = a.flush();
            store(f, db);
            if (i % 15 == 0) {
              committed = f.commit(); // stored, then committed; the flushes between are stored but not committed
            }
          }
        }
        // crash; the next owner starts from the commit, with its metadata, and flushes at other moments
        PartitionAggregator.Commit start = PartitionAggregator.Commit.parse(committed.offset(), committed.metadata());
        PartitionAggregator b = aggregator(start);
        for (int j = (int) start.offset(); j < recs.size(); j++) {
          take(b, recs.get(j));
          if (j % 7 == 0) {
            store(b.flush(), db);
          }
        }
        store(b.flush(), db);
        assertEquals(show(want), show(db), "seed " + seed + ", crash after record " + crashAfter + ", replay from "
            + start.offset());
      }
    }
  }

  @Test
  @DisplayName("series caps are decided where events enter: a replay on an instance that holds other series folds the same events")
  void capsAreDecidedWhereEventsEnter() {
    // the instance the events entered by: at most 4 series per stream, the rest folded into the overflow series
    StreamCatalog edgeCatalog = new StreamCatalog(100, 4, 100_000, new SimpleMeterRegistry());
    Ingestor edge = new Ingestor(config, edgeCatalog, new ViewRegistry(config), new Quarantine(1000, 1000), 2,
        new SimpleMeterRegistry());
    List<Rec> recs = new ArrayList<>();
    int folded = 0;
    for (Rec r : records(3)) {
      if (r.events().isEmpty()) {
        recs.add(r);
        continue;
      }
      List<Event> admitted = new ArrayList<>();
      int[] idx = new int[r.events().size()];
      Ingestor.Outcome o = edge.admit(new io.pulse.ingest.ParseResult(r.events(), idx, List.of()), 0, idx.length,
          r.ts(), "test", null, admitted);
      assertEquals(r.events().size(), o.accepted(), "folded, not refused");
      folded += o.overflowed();
      recs.add(new Rec(r.offset(), r.ts(), admitted));
    }
    assertTrue(folded > 0, "the cap folded events of the series past the first 4");
    Map<String, double[]> want = new TreeMap<>();
    PartitionAggregator first = aggregator(PartitionAggregator.Commit.parse(0, null),
        new StreamCatalog(100, 4, 100_000, new SimpleMeterRegistry()));
    PartitionAggregator.Commit committed = null;
    for (Rec r : recs) {
      take(first, r);
      if (r.offset() % 5 == 0) {
        PartitionAggregator.Flushed f = first.flush();
        store(f, want);
        if (r.offset() == 300) {
          committed = f.commit();
        }
      }
    }
    store(first.flush(), want);
    assertEquals(5, want.keySet().stream().map(k -> k.substring(0, k.indexOf('@'))).distinct().count(),
        "4 series and the overflow series: " + want.keySet());
    // the next owner already holds 4 other series of the stream (from its other partitions): at its
    // own cap, yet it must aggregate exactly what the records say
    StreamCatalog busy = new StreamCatalog(100, 4, 100_000, new SimpleMeterRegistry());
    StreamCatalog.StreamInfo p = busy.stream(StreamId.of("p"), T0);
    for (int i = 0; i < 4; i++) {
      p.admit(new Event(StreamId.of("p"), T0, null, Dims.of("k", "other" + i), new String[] {"v"}, new double[] {1}, T0));
    }
    Map<String, double[]> db = new TreeMap<>(want);
    PartitionAggregator.Commit start = PartitionAggregator.Commit.parse(committed.offset(), committed.metadata());
    PartitionAggregator b = aggregator(start, busy);
    for (int j = (int) start.offset(); j < recs.size(); j++) {
      take(b, recs.get(j));
      if (j % 7 == 0) {
        store(b.flush(), db);
      }
    }
    store(b.flush(), db);
    assertEquals(show(want), show(db), "replay from " + start.offset() + " on an instance at its cap");
  }

  @Test
  @DisplayName("the commit point never passes a record whose window is still open, and moves on once windows close")
  void commitWaitsForOpenWindows() {
    PartitionAggregator a = aggregator(PartitionAggregator.Commit.parse(0, null));
    Event e = new Event(StreamId.of("p"), T0, null, Dims.of("k", "a"), new String[] {"v"}, new double[] {1}, T0);
    a.add(0, T0, List.of(e), "test");
    a.tick(1, T0 + 500);
    PartitionAggregator.Flushed open = a.flush();
    assertEquals(0, open.commit().offset(), "window [T0, T0+1s) is open: offset 0 must be replayed");
    a.tick(2, T0 + 1000 + LATENESS);
    PartitionAggregator.Flushed closed = a.flush();
    assertEquals(3, closed.commit().offset(), "its window closed: everything up to the tick is covered");
    assertEquals(1, closed.output().rollups().stream().filter(r -> r.fin() && r.view().allDims()).count());
    PartitionAggregator.Commit back = PartitionAggregator.Commit.parse(3, closed.commit().metadata());
    assertEquals(closed.commit(), back, "metadata round trip");
    assertTrue(PartitionAggregator.Commit.parse(5, "someone else's").clock() == Long.MIN_VALUE);
  }
}
