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
 * The rate limits of a route ({@link RateLimits}), as two handlers: one before the caller is
 * resolved charges the request to its client's address (so that requests with bad tokens are
 * limited too), one right after charges it to its token. The request either goes on with {@code RateLimit-Limit}, {@code RateLimit-Remaining} and
 * {@code RateLimit-Reset} on its answer, or is answered 429 with those and {@code Retry-After}.
 * A route's class comes from its scope and method ({@link #classOf}), so the route table needs no
 * column of its own.
 */
final class RateLimitStep {

  static final String LIMIT = "RateLimit-Limit";
  static final String REMAINING = "RateLimit-Remaining";
  static final String RESET = "RateLimit-Reset";
  /** What {@link #byAddress} leaves on the routing context for {@link #byToken}. */
  private static final String ADDRESS_KEY = "pulse.rate.address";
  private static final String OUTCOME_KEY = "pulse.rate.outcome";

  private RateLimitStep() {
  }

  /** Ingest routes are INGEST, every other non-public GET (reads, live connections) and POST /api/v1/query QUERY, the rest NONE. */
  static RateClass classOf(Routes.Route r) {
    if (r.scope() == Scope.PUBLIC) {
      return RateClass.NONE;
    }
    if (r.scope() == Scope.INGEST) {
      return RateClass.INGEST;
    }
    // POST /api/v1/query reads as its GET does (the request in a body)
    return r.method() == HttpMethod.GET || "/api/v1/query".equals(r.path()) ? RateClass.QUERY : RateClass.NONE;
  }

  /** The key of a caller's per-token limits: its token's id; null without a token (then the per-address limit alone). */
  static String tokenKey(Caller c) {
    return c.tokenId();
  }

  /**
   * The client's address, as the per-address limits key it: the TCP peer, or what a trusted proxy
   * says in X-Forwarded-For (http.trustedProxies); an IPv6 address by its /64.
   */
  static String address(EdgeLimits edge, RoutingContext rc) {
    SocketAddress peer = rc.request().remoteAddress();
    String p = peer == null || peer.hostAddress() == null ? "unknown" : peer.hostAddress();
    return io.pulse.http.ClientAddress.limitKey(edge.clients.trustsAnyProxy()
        ? edge.clients.of(p, rc.request().getHeader("X-Forwarded-For")) : p);
  }

  /**
   * The handler that charges a request of class {@code cls} to its client's address, before the
   * caller is resolved; null when the class is not limited.
   */
  static Handler<RoutingContext> byAddress(EdgeLimits edge, RateClass cls) {
    if (cls == RateClass.NONE) {
      return null;
    }
    return rc -> {
      String address = address(edge, rc);
      RateLimits.Outcome o = edge.rates.chargeAddress(cls, address);
      if (answer(edge, rc, cls, o)) {
        rc.put(ADDRESS_KEY, address);
        rc.put(OUTCOME_KEY, o);
        rc.next();
      }
    };
  }

  /**
   * The handler that charges a request of class {@code cls} to its caller's token, after the caller
   * is resolved (and after {@link #byAddress}); null when the class is not limited.
   */
  static Handler<RoutingContext> byToken(EdgeLimits edge, RateClass cls) {
    if (cls == RateClass.NONE) {
      return null;
    }
    return rc -> {
      RateLimits.Outcome byAddress = rc.get(OUTCOME_KEY);
      String address = rc.get(ADDRESS_KEY);
      if (byAddress == null) { // the route was mounted without byAddress: charge both here
        address = address(edge, rc);
        byAddress = edge.rates.chargeAddress(cls, address);
      }
      RateLimits.Outcome o = byAddress.allowed()
          ? edge.rates.chargeToken(cls, tokenKey(Callers.of(rc)), address, byAddress) : byAddress;
      if (answer(edge, rc, cls, o)) {
        rc.next();
      }
    };
  }

  /** Charges an ingest request's events (limits.ingestEventsPer*) once they are counted. */
  static void chargeEvents(EdgeLimits edge, RoutingContext rc, long events) {
    String address = rc.get(ADDRESS_KEY);
    edge.rates.chargeEvents(tokenKey(Callers.of(rc)), address != null ? address : address(edge, rc), events);
  }

  /** Puts the RateLimit-* headers on the answer; a refusal is answered 429 (then false). */
  private static boolean answer(EdgeLimits edge, RoutingContext rc, RateClass cls, RateLimits.Outcome o) {
    RateLimit.Charge c = o.charge();
    if (c != null) {
      rc.response().putHeader(LIMIT, Integer.toString(c.limit()))
          .putHeader(REMAINING, Integer.toString(c.remaining()))
          .putHeader(RESET, Long.toString(c.resetSeconds()));
    }
    if (o.allowed()) {
      return true;
    }
    edge.rateLimited(cls, o.refusedBy());
    rc.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(c.retryAfterSeconds()));
    Replies.error(rc, 429, o.reason(cls));
    return false;
  }
}
