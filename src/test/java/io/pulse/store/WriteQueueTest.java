package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class WriteQueueTest {

  private static RollupStore.Row row(long start) {
    return new RollupStore.Row(RollupStore.SeriesKey.series(StreamId.of("s"), Dims.EMPTY), start, start + 1000, 1, start,
        new byte[0]);
  }

  @Test
  @DisplayName("a failed batch goes back in front in its order; depth counts rows being written")
  void requeueKeepsOrder() {
    WriteQueue<RollupStore.Row> q = new WriteQueue<>(100);
    for (int i = 0; i < 5; i++) {
      q.offer(row(i));
    }
    List<RollupStore.Row> batch = q.take(3);
    assertEquals(5, q.depth());
    q.requeue(batch);
    List<Long> starts = new ArrayList<>();
    for (RollupStore.Row r : q.take(10)) {
      starts.add(r.start());
    }
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L), starts);
  }

  @Test
  @DisplayName("full at the capacity, clear again at 90%; rows of accepted events are taken past it, never dropped")
  void boundedWithHeadroom() {
    WriteQueue<RollupStore.Row> q = new WriteQueue<>(10);
    for (int i = 0; i < 9; i++) {
      q.offer(row(i));
    }
    assertFalse(q.full());
    q.offer(row(9));
    assertTrue(q.full());
    for (int i = 10; i < 25; i++) {
      q.offer(row(i)); // the finals of events accepted before ingest said 503
    }
    assertEquals(25, q.depth());
    q.done(q.take(15));
    assertTrue(q.full(), "10 left: still at the capacity");
    q.done(q.take(1));
    assertFalse(q.full());
  }
}
