package io.pulse.loadtests;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * WebSocket subscribers of the live feed: half group {@code w1} by region, half take the stream
 * total. For every rollup they record receive time - {@code latest} (the newest event time folded
 * into the window so far). Messages are scanned, not parsed into objects, so that 100 subscribers
 * cost the generator little CPU. All sockets live on one event-loop context.
 */
final class LiveSubscribers implements AutoCloseable {

  static final String PATH = "/api/v1/live/ws";

  private final Context ctx;
  /** Kept in a field: Vert.x 5 closes a client nothing references. */
  private final WebSocketClient client;
  private final int port;
  /** A JWT sent as {@code Authorization: Bearer} on each upgrade; null sends none. */
  private final String token;
  private final List<WebSocket> sockets = new ArrayList<>();
  private final List<Sub> subs = new ArrayList<>();
  private volatile PhaseStats stats;
  final LongAdder closedByServer = new LongAdder();
  final ConcurrentLinkedQueue<String> errorMessages = new ConcurrentLinkedQueue<>();
  final AtomicLong errorCount = new AtomicLong();
  private final AtomicLong checked = new AtomicLong();
  static final int TRACE_LIMIT = 20_000;
  /** With --trace: receive time and message of two subscribers (one by region, one total), bounded. */
  final ConcurrentLinkedQueue<String> trace = new ConcurrentLinkedQueue<>();
  volatile boolean tracing;
  /** The first message of each kind (type, and for rollups running/final), for the report. */
  final Map<String, String> firstMessages = new ConcurrentHashMap<>();
  /** One stream-total subscriber's view of closed windows: window start -> count (last "final" wins). */
  final Map<Long, Long> totalFinalCounts = new ConcurrentHashMap<>();

  /** Per subscriber. */
  static final class Sub {
    final boolean byRegion;
    final AtomicLong messages = new AtomicLong();
    final AtomicLong rollups = new AtomicLong();
    final java.util.concurrent.atomic.AtomicBoolean acked = new java.util.concurrent.atomic.AtomicBoolean();

    Sub(boolean byRegion) {
      this.byRegion = byRegion;
    }
  }

  LiveSubscribers(Vertx vertx, Context ctx, int port, int count) {
    this(vertx, ctx, port, count, null);
  }

  LiveSubscribers(Vertx vertx, Context ctx, int port, int count, String token) {
    this.ctx = ctx;
    this.port = port;
    this.token = token;
    this.client = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setDefaultHost("127.0.0.1").setDefaultPort(port)
        .setMaxConnections(Math.max(count, WebSocketClientOptions.DEFAULT_MAX_CONNECTIONS))
        .setConnectTimeout(10_000));
    for (int i = 0; i < count; i++) {
      subs.add(new Sub(i % 2 == 0));
    }
  }

  void record(PhaseStats s) {
    this.stats = s;
  }

  List<Sub> subs() {
    return subs;
  }

  int connected() {
    return sockets.size();
  }

  /** Connects and subscribes every subscriber, one after another in small groups. */
  Future<Void> connectAll() {
    Promise<Void> done = Promise.promise();
    ctx.runOnContext(v -> {
      List<Future<WebSocket>> all = new ArrayList<>();
      boolean totalsCounted = false;
      for (Sub sub : subs) {
        // the first stream-total subscriber adds up the final counts
        boolean counts = !sub.byRegion && !totalsCounted;
        totalsCounted |= counts;
        all.add(connect(sub, counts));
      }
      Future.all(all).<Void>mapEmpty().onComplete(done);
    });
    return done.future();
  }

  private Future<WebSocket> connect(Sub sub, boolean countsTotals) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setURI(PATH);
    if (token != null) {
      options.putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token);
    }
    return client.connect(options).map(ws -> {
      synchronized (sockets) {
        sockets.add(ws);
      }
      ws.closeHandler(v -> closedByServer.increment());
      ws.textMessageHandler(m -> onMessage(sub, m, countsTotals));
      ws.exceptionHandler(err -> error("socket error: " + err));
      JsonObject subscribe = new JsonObject().put("op", "subscribe").put("id", "s").put("stream", W1Workload.STREAM)
          .put("groupBy", sub.byRegion ? new JsonArray().add("region") : new JsonArray());
      ws.writeTextMessage(subscribe.encode());
      return ws;
    });
  }

  private void onMessage(Sub sub, String m, boolean countsTotals) {
    long now = System.currentTimeMillis();
    sub.messages.incrementAndGet();
    if (tracing && (sub == subs.get(0) || countsTotals) && trace.size() < TRACE_LIMIT) {
      trace.add(now + "\t" + (sub.byRegion ? "region" : "total") + "\t" + m);
    }
    PhaseStats s = stats;
    String type = stringField(m, "type");
    String kind = "rollup".equals(type) ? (m.contains("\"final\":true") ? "rollup final" : "rollup running") : type;
    if (firstMessages.size() < 8 && !firstMessages.containsKey(String.valueOf(kind))) {
      firstMessages.putIfAbsent(String.valueOf(kind), IngestDriver.abbreviate(m));
    }
    if ("subscribed".equals(type)) {
      sub.acked.set(true);
    }
    if ("rollup".equals(type)) {
      sub.rollups.incrementAndGet();
      boolean fin = m.contains("\"final\":true");
      long latest = longField(m, "latest");
      if (countsTotals && fin) {
        // few of these (one a window): parse properly
        try {
          JsonObject j = new JsonObject(m);
          Long start = j.getLong("start");
          Long count = j.getLong("count");
          if (start != null && count != null) {
            totalFinalCounts.put(start, count);
          }
        } catch (RuntimeException e) {
          error("final rollup that is not JSON: " + m);
        }
      }
      if (checked.get() < 50 && checked.incrementAndGet() <= 50) {
        crossCheck(m, fin, latest);
      }
      if (s == null) {
        return;
      }
      (fin ? s.rollupsFinal : s.rollupsLive).increment();
      if (latest == Long.MIN_VALUE) {
        s.rollupsWithoutLatest.increment();
        return;
      }
      long lat = now - latest;
      if (lat < 0) {
        s.negativeLatencies.increment();
        lat = 0;
      }
      (fin ? s.finalLatencyMs : s.liveLatencyMs).recordValue(Math.min(lat, 3_600_000L));
    } else {
      if ("error".equals(type)) {
        error(m);
      }
      if (s != null) {
        s.otherMessages.computeIfAbsent(type == null ? "(no type)" : type, k -> new LongAdder()).increment();
      }
    }
  }

  /** The scan above assumes compact JSON with top-level fields first; check that on the first messages. */
  private void crossCheck(String m, boolean fin, long latest) {
    try {
      JsonObject j = new JsonObject(m);
      Long l = j.getLong("latest");
      boolean f = Boolean.TRUE.equals(j.getBoolean("final"));
      if (f != fin || (l == null ? latest != Long.MIN_VALUE : l != latest)) {
        error("scanner disagrees with the JSON parser (final=" + fin + ", latest=" + latest + ") on: " + m);
      }
      if (!"s".equals(j.getString("sub")) || !W1Workload.STREAM.equals(j.getString("stream"))) {
        error("rollup without \"sub\":\"s\" or \"stream\":\"w1\": " + m);
      }
    } catch (RuntimeException e) {
      error("rollup that is not JSON: " + m);
    }
  }

  private void error(String what) {
    if (errorCount.incrementAndGet() <= 10) {
      errorMessages.add(IngestDriver.abbreviate(what));
    }
  }

  /** The value of {@code "name":"..."} in a flat scan; null if absent. Good enough for Pulse's compact JSON. */
  static String stringField(String m, String name) {
    String key = "\"" + name + "\":";
    int i = m.indexOf(key);
    if (i < 0) {
      return null;
    }
    int j = i + key.length();
    while (j < m.length() && m.charAt(j) == ' ') {
      j++;
    }
    if (j >= m.length() || m.charAt(j) != '"') {
      return null;
    }
    int end = m.indexOf('"', j + 1);
    return end < 0 ? null : m.substring(j + 1, end);
  }

  /** The integer value of the first {@code "name":123}; Long.MIN_VALUE if absent. */
  static long longField(String m, String name) {
    String key = "\"" + name + "\":";
    int i = m.indexOf(key);
    if (i < 0) {
      return Long.MIN_VALUE;
    }
    int j = i + key.length();
    while (j < m.length() && m.charAt(j) == ' ') {
      j++;
    }
    long v = 0;
    int digits = 0;
    boolean neg = j < m.length() && m.charAt(j) == '-';
    if (neg) {
      j++;
    }
    while (j < m.length() && Character.isDigit(m.charAt(j)) && digits < 19) {
      v = v * 10 + (m.charAt(j) - '0');
      j++;
      digits++;
    }
    if (digits == 0) {
      return Long.MIN_VALUE;
    }
    return neg ? -v : v;
  }

  @Override
  public void close() {
    List<WebSocket> copy;
    synchronized (sockets) {
      copy = new ArrayList<>(sockets);
    }
    for (WebSocket ws : copy) {
      ws.close();
    }
    client.close();
  }
}
