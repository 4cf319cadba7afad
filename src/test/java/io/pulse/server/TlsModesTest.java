package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.TestPulse;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.OpenSSLEngineOptions;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** TLS settings other than the default: self-signed mode, TLS 1.2 by configuration, the connection cap on HTTP/2. */
@DisplayName("TLS modes: self-signed, TLS 1.2 when listed, HTTP/2 under the connection cap")
class TlsModesTest {

  /** A TLS connection from BoringSSL offering TLS 1.1 only; fails when the server does not agree. */
  static NetSocket connectTls11(Vertx v, int port) throws Exception {
    NetClientOptions o = new NetClientOptions().setSsl(true).setTrustAll(true).setHostnameVerificationAlgorithm("")
        .setSslEngineOptions(new OpenSSLEngineOptions()).setEnabledSecureTransportProtocols(Set.of("TLSv1.1"))
        .setConnectTimeout(5000).setSslHandshakeTimeout(5).setSslHandshakeTimeoutUnit(TimeUnit.SECONDS);
    return v.createNetClient(o).connect(port, "127.0.0.1").toCompletionStage().toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("the TLS 1.1 client of the refusal test does connect to a server that speaks 1.1 (so its refusal means something)")
  void tls11ClientWorksAgainstA11Server() throws Exception {
    Vertx v = Vertx.vertx();
    try {
      Path dir = Files.createTempDirectory("pulse-tls11");
      TlsKit.Cert c = TlsKit.make(dir, "old");
      NetServer server = v.createNetServer(new NetServerOptions().setSsl(true).setPort(0).setHost("127.0.0.1")
              .setSslEngineOptions(new OpenSSLEngineOptions()).setEnabledSecureTransportProtocols(Set.of("TLSv1.1"))
              .setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions().setCertPath(c.cert().toString())
                  .setKeyPath(c.key().toString())))
          .connectHandler(s -> s.handler(s::write));
      server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      NetSocket s = connectTls11(v, server.actualPort());
      // the server speaks TLS 1.1 only: an echo through the connection means 1.1 was agreed
      java.util.concurrent.CompletableFuture<String> echo = new java.util.concurrent.CompletableFuture<>();
      s.handler(b -> echo.complete(b.toString()));
      s.write("ping");
      assertEquals("ping", echo.get(10, TimeUnit.SECONDS));
      s.close();
    } finally {
      v.close();
    }
  }

  @Test
  @DisplayName("tls.protocols [TLSv1.3, TLSv1.2]: a TLS 1.2 client is served too; TLS 1.1 still is not")
  void tls12WhenListed() throws Exception {
    Path dir = Files.createTempDirectory("pulse-tls12");
    TlsKit.Cert c = TlsKit.make(dir, "a");
    try (TestPulse p = TestPulse.start(new JsonObject().put("tls", new JsonObject().put("cert", c.cert().toString())
        .put("key", c.key().toString()).put("protocols", new JsonArray().add("TLSv1.3").add("TLSv1.2"))))) {
      assertEquals("TLSv1.2", TlsKit.handshake(p.port(), "TLSv1.2")[0]);
      assertEquals("TLSv1.3", TlsKit.handshake(p.port(), "TLSv1.3", "TLSv1.2")[0]);
      Vertx v = Vertx.vertx();
      try {
        assertThrows(Exception.class, () -> connectTls11(v, p.port()));
      } finally {
        v.close();
      }
    }
  }

  @Test
  @DisplayName("self-signed mode: starts, serves HTTPS with a certificate for localhost")
  void selfSigned() throws Exception {
    try (TestPulse p = TestPulse.start(new JsonObject().put("tls", new JsonObject().put("selfSigned", true)))) {
      TlsKit.Remembering tm = new TlsKit.Remembering();
      HttpResponse<String> r = TlsKit.get(TlsKit.https(tm), p.port(), "/health/live");
      assertEquals(200, r.statusCode());
      assertNotNull(tm.last.get());
      assertTrue(tm.last.get().getSubjectX500Principal().getName().contains("CN=localhost"),
          tm.last.get().getSubjectX500Principal().getName());
      assertEquals("TLSv1.3", TlsKit.handshake(p.port(), "TLSv1.3")[0]);
      assertThrows(SSLException.class, () -> TlsKit.handshake(p.port(), "TLSv1.2"));
    }
  }

  @Test
  @DisplayName("HTTP/2 connections take slots of http.maxConnections: past it, a request is answered 503 in JSON")
  void http2UnderTheConnectionCap() throws Exception {
    Path dir = Files.createTempDirectory("pulse-h2cap");
    TlsKit.Cert c = TlsKit.make(dir, "a");
    try (TestPulse p = TestPulse.start(new JsonObject()
        .put("tls", new JsonObject().put("cert", c.cert().toString()).put("key", c.key().toString()))
        .put("http", new JsonObject().put("maxConnections", 1)))) {
      HttpClient first = TlsKit.https(new TlsKit.Remembering());
      HttpResponse<String> one = TlsKit.get(first, p.port(), "/health/live");
      assertEquals(200, one.statusCode());
      assertEquals(HttpClient.Version.HTTP_2, one.version());
      // the first client keeps its connection open; a second client needs a connection of its own
      HttpClient second = TlsKit.https(new TlsKit.Remembering());
      HttpResponse<String> two = TlsKit.get(second, p.port(), "/health/live");
      assertEquals(503, two.statusCode(), two.body());
      assertEquals(HttpClient.Version.HTTP_2, two.version());
      assertTrue(new JsonObject(two.body()).getString("error").contains("connections"), two.body());
      // the first connection is still served
      assertEquals(200, TlsKit.get(first, p.port(), "/health/live").statusCode());
      // an HTTP/1.1 connection over TLS (no ALPN) meets the same cap, answered by the edge guard
      try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) TlsKit.context(new TlsKit.Remembering())
          .getSocketFactory().createSocket("127.0.0.1", p.port())) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(
            java.nio.charset.StandardCharsets.US_ASCII));
        String status = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
            java.nio.charset.StandardCharsets.US_ASCII)).readLine();
        assertEquals("HTTP/1.1 503 Service Unavailable", status);
      }
    }
  }

  @Test
  @DisplayName("HTTP/2 SSE: a stalled stream is reset when too slow; the other stream on the same connection carries on")
  void slowHttp2StreamResetAlone() throws Exception {
    Path dir = Files.createTempDirectory("pulse-h2slow");
    TlsKit.Cert c = TlsKit.make(dir, "a");
    try (TestPulse p = TestPulse.start(new JsonObject()
        .put("tls", new JsonObject().put("cert", c.cert().toString()).put("key", c.key().toString()))
        .put("aggregation", new JsonObject().put("window", "200ms").put("allowedLatenessMs", 100))
        .put("live", new JsonObject().put("flushMs", 50).put("slowClientTimeoutMs", 2000)
            .put("maxPendingFinals", 5000)))) {
      Vertx v = Vertx.vertx();
      try {
        io.vertx.core.http.HttpClient client = v.createHttpClient(new io.vertx.core.http.HttpClientOptions()
            .setSsl(true).setTrustAll(true).setVerifyHost(false).setUseAlpn(true)
            .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2)
            .setSslEngineOptions(new OpenSSLEngineOptions()).setHttp2MultiplexingLimit(10),
            new io.vertx.core.http.PoolOptions().setHttp2MaxSize(1));
        java.util.concurrent.atomic.AtomicBoolean slowEnded = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean healthyEnded = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong healthyBytes = new java.util.concurrent.atomic.AtomicLong();
        io.vertx.core.http.HttpClientResponse slow = sse(client, p.port(), "stream=h2flood&groupBy=k");
        slow.handler(b -> { }).exceptionHandler(e -> slowEnded.set(true)).endHandler(x -> slowEnded.set(true));
        io.vertx.core.http.HttpClientResponse healthy = sse(client, p.port(), "stream=h2flood");
        healthy.handler(b -> healthyBytes.addAndGet(b.length())).exceptionHandler(e -> healthyEnded.set(true))
            .endHandler(x -> healthyEnded.set(true));
        assertTrue(slow.request().connection() == healthy.request().connection(), "both streams on one connection");
        slow.pause();
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
          body.append("{\"dims\":{\"k\":\"key-").append(i).append("-with-some-length\"},\"values\":{\"v\":")
              .append(i).append("}}\n");
        }
        HttpClient https = TlsKit.https(new TlsKit.Remembering());
        io.pulse.testing.Await.until("the stalled HTTP/2 stream ended by the server", () -> {
          TlsKit.post(https, p.port(), "/api/v1/streams/h2flood/events", "application/x-ndjson", body.toString());
          return TlsKit.counter(TlsKit.get(https, p.port(), "/metrics").body().replace("pulse_live_slow_closed_total ",
              "pulse_live_slow_closed_total{} "), "pulse_live_slow_closed_total");
        }, n -> n >= 1, 30_000, 200);
        long before = healthyBytes.get();
        io.pulse.testing.Await.until("the healthy stream still gets rollups", () -> {
          TlsKit.post(https, p.port(), "/api/v1/streams/h2flood/events", "application/x-ndjson", body.toString());
          return healthyBytes.get();
        }, n -> n > before, 10_000, 200);
        assertTrue(!healthyEnded.get(), "the healthy stream on the same connection is untouched");
      } finally {
        v.close();
      }
    }
  }

  @Test
  @DisplayName("HTTP/2 request bodies take from ingest.maxBufferedBodyBytes: past it 503 with Retry-After, given back at the end")
  void http2BodyBudget() throws Exception {
    Path dir = Files.createTempDirectory("pulse-h2body");
    TlsKit.Cert c = TlsKit.make(dir, "a");
    try (TestPulse p = TestPulse.start(new JsonObject()
        .put("tls", new JsonObject().put("cert", c.cert().toString()).put("key", c.key().toString()))
        .put("ingest", new JsonObject().put("maxBodyBytes", 100_000).put("maxBufferedBodyBytes", 150_000)))) {
      Vertx v = Vertx.vertx();
      try {
        io.vertx.core.http.HttpClient client = v.createHttpClient(new io.vertx.core.http.HttpClientOptions()
            .setSsl(true).setTrustAll(true).setVerifyHost(false).setUseAlpn(true)
            .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2)
            .setSslEngineOptions(new OpenSSLEngineOptions()));
        io.vertx.core.http.RequestOptions ro = new io.vertx.core.http.RequestOptions().setHost("127.0.0.1")
            .setPort(p.port()).setMethod(io.vertx.core.http.HttpMethod.POST).setURI("/api/v1/streams/budget/events")
            .putHeader("Content-Type", "application/x-ndjson");
        // a body of 100 000 declared bytes that has not arrived yet holds 100 000 of the 150 000
        io.vertx.core.http.HttpClientRequest slow = client.request(ro).toCompletionStage().toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
        slow.putHeader("Content-Length", "100000");
        java.util.concurrent.CompletableFuture<io.vertx.core.http.HttpClientResponse> slowAnswer =
            slow.response().toCompletionStage().toCompletableFuture();
        slow.write("{\"values\":{\"v\":1}}\n");
        String line = "{\"values\":{\"v\":1}}\n";
        String big = line.repeat(60_000 / line.length());
        io.pulse.testing.Await.until("a second body of 60 000 bytes refused while the first is held", () -> {
          io.vertx.core.http.HttpClientResponse r = client.request(ro).compose(q -> q.send(big))
              .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
          return r.statusCode() + " " + r.getHeader("Retry-After");
        }, s -> s.equals("503 1"), 10_000, 100);
        // the first body ends (with padding up to its declared length): its bytes go back, the next one fits
        String rest = line.repeat((100_000 - line.length()) / line.length());
        slow.end(rest + " ".repeat(100_000 - line.length() - rest.length()));
        assertEquals(202, slowAnswer.get(10, TimeUnit.SECONDS).statusCode());
        io.vertx.core.http.HttpClientResponse after = client.request(ro).compose(q -> q.send(big))
            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(202, after.statusCode());
      } finally {
        v.close();
      }
    }
  }

  private static io.vertx.core.http.HttpClientResponse sse(io.vertx.core.http.HttpClient client, int port, String q)
      throws Exception {
    return client.request(new io.vertx.core.http.RequestOptions().setHost("127.0.0.1").setPort(port)
            .setURI("/api/v1/live/sse?" + q))
        .compose(r -> r.send()).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
