package io.pulse.alert;

import io.pulse.agg.View;
import io.pulse.config.Durations;
import io.pulse.core.StreamId;
import io.pulse.core.Texts;
import io.pulse.live.SubscriptionSpec;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * One alert rule of one tenant, read and checked from its JSON document (API.md "Rules", extended).
 * {@link #parse} refuses, with a reason fit for a 400, anything Pulse cannot evaluate; a parsed rule
 * is immutable.
 *
 * <p>Kinds: {@code threshold} compares a figure of each final window; {@code anomaly} the window's
 * anomaly score (windows without one, while the detector warms up, change nothing); {@code outliers}
 * the window's count of outlier events; {@code rate} the change of a figure from the series'
 * previous final window to this one, divided by the time between their starts and given per
 * second ({@code per} "s") or per minute ("m") (a window with no events makes no rollup, so the
 * rate spans the gap); {@code absence} fires when a series (each series of the group-by, or the
 * stream when the rule was made and nothing has come since) sends no window for {@code absentFor},
 * decided on the clock.
 *
 * <p>Fields other than these are kept in the stored document and ignored here (API.md: "add more
 * freely"), so a misspelt optional field is not noticed; a missing required one is.
 *
 * <p>The document:
 * <pre>
 * {"name": "checkout p99 too slow", "stream": "latency",
 *  "kind": "threshold",              // threshold | anomaly | absence | rate | outliers
 *  "metric": "ms", "figure": "p99",  // count|sum|min|max|mean|p50|p95|p99 (count needs no metric)
 *  "op": ">", "value": 500,          // > >= < <= == !=; anomaly: value = score level (op is >=)
 *  "clear": 450,                     // hysteresis: a firing alert resolves only once the value is
 *                                    //   back past this level (or "hysteresis": 50, the distance)
 *  "per": "s",                       // rate: change per second ("s") or per minute ("m")
 *  "sensitivity": "medium",          // anomaly without value: low | medium | high
 *  "for": "0s", "keepFiringFor": "0s",  // anomaly: keepFiringFor defaults to 1m
 *  "absentFor": "30s",               // absence
 *  "filter": {"service": "api"}, "groupBy": ["service"],
 *  "severity": "critical", "labels": {"team": "payments"}, "notify": true}
 * </pre>
 */
public final class Rule {

  /** What a rule watches. */
  public enum Kind {
    THRESHOLD, ANOMALY, ABSENCE, RATE, OUTLIERS;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A comparison of a value against the rule's level. */
  public enum Op {
    GT(">"), GE(">="), LT("<"), LE("<="), EQ("=="), NE("!=");

    private final String text;

    Op(String text) {
      this.text = text;
    }

    public String text() {
      return text;
    }

    public boolean test(double v, double level) {
      return switch (this) {
        case GT -> v > level;
        case GE -> v >= level;
        case LT -> v < level;
        case LE -> v <= level;
        case EQ -> v == level;
        case NE -> v != level;
      };
    }

    static Op of(String s) {
      for (Op o : values()) {
        if (o.text.equals(s)) {
          return o;
        }
      }
      return null;
    }
  }

  /**
   * The anomaly score level an anomaly rule fires at when it names neither {@code value} nor
   * {@code sensitivity}; equal to the detector's default alert level ({@code detect.alertLevel}).
   */
  public static final double DEFAULT_ANOMALY_LEVEL = 0.9;

  public static final Set<String> FIGURES = Set.of("count", "sum", "min", "max", "mean", "p50", "p95", "p99");
  public static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");
  /**
   * An anomaly rule's {@code keepFiringFor} when it gives none: a detector scores the windows after
   * an anomaly low (its record took the anomaly in, and its refractory period holds them under the
   * alert level), so without it an alert would resolve a window after it fired while the anomaly
   * went on.
   */
  public static final long ANOMALY_KEEP_FIRING_MS = 60_000;

  /** The longest {@code for}, {@code keepFiringFor} and {@code absentFor}. */
  public static final long MAX_DURATION_MS = 7 * 86_400_000L;
  /** The largest magnitude of a level: past it a float comparison means nothing useful. */
  public static final double MAX_LEVEL = 1e15;
  public static final int MAX_LABELS = 32;
  public static final int MAX_LABEL_VALUE = 256;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");

  private final String id;
  private final String name;
  private final StreamId stream;
  private final Kind kind;
  private final String metric;
  private final String figure;
  private final Op op;
  private final double value;
  private final double clear;
  private final long perMs;
  private final long forMs;
  private final long keepFiringForMs;
  private final long absentForMs;
  private final Map<String, Set<String>> filter;
  private final List<String> groupBy;
  private final String severity;
  private final Map<String, String> labels;
  private final boolean notify;
  private final boolean enabled;
  private final String viewSpec;

  private Rule(String id, String name, StreamId stream, Kind kind, String metric, String figure, Op op, double value,
      double clear, long perMs, long forMs, long keepFiringForMs, long absentForMs, Map<String, Set<String>> filter,
      List<String> groupBy, String severity, Map<String, String> labels, boolean notify, boolean enabled) {
    this.id = id;
    this.name = name;
    this.stream = stream;
    this.kind = kind;
    this.metric = metric;
    this.figure = figure;
    this.op = op;
    this.value = value;
    this.clear = clear;
    this.perMs = perMs;
    this.forMs = forMs;
    this.keepFiringForMs = keepFiringForMs;
    this.absentForMs = absentForMs;
    this.filter = filter;
    this.groupBy = groupBy;
    this.severity = severity;
    this.labels = labels;
    this.notify = notify;
    this.enabled = enabled;
    this.viewSpec = View.spec(stream, filter, groupBy);
  }

  /**
   * Reads a rule document of {@code tenant}.
   *
   * @param id the rule's id (the stored definition's); may be null while validating a new document
   * @throws IllegalArgumentException with the reason, for a 400
   */
  public static Rule parse(String tenant, String id, JsonObject doc) {
    if (doc == null) {
      throw new IllegalArgumentException("a rule is a JSON object");
    }
    String name = string(doc, "name", null);
    if (name == null || name.isBlank() || name.length() > 200) {
      throw new IllegalArgumentException("name: required, a string of 1 to 200 characters");
    }
    String kindText = string(doc, "kind", null);
    Kind kind = null;
    if (kindText != null) {
      for (Kind k : Kind.values()) {
        if (k.wire().equals(kindText)) {
          kind = k;
        }
      }
    }
    if (kind == null) {
      throw new IllegalArgumentException("kind: required, one of threshold, anomaly, absence, rate, outliers"
          + (kindText == null ? "" : " (not " + Texts.clip(kindText) + ")"));
    }
    // stream, filter and groupBy under the live feed's rules, so a rule reads exactly the view a subscriber would
    Object streamName = doc.getValue("stream");
    if (!(streamName instanceof String s) || !StreamId.validName(s)) {
      throw new IllegalArgumentException("stream: required, " + StreamId.NAME_RULE
          + (streamName == null ? "" : " (not " + Texts.clip(String.valueOf(streamName)) + ")"));
    }
    JsonObject sub = new JsonObject().put("stream", streamName);
    if (doc.getValue("filter") != null) {
      sub.put("filter", doc.getValue("filter"));
    }
    if (doc.getValue("groupBy") != null) {
      sub.put("groupBy", doc.getValue("groupBy"));
    }
    SubscriptionSpec spec = SubscriptionSpec.fromJson(tenant, sub);

    String metric = string(doc, "metric", null);
    if (metric != null && !NAME.matcher(metric).matches()) {
      throw new IllegalArgumentException("metric: \"" + Texts.clip(metric) + "\" is not a value name");
    }
    String figure = string(doc, "figure", null);
    if (figure == null) {
      figure = metric == null ? "count" : "mean";
    }
    if (!FIGURES.contains(figure)) {
      throw new IllegalArgumentException("figure: one of count, sum, min, max, mean, p50, p95, p99 (not "
          + Texts.clip(figure) + ")");
    }
    if (!"count".equals(figure) && metric == null && (kind == Kind.THRESHOLD || kind == Kind.RATE)) {
      throw new IllegalArgumentException("metric: required for figure " + figure + " (which value's " + figure + "?)");
    }
    if ("count".equals(figure)) {
      metric = null;
    }

    String opText = string(doc, "op", null);
    Op op = opText == null ? null : Op.of(opText);
    if (opText != null && op == null) {
      throw new IllegalArgumentException("op: one of >, >=, <, <=, ==, != (not " + Texts.clip(opText) + ")");
    }
    Double given = number(doc, "value");
    double value;
    switch (kind) {
      case THRESHOLD, RATE -> {
        if (op == null || given == null) {
          throw new IllegalArgumentException("op and value: required for a " + kind.wire() + " rule");
        }
        value = given;
      }
      case ANOMALY -> {
        if (op != null && op != Op.GE) {
          throw new IllegalArgumentException("op: an anomaly rule fires when the score is >= its level; leave op out");
        }
        op = Op.GE;
        value = given != null ? given : level(string(doc, "sensitivity", null));
        if (given != null && doc.getValue("sensitivity") != null) {
          throw new IllegalArgumentException("value and sensitivity: give one (value is the score level itself)");
        }
        if (!(value > 0 && value <= 1)) {
          throw new IllegalArgumentException("value: an anomaly score level is in (0, 1], not " + value);
        }
      }
      case OUTLIERS -> {
        op = op == null ? Op.GT : op;
        value = given == null ? 0 : given;
        if (value < 0) {
          throw new IllegalArgumentException("value: a count of outlier events is never negative");
        }
      }
      default -> { // absence
        if (given != null || op != null) {
          throw new IllegalArgumentException("op and value: an absence rule has none; it fires after absentFor of silence");
        }
        op = null;
        value = Double.NaN;
      }
    }
    if (kind != Kind.ANOMALY && doc.getValue("sensitivity") != null) {
      throw new IllegalArgumentException("sensitivity: only for anomaly rules");
    }
    if (!Double.isNaN(value) && Math.abs(value) > MAX_LEVEL) {
      throw new IllegalArgumentException("value: at most " + MAX_LEVEL + " in magnitude");
    }

    double clear = clearLevel(doc, kind, op, value);

    long perMs = 1000;
    String per = string(doc, "per", null);
    if (per != null) {
      if (kind != Kind.RATE) {
        throw new IllegalArgumentException("per: only for rate rules");
      }
      perMs = switch (per) {
        case "s", "1s", "second" -> 1000;
        case "m", "1m", "minute" -> 60_000;
        default -> throw new IllegalArgumentException("per: \"s\" (change per second) or \"m\" (per minute)");
      };
    }
    long forMs = duration(doc, "for", 0);
    long keep = duration(doc, "keepFiringFor", kind == Kind.ANOMALY ? ANOMALY_KEEP_FIRING_MS : 0);
    long absentFor = duration(doc, "absentFor", -1);
    if (kind == Kind.ABSENCE) {
      if (absentFor < 1000) {
        throw new IllegalArgumentException("absentFor: required for an absence rule, at least 1s");
      }
    } else if (absentFor >= 0) {
      throw new IllegalArgumentException("absentFor: only for absence rules");
    }
    String severity = string(doc, "severity", "warning");
    if (!SEVERITIES.contains(severity)) {
      throw new IllegalArgumentException("severity: critical, warning or info (not " + Texts.clip(severity) + ")");
    }
    Map<String, String> labels = labels(doc.getValue("labels"));
    Object n = doc.getValue("notify");
    if (n != null && !(n instanceof Boolean)) {
      throw new IllegalArgumentException("notify: true or false");
    }
    Object en = doc.getValue("enabled");
    if (en != null && !(en instanceof Boolean)) {
      throw new IllegalArgumentException("enabled: true or false");
    }
    if (doc.getValue("description") != null && !(doc.getValue("description") instanceof String)) {
      throw new IllegalArgumentException("description: a string");
    }
    return new Rule(id, name, spec.stream(), kind, metric, figure, op, value, clear, perMs, forMs, keep,
        Math.max(absentFor, 0), spec.filter(), spec.groupBy(), severity, labels, n == null || (Boolean) n,
        en == null || (Boolean) en);
  }

  /** The anomaly level of a sensitivity: low fires less (0.95 at the default 0.9), high more (0.8). */
  static double level(String sensitivity) {
    if (sensitivity == null || "medium".equals(sensitivity)) {
      return DEFAULT_ANOMALY_LEVEL;
    }
    return switch (sensitivity) {
      case "low" -> 1 - (1 - DEFAULT_ANOMALY_LEVEL) / 2;
      case "high" -> Math.max(0.01, 1 - (1 - DEFAULT_ANOMALY_LEVEL) * 2);
      default -> throw new IllegalArgumentException("sensitivity: low, medium or high (not " + Texts.clip(sensitivity)
          + ")");
    };
  }

  private static double clearLevel(JsonObject doc, Kind kind, Op op, double value) {
    Double clear = number(doc, "clear");
    Double hyst = number(doc, "hysteresis");
    if (clear == null && hyst == null) {
      return Double.NaN;
    }
    if (clear != null && hyst != null) {
      throw new IllegalArgumentException("clear and hysteresis: give one (clear is the level, hysteresis the distance)");
    }
    if (kind == Kind.ABSENCE || op == Op.EQ || op == Op.NE) {
      throw new IllegalArgumentException((clear != null ? "clear" : "hysteresis") + ": only for rules that compare with "
          + ">, >=, < or <=");
    }
    boolean above = op == Op.GT || op == Op.GE;
    if (hyst != null) {
      if (hyst < 0) {
        throw new IllegalArgumentException("hysteresis: a distance, never negative");
      }
      return above ? value - hyst : value + hyst;
    }
    if (Math.abs(clear) > MAX_LEVEL) {
      throw new IllegalArgumentException("clear: at most " + MAX_LEVEL + " in magnitude");
    }
    if (above ? clear > value : clear < value) {
      throw new IllegalArgumentException("clear: a rule firing at " + op.text() + " " + value + " clears at a level "
          + (above ? "at or below" : "at or above") + " it, not " + clear);
    }
    return clear;
  }

  private static Map<String, String> labels(Object o) {
    if (o == null) {
      return Map.of();
    }
    if (!(o instanceof JsonObject j)) {
      throw new IllegalArgumentException("labels: an object of name -> string");
    }
    if (j.size() > MAX_LABELS) {
      throw new IllegalArgumentException("labels: at most " + MAX_LABELS);
    }
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, Object> e : j) {
      if (!NAME.matcher(e.getKey()).matches()) {
        throw new IllegalArgumentException("labels: \"" + Texts.clip(e.getKey()) + "\" is not a label name ("
            + NAME.pattern() + ")");
      }
      if (!(e.getValue() instanceof String v) || v.length() > MAX_LABEL_VALUE || Texts.unstorable(v) != null) {
        throw new IllegalArgumentException("labels." + e.getKey() + ": a string of at most " + MAX_LABEL_VALUE
            + " characters");
      }
      out.put(e.getKey(), v);
    }
    return Collections.unmodifiableMap(out);
  }

  private static String string(JsonObject doc, String field, String dflt) {
    Object v = doc.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof String s)) {
      throw new IllegalArgumentException(field + ": a string");
    }
    return s;
  }

  private static Double number(JsonObject doc, String field) {
    Object v = doc.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Number num) || !Double.isFinite(num.doubleValue())) {
      throw new IllegalArgumentException(field + ": a finite number");
    }
    return num.doubleValue();
  }

  private static long duration(JsonObject doc, String field, long dflt) {
    Object v = doc.getValue(field);
    if (v == null) {
      return dflt;
    }
    long ms = v instanceof String s ? Durations.parse(s) : -1;
    if (ms < 0) {
      throw new IllegalArgumentException(field + ": a duration such as \"30s\", \"5m\" or \"1h\" (not "
          + Texts.clip(String.valueOf(v)) + ")");
    }
    if (ms > MAX_DURATION_MS) {
      throw new IllegalArgumentException(field + ": at most 7d");
    }
    return ms;
  }

  /** The same rule under another id (a document validated before it had one). */
  public Rule withId(String newId) {
    return new Rule(newId, name, stream, kind, metric, figure, op, value, clear, perMs, forMs, keepFiringForMs,
        absentForMs, filter, groupBy, severity, labels, notify, enabled);
  }

  /** Whether a value breaches the rule (threshold, anomaly, rate, outliers). */
  public boolean breaches(double v) {
    return op.test(v, value);
  }

  /**
   * Whether the rule may fire on a running (not yet final) rollup: its figure only moves one way
   * while a window fills (count and max grow, min shrinks, outliers grow), so a running value that
   * breaches means the final one will, and there is no {@code for} to wait out. Such a rule fires
   * within a flush tick of the event that crosses its level instead of after the window closes.
   */
  public boolean firesEarly() {
    if (forMs > 0 || op == null) {
      return false;
    }
    boolean up = op == Op.GT || op == Op.GE;
    boolean down = op == Op.LT || op == Op.LE;
    return switch (kind) {
      case OUTLIERS -> up;
      case THRESHOLD -> ("count".equals(figure) || "max".equals(figure)) && up || "min".equals(figure) && down;
      default -> false;
    };
  }

  /** Whether a value of a firing alert is back past the clear level (without one: no longer breaching). */
  public boolean clears(double v) {
    if (Double.isNaN(clear)) {
      return !breaches(v);
    }
    return op == Op.GT || op == Op.GE ? v <= clear : v >= clear;
  }

  /** What the rule watches, for messages: "ms.p99", "count", "anomaly score", ... */
  public String watched() {
    return switch (kind) {
      case ANOMALY -> "anomaly score";
      case OUTLIERS -> "outlier events";
      case ABSENCE -> "events";
      case RATE -> "rate of " + (metric == null ? "count" : metric + "." + figure) + (perMs == 1000 ? " per s" : " per m");
      default -> metric == null ? "count" : metric + "." + figure;
    };
  }

  /** The document as the engine understands it (defaults filled in). */
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("name", name).put("stream", stream.name()).put("kind", kind.wire());
    if (kind != Kind.ABSENCE) {
      if (metric != null) {
        j.put("metric", metric);
      }
      j.put("figure", figure).put("op", op.text()).put("value", value);
      if (!Double.isNaN(clear)) {
        j.put("clear", clear);
      }
    } else {
      j.put("absentFor", Durations.format(absentForMs));
    }
    if (kind == Kind.RATE) {
      j.put("per", perMs == 1000 ? "s" : "m");
    }
    JsonObject f = new JsonObject();
    filter.forEach((k, v) -> f.put(k, new JsonArray(List.copyOf(v))));
    return j.put("for", Durations.format(forMs)).put("keepFiringFor", Durations.format(keepFiringForMs))
        .put("filter", f).put("groupBy", new JsonArray(groupBy)).put("severity", severity)
        .put("labels", new JsonObject(new TreeMap<>(labels))).put("notify", notify).put("enabled", enabled);
  }

  public String id() {
    return id;
  }

  public String name() {
    return name;
  }

  public StreamId stream() {
    return stream;
  }

  public String tenant() {
    return stream.tenant();
  }

  public Kind kind() {
    return kind;
  }

  public String metric() {
    return metric;
  }

  public String figure() {
    return figure;
  }

  public Op op() {
    return op;
  }

  public double value() {
    return value;
  }

  /** The hysteresis clear level, or NaN when the rule has none. */
  public double clear() {
    return clear;
  }

  public long perMs() {
    return perMs;
  }

  public long forMs() {
    return forMs;
  }

  public long keepFiringForMs() {
    return keepFiringForMs;
  }

  public long absentForMs() {
    return absentForMs;
  }

  public Map<String, Set<String>> filter() {
    return filter;
  }

  public List<String> groupBy() {
    return groupBy;
  }

  public String severity() {
    return severity;
  }

  public Map<String, String> labels() {
    return labels;
  }

  public boolean notifyEnabled() {
    return notify;
  }

  public boolean enabled() {
    return enabled;
  }

  /** The canonical text of the view this rule reads ({@link View#spec}); its rollups carry the same. */
  public String viewSpec() {
    return viewSpec;
  }

  @Override
  public String toString() {
    return "Rule(" + id + " " + kind.wire() + " " + viewSpec + ")";
  }
}
