package io.pulse.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The sliced queue on a manual time: order, slices, tasks submitted from tasks, failures. */
class SlicedQueueTest {

  private long now;
  /** Turns handed to the "loop", run by hand. */
  private final ArrayDeque<Runnable> loop = new ArrayDeque<>();
  private final List<String> ran = new ArrayList<>();
  private final List<RuntimeException> failures = new ArrayList<>();
  private final SlicedQueue q = new SlicedQueue(loop::add, () -> now, 10, failures::add);

  private Runnable task(String name, long cost) {
    return () -> {
      ran.add(name);
      now += cost;
    };
  }

  @Test
  @DisplayName("an idle queue runs a task at once; a burst runs in order, about one slice per turn, other work in between")
  void slices() {
    q.submit(task("a", 1));
    assertEquals(List.of("a"), ran);
    assertEquals(0, loop.size());
    // a burst from inside a task: 10 tasks of 4 ns each with a 10 ns slice -> 3 per turn
    q.submit(() -> {
      for (int i = 0; i < 10; i++) {
        q.submit(task("b" + i, 4));
      }
    });
    assertEquals(List.of("a", "b0", "b1", "b2"), ran);
    assertEquals(1, loop.size(), "the rest waits for the next turn");
    assertEquals(7, q.size());
    q.submit(task("c", 1)); // behind the burst, not before it
    assertEquals(4, ran.size());
    loop.poll().run();
    assertEquals(List.of("a", "b0", "b1", "b2", "b3", "b4", "b5"), ran);
    while (!loop.isEmpty()) {
      loop.poll().run();
    }
    assertEquals(List.of("a", "b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "c"), ran);
    assertEquals(0, q.size());
    assertEquals(3, q.yields());
  }

  @Test
  @DisplayName("a task's continuation runs right after it, before what was queued behind it, still in slices")
  void continuation() {
    q.submit(() -> {
      now += 20; // past the slice: what follows waits for a turn
      q.submit(task("later", 1));
      q.next(List.of(task("rest1", 6), task("rest2", 6), task("rest3", 6)));
    });
    assertEquals(List.of(), ran);
    loop.poll().run();
    assertEquals(List.of("rest1", "rest2"), ran);
    loop.poll().run();
    assertEquals(List.of("rest1", "rest2", "rest3", "later"), ran);
  }

  @Test
  @DisplayName("a task that throws is reported and the next ones still run")
  void failures() {
    q.submit(() -> {
      throw new IllegalStateException("boom");
    });
    q.submit(task("after", 1));
    assertEquals(List.of("after"), ran);
    assertEquals("boom", failures.get(0).getMessage());
  }
}
