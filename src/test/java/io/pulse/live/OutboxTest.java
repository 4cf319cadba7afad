package io.pulse.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pulse.core.ManualClock;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A live connection's outbox, driven by hand: a fake socket whose write queue fills when told, a manual clock. */
class OutboxTest {

  private static final long T0 = 1_700_000_000_000L;
  private static final long W = LiveFixture.W;

  private final LiveFixture f = new LiveFixture();
  private final ManualClock clock = new ManualClock(T0);

  private Outbox outbox(int maxFinals, long stallMs, int maxReplies, int maxHeld) {
    return new Outbox(f, f, clock, new Outbox.Limits(maxFinals, stallMs, maxReplies, maxHeld));
  }

  private Outbox outbox() {
    return outbox(100, 1000, 10, 1000);
  }

  private static LiveSubscription sub(Outbox o, String id) {
    return o.subscribe(id, 1, LiveFixture.spec(), "s|k", 0, BackfillPlan.Start.FRESH);
  }

  private static LiveSubscription since(Outbox o, String id, long since) {
    return o.subscribe(id, 1, LiveFixture.spec(), "s|k", 7, new BackfillPlan.Start(since, false, true));
  }

  @Test
  @DisplayName("a socket that takes everything gets each message at once; live rollups are timed, replays are not")
  void direct() {
    Outbox o = outbox();
    LiveSubscription s = sub(o, "a");
    o.deliver(s, f.rollup("x", T0, false, 0));
    o.started(s, List.of(f.rollup("y", T0 - W, true, 1)));
    assertEquals(2, f.out.size());
    assertEquals(1, f.pushed, "the replayed final is not a live push");
    assertEquals(0, o.stalledSince());
  }

  @Test
  @DisplayName("while the socket is full, running updates coalesce per series and finals queue in order; finals go first")
  void coalescing() {
    Outbox o = outbox();
    LiveSubscription s = sub(o, "a");
    f.full = true;
    o.deliver(s, f.rollup("x", T0, false, 0));
    o.deliver(s, f.rollup("y", T0, false, 0));
    o.deliver(s, f.rollup("x", T0, false, 0)); // replaces the first x
    o.deliver(s, f.rollup("z", T0 - W, true, 1));
    o.deliver(s, f.rollup("y", T0 - W, true, 2)); // supersedes y's running update
    o.deliver(s, f.rollup("w", T0 - W, true, 3));
    assertTrue(f.out.isEmpty());
    assertEquals(2, f.coalesced);
    assertEquals(4, o.waiting(), "three finals, one running update");
    assertEquals(T0, o.stalledSince());
    f.full = false;
    o.drain();
    assertEquals(List.of("z", "y", "w", "x"), f.out.stream().map(OutboxTest::series).toList());
    assertEquals(0, o.stalledSince(), "nothing waits: not stalled");
  }

  @Test
  @DisplayName("a drain writes only while the socket takes it; the rest waits in order")
  void partialDrain() {
    Outbox.Socket one = new Outbox.Socket() {
      @Override
      public boolean writeQueueFull() {
        return f.out.size() >= 1; // takes one message, then is full again
      }

      @Override
      public void write(LiveSubscription sub, LiveMessage m) {
        f.write(sub, m);
      }

      @Override
      public void writeReply(String text) {
        f.writeReply(text);
      }

      @Override
      public void shut(int code, String reason, boolean slow) {
        f.shut(code, reason, slow);
      }
    };
    Outbox o2 = new Outbox(one, f, clock, new Outbox.Limits(100, 1000, 10, 1000));
    LiveSubscription s2 = sub(o2, "b");
    f.full = true;
    for (int i = 1; i <= 3; i++) {
      o2.deliver(s2, f.rollup("k" + i, T0, true, i));
    }
    o2.drain();
    assertEquals(List.of("k1"), f.out.stream().map(OutboxTest::series).toList());
    assertEquals(2, o2.waiting());
  }

  @Test
  @DisplayName("past live.maxPendingFinals the connection is closed as slow: 1008, what it held counted as dropped")
  void finalsBound() {
    Outbox o = outbox(3, 60_000, 10, 1000);
    LiveSubscription a = sub(o, "a");
    LiveSubscription b = sub(o, "b");
    f.full = true;
    o.deliver(a, f.rollup("x", T0, false, 0));
    o.deliver(b, f.rollup("y", T0, false, 0));
    o.reply("{\"type\":\"pong\"}");
    for (int i = 1; i <= 3; i++) {
      o.deliver(a, f.rollup("f" + i, T0 - W, true, i));
    }
    assertFalse(o.isClosed(), "exactly the bound is held");
    assertEquals(1, f.repliesQueued);
    o.deliver(b, f.rollup("f4", T0 - W, true, 4));
    assertTrue(o.isClosed());
    assertEquals(1, f.slowClosed);
    assertEquals(6, f.dropped, "four finals and two running updates never delivered");
    assertEquals(0, f.repliesQueued, "the held reply is let go");
    assertEquals(1008, f.shutCode);
    assertTrue(f.shutSlow);
    assertTrue(f.shutReason.startsWith("slow consumer: more than 3 final rollups"), f.shutReason);
    assertEquals(List.of(a, b), f.released, "both subscriptions released");
    assertEquals(1, f.closed);
    f.full = false;
    o.deliver(a, f.rollup("late", T0, true, 5));
    o.drain();
    assertTrue(f.out.isEmpty(), "nothing is written after the close: " + f.out);
  }

  @Test
  @DisplayName("nothing written for longer than live.slowClientTimeoutMs: closed as slow; progress resets the clock")
  void stallTimeout() {
    Outbox o = outbox(100, 1000, 10, 1000);
    LiveSubscription s = sub(o, "a");
    f.full = true;
    o.deliver(s, f.rollup("x", T0, false, 0));
    clock.advance(1000);
    o.checkStalled();
    assertFalse(o.isClosed(), "exactly the timeout is allowed");
    f.full = false;
    o.drain(); // progress: everything written
    assertEquals(0, o.stalledSince());
    f.full = true;
    o.deliver(s, f.rollup("x", T0, false, 0));
    assertEquals(T0 + 1000, o.stalledSince(), "stalled from the new wait on");
    clock.advance(1000);
    o.checkStalled();
    assertFalse(o.isClosed());
    clock.advance(1);
    o.checkStalled();
    assertTrue(o.isClosed());
    assertEquals(1008, f.shutCode);
    assertEquals("slow consumer: nothing could be written for 1001 ms", f.shutReason);
    assertEquals(1, f.dropped);
    assertEquals(1, f.slowClosed);
  }

  @Test
  @DisplayName("replies wait for a full socket up to live.maxPendingReplies, then the socket is closed as slow")
  void repliesBound() {
    Outbox o = outbox(100, 60_000, 2, 1000);
    o.reply("r1");
    assertEquals(List.of("reply:r1"), f.out);
    f.full = true;
    o.reply("r2");
    o.reply("r3");
    assertEquals(2, f.repliesQueued);
    assertFalse(o.isClosed());
    o.reply("r4");
    assertTrue(o.isClosed());
    assertEquals(1008, f.shutCode);
    assertTrue(f.shutReason.contains("live.maxPendingReplies"), f.shutReason);
    assertEquals(0, f.repliesQueued, "nothing is held for a closed socket");
  }

  @Test
  @DisplayName("replies go out in the order of the ops: a pending subscribe keeps its place, feed messages do not wait for it")
  void replyOrder() {
    Outbox o = outbox();
    LiveSubscription other = sub(o, "other");
    o.reply("pong");
    Outbox.Reply place = o.subscribing("q", "s|k");
    assertTrue(o.inUse("q"));
    assertTrue(o.unsubscribe("q"), "an unsubscribe of a subscription on its way is taken");
    assertFalse(o.inUse("q"));
    o.reply("unsubscribed q");
    o.reply("pong 2");
    o.deliver(other, f.rollup("x", T0, true, 1));
    assertEquals(List.of("reply:pong", "sub:other:" + f.rollup("x", T0, true, 1).json()), f.out,
        "the feed goes on; the replies after the subscribe wait for its answer");
    assertTrue(o.answered("q"), "it was unsubscribed meanwhile");
    o.answer(place, "subscribed q");
    assertEquals(List.of("reply:subscribed q", "reply:unsubscribed q", "reply:pong 2"), f.out.subList(2, 5));
    assertEquals(0, f.repliesQueued);
    assertFalse(o.answered("q"), "answered once");
  }

  @Test
  @DisplayName("a subscription on its way without a view spec (SSE) can be ended too; an unknown id cannot")
  void unsubscribePendingWithoutView() {
    Outbox o = outbox();
    Outbox.Reply place = o.subscribing("sse", null);
    assertFalse(o.unsubscribe("other"));
    assertTrue(o.unsubscribe("sse"));
    assertTrue(o.answered("sse"));
    o.answer(place, "subscribed");
    assertEquals(List.of("reply:subscribed"), f.out);
    assertEquals(0, f.repliesQueued);
  }

  @Test
  @DisplayName("unsubscribe: what waited for it is never written, and the others still get theirs")
  void unsubscribeWhilePending() {
    Outbox o = outbox();
    LiveSubscription a = sub(o, "a");
    LiveSubscription b = sub(o, "b");
    f.full = true;
    o.deliver(a, f.rollup("x", T0, true, 1));
    o.deliver(b, f.rollup("y", T0, true, 1));
    o.deliver(a, f.rollup("z", T0, false, 1));
    assertTrue(o.unsubscribe("a"));
    assertFalse(o.unsubscribe("a"), "gone");
    assertEquals(List.of(a), f.released);
    f.full = false;
    o.drain();
    assertEquals(List.of("sub:b:" + f.rollup("y", T0, true, 1).json()), f.out);
    assertEquals(0, o.stalledSince());
  }

  @Test
  @DisplayName("since=: live messages wait behind the history; what they held of windows the history had is skipped")
  void heldBehindHistory() {
    Outbox o = outbox();
    LiveSubscription s = since(o, "h", T0 - 10 * W);
    o.started(s, List.of());
    assertEquals(List.of(s), f.histories, "its history is read");
    assertTrue(s.holding());
    long until = T0 - W; // the plan's boundary: windows before it come from storage
    o.deliver(s, f.rollup("x", until - W, true, 5)); // a window the history has
    o.deliver(s, f.rollup("x", until, false, 5));
    o.deliver(s, f.rollup("x", until, true, 6));
    o.deliver(s, f.rollup("x", until + W, false, 6));
    o.deliver(s, f.rollup("x", until + W, false, 6)); // coalesced with the one before it
    assertTrue(f.out.isEmpty());
    assertEquals(3, o.held(), "two finals and the newest running update");
    o.reading(s, new BackfillPlan(T0 - 10 * W, until));
    o.deliver(s, f.rollup("y", until - W, true, 7)); // skipped at once now
    assertEquals(3, o.held());
    LiveMessage stored = new LiveMessage(1, "k=x", true, 7, "rollup", "{\"type\":\"rollup\",\"history\":true}", null,
        until - W);
    o.history(s, List.of(stored), "{\"type\":\"history\"}");
    assertEquals(List.of("sub:h:{\"type\":\"rollup\",\"history\":true}", "sub:h:{\"type\":\"history\"}",
        "sub:h:" + f.rollup("x", until, true, 6).json(), "sub:h:" + f.rollup("x", until + W, false, 6).json()),
        f.out, "history, its end, then the held finals of later windows, then the newest running update");
    assertEquals(0, o.held());
    assertFalse(s.holding());
    assertEquals(2, f.pushed, "the held live messages are timed as pushes, the history is not");
  }

  @Test
  @DisplayName("one history at a time per connection: the next is read when the one before is written")
  void oneHistoryAtATime() {
    Outbox o = outbox();
    LiveSubscription a = since(o, "a", T0 - 5 * W);
    LiveSubscription b = since(o, "b", T0 - 5 * W);
    o.started(a, List.of());
    o.started(b, List.of());
    assertEquals(List.of(a), f.histories);
    o.reading(a, new BackfillPlan(T0 - 5 * W, T0));
    f.full = true;
    o.history(a, List.of(), "{\"type\":\"history\",\"sub\":\"a\"}");
    assertEquals(List.of(a), f.histories, "a's history is not written yet");
    f.full = false;
    o.drain();
    assertEquals(List.of(a, b), f.histories);
    // b is unsubscribed while its history is read: the read's answer is dropped and nothing is held
    assertTrue(o.unsubscribe("b"));
    o.history(b, List.of(), "{\"type\":\"history\",\"sub\":\"b\"}");
    assertEquals(List.of("sub:a:{\"type\":\"history\",\"sub\":\"a\"}"), f.out);
    assertEquals(0, o.held());
  }

  @Test
  @DisplayName("a view gone before its history is read: what was held goes out at once, and the next history starts")
  void noHistory() {
    Outbox o = outbox();
    LiveSubscription a = since(o, "a", T0 - 5 * W);
    LiveSubscription b = since(o, "b", T0 - 5 * W);
    o.started(a, List.of());
    o.started(b, List.of());
    o.deliver(a, f.rollup("x", T0, true, 1));
    o.noHistory(a);
    assertEquals(List.of("sub:a:" + f.rollup("x", T0, true, 1).json()), f.out);
    assertEquals(List.of(a, b), f.histories);
  }

  @Test
  @DisplayName("more than the held bound behind a history: closed as slow")
  void heldBound() {
    Outbox o = outbox(100, 60_000, 10, 3);
    LiveSubscription s = since(o, "h", T0 - 5 * W);
    o.started(s, List.of());
    for (int i = 1; i <= 3; i++) {
      o.deliver(s, f.rollup("x", T0, true, i));
    }
    o.deliver(s, f.rollup("x", T0, false, 3)); // a running update held too
    assertTrue(o.isClosed());
    assertTrue(f.shutReason.contains("more than 3 live messages waited behind the history"), f.shutReason);
    assertEquals(1, f.slowClosed);
    assertEquals(0, o.held(), "nothing is held for a closed connection");
  }

  @Test
  @DisplayName("a close that is not for slowness writes what the socket takes first; the socket then goes once")
  void gracefulClose() {
    Outbox o = outbox();
    LiveSubscription s = sub(o, "a");
    f.full = true;
    o.deliver(s, f.rollup("x", T0, true, 1));
    f.full = false;
    o.close(1001, "server stopping");
    assertEquals(1, f.out.size());
    assertEquals(1001, f.shutCode);
    assertFalse(f.shutSlow);
    assertNull(o.subscription("a"));
    o.closed(); // the socket's close handler, after
    assertEquals(1, f.closed);
    assertEquals(1, f.released.size());
    assertEquals(0, f.dropped);
  }

  private static String series(String written) {
    int i = written.indexOf("\"k\":\"");
    return written.substring(i + 5, written.indexOf('"', i + 5));
  }
}
