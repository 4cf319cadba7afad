package io.pulse.live;

import io.pulse.core.StreamId;
import io.pulse.agg.Rollup;
import io.pulse.agg.ValueStats;
import io.pulse.agg.View;
import io.pulse.agg.ViewRegistry;
import io.pulse.config.PulseConfig;
import io.pulse.event.Dims;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A fake socket that records what an {@link Outbox} writes and reports, and rollups of a real view. */
final class LiveFixture implements Outbox.Socket, Outbox.Events {

  static final long W = 1000;

  /** Whether the socket's write queue is full. */
  boolean full;
  /** Everything written, in order: "sub:<id>:<json>" for feed messages, "reply:<text>" for replies. */
  final List<String> out = new ArrayList<>();
  Integer shutCode;
  String shutReason;
  boolean shutSlow;
  int coalesced;
  int dropped;
  int slowClosed;
  int repliesQueued;
  int pushed;
  int closed;
  final List<LiveSubscription> released = new ArrayList<>();
  final List<LiveSubscription> histories = new ArrayList<>();

  final View view;

  LiveFixture() {
    ViewRegistry views = new ViewRegistry(PulseConfig.of(new JsonObject().put("aggregation",
        new JsonObject().put("window", "1s"))));
    try {
      view = views.acquire(StreamId.of("s"), Map.of(), List.of("k"));
    } catch (ViewRegistry.ViewException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A rollup message of series {@code k=<series>} for the window starting at {@code start}. */
  LiveMessage rollup(String series, long start, boolean fin, long seq) {
    Rollup r = new Rollup(view, Dims.of("k", series), start, start + W, fin, 1, start, start, new String[0],
        new ValueStats.Summary[0]);
    return new LiveMessage(view.id(), "k=" + series, fin, seq, "rollup",
        "{\"type\":\"rollup\",\"k\":\"" + series + "\",\"start\":" + start + ",\"final\":" + fin + "}", r);
  }

  static SubscriptionSpec spec() {
    return SubscriptionSpec.fromJson(StreamId.DEFAULT_TENANT, new JsonObject().put("stream", "s").put("groupBy", "k"));
  }

  @Override
  public boolean writeQueueFull() {
    return full;
  }

  @Override
  public void write(LiveSubscription s, LiveMessage m) {
    out.add("sub:" + s.id() + ":" + m.json());
  }

  @Override
  public void writeReply(String text) {
    out.add("reply:" + text);
  }

  @Override
  public void shut(int code, String reason, boolean slow) {
    shutCode = code;
    shutReason = reason;
    shutSlow = slow;
  }

  @Override
  public void released(LiveSubscription s) {
    released.add(s);
  }

  @Override
  public void readHistory(LiveSubscription s) {
    histories.add(s);
  }

  @Override
  public void closed(Outbox o) {
    closed++;
  }

  @Override
  public void pushed(LiveMessage m) {
    pushed++;
  }

  @Override
  public void coalesced() {
    coalesced++;
  }

  @Override
  public void dropped(int messages) {
    dropped += messages;
  }

  @Override
  public void slowClosed() {
    slowClosed++;
  }

  @Override
  public void repliesQueued(int delta) {
    repliesQueued += delta;
  }
}
