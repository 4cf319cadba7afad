package io.pulse.store;

import io.pulse.alert.Silence;
import io.pulse.alert.Transition;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Alerts, their transitions and silences in PostgreSQL (schema V4), and the stored rules the
 * alert verticle loads at start. Every call is a non-blocking vertx-pg-client query returning a
 * future; nothing here blocks its caller's event loop.
 */
public final class AlertStore {

  /** A stored rule document: its tenant, id and JSON. */
  public record StoredRule(String tenant, String id, JsonObject doc) {
  }

  private final Pool pool;

  public AlertStore(Pool pool) {
    this.pool = pool;
  }

  /** Every current (not deleted) rule of every tenant. */
  public Future<List<StoredRule>> rules() {
    return pool.query("select tenant, id, doc from definitions where kind = 'rule' and not deleted order by tenant, id")
        .execute().map(rows -> {
          List<StoredRule> out = new ArrayList<>();
          for (Row r : rows) {
            out.add(new StoredRule(r.getString("tenant"), r.getString("id"), (JsonObject) r.getValue("doc")));
          }
          return out;
        });
  }

  /**
   * Writes transitions in one transaction: each alert's row takes its latest state, and every
   * transition is appended to its history. Idempotent for the alert rows (upserts).
   */
  public Future<Void> write(List<Transition> ts) {
    if (ts.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<String, Transition> latest = new LinkedHashMap<>();
    List<Tuple> history = new ArrayList<>(ts.size());
    for (Transition t : ts) {
      latest.put(t.tenant() + "\u0000" + t.id(), t);
      JsonObject body = t.toJson();
      history.add(Tuple.of(t.tenant(), t.id(), AuditLog.time(t.at()), t.state().wire(),
          t.previous() == null ? null : t.previous().wire(), t.reason()).addValue(t.notifies()).addValue(body));
    }
    List<Tuple> rows = new ArrayList<>(latest.size());
    for (Transition t : latest.values()) {
      JsonObject j = t.toJson();
      rows.add(Tuple.tuple().addValue(t.tenant()).addValue(t.id()).addValue(t.rule()).addValue(t.ruleName())
          .addValue(t.stream()).addValue(j.getJsonObject("series")).addValue(t.severity()).addValue(t.state().wire())
          .addValue(Double.isFinite(t.value()) ? t.value() : null).addValue(t.message())
          .addValue(j.getJsonObject("labels")).addValue(t.flapping()).addValue(t.silenced()).addValue(t.ack())
          .addValue(AuditLog.time(t.startedAt())).addValue(AuditLog.time(t.at()))
          .addValue(t.state() == io.pulse.alert.Alert.State.RESOLVED ? AuditLog.time(t.at()) : null)
          .addValue(t.firedAt() < 0 ? null : AuditLog.time(t.firedAt())));
    }
    return pool.withTransaction(conn -> conn.preparedQuery("insert into alerts (tenant, id, rule_id, rule_name, stream, "
            + "series, severity, state, value, message, labels, flapping, silenced, ack, started_at, updated_at, "
            + "resolved_at, fired_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
            + "$17, $18) on conflict (tenant, id) do update set rule_name = excluded.rule_name, "
            + "severity = excluded.severity, state = excluded.state, value = excluded.value, "
            + "message = excluded.message, labels = excluded.labels, flapping = excluded.flapping, "
            + "silenced = excluded.silenced, ack = excluded.ack, updated_at = excluded.updated_at, "
            + "resolved_at = excluded.resolved_at, fired_at = excluded.fired_at")
        .executeBatch(rows)
        .compose(v -> conn.preparedQuery("insert into alert_transitions (tenant, alert_id, at, state, previous, reason, "
            + "notify, body) values ($1, $2, $3, $4, $5, $6, $7, $8)").executeBatch(history))
        .mapEmpty());
  }

  /** An alert a previous run left active, as stored. */
  public record Active(String tenant, String id, String ruleId, String stream, io.pulse.event.Dims series, String state,
      Double value, String message, long startedAt, long firedAt, JsonObject ack) {
  }

  /** Every alert not resolved, of every tenant. */
  public Future<List<Active>> active() {
    return pool.query("select tenant, id, rule_id, stream, series, state, value, message, started_at, fired_at, ack "
            + "from alerts "
            + "where state <> 'resolved'").execute().map(rows -> {
              List<Active> out = new ArrayList<>();
              for (Row r : rows) {
                out.add(new Active(r.getString("tenant"), r.getString("id"), r.getString("rule_id"),
                    r.getString("stream"), RollupStore.dims((JsonObject) r.getValue("series")), r.getString("state"), r.getDouble("value"),
                    r.getString("message"), AuditLog.millis(r.getOffsetDateTime("started_at")),
                    r.getOffsetDateTime("fired_at") == null ? -1 : AuditLog.millis(r.getOffsetDateTime("fired_at")),
                    (JsonObject) r.getValue("ack")));
              }
              return out;
            });
  }

  /**
   * Closes the alerts a previous run left active except {@code kept} ("tenant/id": those the engine
   * took up again): resolved, reason "restart", each with a transition saying so. Returns how many.
   */
  public Future<Integer> closeActive(long now, List<String> kept) {
    return close(now, "not (tenant || '/' || id = any($3::text[]))", kept, "closed by a restart", "restart");
  }

  /**
   * Cluster mode: closes these alerts ("tenant/id"), left active by an instance that owned their
   * stream's home before, whose rule is gone: resolved, reason "rule-deleted". Returns how many.
   */
  public Future<Integer> closeOrphans(long now, List<String> ids) {
    return ids.isEmpty() ? Future.succeededFuture(0)
        : close(now, "tenant || '/' || id = any($3::text[])", ids, "its rule is gone", "rule-deleted");
  }

  private Future<Integer> close(long now, String which, List<String> ids, String note, String reason) {
    return pool.withTransaction(conn -> conn.preparedQuery("with old as (select tenant, id, state from alerts "
            + "where state <> 'resolved' and " + which + " for update), "
            + "closed as (update alerts a set state = 'resolved', resolved_at = $1, updated_at = $1, ack = null, "
            + "message = coalesce(a.message, '') || ' (" + note + ")' from old "
            + "where a.tenant = old.tenant and a.id = old.id returning a.tenant, a.id, old.state as previous) "
            + "insert into alert_transitions (tenant, alert_id, at, state, previous, reason, notify, body) "
            + "select tenant, id, $1, 'resolved', previous, '" + reason + "', false, "
            + "jsonb_build_object('type', 'alert', 'id', id, 'state', 'resolved', 'previous', previous, "
            + "'reason', '" + reason + "', 'at', $2::bigint) from closed")
        .execute(Tuple.of(AuditLog.time(now), now, ids.toArray(new String[0]))).map(r -> r.rowCount()));
  }

  /** One alert with every stored transition (oldest first), or null. */
  public Future<JsonObject> alert(String tenant, String id) {
    return pool.preparedQuery("select body from alert_transitions where tenant = $1 and alert_id = $2 order by id")
        .execute(Tuple.of(tenant, id)).compose(ts -> pool.preparedQuery("select id, rule_id, rule_name, stream, series, "
            + "severity, state, value, message, labels, flapping, silenced, ack, started_at, fired_at, updated_at, "
            + "resolved_at from alerts where tenant = $1 and id = $2").execute(Tuple.of(tenant, id)).map(rows -> {
              if (rows.size() == 0) {
                return null;
              }
              JsonObject a = json(rows.iterator().next());
              JsonArray list = new JsonArray();
              ts.forEach(r -> list.add(r.getValue("body")));
              return a.put("transitions", list);
            }));
  }

  /** A tenant's stored alerts, newest change first, at most {@code limit}. */
  public Future<List<JsonObject>> alerts(String tenant, String state, String stream, int limit) {
    return pool.preparedQuery("select id, rule_id, rule_name, stream, series, severity, state, value, message, labels, "
            + "flapping, silenced, ack, started_at, fired_at, updated_at, resolved_at from alerts where tenant = $1 "
            + "and ($2::text is null or state = $2) and ($3::text is null or stream = $3) "
            + "order by updated_at desc limit $4")
        .execute(Tuple.of(tenant, state, stream, limit)).map(rows -> {
          List<JsonObject> out = new ArrayList<>();
          rows.forEach(r -> out.add(json(r)));
          return out;
        });
  }

  private static JsonObject json(Row r) {
    return new JsonObject().put("type", "alert").put("id", r.getString("id")).put("rule", r.getString("rule_id"))
        .put("ruleName", r.getString("rule_name")).put("state", r.getString("state"))
        .put("severity", r.getString("severity")).put("stream", r.getString("stream"))
        .put("series", r.getValue("series")).put("value", r.getDouble("value")).put("message", r.getString("message"))
        .put("at", AuditLog.millis(r.getOffsetDateTime("updated_at")))
        .put("startedAt", AuditLog.millis(r.getOffsetDateTime("started_at")))
        .put("firedAt", r.getOffsetDateTime("fired_at") == null ? null : AuditLog.millis(r.getOffsetDateTime("fired_at")))
        .put("resolvedAt", r.getOffsetDateTime("resolved_at") == null ? null
            : AuditLog.millis(r.getOffsetDateTime("resolved_at")))
        .put("labels", r.getValue("labels")).put("flapping", r.getBoolean("flapping"))
        .put("silenced", r.getBoolean("silenced")).put("ack", r.getValue("ack"));
  }

  // ---------------------------------------------------------------- silences

  /** Saves a silence (a new one, or one expired early). */
  public Future<Void> save(Silence s) {
    JsonArray matchers = s.toJson(s.startsAt()).getJsonArray("matchers");
    return pool.preparedQuery("insert into silences (tenant, id, matchers, starts_at, ends_at, created_by, created_at, "
            + "comment) values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (tenant, id) do update set "
            + "matchers = excluded.matchers, starts_at = excluded.starts_at, ends_at = excluded.ends_at, "
            + "comment = excluded.comment")
        .execute(Tuple.of(s.tenant(), s.id(), matchers, AuditLog.time(s.startsAt()), AuditLog.time(s.endsAt()),
            s.createdBy()).addValue(AuditLog.time(s.createdAt())).addValue(s.comment()))
        .mapEmpty();
  }

  /** The silences of every tenant that have not ended before {@code since}. */
  public Future<List<Silence>> silences(long since) {
    return pool.preparedQuery("select tenant, id, matchers, starts_at, ends_at, created_by, created_at, comment "
            + "from silences where ends_at > $1")
        .execute(Tuple.of(AuditLog.time(since))).map(rows -> {
          List<Silence> out = new ArrayList<>();
          for (Row r : rows) {
            long created = AuditLog.millis(r.getOffsetDateTime("created_at"));
            JsonObject doc = new JsonObject().put("matchers", r.getValue("matchers"))
                .put("startsAt", AuditLog.millis(r.getOffsetDateTime("starts_at")))
                .put("endsAt", AuditLog.millis(r.getOffsetDateTime("ends_at"))).put("comment", r.getString("comment"));
            try {
              out.add(Silence.parse(r.getString("tenant"), r.getString("id"), doc, r.getString("created_by"), created));
            } catch (IllegalArgumentException e) {
              // stored by an earlier version under other rules: skipped rather than fail the start
            }
          }
          return out;
        });
  }
}
