package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Which failure at the edge gets which answer: status, message naming the setting, Retry-After. */
class EdgeAnswerTest {

  @Test
  @DisplayName("overload is 503 with Retry-After; timeouts are 408 without; each names its setting")
  void overloadAndTimeouts() {
    EdgeAnswer cap = EdgeAnswer.connectionCap(64);
    assertEquals(503, cap.status());
    assertEquals("1", cap.retryAfter());
    assertTrue(cap.message().contains("64 connections") && cap.message().contains("http.maxConnections"));
    EdgeAnswer budget = EdgeAnswer.bodyBudget(1 << 20);
    assertEquals(503, budget.status());
    assertEquals("1", budget.retryAfter());
    assertTrue(budget.message().contains("ingest.maxBufferedBodyBytes = 1048576 bytes"));
    EdgeAnswer header = EdgeAnswer.headerTimeout(400);
    assertEquals(408, header.status());
    assertNull(header.retryAfter());
    assertTrue(header.message().contains("400 ms (http.headerTimeoutMs)"));
    EdgeAnswer body = EdgeAnswer.bodyTimeout(300);
    assertEquals(408, body.status());
    assertTrue(body.message().contains("300 ms (http.bodyTimeoutMs)"));
  }

  @Test
  @DisplayName("a body that cannot be read or decoded is 400 with the innermost cause")
  void badBodies() {
    Exception cause = new RuntimeException("outer", new IOException("invalid stored block lengths"));
    EdgeAnswer a = EdgeAnswer.undecodableBody(cause);
    assertEquals(400, a.status());
    assertTrue(a.message().endsWith(": invalid stored block lengths"), a.message());
    EdgeAnswer b = EdgeAnswer.unreadableBody(new NumberFormatException());
    assertEquals(400, b.status());
    assertEquals("the request body could not be read: NumberFormatException", b.message());
  }

  @Test
  @DisplayName("HTTP versions other than 1.0/1.1 get 505, expectations other than 100-continue 417")
  void refusals() {
    assertNull(EdgeAnswer.refusal(1, 1, "HTTP/1.1", null));
    assertNull(EdgeAnswer.refusal(1, 0, "HTTP/1.0", null));
    assertNull(EdgeAnswer.refusal(1, 1, "HTTP/1.1", " 100-Continue "));
    assertEquals(505, EdgeAnswer.refusal(2, 0, "HTTP/2.0", null).status());
    assertEquals(505, EdgeAnswer.refusal(1, 2, "HTTP/1.2", "100-continue").status());
    assertEquals(505, EdgeAnswer.refusal(0, 9, "HTTP/0.9", null).status());
    EdgeAnswer expect = EdgeAnswer.refusal(1, 1, "HTTP/1.1", "x".repeat(300));
    assertEquals(417, expect.status());
    assertNull(expect.retryAfter());
    assertTrue(expect.message().length() < 200, "what the caller sent is clipped: " + expect.message());
  }

  @Test
  @DisplayName("a bare error of Netty or Vert.x keeps its status and says it in JSON; interim responses pass")
  void bareAndInterim() {
    EdgeAnswer a = EdgeAnswer.bare(413, "Request Entity Too Large");
    assertEquals(413, a.status());
    JsonObject body = new JsonObject(new String(a.json(), StandardCharsets.UTF_8));
    assertEquals(new JsonObject().put("error", "413 Request Entity Too Large"), body);
    assertTrue(EdgeAnswer.interim(100));
    assertTrue(EdgeAnswer.interim(199));
    assertFalse(EdgeAnswer.interim(101), "switching protocols ends the HTTP exchange");
    assertFalse(EdgeAnswer.interim(200));
  }

  @Test
  @DisplayName("a refused WebSocket frame: the error message and a close reason that fits a close frame")
  void webSocket() {
    assertEquals("Max frame length of 65536 has been exceeded.",
        EdgeAnswer.wsCloseReason("Max frame length of 65536 has been exceeded.", "Message too big"));
    assertEquals("Message too big", EdgeAnswer.wsCloseReason(null, "Message too big"));
    String clipped = EdgeAnswer.wsCloseReason("y".repeat(500), "x");
    assertEquals(120, clipped.length());
    assertTrue(clipped.getBytes(StandardCharsets.UTF_8).length <= 123, "a close frame's reason is at most 123 bytes");
    assertEquals(new JsonObject().put("type", "error").put("error", "bad"), new JsonObject(EdgeAnswer.wsError("bad")));
  }

  @Test
  @DisplayName("clip keeps short text and cuts long text to the limit, ending in an ellipsis")
  void clip() {
    assertEquals("abc", EdgeAnswer.clip("abc", 3));
    assertEquals("ab…", EdgeAnswer.clip("abcd", 3));
  }
}
