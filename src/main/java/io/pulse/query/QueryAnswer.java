package io.pulse.query;

import io.pulse.config.Durations;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The answer of {@code /api/v1/query}, made of what {@code /series} answered for the request
 * ({@link io.pulse.store.History#render}): per series, the figure picked of each bucket, then the
 * derived figure ({@link Derive}), as
 * {@code {"stream", "figure", "metric", "derive", "step", "stepMs", "from", "to", "now", "tz",
 * "series": [{"series": {dims}, "points": [[ts, value|null], ...], "lastSeen": ms|null,
 * "ageMs": ms|null}]}}; a point of a bucket the range cuts (first or last) is
 * {@code [ts, value, {"partial": true}]}. Series: at most {@code top}, those with the most events
 * in the range first (then in the order /series gives), {@code "truncated": true} and
 * {@code seriesTotal} when some were left out (here or by /series).
 */
public final class QueryAnswer {

  private QueryAnswer() {
  }

  /** One series of a /series answer as derive buckets of the figure. */
  static List<Derive.Bucket> buckets(JsonArray points, long stepMs, PanelQuery.Figure figure) {
    List<Derive.Bucket> out = new ArrayList<>(points.size());
    for (Object o : points) {
      JsonArray p = (JsonArray) o;
      long ts = p.getLong(0);
      JsonObject point = p.getJsonObject(1);
      Object c = point.getValue("count");
      out.add(new Derive.Bucket(ts, ts + stepMs, figure.of(point), c instanceof Number n ? n.longValue() : 0L,
          point.getBoolean("partial", false)));
    }
    return out;
  }

  /**
   * The answer.
   *
   * @param num what /series answered for {@code q.num()}
   * @param den what it answered for {@code q.den()}, or null
   */
  public static JsonObject render(PanelQuery q, JsonObject num, JsonObject den, long now) {
    long step = q.num().stepMs();
    Derive.Ctx ctx = new Derive.Ctx(now, q.tzOffsetMin(), step);
    Map<JsonObject, List<Derive.Bucket>> denominators = new HashMap<>();
    List<String> denGroupBy = q.den() == null ? List.of() : q.den().groupBy();
    if (den != null) {
      for (Object o : den.getJsonArray("series", new JsonArray())) {
        JsonObject s = (JsonObject) o;
        denominators.put(s.getJsonObject("series"), buckets(s.getJsonArray("points"), q.den().stepMs(), q.denFigure()));
      }
    }
    record Row(JsonObject dims, List<Derive.Bucket> buckets, long events, int order) {
    }
    List<Row> rows = new ArrayList<>();
    JsonArray all = num.getJsonArray("series", new JsonArray());
    for (int i = 0; i < all.size(); i++) {
      JsonObject s = all.getJsonObject(i);
      List<Derive.Bucket> b = buckets(s.getJsonArray("points"), step, q.numFigure());
      long events = 0;
      for (Derive.Bucket x : b) {
        events += x.count() == null ? 0 : x.count();
      }
      rows.add(new Row(s.getJsonObject("series"), b, events, i));
    }
    List<Row> shown = new ArrayList<>(rows);
    shown.sort(Comparator.comparingLong((Row r) -> -r.events()).thenComparingInt(Row::order));
    int total = num.getInteger("seriesTotal", rows.size());
    if (shown.size() > q.top()) {
      shown = new ArrayList<>(shown.subList(0, q.top()));
    }
    shown.sort(Comparator.comparingInt(Row::order));
    boolean asTime = q.derive() != null && "lastSeen".equals(q.derive().op());
    JsonArray series = new JsonArray();
    for (Row r : shown) {
      List<Derive.Point> points;
      if (q.derive() == null) {
        points = new ArrayList<>(r.buckets().size());
        for (Derive.Bucket b : r.buckets()) {
          points.add(new Derive.Point(b.start(), b.end(), Derive.num(b.value()), b.partial()));
        }
      } else {
        List<Derive.Bucket> d = q.derive().ratio() ? denominators.getOrDefault(project(r.dims(), denGroupBy), List.of())
            : null;
        points = Derive.apply(q.derive(), r.buckets(), d, ctx);
      }
      JsonArray pts = new JsonArray();
      for (Derive.Point p : points) {
        Object v = p.value() == null ? null : asTime ? (Object) p.value().longValue() : p.value();
        JsonArray one = new JsonArray().add(p.start()).add(v);
        if (p.partial()) {
          one.add(new JsonObject().put("partial", true));
        }
        pts.add(one);
      }
      Long last = Derive.lastSeen(r.buckets());
      series.add(new JsonObject().put("series", r.dims()).put("points", pts).put("lastSeen", last)
          .put("ageMs", last == null ? null : now - last));
    }
    JsonObject out = new JsonObject().put("stream", q.num().stream().name()).put("figure", q.numFigure().figure())
        .put("metric", q.numFigure().metric()).put("derive", q.deriveDoc()).put("step", Durations.format(step))
        .put("stepMs", step).put("from", num.getLong("from")).put("to", num.getLong("to")).put("now", now)
        .put("tz", q.tzOffsetMin()).put("series", series);
    if (total > shown.size()) {
      out.put("truncated", true).put("seriesTotal", total);
    }
    if (num.getJsonArray("warnings") != null || (den != null && den.getJsonArray("warnings") != null)) {
      JsonArray w = new JsonArray();
      if (num.getJsonArray("warnings") != null) {
        w.addAll(num.getJsonArray("warnings"));
      }
      if (den != null && den.getJsonArray("warnings") != null) {
        den.getJsonArray("warnings").forEach(x -> w.add("derive.denominator: " + x));
      }
      out.put("warnings", w);
    }
    return out;
  }

  /**
   * The denominator series a numerator series divides by: its dims restricted to the
   * denominator's groupBy (the same dims when both group alike; the total when the denominator
   * does not group).
   */
  static JsonObject project(JsonObject dims, List<String> groupBy) {
    JsonObject out = new JsonObject();
    for (String g : groupBy) {
      if (dims.containsKey(g)) {
        out.put(g, dims.getValue(g));
      }
    }
    return out;
  }
}
