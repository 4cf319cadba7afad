package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.ManualClock;
import io.pulse.http.EdgeConnection.Due;
import io.pulse.http.EdgeConnection.Phase;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The edge's per-connection state machine, driven by a manual clock: which timeout applies when,
 * counted from which instant; when a request is pipelined; when the edge may still answer.
 */
class EdgeConnectionTest {

  static final long HEADER_MS = 400;
  static final long BODY_MS = 300;

  private final ManualClock clock = new ManualClock(10_000);
  private final BodyBudget budget = new BodyBudget(1_000);

  private EdgeConnection open(boolean admitted) {
    return new EdgeConnection(HEADER_MS, BODY_MS, admitted, new BodyHold(budget, 500), clock.millis());
  }

  /** A request that came in whole and was answered: the connection is between requests. */
  private void serveOne(EdgeConnection c) {
    c.bytesArrived(clock.millis());
    assertTrue(c.requestHead(clock.millis()));
    assertTrue(c.bodyDeclared(-1));
    c.requestEnded();
    c.responseBegins();
    c.responseEnded();
    assertEquals(Phase.IDLE, c.phase());
  }

  @Test
  @DisplayName("a new connection's first request must be in within the header timeout of its opening")
  void firstRequestFromOpening() {
    EdgeConnection c = open(true);
    assertEquals(Phase.HEADERS, c.phase());
    clock.advance(HEADER_MS - 1);
    assertEquals(Due.NOTHING, c.due(clock.millis()));
    clock.advance(1);
    assertEquals(Due.HEADER_TIMEOUT, c.due(clock.millis()));
  }

  @Test
  @DisplayName("a connection past the cap that stays silent is told why (503), not timed out (408)")
  void refusedConnectionSilent() {
    EdgeConnection c = open(false);
    assertFalse(c.isAdmitted());
    clock.advance(HEADER_MS);
    assertEquals(Due.REFUSED_CONNECTION, c.due(clock.millis()));
  }

  @Test
  @DisplayName("the header clock starts at a request's first byte and later bytes do not restart it")
  void headerClockFromFirstByte() {
    EdgeConnection c = open(true);
    serveOne(c);
    clock.advance(5_000); // between keep-alive requests only the idle timeout applies
    assertEquals(Due.STOP, c.due(clock.millis()));
    long first = clock.millis();
    assertTrue(c.bytesArrived(first), "the first byte begins a request: a timeout applies again");
    clock.advance(HEADER_MS - 100);
    assertFalse(c.bytesArrived(clock.millis()), "more header bytes begin nothing");
    clock.set(first + HEADER_MS - 1);
    assertEquals(Due.NOTHING, c.due(clock.millis()));
    clock.set(first + HEADER_MS);
    assertEquals(Due.HEADER_TIMEOUT, c.due(clock.millis()), "a trickle of header bytes does not keep it open");
  }

  @Test
  @DisplayName("the body timeout counts from the last byte read, raw or decoded")
  void bodyClockFromLastByte() {
    EdgeConnection c = open(true);
    c.bytesArrived(clock.millis());
    clock.advance(HEADER_MS - 1);
    assertTrue(c.requestHead(clock.millis()));
    assertTrue(c.bodyDeclared(100));
    assertEquals(Phase.BODY, c.phase());
    clock.advance(BODY_MS - 1);
    assertEquals(Due.NOTHING, c.due(clock.millis()), "the header timeout no longer applies");
    assertTrue(c.bodyBytes(clock.millis(), 10));
    clock.advance(BODY_MS - 1);
    assertEquals(Due.NOTHING, c.due(clock.millis()));
    c.bytesArrived(clock.millis()); // bytes not yet decoded count too
    clock.advance(BODY_MS - 1);
    assertEquals(Due.NOTHING, c.due(clock.millis()));
    clock.advance(1);
    assertEquals(Due.BODY_TIMEOUT, c.due(clock.millis()));
  }

  @Test
  @DisplayName("no timeout once the request is in (a live SSE stream) or after an upgrade, however long")
  void noTimeoutWhenWaitingOrUpgraded() {
    EdgeConnection c = open(true);
    assertTrue(c.requestHead(clock.millis()));
    assertTrue(c.bodyDeclared(-1));
    c.requestEnded();
    assertEquals(Phase.WAITING, c.phase());
    c.responseBegins(); // an SSE response that never ends
    clock.advance(3_600_000);
    assertEquals(Due.STOP, c.due(clock.millis()));

    EdgeConnection ws = open(true);
    assertTrue(ws.requestHead(clock.millis()));
    ws.requestEnded();
    ws.responseBegins();
    ws.responseEnded();
    ws.upgraded();
    assertFalse(ws.bytesArrived(clock.millis()), "WebSocket frames begin no request");
    clock.advance(3_600_000);
    assertEquals(Due.STOP, ws.due(clock.millis()));
    assertTrue(ws.isUpgraded());
  }

  @Test
  @DisplayName("a head the decoder could not read leaves the answer to the route: no timeout applies")
  void unreadableHead() {
    EdgeConnection c = open(true);
    c.unreadableHead();
    clock.advance(HEADER_MS * 10);
    assertEquals(Due.STOP, c.due(clock.millis()));
  }

  @Test
  @DisplayName("a request before the one ahead is answered is pipelined: refused, and the connection marked")
  void pipelining() {
    EdgeConnection c = open(true);
    assertTrue(c.requestHead(clock.millis()));
    c.requestEnded();
    assertFalse(c.requestHead(clock.millis()), "the first one is not answered yet");
    assertTrue(c.isPipelined());

    EdgeConnection d = open(true); // answered early (413) while its body still arrives, response not done
    assertTrue(d.requestHead(clock.millis()));
    d.responseBegins();
    assertFalse(d.requestHead(clock.millis()));
    assertTrue(d.isPipelined());

    EdgeConnection e = open(true);
    serveOne(e);
    serveOne(e);
    assertFalse(e.isPipelined(), "keep-alive one after the other is not pipelining");
  }

  @Test
  @DisplayName("a request answered before its body ended is between requests once its last bytes arrive")
  void answeredEarly() {
    EdgeConnection c = open(true);
    assertTrue(c.requestHead(clock.millis()));
    c.responseBegins();
    c.responseEnded();
    assertEquals(Phase.BODY, c.phase(), "its body still arrives, under the body timeout");
    c.requestEnded();
    assertEquals(Phase.IDLE, c.phase());
    assertTrue(c.requestHead(clock.millis()), "the next request is served");
  }

  @Test
  @DisplayName("the edge answers a request once at most; past that, or during a response, it only closes")
  void oneAnswer() {
    EdgeConnection c = open(true);
    assertTrue(c.requestHead(clock.millis()));
    assertFalse(c.isDiscarding());
    assertTrue(c.answerThenDrop());
    assertTrue(c.isDiscarding(), "the rest of the request is dropped");
    assertFalse(c.answerThenDrop(), "never a second answer");
    assertFalse(c.answerThenClose());
    c.discarded();
    assertEquals(Phase.WAITING, c.phase());

    EdgeConnection d = open(true);
    assertTrue(d.requestHead(clock.millis()));
    d.responseBegins();
    assertFalse(d.answerThenDrop(), "a response is on the wire");
    assertFalse(d.isDiscarding(), "only closing: nothing marked");
    assertFalse(d.answerThenClose());
    assertTrue(d.isDiscarding(), "closing: what still arrives is dropped");

    EdgeConnection e = open(true); // a timeout on a connection that never had a request
    assertTrue(e.answerThenClose());
    assertTrue(e.isDiscarding());
  }

  @Test
  @DisplayName("body bytes are held from the head to the end of the response, or the connection's close")
  void bodyHeldUntilResponseEnds() {
    EdgeConnection c = open(true);
    assertTrue(c.requestHead(clock.millis()));
    assertTrue(c.bodyDeclared(400));
    assertEquals(400, budget.held());
    c.requestEnded();
    c.responseBegins();
    assertEquals(400, budget.held(), "held while the route answers");
    c.responseEnded();
    assertEquals(0, budget.held());

    assertTrue(c.requestHead(clock.millis()));
    assertTrue(c.bodyDeclared(-1));
    assertTrue(c.bodyBytes(clock.millis(), 300));
    assertEquals(300, c.heldBodyBytes());
    c.closed();
    assertEquals(0, budget.held(), "a dropped connection gives its bytes back");
  }

  @Test
  @DisplayName("pings go unanswered only on a WebSocket whose peer does not read; a body failure is one in BODY or WAITING")
  void pingsAndBodyFailures() {
    EdgeConnection c = open(true);
    assertFalse(c.skipsPing(false, clock.millis()), "not a WebSocket");
    assertFalse(c.inBody(), "still in its headers");
    assertTrue(c.requestHead(clock.millis()));
    assertTrue(c.inBody());
    c.requestEnded();
    assertTrue(c.inBody(), "a decompressor may fail on the last bytes");
    c.responseBegins();
    c.responseEnded();
    assertFalse(c.inBody());
    c.upgraded();
    assertFalse(c.skipsPing(true, clock.millis()));
    assertTrue(c.skipsPing(false, clock.millis()));
  }

  @Test
  @DisplayName("a ping flood: at most PINGS_PER_SECOND pings a second are answered, the rest dropped; the next second answers again")
  void pingFlood() {
    EdgeConnection c = open(true);
    assertTrue(c.requestHead(clock.millis()));
    c.requestEnded();
    c.responseBegins();
    c.responseEnded();
    c.upgraded();
    int answered = 0;
    for (int i = 0; i < 1000; i++) {
      if (!c.skipsPing(true, clock.millis())) {
        answered++;
      }
    }
    assertEquals(EdgeConnection.PINGS_PER_SECOND, answered);
    clock.advance(999);
    assertTrue(c.skipsPing(true, clock.millis()), "still the same second");
    clock.advance(1);
    assertFalse(c.skipsPing(true, clock.millis()), "a new second");
  }

  @Test
  @DisplayName("the clock is looked at four times per shortest timeout, at most every 5 ms")
  void checkPeriod() {
    assertEquals(75, open(true).checkPeriodMs());
    assertEquals(5, new EdgeConnection(8, 1_000, true, new BodyHold(budget, 500), 0).checkPeriodMs());
  }
}
