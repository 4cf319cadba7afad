package io.pulse.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Event;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The quick NDJSON pass (lines read straight from their bytes) gives exactly what Jackson's pass
 * gives: the same events (value doubles to the bit), indices, rejections with their payloads, or the
 * same refusal of the whole body, on valid lines, on lines it must leave to Jackson, and on lines
 * mangled at random; whole and a slice at a time.
 */
class QuickParseTest {

  private static final long NOW = 1_763_805_600_000L;

  private static final String[] LINES = {
      "{\"stream\":\"w1\",\"ts\":1763805600123,\"dims\":{\"region\":\"r3\",\"store\":\"s042\"},\"values\":{\"amount\":41.27,\"items\":2}}",
      "{\"stream\":\"w1\",\"ts\":1763805600123,\"dims\":{\"store\":\"s042\",\"region\":\"r3\"},\"values\":{\"amount\":0.5,\"items\":10}}",
      "  { \"values\" : { \"v\" : -0 } , \"stream\" : \"a.b-c_d\" }\t\r",
      "{\"stream\":\"s\",\"values\":{\"v\":-0.0,\"w\":1e5,\"x\":1E-5,\"y\":2.5e+3,\"z\":123456789012345678901234}}",
      "{\"stream\":\"s\",\"values\":{\"v\":9007199254740993,\"w\":0.1,\"x\":3.141592653589793238,\"y\":1e22,\"z\":1e23}}",
      "{\"stream\":\"s\",\"values\":{\"v\":1e308,\"w\":1.7976931348623157e308,\"x\":1e400,\"y\":-1e308}}",
      "{\"stream\":\"s\",\"values\":{\"v\":4.9e-324,\"w\":2.2250738585072014E-308,\"x\":0.000000000000000000000001}}",
      "{\"stream\":\"s\",\"values\":{\"v\":01}}",
      "{\"stream\":\"s\",\"values\":{\"v\":1.}}",
      "{\"stream\":\"s\",\"values\":{\"v\":.5}}",
      "{\"stream\":\"s\",\"values\":{\"v\":+1}}",
      "{\"stream\":\"s\",\"values\":{\"v\":1e}}",
      "{\"stream\":\"s\",\"values\":{\"v\":NaN}}",
      "{\"stream\":\"s\",\"values\":{\"v\":\"1\"}}",
      "{\"stream\":\"s\",\"values\":{}}",
      "{\"stream\":\"s\"}",
      "{\"values\":{\"v\":1}}",
      "{}",
      "[]",
      "\"x\"",
      "{\"stream\":\"s\",\"values\":{\"v\":1,\"v\":2}}",
      "{\"stream\":\"s\",\"stream\":\"t\",\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{\"a\":\"1\"},\"dims\":{\"b\":\"2\"},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{\"a\":\"1\",\"a\":\"2\"},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{\"a\":1},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{\"a b\":\"1\"},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{\"a\":\"x}y\"},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{\"a\":\"x}\"},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{\"a\":\"x\"}},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{\"a\":\"x\"} ,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":null,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{\"city\":\"Z\u00fcrich\"},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{\"q\":\"a\\\"b\"},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"dims\":{\"q\":\"a\\u0000b\"},\"values\":{\"v\":1}}",
      "{\"stream\":\"S\",\"values\":{\"v\":1}}",
      "{\"stream\":5,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"ts\":null,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"ts\":\"2025-11-22T10:00:00Z\",\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"ts\":\"2025-11-22T11:00:00+01:00\",\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"ts\":\"yesterday\",\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"ts\":1763805600,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"ts\":-1,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"ts\":1763805600000.5,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"ts\":99999999999999999999,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"ts\":1763806600000,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"ts\":253402300800000,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"id\":\"e1\",\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"id\":-12,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"id\":1.5,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"id\":null,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"id\":true,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"extra\":\"x\",\"n\":-1.5e3,\"t\":true,\"f\":false,\"z\":null,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"extra\":{\"deep\":[1,2,{\"x\":null}]},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"extra\":tru,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"extra\":nullx,\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"values\":{\"v\":1},}",
      "{\"stream\":\"s\",\"values\":{\"v\":1,}}",
      "{\"stream\":\"s\",\"values\":{\"v\":1}} {\"stream\":\"s\",\"values\":{\"v\":2}}",
      "{\"stream\":\"s\",\"values\":{\"v\":1}}\r{\"stream\":\"s\",\"values\":{\"v\":2}}",
      "{\"stream\":\"s\",\r\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"values\":{\"v\":1}",
      "{\"stream\":\"s\",\"values\":{\"v\":1}}}",
      "{\"stream\":\"s\",\"values\":{\"v\":1}} x",
      "\uFEFF{\"stream\":\"s\",\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"values\":{\"a1\":1,\"a2\":2,\"a3\":3}}",
      "{\"stream\":\"s\",\"dims\":{\"k\":\"" + "v".repeat(300) + "\"},\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"values\":{\"" + "n".repeat(70) + "\":1}}",
      "{\"stream\":\"" + "s".repeat(70) + "\",\"values\":{\"v\":1}}",
      "{\"stream\":\"s\",\"id\":\"" + "i".repeat(130) + "\",\"values\":{\"v\":1}}",
      "",
      "   ",
  };

  /** Tokens that mutations put in place of a random stretch of a line. */
  private static final String[] TOKENS = {"0", "-0", "1", "01", "1.", ".5", "1e5", "-1e-5", "1E+2", "1e400", "-",
      "\"", "\\", "\\\"", "\\u0041", "{", "}", "[", "]", ":", ",", " ", "\t", "\r", "\n", "\u00e9", "\u0000", "null",
      "true", "false", "\"stream\"", "\"values\"", "\"dims\"", "\"ts\"", "\"id\"", "\"v\"", "123456789012345678901",
      "9007199254740993", "0.1", "2.5e-3", "\"s\"", "\"\""};

  private static final PulseConfig.Ingest LIMITS = PulseConfig.of(new JsonObject()
      .put("ingest", new JsonObject().put("maxEventsPerRequest", 400))).ingest();

  @Test
  @DisplayName("each listed line, alone and among others, gives the same answer with and without the quick pass")
  void listed() {
    for (String line : LINES) {
      same(line);
      same(LINES[0] + "\n" + line + "\n" + LINES[1]);
      same(line + "\n" + LINES[0]);
    }
    StringBuilder all = new StringBuilder();
    for (String line : LINES) {
      all.append(line).append('\n');
    }
    same(all.toString());
    same(all.toString().replace('\n', '\r'));
    same(all.toString().replace("\n", "\r\n"));
  }

  @Test
  @DisplayName("random mutations of valid bodies give the same answer with and without the quick pass")
  void mutated() {
    SplittableRandom rnd = new SplittableRandom(12);
    for (int round = 0; round < 3000; round++) {
      StringBuilder body = new StringBuilder();
      int lines = 1 + rnd.nextInt(8);
      for (int l = 0; l < lines; l++) {
        String line = rnd.nextInt(4) == 0 ? LINES[rnd.nextInt(LINES.length)] : LINES[rnd.nextInt(2)];
        int edits = rnd.nextInt(3);
        for (int e = 0; e < edits && !line.isEmpty(); e++) {
          int at = rnd.nextInt(line.length());
          int len = Math.min(line.length() - at, rnd.nextInt(4));
          line = line.substring(0, at) + TOKENS[rnd.nextInt(TOKENS.length)] + line.substring(at + len);
        }
        body.append(line).append(rnd.nextInt(5) == 0 ? "\r\n" : "\n");
      }
      same(body.toString());
    }
  }

  @Test
  @DisplayName("random decimal numbers read to the same double as Jackson reads them")
  void numbers() {
    SplittableRandom rnd = new SplittableRandom(7);
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < 20_000; i++) {
      StringBuilder n = new StringBuilder();
      if (rnd.nextBoolean()) {
        n.append('-');
      }
      int intDigits = rnd.nextInt(12);
      n.append(intDigits == 0 ? "0" : String.valueOf(1 + rnd.nextInt(9)));
      for (int k = 1; k < intDigits; k++) {
        n.append(rnd.nextInt(10));
      }
      if (rnd.nextInt(3) > 0) {
        n.append('.');
        for (int k = 0, f = 1 + rnd.nextInt(20); k < f; k++) {
          n.append(rnd.nextInt(10));
        }
      }
      if (rnd.nextInt(4) == 0) {
        n.append(rnd.nextBoolean() ? 'e' : 'E').append(rnd.nextBoolean() ? "-" : "").append(rnd.nextInt(40));
      }
      body.append("{\"stream\":\"s\",\"values\":{\"v\":").append(n).append("}}\n");
      if (i % 400 == 399) {
        same(body.toString());
        body.setLength(0);
      }
    }
  }

  @Test
  @DisplayName("a body over the event limit is refused the same way")
  void tooMany() {
    same((LINES[0] + "\n").repeat(401));
  }

  @Test
  @DisplayName("the quick pass takes W1's lines itself: their events are those Jackson's pass makes")
  void quickTakesUsualLines() {
    String body = (LINES[0] + "\n" + LINES[1] + "\n").repeat(3);
    EventParser parser = new EventParser(LIMITS, true);
    ParseResult quick = parser.parse(bytes(body), BodyFormat.NDJSON, "default", null, NOW);
    assertEquals(6, quick.events().size());
    assertEquals(6, parser.quickTaken, "every line taken by the quick pass");
    assertEquals(41.27, quick.events().get(0).value(0));
    assertTrue(quick.events().get(0).dims() == quick.events().get(2).dims(), "one Dims for one series");
    same(body);
  }

  private static void same(String body) {
    String slow = answer(new EventParser(LIMITS, false), body, Integer.MAX_VALUE);
    String fast = answer(new EventParser(LIMITS, true), body, Integer.MAX_VALUE);
    assertEquals(slow, fast, () -> "body: " + body);
    String sliced = answer(new EventParser(LIMITS, true), body, 2);
    assertEquals(slow, sliced, () -> "body in slices: " + body);
  }

  /** Everything the parse gave, as text; value doubles by their bits. */
  private static String answer(EventParser parser, String body, int slice) {
    try {
      EventParser.Parse p = parser.start(bytes(body), BodyFormat.NDJSON, "default", null, NOW);
      while (!p.done()) {
        p.step(slice, slice == Integer.MAX_VALUE ? Integer.MAX_VALUE : 64);
      }
      ParseResult r = p.result();
      List<String> out = new ArrayList<>();
      for (int i = 0; i < r.events().size(); i++) {
        Event e = r.events().get(i);
        StringBuilder sb = new StringBuilder().append(r.indices()[i]).append(' ').append(e.stream()).append(' ')
            .append(e.ts()).append(' ').append(e.id()).append(' ').append(e.dims()).append(' ').append(e.arrival());
        for (int k = 0; k < e.valueCount(); k++) {
          sb.append(' ').append(e.name(k)).append('=').append(Long.toHexString(Double.doubleToRawLongBits(e.value(k))));
        }
        out.add(sb.toString());
      }
      for (Rejection x : r.rejections()) {
        out.add(x.toString());
      }
      return String.join("\n", out);
    } catch (BodyException e) {
      return "refused " + e.status() + " " + e.getMessage();
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static {
    assertTrue(StreamId.validName("w1"));
  }
}
