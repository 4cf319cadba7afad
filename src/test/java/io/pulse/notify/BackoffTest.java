package io.pulse.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BackoffTest {

  @Test
  @DisplayName("the ceiling doubles from the base with each failure and stops at the cap")
  void ceiling() {
    Backoff b = new Backoff(1_000, 60_000);
    assertEquals(1_000, b.ceiling(1));
    assertEquals(2_000, b.ceiling(2));
    assertEquals(32_000, b.ceiling(6));
    assertEquals(60_000, b.ceiling(7));
    assertEquals(60_000, b.ceiling(1_000), "no overflow for many failures");
    assertThrows(IllegalArgumentException.class, () -> new Backoff(10, 5));
  }

  @Test
  @DisplayName("full jitter: delays spread over [0, ceiling], repeatable with a seed")
  void jitter() {
    Backoff b = new Backoff(1_000, 60_000);
    Random r = new Random(7);
    Set<Long> seen = new HashSet<>();
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int i = 0; i < 1_000; i++) {
      long d = b.delay(3, r);
      assertTrue(d >= 0 && d <= 4_000, "within the ceiling: " + d);
      seen.add(d);
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    assertTrue(seen.size() > 500, "spread, not one value: " + seen.size());
    assertTrue(min < 400 && max > 3_600, "covers the range: " + min + ".." + max);
    assertEquals(new Backoff(1_000, 60_000).delay(3, new Random(7)), new Backoff(1_000, 60_000).delay(3, new Random(7)));
  }
}
