package io.pulse.query;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class DeriveTest {

  /** The table derive.js is held to as well (DeriveBrowserTest). */
  static JsonObject cases() {
    try (InputStream in = DeriveTest.class.getResourceAsStream("/derive-cases.json")) {
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<Derive.Bucket> buckets(JsonArray a) {
    List<Derive.Bucket> out = new ArrayList<>();
    if (a == null) {
      return out;
    }
    for (Object o : a) {
      JsonObject b = (JsonObject) o;
      Object v = b.getValue("value");
      Object c = b.getValue("count");
      out.add(new Derive.Bucket(b.getLong("start"), b.getLong("end"), v instanceof Number n ? n.doubleValue() : null,
          c instanceof Number n ? n.longValue() : null, b.getBoolean("partial", false)));
    }
    return out;
  }

  static Derive.Ctx ctx(JsonObject c) {
    return new Derive.Ctx(c.getLong("now", 0L), c.getInteger("tzOffsetMin", 0), c.getLong("windowMs", 0L));
  }

  @Test
  @DisplayName("every case of derive-cases.json: the same values, to the bit, or the same reason")
  void table() {
    JsonArray cases = cases().getJsonArray("cases");
    assertTrue(cases.size() >= 30);
    for (Object o : cases) {
      JsonObject c = (JsonObject) o;
      String name = c.getString("name");
      if (c.containsKey("error")) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> Derive.Spec.parse(c.getValue("spec")), name);
        assertEquals(c.getString("error"), e.getMessage(), name);
        continue;
      }
      Derive.Spec spec = Derive.Spec.parse(c.getValue("spec"));
      List<Derive.Bucket> in = buckets(c.getJsonArray("buckets"));
      List<Derive.Point> got = Derive.apply(spec, in, buckets(c.getJsonArray("den")), ctx(c.getJsonObject("ctx")));
      JsonArray expect = c.getJsonArray("expect");
      assertEquals(expect.size(), got.size(), name);
      for (int i = 0; i < got.size(); i++) {
        Object want = expect.getValue(i);
        Double have = got.get(i).value();
        if (want == null) {
          assertNull(have, name + " [" + i + "]");
        } else {
          assertEquals(((Number) want).doubleValue(), have, 0.0, name + " [" + i + "]");
        }
        assertEquals(in.get(i).start(), got.get(i).start(), name);
        assertEquals(in.get(i).end(), got.get(i).end(), name);
        assertEquals(in.get(i).partial(), got.get(i).partial(), name);
      }
    }
  }

  @Test
  @DisplayName("NaN and infinities are no value: gaps, not numbers")
  void nonFinite() {
    Double[] v = {Double.NaN, Double.POSITIVE_INFINITY, 2.0};
    assertArrayEquals(new Double[] {null, null, 1.0}, Derive.ratio(v, new Double[] {1.0, 1.0, 2.0}));
    assertArrayEquals(new Double[] {null, null, null}, Derive.ratio(new Double[] {1.0, 1.0, 1.0},
        new Double[] {Double.NaN, Double.NEGATIVE_INFINITY, 0.0}));
    assertArrayEquals(new Double[] {null, null, 2.0}, Derive.rate(v, new long[] {1000, 1000, 1000}, 1));
    assertArrayEquals(new Double[] {null, null, 2.0}, Derive.movingAverage(v, 2));
    assertArrayEquals(new Double[] {0.0, 0.0, 2.0}, Derive.cumulative(new long[] {0, 1, 2}, v, 0));
  }

  @Test
  @DisplayName("ratio: a shorter denominator is absent beyond its end; -0 is a zero denominator")
  void ratioEdges() {
    assertArrayEquals(new Double[] {0.5, null}, Derive.ratio(new Double[] {1.0, 1.0}, new Double[] {2.0}));
    assertArrayEquals(new Double[] {null}, Derive.ratio(new Double[] {1.0}, new Double[] {-0.0}));
    assertArrayEquals(new Double[] {}, Derive.ratio(new Double[] {}, new Double[] {1.0}));
  }

  @Test
  @DisplayName("rate: a bucket of no width has no rate")
  void rateZeroWidth() {
    assertArrayEquals(new Double[] {null, 4.0}, Derive.rate(new Double[] {1.0, 2.0}, new long[] {0, 500}, 1));
  }

  @Test
  @DisplayName("startOfDay: local midnight for zones east and west, at and around midnight, before 1970 offsets")
  void startOfDay() {
    long jan2 = 1_767_312_000_000L; // 2026-01-02T00:00Z
    assertEquals(jan2, Derive.startOfDay(jan2, 0));
    assertEquals(jan2, Derive.startOfDay(jan2 + 86_399_999L, 0));
    assertEquals(jan2 - 86_400_000L, Derive.startOfDay(jan2 - 1, 0));
    assertEquals(jan2 - 3_600_000L, Derive.startOfDay(jan2, 60)); // 01:00 in UTC+1: its midnight was 23:00Z
    assertEquals(jan2 - 3_600_000L, Derive.startOfDay(jan2 - 3_600_000L, 60));
    assertEquals(jan2 - 3_600_000L - 86_400_000L, Derive.startOfDay(jan2 - 3_600_001L, 60));
    assertEquals(jan2 - 86_400_000L + 5 * 3_600_000L, Derive.startOfDay(jan2, -300)); // 19:00 the day before in UTC-5
    assertEquals(jan2 + 30 * 60_000L - 86_400_000L, Derive.startOfDay(jan2, -30));
    assertEquals(-14 * 3_600_000L, Derive.startOfDay(0, 14 * 60));
  }

  @Test
  @DisplayName("cumulative since today follows now: at midnight it starts again")
  void todayMoves() {
    long jan2 = 1_767_312_000_000L;
    List<Derive.Bucket> b = List.of(new Derive.Bucket(jan2 - 3_600_000L, jan2, 5.0, 5L),
        new Derive.Bucket(jan2, jan2 + 3_600_000L, 7.0, 7L));
    Derive.Spec today = Derive.Spec.parse(new JsonObject().put("op", "cumulative").put("since", "today"));
    assertEquals(List.of(5.0, 12.0), values(Derive.derive(today, b, new Derive.Ctx(jan2 - 1, 0, 3_600_000L))));
    assertEquals(java.util.Arrays.asList(null, 7.0), values(Derive.derive(today, b, new Derive.Ctx(jan2, 0,
        3_600_000L))));
  }

  @Test
  @DisplayName("lastSeen of a series: the newest bucket with events; none: null")
  void lastSeen() {
    assertNull(Derive.lastSeen(List.of()));
    assertNull(Derive.lastSeen(List.of(new Derive.Bucket(0, 1000, null, 0L))));
    assertEquals(2000L, Derive.lastSeen(List.of(new Derive.Bucket(0, 1000, 1.0, 1L),
        new Derive.Bucket(1000, 2000, null, 4L), new Derive.Bucket(2000, 3000, 3.0, 0L))));
    assertArrayEquals(new Long[] {null, 20L, 20L}, Derive.lastSeen(new long[] {10, 20, 30},
        new boolean[] {false, true, false}));
  }

  @Test
  @DisplayName("the ops of no buckets are no points; ratio only through deriveRatio")
  void emptyAndMisuse() {
    for (String op : new String[] {"lastSeen"}) {
      assertTrue(Derive.derive(Derive.Spec.parse(new JsonObject().put("op", op)), List.of(),
          new Derive.Ctx(0, 0, 1000)).isEmpty());
    }
    Derive.Spec ratio = Derive.Spec.parse(new JsonObject().put("op", "ratio").put("denominator", new JsonObject()));
    assertTrue(ratio.ratio());
    assertThrows(IllegalArgumentException.class, () -> Derive.derive(ratio, List.of(), new Derive.Ctx(0, 0, 0)));
    Derive.Spec rate = Derive.Spec.parse(new JsonObject().put("op", "rate").put("per", "1s"));
    assertFalse(rate.ratio());
    assertThrows(IllegalArgumentException.class, () -> Derive.deriveRatio(rate, List.of(), List.of(),
        new Derive.Ctx(0, 0, 0)));
    assertTrue(Derive.deriveRatio(ratio, List.of(), List.of(), new Derive.Ctx(0, 0, 0)).isEmpty());
    assertThrows(IllegalArgumentException.class, () -> Derive.Spec.parse(null));
    assertThrows(IllegalArgumentException.class, () -> Derive.Spec.parse("rate"));
    assertEquals(1_000L, Derive.Spec.parse(new JsonObject().put("op", "cumulative").put("since", 1000)).sinceMs());
    assertEquals(253_402_300_799_999L, Derive.Spec.parse(new JsonObject().put("op", "cumulative")
        .put("since", 253_402_300_799_999L)).sinceMs());
    assertThrows(IllegalArgumentException.class, () -> Derive.Spec.parse(new JsonObject().put("op", "cumulative")
        .put("since", 253_402_300_800_000L)));
  }

  private static List<Double> values(List<Derive.Point> points) {
    List<Double> out = new ArrayList<>();
    points.forEach(p -> out.add(p.value()));
    return out;
  }
}
