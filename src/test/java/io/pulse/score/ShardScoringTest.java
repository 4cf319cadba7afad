package io.pulse.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.agg.PartialCombiner;
import io.pulse.agg.Rollup;
import io.pulse.agg.ShardAggregator;
import io.pulse.agg.ViewKey;
import io.pulse.agg.ViewRegistry;
import io.pulse.config.PulseConfig;
import io.pulse.core.ManualClock;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Scoring where events meet their windows: outliers counted per series window and added up into totals across shards. */
class ShardScoringTest {

  private static final long T0 = 1_763_805_600_000L;

  @Test
  @DisplayName("outliers are counted in each series' rollup and summed in the stream total across shards; "
      + "other streams and other tenants' streams of another name are not scored")
  void countedInRollups() {
    ManualClock clock = new ManualClock(T0);
    ViewRegistry views = new ViewRegistry(PulseConfig.of(new JsonObject()));
    ShardAggregator[] shards = new ShardAggregator[2];
    ShardScoring[] scoring = new ShardScoring[2];
    for (int i = 0; i < 2; i++) {
      shards[i] = new ShardAggregator(500, 0.01, 2048, views::views);
      scoring[i] = new ShardScoring(Set.of("payments"), 1000, 100, i);
      shards[i].scoring(scoring[i]);
    }
    StreamId payments = EventModelTest.PAYMENTS;
    EventModel model = new ModelTrainer(0.01, 16, clock).train(payments, EventModelTest.sample(1, 3000), 1);
    for (ShardScoring s : scoring) {
      s.install(model);
    }
    Random r = new Random(9);
    int outliersSent = 0;
    List<Event> events = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      events.add(EventModelTest.normal(r, T0 + i));
    }
    for (int i = 0; i < 20; i++) {
      events.add(EventModelTest.event(T0 + 500 + i, 40_000, 2, "us", REGION[i % 3]));
      outliersSent++;
    }
    StreamId other = StreamId.of("acme", "other");
    for (Event e : events) {
      add(views, shards, e);
      add(views, shards, new Event(other, e.ts(), null, e.dims(), new String[] {"amount"}, new double[] {1e9}, T0));
    }
    clock.set(T0 + 1500);
    PartialCombiner combiner = new PartialCombiner(2);
    List<Rollup> out = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      combiner.accept(shards[i].flush(i, clock.millis()), out::add);
    }
    long seriesOutliers = out.stream().filter(x -> x.view().stream().equals(payments) && !x.series().isEmpty())
        .mapToLong(Rollup::outliers).sum();
    Rollup total = out.stream().filter(x -> x.view().stream().equals(payments) && x.series().isEmpty()).findFirst()
        .orElseThrow();
    int reported = scoring[0].drainOutliers().size() + scoring[1].drainOutliers().size();
    assertTrue(total.outliers() >= outliersSent && total.outliers() < outliersSent + 20,
        "the total counts the burst (and a false positive or two of 400 normal events): " + total.outliers());
    assertEquals(seriesOutliers, total.outliers(), "the total is the sum of its series");
    assertEquals(total.outliers(), reported, "every outlier is reported for inspection");
    assertEquals(0, out.stream().filter(x -> x.view().stream().equals(other)).mapToLong(Rollup::outliers).sum());
    assertEquals(420, total.count());
    assertEquals(1, scoring[0].version(payments));
  }

  private static final String[] REGION = {"eu", "us", "ap"};

  private static void add(ViewRegistry views, ShardAggregator[] shards, Event e) {
    ViewKey k = views.views(e.stream())[ViewRegistry.SERIES].key(e.dims());
    shards[k.shard(2)].add(k, e, e.ts(), T0);
  }

  @Test
  @DisplayName("each shard keeps a bounded sample per scored stream, and a newer model replaces an older one only")
  void sampleAndVersions() {
    ShardScoring s = new ShardScoring(Set.of("payments"), 50, 10, 1);
    Random r = new Random(2);
    for (int i = 0; i < 1000; i++) {
      s.outlier(EventModelTest.normal(r, i));
    }
    Reservoir.Slice slice = s.sample(EventModelTest.PAYMENTS);
    assertEquals(50, slice.events().size());
    assertEquals(1000, slice.seen());
    assertEquals(0, s.sample(StreamId.of("acme", "nothing")).events().size());
    ManualClock clock = new ManualClock(T0);
    ModelTrainer t = new ModelTrainer(0.01, 16, clock);
    EventModel v2 = t.train(EventModelTest.PAYMENTS, EventModelTest.sample(3, 500), 2);
    EventModel v1 = t.train(EventModelTest.PAYMENTS, EventModelTest.sample(4, 500), 1);
    s.install(v2);
    s.install(v1);
    assertEquals(2, s.version(EventModelTest.PAYMENTS));
    assertEquals(0, s.version(StreamId.of("acme", "other")));
    // more outliers between two flushes than it holds for inspection: counted, not held
    for (int i = 0; i < 30; i++) {
      assertTrue(s.outlier(EventModelTest.event(i, 1e7, 2, "us", "eu")));
    }
    assertEquals(10, s.drainOutliers().size());
    assertEquals(20, s.unreported());
  }
}
