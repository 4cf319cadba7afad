package io.pulse.dash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The dashboard and playlist documents' shape (wallboard contract, sections 1, 3 and 6), without a server. */
class DashboardDocsTest {

  private static JsonObject good() {
    return new JsonObject("""
        {"title": "Payments", "description": "money", "time": {"range": "15m", "window": "1s"},
         "owner": {"team": "risk"},
         "panels": [
          {"id": "p1", "kind": "timeseries", "title": "Amount p99", "grid": {"x": 0, "y": 0, "w": 6, "h": 4},
           "query": {"stream": "payments", "metric": "amount", "figure": "p99", "groupBy": ["method"],
                     "filter": {"region": ["eu", "us"]}, "window": "10s", "range": "1h", "top": 10},
           "options": {"unit": "EUR", "band": true, "future": 1}},
          {"id": "p2", "kind": "stat", "grid": {"x": 6, "y": 0, "w": 6, "h": 4},
           "query": {"stream": "payments", "metric": "declined", "figure": "sum"},
           "derive": {"op": "ratio", "denominator": {"figure": "count", "metric": null, "filter": {}}},
           "options": {"thresholds": [{"value": 0.05, "level": "warning"}]}},
          {"id": "p3", "kind": "alerts", "grid": {"x": 0, "y": 4, "w": 12, "h": 3}},
          {"id": "p4", "kind": "text", "grid": {"x": 0, "y": 7, "w": 12, "h": 2}, "options": {"text": "hello"}},
          {"id": "p5", "kind": "bar", "grid": {"x": 0, "y": 9, "w": 4, "h": 2}, "query": {"stream": "cart"},
           "derive": {"op": "rate", "per": "1m"}}
         ]}""");
  }

  private static String refused(JsonObject doc) {
    return assertThrows(DashboardDocs.Invalid.class, () -> DashboardDocs.check(doc)).getMessage();
  }

  /** The good document with {@code panels[i]} replaced by a change of it. */
  private static JsonObject withPanel(int i, java.util.function.Consumer<JsonObject> change) {
    JsonObject doc = good();
    change.accept(doc.getJsonArray("panels").getJsonObject(i));
    return doc;
  }

  @Test
  @DisplayName("a document in the contract's shape passes, unknown fields and all, and is not changed")
  void good_passes() {
    JsonObject doc = good();
    DashboardDocs.check(doc);
    assertEquals(good(), doc);
    DashboardDocs.check(new JsonObject().put("title", "empty")); // no panels: fine
    DashboardDocs.check(new JsonObject().put("name", "NOC wall")); // stored before titles: its name is its title
  }

  @Test
  @DisplayName("the first thing wrong is refused with its path")
  void refusals_name_the_path() {
    assertEquals("panels[1].query.figure: one of count, sum, min, max, mean, p50, p95, p99",
        refused(withPanel(1, p -> p.getJsonObject("query").put("figure", "median"))));
    assertTrue(refused(new JsonObject()).startsWith("title: required"));
    assertTrue(refused(new JsonObject().put("title", " ")).startsWith("title: "));
    assertTrue(refused(new JsonObject().put("title", "x".repeat(121))).startsWith("title: "));
    assertTrue(refused(good().put("description", "x".repeat(2001))).startsWith("description: "));
    assertTrue(refused(good().put("time", new JsonObject().put("range", "2h"))).startsWith("time.range: one of 5m"));
    assertTrue(refused(good().put("time", new JsonObject().put("window", "2s"))).startsWith("time.window: one of 1s"));
    assertTrue(refused(good().put("panels", new JsonObject())).startsWith("panels: must be an array"));
    assertEquals("panels[0].kind: one of timeseries, stat, gauge, bar, table, statusgrid, alerts, text",
        refused(withPanel(0, p -> p.put("kind", "heatmap"))));
    assertTrue(refused(withPanel(0, p -> p.put("id", "a b"))).startsWith("panels[0].id: "));
    assertTrue(refused(withPanel(0, p -> p.put("id", "x".repeat(33)))).startsWith("panels[0].id: "));
    assertTrue(refused(withPanel(1, p -> p.put("id", "p1"))).startsWith("panels[1].id: \"p1\" is the id of another"));
    assertTrue(refused(withPanel(0, p -> p.put("title", "t".repeat(121)))).startsWith("panels[0].title: "));
    assertTrue(refused(withPanel(0, p -> p.remove("query"))).startsWith("panels[0].query: required"));
    assertTrue(refused(withPanel(3, p -> p.put("query", new JsonObject().put("stream", "s"))))
        .startsWith("panels[3].query: a text panel has no query"));
    assertTrue(refused(withPanel(3, p -> p.getJsonObject("options").put("text", "t".repeat(4001))))
        .startsWith("panels[3].options.text: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("query").put("stream", "Pay Ments")))
        .startsWith("panels[0].query.stream: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("query").remove("metric")))
        .startsWith("panels[0].query.metric: required for figure p99"));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("query").put("groupBy", "method")))
        .startsWith("panels[0].query.groupBy: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("query").put("groupBy", new JsonArray().add("a").add("a"))))
        .startsWith("panels[0].query.groupBy[1]: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("query").put("filter", new JsonObject().put("region", "eu"))))
        .startsWith("panels[0].query.filter.region: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("query").put("window", "2s"))).startsWith("panels[0].query.window: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("query").put("range", "30d"))).startsWith("panels[0].query.range: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("query").put("top", 201))).startsWith("panels[0].query.top: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("query").put("top", 0))).startsWith("panels[0].query.top: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("query").put("top", 2.5))).startsWith("panels[0].query.top: "));
    DashboardDocs.check(withPanel(0, p -> p.getJsonObject("query").put("top", 200)));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("options").put("band", "yes"))).startsWith("panels[0].options.band: "));
    assertTrue(refused(withPanel(1, p -> p.getJsonObject("options").getJsonArray("thresholds").getJsonObject(0)
        .put("level", "red"))).startsWith("panels[1].options.thresholds[0].level: one of ok, warning, critical"));
    assertTrue(refused(withPanel(2, p -> p.put("options", new JsonObject().put("states", new JsonArray().add("open")))))
        .startsWith("panels[2].options.states[0]: "));
    assertTrue(refused(withPanel(2, p -> p.put("derive", new JsonObject().put("op", "lastSeen"))))
        .startsWith("panels[2].derive: only a panel with a query"));
  }

  @Test
  @DisplayName("the grid has 12 columns: x + w <= 12, h 1..24, y >= 0, all whole numbers and required")
  void grid() {
    assertTrue(refused(withPanel(0, p -> p.remove("grid"))).startsWith("panels[0].grid: required"));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("grid").put("x", 7))).startsWith("panels[0].grid: x + w must be at most 12"));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("grid").put("w", 13))).startsWith("panels[0].grid.w: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("grid").put("w", 0))).startsWith("panels[0].grid.w: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("grid").put("h", 25))).startsWith("panels[0].grid.h: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("grid").put("h", 0))).startsWith("panels[0].grid.h: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("grid").put("y", -1))).startsWith("panels[0].grid.y: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("grid").put("x", "0"))).startsWith("panels[0].grid.x: "));
    assertTrue(refused(withPanel(0, p -> p.getJsonObject("grid").remove("h"))).startsWith("panels[0].grid.h: "));
    DashboardDocs.check(withPanel(0, p -> p.getJsonObject("grid").put("x", 6).put("w", 6).put("h", 24)));
  }

  @Test
  @DisplayName("at most 48 panels")
  void panelLimit() {
    JsonObject doc = new JsonObject().put("title", "many");
    JsonArray panels = new JsonArray();
    for (int i = 0; i < 48; i++) {
      panels.add(new JsonObject().put("id", "t" + i).put("kind", "text")
          .put("grid", new JsonObject().put("x", 0).put("y", i).put("w", 12).put("h", 1)));
    }
    DashboardDocs.check(doc.put("panels", panels));
    panels.add(new JsonObject().put("id", "t48").put("kind", "text")
        .put("grid", new JsonObject().put("x", 0).put("y", 48).put("w", 12).put("h", 1)));
    assertEquals("panels: at most 48 panels, not 49", refused(doc));
  }

  @Test
  @DisplayName("derive: the five ops with their parameters checked")
  void derive() {
    java.util.function.Function<JsonObject, JsonObject> on = d -> withPanel(0, p -> p.put("derive", d));
    DashboardDocs.check(on.apply(new JsonObject().put("op", "rate").put("per", "1h")));
    DashboardDocs.check(on.apply(new JsonObject().put("op", "cumulative").put("since", "today")));
    DashboardDocs.check(on.apply(new JsonObject().put("op", "cumulative").put("since", "range")));
    DashboardDocs.check(on.apply(new JsonObject().put("op", "cumulative").put("since", 1_700_000_000_000L)));
    DashboardDocs.check(on.apply(new JsonObject().put("op", "movingAverage").put("n", 2)));
    DashboardDocs.check(on.apply(new JsonObject().put("op", "movingAverage").put("n", 100)));
    DashboardDocs.check(on.apply(new JsonObject().put("op", "lastSeen")));
    DashboardDocs.check(on.apply(new JsonObject().put("op", "ratio").put("denominator", new JsonObject().put("stream", "cart"))));
    assertTrue(refused(on.apply(new JsonObject().put("op", "sqrt"))).startsWith("panels[0].derive.op: one of ratio, rate"));
    assertTrue(refused(on.apply(new JsonObject())).startsWith("panels[0].derive.op: "));
    assertTrue(refused(on.apply(new JsonObject().put("op", "rate"))).startsWith("panels[0].derive.per: one of 1s, 1m, 1h"));
    assertTrue(refused(on.apply(new JsonObject().put("op", "rate").put("per", "1d"))).startsWith("panels[0].derive.per: "));
    assertTrue(refused(on.apply(new JsonObject().put("op", "cumulative").put("since", "yesterday")))
        .startsWith("panels[0].derive.since: "));
    assertTrue(refused(on.apply(new JsonObject().put("op", "cumulative").put("since", -5)))
        .startsWith("panels[0].derive.since: "));
    assertTrue(refused(on.apply(new JsonObject().put("op", "movingAverage").put("n", 1))).startsWith("panels[0].derive.n: "));
    assertTrue(refused(on.apply(new JsonObject().put("op", "movingAverage").put("n", 101))).startsWith("panels[0].derive.n: "));
    assertTrue(refused(on.apply(new JsonObject().put("op", "movingAverage"))).startsWith("panels[0].derive.n: "));
    assertTrue(refused(on.apply(new JsonObject().put("op", "ratio"))).startsWith("panels[0].derive.denominator: required"));
    assertTrue(refused(on.apply(new JsonObject().put("op", "ratio").put("denominator", new JsonObject().put("figure", "avg"))))
        .startsWith("panels[0].derive.denominator.figure: "));
    assertTrue(refused(on.apply(new JsonObject().put("op", "ratio").put("denominator", new JsonObject().put("stream", "A B"))))
        .startsWith("panels[0].derive.denominator.stream: "));
  }

  @Test
  @DisplayName("the streams a dashboard reads: its panels' streams and ratio denominators'")
  void streams() {
    assertEquals(Set.of("payments", "cart"), DashboardDocs.streams(good()));
    assertEquals(Set.of("checkout", "cart"), DashboardDocs.streams(ReadyDashboards.one("checkout")));
    assertEquals(Set.of(), DashboardDocs.streams(new JsonObject().put("name", "old")));
  }

  @Test
  @DisplayName("the six ready dashboards pass, use their demo streams, all eight kinds and every derive op together")
  void readyDashboards() {
    Set<String> kinds = new HashSet<>();
    Set<String> ops = new HashSet<>();
    List<JsonObject> all = ReadyDashboards.all();
    assertEquals(6, all.size());
    for (JsonObject d : all) {
      DashboardDocs.check(d);
      String name = d.getString("ready");
      assertEquals("ready-" + name, d.getString("id"));
      Set<String> own = new HashSet<>();
      for (Object o : d.getJsonArray("panels")) {
        JsonObject p = (JsonObject) o;
        own.add(p.getString("kind"));
        if (p.getJsonObject("derive") != null) {
          ops.add(p.getJsonObject("derive").getString("op"));
        }
      }
      assertTrue(own.size() >= 5, name + " uses " + own);
      kinds.addAll(own);
      Set<String> streams = DashboardDocs.streams(d);
      assertTrue(streams.contains(name), name + " reads " + streams);
    }
    assertEquals(new HashSet<>(DashboardDocs.KINDS), kinds);
    assertEquals(new HashSet<>(DashboardDocs.DERIVE_OPS), ops);
  }

  @Test
  @DisplayName("playlists: a title, an interval of 10s to 1h, 1 to 50 dashboard ids")
  void playlists() {
    JsonObject ok = new JsonObject().put("title", "NOC").put("interval", "30s")
        .put("dashboards", new JsonArray().add("ready-payments").add("noc"));
    DashboardDocs.checkPlaylist(ok);
    DashboardDocs.checkPlaylist(ok.copy().put("interval", "10s"));
    DashboardDocs.checkPlaylist(ok.copy().put("interval", "1h"));
    DashboardDocs.checkPlaylist(ok.copy().put("interval", "60m"));
    for (String bad : List.of("9s", "61m", "2h", "30", "fast", "")) {
      String m = assertThrows(DashboardDocs.Invalid.class, () -> DashboardDocs.checkPlaylist(ok.copy().put("interval", bad)))
          .getMessage();
      assertTrue(m.startsWith("interval: "), bad + " -> " + m);
    }
    JsonObject untitled = ok.copy();
    untitled.remove("title");
    assertTrue(assertThrows(DashboardDocs.Invalid.class, () -> DashboardDocs.checkPlaylist(untitled)).getMessage()
        .startsWith("title: "));
    assertTrue(assertThrows(DashboardDocs.Invalid.class, () -> DashboardDocs.checkPlaylist(ok.copy()
        .put("dashboards", new JsonArray()))).getMessage().startsWith("dashboards: "));
    JsonArray many = new JsonArray();
    for (int i = 0; i < 51; i++) {
      many.add("d" + i);
    }
    assertTrue(assertThrows(DashboardDocs.Invalid.class, () -> DashboardDocs.checkPlaylist(ok.copy()
        .put("dashboards", many))).getMessage().startsWith("dashboards: "));
    assertEquals("dashboards[1]: must be a dashboard id ([A-Za-z0-9_.-]{1,64})", assertThrows(DashboardDocs.Invalid.class,
        () -> DashboardDocs.checkPlaylist(ok.copy().put("dashboards", new JsonArray().add("a").add("b c")))).getMessage());
    assertEquals(List.of("a", "b"), List.copyOf(DashboardDocs.playlistDashboards(new JsonObject()
        .put("dashboards", new JsonArray().add("a").add("b").add("a")))));
  }
}
