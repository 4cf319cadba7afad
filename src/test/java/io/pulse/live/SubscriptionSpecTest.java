package io.pulse.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
    SubscriptionSpec q = SubscriptionSpec.fromQuery(Map.of("stream", List.of("checkout"),
        "groupBy", List.of("region"), "filter", List.of("region:eu,region:us"), "metrics", List.of("amount")));
    SubscriptionSpec w = SubscriptionSpec.fromJson(new JsonObject("{\"stream\":\"checkout\",\"groupBy\":[\"region\"],"
        + "\"filter\":{\"region\":[\"us\",\"eu\"]},\"metrics\":[\"amount\"]}"));
    assertEquals(q, w);
    assertEquals(Set.of("eu", "us"), q.filter().get("region"));
    assertEquals(List.of("region"), q.groupBy());
  }

  @Test
  @DisplayName("no groupBy is the stream total; no metrics means all")
  void defaults() {
    SubscriptionSpec s = SubscriptionSpec.fromJson(new JsonObject("{\"stream\":\"a\"}"));
    assertEquals(List.of(), s.groupBy());
    assertNull(s.metrics());
  }

  @Test
  @DisplayName("bad subscriptions say what is wrong")
  void errors() {
    assertEquals("stream: required", assertThrows(IllegalArgumentException.class,
        () -> SubscriptionSpec.fromQuery(Map.of())).getMessage());
    assertEquals("filter: \"region\" is not dim:value", assertThrows(IllegalArgumentException.class,
        () -> SubscriptionSpec.fromQuery(Map.of("stream", List.of("a"), "filter", List.of("region")))).getMessage());
    assertEquals("stream: \"Nope!\" does not match [a-z0-9_.-]{1,64}", assertThrows(IllegalArgumentException.class,
        () -> SubscriptionSpec.fromJson(new JsonObject("{\"stream\":\"Nope!\"}"))).getMessage());
    assertEquals("groupBy: must be an array of dim names", assertThrows(IllegalArgumentException.class,
        () -> SubscriptionSpec.fromJson(new JsonObject("{\"stream\":\"a\",\"groupBy\":{}}"))).getMessage());
  }
}
