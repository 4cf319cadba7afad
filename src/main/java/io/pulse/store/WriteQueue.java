package io.pulse.store;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Rows waiting to be written (final rollups, encoded), oldest first. It reports itself {@link #full()}
 * at its capacity (ingest then answers 503, so no new events add to it) and clears that at 90% of
 * it. The finals of events already accepted are always taken, past the capacity too: they were
 * acknowledged, and they are bounded, since only windows that were open when ingest stopped can
 * still close. A batch taken out stays counted in {@link #depth()} until it is {@link #done} or
 * {@link #requeue}d in front, in its order. Single-threaded (the store verticle's event loop).
 */
public final class WriteQueue<T> {

  private final int capacity;
  private final ArrayDeque<T> rows = new ArrayDeque<>();
  private int inFlight;
  private boolean full;

  public WriteQueue(int capacity) {
    this.capacity = capacity;
  }

  /** Adds a row. Always taken: see the class comment for why this stays bounded. */
  public void offer(T row) {
    rows.addLast(row);
    update();
  }

  /** Takes up to {@code max} of the oldest rows out for a write. */
  public List<T> take(int max) {
    int n = Math.min(max, rows.size());
    List<T> batch = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      batch.add(rows.pollFirst());
    }
    inFlight += n;
    return batch;
  }

  /** A batch taken out was written (or given up). */
  public void done(List<T> batch) {
    done(batch.size());
  }

  /** {@code n} rows of a batch taken out were written (or given up). */
  public void done(int n) {
    inFlight -= n;
    update();
  }

  /** A batch taken out failed: back in front, in its order, to be taken again. */
  public void requeue(List<T> batch) {
    for (int i = batch.size() - 1; i >= 0; i--) {
      rows.addFirst(batch.get(i));
    }
    inFlight -= batch.size();
    update();
  }

  /** Rows waiting plus rows being written. */
  public int depth() {
    return rows.size() + inFlight;
  }

  public boolean waiting() {
    return !rows.isEmpty();
  }

  /** Whether ingest should hold off: set at the capacity, cleared at 90% of it. */
  public boolean full() {
    return full;
  }

  public int capacity() {
    return capacity;
  }

  private void update() {
    int d = depth();
    if (d >= capacity) {
      full = true;
    } else if (d <= capacity * 0.9) {
      full = false;
    }
  }
}
