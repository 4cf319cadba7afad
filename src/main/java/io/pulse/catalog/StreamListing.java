package io.pulse.catalog;

import io.pulse.config.Durations;
import io.pulse.core.StreamId;
import io.pulse.store.CatalogStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToLongFunction;

/**
 * The streams Pulse knows, for {@code GET /api/v1/streams}: the live catalogue (this run) merged
 * with the stored one (earlier runs). A stream in both shows the union of their dims and value
 * names, the earliest first seen and the latest last seen; its rate, series and events come from
 * the live catalogue only ({@code live:false} and rate 0 for a stream seen only in earlier runs).
 * Plain Java; sorted by stream name.
 */
public final class StreamListing {

  private StreamListing() {
  }

  /** One stream as listed; {@code series} and {@code events} are null when it is not live. */
  public record Entry(String name, Map<String, List<String>> dims, List<String> values, double rate, boolean live,
      Integer series, Long events, long firstSeen, long lastSeen) {
  }

  /** One tenant's live and stored catalogue merged, by stream name. */
  public static List<Entry> merge(String tenant, Collection<StreamCatalog.StreamInfo> live,
      Map<StreamId, CatalogStore.Stream> stored) {
    Map<String, StreamCatalog.StreamInfo> byName = new TreeMap<>();
    live.forEach(s -> {
      if (s.tenant().equals(tenant)) {
        byName.put(s.name(), s);
      }
    });
    TreeSet<String> names = new TreeSet<>(byName.keySet());
    stored.keySet().forEach(id -> {
      if (id.tenant().equals(tenant)) {
        names.add(id.name());
      }
    });
    List<Entry> out = new ArrayList<>(names.size());
    for (String name : names) {
      StreamCatalog.StreamInfo s = byName.get(name);
      CatalogStore.Stream before = stored.get(StreamId.of(tenant, name));
      CatalogStore.Stream merged = s == null ? before
          : new CatalogStore.Stream(s.id(), s.dims(), s.valueNames(), s.firstSeen(), s.lastSeen());
      if (s != null && before != null) {
        merged = before.merge(merged);
      }
      out.add(new Entry(name, merged.dims(), merged.valueNames(), s == null ? 0.0 : Math.round(s.rate() * 100) / 100.0,
          s != null, s == null ? null : s.seriesCount(), s == null ? null : s.events(), merged.firstSeen(),
          merged.lastSeen()));
    }
    return out;
  }

  /**
   * The answer of {@code GET /api/v1/streams}: {@code {"streams":[...]}}, each with its window
   * ({@code windowMsOf}: the stream's configured window).
   */
  public static JsonObject json(String tenant, Collection<StreamCatalog.StreamInfo> live,
      Map<StreamId, CatalogStore.Stream> stored, ToLongFunction<String> windowMsOf) {
    JsonArray list = new JsonArray();
    for (Entry e : merge(tenant, live, stored)) {
      JsonObject dims = new JsonObject();
      e.dims().forEach((k, v) -> dims.put(k, new JsonArray(new ArrayList<>(v))));
      JsonObject o = new JsonObject().put("stream", e.name()).put("dims", dims)
          .put("values", new JsonArray(new ArrayList<>(e.values()))).put("rate", e.rate());
      if (e.live()) {
        o.put("series", e.series()).put("events", e.events());
      }
      o.put("window", Durations.format(windowMsOf.applyAsLong(e.name()))).put("firstSeen", e.firstSeen())
          .put("lastSeen", e.lastSeen()).put("live", e.live());
      list.add(o);
    }
    return new JsonObject().put("streams", list);
  }
}
