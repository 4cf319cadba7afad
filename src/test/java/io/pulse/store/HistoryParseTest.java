package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.StreamId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class HistoryParseTest {

  private static final long NOW = 1_763_805_600_000L;

  private static String refused(String name, String value) {
    return assertThrows(IllegalArgumentException.class,
        () -> History.parse(StreamId.of("s"), Map.of(name, List.of(value)), NOW), name + "=" + value).getMessage();
  }

  @Test
  @DisplayName("from, to and step past the year range, huge digits and overflowing durations are 400s with a reason")
  void outOfRange() {
    for (String v : new String[] {"+999999999-01-01T00:00:00Z", "-999999999-01-01T00:00:00Z", "99999999999999999999",
        "253402300800000", "-5", "+10000-01-01T00:00:00Z"}) {
      String why = refused("to", v);
      assertTrue(why.startsWith("to: ") && why.contains("outside 1970 to 9999"), why);
      why = refused("from", v);
      assertTrue(why.startsWith("from: "), why);
    }
    for (String d : new String[] {"999999999999d", "99999999999999999999ms", "9223372036854775807s"}) {
      String why = refused("from", d);
      assertTrue(why.startsWith("from: ") && why.contains("longer than all of 1970 to 9999"), why);
      why = refused("step", d);
      assertTrue(why.startsWith("step: ") && why.contains("longer than all of 1970 to 9999"), why);
    }
    assertTrue(refused("from", "5000y").contains("before 1970"));
    assertTrue(refused("step", "9223372036854775000").startsWith("step: "));
    assertTrue(refused("step", "99999999999999999999").startsWith("step: "));
    // a step longer than the range is one point; a huge one no longer wraps the point count
    assertEquals(1, countPoints(History.parse(StreamId.of("s"), Map.of("from", List.of("0"), "to", List.of("" + NOW),
        "step", List.of("8000y")), NOW)));
    assertEquals("step: must be a whole number of seconds (1 s is the finest stored resolution), got \"1500ms\"",
        refused("step", "1500ms"));
  }

  private static long countPoints(History.Request r) {
    long span = r.to() - r.from();
    return span / r.stepMs() + (span % r.stepMs() == 0 ? 0 : 1);
  }
}
