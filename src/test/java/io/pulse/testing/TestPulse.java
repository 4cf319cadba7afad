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
 * A real Pulse in the test JVM on a port the OS chose when it bound ({@code http.port} 0, read back
 * through {@link #port()}: no window in which another process can take it), demo off, authentication off
 * ({@link #startWithAuth} turns it on), data under a temp folder, storage off
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
    return start(overrides, io.pulse.core.Clock.SYSTEM);
  }

  /** A Pulse whose processing time is {@code clock} (a ManualClock: windows close when the test moves it). */
  public static TestPulse start(JsonObject overrides, io.pulse.core.Clock clock) {
    try {
      JsonObject o = new JsonObject().put("demo", false)
          .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 0)) // the OS picks; port() reads it
          .put("storage", new JsonObject().put("enabled", false))
          // authentication off unless the test turns it on (startWithAuth): tests of everything else need no token
          .put("auth", new JsonObject().put("enabled", false))
          .put("dataDir", Files.createTempDirectory("pulse-test").toString());
      PulseConfig.deepMerge(o, overrides == null ? new JsonObject() : overrides);
      Pulse p = Pulse.start(PulseConfig.of(o), clock).toCompletionStage().toCompletableFuture().get(90, TimeUnit.SECONDS);
      return new TestPulse(p);
    } catch (Exception e) {
      throw new IllegalStateException("Pulse did not start: " + e, e);
    }
  }

  /**
   * A Pulse with authentication on ({@code auth.enabled}), its keys the pair it generates under
   * its temp data folder unless {@code overrides} configure others; mint tokens with {@link #token}.
   */
  public static TestPulse startWithAuth(JsonObject overrides) {
    JsonObject o = new JsonObject().put("auth", new JsonObject().put("enabled", true));
    PulseConfig.deepMerge(o, overrides == null ? new JsonObject() : overrides);
    return start(o);
  }

  /** A token signed with this server's key for {@code tenant} with {@code scopes} ("read", "ingest:checkout*"), valid 1 h. */
  public String token(String tenant, String... scopes) {
    return token(new JsonObject().put("sub", "test-" + tenant).put("tenant", tenant)
        .put("scope", String.join(" ", scopes)), 3_600_000L);
  }

  /** A token of these claims (iat, exp, iss and jti added), signed with this server's key. */
  public String token(JsonObject claims, long ttlMs) {
    io.pulse.auth.TokenSigner s = pulse.signer();
    if (s == null) {
      throw new IllegalStateException("this Pulse cannot sign tokens (authentication off, or no private key)");
    }
    return s.sign(claims, ttlMs);
  }

  /** The header that carries {@code token}, as name, value pairs for {@link #request}. */
  public static String[] bearer(String token) {
    return new String[] {"Authorization", "Bearer " + token};
  }

  /** A Pulse storing its history in {@code db} (a fresh PgFixture database). */
  public static TestPulse startWithStorage(PgFixture.Db db, JsonObject overrides) {
    return startWithStorage(db, overrides, io.pulse.core.Clock.SYSTEM);
  }

  /** A Pulse storing its history in {@code db}, its processing time {@code clock}. */
  public static TestPulse startWithStorage(PgFixture.Db db, JsonObject overrides, io.pulse.core.Clock clock) {
    JsonObject o = db.storageConfig();
    // tests write hand-made history at fixed past times: downsampling and retention would rewrite it
    o.getJsonObject("storage").put("downsample", false);
    PulseConfig.deepMerge(o, overrides == null ? new JsonObject() : overrides);
    return start(o, clock);
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
    pb.environment().put("PULSE_AUTH", "false"); // as in-process test servers; a test of auth removes it
    return pb;
  }

  /** Waits until a child Pulse ({@link #childProcess}) answers /health/ready with 200; fails with its log if it dies. */
  public static void awaitReady(Process p, int port, java.nio.file.Path data, Duration timeout) throws Exception {
    java.nio.file.Path log = data.resolve("pulse.log");
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    try {
      Await.until("Pulse on port " + port + " ready", () -> {
        if (!p.isAlive()) {
          throw new IllegalStateException("exited early");
        }
        try {
          return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
              .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (IOException e) {
          return -1; // not listening yet
        }
      }, st -> st == 200 || !p.isAlive(), timeout.toMillis());
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; its log: " + java.nio.file.Files.readString(log), e);
    }
    if (!p.isAlive()) {
      throw new AssertionError("Pulse exited early: " + java.nio.file.Files.readString(log));
    }
  }

  private static final java.util.regex.Pattern BANNER_PORT =
      java.util.regex.Pattern.compile("Pulse is running: +https?://[^/]*:(\\d+)/");

  /**
   * Starts a child Pulse ({@link #childProcess} with {@code PULSE_HTTP_PORT=0}, the port chosen by
   * the OS as it binds), reads the port from its start-up banner, and waits until it is ready.
   * Returns that port; fails with its log if it dies or is not ready within {@code timeout}.
   */
  public static int awaitStarted(Process p, java.nio.file.Path data, Duration timeout) throws Exception {
    java.nio.file.Path log = data.resolve("pulse.log");
    long deadline = System.nanoTime() + timeout.toNanos();
    int port;
    try {
      port = Await.until("the banner of the child Pulse, naming its port", () -> {
        java.util.regex.Matcher m = BANNER_PORT.matcher(java.nio.file.Files.readString(log));
        return m.find() ? Integer.parseInt(m.group(1)) : p.isAlive() ? null : -1;
      }, v -> v != null, timeout.toMillis());
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; its log: " + java.nio.file.Files.readString(log), e);
    }
    if (port < 0) {
      throw new AssertionError("Pulse exited early: " + java.nio.file.Files.readString(log));
    }
    awaitReady(p, port, data, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
    return port;
  }

  /**
   * A port free a moment ago, for a server that cannot be asked which port it bound (a child
   * process restarted on the same port, a PostgreSQL of a test's own): another process could take
   * it before the test binds it, so prefer port 0 wherever the server reports what it bound.
   */
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
    return awaitJson(path, ok, 10_000);
  }

  /** {@link #awaitJson(String, java.util.function.Predicate)} with a deadline of {@code timeoutMs}. */
  public JsonObject awaitJson(String path, java.util.function.Predicate<JsonObject> ok, long timeoutMs) {
    return Await.until("GET " + path + " answering what the test expects", () -> {
      Response r = get(path);
      return r.status() == 200 ? r.json() : null;
    }, j -> j != null && ok.test(j), timeoutMs);
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

  /** The stacks of this JVM's Vert.x event-loop threads, a few frames each. */
  static String eventLoops() {
    StringBuilder sb = new StringBuilder();
    Thread.getAllStackTraces().forEach((t, frames) -> {
      if (t.getName().startsWith("vert.x-eventloop")) {
        sb.append(t.getName()).append(' ').append(t.getState()).append('\n');
        for (int i = 0; i < Math.min(12, frames.length); i++) {
          sb.append("    at ").append(frames[i]).append('\n');
        }
      }
    });
    return sb.toString();
  }

  private Response send(HttpRequest req) {
    try {
      HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body());
    } catch (java.net.http.HttpTimeoutException e) {
      // a server that does not answer: say what its event loops were doing, so a rare hang can be told apart
      throw new IllegalStateException(req.method() + " " + req.uri() + " had no answer in time; event loops now:\n"
          + eventLoops(), e);
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
