package io.pulse.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class ReservoirTest {

  private static Event ev(long ts) {
    return Event.of(StreamId.of("s"), ts, Dims.EMPTY, Map.of("v", ts));
  }

  @Test
  @DisplayName("the reservoir never holds more than its capacity, however many events it is fed")
  void bounded() {
    Reservoir r = new Reservoir(100, 1);
    for (long i = 0; i < 1_000_000; i++) {
      r.offer(ev(i));
      if (i < 100) {
        assertEquals(i + 1, r.size());
      }
    }
    Reservoir.Slice s = r.take();
    assertEquals(100, s.events().size());
    assertEquals(1_000_000, s.seen());
  }

  @Test
  @DisplayName("past its capacity the sample is spread over the whole round, not just its start or end")
  void uniform() {
    int cap = 2000;
    long n = 200_000;
    Reservoir r = new Reservoir(cap, 7);
    for (long i = 0; i < n; i++) {
      r.offer(ev(i));
    }
    int[] quarters = new int[4];
    for (Event e : r.take().events()) {
      quarters[(int) (e.ts() * 4 / n)]++;
    }
    for (int q : quarters) {
      assertTrue(q > cap / 4 * 0.8 && q < cap / 4 * 1.2, "events per quarter of the round: " + List.of(quarters[0],
          quarters[1], quarters[2], quarters[3]));
    }
  }

  @Test
  @DisplayName("after a take, new events replace the held ones first: a sample is of the recent events")
  void recentAfterTake() {
    Reservoir r = new Reservoir(10, 3);
    for (long i = 0; i < 1000; i++) {
      r.offer(ev(i));
    }
    r.take();
    for (long i = 5000; i < 5004; i++) {
      r.offer(ev(i));
    }
    Reservoir.Slice s = r.take();
    assertEquals(10, s.events().size(), "older events fill the rest");
    assertEquals(4, s.seen());
    assertEquals(4, s.events().stream().filter(e -> e.ts() >= 5000).count());
    for (long i = 9000; i < 9010; i++) {
      r.offer(ev(i));
    }
    assertTrue(r.take().events().stream().allMatch(e -> e.ts() >= 9000), "a full round replaces every older event");
  }
}
