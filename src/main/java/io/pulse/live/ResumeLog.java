package io.pulse.live;

import java.util.ArrayList;
import java.util.List;

/**
 * The recent final messages of one view, numbered, so that an SSE client reconnecting with
 * {@code Last-Event-ID} gets exactly what it missed. Bounded: the oldest fall out, and a client
 * asking from before them is told to reset. Single-threaded (the live verticle owns it).
 */
public final class ResumeLog {

  private final LiveMessage[] ring;
  private final long base;
  private long seq;

  public ResumeLog(int capacity) {
    this(capacity, 0);
  }

  /**
   * A log whose first message is numbered {@code base + 1}: a view made again (after it was
   * retired or evicted) starts above every number its earlier self gave out, so an id from that
   * earlier self can never be taken for one of this log's and resets instead.
   */
  public ResumeLog(int capacity, long base) {
    this.ring = new LiveMessage[capacity];
    this.base = base;
    this.seq = base;
  }

  /** Numbers the next message; the caller builds it with this number and {@link #append}s it. */
  public long next() {
    return ++seq;
  }

  public void append(LiveMessage m) {
    ring[(int) (m.seq() % ring.length)] = m;
  }

  /** The last number given out ({@code base} before any). */
  public long seq() {
    return seq;
  }

  /** The oldest number still held. */
  public long oldest() {
    return Math.max(base + 1, seq - ring.length + 1);
  }

  /**
   * Messages after {@code after}, oldest first; null when some of them have already fallen out
   * (the client must reset), an empty list when it is up to date.
   */
  public List<LiveMessage> after(long after) {
    if (after > seq) {
      return null; // from a future this log never had: another server run
    }
    if (after < oldest() - 1) {
      return null;
    }
    List<LiveMessage> out = new ArrayList<>((int) (seq - after));
    for (long s = after + 1; s <= seq; s++) {
      out.add(ring[(int) (s % ring.length)]);
    }
    return out;
  }
}
