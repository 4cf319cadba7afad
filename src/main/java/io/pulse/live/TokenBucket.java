package io.pulse.live;

/**
 * A rate bound with a burst: {@code ratePerSecond} tokens a second, at most {@code burst} saved
 * up. Time is passed in (epoch ms); not thread-safe (one per connection, on its event loop).
 */
public final class TokenBucket {

  private final double ratePerMs;
  private final double burst;
  private double tokens;
  private long last;

  public TokenBucket(int ratePerSecond, int burst, long now) {
    if (ratePerSecond < 1 || burst < 1) {
      throw new IllegalArgumentException("rate and burst must be at least 1");
    }
    this.ratePerMs = ratePerSecond / 1000.0;
    this.burst = burst;
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token if there is one. */
  public boolean tryTake(long now) {
    if (now > last) {
      tokens = Math.min(burst, tokens + (now - last) * ratePerMs);
      last = now;
    }
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
