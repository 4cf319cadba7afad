package io.pulse.query;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Derived figures of a panel (issue 14, wallboard contract section 3), for {@code /api/v1/query}:
 * the Java twin of {@code webroot/js/derive.js}, which computes the same figures in the page. Both
 * are held to one table of cases ({@code src/test/resources/derive-cases.json}: DeriveTest here,
 * DeriveBrowserTest in a real Chromium) and compared on the same stored data; change one, change
 * the other, in the same order of floating-point operations so that they agree to the bit.
 *
 * <p>Per bucket b of width w seconds, per series:
 * <ul>
 * <li>ratio: num(b) / den(b); null when den(b) is 0 or null, num(b) is null, or den has no bucket
 *     starting at b's start.</li>
 * <li>rate: v(b) / w * perSeconds (per 1s, 1m, 1h); null when v(b) is null. w is the nominal
 *     width (the step), also for a partial bucket.</li>
 * <li>cumulative: since "today" (local midnight of now in the zone tzOffsetMin minutes east of UTC),
 *     "range" (the first bucket) or epoch ms: null before since; from the first bucket whose start is
 *     at or after it, the running sum of the non-null v up to b, 0 before any non-null value.</li>
 * <li>movingAverage: mean of the non-null v over buckets b-n+1 .. b (those there are at the start);
 *     null when all are null; n 2..100. With a window width, by time (the buckets starting within
 *     n-1 widths before b: the same as by position when none is missing, as in /series' answers;
 *     the page's live buckets may lack empty windows); without, by position.</li>
 * <li>lastSeen: the end of the newest bucket up to b with count > 0, or null (a bucket without a
 *     count counts as seen when its value is not null).</li>
 * </ul>
 * Pure functions: time comes in as {@code now}, the zone as an offset.
 */
public final class Derive {

  /** The operations, in the order messages name them. */
  public static final List<String> OPS = List.of("ratio", "rate", "cumulative", "movingAverage", "lastSeen");
  private static final Map<String, Integer> PER_SECONDS = Map.of("1s", 1, "1m", 60, "1h", 3600);
  private static final long DAY_MS = 86_400_000L;
  private static final long MAX_MS = 253_402_300_799_999L;

  private Derive() {
  }

  /** One input bucket: {@code value} the panel's figure (null: none), {@code count} its events (null: unknown). */
  public record Bucket(long start, long end, Double value, Long count, boolean partial) {

    public Bucket(long start, long end, Double value, Long count) {
      this(start, end, value, count, false);
    }
  }

  /** One output bucket: the derived value, or null. */
  public record Point(long start, long end, Double value, boolean partial) {
  }

  /** What the evaluator knows: now (epoch ms), its zone (minutes east of UTC), the bucket width (0: each bucket's own). */
  public record Ctx(long now, int tzOffsetMin, long windowMs) {
  }

  /**
   * A DERIVE: {@code op} and the field it needs ({@code per} seconds for rate; {@code since} for
   * cumulative: "today", "range" or null with {@code sinceMs}; {@code n}; {@code denominator}).
   */
  public record Spec(String op, int perSeconds, String since, long sinceMs, int n, JsonObject denominator) {

    /**
     * Reads a DERIVE document.
     *
     * @throws IllegalArgumentException with the reason, worded as derive.js {@code validate} words it
     */
    public static Spec parse(Object doc) {
      if (!(doc instanceof JsonObject o)) {
        throw new IllegalArgumentException("derive: must be an object");
      }
      Object op = o.getValue("op");
      if (!(op instanceof String s) || !OPS.contains(s)) {
        throw new IllegalArgumentException("derive.op: one of " + String.join(", ", OPS));
      }
      switch (s) {
        case "ratio": {
          if (!(o.getValue("denominator") instanceof JsonObject den)) {
            throw new IllegalArgumentException("derive.denominator: must be an object of the query fields that "
                + "differ, e.g. {\"filter\": {}}");
          }
          return new Spec(s, 0, null, 0, 0, den);
        }
        case "rate": {
          Object per = o.getValue("per");
          if (!(per instanceof String p) || !PER_SECONDS.containsKey(p)) {
            throw new IllegalArgumentException("derive.per: one of 1s, 1m, 1h");
          }
          return new Spec(s, PER_SECONDS.get(p), null, 0, 0, null);
        }
        case "cumulative": {
          Object since = o.getValue("since");
          if ("today".equals(since) || "range".equals(since)) {
            return new Spec(s, 0, (String) since, 0, 0, null);
          }
          if (since instanceof Number n && whole(n) && n.doubleValue() >= 0 && n.doubleValue() <= MAX_MS) {
            return new Spec(s, 0, null, n.longValue(), 0, null);
          }
          throw new IllegalArgumentException("derive.since: \"today\", \"range\" or epoch milliseconds");
        }
        case "movingAverage": {
          Object n = o.getValue("n");
          if (!(n instanceof Number k) || !whole(k) || k.doubleValue() < 2 || k.doubleValue() > 100) {
            throw new IllegalArgumentException("derive.n: a whole number from 2 to 100");
          }
          return new Spec(s, 0, null, 0, k.intValue(), null);
        }
        default:
          return new Spec(s, 0, null, 0, 0, null);
      }
    }

    private static boolean whole(Number n) {
      double d = n.doubleValue();
      return Double.isFinite(d) && d == Math.rint(d);
    }

    /** Whether this is a ratio (two series). */
    public boolean ratio() {
      return "ratio".equals(op);
    }
  }

  // ---- the definitions over arrays (index i is bucket i) ----

  /** A finite value, or null. */
  public static Double num(Double v) {
    return v == null || !Double.isFinite(v) ? null : v;
  }

  /** num[i] / den[i]; null where den is null or 0 or num is null (den may be shorter: missing is null). */
  public static Double[] ratio(Double[] num, Double[] den) {
    Double[] out = new Double[num.length];
    for (int i = 0; i < num.length; i++) {
      Double n = num(num[i]);
      Double d = i < den.length ? num(den[i]) : null;
      out[i] = n == null || d == null || d == 0 ? null : n / d;
    }
    return out;
  }

  /** v[i] / (widthMs[i] / 1000) * perSeconds; null where v is null or the width is not positive. */
  public static Double[] rate(Double[] v, long[] widthMs, int perSeconds) {
    Double[] out = new Double[v.length];
    for (int i = 0; i < v.length; i++) {
      Double x = num(v[i]);
      double w = widthMs[i];
      out[i] = x == null || !(w > 0) ? null : x / (w / 1000) * perSeconds;
    }
    return out;
  }

  /** Running sum of the non-null v from the first start at or after {@code since}; null before it. */
  public static Double[] cumulative(long[] starts, Double[] v, long since) {
    Double[] out = new Double[v.length];
    double total = 0;
    for (int i = 0; i < v.length; i++) {
      if (starts[i] < since) {
        out[i] = null;
        continue;
      }
      Double x = num(v[i]);
      if (x != null) {
        total += x;
      }
      out[i] = total;
    }
    return out;
  }

  /** Mean of the non-null v over i-n+1 .. i; null when all are null. */
  public static Double[] movingAverage(Double[] v, int n) {
    Double[] out = new Double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = mean(v, Math.max(0, i - n + 1), i);
    }
    return out;
  }

  /**
   * Mean of the non-null v over the buckets whose start is within {@code (n - 1) * windowMs} before
   * bucket i's (by time: the same as by position when no bucket is missing); null when all are null.
   */
  public static Double[] movingAverage(long[] starts, Double[] v, int n, long windowMs) {
    Double[] out = new Double[v.length];
    for (int i = 0; i < v.length; i++) {
      long lo = starts[i] - (n - 1) * windowMs;
      int from = i;
      while (from > 0 && starts[from - 1] >= lo) {
        from--;
      }
      out[i] = mean(v, from, i);
    }
    return out;
  }

  /** Mean of the non-null v[from..to]; null when all are null. */
  private static Double mean(Double[] v, int from, int to) {
    double sum = 0;
    int k = 0;
    for (int j = from; j <= to; j++) {
      Double x = num(v[j]);
      if (x != null) {
        sum += x;
        k++;
      }
    }
    return k == 0 ? null : sum / k;
  }

  /** For each i: ends[j] of the greatest j <= i that was seen, or null. */
  public static Long[] lastSeen(long[] ends, boolean[] seen) {
    Long[] out = new Long[ends.length];
    Long last = null;
    for (int i = 0; i < ends.length; i++) {
      if (seen[i]) {
        last = ends[i];
      }
      out[i] = last;
    }
    return out;
  }

  /** Epoch ms of the local midnight starting the day of {@code now}, in the zone {@code tzOffsetMin} east of UTC. */
  public static long startOfDay(long now, int tzOffsetMin) {
    long off = tzOffsetMin * 60_000L;
    return Math.floorDiv(now + off, DAY_MS) * DAY_MS - off;
  }

  // ---- the same over buckets, as derive.js takes them ----

  /** Whether a bucket had events: count > 0, or a value when the count is unknown. */
  public static boolean seen(Bucket b) {
    return b.count() != null ? b.count() > 0 : num(b.value()) != null;
  }

  /** The end of the newest bucket with events, or null. */
  public static Long lastSeen(List<Bucket> buckets) {
    for (int i = buckets.size() - 1; i >= 0; i--) {
      if (seen(buckets.get(i))) {
        return buckets.get(i).end();
      }
    }
    return null;
  }

  /** derive(spec, buckets, ctx) of derive.js; ratio goes through {@link #deriveRatio}. */
  public static List<Point> derive(Spec spec, List<Bucket> buckets, Ctx ctx) {
    int size = buckets.size();
    Double[] v = new Double[size];
    long[] starts = new long[size];
    long[] ends = new long[size];
    for (int i = 0; i < size; i++) {
      Bucket b = buckets.get(i);
      v[i] = b.value();
      starts[i] = b.start();
      ends[i] = b.end();
    }
    Double[] out;
    switch (spec.op()) {
      case "rate": {
        long[] widths = new long[size];
        for (int i = 0; i < size; i++) {
          widths[i] = ctx.windowMs() > 0 ? ctx.windowMs() : ends[i] - starts[i];
        }
        out = rate(v, widths, spec.perSeconds());
        break;
      }
      case "cumulative": {
        long since;
        if ("today".equals(spec.since())) {
          since = startOfDay(ctx.now(), ctx.tzOffsetMin());
        } else if ("range".equals(spec.since())) {
          since = size > 0 ? starts[0] : 0;
        } else {
          since = spec.sinceMs();
        }
        out = cumulative(starts, v, since);
        break;
      }
      case "movingAverage":
        out = ctx.windowMs() > 0 ? movingAverage(starts, v, spec.n(), ctx.windowMs()) : movingAverage(v, spec.n());
        break;
      case "lastSeen": {
        boolean[] seen = new boolean[size];
        for (int i = 0; i < size; i++) {
          seen[i] = seen(buckets.get(i));
        }
        Long[] last = lastSeen(ends, seen);
        out = new Double[size];
        for (int i = 0; i < size; i++) {
          out[i] = last[i] == null ? null : (double) last[i];
        }
        break;
      }
      case "ratio":
        throw new IllegalArgumentException("derive: op \"ratio\" needs two series: use deriveRatio");
      default:
        throw new IllegalArgumentException("derive.op: one of " + String.join(", ", OPS));
    }
    return points(buckets, out);
  }

  /** deriveRatio(spec, numBuckets, denBuckets, ctx) of derive.js: matched by bucket start. */
  public static List<Point> deriveRatio(Spec spec, List<Bucket> num, List<Bucket> den, Ctx ctx) {
    if (!spec.ratio()) {
      throw new IllegalArgumentException("derive.op: deriveRatio takes op \"ratio\"");
    }
    Map<Long, Double> byStart = new HashMap<>();
    for (Bucket b : den) {
      byStart.put(b.start(), b.value());
    }
    Double[] n = new Double[num.size()];
    Double[] d = new Double[num.size()];
    for (int i = 0; i < n.length; i++) {
      n[i] = num.get(i).value();
      d[i] = byStart.get(num.get(i).start());
    }
    return points(num, ratio(n, d));
  }

  /** Either, by the spec's op ({@code den} only for ratio). */
  public static List<Point> apply(Spec spec, List<Bucket> buckets, List<Bucket> den, Ctx ctx) {
    return spec.ratio() ? deriveRatio(spec, buckets, den == null ? List.of() : den, ctx) : derive(spec, buckets, ctx);
  }

  private static List<Point> points(List<Bucket> buckets, Double[] values) {
    List<Point> out = new ArrayList<>(buckets.size());
    for (int i = 0; i < values.length; i++) {
      Bucket b = buckets.get(i);
      out.add(new Point(b.start(), b.end(), values[i], b.partial()));
    }
    return out;
  }
}
