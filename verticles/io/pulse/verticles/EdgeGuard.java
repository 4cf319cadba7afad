package io.pulse.verticles;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import io.pulse.http.BodyHold;
import io.pulse.http.EdgeAnswer;
import io.pulse.http.EdgeConnection;
import io.vertx.core.http.HttpConnection;
import java.util.concurrent.TimeUnit;

/**
 * The per-connection guard of the HTTP edge, as two Netty handlers around Vert.x's HTTP decoder:
 * {@link Bytes} sees the bytes as they arrive, {@link EdgeMessages} the decoded request, its body
 * and the response. It enforces what Vert.x has no option for, and answers in JSON where Vert.x or
 * Netty would answer with an empty body or not at all:
 *
 * <ul>
 *   <li>the connection cap ({@code http.maxConnections}): a connection past it gets a 503 to its
 *       first request and is closed;
 *   <li>slow headers ({@code http.headerTimeoutMs}, from the request's first byte, or from the
 *       connection's opening for its first request) and a body that stops arriving ({@code
 *       http.bodyTimeoutMs} without a byte): 408 and close;
 *   <li>the request-body bytes held at once across all connections ({@code
 *       ingest.maxBufferedBodyBytes}): a request whose declared length, or whose chunks, would pass
 *       it gets a 503 with {@code Retry-After}; its bytes are given back when its response ends or
 *       its connection closes;
 *   <li>malformed chunked bodies and bodies that do not decompress: 400 and close;
 *   <li>pipelined requests: dropped, the connection closed after the answer in progress;
 *   <li>WebSocket frames Netty refuses (too big, protocol violations): an error message and a
 *       close frame with the code and reason, instead of a bare TCP close; WebSocket pings are
 *       not answered while the peer does not read (their pongs would pile up).
 * </ul>
 *
 * <p>What happens when (phases, timeouts, the body budget, which failure gets which answer) is
 * decided by plain classes of {@code io.pulse.http}: {@link EdgeConnection}, {@link BodyHold},
 * {@link EdgeAnswer}; this class and {@link EdgeMessages} only tell them what Netty sees and carry
 * out what they say. Live connections (SSE, WebSocket) are past their headers and body, so neither
 * timeout applies to them; the idle timeout does not either, because their heartbeat writes.
 * Everything here runs on the connection's event loop.
 */
final class EdgeGuard {

  final EdgeLimits limits;
  final EdgeConnection state;
  private final Channel channel;
  private ScheduledFuture<?> timer;

  private EdgeGuard(EdgeLimits limits, Channel channel, EdgeConnection state) {
    this.limits = limits;
    this.channel = channel;
    this.state = state;
  }

  /**
   * Puts a guard on a new connection (Vert.x's connection handler, before anything is read).
   * False when the connection is not a plain HTTP/1.x one this guard knows how to watch.
   */
  static boolean install(HttpConnection conn, EdgeLimits limits) {
    // Vert.x 5 exposes the Netty channel of a connection only on its (internal) base class
    if (!(conn instanceof io.vertx.core.net.impl.ConnectionBase)) {
      return false;
    }
    Channel ch = ((io.vertx.core.net.impl.ConnectionBase) conn).channel();
    ChannelPipeline p = ch.pipeline();
    if (conn instanceof io.vertx.core.http.impl.Http2ServerConnection) {
      capHttp2(conn, ch, limits);
      return false;
    }
    if (p.get("httpDecoder") == null || p.get("handler") == null) {
      return false;
    }
    boolean admitted = limits.connections.tryOpen();
    if (admitted) {
      ch.closeFuture().addListener(f -> limits.connections.close());
    } else {
      limits.refusedConnections.increment();
    }
    // the connection starts in its first request's header phase (see EdgeConnection)
    EdgeGuard g = new EdgeGuard(limits, ch, new EdgeConnection(limits.config.headerTimeoutMs(),
        limits.config.bodyTimeoutMs(), admitted, new BodyHold(limits.bodies, limits.maxBodyBytes), now()));
    g.watch();
    ch.closeFuture().addListener(f -> g.closed());
    p.addBefore("httpDecoder", "pulseBytes", g.new Bytes());
    p.addBefore("handler", "pulseGuard", new EdgeMessages(g));
    return true;
  }

  /**
   * An HTTP/2 connection (TLS with ALPN h2) takes a slot of the connection cap like any other; past
   * the cap, each of its requests is answered 503 ({@link #refusedHttp2}) and the connection is shut
   * down after the first. The per-request guards of this class (header and body timeouts, the body
   * budget, pipelining) watch HTTP/1.x framing and do not apply to it: there, Vert.x's HTTP/2
   * settings (concurrent streams, flow-control windows, the RST flood guard), the TLS handshake
   * timeout and the idle timeout bound what one connection holds.
   */
  private static void capHttp2(HttpConnection conn, Channel ch, EdgeLimits limits) {
    if (limits.connections.tryOpen()) {
      ch.closeFuture().addListener(f -> limits.connections.close());
    } else {
      limits.refusedConnections.increment();
      limits.refusedHttp2.add(conn);
      ch.closeFuture().addListener(f -> limits.refusedHttp2.remove(conn));
    }
  }

  /** Whether {@code conn} is an HTTP/2 connection past the cap, whose requests are answered 503. */
  static boolean refusedHttp2(HttpConnection conn, EdgeLimits limits) {
    return !limits.refusedHttp2.isEmpty() && limits.refusedHttp2.contains(conn);
  }

  /** Milliseconds of a monotonic clock: the time the connection's state is told. */
  static long now() {
    return System.nanoTime() / 1_000_000;
  }

  /** A timeout applies now: look at the clock every so often until none does. */
  void watch() {
    if (timer == null) {
      long period = state.checkPeriodMs();
      timer = channel.eventLoop().scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
    }
  }

  private void check() {
    switch (state.due(now())) {
      case REFUSED_CONNECTION -> answerAndClose(EdgeAnswer.connectionCap(limits.connections.max()));
      case HEADER_TIMEOUT -> {
        limits.headerTimeouts.increment();
        answerAndClose(EdgeAnswer.headerTimeout(limits.config.headerTimeoutMs()));
      }
      case BODY_TIMEOUT -> {
        limits.bodyTimeouts.increment();
        answerAndClose(EdgeAnswer.bodyTimeout(limits.config.bodyTimeoutMs()));
      }
      case STOP -> stopTimer();
      case NOTHING -> {
      }
    }
  }

  void stopTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  /** The connection is gone: its body bytes go back to the budget. */
  private void closed() {
    stopTimer();
    state.closed();
  }

  /**
   * Answers the request in progress with a JSON error and closes the connection once it is
   * written; when a response is already under way, only closes (nothing else can be said).
   */
  void answerAndClose(EdgeAnswer answer) {
    stopTimer();
    if (!channel.isActive()) {
      return;
    }
    // what still comes of this request (content a decompressor flushes after its failure, the last
    // chunk) must never reach the route: it would be ingested although the client was told 4xx
    if (!state.answerThenClose()) {
      channel.close();
      return;
    }
    writer(channel.pipeline()).writeAndFlush(response(answer, limits.securityHeaders)).addListener(ChannelFutureListener.CLOSE);
  }

  /**
   * Where the guard's own answers enter the pipeline: past the response compressor ("deflater",
   * there when compression is on), which refuses a response to a request it never saw (a silent or
   * slow connection's 408) and would close the connection without a word.
   */
  private static ChannelHandlerContext writer(ChannelPipeline p) {
    ChannelHandlerContext deflater = p.context("deflater");
    return deflater != null ? deflater : p.context("pulseGuard");
  }

  /** Answers the request whose head just arrived; its body is read and dropped, then the connection closes. */
  void answerAndDiscard(ChannelHandlerContext ctx, EdgeAnswer answer) {
    if (!state.answerThenDrop()) {
      ctx.channel().close(); // another response is on the wire: no room for this one
      return;
    }
    writer(ctx.pipeline()).writeAndFlush(response(answer, limits.securityHeaders));
  }

  /**
   * The guard's own answer: JSON, closing the connection, with the security headers every answer of
   * Pulse has ({@link EdgeLimits#securityHeaders}, as for the API).
   */
  static FullHttpResponse response(EdgeAnswer answer, java.util.Map<String, String> securityHeaders) {
    byte[] body = answer.json();
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(answer.status()),
        Unpooled.wrappedBuffer(body));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json").set(HttpHeaderNames.CONTENT_LENGTH, body.length)
        .set(HttpHeaderNames.CONNECTION, "close");
    if (answer.retryAfter() != null) {
      r.headers().set(HttpHeaderNames.RETRY_AFTER, answer.retryAfter());
    }
    securityHeaders.forEach(r.headers()::set);
    return r;
  }

  /** First in the pipeline: sees bytes arrive, which starts the header clock of a request. */
  private final class Bytes extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (!state.isUpgraded() && state.bytesArrived(now())) { // no clock read for WebSocket frames
        watch();
      }
      ctx.fireChannelRead(msg);
    }
  }
}
