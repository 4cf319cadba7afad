package io.pulse.store;

import io.pulse.anomaly.RollupScorer;
import io.pulse.core.StreamId;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;

/**
 * The anomaly detectors' saved state (table {@code detector_state}, V3): upserted in batches,
 * read back at start so that a restart does not send every series back to its warm-up.
 */
public final class DetectorStore {

  /** Rows per statement. */
  static final int BATCH = 1000;

  private DetectorStore() {
  }

  /**
   * Upserts the states, {@link #BATCH} per statement, one after the other, in key order: in cluster mode
   * every instance saves the detectors of the same totals and group-bys, and two upserts taking the
   * same rows' locks in different orders deadlocked.
   */
  public static Future<Integer> save(Pool pool, List<RollupScorer.Saved> unsorted) {
    List<RollupScorer.Saved> saved = new ArrayList<>(unsorted);
    saved.sort(java.util.Comparator.comparing((RollupScorer.Saved s) -> s.stream().tenant())
        .thenComparing(s -> s.stream().name()).thenComparing(RollupScorer.Saved::id));
    Future<Integer> chain = Future.succeededFuture(0);
    for (int from = 0; from < saved.size(); from += BATCH) {
      List<RollupScorer.Saved> part = saved.subList(from, Math.min(saved.size(), from + BATCH));
      chain = chain.compose(n -> upsert(pool, part).map(k -> n + k));
    }
    return chain;
  }

  private static Future<Integer> upsert(Pool pool, List<RollupScorer.Saved> part) {
    int n = part.size();
    String[] tenant = new String[n];
    String[] stream = new String[n];
    String[] id = new String[n];
    Buffer[] state = new Buffer[n];
    Integer[] partition = new Integer[n];
    for (int i = 0; i < n; i++) {
      RollupScorer.Saved s = part.get(i);
      tenant[i] = s.stream().tenant();
      stream[i] = s.stream().name();
      id[i] = s.id();
      state[i] = Buffer.buffer(s.state());
      partition[i] = s.partition() == RollupScorer.NO_PARTITION ? null : s.partition();
    }
    return pool.preparedQuery("insert into detector_state (tenant, stream, detector, state, part, updated_at) "
            + "select t, s, d, st, p, now() from unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::int[]) "
            + "as u(t, s, d, st, p) "
            + "on conflict (tenant, stream, detector) do update set state = excluded.state, part = excluded.part, "
            + "updated_at = now()")
        .execute(Tuple.of(tenant, stream, id, state, partition)).map(rs -> rs.rowCount());
  }

  /**
   * The newest {@code max} saved states, newest last (so that a cap keeps the most recent);
   * {@code unpartitioned}: only those of no partition (cluster mode: a series' come with its partition).
   */
  public static Future<List<RollupScorer.Saved>> load(Pool pool, int max, boolean unpartitioned) {
    return pool.preparedQuery("select tenant, stream, detector, state, part from (select * from detector_state "
            + (unpartitioned ? "where part is null " : "") + "order by updated_at desc limit $1) x order by updated_at")
        .execute(Tuple.of(max)).map(DetectorStore::saved);
  }

  /** Cluster mode: the saved states of the series detectors of these partitions (a new owner's takeover). */
  public static Future<List<RollupScorer.Saved>> loadPartitions(Pool pool, java.util.Collection<Integer> partitions) {
    return pool.preparedQuery("select tenant, stream, detector, state, part from detector_state where part = any($1) "
            + "order by updated_at")
        .execute(Tuple.of(partitions.toArray(new Integer[0]))).map(DetectorStore::saved);
  }

  private static List<RollupScorer.Saved> saved(io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> rows) {
    List<RollupScorer.Saved> out = new ArrayList<>(rows.size());
    for (io.vertx.sqlclient.Row r : rows) {
      try {
        Integer part = r.getInteger("part");
        out.add(new RollupScorer.Saved(StreamId.of(r.getString("tenant"), r.getString("stream")),
            r.getString("detector"), r.getBuffer("state").getBytes(), part == null ? RollupScorer.NO_PARTITION : part));
      } catch (IllegalArgumentException e) {
        // a row naming what is not a stream: skipped, that detector warms up again
      }
    }
    return out;
  }

  /** Deletes a stream's detectors (the stream was deleted). */
  public static Future<Integer> delete(io.vertx.sqlclient.SqlClient client, String tenant, String stream) {
    return client.preparedQuery("delete from detector_state where tenant = $1 and stream = $2")
        .execute(Tuple.of(tenant, stream)).map(rs -> rs.rowCount());
  }
}
