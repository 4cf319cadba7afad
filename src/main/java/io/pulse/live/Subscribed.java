package io.pulse.live;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;

/**
 * The "subscribed" message: what a subscription is, as the server understood it, with warnings
 * for dims or value names the stream has never had (a typo shows at once) and for a since= that
 * is not used.
 */
public final class Subscribed {

  private Subscribed() {
  }

  /**
   * @param dims the dims the stream has had, or null when it has had no events yet
   * @param valueNames the value names it has had (null with {@code dims})
   * @param storage whether storage is on (history is kept)
   */
  public static JsonObject describe(SubscriptionSpec spec, BackfillPlan.Start start, SubscribeReply r,
      Collection<String> dims, Collection<String> valueNames, boolean storage) {
    JsonObject filter = new JsonObject();
    spec.filter().forEach((k, v) -> filter.put(k, new JsonArray(new ArrayList<>(v))));
    JsonObject o = new JsonObject().put("type", "subscribed").put("stream", r.stream().name())
        .put("groupBy", r.groupBy() == null ? null : new JsonArray(new ArrayList<>(r.groupBy())))
        .put("filter", filter).put("metrics", spec.metrics() == null ? null : new JsonArray(new ArrayList<>(spec.metrics())))
        .put("window", r.window());
    JsonArray warnings = new JsonArray();
    if (start.since() != null) {
      o.put("since", start.since());
      String w = start.warning(storage);
      if (w != null) {
        warnings.add(w);
      }
    }
    if (dims == null) {
      warnings.add("stream " + r.stream().name() + " has had no events yet; rollups start with its first");
    } else {
      for (String g : spec.groupBy()) {
        if (!dims.contains(g)) {
          warnings.add("groupBy: stream " + r.stream().name() + " has no dim \"" + g + "\" (it has " + dims + ")");
        }
      }
      for (String f : spec.filter().keySet()) {
        if (!dims.contains(f)) {
          warnings.add("filter: stream " + r.stream().name() + " has no dim \"" + f + "\" (it has " + dims + ")");
        }
      }
      if (spec.metrics() != null) {
        for (String m : spec.metrics()) {
          if (!valueNames.contains(m)) {
            warnings.add("metrics: stream " + r.stream().name() + " has no value \"" + m + "\" (it has " + valueNames + ")");
          }
        }
      }
    }
    if (!warnings.isEmpty()) {
      o.put("warnings", warnings);
    }
    return o;
  }
}
