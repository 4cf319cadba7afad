package io.pulse.anomaly;

import io.pulse.agg.Anomaly;
import io.pulse.agg.ValueStats;
import io.pulse.agg.WindowAgg;
import io.pulse.alert.Rule;
import io.pulse.alert.Window;
import io.pulse.event.Dims;
import io.pulse.live.LiveJson;
import io.pulse.store.History;
import io.pulse.store.RollupCodec;
import io.pulse.store.RollupStore;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Stored history as a rule preview replays it: the windows of a rule's view, each with the score,
 * explanation and outlier count that storage kept for it. For an anomaly rule every window also
 * goes through a fresh detector per series ({@link RollupScorer}, the live scorer's code), in time
 * order, so history stored before detection was on, or under another view, is scored the way the
 * server would have scored it; a stored score, made live with the series' whole past, wins where
 * there is one. Ask for {@link #WARM_WINDOWS} windows before the range: they warm the detectors up.
 */
public final class Replay {

  /** Windows before a preview's range read to warm its detectors up (twice their warm-up). */
  public static final int WARM_WINDOWS = 2 * io.pulse.detect.SeriesDetector.WARM_UP;

  private Replay() {
  }

  /**
   * The windows of {@code rows} (read for {@code req}) as the alert engine sees them.
   *
   * @param scorer scores the windows of an anomaly rule; null: stored scores only
   */
  public static List<Window> windows(Rule rule, History.Request req, List<RollupStore.Stored> rows, RollupCodec codec,
      int maxBins, RollupScorer scorer) {
    Map<Dims, TreeMap<Long, WindowAgg>> groups = History.buckets(req, rows, codec, maxBins);
    Map<Dims, Map<Long, History.Marks>> marks = History.marks(req, rows);
    boolean score = scorer != null && rule.kind() == Rule.Kind.ANOMALY;
    List<Window> out = new ArrayList<>();
    groups.forEach((series, byStart) -> {
      Map<Long, History.Marks> m = marks.getOrDefault(series, Map.of());
      for (WindowAgg w : byStart.values()) { // in time order: a detector learns a series forwards
        History.Marks mark = m.get(w.start());
        Anomaly stored = mark == null || Double.isNaN(mark.score()) || mark.anomaly() == null ? null
            : LiveJson.anomaly(mark.score(), new JsonObject(mark.anomaly()));
        Anomaly fresh = score ? judge(scorer, rule, series, w) : null;
        out.add(Window.of(rule.stream(), rule.viewSpec(), series, w, stored != null ? stored : fresh,
            mark == null ? 0 : mark.outliers()));
      }
    });
    return out;
  }

  private static Anomaly judge(RollupScorer scorer, Rule rule, Dims series, WindowAgg w) {
    int n = w.valueCount();
    String[] names = new String[n];
    ValueStats.Summary[] stats = new ValueStats.Summary[n];
    for (int i = 0; i < n; i++) {
      names[i] = w.valueName(i);
      stats[i] = w.valueStats(i).summary();
    }
    return scorer.judge(rule.stream(), rule.viewSpec(), series, w.start(), true, w.count(), names, stats);
  }
}
