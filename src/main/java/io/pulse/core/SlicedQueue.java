package io.pulse.core;

import java.util.ArrayDeque;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Ordered work for one event loop that never holds the loop long: tasks run in the order submitted,
 * at once while the queue is idle, and once a slice of {@code sliceNanos} is spent the rest waits
 * for the next turn ({@code later}, e.g. the verticle context's {@code runOnContext}), so other
 * handlers of the loop get their turn in between. A burst (a partition replayed after a crash, with
 * minutes of windows to score) costs what it costs, spread over many turns.
 *
 * <p>Not thread-safe: submit from the loop that runs it.
 */
public final class SlicedQueue {

  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
  private final Consumer<Runnable> later;
  private final LongSupplier nanos;
  private final long sliceNanos;
  private final Consumer<RuntimeException> failed;
  private boolean running;
  private boolean scheduled;
  private long slices;

  /**
   * @param later runs the next slice on a later turn of the same loop
   * @param nanos the time (System::nanoTime; a manual one in tests)
   * @param sliceNanos how long one turn may run tasks (the one that crosses it still finishes)
   * @param failed told of a task that threw; the next tasks run as usual
   */
  public SlicedQueue(Consumer<Runnable> later, LongSupplier nanos, long sliceNanos, Consumer<RuntimeException> failed) {
    this.later = later;
    this.nanos = nanos;
    this.sliceNanos = sliceNanos;
    this.failed = failed;
  }

  /** Queues a task behind every task submitted before it; runs it now if nothing waits. */
  public void submit(Runnable task) {
    tasks.add(task);
    if (!running && !scheduled) {
      run();
    }
  }

  /**
   * From inside a running task: queues these to run right after it, before everything submitted
   * so far (the rest of one piece of work, cut into tasks, keeps its place in the order).
   */
  public void next(java.util.List<Runnable> continuation) {
    for (int i = continuation.size() - 1; i >= 0; i--) {
      tasks.addFirst(continuation.get(i));
    }
    if (!running && !scheduled) {
      run();
    }
  }

  /** Tasks waiting. */
  public int size() {
    return tasks.size();
  }

  /** Turns that ended with tasks left over (a measure of bursts). */
  public long yields() {
    return slices;
  }

  private void run() {
    running = true;
    long start = nanos.getAsLong();
    try {
      Runnable t;
      while ((t = tasks.poll()) != null) {
        try {
          t.run();
        } catch (RuntimeException e) {
          failed.accept(e);
        }
        if (!tasks.isEmpty() && nanos.getAsLong() - start >= sliceNanos) {
          scheduled = true;
          slices++;
          later.accept(this::resume);
          return;
        }
      }
    } finally {
      running = false;
    }
  }

  private void resume() {
    scheduled = false;
    run();
  }
}
