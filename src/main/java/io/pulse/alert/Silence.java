package io.pulse.alert;

import io.pulse.core.Texts;
import io.pulse.core.Times;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A silence of one tenant: for {@code [startsAt, endsAt)}, alerts whose labels match every matcher
 * still change state and are listed, but their transitions carry {@code notify:false}. Matchers
 * are Alertmanager's: {@code {"name": "team", "value": "payments", "isRegex": false, "isEqual": true}},
 * a regex matching the whole value. An alert's labels are its rule's labels, the series' dims,
 * and {@code alertname} (rule name), {@code rule} (rule id), {@code stream}, {@code severity}.
 *
 * <p>Document: {@code {"matchers": [...], "startsAt": ms (default now), "endsAt": ms or
 * "duration": "2h", "comment": "..."}}; the server adds {@code id}, {@code createdBy}, {@code createdAt}.
 */
public record Silence(String id, String tenant, List<Matcher> matchers, long startsAt, long endsAt, String createdBy,
    long createdAt, String comment) {

  public static final int MAX_MATCHERS = 16;
  public static final int MAX_VALUE = 1024;
  /** The longest silence. */
  public static final long MAX_LENGTH_MS = 366 * 86_400_000L;

  /** One label matcher. */
  public record Matcher(String name, String value, boolean isRegex, boolean isEqual, Pattern pattern) {

    public boolean matches(Map<String, String> labels) {
      String v = labels.getOrDefault(name, "");
      boolean hit = isRegex ? pattern.matcher(v).matches() : value.equals(v);
      return hit == isEqual;
    }

    JsonObject toJson() {
      return new JsonObject().put("name", name).put("value", value).put("isRegex", isRegex).put("isEqual", isEqual);
    }
  }

  /** Whether the silence is in force at {@code now}. */
  public boolean active(long now) {
    return startsAt <= now && now < endsAt;
  }

  public boolean matches(Map<String, String> labels) {
    for (Matcher m : matchers) {
      if (!m.matches(labels)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Reads a silence document.
   *
   * @throws IllegalArgumentException with the reason, for a 400
   */
  public static Silence parse(String tenant, String id, JsonObject doc, String createdBy, long now) {
    if (doc == null) {
      throw new IllegalArgumentException("a silence is a JSON object");
    }
    Object ms = doc.getValue("matchers");
    if (!(ms instanceof JsonArray arr) || arr.isEmpty()) {
      throw new IllegalArgumentException("matchers: required, an array of {name, value, isRegex, isEqual}");
    }
    if (arr.size() > MAX_MATCHERS) {
      throw new IllegalArgumentException("matchers: at most " + MAX_MATCHERS);
    }
    List<Matcher> matchers = new ArrayList<>();
    for (int i = 0; i < arr.size(); i++) {
      if (!(arr.getValue(i) instanceof JsonObject m)) {
        throw new IllegalArgumentException("matchers[" + i + "]: an object {name, value, isRegex, isEqual}");
      }
      Object name = m.getValue("name");
      Object value = m.getValue("value");
      if (!(name instanceof String n) || n.isEmpty() || n.length() > 64 || Texts.unstorable(n) != null) {
        throw new IllegalArgumentException("matchers[" + i + "].name: a label name of 1 to 64 characters");
      }
      if (!(value instanceof String v) || v.length() > MAX_VALUE || Texts.unstorable(v) != null) {
        throw new IllegalArgumentException("matchers[" + i + "].value: a string of at most " + MAX_VALUE + " characters");
      }
      boolean regex = bool(m, "isRegex", false, i);
      boolean equal = bool(m, "isEqual", true, i);
      Pattern p = null;
      if (regex) {
        try {
          p = Pattern.compile(v);
        } catch (PatternSyntaxException e) {
          throw new IllegalArgumentException("matchers[" + i + "].value: not a regular expression: "
              + Texts.clip(e.getDescription()));
        }
      }
      matchers.add(new Matcher(n, v, regex, equal, p));
    }
    long starts = time(doc, "startsAt", now);
    long ends;
    if (doc.getValue("endsAt") != null && doc.getValue("duration") != null) {
      throw new IllegalArgumentException("endsAt and duration: give one");
    }
    if (doc.getValue("duration") != null) {
      long d = doc.getValue("duration") instanceof String s ? io.pulse.config.Durations.parse(s) : -1;
      if (d <= 0) {
        throw new IllegalArgumentException("duration: a duration such as \"2h\"");
      }
      ends = starts + Math.min(d, MAX_LENGTH_MS + 1);
    } else if (doc.getValue("endsAt") != null) {
      ends = time(doc, "endsAt", 0);
    } else {
      throw new IllegalArgumentException("endsAt or duration: required (a silence is for a period)");
    }
    if (ends <= starts) {
      throw new IllegalArgumentException("endsAt: must be after startsAt");
    }
    if (ends - starts > MAX_LENGTH_MS) {
      throw new IllegalArgumentException("a silence lasts at most 366d");
    }
    Object c = doc.getValue("comment");
    if (c != null && (!(c instanceof String s) || s.length() > 2000 || Texts.unstorable(s) != null)) {
      throw new IllegalArgumentException("comment: a string of at most 2000 characters");
    }
    return new Silence(id, tenant, List.copyOf(matchers), starts, ends, createdBy, now, (String) c);
  }

  private static boolean bool(JsonObject m, String field, boolean dflt, int i) {
    Object v = m.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Boolean b)) {
      throw new IllegalArgumentException("matchers[" + i + "]." + field + ": true or false");
    }
    return b;
  }

  private static long time(JsonObject doc, String field, long dflt) {
    Object v = doc.getValue(field);
    if (v == null) {
      return dflt;
    }
    long t;
    if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
      t = n.longValue();
    } else if (v instanceof String s) {
      try {
        t = Times.parseInstant(s);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(field + ": " + e.getMessage());
      }
    } else {
      throw new IllegalArgumentException(field + ": epoch milliseconds or an ISO-8601 time");
    }
    if (!Times.inRange(t)) {
      throw new IllegalArgumentException(field + ": outside 1970 to 9999");
    }
    return t;
  }

  public JsonObject toJson(long now) {
    JsonArray m = new JsonArray();
    matchers.forEach(x -> m.add(x.toJson()));
    String status = now < startsAt ? "pending" : now < endsAt ? "active" : "expired";
    return new JsonObject().put("id", id).put("matchers", m).put("startsAt", startsAt).put("endsAt", endsAt)
        .put("createdBy", createdBy).put("createdAt", createdAt).put("comment", comment).put("status", status);
  }

  /** The same silence, ended at {@code at} (expired early). */
  public Silence endedAt(long at) {
    return new Silence(id, tenant, matchers, startsAt, Math.max(startsAt, Math.min(endsAt, at)), createdBy, createdAt,
        comment);
  }
}
