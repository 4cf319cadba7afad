package io.pulse.loadtests;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One WebSocket subscriber of loadtests/cluster.sh: subscribes to stream w1 grouped by region and
 * store (one row per series, the view cluster.sh configures as permanent) and remembers which
 * series it saw in a closing ("final") rollup. Running rollups are only counted, not parsed.
 */
final class ClusterSubscriber implements AutoCloseable {

  final String name;
  private final WebSocketClient client;
  private final int port;
  private volatile WebSocket socket;
  final Set<String> seriesFinal = ConcurrentHashMap.newKeySet();
  final AtomicLong messages = new AtomicLong();
  final AtomicLong finals = new AtomicLong();
  final AtomicBoolean subscribed = new AtomicBoolean();
  final AtomicBoolean closedByServer = new AtomicBoolean();
  final AtomicLong errors = new AtomicLong();
  final ConcurrentLinkedQueue<String> errorSamples = new ConcurrentLinkedQueue<>();
  volatile long connectedAtMillis;
  /** When the last series of the 1,000 first arrived (ms since the epoch); 0 until then. */
  volatile long allSeenAtMillis;

  ClusterSubscriber(Vertx vertx, String name, int port) {
    this.name = name;
    this.port = port;
    this.client = vertx.createWebSocketClient(new WebSocketClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(port).setConnectTimeout(10_000).setMaxFrameSize(1 << 20).setMaxMessageSize(16 << 20));
  }

  Future<Void> connect() {
    return client.connect(new WebSocketConnectOptions().setURI(LiveSubscribers.PATH)).map(ws -> {
      socket = ws;
      connectedAtMillis = System.currentTimeMillis();
      ws.closeHandler(v -> closedByServer.set(true));
      ws.exceptionHandler(err -> error("socket error: " + err));
      ws.textMessageHandler(this::onMessage);
      ws.writeTextMessage(new JsonObject().put("op", "subscribe").put("id", "s").put("stream", W1Workload.STREAM)
          .put("groupBy", new JsonArray().add("region").add("store")).encode());
      return null;
    });
  }

  private void onMessage(String m) {
    messages.incrementAndGet();
    String type = LiveSubscribers.stringField(m, "type");
    if ("subscribed".equals(type)) {
      subscribed.set(true);
    } else if ("error".equals(type)) {
      error(m);
    } else if ("rollup".equals(type) && m.contains("\"final\":true")) {
      finals.incrementAndGet();
      try {
        JsonObject j = new JsonObject(m);
        JsonObject series = j.getJsonObject("series");
        if (!"s".equals(j.getString("sub")) || series == null || series.getString("region") == null
            || series.getString("store") == null) {
          error("final rollup without sub s or without series.region/store: " + m);
          return;
        }
        if (seriesFinal.add(series.getString("region") + "/" + series.getString("store"))
            && seriesFinal.size() == W1Workload.SERIES) {
          allSeenAtMillis = System.currentTimeMillis();
        }
      } catch (RuntimeException e) {
        error("final rollup that is not JSON: " + m);
      }
    }
  }

  private void error(String what) {
    if (errors.incrementAndGet() <= 5) {
      errorSamples.add(IngestDriver.abbreviate(what));
    }
  }

  int port() {
    return port;
  }

  @Override
  public void close() {
    WebSocket ws = socket;
    if (ws != null && !ws.isClosed()) {
      ws.close();
    }
    client.close();
  }
}
