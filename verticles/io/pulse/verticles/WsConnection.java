package io.pulse.verticles;

import io.pulse.agg.View;
import io.pulse.live.BackfillPlan;
import io.pulse.live.LiveJson;
import io.pulse.live.LiveMessage;
import io.pulse.live.LiveSubscription;
import io.pulse.live.MessageAssembler;
import io.pulse.live.Outbox;
import io.pulse.live.SubscribeReply;
import io.pulse.live.SubscriptionSpec;
import io.pulse.live.TokenBucket;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket at /api/v1/live/ws: any number of subscriptions, managed by ops (subscribe,
 * unsubscribe, ping), each answered in the order the ops came. What one socket can make the
 * server hold is bounded: a message being put together ({@code live.maxMessageBytes}), ops a
 * second ({@code live.maxOpsPerSecond}), subscriptions ({@code limits.subscriptionsPerConnection}), distinct views of
 * one stream ({@code live.maxViewsPerStreamPerSocket}), and what its {@link Outbox} holds.
 */
final class WsConnection extends LiveConnection {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(WsConnection.class);
  /** Longest client-supplied text (an id, an op name) echoed back in a reply. */
  private static final int MAX_ECHO = 64;

  private final ServerWebSocket ws;
  /** The tenant of the socket's caller: its subscriptions are to this tenant's streams. */
  private final String tenant;
  /** What the socket's token may read: a subscription to a stream outside it is refused like an unknown one. */
  private final io.pulse.core.Grants grants;
  private final MessageAssembler assembler;
  private final TokenBucket ops;
  /** A binary message is arriving: its continuation frames are not text. */
  private boolean binary;

  WsConnection(LiveHub hub, PulseContext ctx, ServerWebSocket ws, io.pulse.core.Caller caller) {
    super(hub, ctx, caller);
    this.tenant = caller.tenant();
    this.grants = caller.grants();
    this.ws = ws;
    this.assembler = new MessageAssembler(ctx.config.edge().wsMaxMessageBytes());
    int rate = ctx.config.edge().wsMaxOpsPerSecond();
    this.ops = new TokenBucket(rate, 2 * rate, ctx.clock.millis());
  }

  /**
   * Frames, not Vert.x's message aggregation: fragments are put together here with a bound, and
   * what is too big, not UTF-8 or binary closes the socket with a close frame and the reason.
   */
  void onFrame(WebSocketFrame frame) {
    if (outbox.isClosed()) {
      return;
    }
    MessageAssembler.Outcome out;
    if (frame.isText()) {
      binary = false;
      out = assembler.text(frame.binaryData().getBytes(), false, frame.isFinal());
    } else if (frame.isBinary() || (frame.isContinuation() && binary)) {
      binary = true;
      out = assembler.binary();
    } else if (frame.isContinuation()) {
      out = assembler.text(frame.binaryData().getBytes(), true, frame.isFinal());
    } else {
      return; // ping, pong, close: Vert.x answers those
    }
    if (out.fatal()) {
      ctx.edge.wsProtocolClosed.increment();
      error(null, out.reason());
      outbox.close(out.closeCode(), out.reason());
    } else if (out.complete()) {
      onText(out.text());
    }
  }

  void onText(String text) {
    if (!ops.tryTake(ctx.clock.millis())) {
      error(null, "too many messages: at most " + ctx.config.edge().wsMaxOpsPerSecond()
          + " a second (live.maxOpsPerSecond); this one was ignored");
      return;
    }
    String id = null;
    try {
      JsonObject op;
      try {
        op = new JsonObject(text);
      } catch (RuntimeException e) {
        error(null, "a message must be a JSON object like {\"op\":\"subscribe\",\"id\":\"s1\",\"stream\":\"...\"}");
        return;
      }
      Object idv = op.getValue("id");
      if (idv instanceof String || idv instanceof Integer || idv instanceof Long) {
        id = String.valueOf(idv);
        if (id.isEmpty() || id.length() > MAX_ECHO) {
          id = null;
          error(null, "id: 1 to " + MAX_ECHO + " characters");
          return;
        }
      } else if (idv != null) {
        error(null, "id: must be a string of 1 to " + MAX_ECHO + " characters");
        return;
      }
      Object opv = op.getValue("op");
      if (!(opv instanceof String)) {
        error(id, "op: required, a string: subscribe, unsubscribe or ping");
        return;
      }
      handle((String) opv, id, op);
    } catch (RuntimeException e) {
      // whatever went wrong with this message, the socket lives on and the caller is told
      LOG.warn("WebSocket message could not be handled: {}", e.toString(), e);
      error(id, "the message could not be handled: " + io.pulse.http.EdgeAnswer.clip(String.valueOf(e.getMessage()), 200));
    }
  }

  private void handle(String name, String id, JsonObject op) {
    switch (name) {
      case "subscribe" -> subscribe(id, op);
      case "unsubscribe" -> {
        if (id == null) {
          error(null, "unsubscribe: id required");
        } else if (outbox.unsubscribe(id)) {
          outbox.reply(new JsonObject().put("type", "unsubscribed").put("sub", id).encode());
        } else {
          error(id, "no subscription with this id");
        }
      }
      case "ping" -> outbox.reply(new JsonObject().put("type", "pong").put("at", ctx.clock.millis()).encode());
      default -> error(id, "unknown op \"" + io.pulse.http.EdgeAnswer.clip(name, MAX_ECHO) + "\"; use subscribe, unsubscribe or ping");
    }
  }

  private void subscribe(String id, JsonObject op) {
    if (id == null) {
      error(null, "subscribe: id required, 1 to " + MAX_ECHO + " characters");
      return;
    }
    if (outbox.inUse(id)) {
      error(id, "subscribe: id " + id + " is already in use on this connection");
      return;
    }
    int maxSubs = ctx.config.fairUse().subscriptionsPerConnection();
    if (outbox.subscriptions() >= maxSubs) {
      ctx.edge.subscriptionsRefused.increment();
      error(id, "subscribe: at most " + maxSubs + " subscriptions per connection (limits.subscriptionsPerConnection); "
          + "unsubscribe one first");
      return;
    }
    SubscriptionSpec spec;
    try {
      spec = SubscriptionSpec.fromJson(tenant, op);
    } catch (IllegalArgumentException e) {
      error(id, e.getMessage());
      return;
    }
    if (!grants.allows(io.pulse.core.Scope.READ, spec.stream().name())) {
      error(id, "subscribe: no stream named " + spec.stream().name() + " is known");
      return;
    }
    String view = View.spec(spec.stream(), spec.filter(), spec.groupBy());
    int share = ctx.config.edge().wsMaxViewsPerStream();
    // View.spec begins with tenant/name and '|' (neither '/' nor '|' is a stream-name character)
    if (outbox.viewsOf(spec.stream().tenant() + '/' + spec.stream().name() + '|', view) >= share) {
      error(id, "subscribe: this connection already watches " + share + " distinct filter/groupBy combinations "
          + "of stream " + spec.stream().name() + " (live.maxViewsPerStreamPerSocket); unsubscribe one first");
      return;
    }
    hub.subscribe(this, id, spec, view, null);
  }

  @Override
  public boolean writeQueueFull() {
    // a socket the peer just closed (its close handler not run yet) throws here: nothing more goes to it
    return ws.isClosed() || ws.writeQueueFull();
  }

  @Override
  public void write(LiveSubscription s, LiveMessage m) {
    if (!outbox.isClosed()) {
      ws.writeTextMessage(LiveJson.withSubField(json(s, m), s.subField()));
    }
  }

  @Override
  public void writeReply(String text) {
    ws.writeTextMessage(text);
  }

  private static String errorJson(String subId, String message) {
    JsonObject o = new JsonObject().put("type", "error");
    if (subId != null) {
      o.put("sub", subId);
    }
    return o.put("error", io.pulse.http.EdgeAnswer.clip(String.valueOf(message), 512)).encode();
  }

  private void error(String subId, String message) {
    outbox.reply(errorJson(subId, message));
  }

  @Override
  String subscribed(String subId, SubscriptionSpec spec, BackfillPlan.Start start, SubscribeReply r) {
    return describe(spec, start, r).put("sub", subId).encode();
  }

  @Override
  void refused(Outbox.Reply place, String subId, String error) {
    outbox.answer(place, errorJson(subId, error));
  }

  @Override
  void heartbeat(long now) {
    if (outbox.idle()) {
      ws.writeTextMessage("{\"type\":\"heartbeat\",\"at\":" + now + "}");
    }
  }

  @Override
  public void shut(int code, String reason, boolean slow) {
    if (!ws.isClosed()) {
      if (!slow) {
        ws.writeTextMessage(new JsonObject().put("type", "closing").put("reason", reason).encode());
      }
      if (code == 1001) {
        // the server is stopping: a graceful shutdown lets what is queued go first (2 s at most)
        ws.shutdown(2, TimeUnit.SECONDS, (short) code, io.pulse.http.EdgeAnswer.clip(reason, 120));
      } else {
        // the client broke a bound: the close frame goes now, after what is already written (a graceful
        // shutdown held it back for its whole timeout); Vert.x closes TCP if the client does not answer it
        ws.close((short) code, io.pulse.http.EdgeAnswer.clip(reason, 120));
      }
    }
  }
}
