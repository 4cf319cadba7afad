package io.pulse.loadtests;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A headless Chromium driven over the DevTools protocol (CDP) with the JDK's own WebSocket client:
 * no WebDriver, so the load drivers need nothing beyond target/pulse.jar and target/test-classes.
 * One browser, one page. {@link #close()} stops the browser and removes its profile.
 */
final class Cdp implements AutoCloseable {

  static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("PULSE_CHROMIUM", "/usr/bin/chromium"));

  private final Process browser;
  private final Path profile;
  private final WebSocket ws;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
  /** Console errors and uncaught exceptions of the page (bounded: the first 50). */
  final List<String> pageErrors = java.util.Collections.synchronizedList(new ArrayList<>());

  private Cdp(Process browser, Path profile, WebSocket ws) {
    this.browser = browser;
    this.profile = profile;
    this.ws = ws;
  }

  /** Starts Chromium headless with a page of {@code width} x {@code height} CSS pixels. */
  static Cdp launch(int width, int height, Path log) throws Exception {
    if (!Files.isExecutable(CHROMIUM)) {
      throw new IOException("no Chromium at " + CHROMIUM + " (apt-get install -y chromium, or set PULSE_CHROMIUM)");
    }
    Path profile = Files.createTempDirectory("pulse-chromium-");
    List<String> cmd = List.of(CHROMIUM.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions", "--hide-scrollbars",
        "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
        "--disable-backgrounding-occluded-windows", "--enable-precise-memory-info", "--remote-allow-origins=*",
        "--remote-debugging-port=0", "--user-data-dir=" + profile, "--window-size=" + width + "," + height,
        "about:blank");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Path portFile = profile.resolve("DevToolsActivePort");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(portFile) || Files.readAllLines(portFile).isEmpty()) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        p.destroyForcibly();
        throw new IOException("Chromium did not open its DevTools port; see " + log);
      }
      Thread.sleep(100);
    }
    int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
    HttpClient http = HttpClient.newHttpClient();
    String wsUrl = null;
    while (wsUrl == null) {
      String list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      for (Object o : new JsonArray(list)) {
        JsonObject t = (JsonObject) o;
        if ("page".equals(t.getString("type"))) {
          wsUrl = t.getString("webSocketDebuggerUrl");
        }
      }
      if (wsUrl == null) {
        if (System.nanoTime() > deadline) {
          p.destroyForcibly();
          throw new IOException("Chromium has no page target");
        }
        Thread.sleep(100);
      }
    }
    Listener listener = new Listener();
    WebSocket ws = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10)).buildAsync(URI.create(wsUrl), listener)
        .get(10, TimeUnit.SECONDS);
    Cdp cdp = new Cdp(p, profile, ws);
    listener.cdp = cdp;
    cdp.call("Page.enable", new JsonObject());
    cdp.call("Runtime.enable", new JsonObject());
    cdp.call("Performance.enable", new JsonObject());
    cdp.call("Emulation.setDeviceMetricsOverride", new JsonObject().put("width", width).put("height", height)
        .put("deviceScaleFactor", 1).put("mobile", false));
    return cdp;
  }

  private static final class Listener implements WebSocket.Listener {
    volatile Cdp cdp;
    private final StringBuilder part = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      part.append(data);
      if (last) {
        String msg = part.toString();
        part.setLength(0);
        if (cdp != null) {
          cdp.onMessage(new JsonObject(msg));
        }
      }
      webSocket.request(1);
      return null;
    }
  }

  private void onMessage(JsonObject m) {
    Integer id = m.getInteger("id");
    if (id != null) {
      CompletableFuture<JsonObject> f = pending.remove(id);
      if (f != null) {
        if (m.containsKey("error")) {
          f.completeExceptionally(new IOException("CDP error: " + m.getJsonObject("error").encode()));
        } else {
          f.complete(m.getJsonObject("result", new JsonObject()));
        }
      }
      return;
    }
    String method = m.getString("method", "");
    if (pageErrors.size() < 50) {
      if (method.equals("Runtime.exceptionThrown")) {
        JsonObject d = m.getJsonObject("params").getJsonObject("exceptionDetails", new JsonObject());
        JsonObject ex = d.getJsonObject("exception", new JsonObject());
        pageErrors.add("exception: " + ex.getString("description", d.getString("text", "?")));
      } else if (method.equals("Runtime.consoleAPICalled")
          && "error".equals(m.getJsonObject("params").getString("type"))) {
        pageErrors.add("console.error: " + m.getJsonObject("params").getJsonArray("args", new JsonArray()).encode());
      }
    }
  }

  /** One CDP command; its result. */
  JsonObject call(String method, JsonObject params) throws IOException {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonObject> f = new CompletableFuture<>();
    pending.put(id, f);
    ws.sendText(new JsonObject().put("id", id).put("method", method).put("params", params).encode(), true);
    try {
      return f.get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (Exception e) {
      pending.remove(id);
      throw new IOException(method + ": " + e, e);
    }
  }

  void navigate(String url) throws IOException {
    call("Page.navigate", new JsonObject().put("url", url));
  }

  /** The value of a JavaScript expression (awaited if it is a promise), as JSON-compatible Java. */
  Object eval(String expression) throws IOException {
    JsonObject r = call("Runtime.evaluate", new JsonObject().put("expression", expression).put("returnByValue", true)
        .put("awaitPromise", true));
    if (r.containsKey("exceptionDetails")) {
      throw new IOException("page script failed: " + r.getJsonObject("exceptionDetails").encode());
    }
    return r.getJsonObject("result", new JsonObject()).getValue("value");
  }

  /** Performance.getMetrics as name -> value (JSHeapUsedSize, Nodes, JSEventListeners, Documents, ...). */
  Map<String, Double> metrics() throws IOException {
    Map<String, Double> out = new java.util.LinkedHashMap<>();
    for (Object o : call("Performance.getMetrics", new JsonObject()).getJsonArray("metrics")) {
      JsonObject m = (JsonObject) o;
      out.put(m.getString("name"), m.getDouble("value"));
    }
    return out;
  }

  void collectGarbage() throws IOException {
    call("HeapProfiler.collectGarbage", new JsonObject());
  }

  /** A PNG of the page as it is now. */
  byte[] screenshot() throws IOException {
    String b64 = call("Page.captureScreenshot", new JsonObject().put("format", "png")).getString("data");
    return java.util.Base64.getDecoder().decode(b64);
  }

  boolean alive() {
    return browser.isAlive();
  }

  @Override
  public void close() {
    try {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(2, TimeUnit.SECONDS);
    } catch (Exception e) {
      // the browser goes anyway
    }
    browser.descendants().forEach(ProcessHandle::destroy);
    browser.destroy();
    try {
      if (!browser.waitFor(5, TimeUnit.SECONDS)) {
        browser.descendants().forEach(ProcessHandle::destroyForcibly);
        browser.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Bench.deleteTree(profile);
  }
}
