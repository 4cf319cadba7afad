package io.pulse.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The bounds of one WebSocket: messages put together within a size, and a rate of ops. */
class WsBoundsTest {

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  @DisplayName("fragments make one message; a message that passes the bound is refused with 1009")
  void assembles() {
    MessageAssembler a = new MessageAssembler(10);
    assertFalse(a.text(b("{\"op"), false, false).complete());
    MessageAssembler.Outcome whole = a.text(b("\":1}"), true, true);
    assertEquals("{\"op\":1}", whole.text());
    assertFalse(a.text(b("12345"), false, false).fatal());
    MessageAssembler.Outcome big = a.text(b("678901"), true, true);
    assertEquals(MessageAssembler.TOO_BIG, big.closeCode());
    assertTrue(big.reason().contains("10"));
    assertEquals("0123456789", a.text(b("0123456789"), false, true).text(), "exactly the bound is taken");
  }

  @Test
  @DisplayName("bad UTF-8 is 1007, binary 1003, a continuation without a message or a message inside one 1002")
  void refuses() {
    MessageAssembler a = new MessageAssembler(100);
    assertEquals(MessageAssembler.INVALID_PAYLOAD, a.text(new byte[] {'"', (byte) 0xc3, (byte) 0x28, '"'}, false, true)
        .closeCode());
    assertEquals(MessageAssembler.UNSUPPORTED_DATA, a.binary().closeCode());
    assertEquals(MessageAssembler.PROTOCOL_ERROR, a.text(b("x"), true, true).closeCode());
    a.text(b("x"), false, false);
    assertEquals(MessageAssembler.PROTOCOL_ERROR, a.text(b("y"), false, true).closeCode());
    // a character split across two frames is whole in the message
    byte[] e = b("é");
    a.text(new byte[] {e[0]}, false, false);
    assertEquals("é", a.text(new byte[] {e[1]}, true, true).text());
  }

  @Test
  @DisplayName("the token bucket allows a burst, then the rate")
  void rate() {
    TokenBucket t = new TokenBucket(10, 20, 0);
    int taken = 0;
    for (int i = 0; i < 100; i++) {
      if (t.tryTake(0)) {
        taken++;
      }
    }
    assertEquals(20, taken, "the burst");
    assertFalse(t.tryTake(50), "half a token after 50 ms at 10 a second");
    assertTrue(t.tryTake(100), "one token after 100 ms");
    assertFalse(t.tryTake(100));
    taken = 0;
    for (int i = 0; i < 100; i++) {
      if (t.tryTake(100_000)) {
        taken++;
      }
    }
    assertEquals(20, taken, "saved tokens are capped at the burst");
  }
}
