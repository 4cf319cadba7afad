package io.pulse.store;

import io.pulse.agg.ValueStats;
import io.pulse.agg.View;
import io.pulse.agg.WindowAgg;
import io.pulse.config.Durations;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.live.SubscriptionSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code GET /api/v1/streams/{stream}/series}: reading its parameters, and merging stored windows
 * into step buckets per group. Buckets are aligned to the epoch like windows ({@code [t, t + step)});
 * each holds the merge of the stored windows starting in it, sketches merged bin by bin, so its
 * percentiles are those of all its events (within the sketch's accuracy), never averages.
 *
 * <p>Every series has every bucket that meets {@code [from, to)}: one with no stored window is
 * {@code {"count":0,"values":{}}} (no figures, so a chart draws a gap, not a zero), and the first and
 * last bucket carry {@code "partial":true} when the range starts or ends inside them.
 * Plain Java: the server runs {@link #render} on a worker thread.
 */
public final class History {

  /** Buckets per series at most (the epoch-aligned buckets that meet the range); more is a 400. */
  public static final int MAX_POINTS = 10_000;
  /** Groups (series of the answer) at most; more are cut, and the answer says so. */
  public static final int MAX_SERIES = 1_000;
  /**
   * Points (series times buckets) of one answer at most: with every bucket present, a long range cuts
   * the groups further than {@link #MAX_SERIES} (to 100 series at 10,000 buckets), and the answer says so.
   */
  public static final int MAX_ANSWER_POINTS = 1_000_000;
  /** Stored windows one request may read. */
  public static final int MAX_ROWS = 200_000;
  /** Steps offered by default, the finest that keeps a range within 1000 points. */
  private static final long[] DEFAULT_STEPS = {1_000, 10_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000,
      86_400_000};

  private History() {
  }

  /**
   * What was asked, of one tenant's stream. {@code groupBy} empty: the stream total;
   * {@code metrics} null: every value.
   */
  public record Request(StreamId stream, long from, long to, long stepMs, Map<String, Set<String>> filter,
      List<String> groupBy, Set<String> metrics) {

    /** The resolution read: the coarsest stored one that divides the step. */
    public RollupStore.Resolution resolution() {
      return RollupStore.Resolution.forStep(stepMs);
    }
  }

  /**
   * Reads the query parameters: {@code from}, {@code to} (epoch ms or ISO-8601; default the last
   * hour), {@code step} (a duration such as "1m", or ms; a whole number of seconds; default the
   * finest of 1s, 10s, 1m, 5m, 15m, 1h, 6h, 1d giving at most 1000 points), and {@code groupBy},
   * {@code filter}, {@code metric} as the live feed reads them.
   *
   * @throws IllegalArgumentException with the message for a 400
   */
  public static Request parse(StreamId stream, Map<String, List<String>> params, long now) {
    for (String k : params.keySet()) {
      if (!List.of("from", "to", "step", "groupBy", "filter", "metric", "metrics").contains(k)) {
        throw new IllegalArgumentException(io.pulse.core.Texts.clip(k) + ": not a parameter of this endpoint (from, to, step, groupBy, filter, "
            + "metric)");
      }
    }
    Map<String, List<String>> spec = new HashMap<>(params);
    spec.remove("from");
    spec.remove("to");
    spec.remove("step");
    spec.put("stream", List.of(stream.name()));
    SubscriptionSpec s = SubscriptionSpec.fromQuery(stream.tenant(), spec);
    long to = time(params, "to", now, now);
    long from = time(params, "from", to - 3_600_000L, now);
    if (from >= to) {
      throw new IllegalArgumentException("from: must be before to");
    }
    long step;
    String st = SubscriptionSpec.single(params, "step");
    if (st == null) {
      long day = DEFAULT_STEPS[DEFAULT_STEPS.length - 1];
      // beyond 1000 days: whole days, as many as keep it to 1000 points
      step = Math.max(1, (to - from + 1000 * day - 1) / (1000 * day)) * day;
      for (long candidate : DEFAULT_STEPS) {
        if ((to - from + candidate - 1) / candidate <= 1000) {
          step = candidate;
          break;
        }
      }
    } else {
      try {
        step = st.chars().allMatch(Character::isDigit) && !st.isEmpty() ? parseLong("step", st)
            : io.pulse.core.Times.durationMs(st);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(e.getMessage().startsWith("step:") ? e.getMessage()
            : "step: " + e.getMessage());
      }
      if (step <= 0) {
        throw new IllegalArgumentException("step: " + io.pulse.core.Times.quote(st)
            + " is not a duration such as 1s, 1m, 1h or 1d");
      }
      if (step > io.pulse.core.Times.MAX_DURATION_MS) {
        throw new IllegalArgumentException("step: " + io.pulse.core.Times.quote(st) + " is longer than all of 1970 to 9999");
      }
      if (step % 1000 != 0) {
        throw new IllegalArgumentException("step: must be a whole number of seconds (1 s is the finest stored "
            + "resolution), got " + io.pulse.core.Times.quote(st));
      }
    }
    long points = bucketCount(from, to, step);
    if (points > MAX_POINTS) {
      throw new IllegalArgumentException("step: " + Durations.format(step) + " over that range is " + points
          + " points per series, more than " + MAX_POINTS + "; use a larger step or a shorter range");
    }
    return new Request(stream, from, to, step, s.filter(), s.groupBy(), s.metrics());
  }

  /** The epoch-aligned buckets of {@code step} that meet {@code [from, to)} (from < to, both within 1970..9999). */
  public static long bucketCount(long from, long to, long step) {
    return (Math.floorDiv(to - 1, step) - Math.floorDiv(from, step)) + 1;
  }

  static long time(Map<String, List<String>> params, String name, long dflt, long now) {
    String v = SubscriptionSpec.single(params, name);
    if (v == null || v.isBlank()) {
      return dflt;
    }
    return time(name, v, now);
  }

  /** A time given as epoch milliseconds, an ISO-8601 instant or a duration back from {@code now} such as 15m. */
  public static long time(String name, String v, long now) {
    long ago;
    try {
      ago = io.pulse.core.Times.durationMs(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + ": " + e.getMessage());
    }
    if (ago > 0) {
      long t = now - ago;
      if (t < io.pulse.core.Times.MIN_MS) {
        throw new IllegalArgumentException(name + ": " + io.pulse.core.Times.quote(v) + " back from now is before 1970");
      }
      return t;
    }
    try {
      return io.pulse.core.Times.parseInstant(v);
    } catch (IllegalArgumentException e) {
      if (!io.pulse.core.Times.digits(v.trim()) && !e.getMessage().contains("outside")) {
        throw new IllegalArgumentException(name + ": " + io.pulse.core.Times.quote(v) + " is neither epoch "
            + "milliseconds, an ISO-8601 instant such as 2026-11-23T10:00:00Z, nor a duration back from now such as 15m");
      }
      throw new IllegalArgumentException(name + ": " + e.getMessage());
    }
  }

  private static long parseLong(String name, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": " + io.pulse.core.Times.quote(v) + " is not a whole number");
    }
  }

  /**
   * Merges the stored windows into step buckets per group and writes the answer:
   * {@code {"stream", "from", "to", "step", "resolution", "groupBy", "series": [{"series": {...},
   * "points": [[ts, {"count": n, "values": {name: {count, sum, min, max, mean, p50, p95, p99}}}]]}]}},
   * a point also carrying {@code score} and {@code anomaly} (the highest score of the stored windows
   * it is made of, and that score's explanation) and {@code outliers} (their sum) where it has them,
   * with every bucket of the range in every series (empty ones {@code {"count":0,"values":{}}}, the cut
   * ones at the ends with {@code "partial":true}), plus {@code "truncated": true} and {@code seriesTotal}
   * when groups were cut at {@link #MAX_SERIES} or {@link #MAX_ANSWER_POINTS}.
   */
  public static JsonObject render(Request req, List<RollupStore.Stored> rows, RollupCodec codec, int maxBins) {
    Map<Dims, TreeMap<Long, WindowAgg>> groups = buckets(req, rows, codec, maxBins);
    Map<Dims, Map<Long, Marks>> marks = marks(req, rows);
    long step = req.stepMs();
    long first = Math.floorDiv(req.from(), step) * step;
    long buckets = bucketCount(req.from(), req.to(), step);
    int maxSeries = (int) Math.min(MAX_SERIES, Math.max(1, MAX_ANSWER_POINTS / buckets));
    List<Dims> keys = new ArrayList<>(groups.keySet());
    keys.sort((a, b) -> a.toString().compareTo(b.toString()));
    JsonArray series = new JsonArray();
    for (Dims k : keys.subList(0, Math.min(keys.size(), maxSeries))) {
      TreeMap<Long, WindowAgg> stored = groups.get(k);
      JsonArray points = new JsonArray();
      for (long i = 0; i < buckets; i++) {
        long t = first + i * step;
        WindowAgg w = stored.get(t);
        JsonObject p = w == null ? new JsonObject().put("count", 0).put("values", new JsonObject()) : point(w);
        Marks m = marks.getOrDefault(k, Map.of()).get(t);
        if (m != null) {
          m.addTo(p);
        }
        if ((i == 0 && t < req.from()) || (i == buckets - 1 && t + step > req.to())) {
          p.put("partial", true);
        }
        points.add(new JsonArray().add(t).add(p));
      }
      series.add(new JsonObject().put("series", dimsJson(k)).put("points", points));
    }
    JsonObject out = new JsonObject().put("stream", req.stream().name()).put("from", req.from()).put("to", req.to())
        .put("step", Durations.format(step)).put("resolution", Durations.format(req.resolution().ms()))
        .put("groupBy", new JsonArray(new ArrayList<>(req.groupBy()))).put("series", series);
    if (keys.size() > maxSeries) {
      out.put("truncated", true).put("seriesTotal", keys.size());
    }
    return out;
  }

  /**
   * The stored windows merged into step buckets per group (the group-by's projection of each
   * series, or a stored group as it is), through their sketches.
   */
  public static Map<Dims, TreeMap<Long, WindowAgg>> buckets(Request req, List<RollupStore.Stored> rows,
      RollupCodec codec, int maxBins) {
    String[] groupBy = req.groupBy().toArray(new String[0]);
    Map<Dims, TreeMap<Long, WindowAgg>> groups = new HashMap<>();
    long step = req.stepMs();
    for (RollupStore.Stored r : rows) {
      Dims key = r.grouped() ? r.dims() : project(r.dims(), groupBy);
      long bucket = Math.floorDiv(r.start(), step) * step;
      WindowAgg w = groups.computeIfAbsent(key, k -> new TreeMap<>())
          .computeIfAbsent(bucket, b -> new WindowAgg(b, b + step, codec.accuracy(), maxBins));
      codec.mergeInto(w, r.data(), r.count(), r.latest(), req.metrics());
    }
    return groups;
  }

  /** What a bucket says about anomalies: the highest score among its windows (and why), the outliers. */
  public static final class Marks {
    double score = Double.NaN;
    String anomaly;
    long outliers;

    /** The highest stored score of the bucket's windows; NaN when none was scored. */
    public double score() {
      return score;
    }

    /** That score's explanation (JSON text), or null. */
    public String anomaly() {
      return anomaly;
    }

    /** The outliers of the bucket's windows. */
    public long outliers() {
      return outliers;
    }

    void add(RollupStore.Stored r) {
      if (!Double.isNaN(r.score()) && (Double.isNaN(score) || r.score() > score)) {
        score = r.score();
        anomaly = r.anomaly();
      }
      outliers += r.outliers();
    }

    void addTo(JsonObject p) {
      if (!Double.isNaN(score)) {
        p.put("score", Math.round(score * 10_000d) / 10_000d);
        if (anomaly != null) {
          p.put("anomaly", new JsonObject(anomaly));
        }
      }
      if (outliers > 0) {
        p.put("outliers", outliers);
      }
    }
  }

  /** The anomaly marks of each bucket with any, keyed as {@link #buckets} keys its windows. */
  public static Map<Dims, Map<Long, Marks>> marks(Request req, List<RollupStore.Stored> rows) {
    String[] groupBy = req.groupBy().toArray(new String[0]);
    Map<Dims, Map<Long, Marks>> out = new HashMap<>();
    long step = req.stepMs();
    for (RollupStore.Stored r : rows) {
      if (Double.isNaN(r.score()) && r.outliers() == 0) {
        continue;
      }
      Dims key = r.grouped() ? r.dims() : project(r.dims(), groupBy);
      long bucket = Math.floorDiv(r.start(), step) * step;
      out.computeIfAbsent(key, k -> new HashMap<>()).computeIfAbsent(bucket, b -> new Marks()).add(r);
    }
    return out;
  }

  /** The group a series counts towards, as live views do: the overflow series stays itself. */
  static Dims project(Dims d, String[] sortedGroupBy) {
    if (d.size() == 1 && View.OVERFLOW_KEY.equals(d.key(0))) {
      return d;
    }
    return d.project(sortedGroupBy);
  }

  private static JsonObject point(WindowAgg w) {
    JsonObject values = new JsonObject();
    Map<String, ValueStats> sorted = new TreeMap<>();
    for (int i = 0; i < w.valueCount(); i++) {
      sorted.put(w.valueName(i), w.valueStats(i));
    }
    sorted.forEach((name, v) -> {
      ValueStats.Summary s = v.summary();
      values.put(name, new JsonObject().put("count", s.count()).put("sum", num(s.sum())).put("min", num(s.min()))
          .put("max", num(s.max())).put("mean", num(s.mean())).put("p50", num(s.p50())).put("p95", num(s.p95()))
          .put("p99", num(s.p99())));
    });
    return new JsonObject().put("count", w.count()).put("values", values);
  }

  private static Double num(double v) {
    return Double.isFinite(v) ? v : null;
  }

  private static JsonObject dimsJson(Dims d) {
    JsonObject o = new JsonObject();
    for (int i = 0; i < d.size(); i++) {
      o.put(d.key(i), d.value(i));
    }
    return o;
  }
}
