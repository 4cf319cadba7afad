package io.pulse.verticles;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderException;
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
import io.pulse.http.EdgeAnswer;
import io.pulse.http.EdgeConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link EdgeGuard}'s handler after Vert.x's decoder (and decompressor): tells the
 * connection's {@link EdgeConnection} about the decoded request, its body, the response and the
 * decoder's failures, and drops, passes on or answers as it says. Nothing is allocated on the
 * path of a request that is served.
 */
final class EdgeMessages extends ChannelDuplexHandler {

  private static final Logger LOG = LoggerFactory.getLogger(EdgeGuard.class);

  private final EdgeGuard guard;
  private final EdgeConnection state;
  private final EdgeLimits limits;

  EdgeMessages(EdgeGuard guard) {
    this.guard = guard;
    this.state = guard.state;
    this.limits = guard.limits;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (state.isUpgraded()) {
      if (msg instanceof PingWebSocketFrame && state.skipsPing(ctx.channel().isWritable(), EdgeGuard.now())) {
        limits.wsPingsDropped.increment();
        ReferenceCountUtil.release(msg);
        return;
      }
      ctx.fireChannelRead(msg);
      return;
    }
    if (state.isPipelined()) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (state.isDiscarding()) {
      boolean last = msg instanceof LastHttpContent;
      ReferenceCountUtil.release(msg);
      if (last) {
        guard.stopTimer();
        state.discarded();
        ctx.channel().close();
      }
      return;
    }
    if (msg instanceof HttpRequest) {
      head(ctx, (HttpRequest) msg);
    } else if (msg instanceof HttpContent) {
      content(ctx, (HttpContent) msg);
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  private void head(ChannelHandlerContext ctx, HttpRequest req) {
    long now = EdgeGuard.now();
    if (req.decoderResult().isFailure()) {
      limits.badRequests.increment();
      guard.stopTimer();
      state.unreadableHead(); // HttpVerticle's invalid-request handler answers it in JSON
      ctx.fireChannelRead(req);
      return;
    }
    if (!state.requestHead(now)) {
      limits.pipelinedRequests.increment();
      ReferenceCountUtil.release(req);
      return;
    }
    guard.watch();
    HttpVersion v = req.protocolVersion();
    EdgeAnswer refusal = EdgeAnswer.refusal(v.majorVersion(), v.minorVersion(), v.text(),
        req.headers().get(HttpHeaderNames.EXPECT));
    if (refusal != null) {
      limits.badRequests.increment();
      ReferenceCountUtil.release(req);
      guard.answerAndDiscard(ctx, refusal);
      return;
    }
    if (!state.isAdmitted()) {
      ReferenceCountUtil.release(req);
      guard.answerAndDiscard(ctx, EdgeAnswer.connectionCap(limits.connections.max()));
      return;
    }
    long declared;
    try {
      declared = HttpUtil.getContentLength(req, -1L);
    } catch (NumberFormatException e) {
      declared = -1; // the decoder refuses such a request before this; counted as it arrives otherwise
    }
    if (!state.bodyDeclared(declared)) {
      limits.refusedBodies.increment();
      ReferenceCountUtil.release(req);
      guard.answerAndDiscard(ctx, EdgeAnswer.bodyBudget(limits.bodies.capacity()));
      return;
    }
    ctx.fireChannelRead(req);
    if (req instanceof LastHttpContent) {
      state.requestEnded();
    }
  }

  private void content(ChannelHandlerContext ctx, HttpContent c) {
    if (c.decoderResult().isFailure()) {
      limits.badRequests.increment();
      Throwable cause = c.decoderResult().cause();
      ReferenceCountUtil.release(c);
      guard.answerAndClose(EdgeAnswer.unreadableBody(cause));
      return;
    }
    if (!state.bodyBytes(EdgeGuard.now(), c.content().readableBytes())) {
      limits.refusedBodies.increment();
      ReferenceCountUtil.release(c);
      // the route already has the request: say why here (if it has not answered), drop the rest, then close
      guard.answerAndDiscard(ctx, EdgeAnswer.bodyBudget(limits.bodies.capacity()));
      return;
    }
    boolean last = c instanceof LastHttpContent;
    ctx.fireChannelRead(c);
    if (last) {
      state.requestEnded();
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof FullHttpResponse && bare((FullHttpResponse) msg)) {
      // an error Vert.x or Netty answered by itself, without a JSON body: say it in the promised form
      FullHttpResponse r = (FullHttpResponse) msg;
      HttpResponseStatus status = r.status();
      ReferenceCountUtil.release(r);
      msg = EdgeGuard.response(EdgeAnswer.bare(status.code(), status.reasonPhrase()), limits.securityHeaders);
    }
    if (msg instanceof HttpResponse && EdgeAnswer.interim(((HttpResponse) msg).status().code())) {
      ctx.write(msg, promise); // 100 Continue: the request's body is still to come, and its answer
      return;
    }
    if (msg instanceof HttpResponse) {
      state.responseBegins();
    }
    if (msg instanceof LastHttpContent) {
      state.responseEnded();
    }
    if (msg instanceof HttpResponse && ((HttpResponse) msg).status().code() == 101) {
      guard.stopTimer();
      state.upgraded();
    }
    if (state.isPipelined() && msg instanceof LastHttpContent) {
      ChannelPromise p = promise.unvoid();
      p.addListener(ChannelFutureListener.CLOSE); // the answer in progress is out: now the connection goes
      ctx.write(msg, p);
      return;
    }
    ctx.write(msg, promise);
  }

  /** A 4xx/5xx with no Content-Type: Netty's or Vert.x's own answer, not one of Pulse's JSON ones. */
  private static boolean bare(FullHttpResponse r) {
    return r.status().code() >= 400 && !r.headers().contains(HttpHeaderNames.CONTENT_TYPE);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof CorruptedWebSocketFrameException && state.isUpgraded()) {
      CorruptedWebSocketFrameException e = (CorruptedWebSocketFrameException) cause;
      limits.wsProtocolClosed.increment();
      String reason = EdgeAnswer.wsCloseReason(e.getMessage(), e.closeStatus().reasonText());
      ctx.write(new TextWebSocketFrame(EdgeAnswer.wsError(reason)));
      ctx.writeAndFlush(new CloseWebSocketFrame(e.closeStatus().code(), reason))
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    if (cause instanceof DecoderException && state.inBody()) {
      limits.badRequests.increment();
      guard.answerAndClose(EdgeAnswer.undecodableBody(cause));
      return;
    }
    if (cause instanceof DecoderException) {
      LOG.debug("decoder failure on {}: {}", ctx.channel().remoteAddress(), cause.toString());
    }
    ctx.fireExceptionCaught(cause);
  }
}
