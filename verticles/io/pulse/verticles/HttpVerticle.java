package io.pulse.verticles;

import io.pulse.store.DefinitionStore;
import io.pulse.store.DefinitionStore.Kind;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpConnection;
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
    // before every route: HTTP/2 requests meet the connection cap and the body budget, every answer gets the
    // security headers, and the API is closed to other sites' pages (CORS for the allowed ones)
    BrowserPolicy browsers = new BrowserPolicy(ctx.config);
    router.route().handler(this::http2Edge);
    router.route().handler(browsers::headers);
    router.route("/api/v1/*").handler(browsers::origins);
    Routes.mount(router, adapters(router), () -> DisplayScoping.narrowing(vertx, ctx.auth, ctx.displayScopes), ctx.edge);
    handleFailures(router);
    OpsApi.readAhead(vertx); // the page's files in memory and gzipped before the first screen asks
    return hub.start().compose(v -> listen(router)).onSuccess(s -> server = s);
  }

  /**
   * What the edge guard does for HTTP/1.x connections at the Netty level, done here for HTTP/2 streams:
   * a request on a connection opened past http.maxConnections is answered 503 and the connection shut;
   * a request that may carry a body reserves it from the shared body budget (ingest.maxBufferedBodyBytes:
   * what it declares, or ingest.maxBodyBytes when it declares nothing) until its answer ends or its stream
   * goes, and is answered 503 with Retry-After when it does not fit; a body that stops arriving
   * (http.bodyTimeoutMs without a byte) is answered 408 and its stream reset, as HTTP/1.x connections are.
   */
  private void http2Edge(RoutingContext rc) {
    if (rc.request().version() != io.vertx.core.http.HttpVersion.HTTP_2) {
      rc.next();
      return;
    }
    HttpConnection conn = rc.request().connection();
    if (!EdgeGuard.refusedHttp2(conn, ctx.edge)) {
      long bytes = http2BodyReservation(rc);
      if (bytes > 0 && !ctx.edge.bodies.tryReserve(bytes)) {
        ctx.edge.refusedBodies.increment();
        answer(rc, io.pulse.http.EdgeAnswer.bodyBudget(ctx.edge.bodies.capacity()));
        return;
      }
      if (bytes > 0) {
        java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean(true);
        rc.addEndHandler(ar -> {
          if (held.getAndSet(false)) {
            ctx.edge.bodies.release(bytes);
          }
        });
        if (!rc.request().isEnded()) {
          watchHttp2Body(rc);
        }
      }
      rc.next();
      return;
    }
    rc.response().endHandler(v -> conn.shutdown(1, TimeUnit.SECONDS));
    answer(rc, io.pulse.http.EdgeAnswer.connectionCap(ctx.edge.connections.max()));
  }

  /**
   * Answers 408 and resets the stream when an HTTP/2 request's body gets no byte for
   * http.bodyTimeoutMs (checked a few times per timeout on this event loop, by the bytes read so far).
   */
  private void watchHttp2Body(RoutingContext rc) {
    io.vertx.core.http.HttpServerRequest req = rc.request();
    long timeout = ctx.config.edge().bodyTimeoutMs();
    long[] last = {req.bytesRead(), ctx.clock.millis()};
    long id = vertx.setPeriodic(Math.max(10, Math.min(1000, timeout / 4)), t -> {
      if (req.isEnded() || rc.response().headWritten() || rc.response().closed()) {
        vertx.cancelTimer(t); // the body came, or an answer began without it: nothing to time out
        return;
      }
      long read = req.bytesRead();
      long now = ctx.clock.millis();
      if (read != last[0]) {
        last[0] = read;
        last[1] = now;
      } else if (now - last[1] >= timeout) {
        vertx.cancelTimer(t);
        ctx.edge.bodyTimeouts.increment();
        answer(rc, io.pulse.http.EdgeAnswer.bodyTimeout(timeout))
            .onComplete(ar -> rc.response().reset(0)); // NO_ERROR: the answer is given, send no more of the body
      }
    });
    rc.addEndHandler(ar -> vertx.cancelTimer(id));
  }

  /** Bytes an HTTP/2 request's body may take: its Content-Length, or the largest body when it has none and may send one. */
  private long http2BodyReservation(RoutingContext rc) {
    long max = ctx.config.ingest().maxBodyBytes();
    String declared = rc.request().getHeader(io.vertx.core.http.HttpHeaders.CONTENT_LENGTH);
    if (declared != null) {
      try {
        return Math.min(Math.max(0, Long.parseLong(declared.trim())), max);
      } catch (NumberFormatException e) {
        return max;
      }
    }
    io.vertx.core.http.HttpMethod m = rc.request().method();
    boolean mayHaveBody = m == io.vertx.core.http.HttpMethod.POST || m == io.vertx.core.http.HttpMethod.PUT
        || m == io.vertx.core.http.HttpMethod.PATCH;
    return mayHaveBody && !rc.request().isEnded() ? max : 0;
  }

  private static io.vertx.core.Future<Void> answer(RoutingContext rc, io.pulse.http.EdgeAnswer a) {
    if (a.retryAfter() != null) {
      rc.response().putHeader(io.vertx.core.http.HttpHeaders.RETRY_AFTER, a.retryAfter());
    }
    return rc.response().setStatusCode(a.status()).putHeader(io.vertx.core.http.HttpHeaders.CONTENT_TYPE, "application/json")
        .end(io.vertx.core.buffer.Buffer.buffer(a.json()));
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
        new DefinitionsApi(Kind.RULE, pool, timeoutMs, ctx.clock, ctx.displayScopes),
        new DefinitionsApi(Kind.DASHBOARD, pool, timeoutMs, ctx.clock, ctx.displayScopes),
        new DefinitionsApi(Kind.PLAYLIST, pool, timeoutMs, ctx.clock, ctx.displayScopes), quarantine, new OpsApi(ctx, router),
        BodyHandler.create(false).setBodyLimit(ctx.config.ingest().maxBodyBytes()),
        BodyHandler.create(false).setBodyLimit(DefinitionStore.MAX_DOC_BYTES + 4096), new AlertsApi(ctx, history),
        new WebhooksApi(vertx, ctx), new ScoringApi(ctx), new TokensApi(vertx, ctx), new QueryApi(ctx, history));
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

  /**
   * Opens the listener: host and port from http.host / http.port, the edge guard on every
   * connection; with TLS ({@code tls.*}), the OpenSSL engine, the configured TLS versions and HTTP/2
   * by ALPN ({@link TlsServer#apply}).
   */
  /** gzip level of API answers (1 fastest .. 9 smallest): 4 gives most of 6's size at less CPU. */
  static final int COMPRESSION_LEVEL = 4;
  /** Answers smaller than this (an ingest's 202, most errors) are never compressed. */
  static final int COMPRESSION_MIN_BYTES = 1024;

  private Future<HttpServer> listen(Router router) {
    io.pulse.config.PulseConfig.Edge edge = ctx.config.edge();
    // a WebSocket frame may be as large as a message: LiveHub bounds fragmented messages to the same size
    HttpServerOptions opts = new HttpServerOptions().setHost(ctx.config.http().host())
        // port 0: one free port chosen by the OS, shared by every instance (Vert.x shares a negative port's socket)
        .setPort(ctx.config.http().port() == 0 ? -1 : ctx.config.http().port())
        .setDecompressionSupported(true)
        // gzip for answers of 1 kB and more to clients that ask for it (a /series history, the API document,
        // the dashboards list): the UI's files come gzipped already (StaticFiles), the live feeds say
        // Content-Encoding: identity (SSE) or are not HTTP answers (WebSocket), ingest answers are smaller
        .setCompressionSupported(true).setCompressionLevel(COMPRESSION_LEVEL)
        .setCompressionContentSizeThreshold(COMPRESSION_MIN_BYTES)
        // no cleartext HTTP/2 (h2c): HTTP/2 only over TLS, by ALPN, where the edge guard caps its connections
        // (EdgeGuard.capHttp2) and Vert.x's HTTP/2 settings bound what one of them holds
        .setHttp2ClearTextEnabled(false)
        // no WebSocket compression: each compressed socket holds zlib state (tens of kB, off the heap, per
        // socket), live messages are small, and without an extension Netty refuses frames with RSV bits (1002)
        .setPerMessageWebSocketCompressionSupported(false).setPerFrameWebSocketCompressionSupported(false)
        .setMaxWebSocketFrameSize(edge.wsMaxMessageBytes()).setMaxWebSocketMessageSize(edge.wsMaxMessageBytes())
        .setIdleTimeout((int) Math.min(Integer.MAX_VALUE, edge.idleTimeoutMs())).setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    TlsServer.apply(opts, ctx.config.tls(), ctx.tls);
    return vertx.createHttpServer(opts).requestHandler(router)
        .invalidRequestHandler(req -> OpsApi.invalidRequest(req, ctx.edge.securityHeaders))
        .connectionHandler(conn -> {
          if (ctx.tlsMeters != null) {
            ctx.tlsMeters.connected(conn);
          }
          EdgeGuard.install(conn, ctx.edge);
        }).listen();
  }

  /**
   * Serves new connections with {@code ssl}'s certificate from now on (a reload of tls.cert /
   * tls.key); connections open keep theirs. Runs on this instance's event loop.
   */
  Future<Boolean> updateTls(io.vertx.core.net.ServerSSLOptions ssl) {
    io.vertx.core.Promise<Boolean> p = io.vertx.core.Promise.promise();
    context.runOnContext(v -> {
      if (server == null) {
        p.fail("the HTTP server of this instance is not listening");
      } else {
        server.updateSSLOptions(ssl, true).onComplete(p);
      }
    });
    return p.future();
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
