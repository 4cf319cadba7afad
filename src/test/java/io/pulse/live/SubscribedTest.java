package io.pulse.live;

import io.pulse.core.StreamId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The "subscribed" message: the subscription as understood, with warnings for typos and an unused since=. */
class SubscribedTest {

  private static final SubscribeReply REPLY = new SubscribeReply(1, StreamId.of("s"), List.of("regoin"), "1s", 0, List.of(), false,
      null, null, null);

  @Test
  @DisplayName("dims and values the stream never had are warned of; the filter and metrics are repeated")
  void typos() {
    SubscriptionSpec spec = SubscriptionSpec.fromJson(StreamId.DEFAULT_TENANT, new JsonObject("{\"stream\":\"s\",\"groupBy\":[\"regoin\"],"
        + "\"filter\":{\"region\":\"eu\",\"zone\":\"a\"},\"metrics\":[\"vv\",\"v\"]}"));
    JsonObject o = Subscribed.describe(spec, BackfillPlan.Start.FRESH, REPLY, Set.of("region"), List.of("v"), true);
    assertEquals("subscribed", o.getString("type"));
    assertEquals(new JsonArray().add("eu"), o.getJsonObject("filter").getJsonArray("region"));
    assertEquals(new JsonArray().add("vv").add("v"), o.getJsonArray("metrics"));
    String w = o.getJsonArray("warnings").encode();
    assertTrue(w.contains("no dim \\\"regoin\\\"") && w.contains("no dim \\\"zone\\\"") && w.contains("no value \\\"vv\\\""),
        w);
    assertFalse(w.contains("\\\"region\\\" (") || w.contains("no value \\\"v\\\""), w);
    assertFalse(o.containsKey("since"));
  }

  @Test
  @DisplayName("a stream without events yet, and a since= that is not used, are said so")
  void sinceAndNewStream() {
    SubscriptionSpec spec = SubscriptionSpec.fromJson(StreamId.DEFAULT_TENANT, new JsonObject().put("stream", "s"));
    JsonObject o = Subscribed.describe(spec, new BackfillPlan.Start(1000L, true, false), REPLY, null, null, true);
    assertEquals(1000L, o.getLong("since"));
    String w = o.getJsonArray("warnings").encode();
    assertTrue(w.contains("has had no events yet") && w.contains("not used when resuming"), w);
    JsonObject clean = Subscribed.describe(spec, new BackfillPlan.Start(1000L, false, true), REPLY, Set.of(),
        List.of(), true);
    assertFalse(clean.containsKey("warnings"), clean.encode());
  }
}
