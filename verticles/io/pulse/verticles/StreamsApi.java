package io.pulse.verticles;

import static io.pulse.verticles.Replies.error;
import static io.pulse.verticles.Replies.json;
import static io.pulse.verticles.Replies.toMap;

import io.pulse.catalog.StreamCatalog;
import io.pulse.catalog.StreamForgetter;
import io.pulse.core.Caller;
import io.pulse.core.StreamId;
import io.pulse.http.HistoryWarnings;
import io.pulse.ingest.EventParser;
import io.pulse.store.AuditLog;
import io.pulse.store.CatalogStore;
import io.pulse.store.DefinitionStore;
import io.pulse.store.History;
import io.pulse.store.RollupStore;
import io.pulse.store.StoreErrors;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams and their history (API.md "History and definitions"): the catalogue, stored windows
 * merged to a step, and deleting a stream.
 */
final class StreamsApi {

  private static final Logger LOG = LoggerFactory.getLogger(StreamsApi.class);

  private final PulseContext ctx;
  /** Merges of stored windows: CPU-heavy for long ranges, so off the event loop (shared with the live feed). */
  private final WorkerExecutor history;

  StreamsApi(PulseContext ctx, WorkerExecutor history) {
    this.ctx = ctx;
    this.history = history;
  }

  /** Streams seen: the in-memory catalog (this run) merged with the stored one (earlier runs). */
  void streams(RoutingContext rc) {
    json(rc, 200, Callers.visible(rc, io.pulse.catalog.StreamListing.json(Callers.of(rc).tenant(), ctx.catalog.all(),
        ctx.storedStreams.snapshot(), name -> ctx.config.stream(name).windowMs()), "streams"));
  }


  /** Stored history of a stream, merged to the step asked (API.md "History"). */
  void series(RoutingContext rc) {
    String name = rc.pathParam("stream");
    if (!StreamId.validName(name)) {
      error(rc, 400, "stream: \"" + name + "\" in the path does not match [a-z0-9_.-]{1,64}");
      return;
    }
    StreamId stream = Callers.of(rc).stream(name);
    History.Request req;
    try {
      req = History.parse(stream, toMap(rc.queryParams()), ctx.clock.millis());
    } catch (IllegalArgumentException e) {
      error(rc, 400, e.getMessage());
      return;
    }
    if (!historyReadable(rc, stream)) {
      return;
    }
    history(req).onSuccess(body -> json(rc, 200, body)).onFailure(e -> historyFailed(rc, e));
  }

  /**
   * Whether the history of {@code stream} can be read; if not, answered here (503 with storage off,
   * 404 for a stream never seen). Also /api/v1/query's check ({@link QueryApi}).
   */
  boolean historyReadable(RoutingContext rc, StreamId stream) {
    if (!ctx.storageEnabled()) {
      error(rc, 503, "history is not kept: storage is off (storage.enabled / PULSE_STORAGE)");
      return false;
    }
    if (ctx.catalog.get(stream) == null && !ctx.storedStreams.containsKey(stream)) {
      error(rc, 404, "no stream named " + stream.name() + " has been seen");
      return false;
    }
    return true;
  }

  /**
   * The stored history of {@code req} as /series answers it (merged on the history pool, with its
   * warnings); also what /api/v1/query derives its figures from ({@link QueryApi}).
   */
  Future<JsonObject> history(History.Request req) {
    int maxBins = ctx.config.aggregation().sketchMaxBins();
    return ctx.rollups.read(req, History.MAX_ROWS)
        .compose(rows -> history.executeBlocking(() -> History.render(req, rows, ctx.codec, maxBins), false))
        .map(body -> withWarnings(body, req.stream(), req));
  }

  /** Stored windows whose anomaly score reached a level (issue 12): {@link io.pulse.store.Anomalies}. */
  void anomalies(RoutingContext rc) {
    String name = rc.pathParam("stream");
    if (!StreamId.validName(name)) {
      error(rc, 400, "stream: \"" + io.pulse.http.QueryParams.shown(name) + "\" in the path does not match [a-z0-9_.-]{1,64}");
      return;
    }
    StreamId stream = Callers.of(rc).stream(name);
    io.pulse.store.Anomalies.Request req;
    try {
      req = io.pulse.store.Anomalies.parse(stream, toMap(rc.queryParams()), ctx.clock.millis(),
          ctx.config.storage().retention());
    } catch (IllegalArgumentException e) {
      error(rc, 400, e.getMessage());
      return;
    }
    if (!ctx.storageEnabled()) {
      error(rc, 503, "anomalies are read from stored history: storage is off (storage.enabled / PULSE_STORAGE)");
      return;
    }
    if (ctx.catalog.get(stream) == null && !ctx.storedStreams.containsKey(stream)) {
      error(rc, 404, "no stream named " + name + " has been seen");
      return;
    }
    Future<List<io.pulse.store.Anomalies.Hit>> read = io.pulse.store.Anomalies.read(ctx.db.pool(), req);
    StoreErrors.bounded(read, ctx.config.storage().queryTimeoutMs())
        .onSuccess(hits -> json(rc, 200, io.pulse.store.Anomalies.render(req, hits)))
        .onFailure(e -> historyFailed(rc, e));
  }

  /** The stream's anomaly detectors and their warm-up: {@link io.pulse.anomaly.RollupScorer#status}. */
  void detectors(RoutingContext rc) {
    StreamId stream = detectedStream(rc);
    if (stream == null) {
      return;
    }
    int limit = 1000;
    String l = rc.queryParams().get("limit");
    if (l != null) {
      if (!io.pulse.core.Times.digits(l) || l.length() > 5 || Integer.parseInt(l) < 1 || Integer.parseInt(l) > 10_000) {
        error(rc, 400, "limit: a whole number from 1 to 10000, got " + io.pulse.core.Times.quote(l));
        return;
      }
      limit = Integer.parseInt(l);
    }
    Replies.reply(rc, rc.vertx().eventBus().<JsonObject>request(Addresses.DETECT_STATUS, new JsonObject()
        .put("tenant", stream.tenant()).put("stream", stream.name()).put("limit", limit)).map(m -> m.body()), 200,
        ctx.config.storage().queryTimeoutMs());
  }

  /**
   * "Not an anomaly" on a flagged window ({@code {"start": ms, "series": {...}}}, series optional:
   * every series of the stream flagged at that window): its detectors take such a value as normal
   * from now on. Audited when storage is on. 404 when no detector had flagged that window.
   */
  void feedback(RoutingContext rc) {
    StreamId stream = detectedStream(rc);
    if (stream == null) {
      return;
    }
    JsonObject body;
    try {
      body = rc.body().asJsonObject();
    } catch (RuntimeException e) {
      body = null;
    }
    if (body == null) {
      error(rc, 400, "the body must be a JSON object {\"start\": <window start, epoch ms>, \"series\": {...}}");
      return;
    }
    Object start = body.getValue("start");
    if (!(start instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
        || !io.pulse.core.Times.inRange(n.longValue())) {
      error(rc, 400, "start: the window's start in epoch milliseconds is required");
      return;
    }
    Object series = body.getValue("series");
    if (series != null && (!(series instanceof JsonObject)
        || ((JsonObject) series).stream().anyMatch(e -> !(e.getValue() instanceof String)))) {
      error(rc, 400, "series: an object of dim name -> value (strings), or absent for every series");
      return;
    }
    Caller caller = Callers.of(rc);
    JsonObject ask = new JsonObject().put("tenant", stream.tenant()).put("stream", stream.name())
        .put("series", series).put("start", ((Number) start).longValue());
    Future<JsonObject> done = rc.vertx().eventBus().<JsonObject>request(Addresses.DETECT_FEEDBACK, ask)
        .map(m -> m.body()).compose(r -> {
          if (r.getInteger("detectors") == 0) {
            return Future.failedFuture(new DefinitionStore.Refused(404, "no detector of stream " + stream.name()
                + " flagged a window starting at " + start + (series == null ? "" : " for that series")
                + " lately (the last 8 flagged windows of each are remembered)"));
          }
          JsonObject answer = ask.copy().put("detectors", r.getInteger("detectors"));
          answer.remove("tenant");
          if (!ctx.storageEnabled()) {
            return Future.succeededFuture(answer);
          }
          return AuditLog.record(ctx.db.pool(), stream.tenant(), ctx.clock.millis(), caller.actor(),
              "anomaly.not-anomaly", stream.name(), answer.copy()).map(answer);
        });
    Replies.reply(rc, done, 200, ctx.config.storage().queryTimeoutMs());
  }

  private StreamId detectedStream(RoutingContext rc) {
    String name = rc.pathParam("stream");
    if (!StreamId.validName(name)) {
      error(rc, 404, "no stream named " + io.pulse.http.QueryParams.shown(name)
          + " (stream names match [a-z0-9_.-]{1,64})");
      return null;
    }
    if (!ctx.config.detect().enabled()) {
      error(rc, 503, "anomaly detection is off (detect.enabled / PULSE_DETECT)");
      return null;
    }
    return Callers.of(rc).stream(name);
  }

  /** Warns, as the live feed does, about group-by dims, filter dims and metrics the stream has never had. */
  private JsonObject withWarnings(JsonObject body, StreamId stream, History.Request req) {
    java.util.Set<String> dims = new java.util.TreeSet<>();
    java.util.Set<String> values = new java.util.TreeSet<>();
    StreamCatalog.StreamInfo live = ctx.catalog.get(stream);
    if (live != null) {
      dims.addAll(live.dims().keySet());
      values.addAll(live.valueNames());
    }
    CatalogStore.Stream stored = ctx.storedStreams.get(stream);
    if (stored != null) {
      dims.addAll(stored.dims().keySet());
      values.addAll(stored.valueNames());
    }
    List<String> warnings = HistoryWarnings.of(stream.name(), dims, values, req);
    return warnings.isEmpty() ? body : body.put("warnings", new JsonArray(warnings));
  }

  /** A failed history read as its 400 or 503 (also /api/v1/query's). */
  void historyFailed(RoutingContext rc, Throwable e) {
    if (e instanceof RollupStore.TooManyRows) {
      error(rc, 400, e.getMessage());
    } else if (StoreErrors.transientFailure(e)) {
      // down, busy or hung (no answer within storage.queryTimeoutMs): say so at once, never hang
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      error(rc, 503, "storage: the database does not answer: " + StoreErrors.describe(e));
    } else if (StoreErrors.dataException(e)) {
      error(rc, 400, "a parameter holds what the database cannot take: " + StoreErrors.describe(e));
    } else {
      LOG.error("history read of {} failed", rc.request().uri(), e);
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      error(rc, 503, "history could not be read: " + StoreErrors.describe(e) + "; see the server log");
    }
  }

  /**
   * Deletes a stream: its in-memory catalogue entry and views first (so the catalogue sync cannot
   * store it again), then, in one transaction, its stored windows, series rows and catalogue row
   * with an audit entry. Its quarantined events stay. 404 when the stream is unknown both live and
   * stored. Events that arrive afterwards start it afresh.
   */
  void delete(RoutingContext rc) {
    Caller caller = Callers.of(rc);
    String stream = rc.pathParam("stream");
    if (!StreamId.validName(stream)) {
      error(rc, 404, "no stream named " + io.pulse.http.QueryParams.shown(stream)
          + " (stream names match [a-z0-9_.-]{1,64})");
      return;
    }
    long now = ctx.clock.millis();
    StreamForgetter.Outcome forgot = StreamForgetter.forget(ctx.catalog, ctx.views, caller.stream(stream), now);
    if (forgot == StreamForgetter.Outcome.BUSY) {
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
      error(rc, 503, "events of stream " + stream + " are being routed right now; retry in a second");
      return;
    }
    boolean live = forgot == StreamForgetter.Outcome.FORGOTTEN;
    JsonObject deleted = new JsonObject().put("live", live);
    if (!ctx.storageEnabled()) {
      rc.vertx().eventBus().publish(Addresses.DETECT_FORGET, new JsonObject().put("tenant", caller.tenant())
          .put("stream", stream));
      if (!live) {
        error(rc, 404, "no stream named " + stream + " is known");
        return;
      }
      json(rc, 200, new JsonObject().put("stream", stream).put("deleted", deleted).put("stored", false));
      return;
    }
    rc.vertx().eventBus().publish(Addresses.DETECT_FORGET, new JsonObject().put("tenant", caller.tenant())
        .put("stream", stream));
    Future<JsonObject> done = ctx.db.pool().withTransaction(conn -> ctx.rollups.deleteStream(conn, caller.tenant(),
            stream)
        .compose(history -> io.pulse.store.DetectorStore.delete(conn, caller.tenant(), stream).map(history))
        .compose(history -> CatalogStore.delete(conn, caller.tenant(), stream).compose(catalogued -> {
          if (!live && !catalogued && history.series() == 0) {
            return Future.failedFuture(new DefinitionStore.Refused(404, "no stream named " + stream + " is known"));
          }
          JsonObject windows = new JsonObject();
          history.windows().forEach(windows::put);
          deleted.put("catalogue", catalogued).put("series", history.series()).put("windows", windows)
              .put("windowsTotal", history.windowsTotal());
          return AuditLog.record(conn, caller.tenant(), now, caller.actor(), "stream.delete", stream,
              deleted.copy()).map(v -> new JsonObject().put("stream", stream).put("deleted", deleted)
              .put("stored", true));
        })))
        .compose(answer -> rc.vertx().eventBus().request(Addresses.STORE_FORGET_STREAM,
            new JsonObject().put("tenant", caller.tenant()).put("stream", stream)).map(answer));
    Replies.reply(rc, done, 200, ctx.config.storage().queryTimeoutMs());
  }
}
