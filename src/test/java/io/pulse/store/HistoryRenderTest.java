package io.pulse.store;

import io.pulse.core.StreamId;
import static io.pulse.store.RollupCodecTest.CODEC;
import static io.pulse.store.RollupCodecTest.window;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.agg.WindowAgg;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The series answer has every bucket of its range, marks the cut ones, and stays bounded. */
class HistoryRenderTest {

  /** A multiple of every step used here. */
  private static final long T0 = 1_763_805_600_000L;

  private static RollupStore.Stored row(Dims dims, long start, int events) {
    WindowAgg w = window(start, 1000, events, new Random(start));
    return new RollupStore.Stored(false, dims, start, w.count(), w.latest(), CODEC.encode(w));
  }

  private static History.Request req(long from, long to, long step, List<String> groupBy) {
    return new History.Request(StreamId.of("s"), from, to, step, Map.of(), groupBy, null);
  }

  private static JsonArray points(JsonObject answer) {
    return answer.getJsonArray("series").getJsonObject(0).getJsonArray("points");
  }

  @Test
  @DisplayName("empty buckets are there with count 0 and no figures; the buckets the range cuts are partial")
  void gapsAndPartialEnds() {
    List<RollupStore.Stored> rows = List.of(row(Dims.EMPTY, T0 + 1000, 5), row(Dims.EMPTY, T0 + 21_000, 7));
    JsonArray p = points(History.render(req(T0 + 500, T0 + 35_500, 10_000, List.of()), rows, CODEC, 2048));
    assertEquals(4, p.size(), p.encode());
    for (int i = 0; i < 4; i++) {
      assertEquals(T0 + i * 10_000L, p.getJsonArray(i).getLong(0));
    }
    JsonObject first = p.getJsonArray(0).getJsonObject(1);
    assertEquals(5, first.getLong("count"));
    assertEquals(Boolean.TRUE, first.getBoolean("partial"), "the range starts 500 ms into it");
    JsonObject gap = p.getJsonArray(1).getJsonObject(1);
    assertEquals(new JsonObject().put("count", 0).put("values", new JsonObject()), gap, "no figures: a gap, not a zero");
    JsonObject full = p.getJsonArray(2).getJsonObject(1);
    assertEquals(7, full.getLong("count"));
    assertNull(full.getValue("partial"));
    assertTrue(full.getJsonObject("values").getJsonObject("amount").containsKey("p99"));
    JsonObject last = p.getJsonArray(3).getJsonObject(1);
    assertEquals(0, last.getLong("count"));
    assertEquals(Boolean.TRUE, last.getBoolean("partial"), "the range ends 5.5 s into it");
  }

  @Test
  @DisplayName("a range on bucket edges has no partial bucket; one inside a single bucket has it partial")
  void alignedAndInside() {
    List<RollupStore.Stored> rows = List.of(row(Dims.EMPTY, T0 + 12_000, 3));
    JsonArray p = points(History.render(req(T0, T0 + 40_000, 10_000, List.of()), rows, CODEC, 2048));
    assertEquals(4, p.size());
    for (int i = 0; i < 4; i++) {
      assertFalse(p.getJsonArray(i).getJsonObject(1).containsKey("partial"), p.encode());
    }
    assertEquals(3, p.getJsonArray(1).getJsonObject(1).getLong("count"));
    JsonArray one = points(History.render(req(T0 + 11_000, T0 + 15_000, 10_000, List.of()), rows, CODEC, 2048));
    assertEquals(1, one.size());
    assertEquals(T0 + 10_000, one.getJsonArray(0).getLong(0));
    assertEquals(Boolean.TRUE, one.getJsonArray(0).getJsonObject(1).getBoolean("partial"));
    assertEquals(3, one.getJsonArray(0).getJsonObject(1).getLong("count"));
  }

  @Test
  @DisplayName("every group gets every bucket, including ones only other groups have data in")
  void everyGroupEveryBucket() {
    List<RollupStore.Stored> rows = List.of(row(Dims.of("k", "a"), T0, 2), row(Dims.of("k", "b"), T0 + 2000, 4));
    JsonObject answer = History.render(req(T0, T0 + 3000, 1000, List.of("k")), rows, CODEC, 2048);
    JsonArray series = answer.getJsonArray("series");
    assertEquals(2, series.size());
    for (int s = 0; s < 2; s++) {
      JsonArray p = series.getJsonObject(s).getJsonArray("points");
      assertEquals(3, p.size());
      long[] counts = new long[3];
      for (int i = 0; i < 3; i++) {
        counts[i] = p.getJsonArray(i).getJsonObject(1).getLong("count");
      }
      assertEquals(s == 0 ? "[2, 0, 0]" : "[0, 0, 4]", java.util.Arrays.toString(counts));
    }
  }

  @Test
  @DisplayName("buckets are counted on the epoch grid: a range one bucket too many is a 400 that says the limit")
  void bucketLimit() {
    long max = History.MAX_POINTS;
    History.Request ok = History.parse(StreamId.of("s"), Map.of("from", List.of("" + T0), "to", List.of("" + (T0 + max * 1000)),
        "step", List.of("1s")), T0 + max * 1000);
    assertEquals(max, History.bucketCount(ok.from(), ok.to(), ok.stepMs()));
    // the same length, shifted half a second: it meets one bucket more
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> History.parse(StreamId.of("s"),
        Map.of("from", List.of("" + (T0 + 500)), "to", List.of("" + (T0 + 500 + max * 1000)), "step", List.of("1s")),
        T0 + max * 1000 + 500));
    assertEquals("step: 1s over that range is " + (max + 1) + " points per series, more than " + max
        + "; use a larger step or a shorter range", e.getMessage());
  }

  @Test
  @DisplayName("series times buckets stays within MAX_ANSWER_POINTS: more groups are cut and the answer says so")
  void answerBounded() {
    long buckets = History.MAX_POINTS;
    int allowed = (int) (History.MAX_ANSWER_POINTS / buckets);
    List<RollupStore.Stored> rows = new ArrayList<>();
    for (int g = 0; g < allowed + 20; g++) {
      rows.add(row(Dims.of("k", String.format("g%04d", g)), T0 + g * 1000L, 1));
    }
    JsonObject answer = History.render(req(T0, T0 + buckets * 1000, 1000, List.of("k")), rows, CODEC, 2048);
    assertEquals(allowed, answer.getJsonArray("series").size());
    assertEquals(Boolean.TRUE, answer.getBoolean("truncated"));
    assertEquals(allowed + 20, answer.getInteger("seriesTotal"));
    assertEquals(buckets, answer.getJsonArray("series").getJsonObject(0).getJsonArray("points").size());
  }
}
