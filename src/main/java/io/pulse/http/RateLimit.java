package io.pulse.http;

import io.pulse.live.TokenBucket;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One configured rate limit ({@code limits.queryPerToken}, say): a token bucket per key (a token's
 * id, a client address), {@code perSecond} requests a second with {@code burst} saved up.
 *
 * <p>Memory is bounded: at most {@code maxKeys} buckets are held, least recently used first out.
 * A key's bucket that was pushed out comes back full, which is what it would be anyway once idle
 * for {@code burst / perSecond} seconds; so a flood of new keys (addresses, tokens) can make the
 * limit lenient for keys idle longest, never grow the heap. Thread-safe: the buckets are split over
 * stripes by key, each with its own lock, so event loops charging different keys rarely meet.
 */
public final class RateLimit {

  private static final int STRIPES = 16;

  /** What a charge came to: allowed or not, and the figures for the RateLimit-* and Retry-After headers. */
  public record Charge(boolean allowed, int limit, int remaining, long resetMs, long retryAfterMs) {

    /** Retry-After: whole seconds, rounded up, at least 1. */
    public long retryAfterSeconds() {
      return Math.max(1, (retryAfterMs + 999) / 1000);
    }

    /** RateLimit-Reset: seconds until the bucket is full again, rounded up. */
    public long resetSeconds() {
      return (resetMs + 999) / 1000;
    }
  }

  private final String setting;
  private final int perSecond;
  private final int burst;
  private final int perStripe;
  private final Map<String, TokenBucket>[] stripes;

  /**
   * @param setting the setting's name, for messages ("limits.queryPerToken")
   * @param perSecond requests a second; 0: no limit (every charge is allowed and nothing is held)
   * @param burst requests saved up at most (at least 1 when limited)
   * @param maxKeys buckets held at most (at least 1)
   */
  @SuppressWarnings("unchecked")
  public RateLimit(String setting, int perSecond, int burst, int maxKeys) {
    if (perSecond < 0 || (perSecond > 0 && burst < 1) || maxKeys < 1) {
      throw new IllegalArgumentException(setting + ": rate " + perSecond + ", burst " + burst + ", keys " + maxKeys);
    }
    this.setting = setting;
    this.perSecond = perSecond;
    this.burst = burst;
    int n = Math.min(STRIPES, maxKeys);
    this.perStripe = Math.max(1, maxKeys / n);
    this.stripes = new Map[n];
    for (int i = 0; i < n; i++) {
      int cap = perStripe;
      stripes[i] = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, TokenBucket> eldest) {
          return size() > cap;
        }
      };
    }
  }

  public boolean unlimited() {
    return perSecond == 0;
  }

  public String setting() {
    return setting;
  }

  public int perSecond() {
    return perSecond;
  }

  public int burst() {
    return burst;
  }

  private Map<String, TokenBucket> stripe(String key) {
    int h = key.hashCode();
    h ^= h >>> 16;
    return stripes[Math.floorMod(h, stripes.length)];
  }

  /** Charges one request to {@code key} at {@code now}; an unlimited limit allows it and answers null. */
  public Charge take(String key, long now) {
    if (unlimited()) {
      return null;
    }
    Map<String, TokenBucket> m = stripe(key);
    synchronized (m) {
      TokenBucket b = m.get(key);
      if (b == null) {
        b = new TokenBucket(perSecond, burst, now);
        m.put(key, b);
      }
      boolean ok = b.tryTake(now);
      return new Charge(ok, burst, b.available(now), b.msUntilFull(now), ok ? 0 : b.msUntilOne(now));
    }
  }

  /**
   * Whether {@code key} may go ahead under a limit charged after the fact ({@link #chargeAfter}: events
   * per second): not while in debt. Null when unlimited; else the figures, {@code retryAfterMs} until
   * the debt is paid.
   */
  public Charge admit(String key, long now) {
    if (unlimited()) {
      return null;
    }
    Map<String, TokenBucket> m = stripe(key);
    synchronized (m) {
      TokenBucket b = m.get(key);
      if (b == null) {
        return new Charge(true, burst, burst, 0, 0);
      }
      boolean ok = !b.inDebt(now);
      return new Charge(ok, burst, b.available(now), b.msUntilFull(now), ok ? 0 : b.msUntilPaid(now));
    }
  }

  /** Charges {@code n} to {@code key} after the fact: it may go into debt, refused by {@link #admit} until paid. */
  public void chargeAfter(String key, long n, long now) {
    if (unlimited() || n <= 0) {
      return;
    }
    Map<String, TokenBucket> m = stripe(key);
    synchronized (m) {
      TokenBucket b = m.get(key);
      if (b == null) {
        b = new TokenBucket(perSecond, burst, now);
        m.put(key, b);
      }
      b.charge(n, now);
    }
  }

  /** Gives back the request {@link #take} charged to {@code key} (another limit refused it after all). */
  public void giveBack(String key) {
    if (unlimited()) {
      return;
    }
    Map<String, TokenBucket> m = stripe(key);
    synchronized (m) {
      TokenBucket b = m.get(key);
      if (b != null) {
        b.giveBack();
      }
    }
  }

  /** Buckets held now (at most maxKeys). */
  public int keys() {
    int n = 0;
    for (Map<String, TokenBucket> m : stripes) {
      synchronized (m) {
        n += m.size();
      }
    }
    return n;
  }
}
