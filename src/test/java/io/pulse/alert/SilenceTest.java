package io.pulse.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Silence documents and Alertmanager-style matchers. */
class SilenceTest {

  private static Silence parse(String json) {
    return Silence.parse("default", "s", new JsonObject(json), "ann", 1_000_000);
  }

  @Test
  @DisplayName("matchers: equality, not-equal, regex (whole value), negative regex; a missing label is the empty string")
  void matchers() {
    Map<String, String> labels = Map.of("team", "payments", "region", "eu-west");
    assertTrue(parse("{\"matchers\":[{\"name\":\"team\",\"value\":\"payments\"}],\"duration\":\"1h\"}").matches(labels));
    assertFalse(parse("{\"matchers\":[{\"name\":\"team\",\"value\":\"payments\",\"isEqual\":false}],\"duration\":\"1h\"}")
        .matches(labels));
    assertTrue(parse("{\"matchers\":[{\"name\":\"region\",\"value\":\"eu-.*\",\"isRegex\":true}],\"duration\":\"1h\"}")
        .matches(labels));
    assertFalse(parse("{\"matchers\":[{\"name\":\"region\",\"value\":\"eu\",\"isRegex\":true}],\"duration\":\"1h\"}")
        .matches(labels), "a regex matches the whole value");
    assertTrue(parse("{\"matchers\":[{\"name\":\"host\",\"value\":\"\"}],\"duration\":\"1h\"}").matches(labels));
  }

  @Test
  @DisplayName("period: duration from now or startsAt/endsAt; active only inside it")
  void period() {
    Silence s = parse("{\"matchers\":[{\"name\":\"a\",\"value\":\"b\"}],\"duration\":\"1m\"}");
    assertEquals(1_000_000, s.startsAt());
    assertEquals(1_060_000, s.endsAt());
    assertTrue(s.active(1_000_000));
    assertFalse(s.active(1_060_000));
    assertEquals("active", s.toJson(1_000_001).getString("status"));
  }

  @Test
  @DisplayName("refused with a reason: no matchers, a bad regex, no end, an end before the start, too long")
  void refused() {
    for (String[] c : new String[][] {
        {"{\"duration\":\"1h\"}", "matchers:"},
        {"{\"matchers\":[{\"name\":\"a\",\"value\":\"(\",\"isRegex\":true}],\"duration\":\"1h\"}", "regular expression"},
        {"{\"matchers\":[{\"name\":\"a\",\"value\":\"b\"}]}", "endsAt or duration"},
        {"{\"matchers\":[{\"name\":\"a\",\"value\":\"b\"}],\"startsAt\":5000000,\"endsAt\":4000000}", "after startsAt"},
        {"{\"matchers\":[{\"name\":\"a\",\"value\":\"b\"}],\"duration\":\"2y\"}", "at most 366d"}}) {
      String msg = assertThrows(IllegalArgumentException.class, () -> parse(c[0])).getMessage();
      assertTrue(msg.contains(c[1]), c[0] + " -> " + msg);
    }
  }
}
