package io.pulse.store;

import io.pulse.core.StreamId;
import io.pulse.score.EventModel;
import io.pulse.score.OutlierRecord;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Event models and outliers in PostgreSQL (migration V6): every trained model's record, and the
 * outlier events with their score, in batches from the model verticle; read back by tenant and
 * stream. Text in them has passed ingest's checks (no NUL, no unpaired surrogate).
 */
public final class EventModelStore {

  private final Pool pool;

  public EventModelStore(Pool pool) {
    this.pool = pool;
  }

  /** Stores a model's record (a second store of the same version replaces it). */
  public Future<Void> saveModel(EventModel m) {
    return pool.preparedQuery("insert into event_models (tenant, stream, version, trained_at, training_size, "
            + "training_ms, nu, threshold, features, model, trained_on) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
            + "$10, $11) on conflict (tenant, stream, version) do update set model = excluded.model")
        .execute(Tuple.tuple().addString(m.stream().tenant()).addString(m.stream().name()).addInteger(m.version())
            .addLong(m.trainedAt()).addInteger(m.trainingSize()).addLong(m.trainingMs()).addDouble(m.nu())
            .addDouble(m.threshold()).addValue(new JsonArray(m.features().names())).addValue(m.describe())
            .addString(m.trainedOn()))
        .mapEmpty();
  }

  /** The highest stored model version of every stream. */
  public Future<Map<StreamId, Integer>> versions() {
    return pool.query("select tenant, stream, max(version) from event_models group by tenant, stream").execute()
        .map(rs -> {
          Map<StreamId, Integer> out = new HashMap<>();
          for (Row r : rs) {
            try {
              out.put(StreamId.of(r.getString(0), r.getString(1)), r.getInteger(2));
            } catch (IllegalArgumentException e) {
              // a row no stream can name: nothing counts on from it
            }
          }
          return out;
        });
  }

  /** Stores outliers in one statement. */
  public Future<Integer> saveOutliers(List<OutlierRecord> rows) {
    if (rows.isEmpty()) {
      return Future.succeededFuture(0);
    }
    List<Tuple> batch = new ArrayList<>(rows.size());
    for (OutlierRecord r : rows) {
      batch.add(Tuple.tuple().addString(r.stream().tenant()).addString(r.stream().name()).addLong(r.ts())
          .addLong(r.arrival()).addString(r.id()).addDouble(r.score()).addDouble(r.decision())
          .addInteger(r.modelVersion()).addValue(r.dims()).addValue(r.values()).addValue(r.reasons()));
    }
    return pool.preparedQuery("insert into event_outliers (tenant, stream, ts, arrival, event_id, score, decision, "
            + "model_version, dims, vals, reasons) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
        .executeBatch(batch).map(rs -> rows.size());
  }

  /** A stream's stored outliers with event time in [from, to), newest first. */
  public Future<List<OutlierRecord>> outliers(StreamId s, long from, long to, int limit) {
    return pool.preparedQuery("select ts, arrival, event_id, score, decision, model_version, dims, vals, reasons "
            + "from event_outliers where tenant = $1 and stream = $2 and ts >= $3 and ts < $4 "
            + "order by ts desc, id desc limit $5")
        .execute(Tuple.of(s.tenant(), s.name(), from, to, limit))
        .map(rs -> {
          List<OutlierRecord> out = new ArrayList<>();
          for (Row r : rs) {
            out.add(new OutlierRecord(s, r.getLong(0), r.getLong(1), r.getString(2), (JsonObject) r.getValue(6),
                (JsonObject) r.getValue(7), r.getDouble(3), r.getDouble(4), r.getInteger(5), (JsonArray) r.getValue(8)));
          }
          return out;
        });
  }

  /** Deletes stored outliers with event time before {@code before}; answers how many went. */
  public Future<Integer> prune(long before) {
    return pool.preparedQuery("delete from event_outliers where ts < $1").execute(Tuple.of(before))
        .map(rs -> rs.rowCount());
  }
}
