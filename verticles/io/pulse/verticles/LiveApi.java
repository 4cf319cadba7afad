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
    res.write("retry: 2000\n\n");
    hub.accept(res, rc.request().connection(), spec, last, Callers.of(rc)).holdsTokenConnection(token);
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
