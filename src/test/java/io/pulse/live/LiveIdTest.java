package io.pulse.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The live message id: what {@link LiveId#of} writes, {@link LiveId#parse} reads back; what it cannot read is left out. */
class LiveIdTest {

  private static final String BOOT = "mfx3k2a";

  @Test
  @DisplayName("ids round-trip: finals, running updates, with and without a window")
  void roundTrip() {
    long[][] cases = {{0, 0, LiveMessage.NO_WINDOW}, {42, 0, LiveMessage.NO_WINDOW}, {42, 3, LiveMessage.NO_WINDOW},
        {42, 0, 1_763_805_600_000L}, {7, 12, 1_763_805_600_000L}, {Long.MAX_VALUE / 1000, 1, 0}};
    for (long[] c : cases) {
      String id = LiveId.of(BOOT, c[0], c[1], c[2]);
      LiveId.Parsed p = LiveId.parse(id);
      assertEquals(BOOT, p.boot(), id);
      assertEquals(c[0], p.seq(), id);
      assertEquals(c[1], p.running(), id);
      assertEquals(c[2] == LiveMessage.NO_WINDOW ? null : c[2], p.at(), id);
      assertEquals(c[0], p.resumeAfter(BOOT), id);
    }
    assertEquals("mfx3k2a-42", LiveId.of(BOOT, 42, 0, LiveMessage.NO_WINDOW));
    assertEquals("mfx3k2a-42.3~1763805600000", LiveId.of(BOOT, 42, 3, 1_763_805_600_000L));
  }

  @Test
  @DisplayName("an id from another run resumes nothing, but its window still counts")
  void otherRun() {
    LiveId.Parsed p = LiveId.parse("oldrun-42~1763805600000");
    assertEquals(-1, p.resumeAfter(BOOT));
    assertEquals(42, p.resumeAfter("oldrun"));
    assertEquals(1_763_805_600_000L, p.at());
    assertEquals(-1, LiveId.parse("oldrun-42").resumeAfter(BOOT));
  }

  @Test
  @DisplayName("hostile ids: malformed parts are left out, nothing throws, no number overflows")
  void hostile() {
    String[] malformed = {null, "", " ", "-", "42", "-42", BOOT, BOOT + "-", BOOT + "-x", BOOT + "--5", BOOT + "-+5",
        BOOT + "- 5", BOOT + "-5x", BOOT + "-99999999999999999999", BOOT + "-1e3", BOOT + "-\u0661\u0662",
        BOOT + "-0x10", "x".repeat(10_000), BOOT + "-" + "9".repeat(LiveId.MAX_LENGTH)};
    for (String id : malformed) {
      LiveId.Parsed p = LiveId.parse(id);
      assertEquals(-1, p.seq(), String.valueOf(id));
      assertEquals(-1, p.resumeAfter(BOOT), String.valueOf(id));
    }
    assertNull(LiveId.parse(BOOT + "-5~").at());
    assertNull(LiveId.parse(BOOT + "-5~abc").at());
    assertNull(LiveId.parse(BOOT + "-5~-5").at(), "before 1970");
    assertNull(LiveId.parse(BOOT + "-5~999999999999999999").at(), "after 9999");
    assertNull(LiveId.parse(BOOT + "-5~" + "1".repeat(30)).at(), "too long to be a number");
    assertEquals(5, LiveId.parse(BOOT + "-5~abc").seq(), "a bad window leaves the rest readable");
    assertEquals(5, LiveId.parse(BOOT + "-5.x").seq(), "a bad running number too");
    assertEquals(0, LiveId.parse(BOOT + "-5.x").running());
    assertEquals(1_000L, LiveId.parse("garbage~1000").at(), "a window is read even when the rest is not");
    assertEquals(-1, LiveId.parse("garbage~1000").seq());
    assertEquals(0L, LiveId.parse(BOOT + "-0~0").at(), "1970 itself is a window");
  }
}
