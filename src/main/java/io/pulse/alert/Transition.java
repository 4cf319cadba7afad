package io.pulse.alert;

import io.pulse.agg.Anomaly;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * One change of one alert, as published on {@code pulse.alerts}, stored and sent to webhooks:
 * API.md's alert message ({@code type:"alert"}, id, rule, state, severity, stream, series, value,
 * message, at) plus tenant, ruleName, labels, previous (the state before), flapping, silenced,
 * notify (false when silenced, flapping, pending, or the rule says notify:false: shown, not sent)
 * and reason (what changed: pending, firing, resolved, acknowledged, unacknowledged, ack-expired,
 * flapping, stable, silenced, unsilenced, rule-deleted, rule-changed, stale).
 */
public record Transition(String tenant, String id, String rule, String ruleName, String stream, Dims series,
    Alert.State state, Alert.State previous, String severity, double value, String message, long at,
    Map<String, String> labels, boolean flapping, boolean silenced, boolean notifies, String reason, JsonObject ack,
    Anomaly anomaly, long startedAt, long firedAt) {

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("type", "alert").put("id", id).put("rule", rule).put("ruleName", ruleName)
        .put("tenant", tenant).put("state", state.wire()).put("previous", previous == null ? null : previous.wire())
        .put("severity", severity).put("stream", stream).put("series", dims(series))
        .put("value", Double.isFinite(value) ? value : null).put("message", message).put("at", at)
        .put("labels", new JsonObject(new TreeMap<>(labels))).put("flapping", flapping).put("silenced", silenced)
        .put("notify", notifies).put("reason", reason).put("startedAt", startedAt)
        .put("firedAt", firedAt < 0 ? null : firedAt);
    if (ack != null) {
      j.put("ack", ack);
    }
    if (anomaly != null) {
      j.put("anomaly", anomaly(anomaly));
    }
    return j;
  }

  static JsonObject dims(Dims d) {
    JsonObject o = new JsonObject();
    for (int i = 0; i < d.size(); i++) {
      o.put(d.key(i), d.value(i));
    }
    return o;
  }

  static JsonObject anomaly(Anomaly a) {
    return new JsonObject().put("score", a.score()).put("figure", a.figure()).put("value", finite(a.value()))
        .put("expected", finite(a.expected())).put("low", finite(a.low())).put("high", finite(a.high()))
        .put("deviation", finite(a.deviation())).put("method", a.method());
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }
}
