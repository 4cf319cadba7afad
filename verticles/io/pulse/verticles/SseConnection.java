package io.pulse.verticles;

import io.pulse.agg.View;
import io.pulse.live.BackfillPlan;
import io.pulse.live.LiveId;
import io.pulse.live.LiveMessage;
import io.pulse.live.LiveSubscription;
import io.pulse.live.Outbox;
import io.pulse.live.SubscribeReply;
import io.pulse.live.SubscriptionSpec;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * An SSE response at /api/v1/live/sse: one subscription, its messages as SSE events with ids
 * ({@link LiveId}) a reconnect sends back as Last-Event-ID.
 */
final class SseConnection extends LiveConnection {

  private final HttpServerResponse res;
  private final HttpConnection connection;
  /** Running updates between two finals: their ids are {@code <boot>-<seq>.<n>}, unique on the connection. */
  private long runningSinceFinal;

  SseConnection(LiveHub hub, PulseContext ctx, HttpServerResponse res, HttpConnection connection,
      io.pulse.core.Caller caller) {
    super(hub, ctx, caller);
    this.res = res;
    this.connection = connection;
  }

  @Override
  public boolean writeQueueFull() {
    return res.writeQueueFull();
  }

  @Override
  public void write(LiveSubscription s, LiveMessage m) {
    long running = m.fin() ? 0 : ++runningSinceFinal;
    if (m.fin()) {
      runningSinceFinal = 0;
    }
    // ~ the window to resume from after a restart (when the resume log cannot help): this one
    // again, so nothing is missed if the connection broke between two finals of one window
    String id = LiveId.of(ctx.bootId, m.seq(), running, ctx.storageEnabled() ? m.at() : LiveMessage.NO_WINDOW);
    res.write("id: " + id + "\nevent: " + m.type() + "\ndata: " + json(s, m) + "\n\n");
  }

  @Override
  public void writeReply(String text) {
    res.write(text);
  }

  @Override
  String subscribed(String subId, SubscriptionSpec spec, BackfillPlan.Start start, SubscribeReply r) {
    JsonObject o = describe(spec, start, r);
    StringBuilder sb = new StringBuilder();
    if (r.reset()) {
      sb.append("id: ").append(LiveId.of(ctx.bootId, r.seq(), 0, LiveMessage.NO_WINDOW)).append("\nevent: reset\ndata: ")
          .append(new JsonObject().put("type", "reset").put("reason", r.resetReason()).encode()).append("\n\n");
    }
    // ~ the window open now: a reconnect after a restart, before any rollup came, replays from there
    View v = ctx.views.byId(r.viewId());
    long at = v == null || !ctx.storageEnabled() ? LiveMessage.NO_WINDOW
        : Math.floorDiv(start.since() != null ? start.since() : ctx.clock.millis(), v.windowMs()) * v.windowMs();
    return sb.append("id: ").append(LiveId.of(ctx.bootId, r.seq(), 0, at)).append("\nevent: subscribed\ndata: ")
        .append(o.encode()).append("\n\n").toString();
  }

  @Override
  void refused(Outbox.Reply place, String subId, String error) {
    outbox.answer(place, "event: error\ndata: " + new JsonObject().put("type", "error").put("error", error).encode()
        + "\n\n");
    outbox.close(1008, error);
  }

  @Override
  void heartbeat(long now) {
    if (!writeQueueFull()) {
      res.write(": heartbeat " + now + "\n\n");
    }
  }

  @Override
  public void shut(int code, String reason, boolean slow) {
    if (code == LiveHub.TOKEN_CLOSE && !res.ended()) {
      // the token no longer lets it in: an error (the client should not just reconnect with it), then the end
      res.write("event: error\ndata: " + new JsonObject().put("type", "error").put("error", reason).encode() + "\n\n");
      res.end();
    } else if (!slow && !res.ended()) {
      res.write("event: closing\ndata: " + new JsonObject().put("type", "closing").put("reason", reason).encode()
          + "\n\n");
      res.end();
    } else if (connection instanceof io.vertx.core.http.impl.Http2ServerConnection) {
      res.reset(0x8); // CANCEL: an HTTP/2 connection carries other streams (of this client) that are not slow
    } else {
      connection.close();
    }
  }
}
