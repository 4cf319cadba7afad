package io.pulse.verticles;

import static io.pulse.verticles.Replies.error;
import static io.pulse.verticles.Replies.json;

import io.pulse.anomaly.Replay;
import io.pulse.anomaly.RollupScorer;
import io.pulse.config.PulseConfig;
import io.pulse.alert.Preview;
import io.pulse.alert.Rule;
import io.pulse.alert.Window;
import io.pulse.core.Caller;
import io.pulse.core.Times;
import io.pulse.store.AlertStore;
import io.pulse.store.History;
import io.pulse.store.RollupStore;
import io.pulse.store.StoreErrors;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;

/**
 * Alerts, silences and rule previews over HTTP: each request becomes a message to the alert
 * verticle ({@link Addresses#ALERTS_REQUEST}), which owns the engine; a preview reads stored
 * history and replays it on the history worker pool. Its routes are in {@link Routes}.
 */
final class AlertsApi {

  /** The longest range a preview replays. */
  static final long MAX_PREVIEW_MS = 7 * 86_400_000L;
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AlertsApi.class);
  private static final DeliveryOptions ASK = new DeliveryOptions().setSendTimeout(5_000);

  private final PulseContext ctx;
  private final WorkerExecutor history;
  private final AlertStore store;

  AlertsApi(PulseContext ctx, WorkerExecutor history) {
    this.ctx = ctx;
    this.history = history;
    this.store = ctx.storageEnabled() ? new AlertStore(ctx.db.pool()) : null;
  }

  /** GET /api/v1/alerts?state=&stream= : active alerts and the recently resolved, newest change first. */
  void list(RoutingContext rc) {
    JsonObject req = request(rc, "list").put("state", rc.queryParams().get("state"))
        .put("stream", rc.queryParams().get("stream"));
    rc.vertx().eventBus().<JsonObject>request(Addresses.ALERTS_REQUEST, req, ASK)
        .onSuccess(m -> json(rc, 200, Callers.visible(rc, m.body(), "alerts", "total")))
        .onFailure(e -> failed(rc, e));
  }

  /** GET /api/v1/alerts/{id}: with its transitions; an alert no longer in memory is read from storage. */
  void get(RoutingContext rc) {
    find(rc).onSuccess(a -> json(rc, 200, a)).onFailure(e -> failed(rc, e));
  }

  /**
   * The alert the path names, from the engine or else from storage; fails 404 when neither has it
   * or when the caller may not read its stream.
   */
  private Future<JsonObject> find(RoutingContext rc) {
    String id = rc.pathParam("id");
    Caller caller = Callers.of(rc);
    if (id == null || !id.matches("[A-Za-z0-9_.-]{1,128}")) {
      return notFound(id);
    }
    return rc.vertx().eventBus().<JsonObject>request(Addresses.ALERTS_REQUEST, request(rc, "get").put("id", id), ASK)
        .map(m -> m.body())
        .recover(e -> {
          if (store == null || !(e instanceof ReplyException r && r.failureCode() == 404)) {
            return Future.failedFuture(e);
          }
          return StoreErrors.bounded(store.alert(caller.tenant(), id), ctx.config.storage().queryTimeoutMs())
              .recover(x -> Future.failedFuture(new ReplyException(ReplyFailure.TIMEOUT, "storage: "
                  + StoreErrors.describe(x))))
              .compose(a -> a == null ? notFound(id) : Future.succeededFuture(a));
        })
        // an alert of a stream the caller may not read (a narrowed read scope, a display's dashboard) is unknown to it
        .compose(a -> a.getValue("stream") instanceof String s && !Callers.mayRead(rc, s) ? notFound(id)
            : Future.succeededFuture(a));
  }

  private static Future<JsonObject> notFound(String id) {
    return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 404,
        "no alert " + io.pulse.http.QueryParams.shown(id)));
  }

  /**
   * POST /api/v1/alerts/{id}/not-anomaly, body {@code {"comment"}} (optional): "this was not an
   * anomaly". Every detector of the alert's series that flagged a window from the one that opened the
   * alert to its resolution (or now) learns that such values are normal there, so
   * similar points of that series score lower from now on. Only for alerts an anomaly score raised
   * (409 otherwise); 409 too when no detector flagged the series in that time lately (each
   * remembers its last 8 flagged windows). Audited as {@code anomaly.not-anomaly}.
   */
  void notAnomaly(RoutingContext rc) {
    if (!ctx.config.detect().enabled()) {
      error(rc, 503, "anomaly detection is off (detect.enabled / PULSE_DETECT)");
      return;
    }
    JsonObject body = rc.body().length() <= 0 ? new JsonObject() : Replies.bodyObject(rc);
    Object comment = body.getValue("comment");
    if (comment != null && !(comment instanceof String c && c.length() <= 1000)) {
      error(rc, 400, "comment: a string of at most 1000 characters");
      return;
    }
    Caller caller = Callers.of(rc);
    Future<JsonObject> done = find(rc).compose(a -> {
      JsonArray ts = a.getJsonArray("transitions", new JsonArray());
      boolean anomalous = "anomaly".equals(a.getString("kind")) || a.getJsonObject("anomaly") != null
          || ts.stream().anyMatch(t -> t instanceof JsonObject j && j.getJsonObject("anomaly") != null); // stored
      if (!anomalous) {
        return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409, "alert " + a.getString("id")
            + " was not raised by an anomaly score (its rule is not an anomaly rule): there is no detector to teach"));
      }
      String stream = a.getString("stream");
      // from the window that opened it (an alert read back from storage: its start less a window's close)
      long from = a.getLong("windowStart") != null ? a.getLong("windowStart") : a.getLong("startedAt")
          - ctx.config.stream(stream).windowMs() - ctx.config.aggregation().allowedLatenessMs() - 10_000;
      long to = a.getLong("resolvedAt") != null ? a.getLong("resolvedAt") : ctx.clock.millis();
      JsonObject ask = new JsonObject().put("tenant", caller.tenant()).put("stream", stream)
          .put("series", a.getJsonObject("series")).put("start", from).put("to", to);
      return rc.vertx().eventBus().<JsonObject>request(Addresses.DETECT_FEEDBACK, ask, ASK).compose(m -> {
        int n = m.body().getInteger("detectors");
        if (n == 0) {
          return Future.failedFuture(new ReplyException(ReplyFailure.RECIPIENT_FAILURE, 409, "no detector of "
              + stream + " flagged that series between " + from + " and " + to + " lately (each remembers its last "
              + "8 flagged windows)"));
        }
        JsonObject answer = new JsonObject().put("alert", a.getString("id")).put("stream", stream)
            .put("series", a.getJsonObject("series")).put("from", from).put("to", to).put("detectors", n)
            .put("comment", comment);
        if (store == null) {
          return Future.succeededFuture(answer);
        }
        return io.pulse.store.AuditLog.record(ctx.db.pool(), caller.tenant(), ctx.clock.millis(), caller.actor(),
            "anomaly.not-anomaly", "alert " + a.getString("id"), answer.copy()).map(answer);
      });
    });
    done.onSuccess(a -> json(rc, 200, a)).onFailure(e -> failed(rc, e));
  }

  /** POST /api/v1/alerts/{id}/ack, body {@code {"comment", "until"}} (both optional; no until: until resolved). */
  void ack(RoutingContext rc) {
    JsonObject body = rc.body().length() <= 0 ? new JsonObject() : Replies.bodyObject(rc);
    audited(rc, request(rc, "ack").put("id", rc.pathParam("id")).put("by", Callers.of(rc).actor())
        .put("comment", body.getValue("comment")).put("until", body.getValue("until")), "alert.ack",
        "alert " + rc.pathParam("id"), 200);
  }

  void unack(RoutingContext rc) {
    audited(rc, request(rc, "unack").put("id", rc.pathParam("id")).put("by", Callers.of(rc).actor()), "alert.unack",
        "alert " + rc.pathParam("id"), 200);
  }

  void silences(RoutingContext rc) {
    ask(rc, request(rc, "silences"));
  }

  void silence(RoutingContext rc) {
    ask(rc, request(rc, "silence").put("id", rc.pathParam("id")));
  }

  /** POST /api/v1/silences: 201 with the silence (its id is the server's). */
  void createSilence(RoutingContext rc) {
    JsonObject req = request(rc, "silence.put").put("by", Callers.of(rc).actor()).put("doc", Replies.bodyObject(rc));
    audited(rc, req, "silence.create", null, 201);
  }

  /** DELETE /api/v1/silences/{id}: ends it now (kept listed as expired for a day). */
  void expireSilence(RoutingContext rc) {
    audited(rc, request(rc, "silence.expire").put("id", rc.pathParam("id")), "silence.expire",
        "silence " + rc.pathParam("id"), 200);
  }

  /**
   * Asks the alert verticle to change something (ack, unack, silence) and, once it has, writes the
   * change to the audit log with the caller as actor; answers {@code status} with the verticle's
   * answer (a created silence: 201 with its Location). The change stands even if the audit row
   * cannot be written (the failure is logged): the answer tells what happened to the alert.
   *
   * @param target what was changed; null: the silence the answer names
   */
  private void audited(RoutingContext rc, JsonObject req, String action, String target, int status) {
    Caller caller = Callers.of(rc);
    rc.vertx().eventBus().<JsonObject>request(Addresses.ALERTS_REQUEST, req, ASK)
        .compose(m -> {
          JsonObject answer = m.body();
          if (!ctx.storageEnabled()) {
            return Future.succeededFuture(answer);
          }
          String what = target != null ? target : "silence " + answer.getString("id");
          return io.pulse.store.AuditLog.record(ctx.db.pool(), caller.tenant(), ctx.clock.millis(), caller.actor(),
              action, what, answer.copy())
              .otherwise(e -> {
                LOG.warn("audit row for {} {} by {} not written: {}", action, what, caller.actor(), e.toString());
                return null;
              })
              .map(answer);
        })
        .onSuccess(answer -> {
          if (status == 201) {
            rc.response().putHeader(HttpHeaders.LOCATION, "/api/v1/silences/" + answer.getString("id"));
          }
          json(rc, status, answer);
        })
        .onFailure(e -> failed(rc, e));
  }

  /**
   * POST /api/v1/rules/preview, body {@code {"rule": {...}, "from", "to"}} (or the rule's fields with
   * from and to beside them): replays the stored windows of the range through the rule.
   */
  void preview(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    JsonObject body = Replies.bodyObject(rc);
    JsonObject doc = body.getValue("rule") instanceof JsonObject r ? r : body.copy();
    doc.remove("from");
    doc.remove("to");
    Rule rule = Rule.parse(caller.tenant(), "preview", doc);
    long now = ctx.clock.millis();
    long to = time(body, "to", now, now);
    long from = time(body, "from", to - 3_600_000L, now);
    if (from >= to) {
      throw new IllegalArgumentException("from: must be before to");
    }
    if (to - from > MAX_PREVIEW_MS) {
      throw new IllegalArgumentException("from, to: a preview replays at most 7d");
    }
    if (!ctx.storageEnabled()) {
      error(rc, 503, "a preview replays stored history: storage is off (storage.enabled / PULSE_STORAGE)");
      return;
    }
    long window = ctx.config.stream(rule.stream().name()).windowMs();
    long step = Math.max(1000, (window + 999) / 1000 * 1000); // stored windows are whole seconds at the finest
    // an anomaly rule's detectors warm up on the windows just before the range
    long readFrom = rule.kind() == Rule.Kind.ANOMALY ? from - Replay.WARM_WINDOWS * step : from;
    History.Request req = new History.Request(rule.stream(), readFrom, to, step, rule.filter(), rule.groupBy(), null);
    int maxBins = ctx.config.aggregation().sketchMaxBins();
    PulseConfig.Detect detect = ctx.config.detect();
    ctx.rollups.read(req, History.MAX_ROWS)
        .compose(rows -> history.executeBlocking(() -> {
          RollupScorer scorer = new RollupScorer(s -> RollupScorer.Watch.of(ctx.config, s), detect.alertLevel(),
              Integer.MAX_VALUE); // bounded by the rows read
          List<Window> windows = Replay.windows(rule, req, rows, ctx.codec, maxBins, scorer);
          return Preview.run(rule, windows, from, to).put("step", io.pulse.config.Durations.format(step));
        }, false))
        .onSuccess(answer -> json(rc, 200, answer))
        .onFailure(e -> {
          if (e instanceof RollupStore.TooManyRows) {
            error(rc, 400, e.getMessage());
          } else {
            rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
            error(rc, 503, "history could not be read: " + StoreErrors.describe(e));
          }
        });
  }

  /** A body past the limit of these routes (that of a stored document). */
  void tooLarge(RoutingContext rc) {
    if (rc.statusCode() == 413) {
      error(rc, 413, "the body is larger than " + io.pulse.store.DefinitionStore.MAX_DOC_BYTES / 1024
          + " KiB of JSON");
    } else {
      rc.next();
    }
  }

  private static long time(JsonObject body, String field, long dflt, long now) {
    Object v = body.getValue(field);
    if (v == null) {
      return dflt;
    }
    if (v instanceof String s) {
      return History.time(field, s, now); // as the history API takes it: ISO-8601, or back from now ("15m")
    }
    try {
      if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
        return Times.checked(n.toString(), n.longValue());
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + ": " + e.getMessage());
    }
    throw new IllegalArgumentException(field + ": epoch milliseconds, an ISO-8601 time or a duration back such as 15m");
  }

  private static JsonObject request(RoutingContext rc, String op) {
    return new JsonObject().put("op", op).put("tenant", Callers.of(rc).tenant());
  }

  private static void ask(RoutingContext rc, JsonObject req) {
    rc.vertx().eventBus().<JsonObject>request(Addresses.ALERTS_REQUEST, req, ASK)
        .onSuccess(m -> json(rc, 200, m.body()))
        .onFailure(e -> failed(rc, e));
  }

  /** A refusal from the alert verticle keeps its status; no answer at all is a 503. */
  private static void failed(RoutingContext rc, Throwable e) {
    if (e instanceof ReplyException r && r.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
      error(rc, r.failureCode(), r.getMessage());
    } else {
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      error(rc, 503, "alerting does not answer: " + e.getMessage());
    }
  }
}
