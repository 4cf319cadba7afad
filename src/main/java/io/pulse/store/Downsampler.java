package io.pulse.store;

import io.pulse.agg.WindowAgg;
import io.pulse.config.PulseConfig;
import io.pulse.store.RollupStore.Resolution;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The background job that keeps history small: it merges closed 1 s windows into 1 min windows,
 * 1 min into 1 h, and deletes each resolution's rows once they are older than its retention.
 *
 * <p>Merging goes through the stored sketches, so a coarse window's count, sum, min and max are
 * exact and its percentiles are the sketch's own, never averages of percentiles. Every coarse
 * window is recomputed whole from its fine rows and upserted, so running a window twice (after a
 * restart, or a replay) gives the same row.
 *
 * <p>A coarse window is merged once all its fine windows are in: its end must be before
 * {@code safeBefore}, which the caller sets behind the allowed lateness and behind the oldest row
 * still waiting in the write queue, so a database outage does not leave holes in the minutes.
 * Fine rows are deleted only after they have been merged.
 *
 * <p>Each {@link #run} does a bounded amount of work and says whether more is left, so a long
 * catch-up (after downtime) proceeds in steps rather than one huge transaction. SQL runs on the
 * pool; decoding and merging run through {@link Blocking} on a worker thread.
 */
public final class Downsampler {

  /** Runs CPU-heavy work off the event loop: {@code WorkerExecutor::executeBlocking} or {@code vertx::executeBlocking}. */
  public interface Blocking {
    <T> Future<T> run(Callable<T> work);
  }

  /** What one run did. */
  public record Result(int minutes, int hours, long rowsWritten, long rowsDeleted, boolean more) {
  }

  /** Coarse windows merged per resolution per run, at most. */
  static final int MAX_WINDOWS_PER_RUN = 30;

  private final Pool pool;
  private final RollupCodec codec;
  private final PulseConfig.Retention retention;
  private final Blocking blocking;
  /** Per coarse resolution: every window that starts before this has been merged. Null until read. */
  private final Map<Resolution, Long> done = new EnumMap<>(Resolution.class);

  public Downsampler(Pool pool, RollupCodec codec, PulseConfig.Retention retention, Blocking blocking) {
    this.pool = pool;
    this.codec = codec;
    this.retention = retention;
    this.blocking = blocking;
  }

  /**
   * One step: merge what is complete (up to a bound), then apply retention.
   *
   * @param now processing time
   * @param safeBefore fine windows starting before this are all stored
   */
  public Future<Result> run(long now, long safeBefore) {
    long[] written = {0};
    return downsample(Resolution.SECOND, Resolution.MINUTE, safeBefore, written)
        .compose(minutes -> {
          long minutesDone = done.getOrDefault(Resolution.MINUTE, Long.MIN_VALUE);
          return downsample(Resolution.MINUTE, Resolution.HOUR, Math.min(safeBefore, minutesDone), written)
              .compose(hours -> retain(now).map(deleted -> new Result(Math.abs(minutes), Math.abs(hours), written[0],
                  deleted, minutes < 0 || hours < 0)));
        });
  }

  /** Merges complete windows of {@code fine} into {@code coarse}; the count, negative when more are left. */
  private Future<Integer> downsample(Resolution fine, Resolution coarse, long safeBefore, long[] written) {
    long boundary = Math.floorDiv(safeBefore, coarse.ms()) * coarse.ms(); // coarse windows ending by here are complete
    return watermark(fine, coarse).compose(from -> step(fine, coarse, from, boundary, 0, written));
  }

  private Future<Integer> step(Resolution fine, Resolution coarse, Long from, long boundary, int n, long[] written) {
    if (from == null || from + coarse.ms() > boundary) {
      return Future.succeededFuture(n);
    }
    if (n == MAX_WINDOWS_PER_RUN) {
      return Future.succeededFuture(-n);
    }
    long start = from;
    long end = start + coarse.ms();
    return pool.preparedQuery("select series_id, start, count, latest, data, score, anomaly::text as anomaly, outliers from "
            + fine.table()
            + " where start >= $1 and start < $2")
        .execute(Tuple.of(start, end))
        .compose(rows -> {
          if (rows.size() == 0) {
            // a gap: jump to the next fine row rather than walking empty windows one by one
            return nextStart(fine, end).compose(next -> {
              Long to = next == null ? Long.valueOf(boundary) : Long.valueOf(floor(next, coarse));
              done.put(coarse, Math.min(to, boundary));
              return step(fine, coarse, next == null ? null : floor(next, coarse), boundary, n, written);
            });
          }
          return blocking.run(() -> merge(rows, start, end))
              .compose(merged -> upsert(coarse, merged))
              .compose(count -> {
                written[0] += count;
                done.put(coarse, end);
                return step(fine, coarse, end, boundary, n + 1, written);
              });
        });
  }

  /** Where merging resumes: the last coarse window written (redone, idempotently), else the first fine row. */
  private Future<Long> watermark(Resolution fine, Resolution coarse) {
    Long known = done.get(coarse);
    if (known != null) {
      return Future.succeededFuture(known);
    }
    return pool.query("select max(start) from " + coarse.table()).execute()
        .compose(rows -> {
          Long last = rows.iterator().next().getLong(0);
          if (last != null) {
            return Future.succeededFuture(last);
          }
          return pool.query("select min(start) from " + fine.table()).execute()
              .map(r -> {
                Long first = r.iterator().next().getLong(0);
                return first == null ? null : floor(first, coarse);
              });
        })
        .onSuccess(w -> {
          if (w != null) {
            done.put(coarse, w);
          }
        });
  }

  private Future<Long> nextStart(Resolution fine, long after) {
    return pool.preparedQuery("select min(start) from " + fine.table() + " where start >= $1")
        .execute(Tuple.of(after))
        .map(rows -> rows.iterator().next().getLong(0));
  }

  /** A coarse window being merged: the figures, the highest score of its fine windows, their outliers. */
  private static final class Merged {
    final WindowAgg w;
    Double score;
    String anomaly;
    long outliers;

    Merged(WindowAgg w) {
      this.w = w;
    }
  }

  /** One coarse window per series, from its fine rows (runs on a worker). */
  private Map<Long, Merged> merge(RowSet<Row> rows, long start, long end) {
    Map<Long, Merged> bySeries = new LinkedHashMap<>();
    for (Row r : rows) {
      Merged m = bySeries.computeIfAbsent(r.getLong("series_id"),
          id -> new Merged(new WindowAgg(start, end, codec.accuracy(), 0)));
      Long latest = r.getLong("latest");
      codec.mergeInto(m.w, r.getBuffer("data").getBytes(), r.getLong("count"), latest == null ? Long.MIN_VALUE : latest,
          null);
      Float score = r.getFloat("score");
      if (score != null && (m.score == null || score > m.score)) {
        m.score = score.doubleValue();
        m.anomaly = r.getString("anomaly");
      }
      m.outliers += r.getLong("outliers");
    }
    return bySeries;
  }

  private Future<Integer> upsert(Resolution coarse, Map<Long, Merged> merged) {
    int n = merged.size();
    Long[] sid = new Long[n];
    Long[] start = new Long[n];
    Long[] count = new Long[n];
    Long[] latest = new Long[n];
    Buffer[] data = new Buffer[n];
    Double[] score = new Double[n];
    String[] anomaly = new String[n];
    Long[] outliers = new Long[n];
    return blocking.run(() -> {
      int i = 0;
      for (Map.Entry<Long, Merged> e : merged.entrySet()) {
        Merged m = e.getValue();
        WindowAgg w = m.w;
        sid[i] = e.getKey();
        start[i] = w.start();
        count[i] = w.count();
        latest[i] = w.latest() == Long.MIN_VALUE ? null : w.latest();
        score[i] = m.score;
        anomaly[i] = m.anomaly;
        outliers[i] = m.outliers;
        data[i++] = Buffer.buffer(codec.encode(w));
      }
      return i;
    }).compose(i -> RollupStore.upsert(pool, coarse, sid, start, count, latest, data, score, anomaly, outliers)
        .map(rs -> rs.rowCount()));
  }

  /** Deletes rows past their retention; fine rows only once merged into the next resolution. */
  private Future<Long> retain(long now) {
    List<Future<Long>> deletes = new ArrayList<>();
    deletes.add(delete(Resolution.SECOND, cutoff(now - retention.secondMs(), Resolution.MINUTE)));
    deletes.add(delete(Resolution.MINUTE, cutoff(now - retention.minuteMs(), Resolution.HOUR)));
    deletes.add(delete(Resolution.HOUR, now - retention.hourMs()));
    return Future.all(deletes).map(v -> {
      long sum = 0;
      for (Future<Long> f : deletes) {
        sum += f.result();
      }
      return sum;
    });
  }

  /** Retention's cutoff, held back to where the next resolution has merged. */
  private long cutoff(long byAge, Resolution next) {
    Long merged = done.get(next);
    return merged == null ? Long.MIN_VALUE : Math.min(byAge, merged);
  }

  private Future<Long> delete(Resolution res, long before) {
    if (before == Long.MIN_VALUE) {
      return Future.succeededFuture(0L);
    }
    return pool.preparedQuery("delete from " + res.table() + " where start < $1").execute(Tuple.of(before))
        .map(rs -> (long) rs.rowCount());
  }

  private static long floor(long t, Resolution r) {
    return Math.floorDiv(t, r.ms()) * r.ms();
  }
}
