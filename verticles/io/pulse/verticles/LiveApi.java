package io.pulse.verticles;

import static io.pulse.verticles.Replies.error;
import static io.pulse.verticles.Replies.toMap;

import io.pulse.core.TenantQuota;
import io.pulse.live.SubscriptionSpec;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/** The live feed's endpoints (API.md "Live feed"): SSE and WebSocket, handed to this instance's {@link LiveHub}. */
final class LiveApi {

  private final PulseContext ctx;
  private final LiveHub hub;

  LiveApi(PulseContext ctx, LiveHub hub) {
    this.ctx = ctx;
    this.hub = hub;
  }

  void sse(RoutingContext rc) {
    SubscriptionSpec spec;
    try {
      spec = SubscriptionSpec.fromQuery(Callers.of(rc).tenant(), toMap(rc.queryParams()));
    } catch (RuntimeException e) { // IllegalArgumentException; anything else is a parameter it could not read too
      error(rc, 400, e instanceof IllegalArgumentException ? e.getMessage()
          : "a parameter could not be read: " + io.pulse.http.EdgeAnswer.clip(String.valueOf(e.getMessage()), 200));
      return;
    }
    if (!Callers.sees(rc, spec.stream().name())) { // outside the token's read scope: as if it did not exist
      error(rc, 404, "no stream named " + io.pulse.http.QueryParams.shown(spec.stream().name()) + " is known");
      return;
    }
    if (ctx.draining.get()) {
      rc.response().putHeader(HttpHeaders.RETRY_AFTER, "5");
      error(rc, 503, "the server is shutting down");
      return;
    }
    // the tenant's caps: checked before the stream starts, so the refusal is a plain 429
    TenantQuota quota = ctx.quota;
    String tenant = spec.stream().tenant();
    if (quota.used(tenant, TenantQuota.Resource.SUBSCRIPTIONS) >= quota.cap(TenantQuota.Resource.SUBSCRIPTIONS)) {
      error(rc, 429, quota.refusal(tenant, TenantQuota.Resource.SUBSCRIPTIONS));
      return;
    }
    if (!quota.tryAcquire(tenant, TenantQuota.Resource.CONNECTIONS, 1)) {
      error(rc, 429, quota.refusal(tenant, TenantQuota.Resource.CONNECTIONS));
      return;
    }
    String token = RateLimitStep.tokenKey(Callers.of(rc));
    if (!tokenConnection(rc, token)) {
      quota.release(tenant, TenantQuota.Resource.CONNECTIONS, 1);
      return;
    }
    String last = rc.request().getHeader("Last-Event-ID");
    if (last == null) {
      last = rc.queryParams().get("lastEventId");
    }
    HttpServerResponse res = rc.response().setChunked(true)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache").putHeader("X-Accel-Buffering", "no")
        .putHeader(HttpHeaders.CONTENT_ENCODING, HttpHeaders.IDENTITY); // never compressed (nor held back for it)
    consolidateFlushes(rc.request());
    res.write("retry: 2000\n\n");
    hub.accept(res, rc.request().connection(), spec, last, Callers.of(rc)).holdsTokenConnection(token);
  }

  private static final String FLUSH_CONSOLIDATION = "pulse-flush-consolidation";

  /**
   * A live connection gets many small messages per tick (a group-by's series, a final and the next
   * running update): each write used to be flushed to the socket on its own, a system call each. From
   * here on the connection's flushes within one event-loop turn are merged into one, made at the end
   * of the turn (Netty's FlushConsolidationHandler), so a tick's messages leave in one write.
   * HTTP/1.x only (an HTTP/2 connection's streams share it); the Vert.x connection class is internal,
   * so anything else is left as it is.
   */
  static void consolidateFlushes(io.vertx.core.http.HttpServerRequest req) {
    if (req.version() != io.vertx.core.http.HttpVersion.HTTP_2
        && req.connection() instanceof io.vertx.core.net.impl.ConnectionBase conn) {
      io.netty.channel.ChannelPipeline pipeline = conn.channel().pipeline();
      if (pipeline.get(FLUSH_CONSOLIDATION) == null) {
        pipeline.addFirst(FLUSH_CONSOLIDATION, new io.netty.handler.flush.FlushConsolidationHandler(
            io.netty.handler.flush.FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
      }
    }
  }

  /**
   * One of the token's live connections ({@code limits.liveConnectionsPerToken}), or a 429 saying
   * why not (then false). A request without a token has no per-token cap.
   */
  private boolean tokenConnection(RoutingContext rc, String token) {
    if (token == null || ctx.edge.liveByToken.tryAcquire(token)) {
      return true;
    }
    ctx.edge.liveConnectionsRefused.increment();
    error(rc, 429, "this token has its limit of " + ctx.edge.liveByToken.cap()
        + " live connections open (limits.liveConnectionsPerToken); close one first");
    return false;
  }

  /** Gives back what {@link #tokenConnection} took. */
  private void releaseTokenConnection(String token) {
    if (token != null) {
      ctx.edge.liveByToken.release(token);
    }
  }

  void websocket(RoutingContext rc) {
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
    io.pulse.core.Caller caller = Callers.of(rc);
    if (!ctx.quota.tryAcquire(caller.tenant(), TenantQuota.Resource.CONNECTIONS, 1)) {
      error(rc, 429, ctx.quota.refusal(caller.tenant(), TenantQuota.Resource.CONNECTIONS));
      return;
    }
    String token = RateLimitStep.tokenKey(caller);
    if (!tokenConnection(rc, token)) {
      ctx.quota.release(caller.tenant(), TenantQuota.Resource.CONNECTIONS, 1);
      return;
    }
    rc.request().toWebSocket().onSuccess(ws -> {
      consolidateFlushes(rc.request());
      LiveConnection c = hub.accept(ws, caller);
      if (c == null) {
        releaseTokenConnection(token); // refused (the server is stopping)
      } else {
        c.holdsTokenConnection(token);
      }
    })
        .onFailure(e -> {
          releaseTokenConnection(token);
          ctx.quota.release(caller.tenant(), TenantQuota.Resource.CONNECTIONS, 1);
          if (!rc.response().ended()) {
            error(rc, 400, "WebSocket upgrade failed: " + e.getMessage());
          }
        });
  }
}
