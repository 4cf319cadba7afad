package io.pulse.anomaly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.agg.WindowAgg;
import io.pulse.alert.Preview;
import io.pulse.alert.Rule;
import io.pulse.alert.Window;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.store.History;
import io.pulse.store.RollupCodec;
import io.pulse.store.RollupStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A preview of an anomaly rule over stored history: scored afresh where storage has no score, stored scores first. */
class ReplayTest {

  private static final long T0 = 1_763_805_600_000L;
  private static final RollupCodec CODEC = new RollupCodec(0.01, 2048);
  private static final PulseConfig CONFIG = PulseConfig.of(new JsonObject());

  /** 600 one-second windows of about 20 events; the window at 500 s holds 150. */
  private static List<RollupStore.Stored> rows(Map<Long, Double> storedScores) {
    Random rnd = new Random(7);
    List<RollupStore.Stored> rows = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      long start = T0 + i * 1000L;
      WindowAgg w = new WindowAgg(start, start + 1000, 0.01, 2048);
      w.addCounts(i == 500 ? 150 : 20 + rnd.nextInt(9) - 4, start + 500);
      Double score = storedScores.get(start);
      rows.add(new RollupStore.Stored(false, Dims.EMPTY, start, w.count(), w.latest(), CODEC.encode(w),
          score == null ? Double.NaN : score, score == null ? null : "{\"figure\":\"count\",\"value\":20,"
              + "\"expected\":20,\"band\":[16,24],\"deviation\":0.5,\"method\":\"stored\"}", 0));
    }
    return rows;
  }

  private static JsonObject preview(Map<Long, Double> storedScores) {
    Rule rule = Rule.parse("default", "r", new JsonObject("{\"name\":\"busy\",\"stream\":\"s\",\"kind\":\"anomaly\"}"));
    long from = T0 + 300_000;
    long to = T0 + 600_000;
    History.Request req = new History.Request(StreamId.of("s"), from - Replay.WARM_WINDOWS * 1000L, to, 1000, Map.of(),
        List.of(), null);
    RollupScorer scorer = new RollupScorer(s -> RollupScorer.Watch.of(CONFIG, s), 0.9, Integer.MAX_VALUE);
    List<Window> windows = Replay.windows(rule, req, rows(storedScores), CODEC, 2048, scorer);
    assertEquals(600, windows.size());
    return Preview.run(rule, windows, from, to);
  }

  @Test
  @DisplayName("history stored without scores: a detector per series warms up on the windows before the range and "
      + "the rule would have fired once, on the burst")
  void scoresUnscoredHistory() {
    JsonObject p = preview(Map.of());
    assertEquals(1, p.getLong("fired"), p.encodePrettily());
    JsonArray alerts = p.getJsonArray("alerts");
    long firedAt = alerts.getJsonObject(0).getLong("firedAt");
    assertTrue(firedAt >= T0 + 501_000 && firedAt <= T0 + 503_000, "fired at " + (firedAt - T0));
  }

  @Test
  @DisplayName("a score storage kept (made live, with the series' whole past) wins over the replay's own")
  void storedScoresWin() {
    JsonObject p = preview(Map.of(T0 + 400_000, 0.99));
    assertEquals(2, p.getLong("fired"), p.encodePrettily());
    assertEquals(T0 + 401_000, p.getJsonArray("alerts").getJsonObject(0).getLong("firedAt"));
  }
}
