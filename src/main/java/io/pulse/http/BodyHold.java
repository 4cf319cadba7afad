package io.pulse.http;

/**
 * The request-body bytes one connection holds of the shared {@link BodyBudget}, request by
 * request: a request takes its declared length when its head arrives (if the route would read
 * that much), then whatever arrives past what it took (chunked bodies, decompressed ones), and
 * gives everything back when its response ends or its connection closes. What arrives after the
 * response ended (the rest of a body answered early) is held by no one and not counted.
 *
 * <p>Plain state of one connection, on its event loop (not thread-safe; the budget is). Nothing
 * here allocates: it runs for every request of the edge.
 */
public final class BodyHold {

  private final BodyBudget budget;
  private final long maxBodyBytes;
  /** Bytes of the current request's body taken from the budget, and its bytes seen so far. */
  private long reserved;
  private long received;
  /** Whether the current request's body bytes count against the budget (until its response ends). */
  private boolean counting;

  /**
   * @param maxBodyBytes the largest body a route reads ({@code ingest.maxBodyBytes}); a request
   *     declaring more is answered 413 by the route, so its declared length is not taken
   */
  public BodyHold(BodyBudget budget, long maxBodyBytes) {
    this.budget = budget;
    this.maxBodyBytes = maxBodyBytes;
  }

  /**
   * A request's head arrived ({@code declared}: its Content-Length, or -1 without one): what the
   * request before still held goes back, and the declared length is taken. False when it does
   * not fit: the request is refused (503) and nothing is held for it.
   */
  public boolean begin(long declared) {
    release();
    counting = true;
    if (declared > 0 && declared <= maxBodyBytes) {
      if (!budget.tryReserve(declared)) {
        return false;
      }
      reserved = declared;
    }
    return true;
  }

  /**
   * Body bytes of the current request arrived (after decompression). False when the ones past
   * what it holds do not fit: the request is refused (503). True when they fit or do not count
   * (its response has ended).
   */
  public boolean arrived(long bytes) {
    if (!counting) {
      return true;
    }
    received += bytes;
    if (received > reserved) {
      long more = received - reserved;
      if (!budget.tryReserve(more)) {
        return false;
      }
      reserved += more;
    }
    return true;
  }

  /** The request's response ended, or its connection closed: everything goes back; what still arrives is not counted. */
  public void end() {
    release();
    counting = false;
  }

  /** Bytes held now. */
  public long held() {
    return reserved;
  }

  private void release() {
    budget.release(reserved);
    reserved = 0;
    received = 0;
  }
}
