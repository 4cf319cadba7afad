package io.pulse.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PgTextTest {

  @Test
  @DisplayName("NUL and unpaired surrogates are not storable; pairs, U+FFFD and backslashes are")
  void storable() {
    assertTrue(PgText.storable("plain \\0 \uFFFD \uD83D\uDE00"));
    assertFalse(PgText.storable("a\u0000"));
    assertFalse(PgText.storable("\uD800x"));
    assertFalse(PgText.storable("x\uDC00"));
    assertFalse(PgText.storable("x\uD83D"));
    assertNull(PgText.problem("fine"));
    assertEquals("contains a NUL character (U+0000) at index 1", PgText.problem("a\u0000"));
  }

  @Test
  @DisplayName("escape gives storable text and unescape gives back exactly what it was given")
  void roundTrip() {
    for (String s : List.of("", "plain", "\u0000", "a\\0b", "\\", "\\\\u0000", "\uD800", "\\uD800", "x\uDC00\u0000\\",
        "\uD83D\uDE00", "\\u12", "end\\")) {
      String e = PgText.escape(s);
      assertTrue(PgText.storable(e), s);
      assertEquals(s, PgText.unescape(e), e);
    }
    assertEquals("a\\0b\\\\\\uD800", PgText.escape("a\u0000b\\\uD800"));
  }

  @Test
  @DisplayName("cap never splits a surrogate pair")
  void cap() {
    assertEquals("ab…", PgText.cap("abcdef", 3));
    assertEquals("a…", PgText.cap("a\uD83D\uDE00cd", 3));
    assertEquals("abc", PgText.cap("abc", 3));
  }
}
