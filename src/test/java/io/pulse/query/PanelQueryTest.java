package io.pulse.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link PanelQuery} and {@link QueryAnswer} without a server. */
class PanelQueryTest {

  static final long NOW = 1_763_856_000_000L;
  /** Stream windows: "slow" rolls up every 10 s, the rest every second. */
  static final Map<String, Long> WINDOWS = Map.of("slow", 10_000L);

  static PanelQuery parse(JsonObject doc) {
    return PanelQuery.parse("t1", doc, NOW, s -> WINDOWS.getOrDefault(s, 1_000L));
  }

  static String refused(JsonObject doc) {
    return assertThrows(IllegalArgumentException.class, () -> parse(doc)).getMessage();
  }

  @Test
  @DisplayName("defaults: the last hour back from now, the step /series picks, count, top 20, UTC")
  void defaults() {
    PanelQuery q = parse(new JsonObject().put("query", new JsonObject().put("stream", "pay")));
    assertEquals(NOW - 3_600_000L, q.num().from());
    assertEquals(NOW, q.num().to());
    assertEquals(10_000L, q.num().stepMs(), "the finest giving at most 1000 points");
    assertEquals("t1", q.num().stream().tenant());
    assertEquals(new PanelQuery.Figure(null, "count"), q.numFigure());
    assertEquals(20, q.top());
    assertEquals(0, q.tzOffsetMin());
    assertNull(q.derive());
    assertNull(q.den());
    assertEquals(List.of(q.num().stream()), q.streams());
  }

  @Test
  @DisplayName("the query's fields become /series' request: range, window, filter alternatives, groupBy, metric")
  void fields() {
    PanelQuery q = parse(new JsonObject().put("query", new JsonObject().put("stream", "pay").put("metric", "amount")
        .put("figure", "p99").put("groupBy", new JsonArray().add("method")).put("filter", new JsonObject()
            .put("region", new JsonArray().add("eu").add("us"))).put("window", "1m").put("range", "6h").put("top", 5))
        .put("tz", -300));
    assertEquals(NOW - 6 * 3_600_000L, q.num().from());
    assertEquals(60_000L, q.num().stepMs());
    assertEquals(Map.of("region", Set.of("eu", "us")), q.num().filter());
    assertEquals(List.of("method"), q.num().groupBy());
    assertEquals(Set.of("amount"), q.num().metrics());
    assertEquals(new PanelQuery.Figure("amount", "p99"), q.numFigure());
    assertEquals(5, q.top());
    assertEquals(-300, q.tzOffsetMin());
    // from and to given: they win over the range; ISO and durations as /series takes them
    PanelQuery t = parse(new JsonObject().put("query", new JsonObject().put("stream", "pay").put("range", "7d"))
        .put("from", "2025-11-22T23:00:00Z").put("to", "30m"));
    assertEquals(NOW - 3_600_000L, t.num().from());
    assertEquals(NOW - 1_800_000L, t.num().to());
  }

  @Test
  @DisplayName("a window finer than the stream's is refused; without one, the default step is no finer than it")
  void streamWindow() {
    assertTrue(refused(new JsonObject().put("query", new JsonObject().put("stream", "slow").put("window", "5s")))
        .startsWith("query.window: 5s is finer than"));
    assertEquals(30_000L, parse(new JsonObject().put("query", new JsonObject().put("stream", "slow")
        .put("window", "30s"))).num().stepMs());
    assertEquals(10_000L, parse(new JsonObject().put("query", new JsonObject().put("stream", "slow")
        .put("range", "5m"))).num().stepMs());
  }

  @Test
  @DisplayName("ratio: the denominator is the query with its fields in place; on a coarser stream both take its step")
  void denominator() {
    PanelQuery q = parse(new JsonObject().put("query", new JsonObject().put("stream", "pay").put("window", "1s")
        .put("range", "5m").put("filter", new JsonObject().put("status", "declined")).put("groupBy",
            new JsonArray().add("method"))).put("derive", new JsonObject().put("op", "ratio").put("denominator",
        new JsonObject().put("filter", new JsonObject()))));
    assertEquals(Map.of("status", Set.of("declined")), q.num().filter());
    assertEquals(Map.of(), q.den().filter());
    assertEquals(List.of("method"), q.den().groupBy());
    assertEquals(1_000L, q.den().stepMs());
    assertEquals(new PanelQuery.Figure(null, "count"), q.denFigure());
    PanelQuery other = parse(new JsonObject().put("query", new JsonObject().put("stream", "pay").put("range", "5m"))
        .put("derive", new JsonObject().put("op", "ratio").put("denominator", new JsonObject().put("stream", "slow"))));
    assertEquals(2, other.streams().size());
    assertEquals(10_000L, other.num().stepMs());
    assertEquals(10_000L, other.den().stepMs());
  }

  @Test
  @DisplayName("refusals name the field")
  void refusals() {
    assertEquals("query: required, an object {\"stream\", \"metric\", \"figure\", \"groupBy\", \"filter\", \"window\", "
        + "\"range\", \"top\"}", refused(new JsonObject()));
    assertTrue(refused(new JsonObject().put("query", new JsonObject().put("stream", "pay").put("metric", 3)))
        .startsWith("query.metric: "));
    assertTrue(refused(new JsonObject().put("query", new JsonObject().put("stream", "pay").put("top", 201)))
        .startsWith("query.top: "));
    assertTrue(refused(new JsonObject().put("query", new JsonObject().put("stream", "pay")).put("tz", 1.5))
        .startsWith("tz: "));
    assertTrue(refused(new JsonObject().put("query", new JsonObject().put("stream", "pay")).put("from", 1.5))
        .startsWith("from: "));
    assertTrue(refused(new JsonObject().put("query", new JsonObject().put("stream", "pay")).put("to", true))
        .startsWith("to: "));
    assertTrue(refused(new JsonObject().put("query", new JsonObject().put("stream", "pay")).put("derive", "rate"))
        .startsWith("derive: must be an object"));
    assertTrue(refused(new JsonObject().put("query", new JsonObject().put("stream", "pay")).put("derive",
        new JsonObject().put("op", "ratio").put("denominator", new JsonObject().put("top", 3))))
        .startsWith("derive.denominator.top: "));
    assertTrue(refused(new JsonObject().put("query", new JsonObject().put("stream", "pay")).put("derive",
        new JsonObject().put("op", "ratio").put("denominator", new JsonObject().put("stream", "Bad!"))))
        .startsWith("derive.denominator.stream: "));
  }

  static JsonArray point(long ts, long count, Double amountP99, boolean partial) {
    JsonObject values = new JsonObject();
    if (amountP99 != null) {
      values.put("amount", new JsonObject().put("count", count).put("p99", amountP99));
    }
    JsonObject p = new JsonObject().put("count", count).put("values", values);
    if (partial) {
      p.put("partial", true);
    }
    return new JsonArray().add(ts).add(p);
  }

  static JsonObject seriesAnswer(Object... dimsAndPoints) {
    JsonArray series = new JsonArray();
    for (int i = 0; i < dimsAndPoints.length; i += 2) {
      series.add(new JsonObject().put("series", dimsAndPoints[i]).put("points", dimsAndPoints[i + 1]));
    }
    return new JsonObject().put("from", NOW - 2500).put("to", NOW).put("series", series);
  }

  @Test
  @DisplayName("render: figures picked, gaps null, count 0, partial marked, lastSeen and ageMs, top by events")
  void render() {
    PanelQuery p99 = parse(new JsonObject().put("query", new JsonObject().put("stream", "pay").put("metric", "amount")
        .put("figure", "p99").put("window", "1s").put("groupBy", new JsonArray().add("m")).put("top", 1)));
    JsonObject eu = new JsonObject().put("m", "a");
    JsonObject us = new JsonObject().put("m", "b");
    JsonObject s = seriesAnswer(
        eu, new JsonArray().add(point(NOW - 3000, 2, 5.0, true)).add(point(NOW - 2000, 0, null, false))
            .add(point(NOW - 1000, 1, 7.5, false)),
        us, new JsonArray().add(point(NOW - 3000, 9, 1.0, true)).add(point(NOW - 2000, 1, 2.0, false))
            .add(point(NOW - 1000, 0, null, false)));
    JsonObject a = QueryAnswer.render(p99, s, null, NOW + 500);
    assertEquals(1, a.getJsonArray("series").size());
    assertEquals(true, a.getBoolean("truncated"));
    assertEquals(2, a.getInteger("seriesTotal"));
    JsonObject only = a.getJsonArray("series").getJsonObject(0);
    assertEquals(us, only.getJsonObject("series"), "the busier series");
    assertEquals(new JsonArray().add(NOW - 3000).add(1.0).add(new JsonObject().put("partial", true)),
        only.getJsonArray("points").getJsonArray(0));
    assertEquals(new JsonArray().add(NOW - 1000).addNull(), only.getJsonArray("points").getJsonArray(2));
    assertEquals(NOW - 1000, only.getLong("lastSeen"));
    assertEquals(1500L, only.getLong("ageMs"));
    assertEquals("1s", a.getString("step"));
    assertEquals("p99", a.getString("figure"));

    PanelQuery count = parse(new JsonObject().put("query", new JsonObject().put("stream", "pay").put("window", "1s")
        .put("groupBy", new JsonArray().add("m"))).put("derive", new JsonObject().put("op", "ratio").put("denominator",
        new JsonObject().put("groupBy", new JsonArray()))));
    JsonObject total = seriesAnswer(new JsonObject(), new JsonArray().add(point(NOW - 3000, 11, null, true))
        .add(point(NOW - 2000, 1, null, false)).add(point(NOW - 1000, 0, null, false)));
    JsonObject r = QueryAnswer.render(count, s, total, NOW);
    assertEquals(2, r.getJsonArray("series").size());
    JsonArray first = r.getJsonArray("series").getJsonObject(0).getJsonArray("points");
    assertEquals(2.0 / 11, first.getJsonArray(0).getDouble(1));
    assertEquals(0.0, first.getJsonArray(1).getDouble(1));
    assertNull(first.getJsonArray(2).getValue(1), "0 / 0 is no ratio");
    JsonObject lastSeen = QueryAnswer.render(parse(new JsonObject().put("query", new JsonObject().put("stream", "pay")
        .put("window", "1s")).put("derive", new JsonObject().put("op", "lastSeen"))), total, null, NOW);
    JsonArray lp = lastSeen.getJsonArray("series").getJsonObject(0).getJsonArray("points");
    assertEquals(NOW - 2000, lp.getJsonArray(0).getValue(1));
    assertEquals(NOW - 1000, lp.getJsonArray(2).getValue(1));
    assertTrue(lp.getJsonArray(2).getValue(1) instanceof Long, "whole ms");
  }
}
