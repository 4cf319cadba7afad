package io.pulse.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.PulseConfig;
import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.LiveClient.Msg;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Pulse behind Debian's nginx with the documented site file {@code conf/nginx/pulse.conf}: a real
 * Pulse (heartbeat every second) and a real nginx whose proxy timeouts are cut to 3 s, and live
 * feeds held through nginx for 8 s, past that timeout, with rollups and heartbeats passing all along.
 * The negative controls show the check can fail: without heartbeats nginx cuts both feeds at its
 * timeout, and with the SSE location buffered the feed stalls.
 */
class NginxProxyTest {

  /** nginx's proxy_read_timeout / proxy_send_timeout in these tests. */
  private static final int TIMEOUT_S = 3;
  private static final long TIMEOUT_MS = TIMEOUT_S * 1000L;
  /** How long the feeds are held open: well past the timeout. */
  private static final long HOLD_MS = 8000;
  private static final long HEARTBEAT_MS = 1000;
  private static final String STREAM = "proxied";
  /** A stream without events: its feed carries heartbeats only. */
  private static final String QUIET = "proxied-quiet";
  /** The per-address query limit of the tests' Pulse: 1 a second with a burst of 1000, so RateLimit-Remaining counts requests. */
  private static final JsonObject QUERY_LIMIT = new JsonObject().put("limits", new JsonObject()
      .put("queryPerAddress", new JsonObject().put("rate", 1).put("burst", 1000)));

  private static TestPulse pulse;
  private static Nginx nginx;
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws Exception {
    Nginx.requireInstalled();
    pulse = startPulse(HEARTBEAT_MS, List.of("127.0.0.1"));
    nginx = startNginx(Nginx.documented(), pulse.port());
  }

  @AfterAll
  static void stop() {
    if (nginx != null) {
      nginx.close();
    }
    if (pulse != null) {
      pulse.close();
    }
  }

  /** A Pulse with live heartbeats every {@code heartbeatMs}, trusting X-Forwarded-For from {@code trusted} (PULSE_TRUSTED_PROXIES). */
  private static TestPulse startPulse(long heartbeatMs, List<String> trusted) {
    JsonObject o = QUERY_LIMIT.copy()
        .put("live", new JsonObject().put("flushMs", 100).put("heartbeatMs", heartbeatMs))
        .put("http", new JsonObject().put("trustedProxies", new io.vertx.core.json.JsonArray(trusted)));
    return TestPulse.start(o);
  }

  /**
   * nginx with {@code siteText} (the documented file, or a variant of it) made this test's: Pulse on
   * {@code upstreamPort}, a free port to listen on, the {@link #TIMEOUT_S} timeouts.
   */
  private static Nginx startNginx(String siteText, int upstreamPort) throws Exception {
    int port = TestPulse.freePort();
    Path dir = Files.createTempDirectory("pulse-nginx");
    return Nginx.start(Nginx.apply(siteText, Nginx.siteEdits(upstreamPort, port, TIMEOUT_S, dir)), port, dir);
  }

  @Test
  @DisplayName("The rendered site file is the documented one but for the lines an operator edits, in line with Pulse's defaults")
  void renderedSiteIsTheDocumentedOne() throws Exception {
    String doc = Nginx.documented();
    Path dir = Files.createTempDirectory("pulse-nginx-render");
    String rendered = Nginx.apply(doc, Nginx.siteEdits(18080, 18081, TIMEOUT_S, dir));
    String[] a = doc.split("\n", -1);
    String[] b = rendered.split("\n", -1);
    assertEquals(a.length, b.length, "rendering adds or drops no line");
    int changed = 0;
    for (int i = 0; i < a.length; i++) {
      if (!a[i].equals(b[i])) {
        changed++;
        String line = a[i].trim();
        assertTrue(line.startsWith("server 127.0.0.1:8080;") || line.startsWith("listen 80;")
            || line.startsWith("access_log ") || line.startsWith("proxy_read_timeout ")
            || line.startsWith("proxy_send_timeout "), "only the edited lines differ, not: " + a[i]);
      }
    }
    assertEquals(5, changed, "upstream, listen, access log and the two timeouts are rewritten");
    assertTrue(rendered.contains("server 127.0.0.1:18080;") && rendered.contains("listen 127.0.0.1:18081;")
        && rendered.contains("proxy_read_timeout 3s;"), rendered);
    // a literal the documented file lost is a failure, not a silently unedited file
    AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
        () -> Nginx.apply(doc.replace("listen 80;", "listen 8080;"), Nginx.siteEdits(1, 2, 3, dir)));
    assertTrue(e.getMessage().contains("listen 80;"), e.getMessage());

    // the documented settings follow Pulse's own defaults
    PulseConfig defaults = PulseConfig.of(new JsonObject());
    long readTimeoutMs = seconds(doc, "proxy_read_timeout") * 1000;
    assertTrue(readTimeoutMs > 2 * defaults.live().heartbeatMs(), "proxy_read_timeout (" + readTimeoutMs
        + " ms) is above twice live.heartbeatMs (" + defaults.live().heartbeatMs() + " ms)");
    assertTrue(seconds(doc, "proxy_send_timeout") * 1000 > 2 * defaults.live().heartbeatMs());
    Matcher body = Pattern.compile("(?m)^\\s*client_max_body_size (\\d+)m;").matcher(doc);
    assertTrue(body.find(), "client_max_body_size in MiB");
    assertEquals(defaults.ingest().maxBodyBytes(), Long.parseLong(body.group(1)) << 20,
        "client_max_body_size is ingest.maxBodyBytes");

    // and the rendered file is one nginx accepts
    Nginx.check(rendered);
  }

  private static long seconds(String conf, String directive) {
    Matcher m = Pattern.compile("(?m)^\\s*" + directive + " (\\d+)s;").matcher(conf);
    assertTrue(m.find(), directive + " in seconds in the documented file");
    long v = Long.parseLong(m.group(1));
    assertFalse(m.find(), directive + " once in the documented file");
    return v;
  }

  @Test
  @DisplayName("Through nginx, a WebSocket and an SSE feed get rollups and heartbeats for 8 s, past nginx's 3 s timeout")
  void feedsOutliveTheProxyTimeout() throws Exception {
    // Vert.x's WebSocket client sends Origin: http://127.0.0.1:<nginx port>, as a browser on that page
    // would: Pulse accepts it as its own page only when Host reaches it with the port ($http_host)
    try (LiveClient ws = LiveClient.websocket(nginx.port());
        SseLines sse = new SseLines(nginx.port(), "stream=" + STREAM + "&access_token=sekrit-display-token")) {
      assertEquals("subscribed", ws.subscribe("s1", STREAM).type());
      Await.until("the SSE feed subscribed through nginx", () -> sse.events("subscribed").size(), n -> n == 1, 10_000);
      assertEquals(200, sse.status());
      assertTrue(sse.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"),
          sse.headers().map().toString());
      // the main file gzips text/event-stream for a gzip-accepting client: the site's gzip off wins
      assertTrue(sse.headers().firstValue("content-encoding").isEmpty(), sse.headers().map().toString());
      // Pulse's X-Accel-Buffering passed on for a further proxy tier
      assertEquals("no", sse.headers().firstValue("x-accel-buffering").orElse(null));
      long opened = System.currentTimeMillis();

      // events in through nginx reach both feeds
      Await.until("a rollup on both feeds through nginx", () -> {
        ingest(nginx.port(), 1);
        return sse.events("rollup").size() > 0 && rollups(ws) > 0;
      }, ok -> ok, 10_000, 200);

      // then nothing but heartbeats, for longer than nginx's timeout
      long held = opened + HOLD_MS;
      Msg last = ws.await(m -> "heartbeat".equals(m.type()) && m.json().getLong("at") >= held, HOLD_MS + 10_000);
      assertTrue(last.json().getLong("at") >= held);
      List<Long> sseBeats = Await.until("an SSE heartbeat written " + HOLD_MS + " ms after the feed opened",
          sse::heartbeats, hb -> !hb.isEmpty() && hb.get(hb.size() - 1) >= held, 10_000);
      long wsPast = ws.seen().stream().filter(m -> "heartbeat".equals(m.type()))
          .filter(m -> m.json().getLong("at") > opened + TIMEOUT_MS).count();
      long ssePast = sseBeats.stream().filter(at -> at > opened + TIMEOUT_MS).count();
      assertTrue(wsPast >= 3, "WebSocket heartbeats after nginx's timeout had passed: " + wsPast);
      assertTrue(ssePast >= 3, "SSE heartbeats after nginx's timeout had passed: " + ssePast);
      assertFalse(ws.isClosed(), "the WebSocket is open after " + HOLD_MS + " ms");
      assertFalse(sse.ended(), "the SSE response is open after " + HOLD_MS + " ms: " + sse.failure());
      assertTrue(nginx.errorLog().indexOf("upstream timed out") < 0, nginx.errorLog());

      // still live both ways: a new subscription on the old socket, and new events on both feeds
      assertEquals("subscribed", ws.subscribe("s2", STREAM).type());
      Await.until("a rollup with the late event on both feeds", () -> {
        ingest(nginx.port(), 777);
        return sse.events("rollup").stream().anyMatch(NginxProxyTest::hasMax777) && rollupsWith777(ws) > 0;
      }, ok -> ok, 10_000, 200);
    }
    // the access log has the feed's request without its query string (display tokens travel there)
    String log = Await.until("the SSE request in the access log", nginx::accessLog,
        l -> l.contains("GET /api/v1/live/sse "), 10_000);
    assertFalse(log.contains("sekrit"), log);
  }

  @Test
  @DisplayName("Negative control: without heartbeats nginx cuts both feeds at its timeout")
  void withoutHeartbeatsTheProxyCutsTheFeeds() throws Exception {
    try (TestPulse quiet = startPulse(60_000, List.of("127.0.0.1"));
        Nginx n = startNginx(Nginx.documented(), quiet.port());
        LiveClient ws = LiveClient.websocket(n.port());
        SseLines sse = new SseLines(n.port(), "stream=" + STREAM)) {
      assertEquals("subscribed", ws.subscribe("s1", STREAM).type());
      Await.until("the SSE feed subscribed through nginx", () -> sse.events("subscribed").size(), c -> c == 1, 10_000);
      Await.until("nginx closing the quiet WebSocket", ws::isClosed, c -> c, TIMEOUT_MS + 15_000);
      Await.until("nginx ending the quiet SSE response", sse::ended, c -> c, TIMEOUT_MS + 15_000);
      assertTrue(sse.heartbeats().isEmpty(), "no heartbeat in a minute");
      assertTrue(n.errorLog().contains("upstream timed out"), "nginx's read timeout did it: " + n.errorLog());
    }
  }

  @Test
  @DisplayName("Negative control: an SSE location that buffers and gzips (X-Accel-Buffering ignored) stalls the feed")
  void bufferedSseStalls() throws Exception {
    // the main file gzips text/event-stream; a buffered response gives gzip no flush points, so
    // the few bytes of each heartbeat wait in its buffer (the headers with them)
    List<Nginx.Edit> stalling = List.of(
        new Nginx.Edit("proxy_buffering off;", "proxy_buffering on; proxy_ignore_headers X-Accel-Buffering;", 1),
        new Nginx.Edit("gzip off;              # gzip would", "gzip on;               # gzip would", 1));
    try (Nginx n = startNginx(Nginx.apply(Nginx.documented(), stalling), pulse.port());
        SseLines sse = new SseLines(n.port(), "stream=" + QUIET);
        LiveClient ws = LiveClient.websocket(n.port())) {
      long opened = System.currentTimeMillis();
      // the WebSocket through the same nginx sees heartbeats for longer than three heartbeat periods meanwhile
      ws.await(m -> "heartbeat".equals(m.type()) && m.json().getLong("at") > opened + 3 * HEARTBEAT_MS, 15_000);
      assertTrue(sse.lines().isEmpty(), "nothing of the SSE feed passes: " + sse.lines());
      assertEquals(-1, sse.status(), "not even its headers");
    }
    // the same with Pulse's X-Accel-Buffering: no obeyed (as the documented file leaves it): the feed
    // flows, gzipped but flushed at each write
    List<Nginx.Edit> obeyed = List.of(new Nginx.Edit("proxy_buffering off;", "proxy_buffering on;", 1),
        new Nginx.Edit("gzip off;              # gzip would", "gzip on;               # gzip would", 1));
    try (Nginx n = startNginx(Nginx.apply(Nginx.documented(), obeyed), pulse.port());
        SseLines sse = new SseLines(n.port(), "stream=" + QUIET)) {
      Await.until("SSE heartbeats through nginx that obeys X-Accel-Buffering", sse::heartbeats,
          hb -> hb.size() >= 2, 15_000);
      assertTrue(sse.compressed(), "gzip was on: " + sse.headers().map());
    }
  }

  @Test
  @DisplayName("X-Forwarded-For from nginx names the client to Pulse's per-address limits when nginx is trusted, and not otherwise")
  void forwardedForNamesTheClient() throws Exception {
    // clients on two loopback addresses; nginx reaches Pulse from 127.0.0.1 (trusted)
    int first = 0;
    int a = 0;
    for (int i = 0; i < 20; i++) {
      a = remaining(nginx.port(), "127.0.0.2", null);
      if (i == 0) {
        first = a;
      }
    }
    assertTrue(a <= first - 10, "one client's requests draw on one bucket: " + first + " -> " + a);
    int b = remaining(nginx.port(), "127.0.0.3", null);
    assertTrue(b >= a + 10, "another client has a bucket of its own: " + b + " after " + a);
    // a client's own X-Forwarded-For is not believed: nginx appends the real address, Pulse takes that
    int spoofed = remaining(nginx.port(), "127.0.0.2", "198.51.100.9");
    assertTrue(spoofed < a + 10, "a forged X-Forwarded-For still draws on the client's bucket: " + spoofed);

    // the same through a Pulse that does not trust nginx (PULSE_TRUSTED_PROXIES unset): one bucket for all
    try (TestPulse untrusting = startPulse(HEARTBEAT_MS, List.of()); Nginx n = startNginx(Nginx.documented(), untrusting.port())) {
      int ua = 0;
      for (int i = 0; i < 20; i++) {
        ua = remaining(n.port(), "127.0.0.2", null);
      }
      int ub = remaining(n.port(), "127.0.0.3", null);
      assertTrue(ub < ua + 10, "without trust every client is nginx's address: " + ub + " after " + ua);
    }
  }

  /** POSTs one event with value {@code v} to the stream through nginx. */
  private static void ingest(int port, double v) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
        + "/api/v1/streams/" + STREAM + "/events")).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/x-ndjson")
        .POST(HttpRequest.BodyPublishers.ofString("{\"values\":{\"v\":" + v + "}}\n")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(202, r.statusCode(), r.body());
  }

  /** Rollups the WebSocket has received so far (takes in what is queued, waiting 1 ms at most). */
  private static long rollups(LiveClient ws) {
    ws.collect(1);
    return ws.seen().stream().filter(m -> "rollup".equals(m.type())).count();
  }

  private static long rollupsWith777(LiveClient ws) {
    ws.collect(1);
    return ws.seen().stream().filter(m -> "rollup".equals(m.type())).map(Msg::json)
        .filter(NginxProxyTest::hasMax777).count();
  }

  private static boolean hasMax777(JsonObject rollup) {
    JsonObject v = rollup.getJsonObject("values");
    return v != null && v.getJsonObject("v") != null && v.getJsonObject("v").getDouble("max") == 777.0;
  }

  /**
   * GET /api/v1/streams through nginx on a connection from {@code from} (a loopback address), with
   * {@code forwardedFor} as the client's own X-Forwarded-For when not null; Pulse's RateLimit-Remaining.
   */
  private static int remaining(int port, String from, String forwardedFor) throws IOException {
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress(from, 0));
      s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      s.setSoTimeout(10_000);
      String req = "GET /api/v1/streams HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n"
          + (forwardedFor == null ? "" : "X-Forwarded-For: " + forwardedFor + "\r\n") + "\r\n";
      s.getOutputStream().write(req.getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      String text = all.toString(StandardCharsets.ISO_8859_1);
      String head = text.substring(0, Math.max(0, text.indexOf("\r\n\r\n")));
      assertTrue(head.startsWith("HTTP/1.1 200"), text);
      for (String line : head.split("\r\n")) {
        if (line.toLowerCase(Locale.ROOT).startsWith("ratelimit-remaining:")) {
          return Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
        }
      }
      throw new AssertionError("no RateLimit-Remaining in " + head);
    }
  }
}
