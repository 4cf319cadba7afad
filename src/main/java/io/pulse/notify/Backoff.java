package io.pulse.notify;

import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter: after the n-th failed attempt the next one waits a uniformly
 * drawn time in [0, min(cap, base * 2^(n-1))] (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): receivers that came back are not hit by every sender at the same instant.
 */
public final class Backoff {

  private final long baseMs;
  private final long capMs;

  public Backoff(long baseMs, long capMs) {
    if (baseMs < 1 || capMs < baseMs) {
      throw new IllegalArgumentException("need 1 <= base <= cap, got base " + baseMs + ", cap " + capMs);
    }
    this.baseMs = baseMs;
    this.capMs = capMs;
  }

  /** The longest wait after {@code failures} failed attempts (at least 1). */
  public long ceiling(int failures) {
    int shift = Math.max(0, Math.min(failures - 1, 62));
    long window = baseMs > (capMs >> shift) ? capMs : baseMs << shift;
    return Math.min(capMs, window);
  }

  /** The wait before the next attempt after {@code failures} failed ones, drawn from {@code random}. */
  public long delay(int failures, RandomGenerator random) {
    return random.nextLong(ceiling(failures) + 1);
  }
}
