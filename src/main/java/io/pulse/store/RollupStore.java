package io.pulse.store;

import io.pulse.agg.WindowAgg;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Closed windows in PostgreSQL: idempotent multi-row upserts (a replayed window replaces itself,
 * never adds to itself), series ids resolved once and cached, and the history read of a stream.
 * Every call is one or two statements on the pool; nothing blocks. Encoding and decoding the rows'
 * figures is {@link RollupCodec}'s, and callers do that off the event loop when there is a lot.
 * Every series and read is one tenant's stream ({@link StreamId}): rows carry the tenant, and a
 * read never sees another tenant's series of the same name.
 */
public final class RollupStore {

  /** The stored resolutions and their tables. */
  public enum Resolution {
    SECOND(1_000L, "rollup_1s"), MINUTE(60_000L, "rollup_1m"), HOUR(3_600_000L, "rollup_1h");

    private final long ms;
    private final String table;

    Resolution(long ms, String table) {
      this.ms = ms;
      this.table = table;
    }

    public long ms() {
      return ms;
    }

    public String table() {
      return table;
    }

    /** Where a window of this span is kept: the coarsest resolution not longer than it (1 s for shorter ones). */
    public static Resolution forWindow(long spanMs) {
      Resolution r = SECOND;
      for (Resolution x : values()) {
        if (x.ms <= spanMs) {
          r = x;
        }
      }
      return r;
    }

    /** The coarsest resolution that divides a step (1 s if none does). */
    public static Resolution forStep(long stepMs) {
      Resolution r = SECOND;
      for (Resolution x : values()) {
        if (stepMs % x.ms == 0) {
          r = x;
        }
      }
      return r;
    }
  }

  /**
   * A stored series: one series of a stream ({@code group} false; {@code groupBy} is then its own
   * dim names) or one group of a group-by ({@code groupBy} sorted, empty for the stream total).
   */
  public record SeriesKey(StreamId stream, boolean group, List<String> groupBy, Dims dims) {

    public static SeriesKey series(StreamId stream, Dims dims) {
      List<String> keys = new ArrayList<>(dims.size());
      for (int i = 0; i < dims.size(); i++) {
        keys.add(dims.key(i));
      }
      return new SeriesKey(stream, false, List.copyOf(keys), dims);
    }

    public static SeriesKey group(StreamId stream, List<String> groupBy, Dims dims) {
      return new SeriesKey(stream, true, List.copyOf(groupBy), dims);
    }

    /**
     * Whether PostgreSQL can hold every name and value of it (no NUL, no unpaired surrogate: see
     * {@link PgText}); a StreamId always can.
     */
    public boolean storable() {
      for (String g : groupBy) {
        if (!PgText.storable(g)) {
          return false;
        }
      }
      for (int i = 0; i < dims.size(); i++) {
        if (!PgText.storable(dims.key(i)) || !PgText.storable(dims.value(i))) {
          return false;
        }
      }
      return true;
    }
  }

  /**
   * One closed window to store, its figures already encoded.
   *
   * @param score the window's anomaly score, NaN when none
   * @param anomaly the score's explanation as JSON text (the live feed's {@code anomaly}), or null
   * @param outliers events of the window scored as outliers
   */
  public record Row(SeriesKey key, long start, long end, long count, long latest, byte[] data, double score,
      String anomaly, long outliers) {

    public Row(SeriesKey key, long start, long end, long count, long latest, byte[] data) {
      this(key, start, end, count, latest, data, Double.NaN, null, 0);
    }

    public static Row of(SeriesKey key, WindowAgg w, RollupCodec codec) {
      return new Row(key, w.start(), w.end(), w.count(), w.latest(), codec.encode(w));
    }

    /** The row of a final rollup: its closed window's figures, its score and its outliers. */
    public static Row of(SeriesKey key, io.pulse.agg.Rollup r, RollupCodec codec) {
      WindowAgg w = r.window();
      io.pulse.agg.Anomaly a = r.anomaly();
      return new Row(key, w.start(), w.end(), w.count(), w.latest(), codec.encode(w), a == null ? Double.NaN : a.score(),
          a == null ? null : io.pulse.live.LiveJson.anomaly(a).encode(), r.outliers());
    }
  }

  /**
   * A stored window read back: from a stored group ({@code grouped}) or a series, with its score
   * (NaN when none), the score's explanation (JSON text or null) and its outliers.
   */
  public record Stored(boolean grouped, Dims dims, long start, long count, long latest, byte[] data, double score,
      String anomaly, long outliers) {

    public Stored(boolean grouped, Dims dims, long start, long count, long latest, byte[] data) {
      this(grouped, dims, start, count, latest, data, Double.NaN, null, 0);
    }
  }

  /**
   * What to read: a stream's windows with {@code start} in [from, to) at a resolution. With no
   * filter, the stored group rows of {@code groupBy} where they exist (empty: the stream total),
   * and the series rows of every window they do not cover; with a filter, series rows only (a
   * filtered view is never stored). At most {@code maxRows} rows, then one more to tell there are more.
   */
  public record Query(StreamId stream, Resolution resolution, long from, long to, Map<String, Set<String>> filter,
      List<String> groupBy, int maxRows) {
  }

  private static final int MAX_CACHED_IDS = 500_000;

  private final Pool pool;
  private final Map<SeriesKey, Long> ids = Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, true) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<SeriesKey, Long> eldest) {
      return size() > MAX_CACHED_IDS;
    }
  });

  /** Reads fail with {@link StoreErrors.NoAnswer} past this; 0: unbounded. */
  private final long readTimeoutMs;

  public RollupStore(Pool pool) {
    this(pool, 0);
  }

  /** A store whose history reads fail past {@code readTimeoutMs} (storage.queryTimeoutMs) rather than wait. */
  public RollupStore(Pool pool, long readTimeoutMs) {
    this.pool = pool;
    this.readTimeoutMs = readTimeoutMs;
  }

  /** Series ids held in memory. */
  public int cachedIds() {
    return ids.size();
  }

  /**
   * Upserts a batch: the series it names are resolved (made if new), then one statement per
   * resolution table. The same window written twice ends as one row with the last figures.
   */
  public Future<Void> write(List<Row> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture();
    }
    return resolve(rows).compose(v -> {
      Map<Resolution, Map<Long, Map<Long, Row>>> byTable = new EnumMap<>(Resolution.class);
      for (Row r : rows) {
        Long id = ids.get(r.key());
        if (id == null) {
          return Future.failedFuture(new IllegalStateException("series not resolved: " + r.key()));
        }
        // one row per (series, start) in a statement: ON CONFLICT may not touch a row twice; the last wins
        byTable.computeIfAbsent(Resolution.forWindow(r.end() - r.start()), x -> new LinkedHashMap<>())
            .computeIfAbsent(id, x -> new LinkedHashMap<>()).put(r.start(), r);
      }
      List<Future<?>> writes = new ArrayList<>();
      byTable.forEach((res, bySeries) -> writes.add(upsert(res, bySeries)));
      return Future.all(writes).mapEmpty();
    });
  }

  private Future<RowSet<io.vertx.sqlclient.Row>> upsert(Resolution res, Map<Long, Map<Long, Row>> bySeries) {
    int n = 0;
    for (Map<Long, Row> m : bySeries.values()) {
      n += m.size();
    }
    Long[] sid = new Long[n];
    Long[] start = new Long[n];
    Long[] count = new Long[n];
    Long[] latest = new Long[n];
    Buffer[] data = new Buffer[n];
    Double[] score = new Double[n];
    String[] anomaly = new String[n];
    Long[] outliers = new Long[n];
    int i = 0;
    for (Map.Entry<Long, Map<Long, Row>> e : bySeries.entrySet()) {
      for (Row r : e.getValue().values()) {
        sid[i] = e.getKey();
        start[i] = r.start();
        count[i] = r.count();
        latest[i] = r.latest() == Long.MIN_VALUE ? null : r.latest();
        score[i] = Double.isNaN(r.score()) ? null : r.score();
        anomaly[i] = r.anomaly();
        outliers[i] = r.outliers();
        data[i++] = Buffer.buffer(r.data());
      }
    }
    return upsert(pool, res, sid, start, count, latest, data, score, anomaly, outliers);
  }

  /**
   * One idempotent multi-row upsert of windows by series id: parallel arrays, one element a row
   * ({@code latest} null when unknown). The same window written again replaces its row.
   */
  static Future<RowSet<io.vertx.sqlclient.Row>> upsert(Pool pool, Resolution res, Long[] seriesIds, Long[] starts,
      Long[] counts, Long[] latest, Buffer[] data, Double[] score, String[] anomaly, Long[] outliers) {
    String sql = "insert into " + res.table() + " (series_id, start, count, latest, data, score, anomaly, outliers) "
        + "select u.sid, u.st, u.n, u.lt, u.d, u.sc, u.an::jsonb, u.o from unnest($1::bigint[], $2::bigint[], "
        + "$3::bigint[], $4::bigint[], $5::bytea[], $6::float8[], $7::text[], $8::bigint[]) as u(sid, st, n, lt, d, sc, an, o) "
        + "on conflict (series_id, start) do update set count = excluded.count, latest = excluded.latest, "
        + "data = excluded.data, score = excluded.score, anomaly = excluded.anomaly, outliers = excluded.outliers";
    return pool.preparedQuery(sql).execute(Tuple.of(seriesIds, starts, counts, latest, data, score, anomaly, outliers));
  }

  /** Makes the ids of the batch's series known: one statement for those not cached. */
  private Future<Void> resolve(List<Row> rows) {
    Map<SeriesKey, Boolean> missing = new LinkedHashMap<>();
    for (Row r : rows) {
      if (!ids.containsKey(r.key())) {
        missing.put(r.key(), Boolean.TRUE);
      }
    }
    if (missing.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = missing.size();
    String[] tenant = new String[n];
    String[] stream = new String[n];
    String[] kind = new String[n];
    String[] groupBy = new String[n];
    String[] dims = new String[n];
    int i = 0;
    for (SeriesKey k : missing.keySet()) {
      tenant[i] = k.stream().tenant();
      stream[i] = k.stream().name();
      kind[i] = k.group() ? "group" : "series";
      groupBy[i] = new JsonArray(new ArrayList<>(k.groupBy())).encode();
      dims[i++] = dimsJson(k.dims()).encode();
    }
    String sql = "insert into series (tenant, stream, kind, group_by, dims) "
        + "select t.tn, t.s, t.k, array(select e from jsonb_array_elements_text(t.g::jsonb) with ordinality a(e, o) "
        + "order by o), t.d::jsonb from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) "
        + "as t(tn, s, k, g, d) "
        + "on conflict (tenant, stream, kind, group_by, md5(dims::text)) do update set stream = excluded.stream "
        + "returning id, tenant, stream, kind, group_by, dims";
    return pool.preparedQuery(sql).execute(Tuple.of(tenant, stream, kind, groupBy, dims)).map(set -> {
      for (io.vertx.sqlclient.Row row : set) {
        SeriesKey k = new SeriesKey(StreamId.of(row.getString("tenant"), row.getString("stream")),
            "group".equals(row.getString("kind")), List.of(row.getArrayOfStrings("group_by")),
            dims(row.getJsonObject("dims")));
        ids.put(k, row.getLong("id"));
      }
      return null;
    });
  }

  /** What {@link #deleteStream} removed: series rows, and windows by resolution table. */
  public record Deleted(long series, Map<String, Long> windows) {
    public long windowsTotal() {
      return windows.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /**
   * Deletes a stream's stored history through {@code client} (the caller's transaction): its
   * windows in every resolution table, then its series rows, and forgets their cached ids so that
   * windows written afterwards make new series (the stream starts afresh). A window whose series id
   * was resolved before the delete and is written after it lands under the deleted id, which no
   * read joins to: retention removes it.
   */
  public Future<Deleted> deleteStream(io.vertx.sqlclient.SqlClient client, String tenant, String stream) {
    forgetIds(tenant, stream);
    Map<String, Long> windows = new LinkedHashMap<>();
    Future<Void> chain = Future.succeededFuture();
    for (Resolution r : Resolution.values()) {
      chain = chain.compose(v -> client.preparedQuery("delete from " + r.table()
              + " where series_id in (select id from series where tenant = $1 and stream = $2)")
          .execute(Tuple.of(tenant, stream)).map(set -> {
            windows.put(r.table(), (long) set.rowCount());
            return null;
          }));
    }
    return chain.compose(v -> client.preparedQuery("delete from series where tenant = $1 and stream = $2")
        .execute(Tuple.of(tenant, stream)))
        .map(set -> {
          forgetIds(tenant, stream);
          return new Deleted(set.rowCount(), windows);
        });
  }

  private void forgetIds(String tenant, String stream) {
    synchronized (ids) {
      ids.keySet().removeIf(k -> k.stream().name().equals(stream) && k.stream().tenant().equals(tenant));
    }
  }

  /** Reads a stream's stored windows (see {@link Query}), oldest first. */
  public Future<List<Stored>> query(Query q) {
    String t = q.resolution().table();
    List<Object> params = new ArrayList<>(List.of(q.stream().tenant(), q.stream().name(), q.from(), q.to()));
    String seriesRows = "select false as grouped, s.dims, r.start, r.count, r.latest, r.data, r.score, r.anomaly::text, "
        + "r.outliers from series s join " + t
        + " r on r.series_id = s.id where s.tenant = $1 and s.stream = $2 and s.kind = 'series' "
        + "and r.start >= $3 and r.start < $4";
    String sql;
    if (q.filter().isEmpty()) {
      params.add(q.groupBy().toArray(new String[0]));
      sql = "with g as (select s.dims, r.start, r.count, r.latest, r.data, r.score, r.anomaly::text as anomaly, "
          + "r.outliers from series s join " + t
          + " r on r.series_id = s.id where s.tenant = $1 and s.stream = $2 and s.kind = 'group' "
          + "and s.group_by = $5::text[] and r.start >= $3 and r.start < $4) "
          + "select true as grouped, dims, start, count, latest, data, score, anomaly, outliers from g union all " + seriesRows
          + " and not exists (select 1 from g where g.start = r.start)";
    } else {
      StringBuilder sb = new StringBuilder(seriesRows);
      for (Map.Entry<String, Set<String>> f : q.filter().entrySet()) {
        params.add(f.getKey());
        sb.append(" and s.dims->>$").append(params.size());
        params.add(f.getValue().toArray(new String[0]));
        sb.append(" = any($").append(params.size()).append("::text[])");
      }
      sql = sb.toString();
    }
    params.add(q.maxRows() + 1);
    sql = "select * from (" + sql + ") x order by start limit $" + params.size();
    return pool.preparedQuery(sql).execute(Tuple.from(params)).map(set -> {
      List<Stored> out = new ArrayList<>(set.size());
      for (io.vertx.sqlclient.Row row : set) {
        Long latest = row.getLong("latest");
        Float score = row.getFloat("score");
        out.add(new Stored(row.getBoolean("grouped"), dims(row.getJsonObject("dims")), row.getLong("start"),
            row.getLong("count"), latest == null ? Long.MIN_VALUE : latest, row.getBuffer("data").getBytes(),
            score == null ? Double.NaN : score, row.getString("anomaly"), row.getLong("outliers")));
      }
      return out;
    });
  }

  /**
   * The stored windows for a history request: read at the coarsest resolution dividing the step;
   * where that resolution has nothing yet (its newest row ends before {@code to}: downsampling
   * runs behind, or has not run), the rest of the range is read at the next finer one, down to 1 s.
   * Fails with {@link TooManyRows} past {@code maxRows}.
   */
  public Future<List<Stored>> read(History.Request req, int maxRows) {
    Future<List<Stored>> f = read(req, req.resolution(), req.from(), new ArrayList<>(), maxRows);
    return readTimeoutMs > 0 ? StoreErrors.bounded(f, readTimeoutMs) : f;
  }

  private Future<List<Stored>> read(History.Request req, Resolution res, long from, List<Stored> acc, int maxRows) {
    Query q = new Query(req.stream(), res, from, req.to(), req.filter(), req.groupBy(), maxRows - acc.size());
    return query(q).compose(rows -> {
      if (rows.size() > q.maxRows()) {
        return Future.failedFuture(new TooManyRows(maxRows));
      }
      acc.addAll(rows);
      if (res == Resolution.SECOND) {
        return Future.succeededFuture(acc);
      }
      long covered = from;
      for (Stored r : rows) {
        covered = Math.max(covered, r.start() + res.ms());
      }
      if (covered >= req.to()) {
        return Future.succeededFuture(acc);
      }
      return read(req, Resolution.values()[res.ordinal() - 1], covered, acc, maxRows);
    });
  }

  /** A history request that would read more stored windows than allowed. */
  public static final class TooManyRows extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TooManyRows(int max) {
      super("the request covers more than " + max + " stored windows; narrow from/to, add a filter or a groupBy, "
          + "or use a step of 1m or 1h once those resolutions are kept", null, false, false);
    }
  }

  static JsonObject dimsJson(Dims d) {
    JsonObject o = new JsonObject();
    for (int i = 0; i < d.size(); i++) {
      o.put(d.key(i), d.value(i));
    }
    return o;
  }

  static Dims dims(JsonObject o) {
    if (o == null || o.isEmpty()) {
      return Dims.EMPTY;
    }
    Map<String, String> m = new LinkedHashMap<>();
    o.forEach(e -> m.put(e.getKey(), String.valueOf(e.getValue())));
    return Dims.of(m);
  }
}
