package io.pulse.alert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.agg.View;
import io.pulse.core.StreamId;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Rule documents: what is read, the defaults, and a reason for every rule Pulse cannot evaluate. */
class RuleTest {

  private static final String BASE = "\"name\":\"n\",\"stream\":\"latency\"";

  private static String refusal(String json) {
    return assertThrows(IllegalArgumentException.class, () -> Rule.parse("acme", "r", new JsonObject(json)))
        .getMessage();
  }

  @Test
  @DisplayName("API.md's example reads as written, in the tenant given, and names the view a subscriber would")
  void apiMdExample() {
    Rule r = Rule.parse("acme", "r1", new JsonObject("{\"name\": \"checkout p99 too slow\", \"stream\": \"latency\","
        + "\"kind\": \"threshold\", \"metric\": \"ms\", \"figure\": \"p99\", \"op\": \">\", \"value\": 500,"
        + "\"for\": \"0s\", \"keepFiringFor\": \"0s\", \"filter\": {\"service\": \"api\"}, \"groupBy\": [\"service\"],"
        + "\"severity\": \"critical\", \"labels\": {\"team\": \"payments\"}}"));
    assertEquals(StreamId.of("acme", "latency"), r.stream());
    assertEquals(Rule.Kind.THRESHOLD, r.kind());
    assertEquals("ms", r.metric());
    assertEquals("p99", r.figure());
    assertEquals(500.0, r.value());
    assertEquals(Map.of("service", Set.of("api")), r.filter());
    assertEquals(List.of("service"), r.groupBy());
    assertEquals(View.spec(StreamId.of("acme", "latency"), Map.of("service", Set.of("api")), List.of("service")),
        r.viewSpec());
    assertEquals(Map.of("team", "payments"), r.labels());
    assertTrue(r.notifyEnabled());
    assertTrue(Double.isNaN(r.clear()));
    JsonObject back = r.toJson();
    assertEquals("critical", back.getString("severity"));
    assertEquals(r.viewSpec(), Rule.parse("acme", "r1", back).viewSpec(), "its JSON reads back to the same rule");
  }

  @Test
  @DisplayName("defaults: count needs no metric, severity warning, for 0s, per second, outliers > 0")
  void defaults() {
    Rule r = Rule.parse("default", "r", new JsonObject("{" + BASE + ",\"kind\":\"threshold\",\"op\":\">\",\"value\":1}"));
    assertEquals("count", r.figure());
    assertEquals("warning", r.severity());
    assertEquals(0, r.forMs());
    Rule rate = Rule.parse("default", "r", new JsonObject("{" + BASE + ",\"kind\":\"rate\",\"op\":\">\",\"value\":1}"));
    assertEquals(1000, rate.perMs());
    Rule o = Rule.parse("default", "r", new JsonObject("{" + BASE + ",\"kind\":\"outliers\"}"));
    assertEquals(Rule.Op.GT, o.op());
    assertEquals(0.0, o.value());
    Rule off = Rule.parse("default", "r", new JsonObject("{" + BASE + ",\"kind\":\"outliers\",\"notify\":false}"));
    assertFalse(off.notifyEnabled());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "unknown kind|\"kind\":\"magic\"|kind:",
      "no kind|\"op\":\">\"|kind:",
      "unknown figure|\"kind\":\"threshold\",\"metric\":\"ms\",\"figure\":\"p42\",\"op\":\">\",\"value\":1|figure:",
      "unknown op|\"kind\":\"threshold\",\"op\":\"=>\",\"value\":1|op:",
      "threshold without value|\"kind\":\"threshold\",\"op\":\">\"|op and value",
      "figure without metric|\"kind\":\"threshold\",\"figure\":\"p99\",\"op\":\">\",\"value\":1|metric:",
      "bad duration|\"kind\":\"threshold\",\"op\":\">\",\"value\":1,\"for\":\"5 minutes\"|for:",
      "duration too long|\"kind\":\"threshold\",\"op\":\">\",\"value\":1,\"keepFiringFor\":\"30d\"|keepFiringFor:",
      "absence without absentFor|\"kind\":\"absence\"|absentFor:",
      "absence with a value|\"kind\":\"absence\",\"absentFor\":\"30s\",\"op\":\">\",\"value\":1|absence rule has none",
      "absentFor elsewhere|\"kind\":\"threshold\",\"op\":\">\",\"value\":1,\"absentFor\":\"30s\"|absentFor:",
      "anomaly level past 1|\"kind\":\"anomaly\",\"value\":1.5|anomaly score level",
      "anomaly with op <|\"kind\":\"anomaly\",\"op\":\"<\"|op:",
      "absurd value|\"kind\":\"threshold\",\"op\":\">\",\"value\":1e300|value:",
      "value not a number|\"kind\":\"threshold\",\"op\":\">\",\"value\":\"high\"|value:",
      "clear on the wrong side|\"kind\":\"threshold\",\"op\":\">\",\"value\":10,\"clear\":20|clear:",
      "negative hysteresis|\"kind\":\"threshold\",\"op\":\">\",\"value\":10,\"hysteresis\":-1|hysteresis:",
      "bad per|\"kind\":\"rate\",\"op\":\">\",\"value\":1,\"per\":\"h\"|per:",
      "per on threshold|\"kind\":\"threshold\",\"op\":\">\",\"value\":1,\"per\":\"s\"|per:",
      "bad severity|\"kind\":\"threshold\",\"op\":\">\",\"value\":1,\"severity\":\"fatal\"|severity:",
      "bad label|\"kind\":\"threshold\",\"op\":\">\",\"value\":1,\"labels\":{\"team\":5}|labels.team",
      "bad groupBy|\"kind\":\"threshold\",\"op\":\">\",\"value\":1,\"groupBy\":\"a b\"|groupBy:",
      "bad filter|\"kind\":\"threshold\",\"op\":\">\",\"value\":1,\"filter\":[1]|filter:",
      "bad sensitivity|\"kind\":\"anomaly\",\"sensitivity\":\"max\"|sensitivity:"})
  @DisplayName("a rule Pulse cannot evaluate is refused with its reason")
  void refused(String what, String fields, String reason) {
    String msg = refusal("{" + BASE + "," + fields + "}");
    assertTrue(msg.contains(reason), what + ": " + msg);
  }

  @Test
  @DisplayName("the stream name follows StreamId.validName; the name is required")
  void streamAndName() {
    assertTrue(refusal("{\"name\":\"n\",\"stream\":\"Bad Name\",\"kind\":\"outliers\"}").startsWith("stream:"));
    assertTrue(refusal("{\"name\":\"n\",\"kind\":\"outliers\"}").startsWith("stream:"));
    assertTrue(refusal("{\"stream\":\"s\",\"kind\":\"outliers\"}").startsWith("name:"));
  }
}
