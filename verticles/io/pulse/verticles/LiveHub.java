package io.pulse.verticles;

import io.pulse.live.BackfillPlan;
import io.pulse.live.LiveBatch;
import io.pulse.live.LiveMessage;
import io.pulse.live.LiveSubscription;
import io.pulse.live.Outbox;
import io.pulse.live.SubscribeReply;
import io.pulse.live.SubscribeRequest;
import io.pulse.live.SubscriptionSpec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The live connections of one HTTP instance, all on its event loop. It takes the sequenced
 * messages the live verticle publishes and hands each to the {@link Outbox} of every subscriber
 * of its view; the outbox decides what is written, queued, coalesced, held behind a history or
 * dropped with a slow client ({@link WsConnection}, {@link SseConnection} adapt the sockets,
 * {@link LiveBackfill} reads since= histories).
 */
final class LiveHub {

  /** The close code of a connection whose token no longer lets it in (revoked, expired): 4401, like HTTP's 401. */
  static final int TOKEN_CLOSE = 4401;
  static final String REVOKED = "token revoked";
  static final String EXPIRED = "token expired";

  private final Vertx vertx;
  private final PulseContext ctx;
  /** This hub's live subscriptions (its own count; the gauge sums the hubs'). */
  private final PulseContext.Count subscriberCount;
  private final LiveBackfill backfill;
  private final Map<Integer, List<LiveSubscription>> byView = new HashMap<>();
  private final Set<LiveConnection> conns = new LinkedHashSet<>();
  private final List<Long> timers = new ArrayList<>();
  private boolean shuttingDown;

  /** {@code history}: where since= history is merged (the HTTP verticle's history pool), never on the event loop. */
  LiveHub(Vertx vertx, PulseContext ctx, WorkerExecutor history) {
    this.vertx = vertx;
    this.ctx = ctx;
    this.subscriberCount = ctx.subscriberCount();
    this.backfill = new LiveBackfill(vertx, ctx, history);
  }

  Future<Void> start() {
    MessageConsumer<LiveBatch> c = vertx.eventBus().consumer(Addresses.LIVE_UPDATES, m -> onBatch(m.body()));
    MessageConsumer<io.vertx.core.json.JsonObject> revoked = vertx.eventBus().consumer(Addresses.TOKENS_REVOKED,
        m -> revoked(m.body().getString("tenant"), m.body().getString("tokenId")));
    timers.add(vertx.setPeriodic(ctx.config.live().heartbeatMs(), t -> heartbeat()));
    timers.add(vertx.setPeriodic(ctx.config.live().flushMs(), t -> checkStalled()));
    return Future.all(c.completion(), revoked.completion()).mapEmpty();
  }

  void stop() {
    timers.forEach(vertx::cancelTimer);
    for (LiveConnection c : new ArrayList<>(conns)) {
      c.outbox.close(1001, "server stopping");
    }
  }

  private void onBatch(LiveBatch batch) {
    for (LiveMessage m : batch.messages()) {
      List<LiveSubscription> subs = byView.get(m.viewId());
      if (subs != null) {
        for (int i = 0, n = subs.size(); i < n; i++) {
          LiveSubscription s = subs.get(i);
          s.outbox().deliver(s, m);
        }
      }
    }
    if (batch.shutdown()) {
      shuttingDown = true;
      for (LiveConnection c : new ArrayList<>(conns)) {
        c.outbox.close(1001, "server shutting down; reconnect shortly");
      }
    }
  }

  /**
   * A token of {@code tenant} was revoked: its connections on this hub are closed with the reason
   * (4401; SSE: an error event). Only connections of that tenant's callers: a token of another
   * tenant with the same id is not the revoked one.
   */
  private void revoked(String tenant, String tokenId) {
    if (tenant == null || tokenId == null) {
      return;
    }
    for (LiveConnection c : new ArrayList<>(conns)) {
      if (tenant.equals(c.caller.tenant()) && tokenId.equals(c.caller.tokenId())) {
        c.outbox.close(TOKEN_CLOSE, REVOKED);
      }
    }
  }

  /** A heartbeat to each connection, or its close when its token has expired (or was revoked elsewhere). */
  private void heartbeat() {
    long now = ctx.clock.millis();
    for (LiveConnection c : new ArrayList<>(conns)) {
      String refusal = c.refusal(now);
      if (refusal != null) {
        c.outbox.close(TOKEN_CLOSE, refusal);
      } else {
        c.heartbeat(now);
      }
    }
  }

  private void checkStalled() {
    for (LiveConnection c : new ArrayList<>(conns)) {
      c.outbox.checkStalled();
    }
  }

  /**
   * A WebSocket at /api/v1/live/ws: any number of subscriptions, managed by ops. It holds one of its
   * tenant's live connections ({@link io.pulse.core.TenantQuota}), given back when it closes.
   * Returns the connection, or null when it was refused (the server is stopping).
   */
  LiveConnection accept(ServerWebSocket ws, io.pulse.core.Caller caller) {
    if (shuttingDown) {
      ctx.quota.release(caller.tenant(), io.pulse.core.TenantQuota.Resource.CONNECTIONS, 1);
      ws.close((short) 1001, "server shutting down");
      return null;
    }
    WsConnection c = new WsConnection(this, ctx, ws, caller);
    c.holdsConnectionOf(caller.tenant());
    conns.add(c);
    ws.frameHandler(c::onFrame);
    ws.closeHandler(v -> c.outbox.closed());
    ws.exceptionHandler(e -> c.outbox.closed());
    ws.drainHandler(v -> c.outbox.drain());
    return c;
  }

  /**
   * An SSE response at /api/v1/live/sse, already validated: one subscription. It holds one of its
   * caller's tenant's live connections, given back when it closes.
   */
  LiveConnection accept(HttpServerResponse res, HttpConnection connection, SubscriptionSpec spec, String lastEventId,
      io.pulse.core.Caller caller) {
    SseConnection c = new SseConnection(this, ctx, res, connection, caller);
    c.holdsConnectionOf(caller.tenant());
    conns.add(c);
    res.closeHandler(v -> c.outbox.closed());
    res.exceptionHandler(e -> c.outbox.closed());
    res.drainHandler(v -> c.outbox.drain());
    subscribe(c, "sse", spec, null, lastEventId);
    return c;
  }

  /**
   * Asks the live verticle for the view; its answer (subscribed, or why not) keeps the place of
   * the op among the connection's replies, and is written even when the subscription was ended
   * meanwhile (before that "unsubscribed").
   */
  void subscribe(LiveConnection c, String subId, SubscriptionSpec spec, String viewSpec, String lastEventId) {
    Outbox o = c.outbox;
    Outbox.Reply place = o.subscribing(subId, viewSpec);
    // one of the tenant's live subscriptions, from the ask on; given back on a refusal, or when it ends
    String tenant = spec.stream().tenant();
    if (!ctx.quota.tryAcquire(tenant, io.pulse.core.TenantQuota.Resource.SUBSCRIPTIONS, 1)) {
      o.answered(subId);
      c.refused(place, subId, ctx.quota.refusal(tenant, io.pulse.core.TenantQuota.Resource.SUBSCRIPTIONS));
      return;
    }
    SubscribeRequest req = new SubscribeRequest(spec.stream(), spec.filter(), spec.groupBy(), lastEventId);
    vertx.eventBus().<SubscribeReply>request(Addresses.LIVE_SUBSCRIBE, req).onComplete(ar -> {
      boolean cancelled = o.answered(subId);
      SubscribeReply r = ar.succeeded() ? ar.result().body() : null;
      String error = r == null ? "subscription failed: " + ar.cause().getMessage() : r.error();
      if (error != null) {
        ctx.quota.release(tenant, io.pulse.core.TenantQuota.Resource.SUBSCRIPTIONS, 1);
        c.refused(place, subId, error);
        return;
      }
      BackfillPlan.Start start = BackfillPlan.Start.of(spec.since(), lastEventId, r.resumeFrom(),
          ctx.storageEnabled(), ctx.clock.millis());
      if (cancelled || o.isClosed()) {
        ctx.quota.release(tenant, io.pulse.core.TenantQuota.Resource.SUBSCRIPTIONS, 1);
        vertx.eventBus().send(Addresses.LIVE_RELEASE, r.viewId());
        o.answer(place, c.subscribed(subId, spec, start, r));
        return;
      }
      LiveSubscription s = o.subscribe(subId, r.viewId(), spec, viewSpec, r.seq(), start);
      byView.computeIfAbsent(r.viewId(), k -> new ArrayList<>()).add(s);
      subscriberCount.add(1);
      o.answer(place, c.subscribed(subId, spec, start, r));
      o.started(s, r.replay());
    });
  }

  /** A subscription ended: no longer fed; its view is released. */
  void released(LiveSubscription s) {
    List<LiveSubscription> list = byView.get(s.viewId());
    if (list != null) {
      list.remove(s);
      if (list.isEmpty()) {
        byView.remove(s.viewId());
      }
    }
    subscriberCount.add(-1);
    ctx.quota.release(s.spec().stream().tenant(), io.pulse.core.TenantQuota.Resource.SUBSCRIPTIONS, 1);
    vertx.eventBus().send(Addresses.LIVE_RELEASE, s.viewId());
  }

  void backfill(LiveSubscription s) {
    backfill.read(s);
  }

  void forget(LiveConnection c) {
    conns.remove(c);
  }
}
