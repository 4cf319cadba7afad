package io.pulse.store;

import io.pulse.auth.RevocationList;
import io.pulse.core.DisplayBinding;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * Revoked token ids and display tokens in PostgreSQL (tables of V7__tokens.sql; revocations keyed
 * by (tenant, jti) since V8__revocations_per_tenant.sql), through the non-blocking pool. A
 * revocation and its audit entry are one transaction; a tenant revoking a token twice keeps the
 * first revocation; a revocation is its tenant's only. Display rows never hold the token itself.
 */
public final class TokenStore {

  /** Longest reason or display name taken (the API refuses longer ones, and text PostgreSQL cannot store). */
  public static final int MAX_TEXT_CHARS = 500;

  /** A display as stored: what it shows, who made it, until when its token is valid, and whether it was revoked. */
  public record Display(String tenant, String id, String name, DisplayBinding binding, long createdAt,
      String createdBy, long expiresAt, Long revokedAt) {

    /** The API document (never a token). */
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("name", name)
          .put("binding", new JsonObject().put(binding.kind(), binding.id()))
          .put("createdAt", createdAt).put("createdBy", createdBy).put("expiresAt", expiresAt)
          .put("revoked", revokedAt != null).put("revokedAt", revokedAt);
    }
  }

  /** A stored revocation with its place in the table's order (for followers). */
  public record Revoked(long seq, RevocationList.Entry entry) {
  }

  private final Pool pool;

  public TokenStore(Pool pool) {
    this.pool = pool;
  }

  // ---- revocations ----

  /**
   * Stores a revocation with its audit entry ("token.revoke") for its tenant; when that tenant had
   * revoked the token already, nothing changes and the earlier revocation is answered.
   */
  public Future<RevocationList.Entry> revoke(RevocationList.Entry e) {
    return pool.withTransaction(conn -> insertRevocation(conn, e).compose(rows -> {
      if (rows.size() == 0) {
        return conn.preparedQuery("select seq, jti, tenant, revoked_at, expires_at, revoked_by, reason "
            + "from revoked_tokens where tenant = $1 and jti = $2").execute(Tuple.of(e.tenant(), e.tokenId()))
            .map(r -> revocation(r.iterator().next()).entry());
      }
      return AuditLog.record(conn, e.tenant(), e.revokedAt(), e.by(), "token.revoke", e.tokenId(),
          e.reason() == null ? new JsonObject() : new JsonObject().put("reason", e.reason())).map(e);
    }));
  }

  private static Future<RowSet<Row>> insertRevocation(SqlClient client, RevocationList.Entry e) {
    return client.preparedQuery("insert into revoked_tokens (jti, tenant, revoked_at, expires_at, revoked_by, reason) "
            + "values ($1, $2, $3, $4, $5, $6) on conflict (tenant, jti) do nothing returning seq")
        .execute(Tuple.of(e.tokenId(), e.tenant(), AuditLog.time(e.revokedAt()),
            e.expiresAt() > 0 ? AuditLog.time(e.expiresAt()) : null, e.by(),
            e.reason()));
  }

  /** Every revocation whose token has not expired (or whose expiry is unknown) at {@code now}, with seq above {@code afterSeq}, in seq order. */
  public Future<List<Revoked>> revokedSince(long afterSeq, long now) {
    return pool.preparedQuery("select seq, jti, tenant, revoked_at, expires_at, revoked_by, reason from revoked_tokens "
            + "where seq > $1 and (expires_at is null or expires_at > $2) order by seq")
        .execute(Tuple.of(afterSeq, AuditLog.time(now - RevocationList.SWEEP_GRACE_MS)))
        .map(rows -> {
          List<Revoked> out = new ArrayList<>();
          for (Row r : rows) {
            out.add(revocation(r));
          }
          return out;
        });
  }

  /** Deletes the revocations whose tokens expired before {@code before}; returns how many. */
  public Future<Integer> sweep(long before) {
    return pool.preparedQuery("delete from revoked_tokens where expires_at is not null and expires_at < $1")
        .execute(Tuple.of(AuditLog.time(before))).map(RowSet::rowCount);
  }

  private static Revoked revocation(Row r) {
    OffsetDateTime exp = r.getOffsetDateTime("expires_at");
    return new Revoked(r.getLong("seq"), new RevocationList.Entry(r.getString("jti"), r.getString("tenant"),
        AuditLog.millis(r.getOffsetDateTime("revoked_at")), exp == null ? 0 : AuditLog.millis(exp),
        r.getString("revoked_by"), r.getString("reason")));
  }

  // ---- displays ----

  /** Stores a new display with its audit entry ("display.create"); 409 when the tenant has one with its id. */
  public Future<Display> create(Display d) {
    return pool.withTransaction(conn -> conn.preparedQuery("insert into displays (tenant, id, name, kind, target, "
                + "created_at, created_by, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8)")
            .execute(Tuple.of(d.tenant(), d.id(), d.name(), d.binding().kind(), d.binding().id(),
                AuditLog.time(d.createdAt()), d.createdBy(), AuditLog.time(d.expiresAt())))
            .compose(v -> AuditLog.record(conn, d.tenant(), d.createdAt(), d.createdBy(), "display.create", d.id(),
                new JsonObject().put("name", d.name()).put(d.binding().kind(), d.binding().id())
                    .put("expiresAt", d.expiresAt())))
            .map(d))
        .recover(e -> e instanceof PgException pg && "23505".equals(pg.getSqlState())
            ? Future.failedFuture(new DefinitionStore.Refused(409, "display " + d.id() + " exists"))
            : Future.failedFuture(e));
  }

  /** A tenant's displays, newest first. */
  public Future<List<Display>> list(String tenant) {
    return pool.preparedQuery("select tenant, id, name, kind, target, created_at, created_by, expires_at, revoked_at "
            + "from displays where tenant = $1 order by created_at desc, id").execute(Tuple.of(tenant))
        .map(rows -> {
          List<Display> out = new ArrayList<>();
          for (Row r : rows) {
            out.add(display(r));
          }
          return out;
        });
  }

  /** One display; 404 when the tenant has none of that id. */
  public Future<Display> get(String tenant, String id) {
    return pool.preparedQuery("select tenant, id, name, kind, target, created_at, created_by, expires_at, revoked_at "
            + "from displays where tenant = $1 and id = $2").execute(Tuple.of(tenant, id))
        .map(rows -> {
          if (rows.size() == 0) {
            throw notFound(id);
          }
          return display(rows.iterator().next());
        });
  }

  /**
   * Revokes a display: marks it revoked and adds its token id to the revocations, with one audit
   * entry ("display.revoke"), in one transaction. Revoking it again changes nothing (the display
   * answered keeps its first revocation time). 404 when the tenant has no such display.
   */
  public Future<Display> revokeDisplay(String tenant, String id, String actor, long now, String reason) {
    return pool.withTransaction(conn -> conn.preparedQuery("update displays set revoked_at = coalesce(revoked_at, $3) "
                + "where tenant = $1 and id = $2 returning tenant, id, name, kind, target, created_at, created_by, "
                + "expires_at, revoked_at").execute(Tuple.of(tenant, id, AuditLog.time(now)))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.failedFuture(notFound(id));
          }
          Display d = display(rows.iterator().next());
          RevocationList.Entry e = new RevocationList.Entry(d.id(), tenant, now, d.expiresAt(), actor,
              reason == null ? "display revoked" : reason);
          return insertRevocation(conn, e).compose(ins -> ins.size() == 0 ? Future.succeededFuture(d)
              : AuditLog.record(conn, tenant, now, actor, "display.revoke", id, new JsonObject().put("name", d.name())
                  .put("reason", reason))
                  .map(d));
        }));
  }

  private static Display display(Row r) {
    OffsetDateTime revoked = r.getOffsetDateTime("revoked_at");
    return new Display(r.getString("tenant"), r.getString("id"), r.getString("name"),
        new DisplayBinding(r.getString("kind"), r.getString("target")), AuditLog.millis(r.getOffsetDateTime("created_at")),
        r.getString("created_by"), AuditLog.millis(r.getOffsetDateTime("expires_at")),
        revoked == null ? null : AuditLog.millis(revoked));
  }

  private static DefinitionStore.Refused notFound(String id) {
    return new DefinitionStore.Refused(404, "no display " + id);
  }
}
