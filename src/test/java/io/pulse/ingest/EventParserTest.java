package io.pulse.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class EventParserTest {

  private static final long NOW = 1_763_805_600_000L;
  private final EventParser parser = new EventParser(PulseConfig.of(null).ingest());

  private ParseResult json(String body) {
    return parser.parse(body.getBytes(StandardCharsets.UTF_8), BodyFormat.JSON, "default", null, NOW);
  }

  private ParseResult ndjson(String body) {
    return parser.parse(body.getBytes(StandardCharsets.UTF_8), BodyFormat.NDJSON, "default", null, NOW);
  }

  @Test
  @DisplayName("one object becomes one event with its stream, time, id, dims and values")
  void oneObject() {
    ParseResult r = json("{\"stream\":\"checkout\",\"ts\":1763805600123,\"id\":\"e1\","
        + "\"dims\":{\"store\":\"s042\",\"region\":\"eu\"},\"values\":{\"amount\":129.9,\"items\":3}}");
    assertEquals(1, r.events().size());
    Event e = r.events().get(0);
    assertEquals(StreamId.of("checkout"), e.stream());
    assertEquals(1763805600123L, e.ts());
    assertEquals("e1", e.id());
    assertEquals(Dims.of("region", "eu", "store", "s042"), e.dims());
    assertEquals(129.9, e.valueMap().get("amount"));
    assertEquals(3.0, e.valueMap().get("items"));
    assertEquals(NOW, e.arrival());
  }

  @Test
  @DisplayName("events of one series share one Dims, in any key order; other dims and repeated keys stay apart")
  void dimsShared() {
    ParseResult r = ndjson("{\"stream\":\"s\",\"dims\":{\"a\":\"1\",\"b\":\"2\"},\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"s\",\"dims\":{\"a\":\"1\",\"b\":\"2\"},\"values\":{\"v\":2}}\n"
        + "{\"stream\":\"s\",\"dims\":{\"b\":\"2\",\"a\":\"1\"},\"values\":{\"v\":3}}\n"
        + "{\"stream\":\"s\",\"dims\":{\"a\":\"1\",\"b\":\"3\"},\"values\":{\"v\":4}}\n"
        + "{\"stream\":\"s\",\"dims\":{\"a\":\"1\",\"a\":\"1\"},\"values\":{\"v\":5}}\n"
        + "{\"stream\":\"s\",\"dims\":{\"a\":\"1\",\"a\":\"1\"},\"values\":{\"v\":6}}");
    assertEquals(4, r.events().size());
    assertTrue(r.events().get(0).dims() == r.events().get(1).dims(), "same pairs, same instance");
    assertEquals(r.events().get(0).dims(), r.events().get(2).dims());
    assertEquals(Dims.of("a", "1", "b", "3"), r.events().get(3).dims());
    assertEquals(2, r.rejections().size());
    assertEquals("dims: a key is given twice", r.rejections().get(1).error());
  }

  @Test
  @DisplayName("the overflow series' dim _overflow is Pulse's own: an event naming it is refused with the reason, its neighbours kept")
  void overflowDimReserved() {
    ParseResult r = ndjson("{\"stream\":\"s\",\"dims\":{\"_overflow\":\"true\"},\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"s\",\"dims\":{\"region\":\"eu\"},\"values\":{\"v\":2}}");
    assertEquals(1, r.events().size());
    assertEquals(1, r.rejections().size());
    assertTrue(r.rejections().get(0).error().startsWith("dims._overflow: reserved"), r.rejections().get(0).error());
    assertEquals(1, json("{\"stream\":\"s\",\"dims\":{\"_overflow\":\"x\",\"a\":\"b\"},\"values\":{\"v\":1}}")
        .rejections().size(), "in a JSON body too, whatever its value");
  }

  @Test
  @DisplayName("ts defaults to arrival and accepts ISO-8601 with Z or an offset")
  void times() {
    assertEquals(NOW, json("{\"stream\":\"s\",\"values\":{\"v\":1}}").events().get(0).ts());
    assertEquals(1763805600000L, json("{\"stream\":\"s\",\"ts\":\"2025-11-22T10:00:00Z\",\"values\":{\"v\":1}}")
        .events().get(0).ts());
    assertEquals(1763805600000L, json("{\"stream\":\"s\",\"ts\":\"2025-11-22T11:00:00+01:00\",\"values\":{\"v\":1}}")
        .events().get(0).ts());
    assertTrue(json("{\"stream\":\"s\",\"ts\":1763805600,\"values\":{\"v\":1}}").rejections().get(0).error()
        .contains("looks like epoch seconds"));
    assertEquals("ts: more than 300000 ms in the future",
        json("{\"stream\":\"s\",\"ts\":" + (NOW + 400_000) + ",\"values\":{\"v\":1}}").rejections().get(0).error());
  }

  @Test
  @DisplayName("an array keeps its good events and names each bad one by index and reason")
  void arrayMixed() {
    ParseResult r = json("[{\"stream\":\"a\",\"values\":{\"v\":1}},"
        + "{\"stream\":\"Bad\",\"values\":{\"v\":1}},"
        + "{\"stream\":\"a\",\"values\":{}},"
        + "42,"
        + "{\"stream\":\"a\",\"values\":{\"v\":\"x\"}},"
        + "{\"stream\":\"a\",\"values\":{\"v\":1e400}},"
        + "{\"stream\":\"a\",\"dims\":{\"k\":1},\"values\":{\"v\":1}},"
        + "{\"stream\":\"a\",\"values\":{\"v\":2},\"extra\":{\"ignored\":[1,2]}}]");
    assertEquals(2, r.events().size());
    assertEquals(0, r.indices()[0]);
    assertEquals(7, r.indices()[1]);
    assertEquals(6, r.rejections().size());
    assertEquals(1, r.rejections().get(0).index());
    assertTrue(r.rejections().get(0).error().startsWith("stream:"));
    assertTrue(r.rejections().get(1).error().startsWith("values: required"));
    assertEquals("an event must be a JSON object", r.rejections().get(2).error());
    assertEquals("values.v: must be a number", r.rejections().get(3).error());
    assertEquals("values.v: must be a finite number", r.rejections().get(4).error());
    assertEquals("dims.k: must be a string", r.rejections().get(5).error());
    assertEquals("{\"stream\":\"Bad\",\"values\":{\"v\":1}}", r.rejections().get(0).payload());
  }

  @Test
  @DisplayName("a string where an event should be is quarantined with its whole text, so different strings stay apart")
  void stringsKeepTheirText() {
    // regression: in an array the slice ended after the opening quote, and every string became one item "\""
    ParseResult r = json("[\"a\", \"bb\", \"c\\\"d\", {\"stream\":\"s\",\"values\":{\"v\":1}}, 7]");
    assertEquals(1, r.events().size());
    assertEquals(3, r.indices()[0]);
    assertEquals(4, r.rejections().size());
    assertEquals("\"a\"", r.rejections().get(0).payload());
    assertEquals("\"bb\"", r.rejections().get(1).payload());
    assertEquals("\"c\\\"d\"", r.rejections().get(2).payload());
    assertEquals("7", r.rejections().get(3).payload());
    ParseResult n = ndjson("\"a\"\n\"b\"\n{\"stream\":\"s\",\"values\":{\"v\":1}}\n");
    assertEquals(1, n.events().size());
    assertEquals(2, n.rejections().size());
    assertEquals("\"a\"", n.rejections().get(0).payload());
    assertEquals("\"b\"", n.rejections().get(1).payload());
  }

  @Test
  @DisplayName("NDJSON takes each line alone: a broken line is one rejection, the others are kept")
  void ndjsonLines() {
    ParseResult r = ndjson("{\"stream\":\"a\",\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"a\",\"values\":{\"v\":\n"
        + "\n"
        + "{\"stream\":\"a\",\"values\":{\"v\":3}}\r\n"
        + "{\"stream\":\"a\",\"values\":{\"v\":4}} {\"stream\":\"a\",\"values\":{\"v\":5}}\n");
    assertEquals(2, r.events().size());
    assertEquals(2, r.rejections().size());
    assertEquals(1, r.rejections().get(0).index());
    assertTrue(r.rejections().get(0).error().startsWith("not valid JSON"), r.rejections().get(0).error());
    assertEquals("{\"stream\":\"a\",\"values\":{\"v\":", r.rejections().get(0).payload());
    assertEquals(3, r.rejections().get(1).index());
    assertEquals("a line must hold exactly one JSON object", r.rejections().get(1).error());
  }

  @Test
  @DisplayName("NDJSON: an object spread over two lines is two broken lines, and the lines around it are kept")
  void ndjsonSpreadObject() {
    ParseResult r = ndjson("{\"stream\":\"a\",\"values\":{\"v\":1}}\n{\"stream\":\"a\",\n\"values\":{\"v\":2}}\n"
        + "{\"stream\":\"a\",\"values\":{\"v\":3}}\ngarbage\n{\"stream\":\"a\",\"values\":{\"v\":4}}");
    assertEquals(3, r.events().size());
    assertEquals(java.util.List.of(0, 3, 5), java.util.Arrays.stream(r.indices()).boxed().toList());
    assertEquals(java.util.List.of(1, 2, 4), r.rejections().stream().map(Rejection::index).toList());
  }

  @Test
  @DisplayName("whole-body problems are 400s with a reason; too many events is 413")
  void wholeBody() {
    assertEquals(400, assertThrows(BodyException.class, () -> json("")).status());
    assertEquals(400, assertThrows(BodyException.class, () -> json("[{\"stream\":\"a\"")).status());
    assertEquals(400, assertThrows(BodyException.class, () -> json("\"text\"")).status());
    BodyException two = assertThrows(BodyException.class, () -> json("{\"stream\":\"a\",\"values\":{\"v\":1}}\n{}"));
    assertTrue(two.getMessage().contains("x-ndjson"), two.getMessage());
    assertEquals(400, assertThrows(BodyException.class, () -> ndjson("\n\n")).status());
    EventParser small = new EventParser(PulseConfig.of(new JsonObject().put("ingest",
        new JsonObject().put("maxEventsPerRequest", 2))).ingest());
    BodyException big = assertThrows(BodyException.class, () -> small.parse(
        "[{\"stream\":\"a\",\"values\":{\"v\":1}},{\"stream\":\"a\",\"values\":{\"v\":1}},{\"stream\":\"a\",\"values\":{\"v\":1}}]"
            .getBytes(StandardCharsets.UTF_8), BodyFormat.JSON, "default", null, NOW));
    assertEquals(413, big.status());
  }

  @Test
  @DisplayName("the path names the stream; a body that names another is rejected")
  void pathStream() {
    ParseResult r = parser.parse("{\"values\":{\"v\":1}}\n{\"stream\":\"other\",\"values\":{\"v\":1}}"
        .getBytes(StandardCharsets.UTF_8), BodyFormat.NDJSON, "default", "orders", NOW);
    assertEquals(StreamId.of("orders"), r.events().get(0).stream());
    assertTrue(r.rejections().get(0).error().contains("differs from the stream in the path"));
    assertEquals("stream: required (or post to /api/v1/streams/{stream}/events)",
        json("{\"values\":{\"v\":1}}").rejections().get(0).error());
  }

  @Test
  @DisplayName("limits on dims, values, names and duplicates are enforced per event")
  void limits() {
    EventParser p = new EventParser(PulseConfig.of(new JsonObject().put("ingest",
        new JsonObject().put("maxDims", 1).put("maxValues", 1).put("maxDimValueLength", 3))).ingest());
    assertEquals("dims: more than 1 keys", p.parse("{\"stream\":\"a\",\"dims\":{\"a\":\"1\",\"b\":\"2\"},\"values\":{\"v\":1}}"
        .getBytes(StandardCharsets.UTF_8), BodyFormat.JSON, "default", null, NOW).rejections().get(0).error());
    assertEquals("values: more than 1 names", p.parse("{\"stream\":\"a\",\"values\":{\"v\":1,\"w\":2}}"
        .getBytes(StandardCharsets.UTF_8), BodyFormat.JSON, "default", null, NOW).rejections().get(0).error());
    assertEquals("dims.a: longer than 3 characters", p.parse("{\"stream\":\"a\",\"dims\":{\"a\":\"long\"},\"values\":{\"v\":1}}"
        .getBytes(StandardCharsets.UTF_8), BodyFormat.JSON, "default", null, NOW).rejections().get(0).error());
    assertEquals("values.v: given twice", json("{\"stream\":\"a\",\"values\":{\"v\":1,\"v\":2}}").rejections().get(0)
        .error());
    assertTrue(json("{\"stream\":\"a\",\"values\":{\"bad name\":1}}").rejections().get(0).error().startsWith("values: name"));
  }

  @Test
  @DisplayName("Content-Type picks the format; unknown types are 415")
  void formats() {
    assertEquals(BodyFormat.JSON, BodyFormat.of(null));
    assertEquals(BodyFormat.JSON, BodyFormat.of("application/json; charset=UTF-8"));
    assertEquals(BodyFormat.NDJSON, BodyFormat.of("application/x-ndjson"));
    assertEquals(415, assertThrows(BodyException.class, () -> BodyFormat.of("text/csv")).status());
    assertEquals(415, assertThrows(BodyException.class, () -> BodyFormat.of("application/json; charset=latin1")).status());
  }

  @Test
  @DisplayName("time strings: digits are epoch ms, garbage is refused")
  void parseTime() {
    assertEquals(5L, EventParser.parseTime("5"));
    assertEquals(Long.MIN_VALUE, EventParser.parseTime("yesterday"));
    assertTrue(json("{\"stream\":\"a\",\"ts\":\"yesterday\",\"values\":{\"v\":1}}").events().isEmpty());
  }

  @Test
  @DisplayName("a time past the year range, or any number Jackson cannot make a long, rejects that event with a "
      + "reason and keeps the rest of the body")
  void timesOutOfRange() {
    String[] bad = {"\"+999999999-01-01T00:00:00Z\"", "\"-999999999-01-01T00:00:00Z\"", "\"10000-01-01T00:00:00Z\"",
        "\"+999999999-01-01T00:00:00+01:00\"", "1e30", "99999999999999999999", "-5", "-99999999999999999999",
        "\"99999999999999999999\"", "\"-5\"", "9223372036854775807"};
    StringBuilder body = new StringBuilder();
    for (String ts : bad) {
      body.append("{\"stream\":\"s\",\"ts\":").append(ts).append(",\"values\":{\"v\":1}}\n");
    }
    body.append("{\"stream\":\"s\",\"ts\":").append(NOW).append(",\"values\":{\"v\":2}}\n");
    ParseResult r = ndjson(body.toString());
    assertEquals(1, r.events().size(), r.rejections().toString());
    assertEquals(2.0, r.events().get(0).valueMap().get("v"));
    assertEquals(bad.length, r.rejections().size());
    for (Rejection j : r.rejections()) {
      assertTrue(j.error().startsWith("ts: "), j.error());
    }
    assertTrue(r.rejections().get(0).error().contains("outside 1970 to 9999"), r.rejections().get(0).error());
    assertTrue(r.rejections().get(5).error().contains("outside 1970 to 9999"), r.rejections().get(5).error());
    // the same in a JSON array: one event refused, the other kept
    ParseResult a = json("[{\"stream\":\"s\",\"ts\":\"+999999999-01-01T00:00:00Z\",\"values\":{\"v\":1}},"
        + "{\"stream\":\"s\",\"values\":{\"v\":2}}]");
    assertEquals(1, a.events().size());
    assertEquals(1, a.rejections().size());
  }

  @Test
  @DisplayName("values the sketch cannot hold are refused with the field and the range; tiny ones are kept")
  void valueRange() {
    ParseResult r = ndjson("{\"stream\":\"s\",\"values\":{\"v\":1.79e308}}\n"
        + "{\"stream\":\"s\",\"values\":{\"v\":-1.7976931348623157e308}}\n"
        + "{\"stream\":\"s\",\"values\":{\"v\":1e308,\"w\":-1e308}}\n"
        + "{\"stream\":\"s\",\"values\":{\"v\":4.9e-324,\"w\":-2.2e-308}}\n"
        + "{\"stream\":\"s\",\"values\":{\"v\":1e400}}\n");
    assertEquals(2, r.events().size(), r.rejections().toString());
    assertEquals(3, r.rejections().size());
    assertEquals("values.v: 1.79E308 is outside the range percentiles can hold, -1e308 to 1e308",
        r.rejections().get(0).error());
    assertTrue(r.rejections().get(1).error().startsWith("values.v: -1.797"), r.rejections().get(1).error());
    assertTrue(r.rejections().get(2).error().startsWith("values.v: "), r.rejections().get(2).error());
    assertEquals(4.9e-324, r.events().get(1).valueMap().get("v"));
  }

  @Test
  @DisplayName("dim values and ids PostgreSQL text cannot hold (NUL, unpaired surrogates) are refused, naming the "
      + "field; reasons quote caller text with control characters escaped")
  void unstorableText() {
    ParseResult r = ndjson("{\"stream\":\"s\",\"dims\":{\"a\":\"x\\u0000y\"},\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"s\",\"dims\":{\"a\":\"\\ud800\"},\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"s\",\"dims\":{\"a\":\"\\udc00x\"},\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"s\",\"id\":\"i\\u0000\",\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"s\",\"id\":\"\\ud83d\",\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"s\",\"dims\":{\"a\":\"" + "long\\u0000".repeat(20) + "\"},\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"s\",\"id\":\"\\ud83d\\ude00\",\"dims\":{\"a\":\"ok \\ud83d\\ude00 \\u0001\"},"
        + "\"values\":{\"v\":1}}\n"
        + "{\"stream\":\"S\\u0000\\u001b[31m\",\"values\":{\"v\":1}}\n");
    assertEquals(1, r.events().size(), r.rejections().toString());
    assertEquals(Dims.of("a", "ok \ud83d\ude00 \u0001"), r.events().get(0).dims());
    assertEquals("dims.a: contains a NUL character (U+0000), which cannot be stored", r.rejections().get(0).error());
    assertEquals("dims.a: contains an unpaired surrogate (U+D800), which is not valid Unicode text",
        r.rejections().get(1).error());
    assertEquals("dims.a: contains an unpaired surrogate (U+DC00), which is not valid Unicode text",
        r.rejections().get(2).error());
    assertTrue(r.rejections().get(3).error().startsWith("id: contains a NUL"), r.rejections().get(3).error());
    assertTrue(r.rejections().get(4).error().startsWith("id: contains an unpaired surrogate"));
    assertTrue(r.rejections().get(5).error().startsWith("dims.a: contains a NUL"), r.rejections().get(5).error());
    assertEquals("stream: \"S\\u0000\\u001B[31m\" does not match [a-z0-9_.-]{1,64}", r.rejections().get(6).error());
    assertEquals(null, r.rejections().get(6).stream(), "an unstorable stream name is not carried to the quarantine");
    assertEquals("s", r.rejections().get(0).stream());
    // the same value again (now possibly cached) is still refused
    assertEquals(1, ndjson("{\"stream\":\"s\",\"dims\":{\"a\":\"x\\u0000y\"},\"values\":{\"v\":1}}").rejections().size());
  }
}
