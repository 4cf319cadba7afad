package io.pulse.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.Durations;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TimesTest {

  @Test
  @DisplayName("instants: digits, ISO-8601 with Z or an offset, within 1970..9999; all else refused with a reason")
  void instants() {
    assertEquals(1_763_805_600_000L, Times.parseInstant("1763805600000"));
    assertEquals(1_763_805_600_000L, Times.parseInstant("2025-11-22T10:00:00Z"));
    assertEquals(1_763_805_600_000L, Times.parseInstant("2025-11-22T11:00:00+01:00"));
    assertEquals(0L, Times.parseInstant("1970-01-01T00:00:00Z"));
    assertEquals(Times.MAX_MS, Times.parseInstant("9999-12-31T23:59:59.999Z"));
    for (String bad : new String[] {"+999999999-01-01T00:00:00Z", "-999999999-01-01T00:00:00Z",
        "+1000000000-12-31T23:59:59Z", "+10000-01-01T00:00:00Z", "+999999999-01-01T00:00:00+01:00",
        "1969-12-31T23:59:59.999Z", "-1", "99999999999999999999", "9223372036854775807", "253402300800000"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Times.parseInstant(bad), bad);
      assertTrue(e.getMessage().contains("outside 1970 to 9999"), bad + ": " + e.getMessage());
    }
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Times.parseInstant("yesterday")).getMessage()
        .contains("neither epoch milliseconds nor an ISO-8601 time"));
    assertThrows(IllegalArgumentException.class, () -> Times.parseInstant(""));
  }

  @Test
  @DisplayName("durations: overflow is refused, not wrapped")
  void durations() {
    assertEquals(900_000L, Times.durationMs("15m"));
    assertEquals(-1L, Times.durationMs("soon"));
    for (String bad : new String[] {"999999999999d", "99999999999999999999ms", "9223372036854775807s", "10000y",
        "106751991167d"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Times.durationMs(bad), bad);
      assertTrue(e.getMessage().contains("longer than all of 1970 to 9999"), e.getMessage());
    }
    assertEquals(-1L, Durations.parse("999999999999d"), "config durations: overflow is not a duration");
    assertEquals(-1L, Durations.parse("9223372036854775807y"));
    assertEquals(2 * 365 * 86_400_000L, Durations.parse("2y"));
  }

  @Test
  @DisplayName("messages quote caller text clipped, with control characters and broken surrogates escaped")
  void quoting() {
    assertEquals("\"a\\u0000b\\u001B[31m\\u007F\\uD800\"", Times.quote("a\0b\u001b[31m\u007f\ud800"));
    assertEquals("ok \ud83d\ude00", Texts.clip("ok \ud83d\ude00"));
    String longText = "x".repeat(200);
    assertEquals(80, Texts.clip(longText).length());
    assertTrue(Texts.clip(longText).endsWith("..."));
    String clipped = Texts.clip("\ud83d\ude00".repeat(100));
    assertTrue(clipped.endsWith("..."));
    assertNull(Texts.unstorable(clipped.substring(0, clipped.length() - 3)), "no pair cut in half");
    assertNull(Texts.unstorable("ok \ud83d\ude00 \u0001"));
    assertTrue(Texts.unstorable("a\0").contains("NUL"));
    assertTrue(Texts.unstorable("\ude00\ud83d").contains("U+DE00"));
    assertTrue(Texts.unstorable("x\ud83d").contains("U+D83D"));
  }
}
