package io.pulse.live;

import io.pulse.core.StreamId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.agg.Rollup;
import io.pulse.agg.ValueStats;
import io.pulse.agg.View;
import io.pulse.agg.ViewRegistry;
import io.pulse.config.PulseConfig;
import io.pulse.core.ManualClock;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The live verticle's logic: numbering finals per view, and what a subscription's Last-Event-ID leads to. */
class SequencerTest {

  private static final String BOOT = "b00t";
  private static final long T0 = 1_700_000_000_000L;

  private final ManualClock clock = new ManualClock(T0);
  private final ViewRegistry views = new ViewRegistry(PulseConfig.of(new JsonObject()
      .put("aggregation", new JsonObject().put("window", "1s").put("maxViewsPerStream", 4)))); // 2 permanent, 2 on demand

  private View acquire(String dim, List<View> evicted) throws ViewRegistry.ViewException {
    return views.acquire(StreamId.of("s"), Map.of(), List.of(dim), evicted);
  }

  private static Rollup rollup(View v, long start, boolean fin) {
    return new Rollup(v, Dims.of("k", "a"), start, start + 1000, fin, 1, start, start, new String[0],
        new ValueStats.Summary[0]);
  }

  @Test
  @DisplayName("finals are numbered per view; a running update carries the number of the last final before it")
  void numbering() throws Exception {
    Sequencer q = new Sequencer(10, 200, BOOT, false);
    View v = acquire("k", new ArrayList<>());
    assertTrue(q.messages(List.of(rollup(v, T0, true))).isEmpty(), "nobody watches the view yet");
    SubscribeReply r = q.subscribe(v, List.of(), null);
    assertEquals(0, r.seq());
    assertFalse(r.reset());
    List<LiveMessage> out = q.messages(List.of(rollup(v, T0, true), rollup(v, T0 + 1000, true),
        rollup(v, T0 + 2000, false)));
    assertEquals(List.of(1L, 2L, 2L), out.stream().map(LiveMessage::seq).toList());
    assertTrue(out.get(0).fin());
    assertFalse(out.get(2).fin());
    assertEquals(T0 + 2000 - 1000, out.get(2).at(), "a resume from storage starts at the oldest window still open");
    assertEquals(T0, out.get(0).at());
  }

  @Test
  @DisplayName("Last-Event-ID of this run: the finals after it; too old or another run: a reset; storage on: its window")
  void resume() throws Exception {
    Sequencer q = new Sequencer(3, 200, BOOT, false);
    View v = acquire("k", new ArrayList<>());
    q.subscribe(v, List.of(), null);
    List<LiveMessage> finals = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      finals.addAll(q.messages(List.of(rollup(v, T0 + i * 1000, true))));
    }
    SubscribeReply after3 = q.subscribe(v, List.of(), LiveId.of(BOOT, 3, 0, LiveMessage.NO_WINDOW));
    assertEquals(List.of(4L, 5L), after3.replay().stream().map(LiveMessage::seq).toList());
    assertEquals(5, after3.seq());
    SubscribeReply running = q.subscribe(v, List.of(), LiveId.of(BOOT, 4, 2, T0));
    assertEquals(List.of(5L), running.replay().stream().map(LiveMessage::seq).toList(), "after the final before it");
    assertTrue(q.subscribe(v, List.of(), LiveId.of(BOOT, 5, 0, T0)).replay().isEmpty(), "up to date");
    SubscribeReply old = q.subscribe(v, List.of(), LiveId.of(BOOT, 1, 0, T0));
    assertTrue(old.reset());
    assertTrue(old.resetReason().contains("no longer held"), old.resetReason());
    SubscribeReply other = q.subscribe(v, List.of(), "elsewhere-4~" + T0);
    assertTrue(other.reset());
    assertTrue(other.resetReason().contains("earlier server run"), other.resetReason());
    assertTrue(q.subscribe(v, List.of(), "<script>").reset(), "malformed");
    assertTrue(q.subscribe(v, List.of(), "b00t-99").reset(), "from a future this log never had");

    Sequencer stored = new Sequencer(3, 200, BOOT, true);
    stored.subscribe(v, List.of(), null);
    SubscribeReply fromWindow = stored.subscribe(v, List.of(), "elsewhere-4~" + T0);
    assertFalse(fromWindow.reset());
    assertEquals(T0, fromWindow.resumeFrom(), "storage replays from the window the id names");
    assertTrue(stored.subscribe(v, List.of(), "elsewhere-4").reset(), "no window named: a reset");
    assertNull(stored.subscribe(v, List.of(), "  ").resumeFrom(), "blank: a fresh subscription");
  }

  @Test
  @DisplayName("a view made again after it was evicted numbers above its earlier self: an old id resets")
  void evictedViewStartsAbove() throws Exception {
    Sequencer q = new Sequencer(10, 200, BOOT, false);
    View a = acquire("a", new ArrayList<>());
    q.subscribe(a, List.of(), null);
    q.messages(List.of(rollup(a, T0, true), rollup(a, T0 + 1000, true)));
    views.release(a, clock.millis());
    clock.advance(1);
    View b = acquire("b", new ArrayList<>());
    q.subscribe(b, List.of(), null);
    views.release(b, clock.millis());
    List<View> evicted = new ArrayList<>();
    View c = acquire("c", evicted); // at most 2 on-demand views: the one idle longest goes
    assertEquals(List.of(a), evicted);
    q.subscribe(c, evicted, null);
    assertEquals(2, q.views());
    View a2 = acquire("a", new ArrayList<>()); // a made again (b evicted now)
    SubscribeReply r = q.subscribe(a2, List.of(), LiveId.of(BOOT, 1, 0, LiveMessage.NO_WINDOW));
    assertTrue(r.reset(), "the earlier a's numbers are not this one's");
    assertTrue(r.seq() > 2, "its numbers start above every number given out (2): " + r.seq());
  }

  @Test
  @DisplayName("views nobody watched for the grace period go, with their resume logs")
  void retire() throws Exception {
    Sequencer q = new Sequencer(10, 200, BOOT, false);
    View v = acquire("k", new ArrayList<>());
    q.subscribe(v, List.of(), null);
    views.release(v, clock.millis());
    clock.advance(999);
    q.retire(views, clock.millis(), 1000);
    assertEquals(1, q.views());
    clock.advance(1);
    q.retire(views, clock.millis(), 1000);
    assertEquals(0, q.views());
    assertTrue(q.messages(List.of(rollup(v, T0, true))).isEmpty());
  }

  @Test
  @DisplayName("an alert goes to every watched view of its stream its series fits, numbered and resumable like a final")
  void alerts() throws Exception {
    Sequencer q = new Sequencer(10, 200, BOOT, false);
    View byK = acquire("k", new ArrayList<>());
    View onlyB = views.acquire(StreamId.of("s"), Map.of("k", java.util.Set.of("b")), List.of(), new ArrayList<>());
    View otherTenant = views.acquire(StreamId.of("acme", "s"), Map.of(), List.of(), new ArrayList<>());
    q.subscribe(byK, List.of(), null);
    q.subscribe(onlyB, List.of(), null);
    q.subscribe(otherTenant, List.of(), null);
    q.messages(List.of(rollup(byK, T0, true)));
    List<LiveMessage> out = q.alert(views.views(StreamId.of("s")), Dims.of("k", "a"), "a1",
        "{\"type\":\"alert\",\"id\":\"a1\"}");
    assertEquals(List.of(byK.id()), out.stream().map(LiveMessage::viewId).toList(),
        "the view filtered to k=b does not get k=a's alert, nor does another tenant's stream");
    assertEquals("alert", out.get(0).type());
    assertTrue(out.get(0).fin());
    assertEquals(2, out.get(0).seq(), "numbered after the final before it");
    List<LiveMessage> wide = q.alert(views.views(StreamId.of("s")), Dims.EMPTY, "a2", "{\"type\":\"alert\"}");
    assertEquals(2, wide.size(), "a stream-wide alert reaches the filtered view too");
    SubscribeReply resumed = q.subscribe(byK, List.of(), LiveId.of(BOOT, 1, 0, LiveMessage.NO_WINDOW));
    assertEquals(List.of("alert", "alert"), resumed.replay().stream().map(LiveMessage::type).toList());
  }
}
