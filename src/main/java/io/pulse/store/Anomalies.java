package io.pulse.store;

import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.live.SubscriptionSpec;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/v1/streams/{stream}/anomalies}: the stored windows of a stream whose anomaly
 * score reached a level, with each score's explanation, oldest first. Series windows and stored
 * groups (the stream total, configured group-bys) both count; each answer row says which.
 */
public final class Anomalies {

  /** The default level: the score at which the server's anomaly rules fire by default. */
  public static final double DEFAULT_MIN = 0.9;
  public static final int DEFAULT_LIMIT = 500;
  public static final int MAX_LIMIT = 10_000;

  /** What to list: windows of {@code stream} starting in [from, to) with score >= min, at a resolution. */
  public record Request(StreamId stream, long from, long to, double min, int limit, RollupStore.Resolution resolution) {
  }

  /** One scored window. */
  public record Hit(boolean grouped, List<String> groupBy, Dims dims, long start, long count, double score,
      String anomaly, long outliers) {
  }

  private Anomalies() {
  }

  /**
   * Reads {@code from}, {@code to} (as the history API: epoch ms, ISO-8601 or a duration back from
   * now; default the last hour), {@code min} (0..1, default {@link #DEFAULT_MIN}), {@code limit}
   * (default {@link #DEFAULT_LIMIT}, at most {@link #MAX_LIMIT}) and {@code resolution} (1s, 1m or
   * 1h; default the finest whose retention can still hold {@code from}).
   */
  public static Request parse(StreamId stream, Map<String, List<String>> params, long now,
      io.pulse.config.PulseConfig.Retention retention) {
    for (String k : params.keySet()) {
      if (!List.of("from", "to", "min", "limit", "resolution").contains(k)) {
        throw new IllegalArgumentException(io.pulse.core.Texts.clip(k)
            + ": not a parameter of this endpoint (from, to, min, limit, resolution)");
      }
    }
    long to = History.time(params, "to", now, now);
    long from = History.time(params, "from", to - 3_600_000L, now);
    if (from >= to) {
      throw new IllegalArgumentException("from: must be before to");
    }
    double min = DEFAULT_MIN;
    String m = SubscriptionSpec.single(params, "min");
    if (m != null) {
      try {
        min = Double.parseDouble(m.trim());
      } catch (NumberFormatException e) {
        min = Double.NaN;
      }
      if (!(min >= 0 && min <= 1)) {
        throw new IllegalArgumentException("min: a score level from 0 to 1, got " + io.pulse.core.Times.quote(m));
      }
    }
    int limit = DEFAULT_LIMIT;
    String l = SubscriptionSpec.single(params, "limit");
    if (l != null) {
      if (!io.pulse.core.Times.digits(l.trim()) || l.trim().length() > 6 || Integer.parseInt(l.trim()) < 1
          || Integer.parseInt(l.trim()) > MAX_LIMIT) {
        throw new IllegalArgumentException("limit: a whole number from 1 to " + MAX_LIMIT + ", got "
            + io.pulse.core.Times.quote(l));
      }
      limit = Integer.parseInt(l.trim());
    }
    RollupStore.Resolution res;
    String r = SubscriptionSpec.single(params, "resolution");
    if (r == null) {
      long age = now - from;
      res = age <= retention.secondMs() ? RollupStore.Resolution.SECOND
          : age <= retention.minuteMs() ? RollupStore.Resolution.MINUTE : RollupStore.Resolution.HOUR;
    } else {
      res = switch (r.trim()) {
        case "1s" -> RollupStore.Resolution.SECOND;
        case "1m" -> RollupStore.Resolution.MINUTE;
        case "1h" -> RollupStore.Resolution.HOUR;
        default -> throw new IllegalArgumentException("resolution: 1s, 1m or 1h, got " + io.pulse.core.Times.quote(r));
      };
    }
    return new Request(stream, from, to, min, limit, res);
  }

  /** The scored windows, oldest first; one more than the limit tells that there are more. */
  public static Future<List<Hit>> read(Pool pool, Request req) {
    String sql = "select s.kind = 'group' as grouped, s.group_by, s.dims, r.start, r.count, r.score, "
        + "r.anomaly::text as anomaly, r.outliers from series s join " + req.resolution().table()
        + " r on r.series_id = s.id where s.tenant = $1 and s.stream = $2 and r.start >= $3 and r.start < $4 "
        + "and r.score >= $5 order by r.start, s.id limit $6";
    return pool.preparedQuery(sql)
        .execute(Tuple.of(req.stream().tenant(), req.stream().name(), req.from(), req.to(), req.min(), req.limit() + 1))
        .map(set -> {
          List<Hit> out = new ArrayList<>(set.size());
          for (io.vertx.sqlclient.Row row : set) {
            List<String> groupBy = new ArrayList<>();
            for (String g : row.getArrayOfStrings("group_by")) {
              groupBy.add(g);
            }
            out.add(new Hit(row.getBoolean("grouped"), groupBy, RollupStore.dims(row.getJsonObject("dims")),
                row.getLong("start"), row.getLong("count"), row.getFloat("score"), row.getString("anomaly"),
                row.getLong("outliers")));
          }
          return out;
        });
  }

  /**
   * {@code {"stream", "from", "to", "min", "resolution", "anomalies": [{"start", "end", "view",
   * "series", "count", "score", "anomaly", "outliers"}], "truncated"}}; {@code view} is
   * {@code "series"} for one series, {@code "total"} for the stream total, or the group-by's dims.
   */
  public static JsonObject render(Request req, List<Hit> hits) {
    JsonArray list = new JsonArray();
    long span = req.resolution().ms();
    for (Hit h : hits.subList(0, Math.min(hits.size(), req.limit()))) {
      Object view = !h.grouped() ? "series" : h.groupBy().isEmpty() ? "total" : new JsonArray(h.groupBy());
      JsonObject o = new JsonObject().put("start", h.start()).put("end", h.start() + span).put("view", view)
          .put("series", RollupStore.dimsJson(h.dims())).put("count", h.count())
          .put("score", Math.round(h.score() * 10_000d) / 10_000d);
      if (h.anomaly() != null) {
        o.put("anomaly", new JsonObject(h.anomaly()));
      }
      if (h.outliers() > 0) {
        o.put("outliers", h.outliers());
      }
      list.add(o);
    }
    return new JsonObject().put("stream", req.stream().name()).put("from", req.from()).put("to", req.to())
        .put("min", req.min()).put("resolution", io.pulse.config.Durations.format(span)).put("anomalies", list)
        .put("truncated", hits.size() > req.limit());
  }
}
