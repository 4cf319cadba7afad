package io.pulse.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SubscriptionSpecTest {

  @Test
  @DisplayName("SSE query and WebSocket op give the same subscription")
  void sameFromBoth() {
    SubscriptionSpec q = SubscriptionSpec.fromQuery("default", Map.of("stream", List.of("checkout"),
        "groupBy", List.of("region"), "filter", List.of("region:eu,region:us"), "metrics", List.of("amount")));
    SubscriptionSpec w = SubscriptionSpec.fromJson("default", new JsonObject("{\"stream\":\"checkout\",\"groupBy\":[\"region\"],"
        + "\"filter\":{\"region\":[\"us\",\"eu\"]},\"metrics\":[\"amount\"]}"));
    assertEquals(q, w);
    assertEquals(Set.of("eu", "us"), q.filter().get("region"));
    assertEquals(List.of("region"), q.groupBy());
  }

  @Test
  @DisplayName("no groupBy is the stream total; no metrics means all")
  void defaults() {
    SubscriptionSpec s = SubscriptionSpec.fromJson("default", new JsonObject("{\"stream\":\"a\"}"));
    assertEquals(List.of(), s.groupBy());
    assertNull(s.metrics());
  }

  @Test
  @DisplayName("bad subscriptions say what is wrong")
  void errors() {
    assertEquals("stream: required", assertThrows(IllegalArgumentException.class,
        () -> SubscriptionSpec.fromQuery("default", Map.of())).getMessage());
    assertEquals("filter: \"region\" is not dim:value", assertThrows(IllegalArgumentException.class,
        () -> SubscriptionSpec.fromQuery("default", Map.of("stream", List.of("a"), "filter", List.of("region")))).getMessage());
    assertEquals("stream: \"Nope!\" does not match [a-z0-9_.-]{1,64}", assertThrows(IllegalArgumentException.class,
        () -> SubscriptionSpec.fromJson("default", new JsonObject("{\"stream\":\"Nope!\"}"))).getMessage());
    assertEquals("groupBy: must be an array of dim names", assertThrows(IllegalArgumentException.class,
        () -> SubscriptionSpec.fromJson("default", new JsonObject("{\"stream\":\"a\",\"groupBy\":{}}"))).getMessage());
  }

  @Test
  @DisplayName("since= past the year range, huge digits, huge or fractional numbers and overflowing durations are "
      + "refused with a reason, on SSE and WebSocket alike")
  void sinceOutOfRange() {
    for (String bad : new String[] {"+999999999-01-01T00:00:00Z", "99999999999999999999", "253402300800000",
        "999999999999d", "99999999999999999999ms", "-5", "10000-01-01T00:00:00Z"}) {
      IllegalArgumentException q = assertThrows(IllegalArgumentException.class,
          () -> SubscriptionSpec.fromQuery("default", Map.of("stream", List.of("a"), "since", List.of(bad))), bad);
      assertTrue(q.getMessage().startsWith("since: "), q.getMessage());
      IllegalArgumentException w = assertThrows(IllegalArgumentException.class,
          () -> SubscriptionSpec.fromJson("default", new JsonObject().put("stream", "a").put("since", bad)), bad);
      assertEquals(q.getMessage(), w.getMessage());
    }
    for (String number : new String[] {"1e30", "99999999999999999999", "-1e30", "1500000000000.5", "9223372036854775807"}) {
      IllegalArgumentException w = assertThrows(IllegalArgumentException.class,
          () -> SubscriptionSpec.fromJson("default", new JsonObject("{\"stream\":\"a\",\"since\":" + number + "}")), number);
      assertTrue(w.getMessage().startsWith("since: "), w.getMessage());
    }
    assertEquals(1_763_805_600_000L, SubscriptionSpec.fromJson("default", new JsonObject("{\"stream\":\"a\",\"since\":1763805600000}"))
        .since().resolve(0));
    assertEquals(1_763_805_600_000L, SubscriptionSpec.fromJson("default", new JsonObject("{\"stream\":\"a\",\"since\":1.7638056E12}"))
        .since().resolve(0));
    assertEquals(0L, SubscriptionSpec.fromQuery("default", Map.of("stream", List.of("a"), "since", List.of("5000y"))).since()
        .resolve(1_763_805_600_000L), "a duration reaching before 1970 starts at 1970");
    assertEquals("filter: \"a\\u0000\" is not a dim name", assertThrows(IllegalArgumentException.class,
        () -> SubscriptionSpec.fromJson("default", new JsonObject().put("stream", "a").put("filter", new JsonObject().put("a\0", "x"))))
        .getMessage());
  }

  @Test
  @DisplayName("a filter value no dim can hold (NUL, an unpaired surrogate) is refused, over SSE and WebSocket alike")
  void unstorableFilterValues() {
    for (String v : new String[] {"\u0000", "a\u0000b", "\ud800"}) {
      IllegalArgumentException q = assertThrows(IllegalArgumentException.class, () -> SubscriptionSpec.fromQuery("default",
          Map.of("stream", List.of("s"), "filter", List.of("region:" + v))));
      IllegalArgumentException w = assertThrows(IllegalArgumentException.class, () -> SubscriptionSpec.fromJson("default",
          new JsonObject().put("stream", "s").put("filter", new JsonObject().put("region", v))));
      assertTrue(q.getMessage().startsWith("filter.region: a value contains"), q.getMessage());
      assertEquals(q.getMessage(), w.getMessage());
    }
  }
}
