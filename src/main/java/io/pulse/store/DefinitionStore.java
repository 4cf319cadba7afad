package io.pulse.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Rules, dashboards and playlists, stored as JSON documents with a version history.
 *
 * <p>Each write is one transaction that moves the current row in {@code definitions} to the next
 * version, appends that version to {@code definition_versions} and writes an audit entry, so the
 * history and the audit log always agree with the current state. Writers may pass the version they
 * last read; a write based on an older version fails with 409 instead of silently overwriting
 * somebody else's change (optimistic concurrency). Deleting keeps the history: a deleted
 * definition disappears from lists and reads, and creating the same id again continues its
 * version numbers.
 *
 * <p>What a rule, a dashboard or a playlist means is up to the parts that use them; here a document
 * is a JSON object with a {@code name} (a rule) or a {@code title} (a dashboard, which may have a
 * {@code name} instead, as before it had a title; a playlist), within a size limit. Fields the server owns ({@code id},
 * {@code version}, {@code updatedBy}, {@code updatedAt}) are taken off on write and put back on
 * read.
 */
public final class DefinitionStore {

  /** The kinds of definition, with the name of their collection in the API. */
  public enum Kind {
    RULE("rule", "rules"), DASHBOARD("dashboard", "dashboards"), PLAYLIST("playlist", "playlists");

    private final String sql;
    private final String plural;

    Kind(String sql, String plural) {
      this.sql = sql;
      this.plural = plural;
    }

    public String plural() {
      return plural;
    }

    /** "rule", "dashboard" or "playlist". */
    public String singular() {
      return sql;
    }

    String sql() {
      return sql;
    }
  }

  /** One version of a definition. */
  public record Definition(Kind kind, String id, int version, JsonObject doc, String updatedBy, long updatedAt,
      boolean deleted) {

    /** The document as the API shows it: its own fields plus the server's. */
    public JsonObject toJson() {
      JsonObject j = doc.copy().put("id", id).put("version", version).put("updatedBy", updatedBy)
          .put("updatedAt", updatedAt);
      if (deleted) {
        j.put("deleted", true);
      }
      return j;
    }
  }

  /** A write the store refuses, with the HTTP status that says why. */
  public static final class Refused extends RuntimeException {
    private final int status;

    public Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  public static final int MAX_DOC_BYTES = 256 * 1024;
  public static final int MAX_NAME_LENGTH = 200;
  public static final String ID_PATTERN = "[A-Za-z0-9_.-]{1,64}";
  private static final Pattern ID = Pattern.compile(ID_PATTERN);
  /** Deepest nesting of a document (objects and arrays). */
  public static final int MAX_DEPTH = 64;
  private static final Set<String> SERVER_FIELDS = Set.of("id", "version", "updatedBy", "updatedAt", "deleted");
  private static final String COLUMNS = "id, version, doc, updated_by, updated_at, deleted";

  private final Pool pool;

  public DefinitionStore(Pool pool) {
    this.pool = pool;
  }

  /** Whether a definition may have this id (a path naming another cannot exist: 404). */
  public static boolean validId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  /** The current, not deleted, definitions of a kind, by id. */
  public Future<List<Definition>> list(String tenant, Kind kind) {
    return pool.preparedQuery("select " + COLUMNS + " from definitions where tenant = $1 and kind = $2 "
            + "and not deleted order by id")
        .execute(Tuple.of(tenant, kind.sql()))
        .map(rows -> all(kind, rows));
  }

  /** The current version; fails with 404 when there is none or it was deleted. */
  public Future<Definition> get(String tenant, Kind kind, String id) {
    return pool.preparedQuery("select " + COLUMNS + " from definitions where tenant = $1 and kind = $2 and id = $3")
        .execute(Tuple.of(tenant, kind.sql(), id))
        .map(rows -> {
          Definition d = rows.size() == 0 ? null : definition(kind, rows.iterator().next());
          if (d == null || d.deleted()) {
            throw notFound(kind, id);
          }
          return d;
        });
  }

  /** Every version, oldest first (deletions included); 404 when the id never existed. */
  public Future<List<Definition>> history(String tenant, Kind kind, String id) {
    return pool.preparedQuery("select " + COLUMNS + " from definition_versions where tenant = $1 and kind = $2 "
            + "and id = $3 order by version")
        .execute(Tuple.of(tenant, kind.sql(), id))
        .map(rows -> {
          if (rows.size() == 0) {
            throw notFound(kind, id);
          }
          return all(kind, rows);
        });
  }

  /**
   * Creates a definition. Its id is the document's {@code id} if given, else a new one; 409 when a
   * definition with that id exists.
   */
  public Future<Definition> create(String tenant, Kind kind, JsonObject doc, String actor, long now) {
    String id;
    JsonObject body;
    try {
      Object given = doc == null ? null : doc.getValue("id");
      if (given != null && !(given instanceof String s && ID.matcher(s).matches())) {
        throw new Refused(400, "id: must match [A-Za-z0-9_.-]{1,64}");
      }
      id = given != null ? (String) given : newId(kind);
      body = validate(kind, doc);
    } catch (Refused r) {
      return Future.failedFuture(r);
    }
    return write(tenant, kind, id, actor, now, "create", current -> {
      if (current != null && !current.deleted()) {
        throw new Refused(409, kind.sql() + " " + id + " exists (version " + current.version()
            + "); change it with PUT /api/v1/" + kind.plural() + "/" + id);
      }
      return body;
    }, false);
  }

  /**
   * Replaces a definition's document. {@code expectedVersion}, when not null, must be the current
   * version (409 otherwise).
   */
  public Future<Definition> update(String tenant, Kind kind, String id, JsonObject doc, Integer expectedVersion,
      String actor, long now) {
    JsonObject body;
    try {
      Object given = doc == null ? null : doc.getValue("id");
      if (given != null && !id.equals(given)) {
        throw new Refused(400, "id: the document names " + given + " but the path names " + id);
      }
      body = validate(kind, doc);
    } catch (Refused r) {
      return Future.failedFuture(r);
    }
    return write(tenant, kind, id, actor, now, "update", current -> {
      requireCurrent(kind, id, current, expectedVersion);
      return body;
    }, false);
  }

  /** Deletes a definition, keeping its history. {@code expectedVersion} as for update. */
  public Future<Definition> delete(String tenant, Kind kind, String id, Integer expectedVersion, String actor,
      long now) {
    return write(tenant, kind, id, actor, now, "delete", current -> {
      requireCurrent(kind, id, current, expectedVersion);
      return current.doc();
    }, true);
  }

  private interface Change {
    /** The new document, given the current version (null if none); throws Refused to refuse. */
    JsonObject apply(Definition current);
  }

  private Future<Definition> write(String tenant, Kind kind, String id, String actor, long now, String action,
      Change change, boolean delete) {
    return pool.withTransaction(conn -> conn
            .preparedQuery("select " + COLUMNS + " from definitions where tenant = $1 and kind = $2 and id = $3 "
                + "for update")
            .execute(Tuple.of(tenant, kind.sql(), id))
            .compose(rows -> {
              Definition current = rows.size() == 0 ? null : definition(kind, rows.iterator().next());
              JsonObject doc = change.apply(current);
              Definition next = new Definition(kind, id, current == null ? 1 : current.version() + 1, doc, actor, now,
                  delete);
              return save(conn, tenant, next)
                  .compose(v -> AuditLog.record(conn, tenant, now, actor, kind.sql() + "." + action, id,
                      new JsonObject().put("version", next.version())))
                  .map(next);
            }))
        .recover(DefinitionStore::conflicts);
  }

  private static Future<Void> save(SqlConnection conn, String tenant, Definition d) {
    Tuple row = Tuple.of(tenant, d.kind().sql(), d.id(), d.version(), d.doc(), d.updatedBy())
        .addValue(AuditLog.time(d.updatedAt())).addValue(d.deleted());
    return conn.preparedQuery("insert into definitions (tenant, kind, id, version, doc, updated_by, updated_at, "
            + "deleted) values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (tenant, kind, id) do update set "
            + "version = excluded.version, doc = excluded.doc, updated_by = excluded.updated_by, "
            + "updated_at = excluded.updated_at, deleted = excluded.deleted")
        .execute(row)
        .compose(v -> conn.preparedQuery("insert into definition_versions (tenant, kind, id, version, doc, "
            + "updated_by, updated_at, deleted) values ($1, $2, $3, $4, $5, $6, $7, $8)").execute(row))
        .mapEmpty();
  }

  /** Two writers racing on one new id: the loser's version row collides; that is a 409, not a 500. */
  private static Future<Definition> conflicts(Throwable t) {
    if (t instanceof PgException pg && "23505".equals(pg.getSqlState())) {
      return Future.failedFuture(new Refused(409, "changed by another request at the same time; read it and retry"));
    }
    return Future.failedFuture(t);
  }

  private static void requireCurrent(Kind kind, String id, Definition current, Integer expectedVersion) {
    if (current == null || current.deleted()) {
      throw notFound(kind, id);
    }
    if (expectedVersion != null && expectedVersion != current.version()) {
      throw new Refused(409, kind.sql() + " " + id + " is at version " + current.version() + ", not "
          + expectedVersion + ": somebody changed it since you read it");
    }
  }

  /** The stored document: the given object less the server's fields; 400/413 when unfit. */
  static JsonObject validate(Kind kind, JsonObject doc) {
    if (doc == null) {
      throw new Refused(400, "the body must be a JSON object");
    }
    if (doc.toBuffer().length() > MAX_DOC_BYTES) {
      throw new Refused(413, "a " + kind.sql() + " document may hold at most " + MAX_DOC_BYTES + " bytes of JSON");
    }
    String unfit = unfit(doc, "", 0);
    if (unfit != null) {
      throw new Refused(400, unfit);
    }
    // a rule is named; a dashboard or a playlist has a title (a dashboard stored before it had one: a name)
    String label = kind == Kind.RULE || doc.getValue("title") == null && doc.getValue("name") != null ? "name" : "title";
    Object name = doc.getValue(label);
    if (!(name instanceof String s) || s.isBlank() || s.length() > MAX_NAME_LENGTH) {
      throw new Refused(400, label + ": required, a string of 1 to " + MAX_NAME_LENGTH + " characters");
    }
    JsonObject body = doc.copy();
    SERVER_FIELDS.forEach(body::remove);
    return body;
  }

  /**
   * What in a document PostgreSQL's jsonb cannot hold as it is (a NUL or an unpaired surrogate in a
   * key or a string, a number that is not finite) or nests deeper than {@link #MAX_DEPTH}; null when fine.
   */
  static String unfit(Object v, String path, int depth) {
    if (depth > MAX_DEPTH) {
      return (path.isEmpty() ? "the document" : path) + ": nested deeper than " + MAX_DEPTH + " levels";
    }
    if (v instanceof JsonObject o) {
      for (java.util.Map.Entry<String, Object> e : o) {
        String key = e.getKey();
        String p = path.isEmpty() ? key : path + "." + key;
        String problem = PgText.problem(key);
        if (problem != null) {
          return "the key " + PgText.cap(PgText.escape(p), 200) + " " + problem;
        }
        String inner = unfit(e.getValue(), p, depth + 1);
        if (inner != null) {
          return inner;
        }
      }
    } else if (v instanceof io.vertx.core.json.JsonArray a) {
      for (int i = 0; i < a.size(); i++) {
        String inner = unfit(a.getValue(i), path + "[" + i + "]", depth + 1);
        if (inner != null) {
          return inner;
        }
      }
    } else if (v instanceof String s) {
      String problem = PgText.problem(s);
      if (problem != null) {
        return PgText.cap(PgText.escape(path), 200) + ": " + problem;
      }
    } else if (v instanceof Double d && !Double.isFinite(d) || v instanceof Float f && !Float.isFinite(f)) {
      return PgText.cap(PgText.escape(path), 200) + ": must be a finite number";
    }
    return null;
  }

  private static String newId(Kind kind) {
    return kind.sql().charAt(0) + "-" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  private static Refused notFound(Kind kind, String id) {
    return new Refused(404, "no " + kind.sql() + " " + id);
  }

  private static List<Definition> all(Kind kind, RowSet<Row> rows) {
    List<Definition> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      out.add(definition(kind, r));
    }
    return out;
  }

  private static Definition definition(Kind kind, Row r) {
    return new Definition(kind, r.getString("id"), r.getInteger("version"), (JsonObject) r.getValue("doc"),
        r.getString("updated_by"), AuditLog.millis(r.getOffsetDateTime("updated_at")), r.getBoolean("deleted"));
  }
}
