package io.pulse.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.ManualClock;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The fair-use engine: keyed token buckets, their headers' figures, bounded keys, per-token counts, proxies. */
class RateLimitsTest {

  private static int allowed(RateLimit l, String key, long now, int tries) {
    int n = 0;
    for (int i = 0; i < tries; i++) {
      if (l.take(key, now).allowed()) {
        n++;
      }
    }
    return n;
  }

  @Test
  @DisplayName("a key gets its burst at once, then the rate; another key has a bucket of its own")
  void burstThenRate() {
    RateLimit l = new RateLimit("limits.queryPerToken", 10, 20, 1000);
    assertEquals(20, allowed(l, "a", 0, 100), "the burst");
    assertFalse(l.take("a", 50).allowed(), "half a token after 50 ms at 10 a second");
    assertTrue(l.take("a", 100).allowed(), "one after 100 ms");
    assertEquals(5, allowed(l, "a", 600, 100), "five more after another 500 ms");
    assertEquals(20, allowed(l, "a", 100_000, 100), "what is saved up is capped at the burst");
    assertEquals(20, allowed(l, "b", 0, 100), "another key is not charged for a's requests");
  }

  @Test
  @DisplayName("the headers' figures: limit = burst, remaining after this request, reset until full, Retry-After rounded up")
  void figures() {
    RateLimit l = new RateLimit("limits.ingestPerAddress", 2, 3, 100);
    RateLimit.Charge c = l.take("k", 1_000);
    assertTrue(c.allowed());
    assertEquals(3, c.limit());
    assertEquals(2, c.remaining());
    assertEquals(500, c.resetMs(), "one token back at 2 a second");
    assertEquals(1, c.resetSeconds());
    l.take("k", 1_000);
    l.take("k", 1_000);
    RateLimit.Charge refused = l.take("k", 1_000);
    assertFalse(refused.allowed());
    assertEquals(0, refused.remaining());
    assertEquals(500, refused.retryAfterMs());
    assertEquals(1, refused.retryAfterSeconds(), "500 ms rounds up to 1 s");
    assertEquals(2, refused.resetSeconds(), "1.5 s until full rounds up to 2");
    RateLimit slow = new RateLimit("limits.queryPerAddress", 1, 1, 100);
    slow.take("k", 0);
    RateLimit.Charge r = slow.take("k", 1);
    assertEquals(999, r.retryAfterMs());
    assertEquals(1, r.retryAfterSeconds());
    RateLimit.Charge after = slow.take("k", 1_000);
    assertTrue(after.allowed(), "exactly when Retry-After said");
  }

  @Test
  @DisplayName("at most maxKeys buckets: a flood of keys does not grow the map; a key pushed out comes back full")
  void boundedKeys() {
    RateLimit l = new RateLimit("limits.queryPerAddress", 1, 2, 64);
    for (int i = 0; i < 100_000; i++) {
      l.take("10.0." + (i >> 8) + "." + (i & 255), 0);
    }
    assertTrue(l.keys() <= 64, "keys held: " + l.keys());
    assertTrue(l.keys() >= 32, "keys held: " + l.keys());

    RateLimit one = new RateLimit("limits.queryPerAddress", 1, 2, 1);
    assertEquals(2, allowed(one, "a", 0, 10));
    assertFalse(one.take("a", 0).allowed());
    assertTrue(one.take("b", 0).allowed(), "b pushes a out");
    assertEquals(1, one.keys());
    assertTrue(one.take("a", 0).allowed(), "a's bucket is new, full");
  }

  @Test
  @DisplayName("rate 0 is no limit; a bad rate, burst or key count is refused")
  void unlimitedAndBad() {
    RateLimit none = new RateLimit("limits.queryPerToken", 0, 0, 10);
    assertTrue(none.unlimited());
    assertNull(none.take("a", 0));
    assertEquals(0, none.keys(), "nothing held for an unlimited limit");
    assertThrows(IllegalArgumentException.class, () -> new RateLimit("x", -1, 1, 10));
    assertThrows(IllegalArgumentException.class, () -> new RateLimit("x", 1, 0, 10));
    assertThrows(IllegalArgumentException.class, () -> new RateLimit("x", 1, 1, 0));
  }

  private static RateLimits limits(ManualClock clock, int tokenBurst, int addressBurst) {
    return new RateLimits(clock, new RateLimit("limits.ingestPerToken", 1, tokenBurst, 100),
        new RateLimit("limits.ingestPerAddress", 1, addressBurst, 100),
        new RateLimit("limits.queryPerToken", 1, tokenBurst, 100),
        new RateLimit("limits.queryPerAddress", 1, addressBurst, 100));
  }

  @Test
  @DisplayName("a request is charged to its token and its address; the one that refuses is named, the other gets its place back")
  void tokenAndAddress() {
    ManualClock clock = new ManualClock(0);
    RateLimits l = limits(clock, 2, 3);
    assertTrue(l.charge(RateClass.QUERY, "t1", "10.0.0.1").allowed());
    RateLimits.Outcome second = l.charge(RateClass.QUERY, "t1", "10.0.0.1");
    assertTrue(second.allowed());
    assertEquals("limits.queryPerToken", second.limit().setting(), "the headers tell the tighter one");
    assertEquals(0, second.charge().remaining());
    RateLimits.Outcome third = l.charge(RateClass.QUERY, "t1", "10.0.0.1");
    assertEquals(RateLimits.KeyKind.TOKEN, third.refusedBy());
    assertTrue(third.reason(RateClass.QUERY).contains("per token (limits.queryPerToken)"), third.reason(RateClass.QUERY));
    // the address was not charged for the refused request: t2 from the same address has one left there
    RateLimits.Outcome other = l.charge(RateClass.QUERY, "t2", "10.0.0.1");
    assertTrue(other.allowed());
    RateLimits.Outcome byAddress = l.charge(RateClass.QUERY, "t2", "10.0.0.1");
    assertEquals(RateLimits.KeyKind.ADDRESS, byAddress.refusedBy());
    assertTrue(byAddress.reason(RateClass.QUERY).contains("per address (limits.queryPerAddress)"));
    // t2's token bucket got the refused request back: from another address it still has one
    assertTrue(l.charge(RateClass.QUERY, "t2", "10.0.0.2").allowed());
    assertFalse(l.charge(RateClass.QUERY, "t2", "10.0.0.3").allowed());
    // ingest is charged apart from queries
    assertTrue(l.charge(RateClass.INGEST, "t1", "10.0.0.1").allowed());
    // NONE is never charged
    for (int i = 0; i < 10; i++) {
      assertTrue(l.charge(RateClass.NONE, "t1", "10.0.0.1").allowed());
    }
    clock.advance(1_000);
    assertTrue(l.charge(RateClass.QUERY, "t1", "10.0.0.9").allowed(), "refilled by the clock");
  }

  @Test
  @DisplayName("without a token only the address is charged")
  void noToken() {
    RateLimits l = limits(new ManualClock(0), 1, 3);
    for (int i = 0; i < 3; i++) {
      RateLimits.Outcome o = l.charge(RateClass.INGEST, null, "::1");
      assertTrue(o.allowed(), "request " + i);
      assertEquals("limits.ingestPerAddress", o.limit().setting());
    }
    assertEquals(RateLimits.KeyKind.ADDRESS, l.charge(RateClass.INGEST, null, "::1").refusedBy());
  }

  @Test
  @DisplayName("events a second: charged once counted, a token or address in debt has its next ingest refused until "
      + "the rate paid it back; queries go on")
  void eventsInDebt() {
    ManualClock clock = new ManualClock(0);
    RateLimit big = new RateLimit("x", 1000, 1000, 100);
    RateLimits l = new RateLimits(clock, big, new RateLimit("limits.ingestPerAddress", 1000, 1000, 100),
        new RateLimit("q", 1000, 1000, 100), new RateLimit("qa", 1000, 1000, 100),
        new RateLimit("limits.ingestEventsPerToken", 100, 100, 100),
        new RateLimit("limits.ingestEventsPerAddress", 1000, 1000, 100));
    assertTrue(l.charge(RateClass.INGEST, "t", "a").allowed());
    l.chargeEvents("t", "a", 250);
    RateLimits.Outcome refused = l.charge(RateClass.INGEST, "t", "a");
    assertEquals(RateLimits.KeyKind.TOKEN, refused.refusedBy());
    assertEquals(1500, refused.charge().retryAfterMs(), "150 events of debt at 100 a second");
    assertEquals(2, refused.charge().retryAfterSeconds());
    String why = refused.reason(RateClass.INGEST);
    assertTrue(why.contains("at most 100 events a second") && why.contains("per token (limits.ingestEventsPerToken)"), why);
    assertTrue(l.charge(RateClass.QUERY, "t", "a").allowed(), "queries are not charged for events");
    assertTrue(l.charge(RateClass.INGEST, "u", "a").allowed(), "another token from the same address");
    clock.advance(1_499);
    assertFalse(l.charge(RateClass.INGEST, "t", "a").allowed());
    clock.advance(1);
    assertTrue(l.charge(RateClass.INGEST, "t", "a").allowed(), "paid back at the time Retry-After said");

    l.chargeEvents(null, "b", 2_500);
    RateLimits.Outcome byAddress = l.charge(RateClass.INGEST, null, "b");
    assertEquals(RateLimits.KeyKind.ADDRESS, byAddress.refusedBy());
    assertTrue(byAddress.reason(RateClass.INGEST).contains("(limits.ingestEventsPerAddress)"));
    assertEquals(2, byAddress.charge().retryAfterSeconds());

    RateLimits noEvents = limits(new ManualClock(0), 5, 5);
    noEvents.chargeEvents("t", "a", 1_000_000);
    assertTrue(noEvents.charge(RateClass.INGEST, "t", "a").allowed(), "no events limit: nothing is in debt");
  }

  @Test
  @DisplayName("per-key counts: the cap per key, given back on release, no entry for a key holding nothing")
  void keyedCounts() {
    KeyedCounts c = new KeyedCounts(2);
    assertTrue(c.tryAcquire("t"));
    assertTrue(c.tryAcquire("t"));
    assertFalse(c.tryAcquire("t"));
    assertTrue(c.tryAcquire("u"));
    c.release("t");
    assertTrue(c.tryAcquire("t"));
    c.release("t");
    c.release("t");
    c.release("u");
    assertEquals(0, c.keys());
    c.release("never");
    assertEquals(0, c.held("never"));
    KeyedCounts none = new KeyedCounts(0);
    for (int i = 0; i < 1000; i++) {
      assertTrue(none.tryAcquire("t"));
    }
  }

  @Test
  @DisplayName("X-Forwarded-For is believed only from a trusted proxy, and only up to the first untrusted hop")
  void clientAddress() {
    ClientAddress none = new ClientAddress(List.of());
    assertEquals("10.0.0.5", none.of("10.0.0.5", "1.2.3.4"), "no trusted proxies: the header is ignored");
    ClientAddress c = new ClientAddress(List.of("10.0.0.0/8", "192.168.1.1", "fd00::/8"));
    assertEquals("1.2.3.4", c.of("10.0.0.5", "1.2.3.4"));
    assertEquals("5.6.7.8", c.of("10.0.0.5", "1.2.3.4, 5.6.7.8, 10.1.1.1"), "the rightmost untrusted hop");
    assertEquals("172.16.0.1", c.of("172.16.0.1", "1.2.3.4"), "an untrusted peer's header is ignored");
    assertEquals("192.168.1.1", c.of("192.168.1.1", "not-an-address"), "junk: the nearest hop stands for the client");
    assertEquals("10.0.0.5", c.of("10.0.0.5", null));
    assertEquals("2001:db8:0:0:0:0:0:1", c.of("fd00:0:0:0:0:0:0:1", "2001:db8::1"));
    assertEquals("192.168.1.2", c.of("192.168.1.2", "192.168.1.1"), "192.168.1.2 is not trusted: its header is ignored");
    assertEquals("203.0.113.9", ClientAddress.limitKey("203.0.113.9"));
    assertEquals("2001:db8:1:2:0:0:0:0/64", ClientAddress.limitKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
    assertEquals(ClientAddress.limitKey("2001:db8:1:2::1"), ClientAddress.limitKey("2001:db8:1:2:ffff::9"),
        "one IPv6 /64, one budget");
    assertEquals("192.0.2.1", ClientAddress.limitKey("::ffff:192.0.2.1"), "an IPv4-mapped address is its IPv4");
    assertThrows(IllegalArgumentException.class, () -> new ClientAddress(List.of("proxy.example.com")));
    assertThrows(IllegalArgumentException.class, () -> new ClientAddress(List.of("10.0.0.0/33")));
    assertThrows(IllegalArgumentException.class, () -> new ClientAddress(List.of("10.1")));
  }
}
