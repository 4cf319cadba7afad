package io.pulse.alert;

import static io.pulse.alert.AlertFixture.rollup;
import static io.pulse.alert.AlertFixture.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.agg.View;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Replaying windows through a rule: how often and when it would have fired and resolved. */
class PreviewTest {

  private static final long T0 = 1_800_000_000_000L;
  private final AlertFixture fx = new AlertFixture();

  @Test
  @DisplayName("a threshold with for over 60 windows with two incidents: fired twice, at the windows' ends after for, "
      + "resolved on the first clear window; windows in any order")
  void threshold() {
    Rule r = rule("default", null, "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"threshold\",\"metric\":\"ms\","
        + "\"figure\":\"p99\",\"op\":\">\",\"value\":100,\"for\":\"2s\"}");
    View v = fx.view(r);
    List<Window> ws = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      boolean incident = (i >= 10 && i < 15) || (i >= 40 && i < 41) || (i >= 50 && i < 55);
      ws.add(Window.of(rollup(v, Dims.EMPTY, T0 + i * 1000L, 5, incident ? 300 : 50)));
    }
    Collections.shuffle(ws, new java.util.Random(1));
    JsonObject p = Preview.run(r, ws, T0, T0 + 60_000);
    assertEquals(60, p.getInteger("windows"));
    assertEquals(2, p.getLong("fired"), p.encodePrettily()); // the 1-window blip at 40 never held for 2 s
    assertEquals(2, p.getLong("resolved"));
    assertEquals(0, p.getLong("stillFiring"));
    JsonArray alerts = p.getJsonArray("alerts");
    JsonObject first = alerts.getJsonObject(0);
    assertEquals(T0 + 11_000, first.getLong("pendingAt"));
    assertEquals(T0 + 13_000, first.getLong("firedAt"));
    assertEquals(T0 + 16_000, first.getLong("resolvedAt"));
    assertEquals(300.0, first.getDouble("peak"));
    assertEquals(T0 + 53_000, alerts.getJsonObject(1).getLong("firedAt"));
    assertEquals(3_000 + 3_000, p.getLong("firingMs"));
    assertEquals(4, p.getLong("notifications"), "two firings, two resolutions");
  }

  @Test
  @DisplayName("absence over a gap in the history: fires absentFor after the last window, resolves when windows resume, "
      + "and an alert still firing at the end is counted")
  void absence() {
    Rule r = rule("default", "abs", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"absence\",\"absentFor\":\"10s\"}");
    View v = fx.view(r);
    List<Window> ws = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      ws.add(Window.of(rollup(v, Dims.EMPTY, T0 + i * 1000L, 1, 1)));
    }
    for (int i = 60; i < 70; i++) {
      ws.add(Window.of(rollup(v, Dims.EMPTY, T0 + i * 1000L, 1, 1)));
    }
    JsonObject p = Preview.run(r, ws, T0, T0 + 100_000);
    assertEquals(2, p.getLong("fired"), p.encodePrettily());
    JsonObject gap = p.getJsonArray("alerts").getJsonObject(0);
    assertEquals(T0 + 30_000, gap.getLong("firedAt"));
    assertEquals(T0 + 61_000, gap.getLong("resolvedAt"));
    assertEquals(1, p.getLong("stillFiring"));
    assertEquals(T0 + 80_000, p.getJsonArray("alerts").getJsonObject(1).getLong("firedAt"));
  }

  @Test
  @DisplayName("an anomaly rule over windows without scores says why it cannot fire")
  void anomalyWithoutScores() {
    Rule r = rule("default", "a", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"anomaly\"}");
    View v = fx.view(r);
    JsonObject p = Preview.run(r, List.of(Window.of(rollup(v, Dims.EMPTY, T0, 1, 1))), T0, T0 + 10_000);
    assertEquals(0, p.getLong("fired"));
    assertTrue(p.containsKey("note"));
    JsonObject scored = Preview.run(r, List.of(Window.of(AlertFixture.scored(v, Dims.EMPTY, T0, 0.99))), T0,
        T0 + 10_000);
    assertEquals(1, scored.getLong("fired"));
    assertFalse(scored.containsKey("note"));
  }

  @Test
  @DisplayName("an anomaly rule over unscored history with a detector: each series scored in time order by its own "
      + "detector, earlier windows warming it up")
  void anomalyWithDetector() {
    Rule r = rule("default", "a", "{\"name\":\"n\",\"stream\":\"s\",\"kind\":\"anomaly\",\"groupBy\":[\"h\"]}");
    View v = fx.view(r);
    List<Window> ws = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      ws.add(Window.of(rollup(v, Dims.of("h", "a"), T0 + i * 1000L, 5, i == 15 ? 100 : 1)));
      ws.add(Window.of(rollup(v, Dims.of("h", "b"), T0 + i * 1000L, 5, 1)));
    }
    java.util.Map<Dims, Integer> made = new java.util.HashMap<>();
    JsonObject p = Preview.run(r, ws, T0 + 5_000, T0 + 20_000, series -> {
      made.merge(series, 1, Integer::sum);
      long[] seen = {0};
      // a stand-in detector: warm after 3 windows, then scores a window whose max is far from 1
      return w -> ++seen[0] <= 3 ? null
          : new io.pulse.agg.Anomaly(w.figure("ms", "max") > 10 ? 0.99 : 0.1, "ms.max", w.figure("ms", "max"), 1, 0, 2,
              9, "test");
    });
    assertEquals(java.util.Map.of(Dims.of("h", "a"), 1, Dims.of("h", "b"), 1), made, "one detector per series");
    assertEquals(1, p.getLong("fired"), p.encodePrettily());
    assertEquals(new JsonObject().put("h", "a"), p.getJsonArray("alerts").getJsonObject(0).getJsonObject("series"));
    assertEquals(T0 + 16_000, p.getJsonArray("alerts").getJsonObject(0).getLong("firedAt"));
  }
}
