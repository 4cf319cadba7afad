package io.pulse.live;

import io.pulse.agg.Anomaly;
import io.pulse.agg.Rollup;
import io.pulse.agg.ValueStats;
import io.pulse.config.Durations;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonObject;
import java.util.Collection;

/** The live feed's JSON (API.md "Live feed"), encoded once per message and shared by subscribers. */
public final class LiveJson {

  private LiveJson() {
  }

  /** A rollup message with every value; its type comes first so that {@link #withSub} is cheap. */
  public static String rollup(Rollup r) {
    return rollup(r, null);
  }

  /** A rollup message with only the named values (null: all). */
  public static String rollup(Rollup r, Collection<String> metrics) {
    JsonObject values = new JsonObject();
    for (int i = 0; i < r.names().length; i++) {
      if (metrics != null && !metrics.contains(r.names()[i])) {
        continue;
      }
      ValueStats.Summary s = r.stats()[i];
      values.put(r.names()[i], new JsonObject().put("count", s.count()).put("sum", num(s.sum())).put("min", num(s.min()))
          .put("max", num(s.max())).put("mean", num(s.mean())).put("p50", num(s.p50())).put("p95", num(s.p95()))
          .put("p99", num(s.p99())));
    }
    JsonObject o = new JsonObject().put("type", "rollup").put("stream", r.view().stream().name())
        .put("series", series(r.series())).put("window", Durations.format(r.view().windowMs()))
        .put("start", r.start()).put("end", r.end()).put("final", r.fin()).put("count", r.count())
        .put("latest", r.latest()).put("values", values);
    if (r.outliers() > 0) {
      o.put("outliers", r.outliers());
    }
    Anomaly a = r.anomaly();
    if (a != null) {
      o.put("score", round(a.score())).put("anomaly", anomaly(a));
    }
    return o.encode();
  }

  /**
   * An alert message (API.md) from an alert transition as the bus carries it: its type first, and
   * without the fields only the server uses ({@code tenant}: a subscriber knows its own;
   * {@code notify}: whether webhooks get it).
   */
  public static String alert(JsonObject transition) {
    JsonObject o = new JsonObject().put("type", "alert");
    transition.forEach(e -> {
      if (!"type".equals(e.getKey()) && !"tenant".equals(e.getKey()) && !"notify".equals(e.getKey())) {
        o.put(e.getKey(), e.getValue());
      }
    });
    return o.encode();
  }

  /** The compact explanation of a score: the figure, what was expected and the method. */
  public static JsonObject anomaly(Anomaly a) {
    return new JsonObject().put("figure", a.figure()).put("value", num(a.value())).put("expected", num(a.expected()))
        .put("band", new io.vertx.core.json.JsonArray().add(num(a.low())).add(num(a.high())))
        .put("deviation", num(round(a.deviation()))).put("method", a.method());
  }

  /** An anomaly read back from {@link #anomaly(Anomaly)}'s JSON (as stored), with its score; null fields as NaN. */
  public static Anomaly anomaly(double score, JsonObject o) {
    io.vertx.core.json.JsonArray band = o.getJsonArray("band");
    return new Anomaly(score, o.getString("figure"), orNaN(o.getDouble("value")), orNaN(o.getDouble("expected")),
        band == null ? Double.NaN : orNaN(band.getDouble(0)), band == null ? Double.NaN : orNaN(band.getDouble(1)),
        orNaN(o.getDouble("deviation")), o.getString("method"));
  }

  private static double orNaN(Double d) {
    return d == null ? Double.NaN : d;
  }

  /** Scores and deviations to four decimals: the wire needs no more. */
  static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 10_000d) / 10_000d : v;
  }

  /** JSON has no Infinity or NaN: a sum that overflowed is sent as null, never as a string. */
  private static Double num(double v) {
    return Double.isFinite(v) ? v : null;
  }

  public static JsonObject series(Dims d) {
    JsonObject o = new JsonObject();
    for (int i = 0; i < d.size(); i++) {
      o.put(d.key(i), d.value(i));
    }
    return o;
  }

  /** The same message with {@code "sub": id} after its type, for a WebSocket subscription. */
  public static String withSub(String json, String sub) {
    return withSubField(json, subField(sub));
  }

  /** {@code "sub":"<id>",} with the id escaped: made once per subscription, spliced into each message. */
  public static String subField(String sub) {
    StringBuilder sb = new StringBuilder(sub.length() + 10).append("\"sub\":");
    quote(sb, sub);
    return sb.append(',').toString();
  }

  /** A message with a subscription's {@link #subField} after its first field. */
  public static String withSubField(String json, String subField) {
    int comma = json.indexOf(',');
    if (comma < 0) {
      return json;
    }
    return new StringBuilder(json.length() + subField.length()).append(json, 0, comma + 1).append(subField)
        .append(json, comma + 1, json.length()).toString();
  }

  static void quote(StringBuilder sb, String s) {
    String enc = new io.vertx.core.json.JsonArray().add(s).encode(); // ["..."], escaped by Jackson
    sb.append(enc, 1, enc.length() - 1);
  }
}
