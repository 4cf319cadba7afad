package io.pulse.live;

import io.pulse.core.StreamId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What a live subscriber asks for (API.md "Live feed"): a stream, an optional filter on dims
 * (several values of one dim match any of them), an optional group-by (none: the stream total)
 * and optionally only some metrics. Read from SSE query parameters or a WebSocket subscribe op,
 * with the same rules and messages for both. The client names the stream; the tenant is the
 * caller's, given by the server, so {@code stream} is always the caller's own stream.
 */
public record SubscriptionSpec(StreamId stream, Map<String, Set<String>> filter, List<String> groupBy,
    Set<String> metrics, Since since) {

  /**
   * Where a subscription asks its history to start: an instant (epoch ms or ISO-8601), or a
   * duration back from when it subscribes ("15m").
   */
  public record Since(Long at, Long agoMs) {

    /** The instant; a duration reaching back before 1970 starts at 1970. */
    public long resolve(long now) {
      return at != null ? at : Math.max(io.pulse.core.Times.MIN_MS, now - agoMs);
    }

    /**
     * Epoch ms (digits), an ISO-8601 instant or offset date-time, or a duration such as 15m or 2h,
     * by {@link io.pulse.core.Times}' rule: instants from 1970 to 9999-12-31, durations up to as long.
     */
    static Since parse(String text) {
      String t = text.trim();
      if (io.pulse.core.Times.digits(t)) {
        long ms;
        try {
          ms = io.pulse.core.Times.parseInstant(t);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("since: " + e.getMessage());
        }
        if (ms < 100_000_000_000L) {
          throw new IllegalArgumentException("since: " + t + " is not epoch milliseconds (seconds? multiply by 1000)");
        }
        return new Since(ms, null);
      }
      long ago;
      try {
        ago = io.pulse.core.Times.durationMs(t);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("since: " + e.getMessage());
      }
      if (ago > 0) {
        return new Since(null, ago);
      }
      try {
        return new Since(io.pulse.core.Times.parseInstant(t), null);
      } catch (IllegalArgumentException e) {
        if (e.getMessage().contains("outside")) {
          throw new IllegalArgumentException("since: " + e.getMessage());
        }
        throw new IllegalArgumentException("since: " + io.pulse.core.Times.quote(t) + " is neither epoch ms, an "
            + "ISO-8601 time nor a duration such as 15m");
      }
    }

    /** A JSON number: whole epoch milliseconds only (a fraction, an exponent past a long, or a huge integer is refused). */
    static Since parse(Number n) {
      if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte) {
        return parse(String.valueOf(n.longValue()));
      }
      if (n instanceof java.math.BigInteger) {
        return parse(n.toString());
      }
      double d = n.doubleValue();
      if (d == Math.rint(d) && Math.abs(d) <= io.pulse.core.Times.MAX_MS) {
        return parse(String.valueOf((long) d));
      }
      throw new IllegalArgumentException("since: " + n + " is not whole epoch milliseconds from 1970 to 9999-12-31");
    }
  }

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");
  private static final int MAX_FILTER_VALUES = 256;
  /** The longest dim value any configuration accepts (ingest.maxDimValueLength is capped there). */
  private static final int MAX_FILTER_VALUE_LENGTH = 65_536;

  /**
   * From SSE query parameters: {@code stream}, {@code groupBy=a,b}, {@code filter=dim:v,dim2:v2},
   * {@code metric(s)=a,b}, {@code since=} (history first); the stream is {@code tenant}'s.
   */
  public static SubscriptionSpec fromQuery(String tenant, Map<String, List<String>> params) {
    String stream = single(params, "stream");
    List<String> groupBy = new ArrayList<>();
    for (String g : params.getOrDefault("groupBy", List.of())) {
      for (String part : g.split(",")) {
        if (!part.isBlank()) {
          groupBy.add(part.trim());
        }
      }
    }
    Map<String, Set<String>> filter = new TreeMap<>();
    for (String f : params.getOrDefault("filter", List.of())) {
      for (String part : f.split(",")) {
        if (part.isBlank()) {
          continue;
        }
        int colon = part.indexOf(':');
        if (colon <= 0) {
          throw new IllegalArgumentException("filter: \"" + io.pulse.core.Texts.clip(part) + "\" is not dim:value");
        }
        filter.computeIfAbsent(part.substring(0, colon).trim(), k -> new TreeSet<>())
            .add(part.substring(colon + 1).strip()); // strip, not trim: trim would eat a NUL and hide it
      }
    }
    Set<String> metrics = null;
    List<String> m = new ArrayList<>(params.getOrDefault("metric", List.of()));
    m.addAll(params.getOrDefault("metrics", List.of()));
    for (String one : m) {
      for (String part : one.split(",")) {
        if (!part.isBlank()) {
          if (metrics == null) {
            metrics = new LinkedHashSet<>();
          }
          metrics.add(part.trim());
        }
      }
    }
    String since = single(params, "since");
    return validated(tenant, stream, filter, groupBy, metrics, since == null ? null : Since.parse(since));
  }

  /** From a WebSocket op: {@code {"stream":..,"groupBy":[..],"filter":{"dim":"v"|["v",..]},"metrics":[..]}}. */
  public static SubscriptionSpec fromJson(String tenant, JsonObject op) {
    Object s = op.getValue("stream");
    if (!(s instanceof String)) {
      throw new IllegalArgumentException("stream: required, a string");
    }
    List<String> groupBy = new ArrayList<>();
    Object g = op.getValue("groupBy");
    if (g instanceof String) {
      for (String part : ((String) g).split(",")) {
        if (!part.isBlank()) {
          groupBy.add(part.trim());
        }
      }
    } else if (g instanceof JsonArray) {
      for (Object o : (JsonArray) g) {
        if (!(o instanceof String)) {
          throw new IllegalArgumentException("groupBy: must be an array of dim names");
        }
        groupBy.add((String) o);
      }
    } else if (g != null) {
      throw new IllegalArgumentException("groupBy: must be an array of dim names");
    }
    Map<String, Set<String>> filter = new TreeMap<>();
    Object f = op.getValue("filter");
    if (f instanceof JsonObject) {
      for (Map.Entry<String, Object> e : (JsonObject) f) {
        Set<String> vals = new TreeSet<>();
        if (e.getValue() instanceof String) {
          vals.add((String) e.getValue());
        } else if (e.getValue() instanceof JsonArray) {
          for (Object o : (JsonArray) e.getValue()) {
            if (!(o instanceof String)) {
              throw new IllegalArgumentException("filter." + io.pulse.core.Texts.clip(e.getKey()) + ": values must be strings");
            }
            vals.add((String) o);
          }
        } else {
          throw new IllegalArgumentException("filter." + io.pulse.core.Texts.clip(e.getKey()) + ": must be a string or an array of strings");
        }
        filter.put(e.getKey(), vals);
      }
    } else if (f != null) {
      throw new IllegalArgumentException("filter: must be an object of dim -> value");
    }
    Set<String> metrics = null;
    Object m = op.getValue("metrics");
    if (m instanceof JsonArray) {
      metrics = new LinkedHashSet<>();
      for (Object o : (JsonArray) m) {
        if (!(o instanceof String)) {
          throw new IllegalArgumentException("metrics: must be an array of value names");
        }
        metrics.add((String) o);
      }
      if (metrics.isEmpty()) {
        metrics = null;
      }
    } else if (m != null) {
      throw new IllegalArgumentException("metrics: must be an array of value names");
    }
    Object since = op.getValue("since");
    Since from = null;
    if (since instanceof Number n) {
      from = Since.parse(n);
    } else if (since instanceof String str) {
      from = Since.parse(str);
    } else if (since != null) {
      throw new IllegalArgumentException("since: epoch ms, an ISO-8601 time or a duration such as \"15m\"");
    }
    return validated(tenant, (String) s, filter, groupBy, metrics, from);
  }

  private static SubscriptionSpec validated(String tenant, String stream, Map<String, Set<String>> filter,
      List<String> groupBy, Set<String> metrics, Since since) {
    if (stream == null || stream.isBlank()) {
      throw new IllegalArgumentException("stream: required");
    }
    if (!StreamId.validName(stream)) {
      throw new IllegalArgumentException("stream: \"" + io.pulse.core.Texts.clip(stream) + "\" does not match [a-z0-9_.-]{1,64}");
    }
    for (String g : groupBy) {
      if (!NAME.matcher(g).matches()) {
        throw new IllegalArgumentException("groupBy: \"" + io.pulse.core.Texts.clip(g) + "\" is not a dim name");
      }
    }
    if (groupBy.size() > 8) {
      throw new IllegalArgumentException("groupBy: at most 8 dims");
    }
    int values = 0;
    for (Map.Entry<String, Set<String>> e : filter.entrySet()) {
      if (!NAME.matcher(e.getKey()).matches()) {
        throw new IllegalArgumentException("filter: \"" + io.pulse.core.Texts.clip(e.getKey()) + "\" is not a dim name");
      }
      if (e.getValue().isEmpty()) {
        throw new IllegalArgumentException("filter." + io.pulse.core.Texts.clip(e.getKey()) + ": needs at least one value");
      }
      for (String v : e.getValue()) {
        // a dim value can hold neither (ingest refuses them), so such a filter could never match
        String why = v.length() > MAX_FILTER_VALUE_LENGTH ? "longer than " + MAX_FILTER_VALUE_LENGTH + " characters"
            : io.pulse.core.Texts.unstorable(v);
        if (why != null) {
          throw new IllegalArgumentException("filter." + io.pulse.core.Texts.clip(e.getKey()) + ": a value " + why);
        }
      }
      values += e.getValue().size();
    }
    if (values > MAX_FILTER_VALUES) {
      throw new IllegalArgumentException("filter: at most " + MAX_FILTER_VALUES + " values");
    }
    if (metrics != null) {
      for (String m : metrics) {
        if (!NAME.matcher(m).matches()) {
          throw new IllegalArgumentException("metrics: \"" + io.pulse.core.Texts.clip(m) + "\" is not a value name");
        }
      }
    }
    Map<String, Set<String>> f = new TreeMap<>();
    filter.forEach((k, v) -> f.put(k, Collections.unmodifiableSet(new TreeSet<>(v))));
    return new SubscriptionSpec(StreamId.of(tenant, stream), Collections.unmodifiableMap(f),
        List.copyOf(new TreeSet<>(groupBy)), metrics == null ? null : Collections.unmodifiableSet(metrics), since);
  }

  /** A query parameter given at most once: its value, or null; a 400-style error when repeated. */
  public static String single(Map<String, List<String>> params, String name) {
    List<String> v = params.get(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    if (v.size() > 1) {
      throw new IllegalArgumentException(name + ": give it once");
    }
    return v.get(0);
  }
}
