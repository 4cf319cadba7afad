package io.pulse.alert;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The alerts API's requests against an {@link AlertEngine}, as JSON in and out: what the alert
 * verticle runs for each request message, on the engine's thread. Plain Java. Refusals are
 * {@link AlertEngine.Refused} with their HTTP status.
 *
 * <p>Requests: {@code {"op": "list", "tenant", "state"?, "stream"?, "limit"?}},
 * {@code {"op": "get", "tenant", "id"}}, {@code {"op": "ack", "tenant", "id", "by", "comment"?, "until"?}},
 * {@code {"op": "unack", "tenant", "id", "by"}}, {@code {"op": "silences", "tenant"}},
 * {@code {"op": "silence", "tenant", "id"}}, {@code {"op": "silence.expire", "tenant", "id"}}; a new
 * silence is read by {@link #silence} and added by {@link AlertEngine#putSilence} once stored.
 */
public final class AlertDesk {

  /** Alerts one list answers at most. */
  public static final int MAX_LIST = 1000;

  private final AlertEngine engine;

  public AlertDesk(AlertEngine engine) {
    this.engine = engine;
  }

  /**
   * Answers a request; transitions it causes (ack, unack) are added to {@code out}.
   *
   * @throws AlertEngine.Refused 400/404/409 with the reason
   */
  public JsonObject handle(JsonObject req, long now, List<Transition> out) {
    String tenant = req.getString("tenant");
    String op = req.getString("op", "");
    switch (op) {
      case "list" -> {
        String s = req.getString("state");
        Alert.State state = s == null ? null : Alert.State.of(s);
        if (s != null && state == null) {
          throw new AlertEngine.Refused(400, "state: pending, firing, acknowledged or resolved (not "
              + io.pulse.core.Texts.clip(s) + ")");
        }
        List<Alert> all = engine.alerts(tenant, state, req.getString("stream"));
        JsonArray list = new JsonArray();
        for (Alert a : all.subList(0, Math.min(all.size(), MAX_LIST))) {
          list.add(a.toJson(false));
        }
        JsonObject answer = new JsonObject().put("alerts", list).put("total", all.size());
        long capped = engine.capped(tenant);
        if (capped > 0) {
          answer.put("capped", capped); // windows of series past the tenant's instance cap, not evaluated
        }
        return answer;
      }
      case "get" -> {
        Alert a = engine.alert(tenant, req.getString("id"));
        if (a == null) {
          throw new AlertEngine.Refused(404, "no alert " + req.getString("id"));
        }
        return a.toJson(true);
      }
      case "ack" -> {
        Object until = req.getValue("until");
        Long u = null;
        if (until != null) {
          if (!(until instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
            throw new AlertEngine.Refused(400, "until: epoch milliseconds, or leave it out (until resolved)");
          }
          u = n.longValue();
        }
        Object c = req.getValue("comment");
        if (c != null && (!(c instanceof String s) || s.length() > 2000 || io.pulse.core.Texts.unstorable(s) != null)) {
          throw new AlertEngine.Refused(400, "comment: a string of at most 2000 characters");
        }
        out.addAll(engine.ack(tenant, req.getString("id"), req.getString("by"), (String) c, u, now));
        return engine.alert(tenant, req.getString("id")).toJson(false);
      }
      case "unack" -> {
        out.addAll(engine.unack(tenant, req.getString("id"), req.getString("by"), now));
        return engine.alert(tenant, req.getString("id")).toJson(false);
      }
      case "silences" -> {
        JsonArray list = new JsonArray();
        List<Silence> all = new ArrayList<>(engine.silences(tenant));
        all.sort((a, b) -> Long.compare(b.createdAt(), a.createdAt()));
        all.forEach(s -> list.add(s.toJson(now)));
        return new JsonObject().put("silences", list);
      }
      case "silence" -> {
        Silence s = engine.silence(tenant, req.getString("id"));
        if (s == null) {
          throw new AlertEngine.Refused(404, "no silence " + req.getString("id"));
        }
        return s.toJson(now);
      }
      case "silence.expire" -> {
        if (!engine.expireSilence(tenant, req.getString("id"), now)) {
          throw new AlertEngine.Refused(404, "no silence " + req.getString("id"));
        }
        return engine.silence(tenant, req.getString("id")).toJson(now);
      }
      default -> throw new AlertEngine.Refused(400, "unknown request " + io.pulse.core.Texts.clip(op));
    }
  }

  /**
   * Reads a new silence from {@code {"tenant", "by", "doc"}}, with a new id.
   *
   * @throws AlertEngine.Refused 400 with the reason
   */
  public static Silence silence(JsonObject req, long now) {
    try {
      if (req.getValue("doc") == null) {
        throw new IllegalArgumentException("a silence is a JSON object");
      }
      return Silence.parse(req.getString("tenant"), "s-" + UUID.randomUUID().toString().replace("-", "").substring(0, 12),
          req.getJsonObject("doc"), req.getString("by"), now);
    } catch (IllegalArgumentException | ClassCastException e) {
      throw new AlertEngine.Refused(400, e instanceof ClassCastException ? "a silence is a JSON object" : e.getMessage());
    }
  }
}
