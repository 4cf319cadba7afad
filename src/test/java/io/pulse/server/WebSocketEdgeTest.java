package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.LiveClient;
import io.pulse.testing.RawHttp;
import io.pulse.testing.RawWebSocket;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What a WebSocket caller sends that it should not: every bad message gets an error and the
 * socket lives on; every frame the server will not take closes it with a close frame and the
 * reason; a client that never reads is closed, its replies bounded.
 */
class WebSocketEdgeTest {

  static final int MAX_MESSAGE = 4096;
  static final int MAX_REPLIES = 64;

  private static TestPulse pulse;

  @BeforeAll
  static void start() {
    pulse = TestPulse.start(new JsonObject().put("live", new JsonObject().put("maxMessageBytes", MAX_MESSAGE)
        .put("maxPendingReplies", MAX_REPLIES).put("maxOpsPerSecond", 1_000_000).put("maxViewsPerStreamPerSocket", 3)
        .put("slowClientTimeoutMs", 60_000)));
  }

  @AfterAll
  static void stop() {
    pulse.close();
  }

  private static double metric(String name) throws IOException {
    try (RawHttp c = new RawHttp(pulse.port())) {
      return HttpAdmissionTest.metric(c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
          .read(5000).body(), name);
    }
  }

  @Test
  @DisplayName("malformed ops each get an error message, and the socket still answers")
  void badOps() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      String[] bad = {"{\"op\":null}", "{\"op\":5}", "[]", "\"x\"", "42", "{}", "{\"op\":\"subscribe\",\"id\":{}}",
          "{\"op\":\"subscribe\",\"id\":\"a\",\"stream\":5}", "{\"op\":\"subscribe\",\"id\":\"b\",\"groupBy\":{}}",
          "{\"op\":\"subscribe\",\"id\":\"" + "i".repeat(500) + "\",\"stream\":\"s\"}",
          "{\"op\":\"unsubscribe\",\"id\":[1]}", "{\"op\":\"" + "o".repeat(3000) + "\"}", "{\"op\":\"subscribe\"}"};
      for (String text : bad) {
        ws.sendText(text);
        LiveClient.Msg m = ws.await(x -> true, 5000);
        assertEquals("error", m.type(), text + " -> " + m);
        assertFalse(m.json().getString("error", "").isBlank(), text);
        assertTrue(m.json().encode().length() < 600, "the reply does not echo a long input back: " + m);
      }
      ws.send(new JsonObject().put("op", "ping"));
      assertNotNull(ws.await(m -> "pong".equals(m.type()), 5000));
      assertFalse(ws.isClosed());
    }
  }

  @Test
  @DisplayName("a single frame over live.maxMessageBytes: close 1009 with a reason, after an error message")
  void oversizedFrame() throws Exception {
    try (RawWebSocket ws = new RawWebSocket(pulse.port(), 0)) {
      ws.text("{\"op\":\"ping\",\"pad\":\"" + "p".repeat(MAX_MESSAGE) + "\"}");
      List<RawWebSocket.Frame> before = new ArrayList<>();
      RawWebSocket.Frame close = ws.awaitClose(5000, before);
      assertNotNull(close, "a close frame, not a bare TCP close");
      assertEquals(1009, close.closeCode());
      assertFalse(close.closeReason().isBlank());
      assertTrue(before.stream().anyMatch(f -> f.text().contains("\"error\"")), "an error message first: " + before);
    }
  }

  @Test
  @DisplayName("a frame that declares 1 GB closes at once with 1009, nothing of it held")
  void hugeDeclaredFrame() throws Exception {
    try (RawWebSocket ws = new RawWebSocket(pulse.port(), 0)) {
      ws.frameHeader(RawWebSocket.TEXT, 1L << 30);
      RawWebSocket.Frame close = ws.awaitClose(5000, null);
      assertNotNull(close, "a close frame, not a bare TCP close");
      assertEquals(1009, close.closeCode());
    }
  }

  @Test
  @DisplayName("a fragmented message over live.maxMessageBytes: close 1009 with a reason")
  void oversizedFragmentedMessage() throws Exception {
    try (RawWebSocket ws = new RawWebSocket(pulse.port(), 0)) {
      byte[] part = "a".repeat(MAX_MESSAGE / 2).getBytes(StandardCharsets.UTF_8);
      ws.frame(RawWebSocket.TEXT, false, "{\"op\":\"ping\",\"pad\":\"".getBytes(StandardCharsets.UTF_8));
      ws.frame(RawWebSocket.CONTINUATION, false, part);
      ws.frame(RawWebSocket.CONTINUATION, false, part);
      ws.frame(RawWebSocket.CONTINUATION, true, "\"}".getBytes(StandardCharsets.UTF_8));
      RawWebSocket.Frame close = ws.awaitClose(5000, null);
      assertNotNull(close, "a close frame, not a bare TCP close");
      assertEquals(1009, close.closeCode());
      assertTrue(close.closeReason().contains(Integer.toString(MAX_MESSAGE)), close.closeReason());
    }
  }

  @Test
  @DisplayName("a fragmented message within the limit is put together and answered")
  void fragmentedMessageWithinLimit() throws Exception {
    try (RawWebSocket ws = new RawWebSocket(pulse.port(), 0)) {
      ws.frame(RawWebSocket.TEXT, false, "{\"op\":".getBytes(StandardCharsets.UTF_8));
      ws.frame(RawWebSocket.CONTINUATION, true, "\"ping\"}".getBytes(StandardCharsets.UTF_8));
      RawWebSocket.Frame f = ws.read(5000);
      assertEquals("pong", new JsonObject(f.text()).getString("type"), f.text());
    }
  }

  @Test
  @DisplayName("text that is not UTF-8: close 1007; a binary frame: close 1003; a reserved opcode: close 1002")
  void protocolErrors() throws Exception {
    try (RawWebSocket ws = new RawWebSocket(pulse.port(), 0)) {
      ws.frame(RawWebSocket.TEXT, true, new byte[] {'{', (byte) 0xc3, (byte) 0x28, '}'});
      RawWebSocket.Frame close = ws.awaitClose(5000, null);
      assertNotNull(close);
      assertEquals(1007, close.closeCode());
    }
    try (RawWebSocket ws = new RawWebSocket(pulse.port(), 0)) {
      ws.frame(RawWebSocket.BINARY, true, new byte[] {1, 2, 3});
      RawWebSocket.Frame close = ws.awaitClose(5000, null);
      assertNotNull(close);
      assertEquals(1003, close.closeCode());
    }
    try (RawWebSocket ws = new RawWebSocket(pulse.port(), 0)) {
      ws.frame(0x3, true, new byte[] {1});
      RawWebSocket.Frame close = ws.awaitClose(5000, null);
      assertNotNull(close, "a close frame, not a bare TCP close");
      assertEquals(1002, close.closeCode());
    }
    try (RawWebSocket ws = new RawWebSocket(pulse.port(), 0)) {
      ws.frame(RawWebSocket.CONTINUATION, true, "x".getBytes(StandardCharsets.UTF_8));
      RawWebSocket.Frame close = ws.awaitClose(5000, null);
      assertNotNull(close);
      assertEquals(1002, close.closeCode());
    }
  }

  @Test
  @DisplayName("pings from a client that never reads: replies bounded by live.maxPendingReplies, then close 1008")
  void unreadPongs() throws Exception {
    double closedBefore = metric("pulse_live_slow_closed_total");
    try (RawWebSocket ws = new RawWebSocket(pulse.port(), 4096)) {
      byte[] ping = "{\"op\":\"ping\"}".getBytes(StandardCharsets.UTF_8);
      double queuedMax = 0;
      boolean closed = false;
      long deadline = System.currentTimeMillis() + 30_000;
      while (!closed && System.currentTimeMillis() < deadline) {
        try {
          for (int i = 0; i < 5000; i++) {
            ws.frame(RawWebSocket.TEXT, true, ping);
          }
        } catch (IOException e) {
          // the server closed the socket while we were still writing
        }
        queuedMax = Math.max(queuedMax, metric("pulse_live_replies_queued"));
        closed = metric("pulse_live_slow_closed_total") > closedBefore;
      }
      assertTrue(closed, "the client that never reads was closed");
      assertTrue(queuedMax <= MAX_REPLIES, "replies held stayed within the bound: " + queuedMax);
      // now read: after the pongs the server could send comes the close frame with the reason
      RawWebSocket.Frame close = ws.awaitClose(20_000, null);
      assertNotNull(close, "a close frame with the reason");
      assertEquals(1008, close.closeCode());
      assertTrue(close.closeReason().startsWith("slow consumer"), close.closeReason());
    }
    assertEquals(0.0, metric("pulse_live_replies_queued"), "nothing is held for a closed socket");
  }

  @Test
  @DisplayName("one socket holds at most live.maxViewsPerStreamPerSocket distinct views of a stream")
  void viewShare() {
    try (LiveClient ws = LiveClient.websocket(pulse.port())) {
      String[] dims = {"a", "b", "c"};
      for (String d : dims) {
        ws.send(new JsonObject().put("op", "subscribe").put("id", d).put("stream", "share").put("groupBy",
            new JsonArray().add(d)));
        ws.await(m -> "subscribed".equals(m.type()) && d.equals(m.json().getString("sub")), 5000);
      }
      ws.send(new JsonObject().put("op", "subscribe").put("id", "d").put("stream", "share").put("groupBy",
          new JsonArray().add("d")));
      LiveClient.Msg refused = ws.await(m -> "d".equals(m.json().getString("sub")), 5000);
      assertEquals("error", refused.type());
      assertTrue(refused.json().getString("error").contains("live.maxViewsPerStreamPerSocket"), refused.toString());
      // the same view again is no new view; another stream has its own share
      ws.send(new JsonObject().put("op", "subscribe").put("id", "a2").put("stream", "share").put("groupBy",
          new JsonArray().add("a")));
      assertEquals("subscribed", ws.await(m -> "a2".equals(m.json().getString("sub")), 5000).type());
      ws.send(new JsonObject().put("op", "subscribe").put("id", "o").put("stream", "other"));
      assertEquals("subscribed", ws.await(m -> "o".equals(m.json().getString("sub")), 5000).type());
      // giving one up makes room
      ws.send(new JsonObject().put("op", "unsubscribe").put("id", "c"));
      ws.await(m -> "unsubscribed".equals(m.type()), 5000);
      ws.send(new JsonObject().put("op", "subscribe").put("id", "d2").put("stream", "share").put("groupBy",
          new JsonArray().add("d")));
      assertEquals("subscribed", ws.await(m -> "d2".equals(m.json().getString("sub")), 5000).type());
    }
  }

  @Test
  @DisplayName("messages past live.maxOpsPerSecond are refused with an error; the socket goes on")
  void opsRate() {
    try (TestPulse slow = TestPulse.start(new JsonObject().put("live", new JsonObject().put("maxOpsPerSecond", 2)));
        LiveClient ws = LiveClient.websocket(slow.port())) {
      for (int i = 0; i < 20; i++) {
        ws.send(new JsonObject().put("op", "ping"));
      }
      LiveClient.Msg m = ws.await(x -> "error".equals(x.type()), 5000);
      assertTrue(m.json().getString("error").contains("live.maxOpsPerSecond"), m.toString());
      assertFalse(ws.isClosed());
    }
  }
}
