package io.pulse.store;

import io.pulse.core.StreamId;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The stream catalogue in PostgreSQL: what streams existed, with their dims and value names, across
 * restarts. A row is one tenant's stream (the key is tenant and name).
 */
public final class CatalogStore {

  /** Dim values kept per dim, as in the in-memory catalog (a guide for UIs, not an index). */
  public static final int MAX_VALUES = 200;

  /** One stream as stored. Times are epoch ms. */
  public record Stream(StreamId stream, Map<String, List<String>> dims, List<String> valueNames, long firstSeen,
      long lastSeen) {

    /** The union of two views of one stream: values merged (sorted, capped), earliest first and latest last seen. */
    public Stream merge(Stream o) {
      Map<String, List<String>> d = new TreeMap<>();
      for (Map<String, List<String>> m : List.of(dims, o.dims)) {
        m.forEach((k, v) -> {
          TreeSet<String> all = new TreeSet<>(d.getOrDefault(k, List.of()));
          all.addAll(v);
          d.put(k, new ArrayList<>(all).subList(0, Math.min(all.size(), MAX_VALUES)));
        });
      }
      TreeSet<String> values = new TreeSet<>(valueNames);
      values.addAll(o.valueNames);
      return new Stream(stream, d, new ArrayList<>(values), Math.min(firstSeen, o.firstSeen),
          Math.max(lastSeen, o.lastSeen));
    }
  }

  /**
   * A stream as the database can hold it: dim names, dim values and value names that PostgreSQL
   * cannot hold (NUL, unpaired surrogates; see {@link PgText}) left out, {@code skipped} of them.
   * ({@code stream} is never null: a {@link StreamId}'s tenant and name are always storable.)
   */
  public record Storable(Stream stream, int skipped) {
  }

  /** {@code s} without what PostgreSQL cannot hold; see {@link Storable}. */
  public static Storable storable(Stream s) {
    int skipped = 0;
    Map<String, List<String>> dims = new TreeMap<>();
    for (Map.Entry<String, List<String>> e : s.dims().entrySet()) {
      if (!PgText.storable(e.getKey())) {
        skipped += 1 + e.getValue().size();
        continue;
      }
      List<String> vals = new ArrayList<>(e.getValue().size());
      for (String v : e.getValue()) {
        if (PgText.storable(v)) {
          vals.add(v);
        } else {
          skipped++;
        }
      }
      dims.put(e.getKey(), vals);
    }
    List<String> names = new ArrayList<>(s.valueNames().size());
    for (String v : s.valueNames()) {
      if (PgText.storable(v)) {
        names.add(v);
      } else {
        skipped++;
      }
    }
    return new Storable(skipped == 0 ? s : new Stream(s.stream(), dims, names, s.firstSeen(), s.lastSeen()), skipped);
  }

  private final Pool pool;

  public CatalogStore(Pool pool) {
    this.pool = pool;
  }

  /** Every tenant's stored streams. */
  public Future<Map<StreamId, Stream>> load() {
    return pool.preparedQuery("select tenant, name, dims, value_names, "
        + "(extract(epoch from first_seen) * 1000)::bigint as f, "
        + "(extract(epoch from last_seen) * 1000)::bigint as l from streams")
        .execute().map(rows -> {
          Map<StreamId, Stream> out = new LinkedHashMap<>();
          for (var r : rows) {
            Map<String, List<String>> dims = new TreeMap<>();
            JsonObject d = r.getJsonObject("dims");
            d.forEach(e -> {
              List<String> vals = new ArrayList<>();
              ((JsonArray) e.getValue()).forEach(x -> vals.add(String.valueOf(x)));
              dims.put(e.getKey(), vals);
            });
            List<String> names = new ArrayList<>();
            ((JsonArray) r.getValue("value_names")).forEach(x -> names.add(String.valueOf(x)));
            StreamId id = StreamId.of(r.getString("tenant"), r.getString("name"));
            out.put(id, new Stream(id, dims, names, r.getLong("f"), r.getLong("l")));
          }
          return out;
        });
  }

  /**
   * Upserts streams in one statement: the caller passes each merged with what was stored, so the
   * row is their union, and made {@link #storable}; {@link Isolating} keeps one refused row from
   * failing the others.
   */
  public Future<Void> save(List<Stream> streams) {
    if (streams.isEmpty()) {
      return Future.succeededFuture();
    }
    int n = streams.size();
    String[] tenant = new String[n];
    String[] name = new String[n];
    String[] dims = new String[n];
    String[] values = new String[n];
    Long[] first = new Long[n];
    Long[] last = new Long[n];
    for (int i = 0; i < n; i++) {
      Stream s = streams.get(i);
      tenant[i] = s.stream().tenant();
      name[i] = s.stream().name();
      JsonObject d = new JsonObject();
      s.dims().forEach((k, v) -> d.put(k, new JsonArray(new ArrayList<>(v))));
      dims[i] = d.encode();
      values[i] = new JsonArray(new ArrayList<>(s.valueNames())).encode();
      first[i] = s.firstSeen();
      last[i] = s.lastSeen();
    }
    return pool.preparedQuery("insert into streams (tenant, name, dims, value_names, first_seen, last_seen) "
        + "select t.tn, t.n, t.d::jsonb, t.v::jsonb, to_timestamp(t.f / 1000.0), to_timestamp(t.l / 1000.0) "
        + "from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) "
        + "as t(tn, n, d, v, f, l) "
        + "on conflict (tenant, name) do update set dims = excluded.dims, value_names = excluded.value_names, "
        + "first_seen = least(streams.first_seen, excluded.first_seen), "
        + "last_seen = greatest(streams.last_seen, excluded.last_seen)")
        .execute(Tuple.of(tenant, name, dims, values, first, last)).mapEmpty();
  }

  /** Deletes a stream's catalogue row through {@code client} (the caller's transaction); whether there was one. */
  public static Future<Boolean> delete(io.vertx.sqlclient.SqlClient client, String tenant, String name) {
    return client.preparedQuery("delete from streams where tenant = $1 and name = $2")
        .execute(Tuple.of(tenant, name)).map(set -> set.rowCount() > 0);
  }
}
