package io.pulse.score;

import io.pulse.core.StreamId;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the model verticle knows of each scored stream: its current model, the version the next
 * training gets, the last training job, when training is due, and the ring of its newest outliers.
 * Plain Java with time passed in; single-threaded (the model verticle's event loop).
 *
 * <p>Training is due for a stream without a model every {@link #WARMUP_RETRY_MS} (until its sample
 * holds {@code scoring.minTrain} events), and for one with a model {@code scoring.retrainEvery}
 * after the last; never while a job of the stream runs. Versions count up from 1 per stream with
 * every successful training (from the stored maximum after a restart, when storage is on).
 */
public final class ScoringBook {

  /** How often a stream with no model yet is tried (if retrainEvery is not shorter). */
  public static final long WARMUP_RETRY_MS = 10_000;

  /** One training of one stream, as {@code POST .../model/train} and {@code GET .../model} show it. */
  public record Job(long id, StreamId stream, String reason, long requestedAt, String state, String error,
      int version, long finishedAt) {

    public JsonObject toJson() {
      JsonObject j = new JsonObject().put("id", id).put("stream", stream.name()).put("reason", reason)
          .put("requestedAt", requestedAt).put("state", state);
      if (error != null) {
        j.put("error", error);
      }
      if (version > 0) {
        j.put("version", version);
      }
      if (finishedAt > 0) {
        j.put("finishedAt", finishedAt);
      }
      return j;
    }
  }

  private static final class Entry {
    EventModel model;
    int lastVersion;
    Job job;
    long lastAttempt = Long.MIN_VALUE / 2;
    OutlierRing ring;
  }

  private final long retrainEveryMs;
  private final int keepOutliers;
  private final Map<StreamId, Entry> streams = new HashMap<>();
  private long jobs;

  public ScoringBook(long retrainEveryMs, int keepOutliers) {
    this.retrainEveryMs = retrainEveryMs;
    this.keepOutliers = keepOutliers;
  }

  private Entry entry(StreamId s) {
    return streams.computeIfAbsent(s, k -> new Entry());
  }

  /** Whether a scheduled training of the stream is due now. */
  public boolean due(StreamId s, long now) {
    Entry e = streams.get(s);
    if (e == null) {
      return true;
    }
    if (e.job != null && "running".equals(e.job.state())) {
      return false;
    }
    long wait = e.model == null ? Math.min(WARMUP_RETRY_MS, retrainEveryMs) : retrainEveryMs;
    long since = e.model == null ? e.lastAttempt : Math.max(e.lastAttempt, e.model.trainedAt());
    return now - since >= wait;
  }

  /** Starts a job, or answers the one already running for the stream (then {@code started} is false). */
  public record Start(Job job, boolean started) {
  }

  public Start start(StreamId s, String reason, long now) {
    Entry e = entry(s);
    if (e.job != null && "running".equals(e.job.state())) {
      return new Start(e.job, false);
    }
    e.lastAttempt = now;
    e.job = new Job(++jobs, s, reason, now, "running", null, 0, 0);
    return new Start(e.job, true);
  }

  /** The version the job's model gets: one past the stream's last. */
  public int nextVersion(StreamId s) {
    return entry(s).lastVersion + 1;
  }

  /** A version already used (stored by an earlier run): later ones count on from it. */
  public void versionUsed(StreamId s, int version) {
    Entry e = entry(s);
    e.lastVersion = Math.max(e.lastVersion, version);
  }

  public Job succeeded(Job job, EventModel m, long now) {
    Entry e = entry(job.stream());
    e.model = m;
    e.lastVersion = Math.max(e.lastVersion, m.version());
    e.job = new Job(job.id(), job.stream(), job.reason(), job.requestedAt(), "done", null, m.version(), now);
    return e.job;
  }

  public Job failed(Job job, String why, long now) {
    Entry e = entry(job.stream());
    e.lastAttempt = now; // the next try waits from the failure, not from the start
    e.job = new Job(job.id(), job.stream(), job.reason(), job.requestedAt(), "failed", why, 0, now);
    return e.job;
  }

  public EventModel model(StreamId s) {
    Entry e = streams.get(s);
    return e == null ? null : e.model;
  }

  public Job job(StreamId s) {
    Entry e = streams.get(s);
    return e == null ? null : e.job;
  }

  public void outlier(OutlierRecord r) {
    Entry e = entry(r.stream());
    if (e.ring == null) {
      e.ring = new OutlierRing(keepOutliers);
    }
    e.ring.add(r);
  }

  /** The stream's newest outliers held in memory with event time in [from, to), newest first. */
  public List<OutlierRecord> outliers(StreamId s, long from, long to, int limit) {
    Entry e = streams.get(s);
    return e == null || e.ring == null ? List.of() : e.ring.between(from, to, limit);
  }
}
