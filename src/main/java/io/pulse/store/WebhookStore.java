package io.pulse.store;

import io.pulse.notify.Delivery;
import io.pulse.notify.Webhook;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Webhooks and their deliveries in PostgreSQL (tables of V5__webhooks.sql), through the
 * non-blocking pool. Each webhook change is one transaction with its audit entry. Deliveries are
 * written by the notify verticle alone, in batches ({@link #save}: one statement for many rows),
 * and a final state (delivered, failed) is never overwritten.
 */
public final class WebhookStore {

  private static final Logger LOG = LoggerFactory.getLogger(WebhookStore.class);
  /** Longest last_error kept. */
  static final int MAX_ERROR_CHARS = 1000;
  private static final String DELIVERY_COLUMNS = "tenant, id, webhook, body, state, attempts, last_status, "
      + "last_error, next_attempt_at, created_at, updated_at";

  /** A webhook as stored: the definition (with its secret) and its times. */
  public record Stored(Webhook webhook, long createdAt, long updatedAt) {

    /** The API document: never the secret. */
    public JsonObject toJson() {
      return webhook.toJson().put("createdAt", createdAt).put("updatedAt", updatedAt);
    }
  }

  private final Pool pool;

  public WebhookStore(Pool pool) {
    this.pool = pool;
  }

  // ---- webhooks ----

  /** Every webhook of every tenant (for the notifier); a row that no longer parses is left out, logged. */
  public Future<List<Webhook>> all() {
    return pool.query("select tenant, id, doc, secret, created_at, updated_at from webhooks").execute()
        .map(rows -> {
          List<Webhook> out = new ArrayList<>();
          for (Row r : rows) {
            Stored s = stored(r);
            if (s != null) {
              out.add(s.webhook());
            }
          }
          return out;
        });
  }

  public Future<List<Stored>> list(String tenant) {
    return pool.preparedQuery("select tenant, id, doc, secret, created_at, updated_at from webhooks "
            + "where tenant = $1 order by id").execute(Tuple.of(tenant))
        .map(rows -> {
          List<Stored> out = new ArrayList<>();
          for (Row r : rows) {
            Stored s = stored(r);
            if (s != null) {
              out.add(s);
            }
          }
          return out;
        });
  }

  /** One webhook; fails with 404 when the tenant has none of that id. */
  public Future<Stored> get(String tenant, String id) {
    return pool.preparedQuery("select tenant, id, doc, secret, created_at, updated_at from webhooks "
            + "where tenant = $1 and id = $2").execute(Tuple.of(tenant, id))
        .map(rows -> {
          Stored s = rows.size() == 0 ? null : stored(rows.iterator().next());
          if (s == null) {
            throw notFound(id);
          }
          return s;
        });
  }

  /** Stores a new webhook; 409 when the tenant has one with its id. */
  public Future<Stored> create(Webhook w, String actor, long now) {
    return pool.withTransaction(conn -> conn.preparedQuery("insert into webhooks (tenant, id, doc, secret, "
                + "created_at, updated_at) values ($1, $2, $3, $4, $5, $5)")
            .execute(Tuple.of(w.tenant(), w.id(), document(w), w.secret(), AuditLog.time(now)))
            .compose(v -> AuditLog.record(conn, w.tenant(), now, actor, "webhook.create", w.id(),
                new JsonObject().put("url", w.url().toString())))
            .map(new Stored(w, now, now)))
        .recover(e -> e instanceof PgException pg && "23505".equals(pg.getSqlState())
            ? Future.failedFuture(new DefinitionStore.Refused(409, "webhook " + w.id() + " exists; change it with "
                + "PUT /api/v1/webhooks/" + w.id()))
            : Future.failedFuture(e));
  }

  /**
   * Replaces a webhook's document, and its secret when {@code w} carries a new one
   * ({@code newSecret}); 404 when there is none.
   */
  public Future<Stored> update(Webhook w, boolean newSecret, String actor, long now) {
    return pool.withTransaction(conn -> conn.preparedQuery("update webhooks set doc = $3, secret = case when $4 "
                + "then $5 else secret end, updated_at = $6 where tenant = $1 and id = $2 returning created_at")
            .execute(Tuple.of(w.tenant(), w.id(), document(w), newSecret, w.secret(), AuditLog.time(now)))
            .compose(rows -> {
              if (rows.size() == 0) {
                return Future.failedFuture(notFound(w.id()));
              }
              long created = AuditLog.millis(rows.iterator().next().getOffsetDateTime("created_at"));
              return AuditLog.record(conn, w.tenant(), now, actor, "webhook.update", w.id(),
                      new JsonObject().put("url", w.url().toString()).put("secretChanged", newSecret))
                  .map(new Stored(w, created, now));
            }));
  }

  /** Deletes a webhook (its deliveries stay); 404 when there is none. */
  public Future<Void> delete(String tenant, String id, String actor, long now) {
    return pool.withTransaction(conn -> conn.preparedQuery("delete from webhooks where tenant = $1 and id = $2 "
                + "returning id").execute(Tuple.of(tenant, id))
            .compose(rows -> rows.size() == 0 ? Future.failedFuture(notFound(id))
                : AuditLog.record(conn, tenant, now, actor, "webhook.delete", id, new JsonObject())));
  }

  // ---- deliveries ----

  /**
   * Writes deliveries in one batched statement: new ones inserted, pending ones brought up to date;
   * a row already delivered or failed is left as it is.
   */
  public Future<Void> save(List<Delivery> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    List<Tuple> batch = new ArrayList<>(rows.size());
    for (Delivery d : rows) {
      String error = d.lastError() == null ? null : PgText.cap(PgText.escape(d.lastError()), MAX_ERROR_CHARS);
      batch.add(Tuple.of(d.tenant(), d.id(), d.webhook(), d.body(), d.state().wire(), d.attempts())
          .addValue(d.lastStatus()).addValue(error).addValue(AuditLog.time(d.nextAttemptAt()))
          .addValue(AuditLog.time(d.createdAt())).addValue(AuditLog.time(d.updatedAt())));
    }
    return pool.preparedQuery("insert into webhook_deliveries (" + DELIVERY_COLUMNS + ") values ($1, $2, $3, $4, $5, "
            + "$6, $7, $8, $9, $10, $11) on conflict (tenant, id) do update set state = excluded.state, "
            + "attempts = excluded.attempts, last_status = excluded.last_status, last_error = excluded.last_error, "
            + "next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at "
            + "where webhook_deliveries.state = 'pending'")
        .executeBatch(batch).mapEmpty();
  }

  /** Every pending delivery, oldest first (what a start resumes). */
  public Future<List<Delivery>> pending() {
    return pool.query("select " + DELIVERY_COLUMNS + " from webhook_deliveries where state = 'pending' "
        + "order by created_at").execute().map(WebhookStore::deliveries);
  }

  /** A webhook's deliveries, newest first, in one state or all (null). */
  public Future<List<Delivery>> deliveries(String tenant, String webhook, Delivery.State state, int limit) {
    return pool.preparedQuery("select " + DELIVERY_COLUMNS + " from webhook_deliveries where tenant = $1 and "
            + "webhook = $2 and ($3::text is null or state = $3) order by created_at desc, id desc limit $4")
        .execute(Tuple.of(tenant, webhook, state == null ? null : state.wire(), limit))
        .map(WebhookStore::deliveries);
  }

  /** Deletes delivered and failed deliveries last changed before {@code before}; how many. */
  public Future<Integer> expire(long before) {
    return pool.preparedQuery("delete from webhook_deliveries where state <> 'pending' and updated_at < $1")
        .execute(Tuple.of(AuditLog.time(before))).map(RowSet::rowCount);
  }

  // ---- rows ----

  private static JsonObject document(Webhook w) {
    JsonObject doc = w.toJson();
    doc.remove("id");
    return doc;
  }

  private static Stored stored(Row r) {
    String tenant = r.getString("tenant");
    String id = r.getString("id");
    try {
      Webhook w = Webhook.parse(tenant, id, (JsonObject) r.getValue("doc"), r.getString("secret"));
      return new Stored(w, AuditLog.millis(r.getOffsetDateTime("created_at")),
          AuditLog.millis(r.getOffsetDateTime("updated_at")));
    } catch (Webhook.Invalid e) {
      LOG.error("webhook {}/{} as stored is not valid ({}); it is left out", tenant, id, e.getMessage());
      return null;
    }
  }

  private static List<Delivery> deliveries(RowSet<Row> rows) {
    List<Delivery> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      OffsetDateTime next = r.getOffsetDateTime("next_attempt_at");
      out.add(new Delivery(r.getString("tenant"), r.getString("id"), r.getString("webhook"), r.getString("body"),
          Delivery.State.of(r.getString("state")), r.getInteger("attempts"), r.getInteger("last_status"),
          r.getString("last_error"), next == null ? 0 : AuditLog.millis(next),
          AuditLog.millis(r.getOffsetDateTime("created_at")), AuditLog.millis(r.getOffsetDateTime("updated_at"))));
    }
    return out;
  }

  private static DefinitionStore.Refused notFound(String id) {
    return new DefinitionStore.Refused(404, "no webhook " + id);
  }
}
