package io.pulse.verticles;

import io.pulse.agg.ShardBatch;
import io.pulse.agg.ShardOutput;
import io.pulse.live.LiveBatch;
import io.pulse.live.RollupBatch;
import io.pulse.live.SubscribeReply;
import io.pulse.live.SubscribeRequest;
import io.vertx.core.Vertx;

/**
 * Every event-bus address Pulse uses, what travels on it, and the codecs: the one place to look.
 * All of these carry immutable objects by reference (local codecs); none leaves the JVM.
 */
public final class Addresses {

  private Addresses() {
  }

  /** Ingest -> aggregate shard {@code n}: a {@link ShardBatch}, point to point, no reply. */
  public static String shard(int n) {
    return "pulse.agg.shard." + n;
  }

  /** Shutdown -> aggregate shard {@code n}: close every open window now; replies with the number closed. */
  public static String shardCloseAll(int n) {
    return "pulse.agg.shard." + n + ".close-all";
  }

  /** Aggregate shard -> combiner: a {@link ShardOutput} per flush tick (its series' rollups, partials, watermark). */
  public static final String SHARD_OUTPUT = "pulse.agg.output";

  /** Shutdown -> combiner: emit every window it holds as final; replies with the number. */
  public static final String COMBINE_CLOSE_ALL = "pulse.agg.combine.close-all";

  /** Combiner -> published: a {@link RollupBatch} of complete rollups (the live verticle and the store verticle). */
  public static final String ROLLUPS = "pulse.rollups";

  /** HTTP -> combiner: a JsonObject {tenant, stream, limit}; replies with the stream's detectors and their warm-up. */
  public static final String DETECT_STATUS = "pulse.detect.status";

  /**
   * HTTP -> combiner: "not an anomaly", a JsonObject {tenant, stream, series (object, or null for
   * every series), start}; replies with {"detectors": n}, how many detectors took it.
   */
  public static final String DETECT_FEEDBACK = "pulse.detect.feedback";

  /** Stream delete -> combiner, published: a JsonObject {tenant, stream} whose detectors go. */
  public static final String DETECT_FORGET = "pulse.detect.forget";

  /**
   * Alerting -> published: one alert transition as a JsonObject, API.md's alert message plus
   * {@code tenant}, {@code ruleName}, {@code labels}, {@code previous} (the state before),
   * {@code flapping} and {@code notify} (false when silenced or flapping: shown, not sent).
   * The live feed, the alert store and the webhook notifier consume it.
   */
  public static final String ALERTS = "pulse.alerts";

  /**
   * Definitions API -> alert verticle: a rule was created, changed or deleted. Body: JsonObject
   * {@code {"tenant", "id", "doc"}} ({@code doc} null when deleted); published, no reply.
   */
  public static final String RULES_CHANGED = "pulse.rules.changed";

  /**
   * Alerts API -> alert verticle: a JsonObject {@code {"op", "tenant", ...}} (list, get, ack, unack,
   * silences, silence, silence.put, silence.expire); replies a JsonObject, or fails with the HTTP
   * status as the failure code and the reason as the message.
   */
  public static final String ALERTS_REQUEST = "pulse.alerts.request";

  /** Live verticle -> published to every HTTP instance's hub: a {@link LiveBatch}, sequenced and encoded. */
  public static final String LIVE_UPDATES = "pulse.live.updates";

  /** Hub -> live verticle: a {@link SubscribeRequest}; replies with a {@link SubscribeReply}. */
  public static final String LIVE_SUBSCRIBE = "pulse.live.subscribe";

  /** Hub -> live verticle: the id (Integer) of a view one subscriber left. */
  public static final String LIVE_RELEASE = "pulse.live.release";

  /**
   * Tokens API and tokens verticle -> every live hub (publish): a token was revoked; close its live
   * connections. {"tokenId": jti, "reason": "token revoked"}.
   */
  public static final String TOKENS_REVOKED = "pulse.tokens.revoked";

  /** Shutdown -> live verticle: tell every hub to close its connections after what it has; replies when sent. */
  public static final String LIVE_SHUTDOWN = "pulse.live.shutdown";

  /**
   * Shutdown -> store verticle: write every final rollup received so far; replies (an Integer, the
   * rows still unwritten: 0) once they are in the database. The sender bounds the wait.
   */
  public static final String STORE_FLUSH = "pulse.store.flush";

  /**
   * Live hub -> store verticle: replies (an Integer, 0) once every final rollup received so far is
   * written, so a history read that follows sees them all. The sender bounds the wait.
   */
  public static final String STORE_SYNC = "pulse.store.sync";

  /**
   * Quarantine API -> storage jobs verticle: store what the in-memory ring holds that is not saved
   * yet, then reply, so a read or purge that follows sees events rejected a moment ago.
   */
  public static final String QUARANTINE_SAVE = "pulse.store.quarantine.save";

  /**
   * Streams API -> store verticle: a stream's stored rows were deleted; its entry leaves the stored
   * catalogue (whose only owner is the store verticle). Body: {"tenant", "stream"}; replies 0.
   */
  public static final String STORE_FORGET_STREAM = "pulse.store.forget-stream";

  /** Shutdown -> storage jobs verticle: store the quarantined events not yet saved; replies when done. */
  public static final String JOBS_FLUSH = "pulse.store.jobs.flush";

  /** Webhooks API -> notify verticle: the webhooks changed, load them again; replies 0 once loaded. */
  public static final String NOTIFY_WEBHOOKS = "pulse.notify.webhooks";

  /** Webhooks API -> notify verticle: store every delivery change so far; replies 0 once stored (1: not). */
  public static final String NOTIFY_SYNC = "pulse.notify.sync";

  /**
   * Webhooks API -> notify verticle: {"tenant", "webhook"}: send a signed test notification now;
   * replies with the delivery (JSON) after its first attempt, or fails 404 for an unknown webhook.
   */
  public static final String NOTIFY_TEST = "pulse.notify.test";

  // ---- event scoring (io.pulse.score) ----

  /** Model verticle -> published to every shard: a stream's new {@link io.pulse.score.EventModel}. */
  public static final String SCORE_MODEL = "pulse.score.model";

  /**
   * Model verticle -> aggregate shard {@code n}: {"tenant", "stream"}; replies with a
   * {@link io.pulse.score.Reservoir.Slice}, the stream's recent events held there (a new round starts).
   */
  public static String scoreSample(int n) {
    return "pulse.score.sample." + n;
  }

  /** Aggregate shard -> model verticle: an {@link io.pulse.score.OutlierBatch} per flush tick that found any. */
  public static final String SCORE_OUTLIERS = "pulse.score.outliers";

  /**
   * Scoring API -> model verticle: {"op": "model" | "train" | "outliers", "tenant", "stream", and
   * for outliers "from", "to", "limit"}; replies {"status", "body"}, the HTTP answer.
   */
  public static final String SCORE_API = "pulse.score.api";

  // ---- cluster mode (kafka.bootstrap) ----

  /**
   * Output-topic reader -> combiner: a {@link ShardOutput} of a partition another instance owns (its
   * series' rollups already scored there); combined here for this instance's subscribers, not stored.
   */
  public static final String CLUSTER_OUTPUT = "pulse.cluster.output";

  /**
   * Cluster verticle -> combiner: replies (0) once every flush sent before it is combined and every
   * final rollup that made is stored; the partitions' offsets up to those flushes may be committed.
   */
  public static final String CLUSTER_BARRIER = "pulse.cluster.barrier";

  /** Output-topic reader -> live verticle: an alert transition raised on another instance (JsonObject as on ALERTS). */
  public static final String REMOTE_ALERTS = "pulse.cluster.alerts";

  /** Output-topic reader -> alert verticle: an ack or unack made on another instance ({"op", "tenant", "id", ...}). */
  public static final String CLUSTER_ALERT_OPS = "pulse.cluster.alert-ops";

  /** Output-topic reader -> alert verticle: silences changed on another instance; read them again from storage. */
  public static final String CLUSTER_SILENCES = "pulse.cluster.silences";

  /**
   * Group consumer -> alert verticle and combiner, on a rebalance: these partitions ({"partitions":[...]})
   * leave this instance. The alert verticle hands over the alerts of streams homed there, the combiner
   * saves and drops the detectors of series there; each replies once that is stored, and the consumer
   * waits (bounded) before the partitions go, so their next owner reads what was left.
   */
  public static final String CLUSTER_HANDOVER_ALERTS = "pulse.cluster.handover.alerts";
  public static final String CLUSTER_HANDOVER_DETECTORS = "pulse.cluster.handover.detectors";

  /**
   * Cluster verticle -> alert verticle and combiner: these partitions ({"partitions":[...]}) came to
   * this instance. The alert verticle takes up the rules and stored active alerts of streams homed
   * there, the combiner loads the saved detectors of series there; the partitions' records wait until
   * both replied.
   */
  public static final String CLUSTER_TAKEOVER_ALERTS = "pulse.cluster.takeover.alerts";
  public static final String CLUSTER_TAKEOVER_DETECTORS = "pulse.cluster.takeover.detectors";

  /** Registers the local codecs of every message type above as their defaults. */
  public static void registerCodecs(Vertx vertx) {
    register(vertx, ShardBatch.class);
    register(vertx, ShardOutput.class);
    register(vertx, RollupBatch.class);
    register(vertx, LiveBatch.class);
    register(vertx, SubscribeRequest.class);
    register(vertx, SubscribeReply.class);
    register(vertx, io.pulse.score.EventModel.class);
    register(vertx, io.pulse.score.Reservoir.Slice.class);
    register(vertx, io.pulse.score.OutlierBatch.class);
  }

  private static <T> void register(Vertx vertx, Class<T> type) {
    vertx.eventBus().registerDefaultCodec(type, new LocalCodec<>(type));
  }
}
