package io.pulse.verticles;

import io.pulse.store.DefinitionStore;
import io.pulse.store.DefinitionStore.Kind;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.sqlclient.Pool;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of Pulse: one server whose routes are {@link Routes#TABLE}, handled by adapters
 * by area (ingest, streams and history, the live feed, definitions, quarantine and audit,
 * operations). One instance per event loop; each parses on its own loop and owns the live
 * connections it accepted (its {@link LiveHub}).
 */
public final class HttpVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(HttpVerticle.class);

  private final PulseContext ctx;
  private LiveHub hub;
  private HttpServer server;
  /**
   * Merges of stored windows for history answers and since= subscriptions: CPU-heavy for long
   * ranges, so off the event loop, on one named pool shared by both.
   */
  private WorkerExecutor history;
  private IngestApi ingest;

  public HttpVerticle(PulseContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Future<?> start() {
    history = vertx.createSharedWorkerExecutor("pulse-history", 2);
    hub = new LiveHub(vertx, ctx, history);
    Router router = Router.router(vertx);
    Routes.mount(router, adapters(router), () -> ctx.callers);
    handleFailures(router);
    return hub.start().compose(v -> listen(router)).onSuccess(s -> server = s);
  }

  /** The handler objects of this instance. */
  private Routes.Adapters adapters(Router router) {
    Pool pool = ctx.storageEnabled() ? ctx.db.pool() : null;
    long timeoutMs = ctx.config.storage().queryTimeoutMs();
    ingest = new IngestApi(vertx, ctx);
    QuarantineApi quarantine = new QuarantineApi(pool, timeoutMs, ctx.clock, ctx.quarantine, ingest,
        () -> vertx.eventBus().request(Addresses.QUARANTINE_SAVE, "save", new DeliveryOptions().setSendTimeout(3000))
            .mapEmpty());
    return new Routes.Adapters(ingest, new StreamsApi(ctx, history), new LiveApi(ctx, hub),
        new DefinitionsApi(Kind.RULE, pool, timeoutMs, ctx.clock),
        new DefinitionsApi(Kind.DASHBOARD, pool, timeoutMs, ctx.clock), quarantine, new OpsApi(ctx, router),
        BodyHandler.create(false).setBodyLimit(ctx.config.ingest().maxBodyBytes()),
        BodyHandler.create(false).setBodyLimit(DefinitionStore.MAX_DOC_BYTES + 4096), new AlertsApi(ctx, history),
        new WebhooksApi(vertx, ctx), new ScoringApi(ctx), new TokensApi(vertx, ctx));
  }

  /** Every failure a route did not answer becomes a JSON error here. */
  private void handleFailures(Router router) {
    // a request whose connection went while it was read (closed by the edge guard with its answer, or by the
    // caller) has nobody to answer: no error log for it
    router.route().failureHandler(rc -> {
      if (rc.response().closed() || rc.failure() instanceof HttpClosedException) {
        LOG.debug("{} {} ended with its connection: {}", rc.request().method(), rc.request().path(),
            String.valueOf(rc.failure()));
      } else {
        rc.next();
      }
    });
    router.errorHandler(413, rc -> Replies.error(rc, 413, "the body is larger than "
        + ctx.config.ingest().maxBodyBytes() + " bytes (ingest.maxBodyBytes)"));
    router.errorHandler(400, rc -> Replies.error(rc, 400,
        rc.failure() != null ? rc.failure().getMessage() : "bad request"));
    router.errorHandler(404, rc -> Replies.error(rc, 404, "not found: " + rc.request().path()));
    router.errorHandler(405, rc -> Replies.error(rc, 405, "method not allowed: " + rc.request().method()));
    router.errorHandler(500, rc -> failed(rc));
  }

  private static void failed(RoutingContext rc) {
    if (rc.response().closed()) {
      // the connection went (closed by the edge guard, or by the caller) while the request was read
      LOG.debug("request on {} {} ended with its connection: {}", rc.request().method(), rc.request().path(),
          String.valueOf(rc.failure()));
      return;
    }
    LOG.error("unhandled failure on {} {}", rc.request().method(), rc.request().path(), rc.failure());
    Replies.error(rc, 500, "internal error; see the server log");
  }

  /** Opens the listener: host and port from http.host / http.port, the edge guard on every connection. */
  private Future<HttpServer> listen(Router router) {
    io.pulse.config.PulseConfig.Edge edge = ctx.config.edge();
    // a WebSocket frame may be as large as a message: LiveHub bounds fragmented messages to the same size
    HttpServerOptions opts = new HttpServerOptions().setHost(ctx.config.http().host())
        // port 0: one free port chosen by the OS, shared by every instance (Vert.x shares a negative port's socket)
        .setPort(ctx.config.http().port() == 0 ? -1 : ctx.config.http().port())
        .setDecompressionSupported(true).setCompressionSupported(false)
        .setHttp2ClearTextEnabled(false) // HTTP/1.1 only: the edge guard watches HTTP/1.x connections
        // no WebSocket compression: each compressed socket holds zlib state (tens of kB, off the heap, per
        // socket), live messages are small, and without an extension Netty refuses frames with RSV bits (1002)
        .setPerMessageWebSocketCompressionSupported(false).setPerFrameWebSocketCompressionSupported(false)
        .setMaxWebSocketFrameSize(edge.wsMaxMessageBytes()).setMaxWebSocketMessageSize(edge.wsMaxMessageBytes())
        .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, edge.idleTimeoutMs())).setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    return vertx.createHttpServer(opts).requestHandler(router)
        .invalidRequestHandler(OpsApi::invalidRequest)
        .connectionHandler(conn -> EdgeGuard.install(conn, ctx.edge)).listen();
  }

  /**
   * Completes once this instance has no request body being taken in; for a stop, after draining is
   * set. Runs on this instance's event loop (its own context), like everything of it.
   */
  Future<Void> quiet() {
    io.vertx.core.Promise<Void> p = io.vertx.core.Promise.promise();
    context.runOnContext(v -> (ingest == null ? Future.<Void>succeededFuture() : ingest.quiet()).onComplete(p));
    return p.future();
  }

  /** The port actually bound (the configured one, or the one the OS chose for 0). */
  int port() {
    return server.actualPort();
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
