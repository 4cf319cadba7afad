package io.pulse.verticles;

import io.pulse.agg.Rollup;
import io.pulse.agg.View;
import io.pulse.agg.ViewKey;
import io.pulse.agg.WindowAgg;
import io.pulse.live.LiveBatch;
import io.pulse.live.LiveJson;
import io.pulse.live.LiveMessage;
import io.pulse.live.MessageAssembler;
import io.pulse.live.TokenBucket;
import io.pulse.live.SubscribeReply;
import io.pulse.live.SubscribeRequest;
import io.pulse.live.SubscriptionSpec;
import io.pulse.store.History;
import io.pulse.store.RollupStore;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The live connections of one HTTP instance, all on its event loop. It takes the sequenced
 * messages the live verticle publishes and writes each to the subscribers of its view.
 *
 * <p>A subscriber that cannot keep up is bounded: while its connection's write queue is full,
 * running updates wait in a map keyed by series (a newer one replaces the older: coalesced), and
 * final rollups in a queue of at most {@code live.maxPendingFinals}. Past that, or after
 * {@code live.slowClientTimeoutMs} without progress, the connection is closed with a reason.
 *
 * <p>What one WebSocket can make the server hold is bounded: replies (pong, subscribed,
 * unsubscribed, error) wait in at most {@code live.maxPendingReplies} while its write queue is
 * full (then close 1008); a message being put together is at most {@code live.maxMessageBytes};
 * one since= history is read and queued at a time (at most {@link #MAX_HISTORY_WINDOWS} windows),
 * and at most {@link #MAX_HELD} live messages wait behind it. It may send {@code
 * live.maxOpsPerSecond} messages a second and watch {@code live.maxViewsPerStreamPerSocket}
 * distinct views of one stream.
 */
final class LiveHub {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LiveHub.class);
  private static final int MAX_SUBS_PER_SOCKET = 64;
  /** Longest client-supplied text (an id, an op name) echoed back in a reply. */
  private static final int MAX_ECHO = 64;
  /** History windows sent to one subscription at most; the newest are kept. */
  static final int MAX_HISTORY_WINDOWS = 20_000;
  /**
   * Live messages held for one subscription while its history is sent (shared objects: a
   * reference each). Enough for a view of thousands of series over the few seconds it takes.
   */
  private static final int MAX_HELD = 50_000;
  /** How long a since= subscription waits for storage to write what it holds before reading history. */
  private static final long SYNC_WAIT_MS = 5_000;
  /** Beyond one flush tick: for the shards' last finals before a since= boundary to reach storage. */
  private static final long SETTLE_MS = 250;

  private final Vertx vertx;
  private final PulseContext ctx;
  /** Where since= history is merged (the HTTP verticle's history pool), never on the event loop. */
  private final WorkerExecutor history;
  private final Map<Integer, List<Sub>> byView = new HashMap<>();
  private final Set<Conn> conns = new LinkedHashSet<>();
  private final List<Long> timers = new ArrayList<>();
  private boolean shuttingDown;

  LiveHub(Vertx vertx, PulseContext ctx, WorkerExecutor history) {
    this.vertx = vertx;
    this.ctx = ctx;
    this.history = history;
  }

  Future<Void> start() {
    MessageConsumer<LiveBatch> c = vertx.eventBus().consumer(Addresses.LIVE_UPDATES, m -> onBatch(m.body()));
    timers.add(vertx.setPeriodic(ctx.config.live().heartbeatMs(), t -> heartbeat()));
    timers.add(vertx.setPeriodic(ctx.config.live().flushMs(), t -> checkStalled()));
    return c.completion();
  }

  void stop() {
    timers.forEach(vertx::cancelTimer);
    for (Conn c : new ArrayList<>(conns)) {
      c.close(1001, "server stopping");
    }
  }

  private void onBatch(LiveBatch batch) {
    for (LiveMessage m : batch.messages()) {
      List<Sub> subs = byView.get(m.viewId());
      if (subs != null) {
        for (int i = 0, n = subs.size(); i < n; i++) {
          Sub s = subs.get(i);
          if (m.rollup() != null && m.rollup().start() < s.liveFrom) {
            continue; // a window its history covers (since=)
          }
          if (s.held != null) {
            s.hold(m); // its history is still being sent: live messages wait behind it
          } else {
            s.conn.offer(s, m);
          }
        }
      }
    }
    if (batch.shutdown()) {
      shuttingDown = true;
      for (Conn c : new ArrayList<>(conns)) {
        c.close(1001, "server shutting down; reconnect shortly");
      }
    }
  }

  private void heartbeat() {
    long now = ctx.clock.millis();
    for (Conn c : conns) {
      c.heartbeat(now);
    }
  }

  private void checkStalled() {
    long now = ctx.clock.millis();
    long limit = ctx.config.live().slowClientTimeoutMs();
    for (Conn c : new ArrayList<>(conns)) {
      if (c.stalledSince > 0 && now - c.stalledSince > limit) {
        c.closeSlow("slow consumer: nothing could be written for " + (now - c.stalledSince) + " ms");
      }
    }
  }

  /**
   * A WebSocket at /api/v1/live/ws of {@code caller}: any number of subscriptions, to streams of
   * the caller's tenant, managed by ops.
   */
  void accept(ServerWebSocket ws, io.pulse.core.Caller caller) {
    if (shuttingDown) {
      ws.close((short) 1001, "server shutting down");
      return;
    }
    WsConn c = new WsConn(ws, caller.tenant());
    conns.add(c);
    // frames, not Vert.x's message aggregation: fragments are put together here with a bound, and
    // what is too big, not UTF-8 or binary closes the socket with a close frame and the reason
    ws.frameHandler(c::onFrame);
    ws.closeHandler(v -> c.closed());
    ws.exceptionHandler(e -> c.closed());
    ws.drainHandler(v -> c.drain());
  }

  /** An SSE response at /api/v1/live/sse, already validated: one subscription. */
  void accept(HttpServerResponse res, HttpConnection connection, SubscriptionSpec spec, String lastEventId) {
    SseConn c = new SseConn(res, connection);
    conns.add(c);
    res.closeHandler(v -> c.closed());
    res.exceptionHandler(e -> c.closed());
    res.drainHandler(v -> c.drain());
    subscribe(c, "sse", spec, lastEventId);
  }

  private void subscribe(Conn c, String subId, SubscriptionSpec spec, String lastEventId) {
    c.pendingIds.add(subId);
    SubscribeRequest req = new SubscribeRequest(spec.stream(), spec.filter(), spec.groupBy(), lastEventId);
    vertx.eventBus().<SubscribeReply>request(Addresses.LIVE_SUBSCRIBE, req).onComplete(ar -> {
      if (c.cancelled.remove(subId)) {
        if (ar.succeeded() && ar.result().body().error() == null) {
          vertx.eventBus().send(Addresses.LIVE_RELEASE, ar.result().body().viewId());
        }
        return; // unsubscribed before the subscription was made
      }
      c.pendingIds.remove(subId);
      c.pendingViews.remove(subId);
      if (ar.failed()) {
        c.error(subId, "subscription failed: " + ar.cause().getMessage());
        return;
      }
      SubscribeReply r = ar.result().body();
      if (r.error() != null) {
        c.error(subId, r.error());
        return;
      }
      if (c.isClosed()) {
        vertx.eventBus().send(Addresses.LIVE_RELEASE, r.viewId());
        return;
      }
      Sub s = new Sub(subId, c, r.viewId(), spec);
      s.seq = r.seq();
      s.resumed = lastEventId != null && !lastEventId.isBlank() && r.resumeFrom() == null;
      s.since = r.resumeFrom() != null ? r.resumeFrom()
          : spec.since() == null ? null : spec.since().resolve(ctx.clock.millis());
      c.subs.put(subId, s);
      byView.computeIfAbsent(r.viewId(), k -> new ArrayList<>()).add(s);
      ctx.subscribers.incrementAndGet();
      c.subscribed(s, r);
      c.replaying = true;
      for (LiveMessage m : r.replay()) {
        c.offer(s, m);
      }
      c.replaying = false;
      if (s.since != null && !s.resumed && ctx.storageEnabled()) {
        // live messages wait from now on behind the history; one history at a time per connection, so that
        // what a connection holds of history is one subscription's (MAX_HISTORY_WINDOWS), not 64 of them
        s.held = new LinkedHashMap<>();
        c.backfillQueue.add(s);
        if (c.backfilling == null) {
          c.nextBackfill();
        }
      }
    });
  }

  /**
   * History first (API.md {@code since=}), then the live feed, with no gap and no duplicate.
   *
   * <p>The two meet at a window boundary: windows that every shard has closed by the time of
   * subscribing (end + allowed lateness passed) come from storage, later ones from the live feed,
   * which holds its messages meanwhile and skips earlier windows for this subscriber. Such a
   * boundary also keeps out the one window a view created just now could report short (a shard
   * that closed it before the view existed adds nothing to it). Before reading, the hub gives the
   * shards one flush tick to close those windows and asks storage to write every final it holds.
   * Stored windows are merged to the view's window, sent oldest first as fast as the connection
   * takes them, then a {@code history} message, then what was held.
   */
  private void backfill(Sub s, long since) {
    View view = ctx.views.byId(s.viewId);
    long now = ctx.clock.millis();
    if (view == null) {
      s.conn.releaseHeld(s);
      s.conn.nextBackfill();
      return;
    }
    long w = view.windowMs();
    long boundary = Math.floorDiv(now - ctx.config.aggregation().allowedLatenessMs(), w) * w;
    s.liveFrom = boundary; // what was held before now and is older comes from storage: skipped when released
    long from = Math.min(Math.floorDiv(since, w) * w, boundary); // from the window that holds since
    History.Request req = new History.Request(view.stream(), from, boundary, w, view.filter(), view.groupBy(), null);
    Promise<Void> settled = Promise.promise();
    vertx.setTimer(ctx.config.live().flushMs() + SETTLE_MS, t -> settled.complete());
    settled.future()
        .compose(v -> vertx.eventBus().request(Addresses.STORE_SYNC, "sync",
            new DeliveryOptions().setSendTimeout(SYNC_WAIT_MS)))
        .map(m -> (String) null)
        .otherwise(e -> "storage is behind, so the last few seconds before you subscribed may be missing")
        .compose(warning -> (from >= boundary ? Future.succeededFuture(List.<RollupStore.Stored>of())
                : ctx.rollups.read(req, History.MAX_ROWS))
            .compose(rows -> history.executeBlocking(() -> historyMessages(s, view, req, rows), false))
            .map(msgs -> new Backfill(msgs, warning)))
        .onComplete(ar -> {
          if (s.conn.isClosed() || s.conn.subs.get(s.id) != s) {
            if (!s.conn.isClosed()) {
              s.conn.nextBackfill();
            }
            return;
          }
          int sent = 0;
          boolean truncated = false;
          for (LiveMessage m : ar.succeeded() ? ar.result().messages() : List.<LiveMessage>of()) {
            if (m.rollup() == null) {
              truncated = true; // the marker historyMessages leaves when it kept only the newest
              continue;
            }
            s.conn.backfill.add(new Pending(s, new LiveMessage(m.viewId(), m.seriesKey(), true, m.seq(), "rollup",
                m.json(), null, m.rollup().start())));
            sent++;
          }
          JsonObject done = new JsonObject().put("type", "history").put("since", from).put("until", boundary)
              .put("windows", sent);
          if (truncated) {
            done.put("truncated", true).put("warning", "only the newest " + MAX_HISTORY_WINDOWS + " windows are sent; "
                + "GET /api/v1/streams/" + view.stream().name() + "/series reads longer ranges");
          } else if (ar.failed()) {
            done.put("error", "history could not be read: " + ar.cause().getMessage());
          } else if (ar.result().warning() != null) {
            done.put("warning", ar.result().warning());
          }
          s.conn.backfill.add(new Pending(s, new LiveMessage(s.viewId, "", true, s.seq, "history", done.encode(),
              null)));
          s.conn.pumpBackfill();
        });
  }

  /** The stored windows as rollup messages for one subscriber, oldest first (runs on a worker). */
  private List<LiveMessage> historyMessages(Sub s, View view, History.Request req, List<RollupStore.Stored> rows) {
    Map<io.pulse.event.Dims, java.util.TreeMap<Long, WindowAgg>> buckets = History.buckets(req, rows, ctx.codec,
        ctx.config.aggregation().sketchMaxBins());
    List<LiveMessage> out = new ArrayList<>();
    buckets.forEach((dims, windows) -> {
      ViewKey key = new ViewKey(view, dims);
      windows.forEach((start, w) -> {
        Rollup r = w.rollup(key, true);
        String json = LiveJson.rollup(r, s.metrics);
        json = "{\"type\":\"rollup\",\"history\":true," + json.substring(json.indexOf(',') + 1);
        out.add(new LiveMessage(s.viewId, dims.toString(), true, s.seq, "rollup", json, r));
      });
    });
    out.sort(java.util.Comparator.comparingLong((LiveMessage m) -> m.rollup().start())
        .thenComparing(LiveMessage::seriesKey));
    if (out.size() > MAX_HISTORY_WINDOWS) {
      List<LiveMessage> newest = new ArrayList<>(out.subList(out.size() - MAX_HISTORY_WINDOWS, out.size()));
      newest.add(new LiveMessage(s.viewId, "", true, s.seq, "truncated", "", null));
      return newest;
    }
    return out;
  }

  private record Backfill(List<LiveMessage> messages, String warning) {
  }

  private void unsubscribe(Sub s) {
    List<Sub> list = byView.get(s.viewId);
    if (list != null) {
      list.remove(s);
      if (list.isEmpty()) {
        byView.remove(s.viewId);
      }
    }
    if (s.held != null) {
      s.conn.heldTotal -= s.held.size();
      s.held = null;
    }
    if (s.conn.subs.remove(s.id) != null) {
      ctx.subscribers.decrementAndGet();
      vertx.eventBus().send(Addresses.LIVE_RELEASE, s.viewId);
    }
  }

  /**
   * The "subscribed" message: what the subscription is, as the server understood it, with
   * warnings for dims or value names the stream has never had (a typo shows at once).
   */
  private JsonObject describe(Sub s, SubscribeReply r) {
    JsonObject filter = new JsonObject();
    s.spec.filter().forEach((k, v) -> filter.put(k, new JsonArray(new ArrayList<>(v))));
    JsonObject o = new JsonObject().put("type", "subscribed").put("stream", r.stream().name())
        .put("groupBy", r.groupBy() == null ? null : new JsonArray(new ArrayList<>(r.groupBy())))
        .put("filter", filter).put("metrics", s.metrics == null ? null : new JsonArray(new ArrayList<>(s.metrics)))
        .put("window", r.window());
    io.pulse.catalog.StreamCatalog.StreamInfo info = ctx.catalog.get(r.stream());
    JsonArray warnings = new JsonArray();
    if (s.since != null) {
      o.put("since", s.since);
      if (!ctx.storageEnabled()) {
        warnings.add("since: history is not kept (storage is off); the live feed starts now");
      } else if (s.resumed) {
        warnings.add("since: not used when resuming with Last-Event-ID, which picks up where you left");
      }
    }
    if (info == null) {
      warnings.add("stream " + r.stream().name() + " has had no events yet; rollups start with its first");
    } else {
      Set<String> dims = info.dims().keySet();
      for (String g : s.spec.groupBy()) {
        if (!dims.contains(g)) {
          warnings.add("groupBy: stream " + r.stream().name() + " has no dim \"" + g + "\" (it has " + dims + ")");
        }
      }
      for (String f : s.spec.filter().keySet()) {
        if (!dims.contains(f)) {
          warnings.add("filter: stream " + r.stream().name() + " has no dim \"" + f + "\" (it has " + dims + ")");
        }
      }
      if (s.metrics != null) {
        for (String m : s.metrics) {
          if (!info.valueNames().contains(m)) {
            warnings.add("metrics: stream " + r.stream().name() + " has no value \"" + m + "\" (it has "
                + info.valueNames() + ")");
          }
        }
      }
    }
    if (!warnings.isEmpty()) {
      o.put("warnings", warnings);
    }
    return o;
  }

  /** One subscription on a connection. */
  private final class Sub {
    final String id;
    final Conn conn;
    final int viewId;
    final SubscriptionSpec spec;
    final Set<String> metrics;
    /** The view's sequence number when it subscribed: what its history messages carry as SSE ids. */
    long seq;
    /** Where its history starts (since=), or null. */
    Long since;
    /** Whether it resumed with Last-Event-ID (which wins over since=). */
    boolean resumed;
    /** With since=, the first window the live feed delivers to it; earlier ones come from storage. */
    long liveFrom = Long.MIN_VALUE;
    /**
     * Live messages held while the subscription's history is being sent (null otherwise): finals
     * in order, running updates coalesced per series.
     */
    LinkedHashMap<String, LiveMessage> held;

    Sub(String id, Conn conn, int viewId, SubscriptionSpec spec) {
      this.id = id;
      this.conn = conn;
      this.viewId = viewId;
      this.spec = spec;
      this.metrics = spec.metrics();
    }

    void hold(LiveMessage m) {
      int before = held.size();
      String key = m.fin() ? m.seriesKey() + "#" + m.seq() + "#" + held.size() : m.seriesKey() + "#running";
      if (!m.fin()) {
        held.remove(key); // the newest running update of a series goes after the finals held before it
      }
      held.put(key, m);
      conn.heldTotal += held.size() - before;
      if (conn.heldTotal > MAX_HELD) {
        conn.closeSlow("slow consumer: more than " + MAX_HELD + " live messages waited behind the history");
      }
    }
  }

  private record Pending(Sub sub, LiveMessage message) {
  }

  /** A connection and its bounded outbox. */
  private abstract class Conn {
    final Map<String, Sub> subs = new LinkedHashMap<>();
    final Set<String> pendingIds = new LinkedHashSet<>();
    /** The view (View.spec) each pending subscription asked for: counted against the per-stream share. */
    final Map<String, String> pendingViews = new HashMap<>();
    /** Subscriptions unsubscribed while their subscribe was still on its way. */
    final Set<String> cancelled = new java.util.HashSet<>();
    final ArrayDeque<Pending> finals = new ArrayDeque<>();
    final Map<String, Pending> running = new LinkedHashMap<>();
    /** History windows of subscriptions with since=, written as the connection can take them. */
    final ArrayDeque<Pending> backfill = new ArrayDeque<>();
    /** since= subscriptions whose history is still to be read, one at a time; and the one being read or sent. */
    final ArrayDeque<Sub> backfillQueue = new ArrayDeque<>();
    Sub backfilling;
    /** Live messages held behind history, over all of this connection's subscriptions (at most MAX_HELD). */
    int heldTotal;
    long stalledSince;
    boolean closed;
    /** Set while replaying a resume: those writes are not live pushes and are not timed. */
    boolean replaying;

    abstract boolean writeQueueFull();

    abstract void write(Sub s, LiveMessage m);

    abstract void error(String subId, String message);

    abstract void subscribed(Sub s, SubscribeReply r);

    abstract void heartbeat(long now);

    abstract void shut(int code, String reason, boolean slow);

    boolean isClosed() {
      return closed;
    }

    void offer(Sub s, LiveMessage m) {
      if (closed) {
        return;
      }
      if (finals.isEmpty() && running.isEmpty() && !repliesWaiting() && !writeQueueFull()) {
        send(s, m);
        return;
      }
      if (stalledSince == 0) {
        stalledSince = ctx.clock.millis();
      }
      if (m.fin()) {
        // the final figures supersede any running update of the same window still waiting
        if (running.remove(key(s, m)) != null) {
          ctx.coalesced.increment();
        }
        finals.add(new Pending(s, m));
        if (finals.size() > ctx.config.live().maxPendingFinals()) {
          closeSlow("slow consumer: more than " + ctx.config.live().maxPendingFinals() + " final rollups waiting");
        }
      } else if (running.put(key(s, m), new Pending(s, m)) != null) {
        ctx.coalesced.increment();
      }
      drain();
    }

    private String key(Sub s, LiveMessage m) {
      return s.id + '\u0000' + m.viewId() + '\u0000' + m.seriesKey();
    }

    private void send(Sub s, LiveMessage m) {
      write(s, m);
      if (m.rollup() != null && !replaying) {
        (m.fin() ? ctx.pushLatencyFinal : ctx.pushLatency)
            .record(Math.max(0, ctx.clock.millis() - m.rollup().latestArrival()), TimeUnit.MILLISECONDS);
      }
    }

    /** Replies held while the connection could not take them (WebSocket only). */
    boolean repliesWaiting() {
      return false;
    }

    /** Writes held replies while the connection takes them. */
    void drainReplies() {
    }

    /** Forgets held replies (the connection is going). */
    void dropReplies() {
    }

    void drain() {
      drainReplies();
      while (!writeQueueFull() && !closed && !repliesWaiting()) {
        Pending p = finals.poll();
        if (p == null) {
          Iterator<Pending> it = running.values().iterator();
          if (!it.hasNext()) {
            break;
          }
          p = it.next();
          it.remove();
        }
        if (p.sub.conn.subs.containsKey(p.sub.id)) {
          send(p.sub, p.message);
        }
      }
      if (finals.isEmpty() && running.isEmpty() && !repliesWaiting()) {
        stalledSince = 0;
      }
      pumpBackfill();
    }

    /** Writes history while the connection takes it; after a subscription's last window, releases its held live feed. */
    void pumpBackfill() {
      boolean was = replaying;
      replaying = true;
      while (!backfill.isEmpty() && !writeQueueFull() && !closed) {
        Pending p = backfill.poll();
        boolean last = "history".equals(p.message.type());
        if (p.sub.conn.subs.get(p.sub.id) == p.sub) {
          write(p.sub, p.message);
          if (last) {
            replaying = was;
            releaseHeld(p.sub);
            replaying = true;
          }
        }
        if (last && backfilling == p.sub) {
          nextBackfill();
        }
      }
      replaying = was;
    }

    /** Starts the history of the next since= subscription still subscribed, if any. */
    void nextBackfill() {
      backfilling = null;
      Sub s;
      while (!closed && (s = backfillQueue.poll()) != null) {
        if (subs.get(s.id) == s) {
          backfilling = s;
          backfill(s, s.since);
          return;
        }
      }
    }

    /** After its history: the live messages a subscription held go out, but for windows its history had. */
    void releaseHeld(Sub s) {
      LinkedHashMap<String, LiveMessage> held = s.held;
      s.held = null;
      if (held == null) {
        return;
      }
      heldTotal -= held.size();
      for (LiveMessage m : held.values()) {
        if (m.rollup() == null || m.rollup().start() >= s.liveFrom) {
          offer(s, m);
        }
      }
    }

    void closeSlow(String reason) {
      if (closed) {
        return;
      }
      ctx.slowClosed.increment();
      ctx.dropped.increment(finals.size() + running.size());
      dropReplies();
      close(1008, reason, true);
    }

    void close(int code, String reason) {
      close(code, reason, false);
    }

    private void close(int code, String reason, boolean slow) {
      if (closed) {
        return;
      }
      if (!slow) {
        drain();
      }
      finals.clear();
      running.clear();
      backfill.clear();
      closed();
      shut(code, reason, slow);
    }

    /** Forgets the connection: its subscriptions are released. Safe to call more than once. */
    void closed() {
      closed = true;
      dropReplies();
      backfillQueue.clear();
      backfilling = null;
      for (Sub s : new ArrayList<>(subs.values())) {
        unsubscribe(s);
      }
      finals.clear();
      running.clear();
      conns.remove(this);
    }

    boolean unsubscribeOp(String subId) {
      Sub s = subs.get(subId);
      if (s == null && pendingIds.remove(subId)) {
        cancelled.add(subId); // its subscribe is still on its way: released when the answer comes
        pendingViews.remove(subId);
        return true;
      }
      if (s == null) {
        error(subId, "no subscription with this id");
        return false;
      }
      unsubscribe(s);
      if (backfill.removeIf(p -> p.sub == s) && backfilling == s) {
        nextBackfill(); // its history was waiting to be sent: the next one's turn
      }
      Iterator<Pending> it = finals.iterator();
      while (it.hasNext()) {
        if (it.next().sub == s) {
          it.remove();
        }
      }
      running.values().removeIf(p -> p.sub == s);
      return true;
    }
  }

  private final class WsConn extends Conn {
    final ServerWebSocket ws;
    final MessageAssembler assembler = new MessageAssembler(ctx.config.edge().wsMaxMessageBytes());
    final TokenBucket ops;
    /**
     * Replies (pong, subscribed, unsubscribed, error) waiting while the socket's write queue is
     * full: at most {@code live.maxPendingReplies}, then the socket is closed as a slow consumer.
     */
    final ArrayDeque<String> replies = new ArrayDeque<>();
    /** A binary message is arriving: its continuation frames are not text. */
    boolean binary;
    /** The tenant of the socket's caller: its subscriptions are to this tenant's streams. */
    final String tenant;

    WsConn(ServerWebSocket ws, String tenant) {
      this.ws = ws;
      this.tenant = tenant;
      int rate = ctx.config.edge().wsMaxOpsPerSecond();
      this.ops = new TokenBucket(rate, 2 * rate, ctx.clock.millis());
    }

    void onFrame(WebSocketFrame frame) {
      if (closed) {
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
        close(out.closeCode(), out.reason());
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
        error(id, "the message could not be handled: " + EdgeGuard.clip(String.valueOf(e.getMessage()), 200));
      }
    }

    private void handle(String name, String id, JsonObject op) {
      switch (name) {
        case "subscribe":
          if (id == null) {
            error(null, "subscribe: id required, 1 to " + MAX_ECHO + " characters");
            return;
          }
          if (subs.containsKey(id) || pendingIds.contains(id)) {
            error(id, "subscribe: id " + id + " is already in use on this connection");
            return;
          }
          if (subs.size() + pendingIds.size() >= MAX_SUBS_PER_SOCKET) {
            error(id, "subscribe: at most " + MAX_SUBS_PER_SOCKET + " subscriptions per connection");
            return;
          }
          SubscriptionSpec spec;
          try {
            spec = SubscriptionSpec.fromJson(tenant, op);
          } catch (IllegalArgumentException e) {
            error(id, e.getMessage());
            return;
          }
          String view = View.spec(spec.stream(), spec.filter(), spec.groupBy());
          int share = ctx.config.edge().wsMaxViewsPerStream();
          if (viewsOf(spec.stream(), view) >= share) {
            error(id, "subscribe: this connection already watches " + share + " distinct filter/groupBy combinations "
                + "of stream " + spec.stream().name() + " (live.maxViewsPerStreamPerSocket); unsubscribe one first");
            return;
          }
          pendingViews.put(id, view);
          subscribe(this, id, spec, null);
          break;
        case "unsubscribe":
          if (id == null) {
            error(null, "unsubscribe: id required");
            return;
          }
          if (unsubscribeOp(id)) {
            reply(new JsonObject().put("type", "unsubscribed").put("sub", id).encode());
          }
          break;
        case "ping":
          reply(new JsonObject().put("type", "pong").put("at", ctx.clock.millis()).encode());
          break;
        default:
          error(id, "unknown op \"" + EdgeGuard.clip(name, MAX_ECHO) + "\"; use subscribe, unsubscribe or ping");
      }
    }

    /**
     * Distinct views of {@code stream} this connection watches or is subscribing to, other than
     * {@code view} itself (subscribing again to a view it has makes no new one).
     */
    private int viewsOf(io.pulse.core.StreamId stream, String view) {
      // View.spec begins with tenant/name and '|' (neither '/' nor '|' is a stream-name character)
      String prefix = stream.tenant() + '/' + stream.name() + '|';
      Set<String> distinct = new java.util.HashSet<>();
      for (Sub s : subs.values()) {
        distinct.add(View.spec(s.spec.stream(), s.spec.filter(), s.spec.groupBy()));
      }
      distinct.addAll(pendingViews.values());
      distinct.removeIf(v -> !v.startsWith(prefix));
      distinct.remove(view);
      return distinct.size();
    }

    @Override
    boolean writeQueueFull() {
      return ws.writeQueueFull();
    }

    @Override
    boolean repliesWaiting() {
      return !replies.isEmpty();
    }

    /** A reply to the client: written now if the socket takes it, else held (bounded). */
    private void reply(String text) {
      if (closed) {
        return;
      }
      if (replies.isEmpty() && !writeQueueFull()) {
        ws.writeTextMessage(text);
        return;
      }
      int max = ctx.config.edge().wsMaxPendingReplies();
      if (replies.size() >= max) {
        closeSlow("slow consumer: more than " + max + " replies waiting unread (live.maxPendingReplies)");
        return;
      }
      replies.add(text);
      ctx.edge.queuedReplies.incrementAndGet();
      if (stalledSince == 0) {
        stalledSince = ctx.clock.millis();
      }
    }

    @Override
    void drainReplies() {
      while (!replies.isEmpty() && !writeQueueFull() && !closed) {
        ws.writeTextMessage(replies.poll());
        ctx.edge.queuedReplies.decrementAndGet();
      }
    }

    @Override
    void dropReplies() {
      ctx.edge.queuedReplies.addAndGet(-replies.size());
      replies.clear();
    }

    private void write(String text) {
      if (!closed) {
        ws.writeTextMessage(text);
      }
    }

    @Override
    void write(Sub s, LiveMessage m) {
      String json = s.metrics == null || m.rollup() == null ? m.json() : LiveJson.rollup(m.rollup(), s.metrics);
      write(LiveJson.withSub(json, s.id));
    }

    @Override
    void error(String subId, String message) {
      JsonObject o = new JsonObject().put("type", "error");
      if (subId != null) {
        o.put("sub", subId);
      }
      reply(o.put("error", EdgeGuard.clip(String.valueOf(message), 512)).encode());
    }

    @Override
    void subscribed(Sub s, SubscribeReply r) {
      reply(describe(s, r).put("sub", s.id).encode());
    }

    @Override
    void heartbeat(long now) {
      if (!writeQueueFull() && replies.isEmpty()) {
        write("{\"type\":\"heartbeat\",\"at\":" + now + "}");
      }
    }

    @Override
    void shut(int code, String reason, boolean slow) {
      if (!ws.isClosed()) {
        if (!slow) {
          ws.writeTextMessage(new JsonObject().put("type", "closing").put("reason", reason).encode());
        }
        if (code == 1001) {
          // the server is stopping: a graceful shutdown lets what is queued go first (2 s at most)
          ws.shutdown(2, TimeUnit.SECONDS, (short) code, EdgeGuard.clip(reason, 120));
        } else {
          // the client broke a bound: the close frame goes now, after what is already written (a graceful
          // shutdown held it back for its whole timeout); Vert.x closes TCP if the client does not answer it
          ws.close((short) code, EdgeGuard.clip(reason, 120));
        }
      }
    }
  }

  private final class SseConn extends Conn {
    final HttpServerResponse res;
    final HttpConnection connection;

    SseConn(HttpServerResponse res, HttpConnection connection) {
      this.res = res;
      this.connection = connection;
    }

    @Override
    boolean writeQueueFull() {
      return res.writeQueueFull();
    }

    /** Running updates between two finals: their ids are {@code <boot>-<seq>.<n>}, unique on the connection. */
    private long runningSinceFinal;

    @Override
    void write(Sub s, LiveMessage m) {
      String json = s.metrics == null || m.rollup() == null ? m.json() : LiveJson.rollup(m.rollup(), s.metrics);
      String id = ctx.bootId + "-" + m.seq();
      if (m.fin()) {
        runningSinceFinal = 0;
      } else {
        id += "." + (++runningSinceFinal);
      }
      if (m.at() != LiveMessage.NO_WINDOW && ctx.storageEnabled()) {
        // the window to resume from after a restart (when the resume log cannot help): this one
        // again, so nothing is missed if the connection broke between two finals of one window
        id += "~" + m.at();
      }
      res.write("id: " + id + "\nevent: " + m.type() + "\ndata: " + json + "\n\n");
    }

    @Override
    void error(String subId, String message) {
      if (!closed) {
        res.write("event: error\ndata: " + new JsonObject().put("type", "error").put("error", message).encode()
            + "\n\n");
        close(1008, message);
      }
    }

    @Override
    void subscribed(Sub s, SubscribeReply r) {
      JsonObject o = describe(s, r);
      if (r.reset()) {
        res.write("id: " + ctx.bootId + "-" + r.seq() + "\nevent: reset\ndata: "
            + new JsonObject().put("type", "reset").put("reason", r.resetReason()).encode() + "\n\n");
      }
      // ~ the window open now: a reconnect after a restart, before any rollup came, replays from there
      View v = ctx.views.byId(r.viewId());
      String at = v == null || !ctx.storageEnabled() ? ""
          : "~" + Math.floorDiv(s.since != null ? s.since : ctx.clock.millis(), v.windowMs()) * v.windowMs();
      res.write("id: " + ctx.bootId + "-" + r.seq() + at + "\nevent: subscribed\ndata: " + o.encode() + "\n\n");
    }

    @Override
    void heartbeat(long now) {
      if (!writeQueueFull()) {
        res.write(": heartbeat " + now + "\n\n");
      }
    }

    @Override
    void shut(int code, String reason, boolean slow) {
      if (!slow && !res.ended()) {
        res.write("event: closing\ndata: " + new JsonObject().put("type", "closing").put("reason", reason).encode()
            + "\n\n");
        res.end();
      } else {
        connection.close();
      }
    }
  }
}
