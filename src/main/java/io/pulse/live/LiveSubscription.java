package io.pulse.live;

import java.util.LinkedHashMap;
import java.util.Set;

/** One subscription on a live connection, as its {@link Outbox} keeps it. */
public final class LiveSubscription {

  final String id;
  /** {@code "sub":"<id>",}, spliced into every message this subscription gets on a WebSocket. */
  final String subField;
  final Outbox outbox;
  final int viewId;
  final SubscriptionSpec spec;
  final Set<String> metrics;
  /** The view's spec ({@code View.spec}), counted against a connection's share of one stream; may be null. */
  final String viewSpec;
  /** The view's sequence number when it subscribed: what its history messages carry as ids. */
  final long seq;
  /** Where its history starts (since=, or the window a Last-Event-ID named), or null. */
  final Long since;
  /** Whether it resumed with Last-Event-ID (which wins over since=). */
  final boolean resumed;
  /** Whether its history is read from storage before its live feed. */
  final boolean history;
  /** With since=, the first window the live feed delivers to it; earlier ones come from storage. */
  long liveFrom = Long.MIN_VALUE;
  /**
   * Live messages held while the subscription's history is being sent (null otherwise): finals
   * in order, running updates coalesced per series.
   */
  LinkedHashMap<String, LiveMessage> held;

  LiveSubscription(String id, Outbox outbox, int viewId, SubscriptionSpec spec, String viewSpec, long seq,
      BackfillPlan.Start start) {
    this.id = id;
    this.subField = LiveJson.subField(id);
    this.outbox = outbox;
    this.viewId = viewId;
    this.spec = spec;
    this.metrics = spec.metrics();
    this.viewSpec = viewSpec;
    this.seq = seq;
    this.since = start.since();
    this.resumed = start.resumed();
    this.history = start.history();
  }

  public String id() {
    return id;
  }

  public String subField() {
    return subField;
  }

  public Outbox outbox() {
    return outbox;
  }

  public int viewId() {
    return viewId;
  }

  public SubscriptionSpec spec() {
    return spec;
  }

  /** The value names it asked for, or null for all. */
  public Set<String> metrics() {
    return metrics;
  }

  public long seq() {
    return seq;
  }

  public Long since() {
    return since;
  }

  public boolean resumed() {
    return resumed;
  }

  public boolean history() {
    return history;
  }

  public long liveFrom() {
    return liveFrom;
  }

  /** Whether its live messages wait behind its history. */
  public boolean holding() {
    return held != null;
  }
}
