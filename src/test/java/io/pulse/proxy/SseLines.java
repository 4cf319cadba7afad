package io.pulse.proxy;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

/**
 * An SSE response read line by line as it arrives, comments included: Pulse's SSE heartbeat is a
 * comment line ({@code : heartbeat <ms>}), which {@link io.pulse.testing.LiveClient} skips, and
 * what this test watches is exactly whether those lines pass the proxy. HTTP/1.1, as browsers
 * speak to a plain-HTTP proxy, accepting gzip as they do; opening does not wait for the response,
 * so a proxy that holds even the headers back is seen as a feed with no lines.
 */
final class SseLines implements AutoCloseable {

  private static final String HEARTBEAT = ": heartbeat ";

  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private volatile HttpResponse<InputStream> response;
  private volatile boolean ended;
  private volatile Throwable failure;
  private volatile InputStream body;

  /** Opens {@code GET /api/v1/live/sse?query} on 127.0.0.1:{@code port} with {@code Accept-Encoding: gzip}, as a browser would. */
  SseLines(int port, String query) {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/live/sse?" + query))
        .header("Accept", "text/event-stream").header("Accept-Encoding", "gzip").GET().build();
    client.sendAsync(req, HttpResponse.BodyHandlers.ofInputStream()).whenComplete((r, e) -> {
      if (e != null) {
        failure = e;
        ended = true;
        return;
      }
      response = r;
      body = r.body();
      Thread reader = new Thread(() -> {
        try {
          // a gzipped feed (nginx's gzip, sync-flushed at each write when unbuffered) is read as a browser would
          InputStream in = compressed() ? new GZIPInputStream(body, 512) : body;
          // lines split here, not by a Reader: InputStreamReader reads on while the stream says bytes are
          // available, which a GZIPInputStream always does, and would hold lines back
          ByteArrayOutputStream line = new ByteArrayOutputStream();
          byte[] buf = new byte[4096];
          for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
            for (int i = 0; i < n; i++) {
              if (buf[i] == '\n') {
                lines.add(line.toString(StandardCharsets.UTF_8));
                line.reset();
              } else {
                line.write(buf[i]);
              }
            }
          }
        } catch (IOException | RuntimeException x) {
          failure = x; // a connection cut mid-chunk, or closed by this client: the feed ended
        } finally {
          ended = true;
        }
      }, "sse-lines-" + port);
      reader.setDaemon(true);
      reader.start();
    });
  }

  /** The response's status, or -1 before its headers came. */
  int status() {
    HttpResponse<?> r = response;
    return r == null ? -1 : r.statusCode();
  }

  HttpHeaders headers() {
    HttpResponse<?> r = response;
    return r == null ? HttpHeaders.of(java.util.Map.of(), (a, b) -> true) : r.headers();
  }

  /** Whether the response came gzipped ({@code Content-Encoding: gzip}). */
  boolean compressed() {
    return "gzip".equalsIgnoreCase(headers().firstValue("content-encoding").orElse(""));
  }

  /** Whether the response ended (the proxy or server closed it, or it failed). */
  boolean ended() {
    return ended;
  }

  Throwable failure() {
    return failure;
  }

  List<String> lines() {
    return List.copyOf(lines);
  }

  /** The server times of the heartbeats received so far. */
  List<Long> heartbeats() {
    List<Long> out = new ArrayList<>();
    for (String l : lines) {
      if (l.startsWith(HEARTBEAT)) {
        out.add(Long.parseLong(l.substring(HEARTBEAT.length()).trim()));
      }
    }
    return out;
  }

  /** The data of the events of SSE type {@code event} received so far. */
  List<JsonObject> events(String event) {
    List<JsonObject> out = new ArrayList<>();
    String type = null;
    for (String l : lines) {
      if (l.startsWith("event: ")) {
        type = l.substring(7);
      } else if (l.startsWith("data: ") && event.equals(type)) {
        out.add(new JsonObject(l.substring(6)));
      } else if (l.isEmpty()) {
        type = null;
      }
    }
    return out;
  }

  @Override
  public void close() {
    InputStream b = body;
    if (b != null) {
      try {
        b.close(); // cancels the subscription: the client closes the connection
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
