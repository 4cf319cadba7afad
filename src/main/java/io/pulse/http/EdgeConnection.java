package io.pulse.http;

/**
 * One HTTP/1.x connection as the edge sees it, request after request: which phase it is in and
 * since when (so which timeout applies, counted from which instant), whether its current request
 * may still be answered from the edge, whether what arrives is dropped, and the body bytes it
 * holds ({@link BodyHold}).
 *
 * <ul>
 *   <li>A new connection is in {@link Phase#HEADERS} from its opening: its first request must be
 *       in within {@code http.headerTimeoutMs}, so connections that send nothing cannot hold the
 *       cap. Later requests start their header clock at their first byte; between keep-alive
 *       requests ({@link Phase#IDLE}) only the server's idle timeout applies.
 *   <li>In {@link Phase#BODY} the body timeout counts from the last byte read.
 *   <li>Once the request is all in ({@link Phase#WAITING}, SSE streams included) and on a WebSocket
 *       ({@link Phase#UPGRADED}) no timeout applies.
 *   <li>A request that comes before the one ahead was answered (HTTP/1.1 pipelining) is dropped
 *       unread with all that follows, and the connection closes once the answer in progress is
 *       written. Reading it would take its body past the budget's accounting, which follows one
 *       request at a time; RFC 9112 (9.3.2) has pipelining clients retry what was not answered.
 * </ul>
 *
 * <p>Plain state on the connection's event loop (not thread-safe). Time is passed in: milliseconds
 * of a monotonic clock. Nothing here allocates: it runs for every request of the edge.
 */
public final class EdgeConnection {

  public enum Phase {
    /** Between requests (keep-alive). */
    IDLE,
    /** Some bytes of a request arrived (or the connection just opened), its headers are not complete. */
    HEADERS,
    /** Headers done, body arriving. */
    BODY,
    /** The request is all in; its response is on its way (or streaming: SSE). */
    WAITING,
    /** A WebSocket now. */
    UPGRADED
  }

  /** What a look at the clock finds ({@link #due}). */
  public enum Due {
    /** No timeout yet: look again later. */
    NOTHING,
    /** No timeout applies any more (the request is in, or the connection upgraded): stop looking. */
    STOP,
    /** A connection past the cap sent no complete request head in time: it is told why (503) and closed. */
    REFUSED_CONNECTION,
    /** The request's headers did not arrive in time: 408 and close. */
    HEADER_TIMEOUT,
    /** The request's body stopped arriving: 408 and close. */
    BODY_TIMEOUT
  }

  private final long headerTimeoutMs;
  private final long bodyTimeoutMs;
  private final boolean admitted;
  private final BodyHold body;
  private Phase phase;
  private long phaseSince;
  private long lastRead;
  /** A response has begun and not ended: nothing can be answered from the edge in between. */
  private boolean responding;
  /** The current request has (had) an answer: a second one is never written, only the connection closed. */
  private boolean answered;
  /** Answered from the edge: the rest of the request is read and dropped, then the connection closes. */
  private boolean discarding;
  /** A pipelined request came: it and all that follows is dropped unread. */
  private boolean pipelined;
  /** WebSocket pings answered in the current second, and when that second began. */
  private int pings;
  private long pingSecond = Long.MIN_VALUE;

  /** WebSocket pings answered per second and connection; more are dropped unanswered (RFC 6455 lets a pong answer the latest only). */
  public static final int PINGS_PER_SECOND = 20;

  /**
   * @param admitted whether the connection got a slot under {@code http.maxConnections}; one that
   *     did not is answered 503 at its first request (or when its header time runs out)
   * @param openedAt when it opened: its first request's header clock starts there
   */
  public EdgeConnection(long headerTimeoutMs, long bodyTimeoutMs, boolean admitted, BodyHold body, long openedAt) {
    this.headerTimeoutMs = headerTimeoutMs;
    this.bodyTimeoutMs = bodyTimeoutMs;
    this.admitted = admitted;
    this.body = body;
    enter(Phase.HEADERS, openedAt);
  }

  /** How often to look at the clock while a timeout applies. */
  public long checkPeriodMs() {
    return Math.max(5, Math.min(headerTimeoutMs, bodyTimeoutMs) / 4);
  }

  private void enter(Phase p, long now) {
    phase = p;
    phaseSince = now;
    lastRead = now;
  }

  /**
   * Bytes arrived, not yet decoded. True when they begin a request (the connection was between
   * requests): its header clock starts now, and a timeout applies again.
   */
  public boolean bytesArrived(long now) {
    if (phase == Phase.UPGRADED) {
      return false;
    }
    boolean begins = phase == Phase.IDLE;
    if (begins) {
      enter(Phase.HEADERS, now);
    }
    lastRead = now;
    return begins;
  }

  /** Which timeout, if any, has run out at {@code now}. */
  public Due due(long now) {
    if (phase == Phase.HEADERS && now - phaseSince >= headerTimeoutMs) {
      return admitted ? Due.HEADER_TIMEOUT : Due.REFUSED_CONNECTION; // never going to be served: say why
    }
    if (phase == Phase.BODY && now - lastRead >= bodyTimeoutMs) {
      return Due.BODY_TIMEOUT;
    }
    return phase == Phase.HEADERS || phase == Phase.BODY ? Due.NOTHING : Due.STOP;
  }

  /** A request head the decoder could not read: the route answers it (in JSON); no timeout applies. */
  public void unreadableHead() {
    phase = Phase.WAITING;
  }

  /**
   * A request head decoded. False when it is pipelined (the request ahead is not answered yet):
   * drop it and everything after. True: its body phase begins now, and the body timeout applies.
   */
  public boolean requestHead(long now) {
    if (phase == Phase.WAITING || responding) {
      pipelined = true;
      return false;
    }
    enter(Phase.BODY, now);
    answered = false;
    return true;
  }

  /** The request's declared body length (-1 for none) is taken from the budget; false: it does not fit (refuse it). */
  public boolean bodyDeclared(long declared) {
    return body.begin(declared);
  }

  /** Decoded body bytes arrived: the body clock restarts; false: they do not fit in the budget (refuse the request). */
  public boolean bodyBytes(long now, long bytes) {
    lastRead = now;
    return body.arrived(bytes);
  }

  /** The request's last bytes went on to the route. */
  public void requestEnded() {
    if (phase == Phase.BODY) {
      // answered already (a 413 before the body ended): the connection is between requests again
      phase = answered && !responding ? Phase.IDLE : Phase.WAITING;
    }
  }

  /** The last bytes of a request answered from the edge were dropped: the connection closes now. */
  public void discarded() {
    phase = Phase.WAITING;
  }

  /**
   * The edge answers the current request, then the connection closes. True: write the answer
   * (the rest of the request will be dropped). False: a response is on the wire or was given,
   * nothing else can be said: only close (and drop what still arrives).
   */
  public boolean answerThenClose() {
    discarding = true;
    if (responding || answered) {
      return false;
    }
    answered = true;
    return true;
  }

  /**
   * The edge answers the request whose head (or some of whose body) just arrived; the rest of it
   * is read and dropped, then the connection closes. False: another response is on the wire or
   * was given, no room for this one: only close.
   */
  public boolean answerThenDrop() {
    if (responding || answered) {
      return false;
    }
    answered = true;
    discarding = true;
    return true;
  }

  /** A response (not an interim one) begins: the request has its answer. */
  public void responseBegins() {
    responding = true;
    answered = true;
  }

  /** A response ended: the request's body bytes go back, and the connection is between requests. */
  public void responseEnded() {
    responding = false;
    body.end(); // what still arrives of a body answered early is not held by anyone
    if (phase == Phase.WAITING) {
      phase = Phase.IDLE;
    }
  }

  /** The connection switched protocols (101): a WebSocket from now on, no timeout applies. */
  public void upgraded() {
    phase = Phase.UPGRADED;
  }

  /** The connection is gone: its body bytes go back to the budget. */
  public void closed() {
    body.end();
  }

  /**
   * A WebSocket ping is not answered while the peer does not read (its pongs would only pile up), nor
   * past {@link #PINGS_PER_SECOND} in a second (a ping flood costs the server its reading, not a
   * write per ping).
   */
  public boolean skipsPing(boolean peerReads, long now) {
    if (phase != Phase.UPGRADED) {
      return false;
    }
    if (!peerReads) {
      return true;
    }
    if (pingSecond == Long.MIN_VALUE || now - pingSecond >= 1000) {
      pingSecond = now;
      pings = 0;
    }
    return ++pings > PINGS_PER_SECOND;
  }

  /** A decoder failure now is one of the body (or of its last bytes): the request gets a 400. */
  public boolean inBody() {
    return phase == Phase.BODY || phase == Phase.WAITING;
  }

  public boolean isUpgraded() {
    return phase == Phase.UPGRADED;
  }

  public boolean isPipelined() {
    return pipelined;
  }

  public boolean isDiscarding() {
    return discarding;
  }

  public boolean isAdmitted() {
    return admitted;
  }

  public Phase phase() {
    return phase;
  }

  public long heldBodyBytes() {
    return body.held();
  }
}
