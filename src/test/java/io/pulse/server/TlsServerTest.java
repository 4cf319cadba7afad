package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.LiveClient;
import io.pulse.testing.TestPulse;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.OpenSSLEngineOptions;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Pulse over TLS from certificate files (tls.cert / tls.key), default settings: TLS 1.3 only, the
 * OpenSSL engine on the server side (seen through the server's own connection counter, which names
 * the engine class of each TLS session), HTTP/2 by ALPN, and the live feed over it.
 */
@DisplayName("TLS: OpenSSL engine, TLS 1.3, HTTP/2 by ALPN, the live feed over TLS")
class TlsServerTest {

  private static Path dir;
  private static TlsKit.Cert cert;
  private static TestPulse pulse;
  private static HttpClient client;
  private static TlsKit.Remembering trust;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("pulse-tls");
    cert = TlsKit.make(dir, "a");
    pulse = TestPulse.start(new JsonObject()
        .put("tls", new JsonObject().put("cert", cert.cert().toString()).put("key", cert.key().toString()))
        .put("http", new JsonObject().put("bodyTimeoutMs", 1500))
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("heartbeatMs", 1000)));
    trust = new TlsKit.Remembering();
    client = TlsKit.https(trust);
  }

  @AfterAll
  static void stop() {
    if (pulse != null) {
      pulse.close();
    }
  }

  private static String metrics() throws Exception {
    HttpResponse<String> r = TlsKit.get(client, pulse.port(), "/metrics");
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  @Test
  @DisplayName("HEAD over HTTP/2 (load balancers' health checks): the GET answer's status and length, no body")
  void headOverHttp2() throws Exception {
    for (String[] c : new String[][] {{"/health/live", "200"}, {"/metrics", "200"}, {"/openapi.json", "200"},
        {"/api/v1/nosuch", "404"}, {"/api/v1/streams", "200"}, {"/", "200"}}) {
      HttpResponse<String> r = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("https://127.0.0.1:"
          + pulse.port() + c[0])).timeout(java.time.Duration.ofSeconds(10))
          .method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(Integer.parseInt(c[1]), r.statusCode(), c[0]);
      assertEquals(HttpClient.Version.HTTP_2, r.version(), c[0]);
      assertEquals("", r.body(), c[0]);
      assertTrue(r.headers().firstValueAsLong("content-length").orElse(0) > 0, c[0] + " " + r.headers().map());
    }
  }

  @Test
  @DisplayName("a TLS 1.3 handshake shows the configured certificate, and the server's session is OpenSSL's")
  void tls13OnOpenSsl() throws Exception {
    String before = metrics();
    double openssl = TlsKit.counter(before, "pulse_tls_connections_total", "engine=\"openssl\"", "protocol=\"TLSv1.3\"");
    String[] got = TlsKit.handshake(pulse.port(), "TLSv1.3");
    assertEquals("TLSv1.3", got[0]);
    assertEquals(cert.fingerprint(), got[1], "the certificate of tls.cert is served");
    // the raw handshake above and the /metrics calls count as TLS 1.3 connections on the OpenSSL engine
    String after = Await.until("the handshake counted by the server", TlsServerTest::metrics,
        m -> TlsKit.counter(m, "pulse_tls_connections_total", "engine=\"openssl\"", "protocol=\"TLSv1.3\"")
            > openssl, 5000);
    assertEquals(0.0, TlsKit.counter(after, "pulse_tls_connections_total", "engine=\"jdk\""),
        "no connection on the JDK's engine: " + after);
    assertEquals(0.0, TlsKit.counter(after, "pulse_tls_connections_total", "protocol=\"TLSv1.2\""));
  }

  @Test
  @DisplayName("TLS 1.2 is refused when tls.protocols does not list it")
  void tls12Refused() {
    assertThrows(SSLException.class, () -> TlsKit.handshake(pulse.port(), "TLSv1.2"));
  }

  @Test
  @DisplayName("TLS 1.1 is refused (an OpenSSL client that really offers 1.1 gets no session)")
  void tls11Refused() {
    // the JDK's client has TLS 1.1 disabled by default, so the offer is made by BoringSSL (TlsModesTest shows it can
    // connect to a server that speaks 1.1)
    io.vertx.core.Vertx v = io.vertx.core.Vertx.vertx();
    try {
      Throwable e = assertThrows(Exception.class, () -> TlsModesTest.connectTls11(v, pulse.port()));
      assertTrue(String.valueOf(e).toLowerCase().contains("ssl") || String.valueOf(e).toLowerCase().contains("handshake")
          || String.valueOf(e).toLowerCase().contains("closed") || String.valueOf(e).toLowerCase().contains("protocol"),
          "a handshake failure: " + e);
    } finally {
      v.close();
    }
  }

  @Test
  @DisplayName("HTTP/2 is agreed by ALPN; answers carry HSTS and the security headers")
  void http2ByAlpn() throws Exception {
    HttpResponse<String> r = TlsKit.get(client, pulse.port(), "/health/live");
    assertEquals(200, r.statusCode());
    assertEquals(HttpClient.Version.HTTP_2, r.version());
    assertEquals("max-age=31536000", r.headers().firstValue("Strict-Transport-Security").orElse(null));
    assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(null));
    HttpResponse<String> page = TlsKit.get(client, pulse.port(), "/");
    assertEquals(200, page.statusCode());
    assertEquals(HttpClient.Version.HTTP_2, page.version());
    assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").startsWith("default-src 'self'"));
    String m = metrics();
    assertTrue(TlsKit.counter(m, "pulse_tls_connections_total", "http=\"h2\"") >= 1, m);
  }

  @Test
  @DisplayName("plain HTTP on the TLS port gets no answer")
  void plainHttpRefused() {
    TestPulse.Response r;
    try {
      r = pulse.get("/health/live");
    } catch (IllegalStateException e) {
      return; // the connection was closed: nothing was served in the clear
    }
    assertTrue(r.status() != 200, "no 200 over plain HTTP: " + r);
  }

  private static String line(String stream, double v) {
    return "{\"stream\":\"" + stream + "\",\"dims\":{\"region\":\"eu\"},\"values\":{\"v\":" + v + "}}\n";
  }

  private static void post(String stream) throws Exception {
    HttpResponse<String> r = TlsKit.post(client, pulse.port(), "/api/v1/streams/" + stream + "/events",
        "application/x-ndjson", line(stream, 1));
    assertEquals(202, r.statusCode(), r.body());
  }

  @Test
  @DisplayName("WebSocket over TLS: subscribed, and rollups of events posted over HTTPS arrive")
  void websocketOverTls() throws Exception {
    WebSocketClientOptions o = new WebSocketClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false);
    try (LiveClient ws = LiveClient.websocket(pulse.port(), o)) {
      ws.send(new JsonObject().put("op", "subscribe").put("id", "t").put("stream", "tlsws"));
      ws.await(m -> "subscribed".equals(m.type()), 5000);
      Await.until("a rollup over the TLS WebSocket", () -> {
        post("tlsws");
        ws.collect(200);
        return ws.seen().stream().anyMatch(m -> "rollup".equals(m.type()));
      }, ok -> ok, 10_000, 300);
    }
  }

  @Test
  @DisplayName("SSE over TLS with HTTP/1.1: rollups arrive")
  void sseOverTls() throws Exception {
    HttpClientOptions o = new HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false);
    try (LiveClient sse = LiveClient.sse(o, pulse.port(), "stream=tlssse", null, Map.of())) {
      assertEquals(200, sse.sseStatus());
      assertEquals(HttpVersion.HTTP_1_1, sse.sseVersion());
      sse.await(m -> "subscribed".equals(m.event()), 5000);
      Await.until("a rollup over TLS SSE", () -> {
        post("tlssse");
        sse.collect(200);
        return sse.seen().stream().anyMatch(m -> "rollup".equals(m.event()));
      }, ok -> ok, 10_000, 300);
    }
  }

  @Test
  @DisplayName("SSE over HTTP/2 (ALPN h2): each stream gets its own rollups")
  void sseOverHttp2() throws Exception {
    HttpClientOptions o = new HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false).setUseAlpn(true)
        .setProtocolVersion(HttpVersion.HTTP_2).setSslEngineOptions(new OpenSSLEngineOptions());
    try (LiveClient a = LiveClient.sse(o, pulse.port(), "stream=h2a", null, Map.of());
        LiveClient b = LiveClient.sse(o, pulse.port(), "stream=h2b", null, Map.of())) {
      assertEquals(HttpVersion.HTTP_2, a.sseVersion());
      assertEquals(HttpVersion.HTTP_2, b.sseVersion());
      a.await(m -> "subscribed".equals(m.event()), 5000);
      b.await(m -> "subscribed".equals(m.event()), 5000);
      Await.until("rollups on both HTTP/2 SSE streams", () -> {
        post("h2a");
        post("h2b");
        a.collect(100);
        b.collect(100);
        return a.seen().stream().anyMatch(m -> "rollup".equals(m.event()))
            && b.seen().stream().anyMatch(m -> "rollup".equals(m.event()));
      }, ok -> ok, 10_000, 300);
      assertNull(a.seen().stream().filter(m -> "rollup".equals(m.event()))
          .filter(m -> !"h2a".equals(m.json().getString("stream"))).findFirst().orElse(null));
    }
  }

  @Test
  @DisplayName("HTTP/2: a request body that stops arriving gets 408 in JSON after http.bodyTimeoutMs; the connection serves on")
  void http2BodyTimeout() throws Exception {
    HttpClientOptions o = new HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false).setUseAlpn(true)
        .setProtocolVersion(HttpVersion.HTTP_2).setSslEngineOptions(new OpenSSLEngineOptions());
    io.vertx.core.Vertx vx = io.vertx.core.Vertx.vertx();
    try {
      io.vertx.core.http.HttpClient h2 = vx.createHttpClient(o);
      io.vertx.core.http.HttpClientRequest req = h2.request(io.vertx.core.http.HttpMethod.POST, pulse.port(), "127.0.0.1",
          "/api/v1/events").toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
      req.setChunked(true).putHeader("Content-Type", "application/x-ndjson");
      req.write("{\"stream\":\"h2slow\",\"values\":{\"v\":1}}\n"); // then nothing more, never the end
      long t0 = System.nanoTime();
      // the body is taken in the response's own callback, on the client's event loop: the server resets
      // the stream right after its answer, and a body asked for later from this thread could miss it
      Object[] got = req.response().compose(r -> r.body().map(b -> new Object[] {r.version(), r.statusCode(), b.toString()}))
          .toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
      String body = (String) got[2];
      long waited = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(HttpVersion.HTTP_2, got[0]);
      assertEquals(408, got[1], body);
      assertTrue(new JsonObject(body).getString("error").contains("http.bodyTimeoutMs"), body);
      assertTrue(waited >= 1000, "not before the timeout: " + waited + " ms");
      // the connection is not punished for one stalled stream
      io.vertx.core.http.HttpClientResponse again = h2.request(io.vertx.core.http.HttpMethod.GET, pulse.port(), "127.0.0.1",
          "/health/live").compose(r -> r.send()).toCompletionStage().toCompletableFuture()
          .get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(200, again.statusCode());
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^pulse_http_timeouts_total\\{kind=\"body\"[^}]*\\} ([0-9.]+)")
          .matcher(metrics());
      assertTrue(m.find() && Double.parseDouble(m.group(1)) >= 1, "counted with HTTP/1.x's body timeouts");
    } finally {
      vx.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
