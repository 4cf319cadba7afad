package io.pulse.live;

import io.pulse.core.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one live connection (a WebSocket or an SSE response) holds, and when it is too slow. One
 * per connection, on its event loop; not thread-safe. The adapter gives it a {@link Socket} and
 * feeds it events; time comes from the {@link Clock}.
 *
 * <p>A subscriber that cannot keep up is bounded: while the socket's write queue is full, running
 * updates wait in a map keyed by series (a newer one replaces the older: coalesced), and final
 * rollups in a queue of at most {@link Limits#maxPendingFinals}. Past that, or after {@link
 * Limits#slowClientTimeoutMs} without progress, the connection is closed as a slow consumer: what
 * it still held is counted as dropped.
 *
 * <p>Replies to a client's ops (subscribed, unsubscribed, pong, error) go out in the order of the
 * ops: a subscribe's place is kept ({@link #reserve}) until its answer comes, and replies after it
 * wait. At most {@link Limits#maxPendingReplies} replies wait while the socket does not take them
 * (then close 1008). One since= history is read and sent at a time per connection, and at most
 * {@link Limits#maxHeld} live messages wait behind it.
 */
public final class Outbox {

  /** What the outbox writes to: the adapter's socket. */
  public interface Socket {

    /** Whether the socket's write queue is full (a drain is coming). */
    boolean writeQueueFull();

    /** Writes a feed message of subscription {@code s}, in the socket's form. */
    void write(LiveSubscription s, LiveMessage m);

    /** Writes a reply to an op, as the adapter made it. */
    void writeReply(String text);

    /** Closes the socket: {@code slow} when it is dropped as a slow consumer (nothing more is written). */
    void shut(int code, String reason, boolean slow);
  }

  /** What the outbox tells its owner (the hub) and counts; every method may do nothing. */
  public interface Events {

    /** A subscription ended (unsubscribed or its connection went): the hub stops feeding it. */
    default void released(LiveSubscription s) {
    }

    /** Read the history of {@code s} and hand it to {@link Outbox#history}; one at a time per outbox. */
    default void readHistory(LiveSubscription s) {
    }

    /** The connection is closed and forgotten. */
    default void closed(Outbox o) {
    }

    /** A live rollup was written to the socket (not a replay or history). */
    default void pushed(LiveMessage m) {
    }

    /** A waiting running update was replaced by a newer one, or by its window's final. */
    default void coalesced() {
    }

    /** Messages never delivered: the connection was closed as a slow consumer. */
    default void dropped(int messages) {
    }

    default void slowClosed() {
    }

    /** Replies waiting for the socket changed by {@code delta}. */
    default void repliesQueued(int delta) {
    }
  }

  /**
   * @param maxPendingFinals finals waiting for a socket that does not take them (then it is closed)
   * @param slowClientTimeoutMs how long a socket may take nothing while something waits
   * @param maxPendingReplies replies waiting for a socket that does not take them (then it is closed)
   * @param maxHeld live messages held behind a history, over all of a connection's subscriptions
   */
  public record Limits(int maxPendingFinals, long slowClientTimeoutMs, int maxPendingReplies, int maxHeld) {

    /** Live messages held behind one connection's history: enough for thousands of series over a few seconds. */
    public static final int MAX_HELD = 50_000;
  }

  /** A reply's place among the replies of a connection; its text is null until the answer comes. */
  public static final class Reply {
    String text;
  }

  private record Pending(LiveSubscription sub, LiveMessage message) {
  }

  private final Socket socket;
  private final Events events;
  private final Clock clock;
  private final Limits limits;
  private final Map<String, LiveSubscription> subs = new LinkedHashMap<>();
  /** Subscribe ops whose answer is on its way, and the view each asked for (counted against a stream's share). */
  private final Map<String, String> pending = new LinkedHashMap<>();
  /** Subscriptions unsubscribed while their subscribe was still on its way. */
  private final Set<String> cancelled = new HashSet<>();
  private final ArrayDeque<Pending> finals = new ArrayDeque<>();
  private final Map<String, Pending> running = new LinkedHashMap<>();
  private final ArrayDeque<Reply> replies = new ArrayDeque<>();
  /** Replies in {@link #replies} with their text: what counts against the bound. */
  private int readyReplies;
  /** History windows of subscriptions with since=, written as the connection can take them. */
  private final ArrayDeque<Pending> backfill = new ArrayDeque<>();
  /** since= subscriptions whose history is still to be read, one at a time; and the one being read or sent. */
  private final ArrayDeque<LiveSubscription> backfillQueue = new ArrayDeque<>();
  private LiveSubscription backfilling;
  /** Live messages held behind history, over all of this connection's subscriptions. */
  private int heldTotal;
  private long stalledSince;
  private boolean closed;
  /** Set while replaying a resume or sending history: those writes are not live pushes. */
  private boolean replaying;

  public Outbox(Socket socket, Events events, Clock clock, Limits limits) {
    this.socket = socket;
    this.events = events;
    this.clock = clock;
    this.limits = limits;
  }

  public boolean isClosed() {
    return closed;
  }

  // ---- subscriptions ----

  /** Whether {@code id} names a subscription of this connection, made or on its way. */
  public boolean inUse(String id) {
    return subs.containsKey(id) || pending.containsKey(id);
  }

  /** Subscriptions made or on their way. */
  public int subscriptions() {
    return subs.size() + pending.size();
  }

  public LiveSubscription subscription(String id) {
    return subs.get(id);
  }

  /**
   * Distinct views whose spec starts with {@code prefix} (one stream's) that this connection
   * watches or is subscribing to, other than {@code view} itself.
   */
  public int viewsOf(String prefix, String view) {
    Set<String> distinct = new HashSet<>();
    for (LiveSubscription s : subs.values()) {
      if (s.viewSpec != null) {
        distinct.add(s.viewSpec);
      }
    }
    for (String v : pending.values()) {
      if (v != null) {
        distinct.add(v);
      }
    }
    distinct.removeIf(v -> !v.startsWith(prefix));
    distinct.remove(view);
    return distinct.size();
  }

  /**
   * A subscribe op is on its way ({@code viewSpec} may be null): its reply's place, filled by
   * {@link #answer} when the answer comes, after {@link #answered}.
   */
  public Reply subscribing(String id, String viewSpec) {
    pending.put(id, viewSpec);
    return reserve();
  }

  /**
   * The answer to subscribe {@code id} came: true when it was unsubscribed meanwhile (then it is
   * not to be made; its reply still goes out, before the "unsubscribed" that followed it).
   */
  public boolean answered(String id) {
    if (cancelled.remove(id)) {
      return true;
    }
    pending.remove(id);
    return false;
  }

  /**
   * Makes the subscription the answer described: it is fed from now on. {@code start} says where
   * its history starts, if anywhere.
   */
  public LiveSubscription subscribe(String id, int viewId, SubscriptionSpec spec, String viewSpec, long seq,
      BackfillPlan.Start start) {
    LiveSubscription s = new LiveSubscription(id, this, viewId, spec, viewSpec, seq, start);
    subs.put(id, s);
    return s;
  }

  /**
   * After its "subscribed" reply: the messages a resume replays, then, with a history to read,
   * its live messages wait behind it. One history at a time per connection, so that what a
   * connection holds of history is one subscription's.
   */
  public void started(LiveSubscription s, List<LiveMessage> replay) {
    boolean was = replaying;
    replaying = true;
    for (LiveMessage m : replay) {
      offer(s, m);
    }
    replaying = was;
    if (!closed && s.history()) {
      s.held = new LinkedHashMap<>();
      backfillQueue.add(s);
      if (backfilling == null) {
        nextBackfill();
      }
    }
  }

  /**
   * An unsubscribe op: false when there is no such subscription. One on its way is ended when its
   * answer comes.
   */
  public boolean unsubscribe(String id) {
    LiveSubscription s = subs.get(id);
    if (s == null) {
      if (!pending.containsKey(id)) {
        return false;
      }
      pending.remove(id);
      cancelled.add(id);
      return true;
    }
    remove(s);
    if (backfill.removeIf(p -> p.sub == s) && backfilling == s) {
      nextBackfill(); // its history was waiting to be sent: the next one's turn
    }
    finals.removeIf(p -> p.sub == s);
    running.values().removeIf(p -> p.sub == s);
    return true;
  }

  private void remove(LiveSubscription s) {
    if (s.held != null) {
      heldTotal -= s.held.size();
      s.held = null;
    }
    if (subs.remove(s.id) != null) {
      events.released(s);
    }
  }

  // ---- the live feed ----

  /** A message of the subscription's view: written, queued, held behind its history or skipped. */
  public void deliver(LiveSubscription s, LiveMessage m) {
    if (m.rollup() != null && m.rollup().start() < s.liveFrom) {
      return; // a window its history covers (since=)
    }
    if (s.held != null) {
      hold(s, m); // its history is still being sent: live messages wait behind it
    } else {
      offer(s, m);
    }
  }

  private void offer(LiveSubscription s, LiveMessage m) {
    if (closed) {
      return;
    }
    if (finals.isEmpty() && running.isEmpty() && !repliesBlocked() && !socket.writeQueueFull()) {
      send(s, m);
      return;
    }
    if (stalledSince == 0) {
      stalledSince = clock.millis();
    }
    if (m.fin()) {
      // the final figures supersede any running update of the same window still waiting
      if (running.remove(key(s, m)) != null) {
        events.coalesced();
      }
      finals.add(new Pending(s, m));
      if (finals.size() > limits.maxPendingFinals()) {
        closeSlow("slow consumer: more than " + limits.maxPendingFinals() + " final rollups waiting");
        return;
      }
    } else if (running.put(key(s, m), new Pending(s, m)) != null) {
      events.coalesced();
    }
    drain();
  }

  private static String key(LiveSubscription s, LiveMessage m) {
    return s.id + '\u0000' + m.viewId() + '\u0000' + m.seriesKey();
  }

  private void hold(LiveSubscription s, LiveMessage m) {
    int before = s.held.size();
    String key = m.fin() ? m.seriesKey() + "#" + m.seq() + "#" + before : m.seriesKey() + "#running";
    if (!m.fin()) {
      s.held.remove(key); // the newest running update of a series goes after the finals held before it
    }
    s.held.put(key, m);
    heldTotal += s.held.size() - before;
    if (heldTotal > limits.maxHeld()) {
      closeSlow("slow consumer: more than " + limits.maxHeld() + " live messages waited behind the history");
    }
  }

  private void send(LiveSubscription s, LiveMessage m) {
    socket.write(s, m);
    if (m.rollup() != null && !replaying) {
      events.pushed(m);
    }
  }

  /** The socket can take more: writes what waits, replies first, then finals, then running updates, then history. */
  public void drain() {
    drainReplies();
    while (!socket.writeQueueFull() && !closed && !repliesBlocked()) {
      Pending p = finals.poll();
      if (p == null) {
        Iterator<Pending> it = running.values().iterator();
        if (!it.hasNext()) {
          break;
        }
        p = it.next();
        it.remove();
      }
      if (subs.get(p.sub.id) == p.sub) {
        send(p.sub, p.message);
      }
    }
    if (finals.isEmpty() && running.isEmpty() && !repliesBlocked()) {
      stalledSince = 0;
    }
    pumpBackfill();
  }

  // ---- replies ----

  /** The place of a reply that comes later; the replies after it wait for it. */
  public Reply reserve() {
    Reply r = new Reply();
    if (!closed) {
      replies.add(r);
    }
    return r;
  }

  /** A reply now: written if the socket takes it and no earlier reply waits, else queued (bounded). */
  public void reply(String text) {
    if (closed) {
      return;
    }
    if (replies.isEmpty() && !socket.writeQueueFull()) {
      socket.writeReply(text);
      return;
    }
    if (readyReplies >= limits.maxPendingReplies()) {
      closeSlow("slow consumer: more than " + limits.maxPendingReplies() + " replies waiting unread "
          + "(live.maxPendingReplies)");
      return;
    }
    Reply r = new Reply();
    r.text = text;
    replies.add(r);
    queued(1);
    if (stalledSince == 0 && socket.writeQueueFull()) {
      stalledSince = clock.millis();
    }
  }

  /** The answer for a place {@link #reserve}d earlier; it and the replies behind it go out as the socket takes them. */
  public void answer(Reply place, String text) {
    if (closed || place.text != null) {
      return;
    }
    place.text = text;
    queued(1);
    drainReplies();
    if (stalledSince == 0 && repliesBlocked()) {
      stalledSince = clock.millis(); // the socket took not all of it
    }
  }

  private void queued(int delta) {
    readyReplies += delta;
    events.repliesQueued(delta);
  }

  /** Whether a reply is ready and waits for the socket: feed messages wait behind it. */
  private boolean repliesBlocked() {
    Reply head = replies.peek();
    return head != null && head.text != null;
  }

  /** Whether nothing at all waits to be written: a heartbeat would go now. */
  public boolean idle() {
    return replies.isEmpty() && !socket.writeQueueFull();
  }

  private void drainReplies() {
    Reply head;
    while ((head = replies.peek()) != null && head.text != null && !socket.writeQueueFull() && !closed) {
      replies.poll();
      queued(-1);
      socket.writeReply(head.text);
    }
  }

  private void dropReplies() {
    queued(-readyReplies);
    replies.clear();
  }

  // ---- since= history ----

  /** Starts the history of the next since= subscription still subscribed, if any. */
  private void nextBackfill() {
    backfilling = null;
    LiveSubscription s;
    while (!closed && (s = backfillQueue.poll()) != null) {
      if (subs.get(s.id) == s) {
        backfilling = s;
        events.readHistory(s);
        return;
      }
    }
  }

  /**
   * The history of {@code s} is being read by {@code plan}: from now on its live feed skips the
   * windows storage sends.
   */
  public void reading(LiveSubscription s, BackfillPlan plan) {
    s.liveFrom = plan.liveFrom();
  }

  /**
   * The history of {@code s} was read: its stored windows, oldest first, and {@code done}, the
   * "history" message that ends it. They are written as the socket takes them, then what its live
   * feed held (but for windows the history had); then the next subscription's history is read.
   */
  public void history(LiveSubscription s, List<LiveMessage> windows, String done) {
    if (closed || subs.get(s.id) != s) {
      if (!closed) {
        nextBackfill();
      }
      return;
    }
    for (LiveMessage m : windows) {
      backfill.add(new Pending(s, m));
    }
    backfill.add(new Pending(s, new LiveMessage(s.viewId, "", true, s.seq, "history", done, null)));
    pumpBackfill();
  }

  /** No history can be read for {@code s} (its view went): what it held goes out now, and the next one's turn. */
  public void noHistory(LiveSubscription s) {
    if (closed) {
      return;
    }
    if (subs.get(s.id) == s) {
      releaseHeld(s);
    }
    nextBackfill();
  }

  /** Writes history while the socket takes it; after a subscription's last window, releases its held live feed. */
  private void pumpBackfill() {
    boolean was = replaying;
    replaying = true;
    while (!backfill.isEmpty() && !socket.writeQueueFull() && !closed) {
      Pending p = backfill.poll();
      boolean last = "history".equals(p.message.type());
      if (subs.get(p.sub.id) == p.sub) {
        socket.write(p.sub, p.message);
        if (last) {
          replaying = was;
          releaseHeld(p.sub);
          replaying = true;
        }
      }
      if (last && backfilling == p.sub) {
        nextBackfill();
      }
    }
    replaying = was;
  }

  /** After its history: the live messages a subscription held go out, but for windows its history had. */
  private void releaseHeld(LiveSubscription s) {
    LinkedHashMap<String, LiveMessage> held = s.held;
    s.held = null;
    if (held == null) {
      return;
    }
    heldTotal -= held.size();
    for (LiveMessage m : held.values()) {
      if (m.rollup() == null || m.rollup().start() >= s.liveFrom) {
        offer(s, m);
      }
    }
  }

  // ---- slow clients and closing ----

  /** Closes the connection as a slow consumer when nothing could be written for longer than the limit. */
  public void checkStalled() {
    long now = clock.millis();
    if (!closed && stalledSince > 0 && now - stalledSince > limits.slowClientTimeoutMs()) {
      closeSlow("slow consumer: nothing could be written for " + (now - stalledSince) + " ms");
    }
  }

  /** Since when something has waited for the socket (0: nothing waits). */
  public long stalledSince() {
    return stalledSince;
  }

  /** Messages waiting for the socket: finals and running updates. */
  public int waiting() {
    return finals.size() + running.size();
  }

  /** Live messages held behind histories. */
  public int held() {
    return heldTotal;
  }

  private void closeSlow(String reason) {
    if (closed) {
      return;
    }
    events.slowClosed();
    events.dropped(finals.size() + running.size());
    dropReplies();
    close(1008, reason, true);
  }

  /** Closes the connection: what waits is written first if the socket takes it, then the socket is shut. */
  public void close(int code, String reason) {
    close(code, reason, false);
  }

  private void close(int code, String reason, boolean slow) {
    if (closed) {
      return;
    }
    if (!slow) {
      drain();
    }
    finals.clear();
    running.clear();
    backfill.clear();
    closed();
    socket.shut(code, reason, slow);
  }

  /** The connection went (or is closing): its subscriptions are released. Safe to call more than once. */
  public void closed() {
    if (closed) {
      return;
    }
    closed = true;
    dropReplies();
    backfillQueue.clear();
    backfilling = null;
    for (LiveSubscription s : new ArrayList<>(subs.values())) {
      remove(s);
    }
    finals.clear();
    running.clear();
    backfill.clear();
    events.closed(this);
  }
}
