package io.pulse.verticles;

import io.pulse.live.BackfillPlan;
import io.pulse.live.LiveJson;
import io.pulse.live.LiveMessage;
import io.pulse.live.LiveSubscription;
import io.pulse.live.Outbox;
import io.pulse.live.SubscribeReply;
import io.pulse.live.Subscribed;
import io.pulse.live.SubscriptionSpec;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;

/**
 * A live connection as the hub sees it: its {@link Outbox} (the engine), the socket under it
 * (WebSocket or SSE, in the subclasses), and what the outbox reports, passed on to the hub and
 * the meters.
 */
abstract class LiveConnection implements Outbox.Socket, Outbox.Events {

  final LiveHub hub;
  final PulseContext ctx;
  final Outbox outbox;
  /** Who opened it: its tenant, and the token whose revocation or expiry closes it. */
  final io.pulse.core.Caller caller;
  /** The tenant one of whose live connections this is (given back when it closes); null once given back. */
  private String connectionOf;

  LiveConnection(LiveHub hub, PulseContext ctx, io.pulse.core.Caller caller) {
    this.hub = hub;
    this.ctx = ctx;
    this.caller = caller;
    this.outbox = new Outbox(this, this, ctx.clock, new Outbox.Limits(ctx.config.live().maxPendingFinals(),
        ctx.config.live().slowClientTimeoutMs(), ctx.config.edge().wsMaxPendingReplies(), Outbox.Limits.MAX_HELD));
  }

  /** The token one of whose live connections this is (limits.liveConnectionsPerToken); null for none or once given back. */
  private String tokenConnectionOf;

  /** It holds one of {@code token}'s live connections until it closes (null: a caller without a token). */
  void holdsTokenConnection(String token) {
    if (outbox.isClosed()) {
      if (token != null) {
        ctx.edge.liveByToken.release(token); // closed already: nothing will give it back later
      }
      return;
    }
    tokenConnectionOf = token;
  }

  /** It holds one of {@code tenant}'s live connections ({@link io.pulse.core.TenantQuota}) until it closes. */
  void holdsConnectionOf(String tenant) {
    connectionOf = tenant;
  }

  /** The "subscribed" reply, in the socket's form. */
  abstract String subscribed(String subId, SubscriptionSpec spec, BackfillPlan.Start start, SubscribeReply r);

  /** A subscribe op was refused: its reply (at {@code place}) says why. */
  abstract void refused(Outbox.Reply place, String subId, String error);

  /**
   * Why its token no longer lets it in at {@code now} ("token revoked", "token expired"), or null
   * while it does. Asked at every heartbeat; a revocation also closes it at once through the hub.
   */
  String refusal(long now) {
    if (caller.tokenId() != null && ctx.revocations.revoked(caller.tenant(), caller.tokenId())) {
      return LiveHub.REVOKED;
    }
    return caller.expiresAtMs() <= now ? LiveHub.EXPIRED : null;
  }

  /** A heartbeat, if nothing waits for the socket. */
  abstract void heartbeat(long now);

  /** The "subscribed" message, with warnings from what the stream's catalogue entry has seen. */
  JsonObject describe(SubscriptionSpec spec, BackfillPlan.Start start, SubscribeReply r) {
    io.pulse.catalog.StreamCatalog.StreamInfo info = ctx.catalog.get(r.stream());
    return Subscribed.describe(spec, start, r, info == null ? null : info.dims().keySet(),
        info == null ? null : info.valueNames(), ctx.storageEnabled());
  }

  /** A rollup with only the values the subscription asked for (the shared message's JSON when all). */
  static String json(LiveSubscription s, LiveMessage m) {
    return s.metrics() == null || m.rollup() == null ? m.json() : LiveJson.rollup(m.rollup(), s.metrics());
  }

  // ---- what the outbox reports ----

  @Override
  public void released(LiveSubscription s) {
    hub.released(s);
  }

  @Override
  public void readHistory(LiveSubscription s) {
    hub.backfill(s);
  }

  @Override
  public void closed(Outbox o) {
    if (connectionOf != null) {
      ctx.quota.release(connectionOf, io.pulse.core.TenantQuota.Resource.CONNECTIONS, 1);
      connectionOf = null;
    }
    if (tokenConnectionOf != null) {
      ctx.edge.liveByToken.release(tokenConnectionOf);
      tokenConnectionOf = null;
    }
    hub.forget(this);
  }

  @Override
  public void pushed(LiveMessage m) {
    (m.fin() ? ctx.pushLatencyFinal : ctx.pushLatency)
        .record(Math.max(0, ctx.clock.millis() - m.rollup().latestArrival()), TimeUnit.MILLISECONDS);
  }

  @Override
  public void coalesced() {
    ctx.coalesced.increment();
  }

  @Override
  public void dropped(int messages) {
    ctx.dropped.increment(messages);
  }

  @Override
  public void slowClosed() {
    ctx.slowClosed.increment();
  }

  @Override
  public void repliesQueued(int delta) {
    ctx.edge.queuedReplies.addAndGet(delta);
  }
}
