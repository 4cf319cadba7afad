package io.pulse.store;

import io.pulse.ingest.Quarantine;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rejected events in PostgreSQL. Ingest quarantines into the in-memory {@link Quarantine} ring
 * (no database call on a request's path); a writer hands what is new to {@link #save} in batches.
 * The same payload rejected for the same reason in the same stream is one row whose {@code count}
 * and {@code last_seen} move, so a client that repeats one bad event a million times fills one row,
 * not the table.
 *
 * <p>Whatever its bytes, a rejection is stored: stream, reason and payload that hold what PostgreSQL
 * text cannot (NUL, unpaired surrogates) are stored {@link PgText#escape escaped}, with
 * {@code escaped} set on the row (the API shows {@code "escaped": true}; requeue parses the
 * original). Streams are cut to {@value #MAX_STREAM_CHARS} characters and reasons to
 * {@value #MAX_REASON_CHARS}.
 *
 * <p>A save that fails after the database committed it (a lost answer, or no answer within the
 * writer's bound) is retried and counts those rejections twice; the rows themselves are never
 * duplicated.
 */
public final class QuarantineStore {

  /**
   * One stored rejection, as the API lists it. When {@code escaped}, stream, reason and payload are
   * as {@link PgText#escape} made them (they held what PostgreSQL text cannot); {@link #originalPayload}
   * and {@link #originalStream} undo it.
   */
  public record Item(long id, String stream, String source, String reason, String payload, long firstSeen,
      long lastSeen, long count, boolean escaped) {

    public JsonObject toJson() {
      JsonObject j = new JsonObject().put("id", id).put("stream", stream).put("source", source).put("reason", reason)
          .put("payload", payload).put("firstSeen", firstSeen).put("lastSeen", lastSeen).put("count", count);
      if (escaped) {
        j.put("escaped", true);
      }
      return j;
    }

    /** The payload as it was rejected (what requeue parses). */
    public String originalPayload() {
      return escaped ? PgText.unescape(payload) : payload;
    }

    public String originalStream() {
      return escaped ? PgText.unescape(stream) : stream;
    }
  }

  /** A page of items, newest first, with the totals for the same filter. */
  public record Page(List<Item> items, long rows, long events) {
  }

  /**
   * One row to upsert: the rejections of one tenant in one batch with the same fingerprint merged,
   * its text already made storable. {@code entries} is how many ring entries it stands for.
   */
  public record Row(String tenant, String fingerprint, String stream, String source, String reason, String payload,
      long firstSeen, long lastSeen, long entries, boolean escaped) {
  }

  /** Longest stream and reason stored (payloads are capped by the ring, quarantine.maxPayloadChars). */
  public static final int MAX_STREAM_CHARS = 256;
  public static final int MAX_REASON_CHARS = 4096;

  private static final String COLUMNS = "id, stream, source, reason, payload, first_seen, last_seen, count, escaped";

  private final Pool pool;

  public QuarantineStore(Pool pool) {
    this.pool = pool;
  }

  /**
   * Stores entries from the ring, repeats merged, whatever their text: a row the database still
   * refuses for its content is given up alone ({@link Isolating}), never failing the others. When
   * the database is away, the outcome's {@code remaining} rows are for {@link #insert} later.
   */
  public Future<Isolating.Outcome<Row>> save(List<Quarantine.Entry> entries) {
    return Isolating.write(rows(entries), this::insert);
  }

  /** Entries merged by tenant and fingerprint, in storable form; each row is stored under its entries' tenant. */
  public static List<Row> rows(List<Quarantine.Entry> entries) {
    Map<String, Merged> byPrint = new LinkedHashMap<>();
    for (Quarantine.Entry e : entries) {
      String stream = PgText.cap(e.stream(), MAX_STREAM_CHARS);
      String reason = PgText.cap(e.reason() == null ? "" : e.reason(), MAX_REASON_CHARS);
      String payload = e.payload() == null ? "" : e.payload();
      String source = e.source() == null ? "?" : e.source();
      boolean escaped = !(PgText.storable(stream) && PgText.storable(reason) && PgText.storable(payload)
          && PgText.storable(source));
      if (escaped) {
        stream = PgText.escape(stream);
        reason = PgText.escape(reason);
        payload = PgText.escape(payload);
        source = PgText.escape(source);
      }
      String print = fingerprint(stream, reason, payload, escaped);
      String key = e.tenant() + '/' + print;
      Merged m = byPrint.get(key);
      if (m == null) {
        byPrint.put(key, new Merged(e.tenant(), print, stream, source, reason, payload, escaped, e.at()));
      } else {
        m.add(e.at(), source);
      }
    }
    List<Row> out = new ArrayList<>(byPrint.size());
    byPrint.forEach((key, m) -> out.add(new Row(m.tenant, m.print, m.stream, m.source, m.reason, m.payload, m.first,
        m.last, m.count, m.escaped)));
    return out;
  }

  /** One upsert statement for {@code rows}, each under its tenant; the answer is the number of rows touched. */
  public Future<Integer> insert(List<Row> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture(0);
    }
    int n = rows.size();
    String[] tenants = new String[n];
    String[] prints = new String[n];
    String[] streams = new String[n];
    String[] sources = new String[n];
    String[] reasons = new String[n];
    String[] payloads = new String[n];
    OffsetDateTime[] first = new OffsetDateTime[n];
    OffsetDateTime[] last = new OffsetDateTime[n];
    Long[] counts = new Long[n];
    Boolean[] escaped = new Boolean[n];
    for (int i = 0; i < n; i++) {
      Row r = rows.get(i);
      tenants[i] = r.tenant();
      prints[i] = r.fingerprint();
      streams[i] = r.stream();
      sources[i] = r.source();
      reasons[i] = r.reason();
      payloads[i] = r.payload();
      first[i] = AuditLog.time(r.firstSeen());
      last[i] = AuditLog.time(r.lastSeen());
      counts[i] = r.entries();
      escaped[i] = r.escaped();
    }
    return pool.preparedQuery("insert into quarantine (tenant, fingerprint, stream, source, reason, payload, "
            + "first_seen, last_seen, count, escaped) "
            + "select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
            + "$7::timestamptz[], $8::timestamptz[], $9::bigint[], $10::boolean[]) "
            + "on conflict (tenant, fingerprint) do update set count = quarantine.count + excluded.count, "
            + "last_seen = greatest(quarantine.last_seen, excluded.last_seen), source = excluded.source")
        .execute(Tuple.of(tenants, prints, streams, sources, reasons, payloads).addValue(first).addValue(last)
            .addValue(counts).addValue(escaped))
        .map(rs -> rs.rowCount());
  }

  /** Newest first; {@code stream} null for all, {@code beforeId} pages back. */
  public Future<Page> list(String tenant, String stream, int limit, Long beforeId) {
    Future<List<Item>> items = pool.preparedQuery("select " + COLUMNS + " from quarantine where tenant = $1 "
            + "and ($2::text is null or stream = $2) and ($3::bigint is null or id < $3) order by id desc limit $4")
        .execute(Tuple.of(tenant, stream, beforeId, limit))
        .map(rows -> {
          List<Item> out = new ArrayList<>();
          for (io.vertx.sqlclient.Row r : rows) {
            out.add(item(r));
          }
          return out;
        });
    Future<io.vertx.sqlclient.Row> totals = pool.preparedQuery("select count(*), coalesce(sum(count), 0) "
            + "from quarantine "
            + "where tenant = $1 and ($2::text is null or stream = $2)")
        .execute(Tuple.of(tenant, stream))
        .map(rows -> rows.iterator().next());
    return Future.all(items, totals).map(v -> new Page(items.result(), totals.result().getLong(0),
        totals.result().getLong(1)));
  }

  /** One item, or null. */
  public Future<Item> get(String tenant, long id) {
    return pool.preparedQuery("select " + COLUMNS + " from quarantine where tenant = $1 and id = $2")
        .execute(Tuple.of(tenant, id))
        .map(rows -> rows.size() == 0 ? null : item(rows.iterator().next()));
  }

  /**
   * Deletes items: one by id, or all of a stream (null: every stream) last seen before
   * {@code beforeMillis} (null: any time), with one audit entry when any went. The answer is the
   * number deleted.
   */
  public Future<Long> purge(String tenant, Long id, String stream, Long beforeMillis, String actor, long now,
      String action) {
    return pool.withTransaction(conn -> conn
        .preparedQuery("delete from quarantine where tenant = $1 and ($2::bigint is null or id = $2) "
            + "and ($3::text is null or stream = $3) and ($4::timestamptz is null or last_seen < $4)")
        .execute(Tuple.of(tenant, id, stream, beforeMillis == null ? null : AuditLog.time(beforeMillis)))
        .compose(rows -> {
          long deleted = rows.rowCount();
          if (deleted == 0) {
            return Future.succeededFuture(0L); // nothing changed: nothing to audit
          }
          JsonObject detail = new JsonObject().put("deleted", deleted);
          if (stream != null) {
            detail.put("stream", stream);
          }
          if (beforeMillis != null) {
            detail.put("before", beforeMillis);
          }
          return AuditLog.record(conn, tenant, now, actor, action, id == null ? stream : String.valueOf(id), detail)
              .map(deleted);
        }));
  }

  /**
   * Takes items out of the quarantine to requeue them: one transaction deletes them and audits each
   * ({@code quarantine.requeue}). Only the rows this call deleted come back, so two requeues of one
   * item (two callers, a retry) never both put it through ingest; what ingest refuses again is
   * quarantined anew by ingest itself.
   */
  public Future<List<Item>> claim(String tenant, List<Long> ids, String actor, long now) {
    if (ids.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    return pool.withTransaction(conn -> conn
        .preparedQuery("delete from quarantine where tenant = $1 and id = any($2::bigint[]) returning " + COLUMNS)
        .execute(Tuple.of(tenant).addArrayOfLong(ids.toArray(new Long[0])))
        .compose(rows -> {
          List<Item> claimed = new ArrayList<>();
          for (io.vertx.sqlclient.Row r : rows) {
            claimed.add(item(r));
          }
          claimed.sort(java.util.Comparator.comparingLong(Item::id));
          Future<Void> audited = Future.succeededFuture();
          for (Item it : claimed) {
            audited = audited.compose(v -> AuditLog.record(conn, tenant, now, actor, "quarantine.requeue",
                String.valueOf(it.id()), new JsonObject().put("deleted", 1)));
          }
          return audited.map(claimed);
        }));
  }

  /** Identity of a rejection: stream, reason and payload, as stored (escaped or not). */
  static String fingerprint(String stream, String reason, String payload, boolean escaped) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      if (stream == null) {
        md.update((byte) 1); // no stream: distinct from a stream named "null"
      } else {
        md.update((byte) 2);
        md.update(stream.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
      }
      md.update(reason.getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      md.update(payload.getBytes(StandardCharsets.UTF_8));
      if (escaped) {
        md.update((byte) 3); // an escaped row never merges with a plain one that looks the same
      }
      return HexFormat.of().formatHex(md.digest(), 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Item item(io.vertx.sqlclient.Row r) {
    return new Item(r.getLong("id"), r.getString("stream"), r.getString("source"), r.getString("reason"),
        r.getString("payload"), AuditLog.millis(r.getOffsetDateTime("first_seen")),
        AuditLog.millis(r.getOffsetDateTime("last_seen")), r.getLong("count"), r.getBoolean("escaped"));
  }

  /** Repeats of one rejection within a batch. */
  private static final class Merged {
    final String tenant;
    final String print;
    final String stream;
    final String reason;
    final String payload;
    final boolean escaped;
    String source;
    long first;
    long last;
    long count;

    Merged(String tenant, String print, String stream, String source, String reason, String payload, boolean escaped,
        long at) {
      this.tenant = tenant;
      this.print = print;
      this.stream = stream;
      this.source = source;
      this.reason = reason;
      this.payload = payload;
      this.escaped = escaped;
      first = at;
      last = at;
      count = 1;
    }

    void add(long at, String src) {
      first = Math.min(first, at);
      if (at >= last) {
        last = at;
        source = src;
      }
      count++;
    }
  }
}
