package io.pulse.verticles;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.pulse.config.PulseConfig;
import io.pulse.http.BodyBudget;
import io.pulse.http.ConnectionSlots;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every HTTP instance shares to keep one caller from holding the server: the connection
 * cap, the budget of request-body bytes held at once, and their meters. Built once per Pulse.
 */
final class EdgeLimits {

  final PulseConfig.Edge config;
  /**
   * The headers of the answers Pulse gives outside the router (the guard's, the decoder's): an API
   * answer's security headers (JSON, never framed; HSTS under TLS) and {@code Cache-Control: no-store}.
   */
  final java.util.Map<String, String> securityHeaders;
  final int maxBodyBytes;
  final ConnectionSlots connections;
  final BodyBudget bodies;
  /** Replies (pong, subscribed, error, ...) waiting for WebSockets that do not read, over all sockets. */
  final AtomicInteger queuedReplies = new AtomicInteger();
  /** HTTP/2 connections opened past the connection cap, until they close (see EdgeGuard.capHttp2). */
  final java.util.Set<io.vertx.core.http.HttpConnection> refusedHttp2 =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  final Counter refusedConnections;
  final Counter refusedBodies;
  final Counter headerTimeouts;
  final Counter bodyTimeouts;
  final Counter badRequests;
  final Counter pipelinedRequests;
  final Counter wsProtocolClosed;
  final Counter wsPingsDropped;
  /** Fair use ({@code limits.*}): request rates per token and address, and who the client is behind proxies. */
  final io.pulse.http.RateLimits rates;
  final io.pulse.http.ClientAddress clients;
  /** Live connections (WebSocket and SSE) per token, at most {@code limits.liveConnectionsPerToken}. */
  final io.pulse.http.KeyedCounts liveByToken;
  final PulseConfig.FairUse fairUse;
  /** Requests answered 429 by a rate limit, by class (ingest, query) and key kind (token, address): [class][kind]. */
  private final Counter[][] rateLimited;
  /** Live connections refused past limits.liveConnectionsPerToken; subscribes past limits.subscriptionsPerConnection. */
  final Counter liveConnectionsRefused;
  final Counter subscriptionsRefused;

  EdgeLimits(PulseConfig.Edge config, int maxBodyBytes, MeterRegistry registry, PulseConfig.FairUse fairUse,
      io.pulse.core.Clock clock, boolean tls) {
    this.config = config;
    java.util.Map<String, String> h = new io.pulse.http.SecurityHeaders(tls).forPath("/api");
    h.put("Cache-Control", io.pulse.http.SecurityHeaders.API_CACHE);
    this.securityHeaders = java.util.Map.copyOf(h);
    this.maxBodyBytes = maxBodyBytes;
    this.connections = new ConnectionSlots(config.maxConnections());
    this.bodies = new BodyBudget(config.maxBufferedBodyBytes());
    Gauge.builder("pulse.http.connections", connections, ConnectionSlots::open)
        .description("HTTP connections open (live ones included), at most http.maxConnections").register(registry);
    Gauge.builder("pulse.http.body.buffered.bytes", bodies, BodyBudget::held)
        .description("Request-body bytes held at once, at most ingest.maxBufferedBodyBytes").register(registry);
    Gauge.builder("pulse.live.replies.queued", queuedReplies, AtomicInteger::get)
        .description("Replies waiting for WebSockets that do not read (live.maxPendingReplies each)").register(registry);
    this.refusedConnections = Counter.builder("pulse.http.connections.refused")
        .description("Connections answered 503 and closed because http.maxConnections were open").register(registry);
    this.refusedBodies = Counter.builder("pulse.http.body.refused")
        .description("Requests answered 503 because ingest.maxBufferedBodyBytes were held").register(registry);
    this.headerTimeouts = Counter.builder("pulse.http.timeouts").tag("kind", "header")
        .description("Connections closed because a request's headers or body stopped arriving").register(registry);
    this.bodyTimeouts = Counter.builder("pulse.http.timeouts").tag("kind", "body")
        .description("Connections closed because a request's headers or body stopped arriving").register(registry);
    this.badRequests = Counter.builder("pulse.http.bad.requests")
        .description("Requests the HTTP decoder could not read (bad request line, headers, chunks or encoding)")
        .register(registry);
    this.pipelinedRequests = Counter.builder("pulse.http.pipelined")
        .description("Requests sent before the one ahead was answered: dropped, the connection closed after that answer")
        .register(registry);
    this.wsProtocolClosed = Counter.builder("pulse.live.protocol.closed")
        .description("WebSockets closed for a protocol violation, a message too big, bad UTF-8 or binary data")
        .register(registry);
    this.wsPingsDropped = Counter.builder("pulse.live.pings.dropped")
        .description("WebSocket pings not answered: the peer did not read, or it sent more than 20 a second")
        .register(registry);
    this.fairUse = fairUse;
    this.rates = new io.pulse.http.RateLimits(clock, limit(fairUse.ingestPerToken(), fairUse.maxKeys()),
        limit(fairUse.ingestPerAddress(), fairUse.maxKeys()), limit(fairUse.queryPerToken(), fairUse.maxKeys()),
        limit(fairUse.queryPerAddress(), fairUse.maxKeys()), limit(fairUse.ingestEventsPerToken(), fairUse.maxKeys()),
        limit(fairUse.ingestEventsPerAddress(), fairUse.maxKeys()));
    this.clients = new io.pulse.http.ClientAddress(fairUse.trustedProxies());
    this.liveByToken = new io.pulse.http.KeyedCounts(fairUse.liveConnectionsPerToken());
    io.pulse.http.RateClass[] classes = {io.pulse.http.RateClass.INGEST, io.pulse.http.RateClass.QUERY};
    this.rateLimited = new Counter[classes.length][io.pulse.http.RateLimits.KeyKind.values().length];
    for (io.pulse.http.RateClass c : classes) {
      for (io.pulse.http.RateLimits.KeyKind k : io.pulse.http.RateLimits.KeyKind.values()) {
        rateLimited[c.ordinal()][k.ordinal()] = Counter.builder("pulse.http.rate.limited").tag("class", c.label())
            .tag("key", k.label()).description("Requests answered 429 by a rate limit (limits.ingestPer*, limits.queryPer*)")
            .register(registry);
      }
    }
    this.liveConnectionsRefused = Counter.builder("pulse.live.limited").tag("limit", "liveConnectionsPerToken")
        .description("Live connections and subscribes refused by limits.liveConnectionsPerToken and "
            + "limits.subscriptionsPerConnection").register(registry);
    this.subscriptionsRefused = Counter.builder("pulse.live.limited").tag("limit", "subscriptionsPerConnection")
        .description("Live connections and subscribes refused by limits.liveConnectionsPerToken and "
            + "limits.subscriptionsPerConnection").register(registry);
  }

  private static io.pulse.http.RateLimit limit(PulseConfig.Rate r, int maxKeys) {
    return new io.pulse.http.RateLimit(r.setting(), r.rate(), r.burst(), maxKeys);
  }

  /** Counts a 429 of a rate limit. */
  void rateLimited(io.pulse.http.RateClass c, io.pulse.http.RateLimits.KeyKind k) {
    rateLimited[c.ordinal()][k.ordinal()].increment();
  }
}
