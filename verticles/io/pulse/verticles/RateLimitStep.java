package io.pulse.verticles;

import io.pulse.core.Caller;
import io.pulse.core.Scope;
import io.pulse.http.RateClass;
import io.pulse.http.RateLimit;
import io.pulse.http.RateLimits;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.SocketAddress;
import io.vertx.ext.web.RoutingContext;

/**
 * The rate limits of a route ({@link RateLimits}), as one handler that runs right after the
 * caller is resolved: the request is charged to its token and to its client's address, and
 * either goes on with {@code RateLimit-Limit}, {@code RateLimit-Remaining} and
 * {@code RateLimit-Reset} on its answer, or is answered 429 with those and {@code Retry-After}.
 * A route's class comes from its scope and method ({@link #classOf}), so the route table needs no
 * column of its own.
 */
final class RateLimitStep {

  static final String LIMIT = "RateLimit-Limit";
  static final String REMAINING = "RateLimit-Remaining";
  static final String RESET = "RateLimit-Reset";

  private RateLimitStep() {
  }

  /** Ingest routes are INGEST, every other non-public GET (reads, live connections) QUERY, the rest NONE. */
  static RateClass classOf(Routes.Route r) {
    if (r.scope() == Scope.PUBLIC) {
      return RateClass.NONE;
    }
    if (r.scope() == Scope.INGEST) {
      return RateClass.INGEST;
    }
    return r.method() == HttpMethod.GET ? RateClass.QUERY : RateClass.NONE;
  }

  /** The key of a caller's per-token limits: its token's id; null without a token (then the per-address limit alone). */
  static String tokenKey(Caller c) {
    return c.tokenId();
  }

  /** The client's address: the TCP peer, or what a trusted proxy says in X-Forwarded-For (http.trustedProxies). */
  static String address(EdgeLimits edge, RoutingContext rc) {
    SocketAddress peer = rc.request().remoteAddress();
    String p = peer == null || peer.hostAddress() == null ? "unknown" : peer.hostAddress();
    return edge.clients.trustsAnyProxy() ? edge.clients.of(p, rc.request().getHeader("X-Forwarded-For")) : p;
  }

  /** The handler charging a request of class {@code cls}; null when the class is not limited. */
  static Handler<RoutingContext> handler(EdgeLimits edge, RateClass cls) {
    if (cls == RateClass.NONE) {
      return null;
    }
    return rc -> {
      RateLimits.Outcome o = edge.rates.charge(cls, tokenKey(Callers.of(rc)), address(edge, rc));
      RateLimit.Charge c = o.charge();
      if (c != null) {
        rc.response().putHeader(LIMIT, Integer.toString(c.limit()))
            .putHeader(REMAINING, Integer.toString(c.remaining()))
            .putHeader(RESET, Long.toString(c.resetSeconds()));
      }
      if (!o.allowed()) {
        edge.rateLimited(cls, o.refusedBy());
        rc.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(c.retryAfterSeconds()));
        Replies.error(rc, 429, o.reason(cls));
        return;
      }
      rc.next();
    };
  }
}
