package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.LiveClient;
import io.pulse.testing.Await;
import io.pulse.testing.RawHttp;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What a caller sends that HTTP clients would not: every malformed request gets a JSON answer,
 * slow headers and bodies and idle connections time out, and live connections that only get
 * heartbeats stay open. Raw sockets, short timeouts set by configuration.
 */
class HttpEdgeTest {

  static final long HEADER_MS = 400;
  static final long BODY_MS = 400;
  static final long IDLE_MS = 1200;

  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject()
        .put("http", new JsonObject().put("headerTimeoutMs", HEADER_MS).put("bodyTimeoutMs", BODY_MS)
            .put("idleTimeoutMs", IDLE_MS))
        .put("live", new JsonObject().put("heartbeatMs", 200)));
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static void assertJsonError(RawHttp.Answer a, int status) {
    assertEquals(status, a.status(), a.toString());
    assertTrue(a.header("content-type").startsWith("application/json"), a.toString());
    assertFalse(a.json().getString("error", "").isBlank(), a.toString());
    // the guard's own answers carry the security headers every answer has
    assertEquals("nosniff", a.header("x-content-type-options"), a.toString());
    assertEquals("DENY", a.header("x-frame-options"), a.toString());
    assertEquals(io.pulse.http.SecurityHeaders.API_POLICY, a.header("content-security-policy"), a.toString());
    assertEquals("no-store", a.header("cache-control"), a.toString());
  }

  @Test
  @DisplayName("a request line Netty cannot read: 400 with a JSON reason, then the connection closes")
  void badRequestLine() throws Exception {
    try (RawHttp c = new RawHttp(pulse.port())) {
      RawHttp.Answer a = c.send("GET /health/live HTTP/1.1 extra words\r\nHost: x\r\n\r\n").read(5000);
      assertJsonError(a, 400);
      assertTrue(c.closedWithin(5000));
    }
  }

  @Test
  @DisplayName("a URI over the line limit: 414 in JSON")
  void uriTooLong() throws Exception {
    try (RawHttp c = new RawHttp(pulse.port())) {
      RawHttp.Answer a = c.send("GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n").read(5000);
      assertJsonError(a, 414);
    }
  }

  @Test
  @DisplayName("headers over the limit: 431 in JSON")
  void headersTooLarge() throws Exception {
    try (RawHttp c = new RawHttp(pulse.port())) {
      RawHttp.Answer a = c.send("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n")
          .read(5000);
      assertJsonError(a, 431);
    }
  }

  @Test
  @DisplayName("a malformed chunked body: 400 in JSON")
  void malformedChunks() throws Exception {
    try (RawHttp c = new RawHttp(pulse.port())) {
      RawHttp.Answer a = c.send("POST /api/v1/streams/chunky/events HTTP/1.1\r\nHost: x\r\n"
          + "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "ZZZ-not-a-size\r\n{\"values\":{\"v\":1}}\r\n0\r\n\r\n").read(5000);
      assertJsonError(a, 400);
    }
  }

  @Test
  @DisplayName("Content-Encoding: gzip with a body that is not gzip: 400 in JSON")
  void badGzip() throws Exception {
    byte[] garbage = "this is certainly not gzip data, not at all".getBytes(StandardCharsets.UTF_8);
    try (RawHttp c = new RawHttp(pulse.port())) {
      c.send("POST /api/v1/streams/zipped/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
          + "Content-Encoding: gzip\r\nContent-Length: " + garbage.length + "\r\n\r\n").send(garbage);
      assertJsonError(c.read(5000), 400);
    }
  }

  @Test
  @DisplayName("a good gzip body is still taken")
  void goodGzip() throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (GZIPOutputStream z = new GZIPOutputStream(b)) {
      z.write("{\"values\":{\"v\":1}}\n{\"values\":{\"v\":2}}\n".getBytes(StandardCharsets.UTF_8));
    }
    try (RawHttp c = new RawHttp(pulse.port())) {
      c.send("POST /api/v1/streams/zipped/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
          + "Content-Encoding: gzip\r\nContent-Length: " + b.size() + "\r\n\r\n").send(b.toByteArray());
      RawHttp.Answer a = c.read(5000);
      assertEquals(202, a.status(), a.toString());
      assertEquals(2, a.json().getInteger("accepted"));
    }
  }

  @Test
  @DisplayName("headers that never finish: 408 in JSON after http.headerTimeoutMs, then closed")
  void slowHeaders() throws Exception {
    try (RawHttp c = new RawHttp(pulse.port())) {
      c.send("GET /health/live HTTP/1.1\r\nHo");
      RawHttp.Answer a = c.read(HEADER_MS * 10);
      assertJsonError(a, 408);
      assertTrue(a.json().getString("error").contains("http.headerTimeoutMs"), a.toString());
      assertTrue(c.closedWithin(5000));
    }
  }

  @Test
  @DisplayName("a connection that sends nothing: 408 in JSON after http.headerTimeoutMs, then closed")
  void silentConnection() throws Exception {
    try (RawHttp c = new RawHttp(pulse.port())) {
      RawHttp.Answer a = c.read(HEADER_MS * 10);
      assertJsonError(a, 408);
      assertTrue(c.closedWithin(5000));
    }
  }

  @Test
  @DisplayName("a body that stops arriving (16 MB declared, 14 bytes sent): 408 in JSON, then closed")
  void slowBody() throws Exception {
    try (RawHttp c = new RawHttp(pulse.port())) {
      c.send("POST /api/v1/streams/slow/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
          + "Content-Length: 16000000\r\n\r\n{\"values\":{\"v\"");
      RawHttp.Answer a = c.read(BODY_MS * 10);
      assertJsonError(a, 408);
      assertTrue(a.json().getString("error").contains("http.bodyTimeoutMs"), a.toString());
      assertTrue(c.closedWithin(5000));
    }
    // counted by the edge guard on its event loop, which may come a moment after the client read the answer
    Await.until("the body timeout counted", () -> pulse.get("/metrics").body(),
        b -> b.contains("pulse_http_timeouts_total{kind=\"body\"}"), 5000);
  }

  @Test
  @DisplayName("a body answered 413 before it ended, then stalled: closed after http.bodyTimeoutMs, no second answer")
  void stalledAfterAnswer() throws Exception {
    try (RawHttp c = new RawHttp(pulse.port())) {
      c.send("POST /api/v1/streams/slow/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
          + "Content-Length: 20000000\r\n\r\n{\"values\":{\"v\"");
      assertJsonError(c.read(5000), 413);
      assertEquals("", c.restUntilClose(BODY_MS * 10), "nothing more than the one answer");
    }
  }

  @Test
  @DisplayName("an idle keep-alive connection is closed after http.idleTimeoutMs; a busy one is not")
  void idleKeepAlive() throws Exception {
    try (RawHttp c = new RawHttp(pulse.port())) {
      assertEquals(200, c.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n").read(5000).status());
      // the subject is the connection's behaviour over time: nothing is sent for longer than the idle timeout
      assertTrue(c.closedWithin(IDLE_MS * 5), "an idle connection is closed");
    }
  }

  @Test
  @DisplayName("live subscribers that receive only heartbeats outlive every timeout")
  void liveConnectionsStayOpen() throws Exception {
    try (LiveClient ws = LiveClient.websocket(pulse.port());
        LiveClient sse = LiveClient.sse(pulse.port(), "stream=quiet", null)) {
      ws.send(new JsonObject().put("op", "subscribe").put("id", "q").put("stream", "quiet"));
      ws.await(m -> "subscribed".equals(m.type()), 5000);
      sse.await(m -> "subscribed".equals(m.type()), 5000);
      long until = System.currentTimeMillis() + IDLE_MS * 2; // twice the idle timeout: the subject is time
      while (System.currentTimeMillis() < until) {
        ws.await(m -> "heartbeat".equals(m.type()), 2000); // the heartbeat keeps coming, and the socket open
      }
      assertFalse(ws.isClosed(), "the WebSocket is open");
      assertFalse(sse.isClosed(), "the SSE stream is open");
      // and both still carry messages (an open flag alone could lag a close): a pong, and an event's rollup
      ws.send(new JsonObject().put("op", "ping"));
      assertNotNull(ws.await(m -> "pong".equals(m.type()), 5000));
      assertEquals(202, pulse.postNdjson("quiet", "{\"values\":{\"v\":1}}"));
      assertNotNull(sse.await(m -> "rollup".equals(m.type()), 5000), "the SSE stream still delivers");
    }
  }
}
