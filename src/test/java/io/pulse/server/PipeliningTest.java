package io.pulse.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.testing.PgFixture;
import io.pulse.testing.RawHttp;
import io.pulse.testing.TestPulse;
import java.io.IOException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * HTTP/1.1 pipelining: a request sent before the one ahead of it is answered. The request-body
 * budget follows one request at a time per connection, so such a request is not read: the answer
 * in progress goes out, then the connection closes (a pipelining client retries, RFC 9112 9.3.2).
 */
class PipeliningTest {

  @Test
  @DisplayName("a request pipelined behind one still being answered is never read; the connection closes after "
      + "the first answer and no body bytes stay counted")
  void pipelinedBehindPendingAnswer() throws Exception {
    PgFixture.Db db = PgFixture.freshDatabase();
    try (TestPulse p = TestPulse.startWithStorage(db, null)) {
      assertEquals(202, p.postNdjson("piped", "{\"values\":{\"v\":1}}"));
      // /series reads PostgreSQL: its answer is still on its way when the POST behind it is decoded
      String get = "GET /api/v1/streams/piped/series?from=15m HTTP/1.1\r\nHost: x\r\n\r\n";
      String body = "{\"values\":{\"v\":1}}\n";
      String post = "POST /api/v1/streams/piped2/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
          + "Content-Length: " + body.length() + "\r\n\r\n" + body;
      try (RawHttp c = new RawHttp(p.port())) {
        RawHttp.Answer first = c.send(get + post).read(10_000);
        assertEquals(200, first.status(), first.body());
        IOException closed = assertThrows(IOException.class, () -> c.read(10_000));
        assertTrue(closed.getMessage().contains("closed"), closed.toString());
      }
      String metrics = p.get("/metrics").body();
      assertTrue(HttpAdmissionTest.metric(metrics, "pulse_http_pipelined_total") >= 1, "counted");
      assertEquals(0.0, HttpAdmissionTest.metric(metrics, "pulse_http_body_buffered_bytes"), "no bytes held");
      assertEquals(0.0, HttpAdmissionTest.metric(metrics, "pulse_events_accepted_total{stream=\"piped2\",tenant=\"default\"}"),
          "the pipelined events were not read");
      assertEquals(202, p.postNdjson("piped2", body), "a request on its own is served as usual");
      // the counter that read 0 above is there and counts: one event, this one, not the pipelined one too
      assertEquals(1.0, HttpAdmissionTest.metric(p.get("/metrics").body(),
          "pulse_events_accepted_total{stream=\"piped2\",tenant=\"default\"}"),
          "only the request on its own was read");
    }
  }
}
