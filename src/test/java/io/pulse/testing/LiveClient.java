package io.pulse.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real live-feed client for tests, over WebSocket or SSE, that queues what it receives so a
 * test thread can wait for a message matching a condition. One Vert.x of its own, so it shares
 * nothing with the server under test.
 */
public final class LiveClient implements AutoCloseable {

  /** One received message: its JSON, and for SSE its event name and id. */
  public record Msg(String event, String id, JsonObject json) {
    public String type() {
      return json.getString("type");
    }
  }

  private final Vertx vertx = Vertx.vertx();
  private final LinkedBlockingQueue<Msg> inbox = new LinkedBlockingQueue<>();
  private final List<Msg> seen = new ArrayList<>();
  private WebSocket ws;
  private WebSocketClient wsClient;
  private HttpClient httpClient;
  private HttpClientResponse sse;
  private volatile boolean closed;
  private volatile Short closeCode;

  private LiveClient() {
  }

  public static LiveClient websocket(int port) {
    return websocket(port, new WebSocketClientOptions());
  }

  public static LiveClient websocket(int port, WebSocketClientOptions options) {
    return websocket(port, options, java.util.Map.of());
  }

  /** A WebSocket opened with these request headers (for a test's own CallerResolver, say). */
  public static LiveClient websocket(int port, WebSocketClientOptions options, java.util.Map<String, String> headers) {
    LiveClient c = new LiveClient();
    c.wsClient = c.vertx.createWebSocketClient(options);
    WebSocketConnectOptions connect = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
        .setURI("/api/v1/live/ws");
    headers.forEach(connect::addHeader);
    c.ws = await(c.wsClient.connect(connect).map(ws -> {
          ws.textMessageHandler(t -> c.inbox.add(new Msg(null, null, new JsonObject(t))));
          ws.closeHandler(v -> {
            c.closeCode = ws.closeStatusCode();
            c.closed = true;
          });
          return ws;
        }));
    return c;
  }

  /** Opens {@code /api/v1/live/sse?query}; {@code lastEventId} may be null. */
  public static LiveClient sse(int port, String query, String lastEventId) {
    return sse(port, query, lastEventId, java.util.Map.of());
  }

  /** {@link #sse(int, String, String)} with these request headers as well. */
  public static LiveClient sse(int port, String query, String lastEventId, java.util.Map<String, String> headers) {
    return sse(new HttpClientOptions(), port, query, lastEventId, headers);
  }

  /** {@link #sse(int, String, String, java.util.Map)} through a client made with {@code options} (TLS, HTTP/2). */
  public static LiveClient sse(HttpClientOptions options, int port, String query, String lastEventId,
      java.util.Map<String, String> headers) {
    LiveClient c = new LiveClient();
    c.httpClient = c.vertx.createHttpClient(options);
    RequestOptions ro = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port)
        .setURI("/api/v1/live/sse?" + query).addHeader("Accept", "text/event-stream");
    headers.forEach(ro::addHeader);
    if (lastEventId != null) {
      ro.addHeader("Last-Event-ID", lastEventId);
    }
    StringBuilder buf = new StringBuilder();
    // handlers are set in the completion callback, on the client's event loop, before any chunk can arrive
    c.sse = await(c.httpClient.request(ro).compose(req -> req.send()).map(resp -> {
      resp.handler(b -> c.onSseChunk(buf, b.toString()));
      return resp;
    }));
    c.sse.endHandler(v -> c.closed = true);
    c.sse.exceptionHandler(e -> c.closed = true);
    return c;
  }

  private void onSseChunk(StringBuilder buf, String chunk) {
    buf.append(chunk);
    int end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      String block = buf.substring(0, end);
      buf.delete(0, end + 2);
      String event = "message";
      String id = null;
      StringBuilder data = new StringBuilder();
      for (String line : block.split("\n")) {
        if (line.startsWith("event: ")) {
          event = line.substring(7);
        } else if (line.startsWith("id: ")) {
          id = line.substring(4);
        } else if (line.startsWith("data: ")) {
          data.append(line.substring(6));
        }
      }
      if (data.length() > 0) {
        inbox.add(new Msg(event, id, new JsonObject(data.toString())));
      }
    }
  }

  public int sseStatus() {
    return sse.statusCode();
  }

  /** The HTTP version the SSE response came over. */
  public io.vertx.core.http.HttpVersion sseVersion() {
    return sse.version();
  }

  /** The WebSocket itself (null for SSE), for what the ops above do not cover: pings, raw frames. */
  public WebSocket webSocket() {
    return ws;
  }

  public void send(JsonObject op) {
    await(ws.writeTextMessage(op.encode()));
  }

  public void sendText(String text) {
    await(ws.writeTextMessage(text));
  }

  /**
   * Subscribes to {@code stream} with subscription id {@code id} and answers the server's reply to it:
   * {@code subscribed} or {@code error}.
   */
  public Msg subscribe(String id, String stream) {
    send(new JsonObject().put("op", "subscribe").put("id", id).put("stream", stream));
    return await(m -> id.equals(m.json().getString("sub")) && ("subscribed".equals(m.type())
        || "error".equals(m.type())), 5000);
  }

  /** The refused WebSocket upgrade somewhere in {@code t}'s causes (its status and body), or null. */
  public static io.vertx.core.http.UpgradeRejectedException upgradeRejection(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof io.vertx.core.http.UpgradeRejectedException r) {
        return r;
      }
    }
    return null;
  }

  /** Stops reading from the socket, as a stalled browser tab would. */
  public void pause() {
    vertx.runOnContext(v -> ws.pause());
  }

  /** The next message that matches, skipping others (kept in {@link #seen()}); fails after the timeout. */
  public Msg await(Predicate<Msg> p, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (true) {
      long left = deadline - System.currentTimeMillis();
      Msg m;
      try {
        m = left <= 0 ? null : inbox.poll(left, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted");
      }
      if (m == null) {
        throw new AssertionError("no matching message within " + timeoutMs + " ms; last seen: "
            + (seen.isEmpty() ? "none" : seen.get(seen.size() - 1)));
      }
      seen.add(m);
      if (p.test(m)) {
        return m;
      }
    }
  }

  /** Everything received so far that {@link #await} has looked at. */
  public List<Msg> seen() {
    return seen;
  }

  /** Drains messages for a while, keeping them in {@link #seen()}. */
  public List<Msg> collect(long ms) {
    List<Msg> out = new ArrayList<>();
    long deadline = System.currentTimeMillis() + ms;
    try {
      while (System.currentTimeMillis() < deadline) {
        Msg m = inbox.poll(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
        if (m != null) {
          out.add(m);
          seen.add(m);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return out;
  }

  public boolean isClosed() {
    return closed;
  }

  public Short closeCode() {
    return closeCode;
  }

  private static <T> T await(io.vertx.core.Future<T> f) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // the client is going anyway
    }
  }
}
