package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class QueryParamsTest {

  private static QueryParams of(Map<String, String> m) {
    return new QueryParams(m::get);
  }

  @Test
  @DisplayName("whole numbers: default when absent, refused outside the range or unreadable")
  void ints() {
    QueryParams q = of(Map.of("limit", "50", "big", "5000", "word", "ten"));
    assertEquals(50, q.intParam("limit", 100, 1, 1000));
    assertEquals(100, q.intParam("absent", 100, 1, 1000));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.intParam("big", 1, 1, 1000));
    assertEquals("big: must be a whole number from 1 to 1000", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> q.intParam("word", 1, 1, 1000));
  }

  @Test
  @DisplayName("longs: null when absent, refused when not a number")
  void longs() {
    QueryParams q = of(Map.of("before", "-12", "bad", "1e3"));
    assertEquals(-12L, q.longParam("before"));
    assertNull(q.longParam("absent"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> q.longParam("bad")).getMessage()
        .startsWith("bad: must be a whole number"));
  }

  @Test
  @DisplayName("texts: refused with a NUL or longer than the column may hold")
  void texts() {
    QueryParams q = of(Map.of("stream", "checkout", "nul", "a\u0000b", "long", "x".repeat(11)));
    assertEquals("checkout", q.textParam("stream", 10));
    assertNull(q.textParam("absent", 10));
    assertThrows(IllegalArgumentException.class, () -> q.textParam("nul", 10));
    assertEquals("long: at most 10 characters, got 11",
        assertThrows(IllegalArgumentException.class, () -> q.textParam("long", 10)).getMessage());
  }

  @Test
  @DisplayName("expected version: If-Match (strong, weak, *) before the body's version")
  void expectedVersion() {
    assertEquals(3, QueryParams.expectedVersion("\"3\"", 7));
    assertEquals(3, QueryParams.expectedVersion("W/\"3\"", null));
    assertEquals(7, QueryParams.expectedVersion("*", 7));
    assertEquals(7, QueryParams.expectedVersion(null, 7));
    assertNull(QueryParams.expectedVersion(null, null));
    assertThrows(IllegalArgumentException.class, () -> QueryParams.expectedVersion("yesterday", null));
    assertThrows(IllegalArgumentException.class, () -> QueryParams.expectedVersion(null, "3"));
  }
}
