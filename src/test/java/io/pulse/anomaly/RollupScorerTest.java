package io.pulse.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.agg.Anomaly;
import io.pulse.agg.Rollup;
import io.pulse.agg.ValueStats;
import io.pulse.agg.View;
import io.pulse.agg.ViewRegistry;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.detect.DetectorSettings;
import io.pulse.detect.SeriesDetector;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The rollup scorer: detectors per watched figure of each series, warm-up, learning only from finals, feedback, saving. */
class RollupScorerTest {

  private static final long T0 = 1_796_000_000_000L;
  private static final double LEVEL = DetectorSettings.DEFAULT_ALERT_LEVEL;

  private final ViewRegistry views = new ViewRegistry(PulseConfig.of(new JsonObject()));
  private final Random rnd = new Random(7);

  private View series(String tenant, String stream) throws Exception {
    return views.acquire(StreamId.of(tenant, stream), Map.of(), null);
  }

  /** A final (or running) 1 s rollup of series job=a with this count and value mean. */
  private static Rollup rollup(View v, long second, boolean fin, long count, double mean) {
    ValueStats.Summary s = new ValueStats.Summary(count, mean * count, mean, mean, mean, mean, mean, mean);
    return new Rollup(v, Dims.of("job", "a"), T0 + second * 1000, T0 + second * 1000 + 1000, fin, count,
        T0 + second * 1000, T0 + second * 1000, new String[] {"ms"}, new ValueStats.Summary[] {s});
  }

  private long normalCount() {
    return 100 + Math.round(rnd.nextGaussian() * 5);
  }

  /** Feeds {@code n} normal finals from second {@code from}; returns the scored rollups. */
  private List<Rollup> feed(RollupScorer s, View v, int from, int n) {
    List<Rollup> out = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      out.add(s.score(rollup(v, i, true, normalCount(), 20 + rnd.nextGaussian())));
    }
    return out;
  }

  private static RollupScorer scorer() {
    return new RollupScorer(x -> RollupScorer.Watch.DEFAULT, LEVEL, 10_000);
  }

  @Test
  @DisplayName("no score while warming up; then normal windows score low and a burst of events scores high, explained")
  void warmUpThenSpike() throws Exception {
    RollupScorer s = scorer();
    View v = series("default", "jobs");
    List<Rollup> warming = feed(s, v, 0, SeriesDetector.WARM_UP - 1);
    assertTrue(warming.stream().allMatch(r -> r.anomaly() == null), "no score while warming up");
    List<Rollup> normal = feed(s, v, SeriesDetector.WARM_UP, 400);
    long high = normal.stream().filter(r -> r.anomaly() != null && r.anomaly().score() >= LEVEL).count();
    assertTrue(normal.subList(1, normal.size()).stream().allMatch(r -> r.anomaly() != null), "scored once warm");
    assertTrue(high <= 4, high + " of 400 normal windows reached the alert level");
    Rollup spike = s.score(rollup(v, 600, true, 400, 20));
    Anomaly a = spike.anomaly();
    assertNotNull(a);
    assertTrue(a.score() >= LEVEL, "a count four times the usual scores " + a);
    assertEquals("count", a.figure());
    assertEquals(400, a.value());
    assertTrue(a.expected() > 80 && a.expected() < 120, a.toString());
    assertTrue(a.high() < 400, a.toString());
    assertEquals(2, s.size(), "count and ms.mean, one series");
  }

  @Test
  @DisplayName("running updates are scored without learning; a final of a window already learnt is not learnt twice")
  void runningDoesNotLearn() throws Exception {
    RollupScorer s = scorer();
    View v = series("default", "run");
    feed(s, v, 0, 300);
    long before = s.scored();
    for (int i = 0; i < 50; i++) {
      Rollup r = s.score(rollup(v, 300, false, 400, 20));
      assertTrue(r.anomaly().score() >= LEVEL, "a running spike is scored each time: " + r.anomaly());
    }
    s.score(rollup(v, 299, true, 100, 20));
    assertEquals(before, s.scored(), "neither running updates nor a replayed final are learnt");
  }

  @Test
  @DisplayName("a configured watch scores the figures named, e.g. ms.p99 only")
  void configuredWatch() throws Exception {
    RollupScorer s = new RollupScorer(x -> new RollupScorer.Watch(List.of("ms.p99"), 0.5), LEVEL, 100);
    View v = series("default", "lat");
    feed(s, v, 0, 300);
    assertEquals(1, s.size());
    Rollup slow = s.score(rollup(v, 300, true, 300, 90)); // a p99 is judged from 200 events on
    assertEquals("ms.p99", slow.anomaly().figure());
    assertTrue(slow.anomaly().score() >= LEVEL, slow.anomaly().toString());
    assertNull(RollupScorer.checkFigure("ms.p99"));
    assertNotNull(RollupScorer.checkFigure("ms"));
    assertNotNull(RollupScorer.checkFigure("ms.p42"));
  }

  @Test
  @DisplayName("\"not an anomaly\" on a flagged window: the same deviation afterwards scores below the alert level")
  void markNormal() throws Exception {
    RollupScorer s = scorer();
    View v = series("default", "fb");
    feed(s, v, 0, 300);
    Rollup spike = s.score(rollup(v, 300, true, 250, 20));
    assertTrue(spike.anomaly().score() >= LEVEL, spike.anomaly().toString());
    assertEquals(0, s.markNormal(StreamId.of("fb"), Dims.of("job", "a"), T0 + 299_000), "that window was not flagged");
    assertEquals(1, s.markNormal(StreamId.of("fb"), Dims.of("job", "a"), T0 + 300_000));
    feed(s, v, 301, 100);
    Rollup again = s.score(rollup(v, 401, true, 250, 20));
    assertTrue(again.anomaly() == null || again.anomaly().score() < LEVEL, "suppressed: " + again.anomaly());
  }

  @Test
  @DisplayName("saved and restored detectors score exactly as ones that never stopped")
  void saveAndRestore() throws Exception {
    RollupScorer a = scorer();
    View v = series("default", "keep");
    feed(a, v, 0, 300);
    List<RollupScorer.Saved> saved = a.dirty(T0, 0, 100);
    assertEquals(2, saved.size());
    assertTrue(a.dirty(T0, 0, 100).isEmpty(), "nothing new to save");
    a.unsaved(saved.subList(0, 1)); // the database refused one: it is due again, even before saveEvery
    assertEquals(List.of(saved.get(0).id()), a.dirty(T0 + 1, 60_000, 100).stream().map(RollupScorer.Saved::id).toList());
    RollupScorer b = scorer();
    assertEquals(2, b.restore(saved));
    for (int i = 300; i < 360; i++) {
      Rollup r = rollup(v, i, true, i == 340 ? 300 : 100 + i % 7, 20);
      assertEquals(a.score(r).anomaly(), b.score(r).anomaly(), "window " + i);
    }
    assertEquals(0, b.restore(List.of(new RollupScorer.Saved(StreamId.of("keep"), "x", new byte[] {9, 9}))),
        "an unreadable state is skipped");
  }

  @Test
  @DisplayName("cluster mode: handOver snapshots and drops the series detectors of the partitions leaving (not a "
      + "total's, not other partitions'), saved with their partition; the next owner scores on exactly as they would")
  void handOverMovesSeriesDetectorsWithTheirPartition() throws Exception {
    RollupScorer a = scorer();
    RollupScorer twin = scorer(); // the same windows, never handed over
    a.partitioner((stream, dims) -> stream.name().equals("moving") ? 3 : 1);
    View moving = series("default", "moving");
    View staying = series("default", "staying");
    View total = views.acquire(StreamId.of("default", "moving"), Map.of(), List.of());
    for (View v : List.of(moving, staying, total)) {
      for (int i = 0; i < 200; i++) {
        Rollup r = rollup(v, i, true, normalCount(), 20 + rnd.nextGaussian());
        a.score(r);
        twin.score(r);
      }
    }
    assertEquals(java.util.Set.of(-1, 1, 3), a.dirty(T0, 0, 100).stream().map(RollupScorer.Saved::partition)
        .collect(java.util.stream.Collectors.toSet()), "a saved state names its series' partition (a total's none)");
    List<RollupScorer.Saved> handed = a.handOver(java.util.Set.of(3), T0);
    assertEquals(2, handed.size(), "the moving series' count and ms.mean");
    assertTrue(handed.stream().allMatch(h -> h.partition() == 3));
    assertEquals(4, a.size(), "the staying series' two and the total's two are kept");
    assertTrue(a.handOver(java.util.Set.of(3), T0).isEmpty(), "nothing left of partition 3");
    RollupScorer b = scorer();
    assertEquals(2, b.restore(handed));
    for (int i = 200; i < 240; i++) {
      Rollup r = rollup(moving, i, true, i == 230 ? 300 : 100 + i % 7, 20);
      assertEquals(twin.score(r).anomaly(), b.score(r).anomaly(), "window " + i);
    }
    assertNull(a.score(rollup(moving, 240, true, 100, 20)).anomaly(), "the old owner starts that series over");
  }

  @Test
  @DisplayName("two tenants' streams of the same name have separate detectors")
  void tenants() throws Exception {
    RollupScorer s = scorer();
    View acme = series("acme", "pay");
    View globex = series("globex", "pay");
    feed(s, acme, 0, 300);
    assertNull(s.score(rollup(globex, 300, true, 100, 20)).anomaly(), "globex's detector is new: still warming up");
    assertEquals(2, s.status(StreamId.of("acme", "pay"), 10).getInteger("warm"));
    assertEquals(0, s.status(StreamId.of("globex", "pay"), 10).getInteger("warm"));
    assertEquals(0, s.markNormal(StreamId.of("globex", "pay"), null, T0 + 10_000));
  }

  @Test
  @DisplayName("past the cap the detector updated longest ago goes, counted")
  void cap() throws Exception {
    RollupScorer s = new RollupScorer(x -> RollupScorer.Watch.DEFAULT, LEVEL, 3);
    View a = series("default", "c1");
    View b = series("default", "c2");
    s.score(rollup(a, 0, true, 1, 1));
    s.score(rollup(b, 0, true, 1, 1));
    assertEquals(3, s.size());
    assertEquals(1, s.evicted());
    assertEquals(1, s.status(StreamId.of("c1"), 10).getInteger("detectors"));
  }

  @Test
  @DisplayName("a deviation that a window's few events explain by chance stays below the alert level")
  void samplingNoise() throws Exception {
    RollupScorer quiet = scorer();
    RollupScorer loud = scorer();
    View v = series("default", "sparse");
    for (int i = 0; i < 400; i++) {
      Rollup r = rollup(v, i, true, 1 + (i % 3 == 0 ? 1 : 0), 20 + rnd.nextGaussian()); // one or two events a window
      quiet.score(r);
      loud.score(r);
    }
    Rollup five = quiet.score(rollup(v, 400, true, 5, 20));
    assertTrue(five.anomaly() == null || five.anomaly().score() < LEVEL,
        "5 events where 1.3 are usual is Poisson chance: " + five.anomaly());
    Rollup forty = loud.score(rollup(v, 400, true, 40, 20));
    assertTrue(forty.anomaly().score() >= LEVEL, "40 is not chance: " + forty.anomaly());
    assertEquals(1.0, RollupScorer.evidence(rollup(v, 0, true, 1000, 20), "count", 1000, 100), 1e-9);
    assertEquals(RollupScorer.NOISE_FLOOR, RollupScorer.evidence(rollup(v, 0, true, 3, 20), "count", 3, 1.5), 1e-9);
  }
}
