package io.pulse.verticles;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-connection guard of the HTTP edge, as two Netty handlers around Vert.x's HTTP decoder
 * (one sees the bytes as they arrive, the other the decoded request, its body and the response).
 * It enforces what Vert.x has no option for, and answers in JSON where Vert.x or Netty would
 * answer with an empty body or not at all:
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
 *   <li>WebSocket frames Netty refuses (too big, protocol violations): an error message and a
 *       close frame with the code and reason, instead of a bare TCP close; WebSocket pings are
 *       not answered while the peer does not read (their pongs would pile up).
 * </ul>
 *
 * <p>Live connections (SSE, WebSocket) are past their headers and body, so neither timeout
 * applies to them; the idle timeout does not either, because their heartbeat writes.
 * Everything here runs on the connection's event loop.
 */
final class EdgeGuard {

  private static final Logger LOG = LoggerFactory.getLogger(EdgeGuard.class);

  private enum Phase {
    /** Between requests (keep-alive), or before the first. */
    IDLE,
    /** Some bytes of a request arrived, its headers are not complete. */
    HEADERS,
    /** Headers done, body arriving. */
    BODY,
    /** The request is all in; its response is on its way (or streaming: SSE). */
    WAITING,
    /** A WebSocket now. */
    UPGRADED
  }

  private final EdgeLimits limits;
  private final Channel channel;
  private final boolean admitted;
  private Phase phase = Phase.IDLE;
  private long phaseSince;
  private long lastRead;
  /** Bytes of the current request's body taken from the budget, and its bytes seen so far. */
  private long reserved;
  private long received;
  /** Whether the current request's body bytes count against the budget (until its response ends). */
  private boolean counting;
  /** A response has begun and not ended: nothing can be answered from here in between. */
  private boolean responding;
  /** The current request has (had) an answer: a second one is never written, only the connection closed. */
  private boolean answered;
  /** Answered here: the rest of the request is read and dropped, then the connection closes. */
  private boolean discarding;
  /**
   * A request came in before the one ahead of it was answered (HTTP/1.1 pipelining): it and all
   * that follows is dropped unread, and the connection closes once the answer in progress is
   * written. Reading it would take its body past the budget's accounting, which follows one
   * request at a time; RFC 9112 (9.3.2) has pipelining clients retry what was not answered.
   */
  private boolean pipelined;
  private ScheduledFuture<?> timer;

  private EdgeGuard(EdgeLimits limits, Channel channel, boolean admitted) {
    this.limits = limits;
    this.channel = channel;
    this.admitted = admitted;
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
    if (p.get("httpDecoder") == null || p.get("handler") == null) {
      return false;
    }
    boolean admitted = limits.connections.tryOpen();
    EdgeGuard g = new EdgeGuard(limits, ch, admitted);
    if (admitted) {
      ch.closeFuture().addListener(f -> limits.connections.close());
    } else {
      limits.refusedConnections.increment();
    }
    // a new connection's first request must be in within http.headerTimeoutMs of its opening, so that
    // connections that send nothing cannot hold the cap (between keep-alive requests, the idle timeout applies)
    g.enter(Phase.HEADERS, now());
    ch.closeFuture().addListener(f -> g.closed());
    p.addBefore("httpDecoder", "pulseBytes", g.new Bytes());
    p.addBefore("handler", "pulseGuard", g.new Messages());
    return true;
  }

  private static long now() {
    return System.nanoTime() / 1_000_000;
  }

  private void enter(Phase p, long now) {
    phase = p;
    phaseSince = now;
    lastRead = now;
    if ((p == Phase.HEADERS || p == Phase.BODY) && timer == null) {
      long period = Math.max(5, Math.min(limits.config.headerTimeoutMs(), limits.config.bodyTimeoutMs()) / 4);
      timer = channel.eventLoop().scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
    }
  }

  private void check() {
    long now = now();
    if (phase == Phase.HEADERS && now - phaseSince >= limits.config.headerTimeoutMs() && !admitted) {
      answerAndClose(503, connectionsMessage(), "1"); // it was never going to be served: say why
    } else if (phase == Phase.HEADERS && now - phaseSince >= limits.config.headerTimeoutMs()) {
      limits.headerTimeouts.increment();
      answerAndClose(408, "the request's headers did not arrive within " + limits.config.headerTimeoutMs()
          + " ms (http.headerTimeoutMs)", null);
    } else if (phase == Phase.BODY && now - lastRead >= limits.config.bodyTimeoutMs()) {
      limits.bodyTimeouts.increment();
      answerAndClose(408, "the request body stopped arriving: nothing for " + limits.config.bodyTimeoutMs()
          + " ms (http.bodyTimeoutMs)", null);
    } else if (phase != Phase.HEADERS && phase != Phase.BODY) {
      stopTimer();
    }
  }

  private void stopTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  /** The connection is gone: its body bytes go back to the budget. */
  private void closed() {
    stopTimer();
    giveBack();
    counting = false;
  }

  private void giveBack() {
    limits.bodies.release(reserved);
    reserved = 0;
    received = 0;
  }

  /**
   * Answers the request in progress with a JSON error and closes the connection once it is
   * written; when a response is already under way, only closes (nothing else can be said).
   */
  private void answerAndClose(int status, String message, String retryAfter) {
    stopTimer();
    if (!channel.isActive()) {
      return;
    }
    if (responding || answered) {
      discarding = true;
      channel.close();
      return;
    }
    answered = true;
    // what still comes of this request (content a decompressor flushes after its failure, the last
    // chunk) must never reach the route: it would be ingested although the client was told 4xx
    discarding = true;
    channel.pipeline().context("pulseGuard").writeAndFlush(response(status, message, retryAfter))
        .addListener(ChannelFutureListener.CLOSE);
  }

  /** Answers the request whose headers just arrived; its body is read and dropped, then the connection closes. */
  private void answerAndDiscard(ChannelHandlerContext ctx, int status, String message, String retryAfter) {
    if (responding || answered) {
      ctx.channel().close(); // another response is on the wire: no room for this one
      return;
    }
    answered = true;
    discarding = true;
    ctx.writeAndFlush(response(status, message, retryAfter));
  }

  private static FullHttpResponse response(int status, String message, String retryAfter) {
    byte[] body = new JsonObject().put("error", message).encode().getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
        Unpooled.wrappedBuffer(body));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json").set(HttpHeaderNames.CONTENT_LENGTH, body.length)
        .set(HttpHeaderNames.CONNECTION, "close");
    if (retryAfter != null) {
      r.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
    }
    return r;
  }

  /** First in the pipeline: sees bytes arrive, which starts the header clock of a request. */
  private final class Bytes extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (phase != Phase.UPGRADED) {
        long now = now();
        if (phase == Phase.IDLE) {
          enter(Phase.HEADERS, now);
        }
        lastRead = now;
      }
      ctx.fireChannelRead(msg);
    }
  }

  /** After the decoder (and decompressor): the decoded request, its body, the response, and decoder failures. */
  private final class Messages extends ChannelDuplexHandler {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (phase == Phase.UPGRADED) {
        if (msg instanceof PingWebSocketFrame && !ctx.channel().isWritable()) {
          ReferenceCountUtil.release(msg); // the peer does not read: its pongs would only pile up
          return;
        }
        ctx.fireChannelRead(msg);
        return;
      }
      if (pipelined) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (discarding) {
        boolean last = msg instanceof LastHttpContent;
        ReferenceCountUtil.release(msg);
        if (last) {
          stopTimer();
          phase = Phase.WAITING;
          ctx.channel().close();
        }
        return;
      }
      if (msg instanceof HttpRequest) {
        HttpRequest req = (HttpRequest) msg;
        long now = now();
        if (req.decoderResult().isFailure()) {
          limits.badRequests.increment();
          stopTimer();
          phase = Phase.WAITING; // HttpVerticle's invalid-request handler answers it in JSON
          ctx.fireChannelRead(msg);
          return;
        }
        if (phase == Phase.WAITING || responding) {
          pipelined = true;
          limits.pipelinedRequests.increment();
          ReferenceCountUtil.release(msg);
          return;
        }
        enter(Phase.BODY, now);
        answered = false;
        String refusal = refusal(req);
        if (refusal != null) {
          limits.badRequests.increment();
          ReferenceCountUtil.release(msg);
          answerAndDiscard(ctx, refusal.startsWith("417") ? 417 : 505, refusal.substring(4), null);
          return;
        }
        if (!admitted) {
          ReferenceCountUtil.release(msg);
          answerAndDiscard(ctx, 503, connectionsMessage(), "1");
          return;
        }
        giveBack();
        counting = true;
        long declared;
        try {
          declared = HttpUtil.getContentLength(req, -1L);
        } catch (NumberFormatException e) {
          declared = -1; // the decoder refuses such a request before this; counted as it arrives otherwise
        }
        if (declared > 0 && declared <= limits.maxBodyBytes) { // a larger one is answered 413 by the route
          if (!limits.bodies.tryReserve(declared)) {
            limits.refusedBodies.increment();
            ReferenceCountUtil.release(msg);
            answerAndDiscard(ctx, 503, budgetMessage(), "1");
            return;
          }
          reserved = declared;
        }
        ctx.fireChannelRead(msg);
        if (msg instanceof LastHttpContent && phase == Phase.BODY) {
          phase = answered && !responding ? Phase.IDLE : Phase.WAITING;
        }
        return;
      }
      if (msg instanceof HttpContent) {
        HttpContent c = (HttpContent) msg;
        if (c.decoderResult().isFailure()) {
          limits.badRequests.increment();
          Throwable cause = c.decoderResult().cause();
          ReferenceCountUtil.release(msg);
          answerAndClose(400, "the request body could not be read: " + describe(cause), null);
          return;
        }
        lastRead = now();
        if (counting) {
          received += c.content().readableBytes();
          if (received > reserved) {
            long more = received - reserved;
            if (!limits.bodies.tryReserve(more)) {
              limits.refusedBodies.increment();
              ReferenceCountUtil.release(msg);
              // the route already has the request: say why here (if it has not answered), drop the rest, then close
              answerAndDiscard(ctx, 503, budgetMessage(), "1");
              return;
            }
            reserved += more;
          }
        }
        boolean last = msg instanceof LastHttpContent;
        ctx.fireChannelRead(msg);
        if (last && phase == Phase.BODY) {
          // answered already (a 413 before the body ended): the connection is between requests again
          phase = answered && !responding ? Phase.IDLE : Phase.WAITING;
        }
        return;
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof FullHttpResponse && bare((FullHttpResponse) msg)) {
        // an error Vert.x or Netty answered by itself, without a JSON body: say it in the promised form
        FullHttpResponse r = (FullHttpResponse) msg;
        HttpResponseStatus status = r.status();
        ReferenceCountUtil.release(r);
        msg = response(status.code(), status.code() + " " + status.reasonPhrase(), null);
      }
      if (msg instanceof HttpResponse && ((HttpResponse) msg).status().codeClass()
          == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL && ((HttpResponse) msg).status().code() != 101) {
        ctx.write(msg, promise); // 100 Continue: the request's body is still to come, and its answer
        return;
      }
      if (msg instanceof HttpResponse) {
        responding = true;
        answered = true;
      }
      if (msg instanceof LastHttpContent) {
        responding = false;
        giveBack();
        counting = false; // what still arrives of a body answered early is not held by anyone
        if (phase == Phase.WAITING) {
          phase = Phase.IDLE;
        }
      }
      if (msg instanceof HttpResponse && ((HttpResponse) msg).status().code() == 101) {
        stopTimer();
        phase = Phase.UPGRADED;
      }
      if (pipelined && msg instanceof LastHttpContent) {
        ChannelPromise p = promise.unvoid();
        p.addListener(ChannelFutureListener.CLOSE); // the answer in progress is out: now the connection goes
        ctx.write(msg, p);
        return;
      }
      ctx.write(msg, promise);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof CorruptedWebSocketFrameException && phase == Phase.UPGRADED) {
        CorruptedWebSocketFrameException e = (CorruptedWebSocketFrameException) cause;
        limits.wsProtocolClosed.increment();
        String reason = clip(e.getMessage() != null ? e.getMessage() : e.closeStatus().reasonText(), 120);
        ctx.write(new TextWebSocketFrame(new JsonObject().put("type", "error").put("error", reason).encode()));
        ctx.writeAndFlush(new CloseWebSocketFrame(e.closeStatus().code(), reason))
            .addListener(ChannelFutureListener.CLOSE);
        return;
      }
      if (cause instanceof DecoderException && (phase == Phase.BODY || phase == Phase.WAITING)) {
        limits.badRequests.increment();
        answerAndClose(400, "the request body could not be decoded (Content-Encoding or chunks): " + describe(cause),
            null);
        return;
      }
      if (cause instanceof DecoderException) {
        LOG.debug("decoder failure on {}: {}", channel.remoteAddress(), cause.toString());
      }
      ctx.fireExceptionCaught(cause);
    }
  }

  /**
   * Why a request whose head decoded is refused before any route sees it ("505 ..." or "417 ..."),
   * or null: Vert.x answers other HTTP versions with an empty 501, and unknown expectations with a
   * plain-text 417.
   */
  static String refusal(HttpRequest req) {
    HttpVersion v = req.protocolVersion();
    if (v.majorVersion() != 1 || v.minorVersion() > 1) {
      return "505 HTTP version " + clip(v.text(), 40) + " is not supported; send HTTP/1.1";
    }
    String expect = req.headers().get(HttpHeaderNames.EXPECT);
    if (expect != null && !"100-continue".equalsIgnoreCase(expect.trim())) {
      return "417 Expect: " + clip(expect, 80) + " is not supported; only Expect: 100-continue is";
    }
    return null;
  }

  /** A 4xx/5xx with no Content-Type: Netty's or Vert.x's own answer, not one of Pulse's JSON ones. */
  private static boolean bare(FullHttpResponse r) {
    return r.status().code() >= 400 && !r.headers().contains(HttpHeaderNames.CONTENT_TYPE);
  }

  private String connectionsMessage() {
    return "the server has its maximum of " + limits.connections.max()
        + " connections open (http.maxConnections); retry shortly";
  }

  private String budgetMessage() {
    return "the server holds as many request bodies as it may (ingest.maxBufferedBodyBytes = "
        + limits.bodies.capacity() + " bytes); retry in a second";
  }

  private static String describe(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return clip(c.getMessage() != null ? c.getMessage() : c.getClass().getSimpleName(), 200);
  }

  static String clip(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }
}
