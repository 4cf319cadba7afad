package io.pulse.alert;

import io.pulse.agg.Anomaly;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One alert: one rule on one series, from the moment its condition first holds until it resolves.
 * Owned and changed by {@link AlertEngine} only (on its one thread); the API reads
 * {@link #toJson} snapshots.
 */
public final class Alert {

  /** The lifecycle. Flapping and silenced are flags beside it, not states. */
  public enum State {
    PENDING, FIRING, ACKNOWLEDGED, RESOLVED;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The state named, or null. */
    public static State of(String s) {
      for (State x : values()) {
        if (x.wire().equals(s)) {
          return x;
        }
      }
      return null;
    }

    public boolean active() {
      return this != RESOLVED;
    }
  }

  /** Transitions kept with an alert in memory (the store keeps them all). */
  static final int RECENT_TRANSITIONS = 20;

  final String id;
  Rule rule;
  final Dims series;
  State state;
  double value = Double.NaN;
  String message;
  Anomaly anomaly;
  final long startedAt;
  /** The start of the window that opened the alert (its start time for an absence). */
  long windowStart = -1;
  long firedAt = -1;
  long resolvedAt = -1;
  long updatedAt;
  boolean flapping;
  List<String> silencedBy = List.of();
  String ackBy;
  String ackComment;
  long ackAt = -1;
  /** Until when the acknowledgement holds; {@link Long#MAX_VALUE}: until the alert resolves. */
  long ackUntil = -1;
  final ArrayDeque<Transition> recent = new ArrayDeque<>();

  Alert(String id, Rule rule, Dims series, long startedAt) {
    this.id = id;
    this.rule = rule;
    this.series = series;
    this.startedAt = startedAt;
    this.updatedAt = startedAt;
  }

  public String id() {
    return id;
  }

  public Rule rule() {
    return rule;
  }

  public Dims series() {
    return series;
  }

  public State state() {
    return state;
  }

  public double value() {
    return value;
  }

  public boolean flapping() {
    return flapping;
  }

  public boolean silenced() {
    return !silencedBy.isEmpty();
  }

  public String ackBy() {
    return ackBy;
  }

  public long ackUntil() {
    return ackUntil;
  }

  /** The labels silences match: the rule's, the series' dims, then alertname, rule, stream, severity. */
  public Map<String, String> matchLabels() {
    Map<String, String> m = new TreeMap<>(rule.labels());
    for (int i = 0; i < series.size(); i++) {
      m.put(series.key(i), series.value(i));
    }
    m.put("alertname", rule.name());
    m.put("rule", rule.id() == null ? "" : rule.id());
    m.put("stream", rule.stream().name());
    m.put("severity", rule.severity());
    return m;
  }

  /** The acknowledgement, or null. */
  JsonObject ackJson() {
    if (ackBy == null) {
      return null;
    }
    return new JsonObject().put("by", ackBy).put("comment", ackComment).put("at", ackAt)
        .put("until", ackUntil == Long.MAX_VALUE ? null : ackUntil).put("untilResolved", ackUntil == Long.MAX_VALUE);
  }

  /** The alert as the API lists it; with its recent transitions when asked. */
  public JsonObject toJson(boolean transitions) {
    JsonObject j = new JsonObject().put("type", "alert").put("id", id).put("rule", rule.id())
        .put("ruleName", rule.name()).put("state", state.wire()).put("severity", rule.severity())
        .put("stream", rule.stream().name()).put("series", Transition.dims(series))
        .put("value", Double.isFinite(value) ? value : null).put("message", message).put("at", updatedAt)
        .put("startedAt", startedAt).put("firedAt", firedAt < 0 ? null : firedAt)
        .put("resolvedAt", resolvedAt < 0 ? null : resolvedAt).put("labels", new JsonObject(new TreeMap<>(matchLabels())))
        .put("flapping", flapping).put("silenced", silenced()).put("silencedBy", new JsonArray(new ArrayList<>(silencedBy)));
    JsonObject ack = ackJson();
    if (ack != null) {
      j.put("ack", ack);
    }
    if (windowStart >= 0) {
      j.put("windowStart", windowStart); // not known for an alert taken up after a restart
    }
    j.put("kind", rule.kind().wire());
    if (anomaly != null) {
      j.put("anomaly", Transition.anomaly(anomaly));
    }
    if (transitions) {
      JsonArray t = new JsonArray();
      recent.forEach(x -> t.add(x.toJson()));
      j.put("transitions", t);
    }
    return j;
  }
}
