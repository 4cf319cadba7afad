package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.Await;
import io.pulse.testing.RawHttp;
import io.pulse.testing.TestPulse;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The limits no one connection sets alone: request-body bytes held at once, and connections open. */
class HttpAdmissionTest {

  static double metric(String text, String name) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(text);
    double sum = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
    }
    return sum;
  }

  private static String head(int length) {
    return "POST /api/v1/streams/held/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
        + "Content-Length: " + length + "\r\n\r\n";
  }

  /** Polls /metrics over a fresh raw connection until the metric has the value, or the deadline passes. */
  private static double awaitMetric(TestPulse pulse, String name, double want) throws Exception {
    return awaitMetric(pulse, name, v -> v == want);
  }

  /** Polls /metrics over a fresh raw connection until the metric's value passes the test, or the deadline passes. */
  private static double awaitMetric(TestPulse pulse, String name, java.util.function.DoublePredicate ok)
      throws Exception {
    return Await.until(name, () -> {
      try (RawHttp c = new RawHttp(pulse.port())) {
        return metric(c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").read(5000).body(),
            name);
      }
    }, ok::test, 10_000);
  }


  @Test
  @DisplayName("bodies held at once past ingest.maxBufferedBodyBytes: 503 + Retry-After in JSON; the bytes come back")
  void bodyBudget() throws Exception {
    try (TestPulse pulse = TestPulse.start(new JsonObject()
        .put("ingest", new JsonObject().put("maxBodyBytes", 4096).put("maxBufferedBodyBytes", 10_000))
        .put("http", new JsonObject().put("bodyTimeoutMs", 20_000)))) {
      RawHttp a = new RawHttp(pulse.port());
      RawHttp b = new RawHttp(pulse.port());
      a.send(head(4096) + "{\"values\":");
      b.send(head(4096) + "{\"values\":");
      assertEquals(8192.0, awaitMetric(pulse, "pulse_http_body_buffered_bytes", 8192.0), "two declared bodies held");

      // a third declared body would pass the budget: refused before a byte of it is held
      try (RawHttp c = new RawHttp(pulse.port())) {
        c.send(head(4096));
        RawHttp.Answer refused = c.read(5000);
        assertEquals(503, refused.status(), refused.toString());
        assertEquals("1", refused.header("retry-after"));
        assertTrue(refused.json().getString("error").contains("ingest.maxBufferedBodyBytes"), refused.toString());
        c.send("x".repeat(4096));
        assertTrue(c.closedWithin(5000), "the refused request's body is read and dropped, then the connection closes");
      }

      // a chunked body grows past it: refused when its chunks would pass it
      try (RawHttp d = new RawHttp(pulse.port())) {
        d.send("POST /api/v1/streams/held/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 3; i++) {
          d.send("3e8\r\n" + "y".repeat(1000) + "\r\n");
        }
        RawHttp.Answer refused = d.read(5000);
        assertEquals(503, refused.status(), refused.toString());
        assertTrue(refused.json().getString("error").contains("ingest.maxBufferedBodyBytes"), refused.toString());
        d.send("0\r\n\r\n");
        assertTrue(d.closedWithin(5000));
      }

      // connections that drop mid-body give their bytes back
      a.close();
      b.close();
      assertEquals(0.0, awaitMetric(pulse, "pulse_http_body_buffered_bytes", 0.0), "nothing held once they are gone");
      assertTrue(awaitMetric(pulse, "pulse_http_body_refused_total", v -> v >= 2) >= 2, "both refusals counted");

      // and a whole body is taken again, and gives its bytes back when answered
      try (RawHttp e = new RawHttp(pulse.port())) {
        String body = "{\"values\":{\"v\":1}}\n";
        RawHttp.Answer ok = e.send(head(body.length()) + body).read(5000);
        assertEquals(202, ok.status(), ok.toString());
      }
      assertEquals(0.0, awaitMetric(pulse, "pulse_http_body_buffered_bytes", 0.0), "an answered request holds nothing");
    }
  }

  @Test
  @DisplayName("a body sent after 100 Continue is held until it is answered, then given back")
  void expectContinue() throws Exception {
    try (TestPulse pulse = TestPulse.start(new JsonObject()
        .put("ingest", new JsonObject().put("maxBodyBytes", 4096).put("maxBufferedBodyBytes", 10_000)))) {
      try (RawHttp c = new RawHttp(pulse.port())) {
        String body = "{\"values\":{\"v\":1}}\n";
        c.send("POST /api/v1/streams/held/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
            + "Expect: 100-continue\r\nContent-Length: " + (body.length() + 100) + "\r\n\r\n");
        assertEquals(100, c.read(5000).status());
        c.send(body);
        assertEquals(body.length() + 100.0, awaitMetric(pulse, "pulse_http_body_buffered_bytes", body.length() + 100.0),
            "held while it arrives");
        RawHttp.Answer ok = c.send(" ".repeat(100)).read(5000);
        assertEquals(202, ok.status(), ok.toString());
      }
      assertEquals(0.0, awaitMetric(pulse, "pulse_http_body_buffered_bytes", 0.0));
    }
  }

  @Test
  @DisplayName("connections past http.maxConnections get a 503 in JSON and are closed; a freed slot is reused")
  void connectionCap() throws Exception {
    try (TestPulse pulse = TestPulse.start(new JsonObject().put("http", new JsonObject().put("maxConnections", 3)
        .put("headerTimeoutMs", 300)))) {
      List<RawHttp> held = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        RawHttp c = new RawHttp(pulse.port());
        assertEquals(200, c.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n").read(5000).status());
        held.add(c);
      }
      try (RawHttp over = new RawHttp(pulse.port())) {
        RawHttp.Answer a = over.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n").read(5000);
        assertEquals(503, a.status(), a.toString());
        assertTrue(a.json().getString("error").contains("http.maxConnections"), a.toString());
        assertEquals("1", a.header("retry-after"));
        assertEquals("nosniff", a.header("x-content-type-options"), "the guard's answer has the security headers too");
        assertEquals(io.pulse.http.SecurityHeaders.API_POLICY, a.header("content-security-policy"), a.toString());
        assertTrue(over.closedWithin(5000));
      }
      try (RawHttp silent = new RawHttp(pulse.port())) {
        // one past the cap that sends nothing gets the same answer once http.headerTimeoutMs has passed
        RawHttp.Answer a = silent.read(5000);
        assertEquals(503, a.status(), a.toString());
        assertTrue(silent.closedWithin(5000));
      }
      held.remove(0).close();
      // the freed slot is given back once the server has seen the close: wait for it with a deadline
      int status = Await.until("a connection admitted again", () -> {
        try (RawHttp c = new RawHttp(pulse.port())) {
          return c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").read(5000).status();
        }
      }, st -> st == 200, 10_000);
      assertEquals(200, status, "a connection is admitted again once one closed");
      for (RawHttp c : held) {
        c.close();
      }
      // two refusals at least (a retry above may have come before the server saw the close)
      assertTrue(awaitMetric(pulse, "pulse_http_connections_refused_total", v -> v >= 2) >= 2, "refusals counted");
    }
  }
}
