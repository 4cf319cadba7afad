package io.pulse.dash;

import io.pulse.core.StreamId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a dashboard document may hold (the wallboard contract, section 1, with the derived figures
 * of section 3 and the panel options of section 4), checked before it is stored: the first thing
 * wrong is refused with its path, e.g. {@code panels[2].query.figure: one of count, sum, ...}.
 * Fields it does not know are kept (a newer page may write them); a panel kind it does not know is
 * refused (no page could draw it). Plain Java, no I/O.
 */
public final class DashboardDocs {

  public static final int MAX_TITLE = 120;
  public static final int MAX_DESCRIPTION = 2000;
  public static final int MAX_PANELS = 48;
  public static final int COLUMNS = 12;
  public static final int MAX_HEIGHT = 24;
  /** How far down a panel may be placed (rows): far more than any screen, less than a typo's 1e9. */
  public static final int MAX_Y = 1000;
  public static final int MAX_TOP = 200;
  public static final int MAX_TEXT = 4000;
  public static final int MAX_GROUP_BY = 8;
  public static final int MAX_FILTER_DIMS = 16;
  public static final int MAX_FILTER_VALUES = 100;
  public static final int MAX_NAME = 128;
  public static final int MAX_THRESHOLDS = 20;

  public static final List<String> KINDS = List.of("timeseries", "stat", "gauge", "bar", "table", "statusgrid",
      "alerts", "text");
  public static final List<String> FIGURES = List.of("count", "sum", "min", "max", "mean", "p50", "p95", "p99");
  public static final List<String> WINDOWS = List.of("1s", "5s", "10s", "30s", "1m", "5m", "15m", "1h");
  public static final List<String> RANGES = List.of("5m", "15m", "1h", "6h", "24h", "7d");
  public static final List<String> DERIVE_OPS = List.of("ratio", "rate", "cumulative", "movingAverage", "lastSeen");
  public static final List<String> RATE_PER = List.of("1s", "1m", "1h");
  public static final List<String> ALERT_STATES = List.of("pending", "firing", "acknowledged", "resolved");
  public static final List<String> LEVELS = List.of("ok", "warning", "critical");
  public static final List<String> TABLE_COLUMNS = List.of("series", "last", "min", "max", "mean", "score",
      "lastSeen");
  private static final Pattern PANEL_ID = Pattern.compile("[A-Za-z0-9_-]{1,32}");

  /** A document refused, with the path of what is wrong and why ({@code path: reason}). */
  public static final class Invalid extends IllegalArgumentException {
    public Invalid(String path, String reason) {
      super(path + ": " + reason, null);
    }
  }

  private DashboardDocs() {
  }

  /** Checks a dashboard document; throws {@link Invalid} naming the first thing wrong. */
  public static void check(JsonObject doc) {
    if (doc == null) {
      throw new Invalid("the document", "must be a JSON object");
    }
    Object title = doc.getValue("title");
    if (title == null && doc.getValue("name") instanceof String) {
      // a dashboard stored before the document had a shape: its name is its title
      text(doc, "name", "name", 1, DefinitionStoreLimits.MAX_NAME, true);
    } else {
      text(doc, "title", "title", 1, MAX_TITLE, true);
    }
    text(doc, "description", "description", 0, MAX_DESCRIPTION, false);
    text(doc, "ready", "ready", 1, 64, false);
    Object time = doc.getValue("time");
    if (time != null) {
      JsonObject t = object(time, "time");
      oneOf(t.getValue("range"), "time.range", RANGES, false);
      oneOf(t.getValue("window"), "time.window", WINDOWS, false);
    }
    Object panels = doc.getValue("panels");
    if (panels == null) {
      return;
    }
    if (!(panels instanceof JsonArray a)) {
      throw new Invalid("panels", "must be an array of panels");
    }
    if (a.size() > MAX_PANELS) {
      throw new Invalid("panels", "at most " + MAX_PANELS + " panels, not " + a.size());
    }
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < a.size(); i++) {
      panel(a.getValue(i), "panels[" + i + "]", ids);
    }
  }

  /** The limits the store holds every definition to, repeated here to keep this class free of the store. */
  private static final class DefinitionStoreLimits {
    static final int MAX_NAME = 200;
  }

  private static void panel(Object v, String path, Set<String> ids) {
    JsonObject p = object(v, path);
    Object id = p.getValue("id");
    if (!(id instanceof String s) || !PANEL_ID.matcher(s).matches()) {
      throw new Invalid(path + ".id", "required, " + PANEL_ID.pattern());
    }
    if (!ids.add(s)) {
      throw new Invalid(path + ".id", "\"" + s + "\" is the id of another panel of this dashboard");
    }
    Object kindV = p.getValue("kind");
    if (!(kindV instanceof String kind) || !KINDS.contains(kind)) {
      throw new Invalid(path + ".kind", "one of " + String.join(", ", KINDS));
    }
    text(p, "title", path + ".title", 0, MAX_TITLE, false);
    grid(p.getValue("grid"), path + ".grid");
    boolean noQuery = kind.equals("alerts") || kind.equals("text");
    Object q = p.getValue("query");
    if (kind.equals("alerts")) {
      if (q != null) {
        JsonObject o = object(q, path + ".query");
        if (o.getValue("stream") != null) {
          stream(o.getValue("stream"), path + ".query.stream");
        }
      }
    } else if (kind.equals("text")) {
      if (q != null) {
        throw new Invalid(path + ".query", "a text panel has no query");
      }
    } else {
      if (q == null) {
        throw new Invalid(path + ".query", "required for a " + kind + " panel");
      }
      query(object(q, path + ".query"), path + ".query", false);
    }
    Object derive = p.getValue("derive");
    if (derive != null) {
      if (noQuery) {
        throw new Invalid(path + ".derive", "only a panel with a query derives figures");
      }
      derive(object(derive, path + ".derive"), path + ".derive");
    }
    Object options = p.getValue("options");
    JsonObject o = options == null ? new JsonObject() : object(options, path + ".options");
    options(kind, o, path + ".options");
  }

  private static void grid(Object v, String path) {
    if (v == null) {
      throw new Invalid(path, "required: {\"x\", \"y\", \"w\", \"h\"} on a grid of " + COLUMNS + " columns");
    }
    JsonObject g = object(v, path);
    int x = integer(g.getValue("x"), path + ".x", 0, COLUMNS - 1, true);
    int w = integer(g.getValue("w"), path + ".w", 1, COLUMNS, true);
    integer(g.getValue("y"), path + ".y", 0, MAX_Y, true);
    integer(g.getValue("h"), path + ".h", 1, MAX_HEIGHT, true);
    if (x + w > COLUMNS) {
      throw new Invalid(path, "x + w must be at most " + COLUMNS + " (the grid has " + COLUMNS + " columns), not "
          + (x + w));
    }
  }

  /**
   * A panel's query; {@code partial} for a ratio's denominator, which names only the fields that
   * differ from the panel's.
   */
  private static void query(JsonObject q, String path, boolean partial) {
    Object stream = q.getValue("stream");
    if (stream != null || !partial) {
      stream(stream, path + ".stream");
    }
    Object figureV = q.getValue("figure");
    oneOf(figureV, path + ".figure", FIGURES, false);
    Object metric = q.getValue("metric");
    if (metric != null) {
      name(metric, path + ".metric");
    } else if (!partial && figureV != null && !"count".equals(figureV)) {
      throw new Invalid(path + ".metric", "required for figure " + figureV + " (the value it is computed over)");
    }
    Object groupBy = q.getValue("groupBy");
    if (groupBy != null) {
      if (!(groupBy instanceof JsonArray g)) {
        throw new Invalid(path + ".groupBy", "must be an array of dimension names");
      }
      if (g.size() > MAX_GROUP_BY) {
        throw new Invalid(path + ".groupBy", "at most " + MAX_GROUP_BY + " dimensions");
      }
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < g.size(); i++) {
        name(g.getValue(i), path + ".groupBy[" + i + "]");
        if (!seen.add(g.getString(i))) {
          throw new Invalid(path + ".groupBy[" + i + "]", "\"" + g.getString(i) + "\" is named twice");
        }
      }
    }
    Object filter = q.getValue("filter");
    if (filter != null) {
      JsonObject f = object(filter, path + ".filter");
      if (f.size() > MAX_FILTER_DIMS) {
        throw new Invalid(path + ".filter", "at most " + MAX_FILTER_DIMS + " dimensions");
      }
      for (Map.Entry<String, Object> e : f) {
        String fp = path + ".filter." + e.getKey();
        name(e.getKey(), path + ".filter");
        if (!(e.getValue() instanceof JsonArray values) || values.isEmpty()) {
          throw new Invalid(fp, "must be a non-empty array of values (alternatives)");
        }
        if (values.size() > MAX_FILTER_VALUES) {
          throw new Invalid(fp, "at most " + MAX_FILTER_VALUES + " values");
        }
        for (int i = 0; i < values.size(); i++) {
          if (!(values.getValue(i) instanceof String s) || s.isEmpty() || s.length() > 256) {
            throw new Invalid(fp + "[" + i + "]", "must be a string of 1 to 256 characters");
          }
        }
      }
    }
    oneOf(q.getValue("window"), path + ".window", WINDOWS, false);
    oneOf(q.getValue("range"), path + ".range", RANGES, false);
    if (q.getValue("top") != null) {
      integer(q.getValue("top"), path + ".top", 1, MAX_TOP, true);
    }
  }

  private static void derive(JsonObject d, String path) {
    Object opV = d.getValue("op");
    if (!(opV instanceof String op) || !DERIVE_OPS.contains(op)) {
      throw new Invalid(path + ".op", "one of " + String.join(", ", DERIVE_OPS));
    }
    switch (op) {
      case "ratio" -> {
        Object den = d.getValue("denominator");
        if (den == null) {
          throw new Invalid(path + ".denominator", "required: the query fields that differ from the panel's, "
              + "e.g. {\"filter\": {}}");
        }
        query(object(den, path + ".denominator"), path + ".denominator", true);
      }
      case "rate" -> oneOf(d.getValue("per"), path + ".per", RATE_PER, true);
      case "cumulative" -> {
        Object since = d.getValue("since");
        if (!("today".equals(since) || "range".equals(since)
            || (since instanceof Number n && isInteger(n) && n.longValue() >= 0))) {
          throw new Invalid(path + ".since", "\"today\", \"range\" or a time in epoch milliseconds");
        }
      }
      case "movingAverage" -> integer(d.getValue("n"), path + ".n", 2, 100, true);
      default -> {
        // lastSeen: no parameters
      }
    }
  }

  private static void options(String kind, JsonObject o, String path) {
    text(o, "unit", path + ".unit", 0, 32, false);
    if (o.getValue("decimals") != null) {
      integer(o.getValue("decimals"), path + ".decimals", 0, 10, true);
    }
    for (String flag : List.of("band", "markAnomalies", "stack", "sparkline", "horizontal", "allowAck")) {
      Object f = o.getValue(flag);
      if (f != null && !(f instanceof Boolean)) {
        throw new Invalid(path + "." + flag, "must be true or false");
      }
    }
    for (String n : List.of("min", "max")) {
      Object v = o.getValue(n);
      if (v != null && !(v instanceof Number)) {
        throw new Invalid(path + "." + n, "must be a number");
      }
    }
    if (o.getValue("thresholds") != null) {
      thresholds(o.getValue("thresholds"), path + ".thresholds");
    }
    oneOf(o.getValue("sort"), path + ".sort", List.of("desc", "asc"), false);
    oneOf(o.getValue("by"), path + ".by", List.of("alert", "score"), false);
    subset(o.getValue("columns"), path + ".columns", TABLE_COLUMNS);
    subset(o.getValue("states"), path + ".states", ALERT_STATES);
    text(o, "text", path + ".text", 0, MAX_TEXT, false);
  }

  private static void thresholds(Object v, String path) {
    if (!(v instanceof JsonArray a)) {
      throw new Invalid(path, "must be an array of {\"value\", \"level\"}");
    }
    if (a.size() > MAX_THRESHOLDS) {
      throw new Invalid(path, "at most " + MAX_THRESHOLDS + " thresholds");
    }
    for (int i = 0; i < a.size(); i++) {
      JsonObject t = object(a.getValue(i), path + "[" + i + "]");
      if (!(t.getValue("value") instanceof Number)) {
        throw new Invalid(path + "[" + i + "].value", "required, a number");
      }
      oneOf(t.getValue("level"), path + "[" + i + "].level", LEVELS, true);
    }
  }

  private static void subset(Object v, String path, List<String> allowed) {
    if (v == null) {
      return;
    }
    if (!(v instanceof JsonArray a)) {
      throw new Invalid(path, "must be an array of: " + String.join(", ", allowed));
    }
    for (int i = 0; i < a.size(); i++) {
      oneOf(a.getValue(i), path + "[" + i + "]", allowed, true);
    }
  }

  // ---- playlists ----

  public static final int MAX_PLAYLIST_DASHBOARDS = 50;
  public static final long MIN_INTERVAL_MS = 10_000;
  public static final long MAX_INTERVAL_MS = 3_600_000;
  private static final Pattern DURATION = Pattern.compile("([0-9]{1,7})(s|m|h)");
  private static final Pattern DEFINITION_ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  /**
   * Checks a playlist document ({@code {"title", "interval": "30s", "dashboards": [id, ...]}});
   * whether its dashboards exist is the caller's to check. Throws {@link Invalid}.
   */
  public static void checkPlaylist(JsonObject doc) {
    if (doc == null) {
      throw new Invalid("the document", "must be a JSON object");
    }
    text(doc, "title", "title", 1, MAX_TITLE, true);
    Object interval = doc.getValue("interval");
    long ms = interval instanceof String s ? durationMs(s) : -1;
    if (ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
      throw new Invalid("interval", "required, a duration from 10s to 1h such as \"30s\", \"2m\" or \"1h\"");
    }
    Object ds = doc.getValue("dashboards");
    if (!(ds instanceof JsonArray a) || a.isEmpty() || a.size() > MAX_PLAYLIST_DASHBOARDS) {
      throw new Invalid("dashboards", "required, an array of 1 to " + MAX_PLAYLIST_DASHBOARDS + " dashboard ids");
    }
    for (int i = 0; i < a.size(); i++) {
      if (!(a.getValue(i) instanceof String s) || !DEFINITION_ID.matcher(s).matches()) {
        throw new Invalid("dashboards[" + i + "]", "must be a dashboard id (" + DEFINITION_ID.pattern() + ")");
      }
    }
  }

  /** The dashboard ids of a playlist document, in order, each once; empty when it has none. */
  public static Set<String> playlistDashboards(JsonObject doc) {
    Set<String> out = new LinkedHashSet<>();
    if (doc != null && doc.getValue("dashboards") instanceof JsonArray a) {
      for (Object o : a) {
        if (o instanceof String s) {
          out.add(s);
        }
      }
    }
    return out;
  }

  /** "30s", "2m", "1h" in milliseconds; -1 when it is not such a duration. */
  public static long durationMs(String s) {
    java.util.regex.Matcher m = DURATION.matcher(s);
    if (!m.matches()) {
      return -1;
    }
    long n = Long.parseLong(m.group(1));
    return n * switch (m.group(2)) {
      case "s" -> 1_000L;
      case "m" -> 60_000L;
      default -> 3_600_000L;
    };
  }

  // ---- what a dashboard reads ----

  /**
   * The streams a dashboard's panels name: each panel's {@code query.stream} and a ratio's
   * denominator's stream. What a display bound to the dashboard may read (an alerts panel without a
   * stream shows the alerts of these streams).
   */
  public static Set<String> streams(JsonObject doc) {
    Set<String> out = new LinkedHashSet<>();
    if (doc == null || !(doc.getValue("panels") instanceof JsonArray panels)) {
      return out;
    }
    for (Object o : panels) {
      if (!(o instanceof JsonObject p)) {
        continue;
      }
      if (p.getValue("query") instanceof JsonObject q && q.getValue("stream") instanceof String s
          && StreamId.validName(s)) {
        out.add(s);
      }
      if (p.getValue("derive") instanceof JsonObject d && d.getValue("denominator") instanceof JsonObject den
          && den.getValue("stream") instanceof String s && StreamId.validName(s)) {
        out.add(s);
      }
    }
    return out;
  }

  // ---- small checks ----

  private static JsonObject object(Object v, String path) {
    if (!(v instanceof JsonObject o)) {
      throw new Invalid(path, "must be a JSON object");
    }
    return o;
  }

  private static void stream(Object v, String path) {
    if (!(v instanceof String s) || !StreamId.validName(s)) {
      throw new Invalid(path, "required, a stream name: " + StreamId.NAME_RULE);
    }
  }

  private static void name(Object v, String path) {
    if (!(v instanceof String s) || s.isBlank() || s.length() > MAX_NAME || hasControl(s)) {
      throw new Invalid(path, "must be a name of 1 to " + MAX_NAME + " characters");
    }
  }

  private static void text(JsonObject o, String key, String path, int min, int max, boolean required) {
    Object v = o.getValue(key);
    if (v == null) {
      if (required) {
        throw new Invalid(path, "required, a string of " + Math.max(1, min) + " to " + max + " characters");
      }
      return;
    }
    if (!(v instanceof String s)) {
      throw new Invalid(path, "must be a string of at most " + max + " characters");
    }
    if (s.length() > max || s.length() < min || (min > 0 && s.isBlank())) {
      throw new Invalid(path, min > 0 ? "a string of " + min + " to " + max + " characters"
          : "at most " + max + " characters");
    }
  }

  private static void oneOf(Object v, String path, List<String> allowed, boolean required) {
    if (v == null && !required) {
      return;
    }
    if (!(v instanceof String s) || !allowed.contains(s)) {
      throw new Invalid(path, "one of " + String.join(", ", allowed));
    }
  }

  private static int integer(Object v, String path, int min, int max, boolean required) {
    if (v == null && !required) {
      return min;
    }
    if (!(v instanceof Number n) || !isInteger(n) || n.longValue() < min || n.longValue() > max) {
      throw new Invalid(path, "required, a whole number from " + min + " to " + max);
    }
    return n.intValue();
  }

  private static boolean isInteger(Number n) {
    if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte) {
      return true;
    }
    double d = n.doubleValue();
    return Double.isFinite(d) && d == Math.rint(d) && Math.abs(d) < 1e15;
  }

  private static boolean hasControl(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isISOControl(s.charAt(i))) {
        return true;
      }
    }
    return false;
  }
}
