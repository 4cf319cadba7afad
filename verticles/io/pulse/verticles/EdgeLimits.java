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

  EdgeLimits(PulseConfig.Edge config, int maxBodyBytes, MeterRegistry registry) {
    this.config = config;
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
  }
}
