package io.pulse.testing;

import io.pulse.config.PulseConfig;
import io.pulse.verticles.Pulse;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real Pulse in the test JVM on a free port, demo off, data under a temp folder, storage off
 * (so that tests that do not need PostgreSQL stay fast): {@link #startWithStorage} turns it on
 * against a {@link PgFixture} database, and {@code {"storage":{"enabled":true}}} in the overrides
 * runs the embedded one under the data folder. Blocking helpers are for test threads only.
 */
public final class TestPulse implements AutoCloseable {

  /** What an HTTP call answered. */
  public record Response(int status, String body) {
    public JsonObject json() {
      return new JsonObject(body);
    }
  }

  private final Pulse pulse;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private TestPulse(Pulse pulse) {
    this.pulse = pulse;
  }

  public static TestPulse start(JsonObject overrides) {
    try {
      JsonObject o = new JsonObject().put("demo", false)
          .put("http", new JsonObject().put("host", "127.0.0.1").put("port", freePort()))
          .put("storage", new JsonObject().put("enabled", false))
          .put("dataDir", Files.createTempDirectory("pulse-test").toString());
      PulseConfig.deepMerge(o, overrides == null ? new JsonObject() : overrides);
      Pulse p = Pulse.start(PulseConfig.of(o)).toCompletionStage().toCompletableFuture().get(90, TimeUnit.SECONDS);
      return new TestPulse(p);
    } catch (Exception e) {
      throw new IllegalStateException("Pulse did not start: " + e, e);
    }
  }

  /** A Pulse storing its history in {@code db} (a fresh PgFixture database). */
  public static TestPulse startWithStorage(PgFixture.Db db, JsonObject overrides) {
    JsonObject o = db.storageConfig();
    // tests write hand-made history at fixed past times: downsampling and retention would rewrite it
    o.getJsonObject("storage").put("downsample", false);
    PulseConfig.deepMerge(o, overrides == null ? new JsonObject() : overrides);
    return start(o);
  }

  /**
   * A real Pulse as a child process ({@code io.pulse.Main} on this test's classpath) on 127.0.0.1,
   * with its data in {@code data} and its output in {@code data/pulse.log}; add settings to the
   * builder's environment, then start it.
   */
  public static ProcessBuilder childProcess(java.nio.file.Path data, int port) {
    ProcessBuilder pb = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-cp", System.getProperty("java.class.path"), "io.pulse.Main")
        .redirectErrorStream(true).redirectOutput(data.resolve("pulse.log").toFile());
    pb.environment().put("PULSE_HTTP_PORT", Integer.toString(port));
    pb.environment().put("PULSE_HTTP_HOST", "127.0.0.1");
    pb.environment().put("PULSE_DATA_DIR", data.toString());
    return pb;
  }

  /** Waits until a child Pulse ({@link #childProcess}) answers /health/ready with 200; fails with its log if it dies. */
  public static void awaitReady(Process p, int port, java.nio.file.Path data, Duration timeout) throws Exception {
    java.nio.file.Path log = data.resolve("pulse.log");
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("Pulse exited early: " + java.nio.file.Files.readString(log));
      }
      try {
        if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("Pulse did not become ready: " + java.nio.file.Files.readString(log));
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  public Pulse pulse() {
    return pulse;
  }

  /** Waits (10 s at most) until GET {@code path} answers 200 with JSON that passes {@code ok}; returns that JSON. */
  public JsonObject awaitJson(String path, java.util.function.Predicate<JsonObject> ok) {
    return Await.until("GET " + path + " answering what the test expects", () -> {
      Response r = get(path);
      return r.status() == 200 ? r.json() : null;
    }, j -> j != null && ok.test(j), 10_000);
  }

  public int port() {
    return pulse.port();
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  public Response post(String path, String contentType, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return send(b.build());
  }

  public Response get(String path) {
    return send(HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(10)).GET().build());
  }

  /**
   * Any method, with headers given as name, value pairs, a JSON body when not null; the whole
   * response (status, headers, body).
   */
  public HttpResponse<String> request(String method, String path, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** POSTs NDJSON to {@code /api/v1/streams/{stream}/events}; returns the status. */
  public int postNdjson(String stream, String body) {
    return post("/api/v1/streams/" + stream + "/events", "application/x-ndjson", body).status();
  }

  private Response send(HttpRequest req) {
    try {
      HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    try {
      pulse.stop(Duration.ofSeconds(30));
    } catch (Exception e) {
      throw new IllegalStateException("Pulse did not stop: " + e, e);
    }
  }
}
