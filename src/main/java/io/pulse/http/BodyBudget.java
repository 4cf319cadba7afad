package io.pulse.http;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Request-body bytes held at once across every connection of the server (thread-safe: each
 * HTTP instance reserves from the same budget). A request reserves what it declares, or what
 * arrives when it declares nothing (chunked) or more arrives than it declared (decompressed);
 * it gives everything back when it ends, fails or its connection drops.
 */
public final class BodyBudget {

  private final long capacity;
  private final AtomicLong held = new AtomicLong();

  public BodyBudget(long capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacity);
    }
    this.capacity = capacity;
  }

  /** Takes {@code bytes} from the budget if they fit; false (nothing taken) if they do not. */
  public boolean tryReserve(long bytes) {
    if (bytes <= 0) {
      return true;
    }
    while (true) {
      long now = held.get();
      if (now + bytes > capacity) {
        return false;
      }
      if (held.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  /** Gives back bytes reserved before. */
  public void release(long bytes) {
    if (bytes > 0) {
      held.addAndGet(-bytes);
    }
  }

  public long held() {
    return held.get();
  }

  public long capacity() {
    return capacity;
  }
}
