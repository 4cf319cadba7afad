package io.pulse.verticles;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pulse.catalog.StreamCatalog;
import io.pulse.core.Caller;
import io.pulse.core.StreamId;
import io.pulse.ingest.BodyException;
import io.pulse.ingest.BodyFormat;
import io.pulse.ingest.EventParser;
import io.pulse.ingest.Ingestor;
import io.pulse.ingest.ParseResult;
import io.pulse.ingest.Rejection;
import io.pulse.live.SubscriptionSpec;
import io.pulse.store.CatalogStore;
import io.pulse.store.History;
import io.pulse.store.RollupStore;
import io.pulse.store.StoreErrors;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of Pulse: ingest, the live feed (SSE and WebSocket), catalog and quarantine
 * reads, health and metrics. One instance per event loop; each parses on its own loop and
 * owns the live connections it accepted (its {@link LiveHub}).
 *
 * <p>The route table below is meant to read like API.md.
 */
public final class HttpVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(HttpVerticle.class);
  private static final int MAX_ERRORS_LISTED = 100;

  private final PulseContext ctx;
  private final EventParser parser;
  private final Ingestor ingestor;
  private LiveHub hub;
  private HttpServer server;
  /**
   * Merges of stored windows for history answers and since= subscriptions: CPU-heavy for long
   * ranges, so off the event loop, on one named pool shared by both.
   */
  private WorkerExecutor history;

  public HttpVerticle(PulseContext ctx) {
    this.ctx = ctx;
    this.parser = new EventParser(ctx.config.ingest());
    this.ingestor = ctx.ingestor;
  }

  @Override
  public Future<?> start() {
    history = vertx.createSharedWorkerExecutor("pulse-history", 2);
    hub = new LiveHub(vertx, ctx, history);
    Router router = Router.router(vertx);
    BodyHandler body = BodyHandler.create(false).setBodyLimit(ctx.config.ingest().maxBodyBytes());

    // who calls: every API route reads the tenant from this and from nowhere else
    router.route("/api/*").handler(this::resolveCaller);
    // checks that need no body (draining, overload, path, Content-Type and -Length) answer before it is read
    router.post("/api/v1/events").handler(this::checkIngest);
    router.post("/api/v1/events").handler(body).handler(this::ingest);
    router.post("/api/v1/streams/:stream/events").handler(this::checkIngest);
    router.post("/api/v1/streams/:stream/events").handler(body).handler(this::ingest);
    router.get("/api/v1/streams").handler(this::streams);
    router.get("/api/v1/streams/:stream/series").handler(this::series);
    new DefinitionsApi(ctx.storageEnabled() ? ctx.db.pool() : null, ctx.config.storage().queryTimeoutMs(), ctx.clock,
        ctx.quarantine, new DefinitionsApi.Requeue() {
          @Override
          public String check(String tenant, String payload, String stream) {
            return requeueCheck(tenant, payload, stream);
          }

          @Override
          public String ingest(String tenant, String payload, String stream) {
            return requeue(tenant, payload, stream);
          }
        },
        () -> vertx.eventBus().request(Addresses.QUARANTINE_SAVE, "save",
            new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(3000)).mapEmpty())
        .mount(router); // rules, dashboards, quarantine, audit
    router.get("/api/v1/live/sse").handler(this::sse);
    router.get("/api/v1/live/ws").handler(this::websocket);

    router.get("/health/live").handler(rc -> json(rc, 200, new JsonObject().put("status", "up")));
    router.get("/health/ready").handler(this::ready);
    router.get("/metrics").handler(this::metrics);

    router.route("/api/*").handler(rc -> unknownApi(rc, router));
    router.route("/*").handler(StaticHandler.create("webroot").setCachingEnabled(false)
        .setDefaultContentEncoding("UTF-8"));

    // a request whose connection went while it was read (closed by the edge guard with its answer, or by the
    // caller) has nobody to answer: no error log for it
    router.route().failureHandler(rc -> {
      if (rc.response().closed() || rc.failure() instanceof io.vertx.core.http.HttpClosedException) {
        LOG.debug("{} {} ended with its connection: {}", rc.request().method(), rc.request().path(),
            String.valueOf(rc.failure()));
      } else {
        rc.next();
      }
    });
    router.errorHandler(413, this::tooLarge);
    router.errorHandler(400, rc -> error(rc, 400, rc.failure() != null ? rc.failure().getMessage() : "bad request"));
    router.errorHandler(404, rc -> error(rc, 404, "not found: " + rc.request().path()));
    router.errorHandler(405, rc -> error(rc, 405, "method not allowed: " + rc.request().method()));
    router.errorHandler(500, rc -> {
      if (rc.response().closed()) {
        // the connection went (closed by the edge guard, or by the caller) while the request was read
        LOG.debug("request on {} {} ended with its connection: {}", rc.request().method(), rc.request().path(),
            String.valueOf(rc.failure()));
        return;
      }
      LOG.error("unhandled failure on {} {}", rc.request().method(), rc.request().path(), rc.failure());
      error(rc, 500, "internal error; see the server log");
    });

    io.pulse.config.PulseConfig.Edge edge = ctx.config.edge();
    // a WebSocket frame may be as large as a message: LiveHub bounds fragmented messages to the same size
    HttpServerOptions opts = new HttpServerOptions().setHost(ctx.config.http().host())
        .setPort(ctx.config.http().port()).setDecompressionSupported(true).setCompressionSupported(false)
        .setHttp2ClearTextEnabled(false) // HTTP/1.1 only: the edge guard watches HTTP/1.x connections
        // no WebSocket compression: each compressed socket holds zlib state (tens of kB, off the heap, per
        // socket), live messages are small, and without an extension Netty refuses frames with RSV bits (1002)
        .setPerMessageWebSocketCompressionSupported(false).setPerFrameWebSocketCompressionSupported(false)
        .setMaxWebSocketFrameSize(edge.wsMaxMessageBytes()).setMaxWebSocketMessageSize(edge.wsMaxMessageBytes())
        .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, edge.idleTimeoutMs())).setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    return hub.start().compose(v -> vertx.createHttpServer(opts).requestHandler(router)
            .invalidRequestHandler(HttpVerticle::invalidRequest)
            .connectionHandler(conn -> EdgeGuard.install(conn, ctx.edge)).listen())
        .onSuccess(s -> server = s);
  }

  /**
   * A request Netty could not decode (bad request line, URI or headers too long, bad header):
   * answered in JSON like every other error, then the connection is closed (the decoder has lost
   * its place in the stream).
   */
  private static void invalidRequest(io.vertx.core.http.HttpServerRequest req) {
    Throwable cause = req.decoderResult().cause();
    int status;
    String why;
    if (cause instanceof io.netty.handler.codec.http.TooLongHttpLineException) {
      status = 414;
      why = "the request line (method, URI, version) is too long";
    } else if (cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException) {
      status = 431;
      why = "the request headers are too large";
    } else {
      status = 400;
      why = "the request could not be read";
    }
    String detail = cause == null || cause.getMessage() == null ? "" : ": " + EdgeGuard.clip(cause.getMessage(), 200);
    HttpServerResponse res = req.response();
    res.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .putHeader(HttpHeaders.CONNECTION, "close")
        .end(new JsonObject().put("error", why + detail).encode())
        .onComplete(ar -> req.connection().close());
  }

  /** The port actually bound (the configured one, or the one the OS chose for 0). */
  int port() {
    return server.actualPort();
  }

  // ---- caller ----

  /** Resolves the request's caller once ({@link PulseContext#callers}); 401 when it names one that is not valid. */
  private void resolveCaller(RoutingContext rc) {
    Caller caller;
    try {
      caller = ctx.callers.resolve(rc.request()::getHeader, rc.queryParams()::get);
    } catch (IllegalArgumentException e) {
      error(rc, 401, e.getMessage());
      return;
    }
    rc.put(CALLER, caller);
    rc.next();
  }

  /** The caller {@link #resolveCaller} found for this request. */
  static Caller caller(RoutingContext rc) {
    Caller c = rc.get(CALLER);
    return c != null ? c : Caller.ANONYMOUS;
  }

  private static final String CALLER = "pulse.caller";

  // ---- ingest ----

  private void checkIngest(RoutingContext rc) {
    if (ctx.draining.get()) {
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      error(rc, 503, "the server is shutting down; retry against another instance or shortly");
      return;
    }
    if (ctx.overloaded()) {
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
      error(rc, 503, "aggregation is behind; retry in a second");
      return;
    }
    if (ctx.storeFull.get()) {
      long seconds = Math.max(1, (ctx.config.storage().retryMs() + 999) / 1000 + 1);
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
      error(rc, 503, "storage is behind (" + (ctx.storageProblem() != null ? ctx.storageProblem()
          : "the database is slow") + "); " + ctx.storeDepth.get() + " final rollups wait to be written "
          + "(storage.writeQueue); retry in " + seconds + " s");
      return;
    }
    String stream = rc.pathParam("stream");
    if (stream != null && !StreamId.validName(stream)) {
      error(rc, 400, "stream: \"" + stream + "\" in the path does not match [a-z0-9_.-]{1,64}");
      return;
    }
    String len = rc.request().getHeader(HttpHeaders.CONTENT_LENGTH);
    if (len != null) {
      try {
        if (Long.parseLong(len) > ctx.config.ingest().maxBodyBytes()) {
          tooLarge(rc);
          return;
        }
      } catch (NumberFormatException e) {
        error(rc, 400, "Content-Length is not a number");
        return;
      }
    }
    try {
      rc.put("format", BodyFormat.of(rc.request().getHeader(HttpHeaders.CONTENT_TYPE)));
    } catch (BodyException e) {
      error(rc, e.status(), e.getMessage());
      return;
    }
    rc.next();
  }

  private void tooLarge(RoutingContext rc) {
    error(rc, 413, "the body is larger than " + ctx.config.ingest().maxBodyBytes() + " bytes (ingest.maxBodyBytes)");
  }

  private void ingest(RoutingContext rc) {
    long now = ctx.clock.millis();
    String tenant = caller(rc).tenant();
    Buffer buf = rc.body().buffer();
    byte[] bytes = buf == null ? new byte[0] : buf.getBytes();
    ParseResult parsed;
    try {
      parsed = parser.parse(bytes, rc.get("format"), tenant, rc.pathParam("stream"), now);
    } catch (BodyException e) {
      error(rc, e.status(), e.getMessage());
      return;
    }
    Ingestor.Outcome out = ingestor.ingest(parsed, tenant, now, "http");
    ctx.dispatch(vertx.eventBus(), out.batches());
    JsonArray errors = new JsonArray();
    List<Rejection> rej = out.rejections();
    rej.sort(Comparator.comparingInt(Rejection::index));
    for (int i = 0; i < rej.size() && i < MAX_ERRORS_LISTED; i++) {
      errors.add(new JsonObject().put("index", rej.get(i).index()).put("error", rej.get(i).error()));
    }
    JsonObject answer = new JsonObject().put("accepted", out.accepted()).put("rejected", rej.size())
        .put("errors", errors);
    if (rej.size() > MAX_ERRORS_LISTED) {
      answer.put("errorsTruncated", true);
    }
    if (out.late() > 0) {
      answer.put("late", out.late());
    }
    if (out.overflowed() > 0) {
      answer.put("overflowed", out.overflowed()).put("overflowNote", out.overflowNote());
    }
    json(rc, 202, answer);
  }

  // ---- catalog and quarantine ----

  /** The caller's streams seen: the in-memory catalog (this run) merged with the stored one (earlier runs). */
  private void streams(RoutingContext rc) {
    String tenant = caller(rc).tenant();
    Map<String, StreamCatalog.StreamInfo> live = new java.util.TreeMap<>();
    ctx.catalog.all().forEach(s -> {
      if (s.tenant().equals(tenant)) {
        live.put(s.name(), s);
      }
    });
    java.util.TreeSet<String> names = new java.util.TreeSet<>(live.keySet());
    ctx.storedStreams.keySet().forEach(id -> {
      if (id.tenant().equals(tenant)) {
        names.add(id.name());
      }
    });
    JsonArray list = new JsonArray();
    for (String name : names) {
      StreamCatalog.StreamInfo s = live.get(name);
      CatalogStore.Stream stored = ctx.storedStreams.get(StreamId.of(tenant, name));
      CatalogStore.Stream merged = s == null ? stored
          : new CatalogStore.Stream(s.id(), s.dims(), s.valueNames(), s.firstSeen(), s.lastSeen());
      if (s != null && stored != null) {
        merged = stored.merge(merged);
      }
      JsonObject dims = new JsonObject();
      merged.dims().forEach((k, v) -> dims.put(k, new JsonArray(new ArrayList<>(v))));
      JsonObject o = new JsonObject().put("stream", name).put("dims", dims)
          .put("values", new JsonArray(new ArrayList<>(merged.valueNames())))
          .put("rate", s == null ? 0.0 : Math.round(s.rate() * 100) / 100.0);
      if (s != null) {
        o.put("series", s.seriesCount()).put("events", s.events());
      }
      o.put("window", io.pulse.config.Durations.format(ctx.config.stream(name).windowMs()))
          .put("firstSeen", merged.firstSeen()).put("lastSeen", merged.lastSeen()).put("live", s != null);
      list.add(o);
    }
    json(rc, 200, new JsonObject().put("streams", list));
  }

  /** Stored history of a stream, merged to the step asked (API.md "History"). */
  private void series(RoutingContext rc) {
    String name = rc.pathParam("stream");
    if (!StreamId.validName(name)) {
      error(rc, 400, "stream: \"" + name + "\" in the path does not match [a-z0-9_.-]{1,64}");
      return;
    }
    StreamId stream = caller(rc).stream(name);
    History.Request req;
    try {
      req = History.parse(stream, toMap(rc.queryParams()), ctx.clock.millis());
    } catch (IllegalArgumentException e) {
      error(rc, 400, e.getMessage());
      return;
    }
    if (!ctx.storageEnabled()) {
      error(rc, 503, "history is not kept: storage is off (storage.enabled / PULSE_STORAGE)");
      return;
    }
    if (ctx.catalog.get(stream) == null && !ctx.storedStreams.containsKey(stream)) {
      error(rc, 404, "no stream named " + name + " has been seen");
      return;
    }
    int maxBins = ctx.config.aggregation().sketchMaxBins();
    ctx.rollups.read(req, History.MAX_ROWS)
        .compose(rows -> history.executeBlocking(() -> History.render(req, rows, ctx.codec, maxBins), false))
        .onSuccess(body -> json(rc, 200, withWarnings(body, stream, req)))
        .onFailure(e -> historyFailed(rc, e));
  }

  /** Warns, as the live feed does, about group-by dims, filter dims and metrics the stream has never had. */
  private JsonObject withWarnings(JsonObject body, StreamId id, History.Request req) {
    String stream = id.name();
    java.util.Set<String> dims = new java.util.TreeSet<>();
    java.util.Set<String> values = new java.util.TreeSet<>();
    StreamCatalog.StreamInfo live = ctx.catalog.get(id);
    if (live != null) {
      dims.addAll(live.dims().keySet());
      values.addAll(live.valueNames());
    }
    io.pulse.store.CatalogStore.Stream stored = ctx.storedStreams.get(id);
    if (stored != null) {
      dims.addAll(stored.dims().keySet());
      values.addAll(stored.valueNames());
    }
    JsonArray warnings = new JsonArray();
    for (String g : req.groupBy()) {
      if (!dims.contains(g)) {
        warnings.add("groupBy: stream " + stream + " has no dim \"" + g + "\" (it has " + dims + ")");
      }
    }
    for (String f : req.filter().keySet()) {
      if (!dims.contains(f)) {
        warnings.add("filter: stream " + stream + " has no dim \"" + f + "\" (it has " + dims + ")");
      }
    }
    if (req.metrics() != null) {
      for (String m : req.metrics()) {
        if (!values.contains(m)) {
          warnings.add("metric: stream " + stream + " has no value \"" + m + "\" (it has " + values + ")");
        }
      }
    }
    return warnings.isEmpty() ? body : body.put("warnings", warnings);
  }

  private void historyFailed(RoutingContext rc, Throwable e) {
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

  /** A path of the API with another method: 405 with the methods it has; else 404. */
  private static void unknownApi(RoutingContext rc, Router router) {
    String path = rc.request().path();
    java.util.Set<String> allowed = new java.util.TreeSet<>();
    for (io.vertx.ext.web.Route r : router.getRoutes()) {
      String pattern = r.getPath();
      if (pattern == null || r.methods() == null || r.methods().isEmpty() || pattern.endsWith("*")) {
        continue;
      }
      String regex = java.util.regex.Pattern.quote(pattern).replaceAll(":[A-Za-z]+", "\\\\E[^/]+\\\\Q");
      if (path.matches(regex)) {
        r.methods().forEach(m -> allowed.add(m.name()));
      }
    }
    if (allowed.isEmpty()) {
      error(rc, 404, "no such endpoint: " + rc.request().method() + " " + path);
    } else {
      rc.response().putHeader(HttpHeaders.ALLOW, String.join(", ", allowed));
      error(rc, 405, rc.request().method() + " is not allowed on " + path + "; it takes " + String.join(", ", allowed));
    }
  }

  /** Puts one quarantined event through ingest again: null when accepted, else why not. */
  /** A quarantined payload parsed again as one event: the parse, or why it is not one valid event. */
  private Object parseOne(String tenant, String payload, String stream, long now) {
    ParseResult parsed;
    try {
      parsed = parser.parse(payload.getBytes(StandardCharsets.UTF_8), BodyFormat.JSON, tenant, stream, now);
    } catch (BodyException e) {
      return e.getMessage();
    }
    if (!parsed.rejections().isEmpty()) {
      return parsed.rejections().get(0).error();
    }
    if (parsed.events().size() != 1) {
      return "the stored payload holds " + parsed.events().size() + " events, not one";
    }
    return parsed;
  }

  /** Whether a quarantined event would pass validation now: null if so, else why not. Ingests nothing. */
  private String requeueCheck(String tenant, String payload, String stream) {
    Object p = parseOne(tenant, payload, stream, ctx.clock.millis());
    return p instanceof String ? (String) p : null;
  }

  /** Puts one quarantined event through ingest again: null when accepted, else why not. */
  private String requeue(String tenant, String payload, String stream) {
    long now = ctx.clock.millis();
    Object p = parseOne(tenant, payload, stream, now);
    if (p instanceof String) {
      return (String) p;
    }
    Ingestor.Outcome out = ingestor.ingest((ParseResult) p, tenant, now, "requeue");
    ctx.dispatch(vertx.eventBus(), out.batches());
    if (!out.rejections().isEmpty()) {
      return out.rejections().get(0).error();
    }
    return out.accepted() == 1 ? null : "late again: its window closed long ago (quarantined anew)";
  }

  // ---- live ----

  private void sse(RoutingContext rc) {
    SubscriptionSpec spec;
    try {
      spec = SubscriptionSpec.fromQuery(caller(rc).tenant(), toMap(rc.queryParams()));
    } catch (RuntimeException e) { // IllegalArgumentException; anything else is a parameter it could not read too
      error(rc, 400, e instanceof IllegalArgumentException ? e.getMessage()
          : "a parameter could not be read: " + EdgeGuard.clip(String.valueOf(e.getMessage()), 200));
      return;
    }
    if (ctx.draining.get()) {
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      error(rc, 503, "the server is shutting down");
      return;
    }
    String last = rc.request().getHeader("Last-Event-ID");
    if (last == null) {
      last = rc.queryParams().get("lastEventId");
    }
    HttpServerResponse res = rc.response().setChunked(true)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").putHeader("X-Accel-Buffering", "no");
    res.write("retry: 2000\n\n");
    hub.accept(res, rc.request().connection(), spec, last);
  }

  private void websocket(RoutingContext rc) {
    if (!"websocket".equalsIgnoreCase(rc.request().getHeader(HttpHeaders.UPGRADE))) {
      error(rc, 400, "this endpoint speaks WebSocket: open it with a WebSocket client (Upgrade: websocket), "
          + "or use /api/v1/live/sse for Server-Sent Events");
      return;
    }
    if (ctx.draining.get()) {
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      error(rc, 503, "the server is shutting down");
      return;
    }
    Caller caller = caller(rc);
    rc.request().toWebSocket().onSuccess(ws -> hub.accept(ws, caller))
        .onFailure(e -> {
          if (!rc.response().ended()) {
            error(rc, 400, "WebSocket upgrade failed: " + e.getMessage());
          }
        });
  }

  // ---- operations ----

  /**
   * 503 while draining or while any component is down (the reasons joined in {@code reason}); 200
   * otherwise, with {@code "status":"degraded"} and the problems when something works but lost or
   * refused data an operator should know of.
   */
  private void ready(RoutingContext rc) {
    if (ctx.draining.get()) {
      json(rc, 503, new JsonObject().put("status", "draining"));
      return;
    }
    List<io.pulse.core.Health.Problem> problems = ctx.health.problems();
    JsonArray list = new JsonArray();
    for (io.pulse.core.Health.Problem p : problems) {
      list.add(new JsonObject().put("component", p.component()).put("level", p.level().name().toLowerCase())
          .put("reason", p.reason()).put("since", p.since()));
    }
    List<String> down = ctx.health.reasons(io.pulse.core.Health.Level.DOWN);
    if (!down.isEmpty()) {
      JsonObject body = new JsonObject().put("status", "not ready").put("reason", String.join("; ", down))
          .put("problems", list);
      if (ctx.health.get("storage") != null) {
        body.put("queued", ctx.storeDepth.get());
      }
      json(rc, 503, body);
    } else if (!problems.isEmpty()) {
      json(rc, 200, new JsonObject().put("status", "degraded").put("problems", list));
    } else {
      json(rc, 200, new JsonObject().put("status", "ready"));
    }
  }

  private void metrics(RoutingContext rc) {
    if (ctx.registry instanceof PrometheusMeterRegistry) {
      rc.response().putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
          .end(((PrometheusMeterRegistry) ctx.registry).scrape());
    } else {
      error(rc, 404, "metrics are not enabled");
    }
  }

  // ---- helpers ----

  private static Map<String, List<String>> toMap(MultiMap m) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String name : m.names()) {
      out.put(name, m.getAll(name));
    }
    return out;
  }

  static void json(RoutingContext rc, int status, JsonObject body) {
    if (rc.response().ended()) {
      return;
    }
    rc.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(body.encode());
  }

  static void error(RoutingContext rc, int status, String message) {
    json(rc, status, new JsonObject().put("error", message));
  }

  /** Closes the live connections of this instance, then the listener, letting requests in flight finish. */
  @Override
  public Future<?> stop() {
    if (hub != null) {
      hub.stop();
    }
    if (history != null) {
      history.close();
    }
    return server == null ? Future.succeededFuture() : server.shutdown(2, TimeUnit.SECONDS);
  }
}
