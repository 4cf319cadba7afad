package io.pulse.alert;

import io.pulse.agg.Anomaly;
import io.pulse.agg.Rollup;
import io.pulse.agg.ValueStats;
import io.pulse.agg.View;
import io.pulse.agg.ViewRegistry;
import io.pulse.config.PulseConfig;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Views and final rollups for engine tests: real views from a registry, figures set by hand. */
final class AlertFixture {

  final ViewRegistry views = new ViewRegistry(PulseConfig.of(new JsonObject()));

  /** The view a rule reads (made on demand like a subscriber's). */
  View view(Rule rule) {
    try {
      return views.acquire(rule.stream(), rule.filter(), rule.groupBy());
    } catch (ViewRegistry.ViewException e) {
      throw new IllegalStateException(e);
    }
  }

  View view(String tenant, String stream, Map<String, Set<String>> filter, List<String> groupBy) {
    try {
      return views.acquire(StreamId.of(tenant, stream), filter, groupBy);
    } catch (ViewRegistry.ViewException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A final 1 s window at {@code start} with {@code count} events whose value {@code ms} is {@code v} throughout. */
  static Rollup rollup(View view, Dims series, long start, long count, double v) {
    ValueStats.Summary s = new ValueStats.Summary(count, v * count, v, v, v, v, v, v);
    return new Rollup(view, series, start, start + 1000, true, count, start, start, new String[] {"ms"},
        new ValueStats.Summary[] {s});
  }

  static Rollup scored(View view, Dims series, long start, double score) {
    return rollup(view, series, start, 10, 1).withAnomaly(
        new Anomaly(score, "count", 10, 5, 3, 7, 4.2, "mad"));
  }

  static Rule rule(String tenant, String id, String json) {
    return Rule.parse(tenant, id, new JsonObject(json));
  }
}
