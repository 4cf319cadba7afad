package io.pulse.score;

import io.pulse.event.Event;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A bounded sample of a stream's recent events, for training: at most {@code capacity} events,
 * fed one by one on the shard's thread. Each {@link #take} starts a new round: the events that
 * come after it overwrite the held ones in turn, and once {@code capacity} have come the sample is
 * a uniform one of everything since the take (reservoir sampling, Li's Algorithm L, which draws a
 * random number only for the events it keeps, so most events cost a counter and a compare). Until
 * then older events fill the rest, so a quiet stream still trains on its most recent events.
 * Not thread-safe: one shard owns it.
 */
public final class Reservoir {

  private final Event[] items;
  private final SplittableRandom random;
  private int size;
  /** Slots overwritten since the last take; past capacity, Algorithm L picks. */
  private int fill;
  /** Events offered since the last take. */
  private long seen;
  private long next;
  private double w;

  public Reservoir(int capacity, long seed) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1");
    }
    this.items = new Event[capacity];
    this.random = new SplittableRandom(seed);
  }

  public void offer(Event e) {
    seen++;
    if (fill < items.length) {
      items[fill++] = e;
      if (fill > size) {
        size = fill;
      }
      if (fill == items.length) {
        w = Math.exp(Math.log(u()) / items.length);
        skip();
      }
    } else if (seen == next) {
      items[random.nextInt(items.length)] = e;
      w *= Math.exp(Math.log(u()) / items.length);
      skip();
    }
  }

  private void skip() {
    next = seen + (long) Math.floor(Math.log(u()) / Math.log1p(-w)) + 1;
  }

  /** A uniform draw in (0, 1). */
  private double u() {
    double d;
    do {
      d = random.nextDouble();
    } while (d == 0);
    return d;
  }

  /** What the reservoir holds: the events, and how many were offered since the last take. */
  public record Slice(List<Event> events, long seen) {
  }

  /** The events held (a copy), and starts a new round. */
  public Slice take() {
    Slice s = new Slice(List.of(Arrays.copyOf(items, size)), seen);
    fill = 0;
    seen = 0;
    return s;
  }

  public int size() {
    return size;
  }

  public int capacity() {
    return items.length;
  }
}
