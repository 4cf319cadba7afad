package io.pulse.event;

import io.vertx.core.json.JsonObject;

/**
 * The wire form of an event, for quarantine and logs (not the hot path): the stream by its name,
 * as clients send it.
 */
public final class EventJson {

  private EventJson() {
  }

  public static JsonObject toJson(Event e) {
    JsonObject o = new JsonObject().put("stream", e.stream().name()).put("ts", e.ts());
    if (e.id() != null) {
      o.put("id", e.id());
    }
    if (!e.dims().isEmpty()) {
      o.put("dims", new JsonObject(new java.util.LinkedHashMap<>(e.dims().toMap())));
    }
    JsonObject v = new JsonObject();
    for (int i = 0; i < e.valueCount(); i++) {
      v.put(e.name(i), e.value(i));
    }
    return o.put("values", v);
  }

  public static String encode(Event e) {
    return toJson(e).encode();
  }
}
