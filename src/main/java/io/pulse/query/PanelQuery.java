package io.pulse.query;

import io.pulse.config.Durations;
import io.pulse.core.StreamId;
import io.pulse.live.SubscriptionSpec;
import io.pulse.store.History;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * A request of {@code /api/v1/query}: a panel's QUERY (wallboard contract section 1) and optional
 * DERIVE (section 3) over stored history, {@code {"query": {...}, "derive": {...}, "from", "to",
 * "tz"}}, read into the {@link History.Request}s that {@code /api/v1/streams/{stream}/series}
 * answers (the numerator's, and the denominator's for a ratio), so that both read and merge
 * history the same way and within the same limits.
 *
 * @param num the panel's history request
 * @param den the ratio's denominator's (the query with the denominator's fields in place of the
 *     panel's), or null
 * @param derive the DERIVE, or null for the plain figure
 * @param tzOffsetMin the evaluator's zone, minutes east of UTC (for "today")
 * @param top at most this many series in the answer
 */
public record PanelQuery(History.Request num, Figure numFigure, History.Request den, Figure denFigure,
    Derive.Spec derive, JsonObject deriveDoc, int tzOffsetMin, int top) {

  /** Figures a panel shows of a bucket. */
  public static final List<String> FIGURES = List.of("count", "sum", "min", "max", "mean", "p50", "p95", "p99");
  /** Panel windows (the step of the buckets). */
  public static final List<String> WINDOWS = List.of("1s", "5s", "10s", "30s", "1m", "5m", "15m", "1h");
  /** Panel ranges (back from {@code to}). */
  public static final List<String> RANGES = List.of("5m", "15m", "1h", "6h", "24h", "7d");
  /** Series shown when the query does not say; at most {@link #MAX_TOP}. */
  public static final int DEFAULT_TOP = 20;
  public static final int MAX_TOP = 200;
  private static final List<String> FIELDS = List.of("query", "derive", "from", "to", "tz");
  /** A panel document's own fields, taken and ignored so that a whole PANEL can be sent. */
  private static final List<String> PANEL_FIELDS = List.of("id", "kind", "title", "grid", "options");
  private static final List<String> DENOMINATOR_FIELDS = List.of("stream", "metric", "figure", "groupBy", "filter");

  /** What is picked of each bucket: the figure of a value ({@code metric}), or the events' count. */
  public record Figure(String metric, String figure) {

    /**
     * The figure of one {@code /series} point: "count" without a metric is the point's count (0 when
     * empty), with a metric that value's count (0 when absent); any other is
     * {@code values[metric][figure]}, null when absent (derive.js {@code figureOf}).
     */
    public Double of(JsonObject point) {
      if ("count".equals(figure)) {
        if (metric == null) {
          Object c = point.getValue("count");
          return c instanceof Number n ? n.doubleValue() : 0d;
        }
        Object v = point.getJsonObject("values", new JsonObject()).getValue(metric);
        return v instanceof JsonObject o && o.getValue("count") instanceof Number n ? n.doubleValue() : 0d;
      }
      Object v = point.getJsonObject("values", new JsonObject()).getValue(metric);
      return v instanceof JsonObject o && o.getValue(figure) instanceof Number n ? Derive.num(n.doubleValue()) : null;
    }
  }

  /**
   * Reads a request. {@code streamWindowMs} gives a stream's window (the finest step that holds
   * data); {@code now} resolves "15m"-style times and the default range.
   *
   * @throws IllegalArgumentException with the reason for a 400
   */
  public static PanelQuery parse(String tenant, JsonObject doc, long now, ToLongFunction<String> streamWindowMs) {
    for (String k : doc.fieldNames()) {
      if (!FIELDS.contains(k) && !PANEL_FIELDS.contains(k)) {
        throw new IllegalArgumentException(clip(k) + ": not a field of a query (query, derive, from, to, tz)");
      }
    }
    if (!(doc.getValue("query") instanceof JsonObject query)) {
      throw new IllegalArgumentException("query: required, an object {\"stream\", \"metric\", \"figure\", "
          + "\"groupBy\", \"filter\", \"window\", \"range\", \"top\"}");
    }
    int tz = 0;
    Object t = doc.getValue("tz");
    if (t != null) {
      if (!(t instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || Math.abs(n.doubleValue()) > 840) {
        throw new IllegalArgumentException("tz: the zone as minutes east of UTC, a whole number from -840 to 840 "
            + "(UTC+1 is 60; the page sends -new Date().getTimezoneOffset())");
      }
      tz = n.intValue();
    }
    Object d = doc.getValue("derive");
    Derive.Spec derive = d == null ? null : Derive.Spec.parse(d);

    String window = optionalText(query, "window", "query.window", WINDOWS);
    String range = optionalText(query, "range", "query.range", RANGES);
    int top = DEFAULT_TOP;
    Object tp = query.getValue("top");
    if (tp != null) {
      if (!(tp instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.doubleValue() < 1
          || n.doubleValue() > MAX_TOP) {
        throw new IllegalArgumentException("query.top: a whole number from 1 to " + MAX_TOP);
      }
      top = n.intValue();
    }
    // from, to, step: as /series reads them (its limits included)
    long to = time(doc, "to", now, now);
    long from = time(doc, "from", to - (range == null ? 3_600_000L : Durations.parse(range)), now);
    Side n = side(tenant, query, "query", from, to, window, now, streamWindowMs);
    Side den = null;
    if (derive != null && derive.ratio()) {
      JsonObject changes = derive.denominator();
      JsonObject merged = query.copy();
      for (String k : changes.fieldNames()) {
        if (!DENOMINATOR_FIELDS.contains(k)) {
          throw new IllegalArgumentException("derive.denominator." + clip(k) + ": not a field the denominator may "
              + "change (" + String.join(", ", DENOMINATOR_FIELDS) + "); it uses the panel's window and range");
        }
        merged.put(k, changes.getValue(k));
      }
      den = side(tenant, merged, "derive.denominator", from, to, window, now, streamWindowMs);
      if (den.request().stepMs() != n.request().stepMs()) {
        // a denominator on a coarser stream: both at the coarser step, so that buckets meet
        long step = Math.max(den.request().stepMs(), n.request().stepMs());
        n = side(tenant, query, "query", from, to, Durations.format(step), now, streamWindowMs);
        den = side(tenant, merged, "derive.denominator", from, to, Durations.format(step), now, streamWindowMs);
      }
    }
    return new PanelQuery(n.request(), n.figure(), den == null ? null : den.request(),
        den == null ? null : den.figure(), derive, d instanceof JsonObject o ? o : null, tz, top);
  }

  /** The streams the request reads (one, or two for a ratio over another stream). */
  public List<StreamId> streams() {
    return den == null || den.stream().equals(num.stream()) ? List.of(num.stream())
        : List.of(num.stream(), den.stream());
  }

  private record Side(History.Request request, Figure figure) {
  }

  private static Side side(String tenant, JsonObject query, String at, long from, long to, String window, long now,
      ToLongFunction<String> streamWindowMs) {
    Object figureValue = query.getValue("figure");
    if (figureValue != null && !(figureValue instanceof String f && FIGURES.contains(f))) {
      throw new IllegalArgumentException(at + ".figure: one of " + String.join(", ", FIGURES));
    }
    String figure = figureValue == null ? "count" : (String) figureValue;
    Object m = query.getValue("metric");
    if (m != null && !(m instanceof String)) {
      throw new IllegalArgumentException(at + ".metric: a value name (a string), or absent for the count");
    }
    String metric = (String) m;
    if (metric == null && !"count".equals(figure)) {
      throw new IllegalArgumentException(at + ".metric: required for figure " + figure + " (the value it is of)");
    }
    if (!(query.getValue("stream") instanceof String)) {
      throw new IllegalArgumentException(at + ".stream: required, a stream name");
    }
    JsonObject live = new JsonObject().put("stream", query.getValue("stream")).put("groupBy", query.getValue("groupBy"))
        .put("filter", query.getValue("filter"));
    if (metric != null) {
      live.put("metrics", new JsonArray().add(metric));
    }
    SubscriptionSpec spec;
    try {
      spec = SubscriptionSpec.fromJson(tenant, live);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(at + "." + e.getMessage());
    }
    long streamWindow = Math.max(1_000L, streamWindowMs.applyAsLong(spec.stream().name()));
    Map<String, List<String>> params = new java.util.HashMap<>();
    params.put("from", List.of(Long.toString(from)));
    params.put("to", List.of(Long.toString(to)));
    if (window != null) {
      long w = Durations.parse(window);
      if (w < streamWindow || w % streamWindow != 0) {
        throw new IllegalArgumentException("query.window: " + window + " is finer than (or not a multiple of) "
            + "stream " + spec.stream().name() + "'s window, " + Durations.format(streamWindow));
      }
      params.put("step", List.of(window));
    }
    History.Request r;
    try {
      r = History.parse(spec.stream(), params, now);
      if (window == null && (r.stepMs() < streamWindow || r.stepMs() % streamWindow != 0)) {
        // the default step, no finer than the stream's window
        long step = Math.max(streamWindow, (r.stepMs() + streamWindow - 1) / streamWindow * streamWindow);
        params.put("step", List.of(Long.toString(step)));
        r = History.parse(spec.stream(), params, now);
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage().startsWith("step:") ? "query.window" + e.getMessage()
          .substring(4) : e.getMessage());
    }
    Set<String> metrics = spec.metrics();
    return new Side(new History.Request(spec.stream(), r.from(), r.to(), r.stepMs(), spec.filter(),
        new ArrayList<>(spec.groupBy()), metrics), new Figure(metric, figure));
  }

  private static long time(JsonObject doc, String name, long dflt, long now) {
    Object v = doc.getValue(name);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Number n) {
      if (n.doubleValue() != Math.rint(n.doubleValue())) {
        throw new IllegalArgumentException(name + ": epoch milliseconds are whole");
      }
      return History.time(name, Long.toString(n.longValue()), now);
    }
    if (v instanceof String s) {
      return History.time(name, s, now);
    }
    throw new IllegalArgumentException(name + ": epoch milliseconds, an ISO-8601 instant or a duration back from "
        + "now such as 15m");
  }

  private static String optionalText(JsonObject query, String key, String at, List<String> allowed) {
    Object v = query.getValue(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s) || !allowed.contains(s)) {
      throw new IllegalArgumentException(at + ": one of " + String.join(", ", allowed));
    }
    return s;
  }

  private static String clip(String k) {
    return io.pulse.core.Texts.clip(k);
  }
}
