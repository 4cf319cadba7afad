package io.pulse.live;

import io.pulse.core.StreamId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.ManualClock;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The since= plan: which windows come from storage, where the live feed takes over, and what wins over since=. */
class BackfillPlanTest {

  private static final long W = 1000;
  private static final long LATE = 100;

  private static SubscriptionSpec.Since since(Object v) {
    return SubscriptionSpec.fromJson(StreamId.DEFAULT_TENANT, new JsonObject().put("stream", "s").put("since", v)).since();
  }

  @Test
  @DisplayName("storage has every window closed by all shards (end + lateness passed); the live feed the rest")
  void boundary() {
    ManualClock clock = new ManualClock(1_700_000_010_250L);
    BackfillPlan p = BackfillPlan.of(1_700_000_007_500L, clock.millis(), W, LATE);
    assertEquals(1_700_000_007_000L, p.from(), "from the window that holds since");
    assertEquals(1_700_000_010_000L, p.until(), "10 150 is past lateness: windows before 10 000 are closed");
    assertEquals(p.until(), p.liveFrom());
    assertTrue(p.readsStorage());
    clock.set(1_700_000_010_050L); // within the lateness of window 9 000: it comes live
    assertEquals(1_700_000_009_000L, BackfillPlan.of(1_700_000_007_500L, clock.millis(), W, LATE).until());
  }

  @Test
  @DisplayName("a since= inside the open windows reads nothing from storage")
  void nothingStored() {
    long now = 1_700_000_010_250L;
    BackfillPlan p = BackfillPlan.of(now - 50, now, W, LATE);
    assertEquals(p.until(), p.from());
    assertFalse(p.readsStorage());
  }

  @Test
  @DisplayName("a window named by Last-Event-ID wins over since=; a resume from the log or a reset ignores since=")
  void precedence() {
    long now = 1_700_000_000_000L;
    BackfillPlan.Start fresh = BackfillPlan.Start.of(since("15m"), null, null, true, now);
    assertEquals(now - 15 * 60_000, fresh.since());
    assertTrue(fresh.history());
    assertFalse(fresh.resumed());
    assertNull(fresh.warning(true));

    BackfillPlan.Start fromId = BackfillPlan.Start.of(since("15m"), "old-4~1699999990000", 1_699_999_990_000L, true,
        now);
    assertEquals(1_699_999_990_000L, fromId.since());
    assertTrue(fromId.history());

    BackfillPlan.Start resumed = BackfillPlan.Start.of(since("15m"), "boot-4", null, true, now);
    assertTrue(resumed.resumed());
    assertFalse(resumed.history(), "the resume log (or a reset) picks up, not storage");
    assertTrue(resumed.warning(true).contains("not used when resuming"), resumed.warning(true));

    BackfillPlan.Start blank = BackfillPlan.Start.of(since("15m"), " ", null, true, now);
    assertFalse(blank.resumed(), "a blank Last-Event-ID is none");

    BackfillPlan.Start off = BackfillPlan.Start.of(since(now - 1000), null, null, false, now);
    assertFalse(off.history());
    assertTrue(off.warning(false).contains("storage is off"), off.warning(false));

    assertEquals(BackfillPlan.Start.FRESH, BackfillPlan.Start.of(null, null, null, true, now));
  }

  @Test
  @DisplayName("the history message says the range and count, then why it may be short")
  void done() {
    BackfillPlan p = new BackfillPlan(1000, 5000);
    JsonObject ok = new JsonObject(p.done(4, false, null, null, "s"));
    assertEquals(Map.of("type", "history", "since", 1000, "until", 5000, "windows", 4), ok.getMap());
    JsonObject behind = new JsonObject(p.done(4, false, null, BackfillPlan.STORAGE_BEHIND, "s"));
    assertEquals(BackfillPlan.STORAGE_BEHIND, behind.getString("warning"));
    JsonObject failed = new JsonObject(p.done(0, false, "timeout", null, "s"));
    assertEquals("history could not be read: timeout", failed.getString("error"));
    JsonObject cut = new JsonObject(p.done(BackfillPlan.MAX_HISTORY_WINDOWS, true, null, null, "s"));
    assertTrue(cut.getBoolean("truncated"));
    assertTrue(cut.getString("warning").contains("/api/v1/streams/s/series"), cut.encode());
  }

  @Test
  @DisplayName("no stored rows: no history windows")
  void noRows() {
    LiveFixture f = new LiveFixture();
    Outbox o = new Outbox(f, f, new ManualClock(0), new Outbox.Limits(10, 1000, 10, 100));
    LiveSubscription s = o.subscribe("h", f.view.id(), LiveFixture.spec(), null, 3, BackfillPlan.Start.FRESH);
    BackfillPlan.Windows w = new BackfillPlan(0, 5000).windows(s, f.view, List.of(), null, 128);
    assertTrue(w.messages().isEmpty());
    assertFalse(w.truncated());
  }
}
