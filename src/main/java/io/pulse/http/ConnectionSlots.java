package io.pulse.http;

import java.util.concurrent.atomic.AtomicInteger;

/** Connections open at once, across every HTTP instance (thread-safe), with a cap. */
public final class ConnectionSlots {

  private final int max;
  private final AtomicInteger open = new AtomicInteger();

  public ConnectionSlots(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1, got " + max);
    }
    this.max = max;
  }

  /** Takes a slot for a new connection; false (nothing taken) when all are in use. */
  public boolean tryOpen() {
    while (true) {
      int n = open.get();
      if (n >= max) {
        return false;
      }
      if (open.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Gives back the slot of a connection that {@link #tryOpen} admitted. */
  public void close() {
    open.decrementAndGet();
  }

  public int open() {
    return open.get();
  }

  public int max() {
    return max;
  }
}
