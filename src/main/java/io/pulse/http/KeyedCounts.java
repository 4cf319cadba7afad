package io.pulse.http;

import java.util.concurrent.ConcurrentHashMap;

/**
 * How many of a thing each key holds, with a cap per key ({@code limits.liveConnectionsPerToken}:
 * live connections per token). A key holding nothing has no entry, so memory follows what is
 * held, not how many keys were ever seen. Thread-safe.
 */
public final class KeyedCounts {

  private final int cap;
  private final ConcurrentHashMap<String, Integer> held = new ConcurrentHashMap<>();

  /** @param cap the most one key may hold; 0: no cap */
  public KeyedCounts(int cap) {
    if (cap < 0) {
      throw new IllegalArgumentException("cap must be 0 (none) or more, got " + cap);
    }
    this.cap = cap;
  }

  public int cap() {
    return cap;
  }

  /** Takes one for {@code key}; false (nothing taken) when it holds its cap already. */
  public boolean tryAcquire(String key) {
    boolean[] ok = {false};
    held.compute(key, (k, n) -> {
      int cur = n == null ? 0 : n;
      if (cap > 0 && cur >= cap) {
        return n;
      }
      ok[0] = true;
      return cur + 1;
    });
    return ok[0];
  }

  /** Gives back one {@link #tryAcquire} took. */
  public void release(String key) {
    held.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
  }

  /** What {@code key} holds now. */
  public int held(String key) {
    Integer n = held.get(key);
    return n == null ? 0 : n;
  }

  /** Keys holding anything. */
  public int keys() {
    return held.size();
  }
}
