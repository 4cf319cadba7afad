package io.pulse.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.config.PulseConfig;
import io.pulse.core.ManualClock;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The notification engine with a manual clock and a seeded random: grouping, retries, give-up, bounds. */
class NotifierTest {

  private static final long T0 = 1_700_000_000_000L;
  private static final String SECRET = "whsec_0123456789abcdef";

  private final ManualClock clock = new ManualClock(T0);
  private int nextId;

  /** Group wait 1 s, groups of 3 at most, backoff 1 s .. 8 s, give up after 60 s, 5 pending per tenant. */
  private static PulseConfig.Notify settings(int maxPending, int maxInFlight) {
    return new PulseConfig.Notify(true, 1_000, 3, 1_000, 8_000, 60_000, maxPending, maxInFlight, 5_000, 10_000,
        604_800_000L);
  }

  private Notifier notifier() {
    return notifier(settings(5, 16));
  }

  private Notifier notifier(PulseConfig.Notify s) {
    Notifier n = new Notifier(s, clock, new Random(42), () -> "d-" + (++nextId));
    n.webhooks(List.of(hook("default", "w1", "{}", true), hook("other", "w9", "{}", true)));
    return n;
  }

  private static Webhook hook(String tenant, String id, String match, boolean enabled) {
    return Webhook.parse(tenant, id, new JsonObject("{\"name\":\"" + id + "\",\"url\":\"http://127.0.0.1:9/" + id
        + "\",\"enabled\":" + enabled + ",\"match\":" + match + "}"), SECRET);
  }

  private static JsonObject transition(String tenant, String rule, String series, String state) {
    return new JsonObject().put("type", "alert").put("id", rule + "-" + series).put("rule", rule)
        .put("ruleName", "rule " + rule).put("state", state).put("severity", "critical").put("stream", "payments")
        .put("series", new JsonObject().put("region", series)).put("value", 1.0).put("message", "m")
        .put("at", T0).put("tenant", tenant).put("labels", new JsonObject().put("team", "pay"))
        .put("previous", "pending").put("flapping", false).put("notify", true);
  }

  @Test
  @DisplayName("transitions of one rule within the group wait go out as one notification; another rule apart")
  void grouping() {
    Notifier n = notifier();
    n.accept(transition("default", "r1", "eu", "firing"));
    clock.advance(300);
    n.accept(transition("default", "r1", "us", "firing"));
    n.accept(transition("default", "r2", "eu", "firing"));
    assertTrue(n.tick().isEmpty(), "the wait is not over");
    assertEquals(3, n.grouped());
    clock.advance(700); // r1's group opened 1 s ago; r2's 700 ms ago
    List<Delivery> due = n.tick();
    assertEquals(1, due.size());
    JsonObject body = new JsonObject(due.get(0).body());
    assertEquals("notification", body.getString("type"));
    assertEquals("r1", body.getString("rule"));
    assertEquals("rule r1", body.getString("ruleName"));
    assertEquals(due.get(0).id(), body.getString("delivery"), "the body names its delivery (so the id is signed)");
    assertEquals(2, body.getJsonArray("alerts").size());
    assertEquals("us", body.getJsonArray("alerts").getJsonObject(1).getJsonObject("series").getString("region"));
    assertNull(body.getJsonArray("alerts").getJsonObject(0).getValue("notify"));
    clock.advance(300);
    List<Delivery> second = n.tick();
    assertEquals(1, second.size());
    assertEquals("r2", new JsonObject(second.get(0).body()).getString("rule"));
    assertEquals(0, n.grouped());
  }

  @Test
  @DisplayName("a full group goes out at once; a tenant's transitions reach only its own webhooks")
  void fullGroupAndTenants() {
    Notifier n = notifier();
    for (String s : List.of("a", "b", "c")) {
      n.accept(transition("default", "r1", s, "firing"));
    }
    n.accept(transition("other", "r1", "a", "firing"));
    List<Delivery> due = n.tick(); // no time passed: only the full group
    assertEquals(1, due.size());
    assertEquals("w1", due.get(0).webhook());
    assertEquals(3, new JsonObject(due.get(0).body()).getJsonArray("alerts").size());
    clock.advance(1_000);
    List<Delivery> other = n.tick();
    assertEquals(1, other.size());
    assertEquals("other", other.get(0).tenant());
    assertEquals("w9", other.get(0).webhook());
    assertEquals(Notifier.Accepted.UNMATCHED, n.accept(transition("nobody", "r1", "a", "firing")));
  }

  @Test
  @DisplayName("silenced or flapping transitions (notify:false) are counted and never sent")
  void silenced() {
    Notifier n = notifier();
    assertEquals(Notifier.Accepted.QUIET, n.accept(transition("default", "r1", "eu", "firing").put("notify", false)));
    clock.advance(5_000);
    assertTrue(n.tick().isEmpty());
    assertTrue(n.takeChanged().isEmpty());
    assertEquals(1, n.transitions(Notifier.Accepted.QUIET));
  }

  @Test
  @DisplayName("matchers pick webhooks; a disabled webhook gets nothing new")
  void matching() {
    Notifier n = notifier();
    n.webhooks(List.of(hook("default", "crit", "{\"severity\":[\"critical\"]}", true),
        hook("default", "web", "{\"labels\":{\"team\":\"web\"}}", true), hook("default", "off", "{}", false)));
    n.accept(transition("default", "r1", "eu", "firing"));
    clock.advance(1_000);
    List<Delivery> due = n.tick();
    assertEquals(List.of("crit"), due.stream().map(Delivery::webhook).toList());
  }

  @Test
  @DisplayName("a failed attempt is retried after a jittered, doubling delay; a 2xx delivers it")
  void retries() {
    Notifier n = notifier();
    n.accept(transition("default", "r1", "eu", "firing"));
    clock.advance(1_000);
    Delivery d = n.tick().get(0);
    assertEquals(1, n.pendingCount());

    Delivery after1 = n.attempted(d.id(), 500, "boom");
    assertEquals(Delivery.State.PENDING, after1.state());
    assertEquals(1, after1.attempts());
    assertEquals("HTTP 500: boom", after1.lastError());
    long wait1 = after1.nextAttemptAt() - clock.millis();
    assertTrue(wait1 >= 0 && wait1 <= 1_000, "first retry within the base: " + wait1);
    assertNull(n.attempted(d.id(), 200, null), "not in flight: an answer for it now is ignored");

    clock.set(after1.nextAttemptAt());
    Delivery again = n.tick().get(0);
    Delivery after2 = n.attempted(again.id(), null, "connection refused");
    assertEquals(2, after2.attempts());
    assertEquals("connection refused", after2.lastError());
    assertNull(after2.lastStatus());
    long wait2 = after2.nextAttemptAt() - clock.millis();
    assertTrue(wait2 >= 0 && wait2 <= 2_000, "second retry within twice the base: " + wait2);
    if (wait2 > 0) {
      clock.advance(wait2 - 1);
      assertTrue(n.tick().isEmpty(), "not before its time");
    }
    clock.set(after2.nextAttemptAt());
    Delivery third = n.tick().get(0);
    Delivery done = n.attempted(third.id(), 204, null);
    assertEquals(Delivery.State.DELIVERED, done.state());
    assertEquals(3, done.attempts());
    assertEquals(0, n.pendingCount());
    assertEquals(1, n.delivered());
    assertEquals(1, n.attempts(Notifier.AttemptResult.HTTP_ERROR));
    assertEquals(1, n.attempts(Notifier.AttemptResult.UNREACHABLE));
    assertEquals(1, n.attempts(Notifier.AttemptResult.OK));
    List<Delivery> changed = n.takeChanged();
    assertEquals(1, changed.size(), "one row per delivery, its newest state");
    assertEquals(Delivery.State.DELIVERED, changed.get(0).state());
  }

  @Test
  @DisplayName("a delivery that keeps failing is marked failed once its next try would pass the give-up age")
  void givesUp() {
    Notifier n = notifier();
    n.accept(transition("default", "r1", "eu", "firing"));
    clock.advance(1_000);
    Delivery d = n.tick().get(0);
    long created = d.createdAt();
    Delivery last = null;
    int rounds = 0;
    while (true) {
      last = n.attempted(d.id(), 503, null);
      rounds++;
      if (last.state() != Delivery.State.PENDING) {
        break;
      }
      assertTrue(last.nextAttemptAt() - created < 60_000, "never tried past the give-up age");
      clock.set(last.nextAttemptAt());
      List<Delivery> due = n.tick();
      assertEquals(1, due.size(), "due at its time");
      d = due.get(0);
    }
    assertEquals(Delivery.State.FAILED, last.state());
    assertEquals(rounds, last.attempts());
    assertTrue(rounds >= 8, "retried until the age, backoff capped at 8 s: " + rounds);
    assertTrue(last.lastError().startsWith("gave up after " + rounds + " attempts"), last.lastError());
    assertTrue(last.lastError().contains("HTTP 503"), last.lastError());
    assertEquals(1, n.failed(Notifier.FailReason.GAVE_UP));
    assertEquals(0, n.pendingCount());
    assertEquals(Delivery.State.FAILED, n.takeChanged().get(0).state());
  }

  @Test
  @DisplayName("a delivery whose webhook stays disabled until the give-up age fails; its oldest age is visible")
  void disabledUntilGiveUp() {
    Notifier n = notifier();
    n.accept(transition("default", "r1", "eu", "firing"));
    clock.advance(1_000);
    n.webhooks(List.of(hook("default", "w1", "{}", false)));
    assertTrue(n.tick().isEmpty(), "a disabled webhook's delivery waits");
    clock.advance(30_000);
    n.tick();
    assertEquals(30_000, n.oldestPendingAgeMs(clock.millis()));
    clock.advance(30_000);
    n.tick();
    assertEquals(1, n.failed(Notifier.FailReason.GAVE_UP));
    Delivery failed = n.takeChanged().stream().filter(d -> d.state() == Delivery.State.FAILED).findFirst().get();
    assertTrue(failed.lastError().contains("the webhook is disabled"), failed.lastError());
    assertEquals(0, n.oldestPendingAgeMs(clock.millis()));
  }

  @Test
  @DisplayName("a delivery waiting for a disabled webhook goes out as soon as it is enabled again")
  void reenabled() {
    Notifier n = notifier();
    n.accept(transition("default", "r1", "eu", "firing"));
    n.webhooks(List.of(hook("default", "w1", "{}", false)));
    clock.advance(1_000);
    // the group opened while the webhook was on, so its delivery is made; it waits while the webhook is off
    assertTrue(n.tick().isEmpty());
    clock.advance(1_000);
    n.webhooks(List.of(hook("default", "w1", "{}", true)));
    assertEquals(1, n.tick().size());
  }

  @Test
  @DisplayName("a deleted webhook's waiting deliveries are marked failed, with the reason")
  void webhookDeleted() {
    Notifier n = notifier();
    n.accept(transition("default", "r1", "eu", "firing"));
    clock.advance(1_000);
    Delivery d = n.tick().get(0);
    n.attempted(d.id(), 500, null);
    n.takeChanged();
    n.webhooks(List.of());
    assertTrue(n.tick().isEmpty());
    Delivery gone = n.takeChanged().get(0);
    assertEquals(Delivery.State.FAILED, gone.state());
    assertEquals("the webhook was deleted", gone.lastError());
    assertEquals(1, n.failed(Notifier.FailReason.WEBHOOK_GONE));
  }

  @Test
  @DisplayName("past maxPendingPerTenant a new delivery is stored as failed (queue full), others unaffected")
  void tenantQueueBound() {
    Notifier n = notifier(settings(2, 16));
    for (int i = 0; i < 3; i++) {
      n.accept(transition("default", "r" + i, "eu", "firing"));
    }
    n.accept(transition("other", "r0", "eu", "firing"));
    clock.advance(1_000);
    List<Delivery> due = n.tick();
    assertEquals(3, due.size(), "two of default's, one of other's");
    List<Delivery> stored = n.takeChanged();
    assertEquals(4, stored.size(), "the refused one is stored too");
    List<Delivery> failed = stored.stream().filter(d -> d.state() == Delivery.State.FAILED).toList();
    assertEquals(1, failed.size());
    assertEquals("default", failed.get(0).tenant());
    assertTrue(failed.get(0).lastError().contains("notify.maxPendingPerTenant"), failed.get(0).lastError());
    assertEquals(1, n.failed(Notifier.FailReason.QUEUE_FULL));
    assertEquals(3, n.pendingCount());
  }

  @Test
  @DisplayName("at most maxInFlight attempts at once; the rest wait their turn")
  void inFlightBound() {
    Notifier n = notifier(settings(10, 2));
    for (int i = 0; i < 3; i++) {
      n.accept(transition("default", "r" + i, "eu", "firing"));
    }
    clock.advance(1_000);
    List<Delivery> first = n.tick();
    assertEquals(2, first.size());
    assertTrue(n.tick().isEmpty());
    n.attempted(first.get(0).id(), 200, null);
    assertEquals(1, n.tick().size());
  }

  @Test
  @DisplayName("pending deliveries stored before a restart resume in a new engine at their next attempt")
  void resume() {
    Notifier n = notifier();
    n.accept(transition("default", "r1", "eu", "firing"));
    clock.advance(1_000);
    Delivery d = n.tick().get(0);
    Delivery retry = n.attempted(d.id(), 500, null);
    List<Delivery> stored = new ArrayList<>(n.takeChanged());

    Notifier restarted = notifier();
    restarted.resume(stored);
    assertEquals(1, restarted.pendingCount());
    clock.set(retry.nextAttemptAt());
    List<Delivery> due = restarted.tick();
    assertEquals(1, due.size());
    assertEquals(d.id(), due.get(0).id());
    assertEquals(d.body(), due.get(0).body(), "the same body, so the same delivery id for the receiver");
    assertEquals(2, restarted.attempted(d.id(), 200, null).attempts());
  }

  @Test
  @DisplayName("at a stop, open groups become pending deliveries at once (stored, sent by the next start)")
  void closeGroupsAtStop() {
    Notifier n = notifier();
    n.accept(transition("default", "r1", "eu", "firing"));
    n.closeGroups();
    assertEquals(0, n.grouped());
    List<Delivery> stored = n.takeChanged();
    assertEquals(1, stored.size());
    assertEquals(Delivery.State.PENDING, stored.get(0).state());
    assertEquals(1, n.pendingCount());
  }

  @Test
  @DisplayName("changes the database did not take are kept for the next save, newest state winning")
  void notStored() {
    Notifier n = notifier();
    n.accept(transition("default", "r1", "eu", "firing"));
    clock.advance(1_000);
    Delivery d = n.tick().get(0);
    List<Delivery> batch = n.takeChanged();
    n.attempted(d.id(), 200, null);
    n.notStored(batch);
    assertEquals(1, n.unstored());
    assertEquals(Delivery.State.DELIVERED, n.takeChanged().get(0).state());
  }

  @Test
  @DisplayName("a test notification is in flight at once, for a disabled webhook too; unknown webhook: null")
  void testNotification() {
    Notifier n = notifier();
    n.webhooks(List.of(hook("default", "w1", "{}", false)));
    Delivery t = n.test("default", "w1");
    assertNotNull(t);
    assertEquals("test", new JsonObject(t.body()).getString("type"));
    assertEquals(Delivery.State.DELIVERED, n.attempted(t.id(), 200, null).state());
    assertNull(n.test("default", "nope"));
    assertNull(n.test("other", "w1"), "another tenant's id");
  }
}
