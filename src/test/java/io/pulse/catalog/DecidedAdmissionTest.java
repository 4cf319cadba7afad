package io.pulse.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pulse.core.StreamId;
import io.pulse.event.Dims;
import io.pulse.event.Event;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What the owner of a partition holds in cluster mode, where the instance an event entered by decided its series. */
class DecidedAdmissionTest {

  private static Event event(String key) {
    return new Event(StreamId.of("s"), 0, null, Dims.of("k", key), new String[] {"v"}, new double[] {1}, 0);
  }

  @Test
  @DisplayName("decided: series past the stream's cap are held (another instance admitted them), the overflow dims are the overflow series")
  void decidedSeriesAreHeld() {
    StreamCatalog c = new StreamCatalog(10, 4, 1000, new SimpleMeterRegistry());
    StreamCatalog.StreamInfo s = c.enter(StreamId.of("s"), 0, true);
    for (int i = 0; i < 20; i++) {
      assertEquals(StreamCatalog.Overflow.NONE, s.admit(event("k" + i), 0, true).overflow());
    }
    assertEquals(20, s.seriesCount());
    Event folded = event("x").withDims(StreamCatalog.OVERFLOW);
    assertEquals(StreamCatalog.Overflow.STREAM_CAP, s.admit(folded, 0, true).overflow());
    assertEquals(20, s.seriesCount(), "the overflow series is not one of the held series");
    assertEquals(StreamCatalog.Overflow.STREAM_CAP, s.admit(event("new"), 0, false).overflow(),
        "admitted here (not decided), the same catalog applies its cap");
    s.exit();
  }

  @Test
  @DisplayName("decided, but past DECIDED_BACKSTOP times aggregation.maxSeries: folded (records nobody admitted cannot grow it without bound)")
  void backstop() {
    StreamCatalog c = new StreamCatalog(10, 1000, 10, new SimpleMeterRegistry());
    StreamCatalog.StreamInfo s = c.enter(StreamId.of("s"), 0, true);
    int held = 0;
    for (int i = 0; i < 100; i++) {
      if (s.admit(event("k" + i), 0, true).overflow() == StreamCatalog.Overflow.NONE) {
        held++;
      }
    }
    assertEquals(10 * StreamCatalog.DECIDED_BACKSTOP, held);
    assertSame(s.admit(event("k0"), 0, true), s.admit(event("k0"), 0, true), "a held series stays itself");
    s.exit();
  }
}
