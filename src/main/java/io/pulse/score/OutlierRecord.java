package io.pulse.score;

import io.pulse.core.StreamId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * An outlier as kept for inspection (in memory and in PostgreSQL) and listed by
 * {@code GET /api/v1/streams/{stream}/outliers}: the event, its score and decision value, the model
 * version that scored it, and the features that pulled it out most.
 */
public record OutlierRecord(StreamId stream, long ts, long arrival, String id, JsonObject dims, JsonObject values,
    double score, double decision, int modelVersion, JsonArray reasons) {

  /** Works out score and reasons of what a shard reported; allocates, so off the hot path. */
  public static OutlierRecord of(Outlier o) {
    var e = o.event();
    JsonObject values = new JsonObject();
    for (int i = 0; i < e.valueCount(); i++) {
      values.put(e.name(i), e.value(i));
    }
    return new OutlierRecord(e.stream(), e.ts(), e.arrival(), e.id(), new JsonObject(new java.util.LinkedHashMap<>(
        e.dims().toMap())), values, o.score(), o.decision(), o.model().version(), o.model().reasons(e, 3));
  }

  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("ts", ts).put("arrival", arrival);
    if (id != null) {
      j.put("id", id);
    }
    return j.put("dims", dims).put("values", values).put("score", score).put("decision", decision)
        .put("modelVersion", modelVersion).put("reasons", reasons);
  }
}
