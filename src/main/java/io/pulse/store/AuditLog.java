package io.pulse.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Who changed what, and when: every change to a definition and every admin action is one row of
 * the {@code audit} table. A change and its audit row are written in one transaction (callers pass
 * their transaction's connection), so neither exists without the other.
 */
public final class AuditLog {

  /** One audit entry as the API shows it. */
  public record Entry(long id, long at, String actor, String action, String target, JsonObject detail) {

    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("at", at).put("actor", actor).put("action", action)
          .put("target", target).put("detail", detail);
    }
  }

  private final Pool pool;

  public AuditLog(Pool pool) {
    this.pool = pool;
  }

  /** Writes one entry through {@code client}: the caller's transaction, or the pool. */
  public static Future<Void> record(SqlClient client, String tenant, long atMillis, String actor, String action,
      String target, JsonObject detail) {
    return client.preparedQuery("insert into audit (tenant, at, actor, action, target, detail) "
            + "values ($1, $2, $3, $4, $5, $6)")
        .execute(Tuple.of(tenant, time(atMillis), actor, action, target, detail == null ? new JsonObject() : detail))
        .mapEmpty();
  }

  /** Writes one entry on its own (for admin actions that change nothing else in the database). */
  public Future<Void> record(String tenant, long atMillis, String actor, String action, String target,
      JsonObject detail) {
    return record(pool, tenant, atMillis, actor, action, target, detail);
  }

  /**
   * The newest entries first, at most {@code limit}; {@code beforeId} pages back (entries with a
   * smaller id), and {@code action} keeps only one action or, ending in '.', one family of them.
   */
  public Future<List<Entry>> recent(String tenant, int limit, Long beforeId, String action) {
    String actionLike = action == null ? null : action.endsWith(".") ? action + "%" : action;
    return pool.preparedQuery("select id, at, actor, action, target, detail from audit "
            + "where tenant = $1 and ($2::bigint is null or id < $2) and ($3::text is null or action like $3) "
            + "order by id desc limit $4")
        .execute(Tuple.of(tenant, beforeId, actionLike, limit))
        .map(rows -> {
          List<Entry> out = new ArrayList<>();
          for (Row r : rows) {
            out.add(new Entry(r.getLong("id"), millis(r.getOffsetDateTime("at")), r.getString("actor"),
                r.getString("action"), r.getString("target"), (JsonObject) r.getValue("detail")));
          }
          return out;
        });
  }

  static OffsetDateTime time(long millis) {
    return OffsetDateTime.ofInstant(Instant.ofEpochMilli(millis), ZoneOffset.UTC);
  }

  static long millis(OffsetDateTime t) {
    return t.toInstant().toEpochMilli();
  }
}
