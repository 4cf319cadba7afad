package io.pulse.live;

/**
 * A rate bound with a burst: {@code ratePerSecond} tokens a second, at most {@code burst} saved
 * up. Time is passed in (epoch ms); not thread-safe (one per connection on its event loop, or
 * guarded by its owner's lock, as {@code io.pulse.http.RateLimits} does).
 */
public final class TokenBucket {

  /** Slack for the rounding of fractional tokens: 0.9999999999 saved up is one token. */
  private static final double EPS = 1e-9;

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

  private void refill(long now) {
    if (now > last) {
      tokens = Math.min(burst, tokens + (now - last) * ratePerMs);
      last = now;
    }
  }

  /** Takes one token if there is one. */
  public boolean tryTake(long now) {
    refill(now);
    if (tokens >= 1 - EPS) {
      tokens = Math.max(0, tokens - 1);
      return true;
    }
    return false;
  }

  /** Gives back one token taken by {@link #tryTake} (a request refused by another bound after all). */
  public void giveBack() {
    tokens = Math.min(burst, tokens + 1);
  }

  /**
   * Takes {@code n} tokens after the fact (events counted once a body was read): the bucket may go
   * into debt, and {@link #inDebt} is true until the rate has paid it back.
   */
  public void charge(long n, long now) {
    refill(now);
    tokens -= n;
  }

  /** Whether more was {@link #charge charged} than the bucket held, and not yet paid back by {@code now}. */
  public boolean inDebt(long now) {
    refill(now);
    return tokens < -EPS;
  }

  /** Milliseconds from {@code now} until the bucket is out of debt (0: it is not in debt). */
  public long msUntilPaid(long now) {
    refill(now);
    return tokens >= -EPS ? 0 : ceilMs(-tokens / ratePerMs);
  }

  /** Whole tokens saved up at {@code now}. */
  public int available(long now) {
    refill(now);
    return (int) Math.max(0, Math.floor(tokens + EPS));
  }

  /** Milliseconds from {@code now} until one token is there (0: there is one now). */
  public long msUntilOne(long now) {
    refill(now);
    return tokens >= 1 - EPS ? 0 : ceilMs((1 - tokens) / ratePerMs);
  }

  /** Milliseconds from {@code now} until the bucket is full again (0: it is full). */
  public long msUntilFull(long now) {
    refill(now);
    return tokens >= burst - EPS ? 0 : ceilMs((burst - tokens) / ratePerMs);
  }

  /** Whole milliseconds, rounded up, with a little slack for the rounding of the rate (1000.0000001 is 1000). */
  private static long ceilMs(double ms) {
    return Math.max(1, (long) Math.ceil(ms - 1e-6));
  }

  public int burst() {
    return (int) burst;
  }
}
