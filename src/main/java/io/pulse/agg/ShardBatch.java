package io.pulse.agg;

import io.pulse.event.Event;
import java.util.Arrays;

/**
 * Work for one aggregate shard from one ingest call: which event goes into which series of which
 * view, and at what time it is windowed. Built by one thread, then handed over and only read.
 *
 * <p>{@code windowTs} is the event time, except for a late event under the "fold" policy, whose
 * windowing time is its arrival.
 */
public final class ShardBatch {

  private ViewKey[] keys;
  private Event[] events;
  private long[] windowTs;
  private int size;

  public ShardBatch(int capacity) {
    int c = Math.max(4, capacity);
    keys = new ViewKey[c];
    events = new Event[c];
    windowTs = new long[c];
  }

  public void add(ViewKey key, Event event, long ts) {
    if (size == keys.length) {
      int c = size * 2;
      keys = Arrays.copyOf(keys, c);
      events = Arrays.copyOf(events, c);
      windowTs = Arrays.copyOf(windowTs, c);
    }
    keys[size] = key;
    events[size] = event;
    windowTs[size++] = ts;
  }

  public int size() {
    return size;
  }

  public ViewKey key(int i) {
    return keys[i];
  }

  public Event event(int i) {
    return events[i];
  }

  public long windowTs(int i) {
    return windowTs[i];
  }
}
