package io.pulse.loadtests;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The viewers of {@link ViewersBenchmark}, in a JVM of their own: real WebSocket and SSE clients of
 * Pulse's live feed over loopback sockets (Vert.x clients, two event loops). The driver steers it
 * over stdin, one command a line, and reads one answer line per command (prefixed {@code >}) from
 * stdout:
 *
 * <pre>
 *   add N      connect viewers until N are open (subscribed), at most 200 connecting at once
 *   trim N     close viewers N.. (keep the first N)
 *   record     start a new phase: latency histograms and per-viewer counts start from here
 *   stats      the phase so far as one JSON line
 *   quit
 * </pre>
 *
 * <p>Viewer 0 is the "one viewer" of the baseline: a WebSocket with one subscription per view of
 * {@link #VIEWS}, so the server aggregates the same views whatever the number of viewers. Viewer
 * i &gt; 0 holds one subscription: WebSocket when i is even, SSE when odd, on the view {@link #viewOf}
 * gives (half stream totals, three in ten filtered totals, two in ten group-bys). Every rollup's
 * latency is its receive time minus its {@code latest} (the newest event time folded in, which W1's
 * generator set to the moment the event left it); both JVMs read the same system clock.
 */
public final class ViewersClients {

  /** A view of stream w1 that viewers subscribe to: its group-by and filter. */
  record View(String name, List<String> groupBy, Map<String, String> filter) {

    JsonObject subscribe(String id) {
      JsonObject f = new JsonObject();
      filter.forEach(f::put);
      return new JsonObject().put("op", "subscribe").put("id", id).put("stream", W1Workload.STREAM)
          .put("groupBy", new JsonArray(new ArrayList<>(groupBy))).put("filter", f);
    }

    String sseUri() {
      StringBuilder sb = new StringBuilder("/api/v1/live/sse?stream=").append(W1Workload.STREAM);
      if (!groupBy.isEmpty()) {
        sb.append("&groupBy=").append(String.join(",", groupBy));
      }
      filter.forEach((k, v) -> sb.append("&filter=").append(k).append(':').append(v));
      return sb.toString();
    }
  }

  static final List<View> VIEWS = List.of(
      new View("stream total", List.of(), Map.of()),
      new View("total of region r3 (filter)", List.of(), Map.of("region", "r3")),
      new View("total of region r7 (filter)", List.of(), Map.of("region", "r7")),
      new View("by region (group-by, 10 series)", List.of("region"), Map.of()),
      new View("store s042 by region (filter + group-by, 10 series)", List.of("region"), Map.of("store", "s042")));

  /** The view of viewer i > 0, over a cycle of 20: 10 stream totals, 3 + 3 filtered totals, 2 + 2 group-bys. */
  static int viewOf(int i) {
    int k = i % 20;
    return k < 10 ? 0 : k < 13 ? 1 : k < 16 ? 2 : k < 18 ? 3 : 4;
  }

  static boolean webSocket(int i) {
    return i % 2 == 0;
  }

  /** One viewer: its socket and what it received. */
  final class Viewer {
    final int index;
    final boolean ws;
    final AtomicLong rollups = new AtomicLong();
    long rollupsAtRecord;
    volatile boolean open;
    volatile boolean closing;
    WebSocket socket;
    HttpConnection connection;
    final StringBuilder sse = new StringBuilder();

    Viewer(int index) {
      this.index = index;
      this.ws = index == 0 || webSocket(index);
    }
  }

  private final Vertx vertx;
  private final WebSocketClient wsClient;
  private final HttpClientAgent http;
  private final List<Viewer> viewers = new ArrayList<>();
  private final Recorder running = new Recorder(3_600_000L, 3);
  private final Recorder finals = new Recorder(3_600_000L, 3);
  private final Recorder runningWs = new Recorder(3_600_000L, 3);
  private final Recorder runningSse = new Recorder(3_600_000L, 3);
  private final LongAdder messages = new LongAdder();
  private final LongAdder heartbeats = new LongAdder();
  private final LongAdder withoutLatest = new LongAdder();
  private final LongAdder closedByServer = new LongAdder();
  private final LongAdder connectFailures = new LongAdder();
  private final AtomicLong errors = new AtomicLong();
  private final ConcurrentLinkedQueue<String> errorSamples = new ConcurrentLinkedQueue<>();
  private final AtomicInteger subscribedAcks = new AtomicInteger();
  private long recordStartMs = System.currentTimeMillis();
  private long recordCpuNanos;

  private ViewersClients(int port, int max) {
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    this.wsClient = vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(port).setMaxConnections(max + 16).setConnectTimeout(30_000).setMaxFrameSize(1 << 20)
        .setMaxMessageSize(1 << 22));
    this.http = vertx.httpClientBuilder()
        .with(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port).setKeepAlive(true)
            .setConnectTimeout(30_000).setIdleTimeout(0))
        .with(new PoolOptions().setHttp1MaxSize(max + 16).setMaxWaitQueueSize(-1))
        .build();
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int max = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    ViewersClients c = new ViewersClients(port, max);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    System.out.println("> ready");
    System.out.flush();
    String line;
    while ((line = in.readLine()) != null) {
      String[] w = line.trim().split("\\s+");
      String answer;
      try {
        answer = switch (w[0]) {
          case "add" -> c.add(Integer.parseInt(w[1]));
          case "trim" -> c.trim(Integer.parseInt(w[1]));
          case "record" -> c.record();
          case "stats" -> c.stats().encode();
          case "quit" -> null;
          default -> "error unknown command " + w[0];
        };
      } catch (Exception e) {
        answer = "error " + e;
      }
      if (answer == null) {
        break;
      }
      System.out.println("> " + answer);
      System.out.flush();
    }
    c.trim(0);
    c.vertx.close().await(10, TimeUnit.SECONDS);
    System.exit(0);
  }

  // ---------------------------------------------------------------------------------------------
  // commands

  private String add(int target) throws Exception {
    long t0 = System.nanoTime();
    int from = viewers.size();
    for (int i = from; i < target; i++) {
      viewers.add(new Viewer(i));
    }
    int acksBefore = subscribedAcks.get();
    int expectedAcks = 0;
    for (int i = from; i < target; i++) {
      expectedAcks += i == 0 ? VIEWS.size() : 1;
    }
    // at most 200 connecting at once: the server's accept queue and the loopback stay calm
    AtomicInteger next = new AtomicInteger(from);
    AtomicInteger done = new AtomicInteger();
    Promise<Void> all = Promise.promise();
    int total = target - from;
    if (total <= 0) {
      all.complete();
    }
    Runnable[] step = new Runnable[1];
    step[0] = () -> {
      int i = next.getAndIncrement();
      if (i >= target) {
        return;
      }
      connect(viewers.get(i)).onComplete(ar -> {
        if (ar.failed()) {
          connectFailures.increment();
          error("viewer " + i + " did not connect: " + ar.cause());
        }
        if (done.incrementAndGet() == total) {
          all.tryComplete();
        } else {
          step[0].run();
        }
      });
    };
    vertx.runOnContext(v -> {
      for (int k = 0; k < Math.min(200, total); k++) {
        step[0].run();
      }
    });
    all.future().await(600, TimeUnit.SECONDS);
    // then the subscriptions' answers (subscribed), up to 60 s
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (subscribedAcks.get() - acksBefore < expectedAcks && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return String.format(java.util.Locale.ROOT, "added %d open %d subscribed %d/%d failures %d in %.1f s", total,
        open(), subscribedAcks.get() - acksBefore, expectedAcks, connectFailures.sum(), (System.nanoTime() - t0) / 1e9);
  }

  private Future<Void> connect(Viewer v) {
    if (v.ws) {
      return wsClient.connect(new WebSocketConnectOptions().setURI(LiveSubscribers.PATH)).map(ws -> {
        v.socket = ws;
        v.open = true;
        ws.textMessageHandler(m -> onMessage(v, m));
        ws.closeHandler(x -> closed(v));
        ws.exceptionHandler(e -> error("viewer " + v.index + ": " + e));
        if (v.index == 0) {
          for (int k = 0; k < VIEWS.size(); k++) {
            ws.writeTextMessage(VIEWS.get(k).subscribe("v" + k).encode());
          }
        } else {
          ws.writeTextMessage(VIEWS.get(viewOf(v.index)).subscribe("s").encode());
        }
        return null;
      });
    }
    String uri = VIEWS.get(viewOf(v.index)).sseUri();
    return http.request(new RequestOptions().setMethod(HttpMethod.GET).setURI(uri)
            .putHeader("Accept", "text/event-stream"))
        .compose(req -> req.send().map(res -> {
          if (res.statusCode() != 200) {
            res.body().onSuccess(b -> error("SSE " + uri + " answered " + res.statusCode() + ": " + b));
            throw new IllegalStateException("SSE answered " + res.statusCode());
          }
          v.connection = req.connection();
          v.open = true;
          res.handler(b -> onSse(v, b));
          res.exceptionHandler(e -> {
            if (!v.closing) {
              error("viewer " + v.index + ": " + e);
            }
          });
          req.connection().closeHandler(x -> closed(v));
          return null;
        }));
  }

  private void closed(Viewer v) {
    if (v.open && !v.closing) {
      closedByServer.increment();
    }
    v.open = false;
  }

  private String trim(int keep) throws Exception {
    List<Future<Void>> closing = new ArrayList<>();
    while (viewers.size() > keep) {
      Viewer v = viewers.remove(viewers.size() - 1);
      v.closing = true;
      if (v.socket != null) {
        closing.add(v.socket.close());
      } else if (v.connection != null) {
        closing.add(v.connection.close());
      }
    }
    Future.join(closing).await(60, TimeUnit.SECONDS);
    return "open " + open();
  }

  private String record() {
    running.reset();
    finals.reset();
    runningWs.reset();
    runningSse.reset();
    messages.reset();
    heartbeats.reset();
    withoutLatest.reset();
    for (Viewer v : viewers) {
      v.rollupsAtRecord = v.rollups.get();
    }
    recordStartMs = System.currentTimeMillis();
    recordCpuNanos = cpuNanos();
    return "recording";
  }

  private JsonObject stats() {
    Histogram r = running.getIntervalHistogram();
    Histogram f = finals.getIntervalHistogram();
    Histogram rw = runningWs.getIntervalHistogram();
    Histogram rs = runningSse.getIntervalHistogram();
    int silent = 0;
    int openNow = 0;
    long minRollups = Long.MAX_VALUE;
    long maxRollups = 0;
    for (Viewer v : viewers) {
      long n = v.rollups.get() - v.rollupsAtRecord;
      if (v.open) {
        openNow++;
        if (n == 0) {
          silent++;
        }
        minRollups = Math.min(minRollups, n);
        maxRollups = Math.max(maxRollups, n);
      }
    }
    double seconds = (System.currentTimeMillis() - recordStartMs) / 1000.0;
    return new JsonObject().put("viewers", viewers.size()).put("open", openNow).put("silent", silent)
        .put("rollupsPerViewerMin", openNow == 0 ? 0 : minRollups).put("rollupsPerViewerMax", maxRollups)
        .put("seconds", seconds).put("messages", messages.sum()).put("heartbeats", heartbeats.sum())
        .put("withoutLatest", withoutLatest.sum()).put("closedByServer", closedByServer.sum())
        .put("connectFailures", connectFailures.sum()).put("errors", errors.get())
        .put("errorSamples", new JsonArray(new ArrayList<>(errorSamples)))
        .put("running", Bench.hist(r, 1)).put("final", Bench.hist(f, 1))
        .put("runningWs", Bench.hist(rw, 1)).put("runningSse", Bench.hist(rs, 1))
        .put("runningHist", encode(r)).put("finalHist", encode(f))
        .put("cpuNanos", cpuNanos() - recordCpuNanos);
  }

  /** A histogram as base64 of HdrHistogram's compressed form, for the driver to merge phases. */
  static String encode(Histogram h) {
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(h.getNeededByteBufferCapacity());
    int n = h.encodeIntoCompressedByteBuffer(buf);
    return java.util.Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), n));
  }

  static Histogram decode(String b64) throws java.util.zip.DataFormatException {
    return Histogram.decodeFromCompressedByteBuffer(java.nio.ByteBuffer.wrap(java.util.Base64.getDecoder().decode(b64)),
        3_600_000L);
  }

  private int open() {
    int n = 0;
    for (Viewer v : viewers) {
      if (v.open) {
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // messages

  /** SSE: events end with a blank line; the data line is the JSON. Chunks may split or join events. */
  private void onSse(Viewer v, Buffer b) {
    StringBuilder sb = v.sse;
    sb.append(b.toString(StandardCharsets.UTF_8));
    int start = 0;
    int end;
    while ((end = sb.indexOf("\n\n", start)) >= 0) {
      int data = sb.indexOf("data: ", start);
      if (data >= 0 && data < end) {
        int eol = sb.indexOf("\n", data);
        onMessage(v, sb.substring(data + 6, eol));
      } else if (sb.indexOf(": heartbeat", start) == start) {
        heartbeats.increment();
      }
      start = end + 2;
    }
    sb.delete(0, start);
  }

  private void onMessage(Viewer v, String m) {
    long now = System.currentTimeMillis();
    messages.increment();
    String type = LiveSubscribers.stringField(m, "type");
    if ("rollup".equals(type)) {
      v.rollups.incrementAndGet();
      long latest = LiveSubscribers.longField(m, "latest");
      if (latest == Long.MIN_VALUE) {
        withoutLatest.increment();
        return;
      }
      long lat = Math.max(0, Math.min(now - latest, 3_600_000L));
      if (m.contains("\"final\":true")) {
        finals.recordValue(lat);
      } else {
        running.recordValue(lat);
        (v.ws ? runningWs : runningSse).recordValue(lat);
      }
    } else if ("subscribed".equals(type)) {
      subscribedAcks.incrementAndGet();
    } else if ("heartbeat".equals(type)) {
      heartbeats.increment();
    } else if ("error".equals(type) || "closing".equals(type)) {
      error("viewer " + v.index + ": " + m);
    }
  }

  private void error(String what) {
    if (errors.incrementAndGet() <= 10) {
      errorSamples.add(IngestDriver.abbreviate(what));
    }
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }
}
