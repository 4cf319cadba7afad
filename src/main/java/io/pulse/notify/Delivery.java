package io.pulse.notify;

import io.vertx.core.json.JsonObject;

/**
 * One notification to one webhook and where it stands: immutable, replaced whole at each change.
 * The body is the exact JSON text that is signed and sent on every attempt.
 *
 * @param lastStatus the HTTP status of the last attempt, or null (none yet, or no answer)
 * @param lastError why the last attempt failed (or why the delivery was given up), or null
 * @param nextAttemptAt when it is tried next (epoch ms); meaningless once delivered or failed
 */
public record Delivery(String tenant, String id, String webhook, String body, State state, int attempts,
    Integer lastStatus, String lastError, long nextAttemptAt, long createdAt, long updatedAt) {

  /** Where a delivery stands; the stored and shown name is the lower-case one. */
  public enum State {
    PENDING, DELIVERED, FAILED;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The state a stored or requested name means; null for none. */
    public static State of(String wire) {
      for (State s : values()) {
        if (s.wire().equals(wire)) {
          return s;
        }
      }
      return null;
    }
  }

  public boolean pending() {
    return state == State.PENDING;
  }

  Delivery attempted(int newAttempts, Integer status, String error, State next, long nextAt, long now) {
    return new Delivery(tenant, id, webhook, body, next, newAttempts, status, error, nextAt, createdAt, now);
  }

  /** As the API shows it: the body as JSON when it is, else as text. */
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("id", id).put("webhook", webhook).put("state", state.wire())
        .put("attempts", attempts).put("lastStatus", lastStatus).put("lastError", lastError)
        .put("createdAt", createdAt).put("updatedAt", updatedAt);
    if (state == State.PENDING) {
      j.put("nextAttemptAt", nextAttemptAt);
    }
    try {
      j.put("body", new JsonObject(body));
    } catch (RuntimeException e) {
      j.put("body", body);
    }
    return j;
  }
}
