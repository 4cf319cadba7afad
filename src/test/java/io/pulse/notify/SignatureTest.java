package io.pulse.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class SignatureTest {

  private static final String SECRET = "whsec_0123456789abcdef";
  private static final String BODY = "{\"type\":\"test\"}";
  private static final long T = 1_700_000_000_000L;

  @Test
  @DisplayName("v1 is hex HMAC-SHA256 of \"<timestamp>.<body>\" (checked against openssl)")
  void knownVector() {
    // printf '%s' '1700000000000.{"type":"test"}' | openssl dgst -sha256 -hmac 'whsec_0123456789abcdef'
    assertEquals("v1=33acf502099d804a8c0c46c864d1b8f600cf4d6cd93f9d6cc854e38eafef8d28",
        Signature.sign(SECRET, T, BODY));
    Map<String, String> h = Signature.headers(SECRET, T, "d-1", BODY);
    assertEquals("d-1", h.get("X-Pulse-Delivery"));
    assertEquals("1700000000000", h.get("X-Pulse-Timestamp"));
    assertEquals(Signature.sign(SECRET, T, BODY), h.get("X-Pulse-Signature"));
  }

  @Test
  @DisplayName("the verifier accepts a fresh signed request once and refuses a replay of it")
  void replay() {
    Signature.Verifier v = new Signature.Verifier(SECRET);
    String sig = Signature.sign(SECRET, T, BODY);
    assertTrue(v.verify("1700000000000", sig, BODY, T + 1_000).ok());
    Signature.Verifier.Result again = v.verify("1700000000000", sig, BODY, T + 2_000);
    assertFalse(again.ok());
    assertTrue(again.reason().contains("replayed"), again.reason());
    // a retry of the same delivery is signed anew (new timestamp): accepted
    assertTrue(v.verify(Long.toString(T + 5_000), Signature.sign(SECRET, T + 5_000, BODY), BODY, T + 6_000).ok());
  }

  @Test
  @DisplayName("the verifier refuses a wrong secret, a changed body, an old or far-future timestamp, missing headers")
  void refusals() {
    Signature.Verifier v = new Signature.Verifier(SECRET);
    String sig = Signature.sign(SECRET, T, BODY);
    assertFalse(v.verify("1700000000000", Signature.sign("another-secret-0123", T, BODY), BODY, T).ok());
    assertFalse(v.verify("1700000000000", sig, BODY + " ", T).ok());
    assertFalse(v.verify("1700000000001", sig, BODY, T).ok(), "the timestamp is signed");
    Signature.Verifier.Result old = v.verify("1700000000000", sig, BODY, T + Signature.DEFAULT_TOLERANCE_MS + 1);
    assertFalse(old.ok());
    assertTrue(old.reason().contains("too old"), old.reason());
    assertFalse(v.verify("1700000000000", sig, BODY, T - Signature.DEFAULT_TOLERANCE_MS - 1).ok());
    assertFalse(v.verify(null, sig, BODY, T).ok());
    assertFalse(v.verify("1700000000000", null, BODY, T).ok());
    assertFalse(v.verify("yesterday", sig, BODY, T).ok());
    assertTrue(v.verify("1700000000000", sig, BODY, T).ok(), "none of the refusals was remembered as seen");
  }

  @Test
  @DisplayName("a verifier whose memory is full refuses timestamps older than what it forgot")
  void boundedMemory() {
    Signature.Verifier v = new Signature.Verifier(SECRET, 60_000, 2);
    for (int i = 0; i < 3; i++) {
      long ts = T + i;
      assertTrue(v.verify(Long.toString(ts), Signature.sign(SECRET, ts, BODY), BODY, T + 10).ok());
    }
    // the first one was forgotten (memory of 2): replaying it must still fail
    assertFalse(v.verify(Long.toString(T), Signature.sign(SECRET, T, BODY), BODY, T + 20).ok());
  }
}
