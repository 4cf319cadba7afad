package io.pulse.live;

import io.pulse.core.Times;

/**
 * The id of a live message, the one place that both writes and reads it: an SSE {@code id:} line,
 * and the {@code Last-Event-ID} a reconnecting client sends back.
 *
 * <p>The form is {@code <boot>-<seq>[.<n>][~<at>]}: {@code boot} names the server run (so that an
 * id from an earlier run is never taken for one of this run's), {@code seq} is the view's sequence
 * number of a final (for a running update: of the last final before it), {@code .n} numbers the
 * running updates after that final (unique on the connection), and {@code ~at} is the start of the
 * window the message is about, from which storage can replay after a restart. The view is not in
 * the id: each view's numbers start above every number given out before (see {@link ResumeLog}),
 * so a number is never shared by two views of one run.
 */
public final class LiveId {

  /** The longest id this class reads; a longer one is malformed (a header can be kilobytes). */
  static final int MAX_LENGTH = 200;

  /**
   * What an id says. {@code seq} is -1 when the {@code <boot>-<seq>} part is malformed, {@code at}
   * null when there is no readable window in it (or one outside 1970..9999), {@code running} 0 for
   * a final.
   */
  public record Parsed(String boot, long seq, long running, Long at) {

    /** The sequence number to resume after in this run, or -1 (another run, or malformed). */
    public long resumeAfter(String bootId) {
      return seq >= 0 && bootId.equals(boot) ? seq : -1;
    }
  }

  private static final Parsed MALFORMED = new Parsed(null, -1, 0, null);

  private LiveId() {
  }

  /**
   * The id of a message: {@code running} 0 for a final (or a message that is not a rollup),
   * {@code at} {@link LiveMessage#NO_WINDOW} for none.
   */
  public static String of(String boot, long seq, long running, long at) {
    StringBuilder sb = new StringBuilder(boot.length() + 40).append(boot).append('-').append(seq);
    if (running > 0) {
      sb.append('.').append(running);
    }
    if (at != LiveMessage.NO_WINDOW) {
      sb.append('~').append(at);
    }
    return sb.toString();
  }

  /** An id as a client sent it back; never throws (what cannot be read is left out). */
  public static Parsed parse(String id) {
    if (id == null || id.isEmpty() || id.length() > MAX_LENGTH) {
      return MALFORMED;
    }
    String rest = id.trim();
    Long at = null;
    int tilde = rest.indexOf('~');
    if (tilde >= 0) {
      long w = number(rest, tilde + 1, rest.length());
      at = w < 0 || !Times.inRange(w) ? null : w;
      rest = rest.substring(0, tilde);
    }
    long running = 0;
    int dot = rest.indexOf('.');
    if (dot >= 0) {
      running = Math.max(0, number(rest, dot + 1, rest.length()));
      rest = rest.substring(0, dot); // a running update's id: resume after the final before it
    }
    int dash = rest.indexOf('-');
    if (dash <= 0) {
      return new Parsed(null, -1, 0, at);
    }
    long seq = number(rest, dash + 1, rest.length());
    return new Parsed(rest.substring(0, dash), seq < 0 ? -1 : seq, seq < 0 ? 0 : running, at);
  }

  /** The decimal number in {@code s[from, to)}: 1 to 18 digits (so it never overflows), else -1. */
  private static long number(String s, int from, int to) {
    if (from >= to || to - from > 18) {
      return -1;
    }
    long v = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }
}
