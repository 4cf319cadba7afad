package io.pulse.notify;

import io.pulse.config.PulseConfig;
import io.pulse.core.Clock;
import io.pulse.core.StreamId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * The webhook notification engine: alert transitions in, signed deliveries out, each one tracked
 * until it is delivered or marked failed. Nothing is dropped without a trace: every notification
 * made becomes a {@link Delivery} that ends {@code delivered} or {@code failed} with the reason,
 * stored ({@link #takeChanged}) and counted.
 *
 * <ul>
 *   <li>{@link #accept}: a transition with {@code notify:false} (silenced, flapping) is counted and
 *       not sent; otherwise it joins the group of its rule for every enabled webhook of its tenant
 *       that matches it ({@link Grouper}).</li>
 *   <li>{@link #tick}: groups whose wait is over become deliveries; deliveries due are handed out
 *       (at most {@code maxInFlight} at once), and those that can no longer be delivered are marked
 *       failed: past the give-up age, or their webhook deleted.</li>
 *   <li>{@link #attempted}: a 2xx answer delivers; anything else (another status, no answer) is
 *       retried after {@link Backoff} (exponential, full jitter, capped), unless the next attempt
 *       would come after {@code giveUpAfterMs} from the delivery's creation: then it is failed.</li>
 *   <li>Per tenant at most {@code maxPendingPerTenant} deliveries wait; a new one past that is
 *       stored as failed ("queue full") at once, so an outage of one tenant's receiver cannot grow
 *       memory without bound nor starve other tenants.</li>
 * </ul>
 * A disabled webhook gets no new notifications; its waiting deliveries wait (and fail at the
 * give-up age) until it is enabled again. Time and randomness are injected. Plain Java,
 * single-threaded (the notify verticle's event loop); the counters may be read from any thread.
 */
public final class Notifier {

  /** What became of one transition. */
  public enum Accepted { GROUPED, QUIET, UNMATCHED }

  /** Why a delivery was failed without being delivered (a metric tag: fixed values). */
  public enum FailReason {
    GAVE_UP("gave_up"), QUEUE_FULL("queue_full"), WEBHOOK_GONE("webhook_gone");

    public final String tag;

    FailReason(String tag) {
      this.tag = tag;
    }
  }

  /** How an attempt went (a metric tag). */
  public enum AttemptResult {
    OK("ok"), HTTP_ERROR("http_error"), UNREACHABLE("unreachable");

    public final String tag;

    AttemptResult(String tag) {
      this.tag = tag;
    }
  }

  private record Due(long at, String id) {
  }

  /** How often every pending delivery is looked at for give-up and deleted webhooks. */
  static final long SWEEP_EVERY_MS = 1_000;

  private final PulseConfig.Notify cfg;
  private final Clock clock;
  private final RandomGenerator random;
  private final Supplier<String> ids;
  private final Backoff backoff;
  private final Grouper grouper;
  private Map<String, Map<String, Webhook>> webhooks = Map.of();
  /** Deliveries not yet delivered or failed, in creation order. */
  private final Map<String, Delivery> pending = new LinkedHashMap<>();
  private final Map<String, Integer> pendingPerTenant = new HashMap<>();
  private final PriorityQueue<Due> queue = new PriorityQueue<>((a, b) -> Long.compare(a.at(), b.at()));
  private final Set<String> inFlight = new HashSet<>();
  /** Deliveries changed since the last {@link #takeChanged}, newest version of each. */
  private final Map<String, Delivery> changed = new LinkedHashMap<>();

  private final AtomicLong delivered = new AtomicLong();
  private final Map<FailReason, AtomicLong> failed = new HashMap<>();
  private final Map<AttemptResult, AtomicLong> attempts = new HashMap<>();
  private final Map<Accepted, AtomicLong> transitions = new HashMap<>();
  private long lastSweep = Long.MIN_VALUE / 2;
  private volatile int pendingCount;
  private volatile int unstored;
  private volatile long oldestPendingCreated = Long.MAX_VALUE;

  /**
   * @param ids new delivery ids (unique across restarts: random in production, a counter in tests)
   */
  public Notifier(PulseConfig.Notify cfg, Clock clock, RandomGenerator random, Supplier<String> ids) {
    this.cfg = cfg;
    this.clock = clock;
    this.random = random;
    this.ids = ids;
    this.backoff = new Backoff(cfg.backoffBaseMs(), cfg.backoffCapMs());
    this.grouper = new Grouper(cfg.groupWaitMs(), cfg.maxGroupSize());
    for (FailReason r : FailReason.values()) {
      failed.put(r, new AtomicLong());
    }
    for (AttemptResult r : AttemptResult.values()) {
      attempts.put(r, new AtomicLong());
    }
    for (Accepted a : Accepted.values()) {
      transitions.put(a, new AtomicLong());
    }
  }

  // ---- webhooks ----

  /** Replaces every tenant's webhooks (at start, and after any change through the API). */
  public void webhooks(Collection<Webhook> all) {
    Map<String, Map<String, Webhook>> next = new HashMap<>();
    for (Webhook w : all) {
      next.computeIfAbsent(w.tenant(), t -> new HashMap<>()).put(w.id(), w);
    }
    Map<String, Map<String, Webhook>> before = webhooks;
    webhooks = next;
    lastSweep = Long.MIN_VALUE / 2; // the next tick looks at every delivery: some webhooks may be gone
    long now = clock.millis();
    for (Delivery d : pending.values()) { // deliveries of a webhook enabled again are due now
      Webhook was = find(before, d.tenant(), d.webhook());
      Webhook is = webhook(d.tenant(), d.webhook());
      if (is != null && is.enabled() && (was == null || !was.enabled()) && !inFlight.contains(d.id())) {
        reschedule(d, now);
      }
    }
  }

  /** A tenant's webhook, or null. */
  public Webhook webhook(String tenant, String id) {
    return find(webhooks, tenant, id);
  }

  private static Webhook find(Map<String, Map<String, Webhook>> in, String tenant, String id) {
    Map<String, Webhook> t = in.get(tenant);
    return t == null ? null : t.get(id);
  }

  // ---- transitions in ----

  /** Takes one alert transition as published on the bus. */
  public Accepted accept(JsonObject transition) {
    long now = clock.millis();
    Accepted a = Accepted.UNMATCHED;
    if (Boolean.FALSE.equals(transition.getValue("notify"))) {
      a = Accepted.QUIET;
    } else {
      String tenant = transition.getString("tenant", StreamId.DEFAULT_TENANT);
      Map<String, Webhook> hooks = webhooks.getOrDefault(tenant, Map.of());
      for (Webhook w : hooks.values()) {
        if (w.enabled() && w.matches(transition)) {
          a = Accepted.GROUPED;
          Grouper.Group full = grouper.add(tenant, w.id(), transition, now);
          if (full != null) {
            create(full, now);
          }
        }
      }
    }
    transitions.get(a).incrementAndGet();
    return a;
  }

  // ---- the clock's work ----

  /**
   * Closes the groups whose wait is over into deliveries, fails what can no longer be delivered,
   * and returns the deliveries to attempt now (in flight from here until {@link #attempted}).
   */
  public List<Delivery> tick() {
    long now = clock.millis();
    for (Grouper.Group g : grouper.due(now)) {
      create(g, now);
    }
    if (now - lastSweep >= SWEEP_EVERY_MS || now < lastSweep) {
      sweep(now);
    }
    List<Delivery> out = new ArrayList<>();
    while (!queue.isEmpty() && queue.peek().at() <= now && inFlight.size() < cfg.maxInFlight()) {
      Due due = queue.poll();
      Delivery d = pending.get(due.id());
      if (d == null || d.nextAttemptAt() != due.at() || inFlight.contains(d.id())) {
        continue; // delivered, failed or rescheduled since
      }
      Webhook w = webhook(d.tenant(), d.webhook());
      if (w == null) {
        fail(d, d.attempts(), d.lastStatus(), "the webhook was deleted", FailReason.WEBHOOK_GONE, now);
        continue;
      }
      if (!w.enabled()) {
        reschedule(d, now + cfg.backoffCapMs()); // looked at again then, or at once when enabled
        continue;
      }
      inFlight.add(d.id());
      out.add(d);
    }
    pendingCount = pending.size();
    unstored = changed.size();
    return out;
  }

  /**
   * Makes deliveries of every open group now, without waiting: a stop stores them (pending), and
   * the next start sends them.
   */
  public void closeGroups() {
    long now = clock.millis();
    for (Grouper.Group g : grouper.closeAll()) {
      create(g, now);
    }
    pendingCount = pending.size();
  }

  /**
   * Fails what can no longer be delivered (past the give-up age, webhook deleted) and notes the
   * oldest waiting delivery: a pass over every pending delivery, so once a second, not every tick.
   */
  private void sweep(long now) {
    lastSweep = now;
    long oldest = Long.MAX_VALUE;
    List<Delivery> gone = new ArrayList<>();
    for (Delivery d : pending.values()) {
      if (inFlight.contains(d.id())) {
        oldest = Math.min(oldest, d.createdAt());
      } else if (webhook(d.tenant(), d.webhook()) == null || now - d.createdAt() >= cfg.giveUpAfterMs()) {
        gone.add(d);
      } else {
        oldest = Math.min(oldest, d.createdAt());
      }
    }
    for (Delivery d : gone) {
      if (webhook(d.tenant(), d.webhook()) == null) {
        fail(d, d.attempts(), d.lastStatus(), "the webhook was deleted", FailReason.WEBHOOK_GONE, now);
      } else {
        fail(d, d.attempts(), d.lastStatus(), gaveUp(d, d.lastError(), now), FailReason.GAVE_UP, now);
      }
    }
    oldestPendingCreated = oldest;
  }

  /**
   * A signed test notification to a webhook (enabled or not), in flight at once: the caller sends
   * it now. Retried like any other if that attempt fails. Null when the tenant has no such webhook.
   */
  public Delivery test(String tenant, String webhookId) {
    Webhook w = webhook(tenant, webhookId);
    if (w == null) {
      return null;
    }
    long now = clock.millis();
    String id = ids.get();
    JsonObject body = new JsonObject().put("type", "test").put("delivery", id).put("webhook", w.id())
        .put("tenant", tenant).put("at", now).put("message", "a test notification from Pulse")
        .put("alerts", new JsonArray());
    Delivery d = add(new Delivery(tenant, id, w.id(), body.encode(), Delivery.State.PENDING, 0, null, null, now, now,
        now), now);
    if (d.pending()) {
      inFlight.add(d.id());
    }
    pendingCount = pending.size();
    return d;
  }

  /**
   * The outcome of an attempt: {@code status} the HTTP status answered (null: no answer, with
   * {@code error} saying why). Returns the delivery as it now is (null if it was not in flight).
   */
  public Delivery attempted(String id, Integer status, String error) {
    if (!inFlight.remove(id)) {
      return null;
    }
    Delivery d = pending.get(id);
    if (d == null) {
      return null;
    }
    long now = clock.millis();
    int n = d.attempts() + 1;
    Delivery next;
    if (status != null && status >= 200 && status < 300) {
      attempts.get(AttemptResult.OK).incrementAndGet();
      next = d.attempted(n, status, null, Delivery.State.DELIVERED, d.nextAttemptAt(), now);
      remove(d);
      delivered.incrementAndGet();
      changed.put(id, next);
    } else {
      attempts.get(status == null ? AttemptResult.UNREACHABLE : AttemptResult.HTTP_ERROR).incrementAndGet();
      String why = status == null ? (error == null ? "no answer" : error)
          : "HTTP " + status + (error == null || error.isEmpty() ? "" : ": " + error);
      long at = now + backoff.delay(n, random);
      if (at - d.createdAt() >= cfg.giveUpAfterMs()) {
        Delivery tried = d.attempted(n, status, why, Delivery.State.PENDING, at, now);
        next = fail(tried, n, status, gaveUp(tried, why, now), FailReason.GAVE_UP, now);
      } else {
        next = d.attempted(n, status, why, Delivery.State.PENDING, at, now);
        pending.put(id, next);
        queue.add(new Due(at, id));
        changed.put(id, next);
      }
    }
    pendingCount = pending.size();
    return next;
  }

  /** Pending deliveries as stored before a restart: they carry on where they were. */
  public void resume(Collection<Delivery> stored) {
    for (Delivery d : stored) {
      if (d.pending() && !pending.containsKey(d.id())) {
        pending.put(d.id(), d);
        pendingPerTenant.merge(d.tenant(), 1, Integer::sum);
        queue.add(new Due(d.nextAttemptAt(), d.id()));
      }
    }
    pendingCount = pending.size();
  }

  // ---- storage ----

  /** The deliveries changed since the last call (each in its newest state), to store; now forgotten here. */
  public List<Delivery> takeChanged() {
    List<Delivery> out = new ArrayList<>(changed.values());
    changed.clear();
    return out;
  }

  /** Deliveries {@link #takeChanged} gave that could not be stored: kept to be stored next time. */
  public void notStored(List<Delivery> rows) {
    for (Delivery d : rows) {
      changed.putIfAbsent(d.id(), d); // a newer state of it, if any, is the one to store
    }
    unstored = changed.size();
  }

  /** Changes waiting to be stored (as of the last tick or put back): grows while the database is away. */
  public int unstored() {
    return unstored;
  }

  // ---- figures, readable from any thread ----

  public int pendingCount() {
    return pendingCount;
  }

  /** How long the oldest waiting delivery has waited, ms (0 with none). */
  public long oldestPendingAgeMs(long now) {
    long oldest = oldestPendingCreated;
    return oldest == Long.MAX_VALUE ? 0 : Math.max(0, now - oldest);
  }

  public long delivered() {
    return delivered.get();
  }

  public long failed(FailReason r) {
    return failed.get(r).get();
  }

  /** Deliveries failed for any reason. */
  public long failedTotal() {
    long sum = 0;
    for (AtomicLong n : failed.values()) {
      sum += n.get();
    }
    return sum;
  }

  public long attempts(AttemptResult r) {
    return attempts.get(r).get();
  }

  public long transitions(Accepted a) {
    return transitions.get(a).get();
  }

  /** Transitions waiting for their group to go out. */
  public int grouped() {
    return grouper.waiting();
  }

  // ---- inside ----

  private void create(Grouper.Group g, long now) {
    String id = ids.get();
    JsonArray alerts = new JsonArray();
    for (JsonObject a : g.alerts()) {
      JsonObject copy = a.copy();
      copy.remove("notify");
      copy.remove("tenant");
      alerts.add(copy);
    }
    JsonObject body = new JsonObject().put("type", "notification").put("delivery", id).put("webhook", g.webhook())
        .put("tenant", g.tenant()).put("rule", g.rule()).put("ruleName", g.ruleName()).put("at", now)
        .put("alerts", alerts);
    add(new Delivery(g.tenant(), id, g.webhook(), body.encode(), Delivery.State.PENDING, 0, null, null, now, now, now),
        now);
  }

  /** Queues a new delivery, or stores it as failed when its tenant's queue is full. */
  private Delivery add(Delivery d, long now) {
    int held = pendingPerTenant.getOrDefault(d.tenant(), 0);
    if (held >= cfg.maxPendingPerTenant()) {
      failed.get(FailReason.QUEUE_FULL).incrementAndGet();
      Delivery f = d.attempted(0, null, "not sent: " + held + " deliveries of this tenant were already waiting "
          + "(notify.maxPendingPerTenant)", Delivery.State.FAILED, d.nextAttemptAt(), now);
      changed.put(f.id(), f);
      return f;
    }
    pending.put(d.id(), d);
    pendingPerTenant.merge(d.tenant(), 1, Integer::sum);
    queue.add(new Due(d.nextAttemptAt(), d.id()));
    changed.put(d.id(), d);
    oldestPendingCreated = Math.min(oldestPendingCreated, d.createdAt());
    return d;
  }

  private Delivery fail(Delivery d, int n, Integer status, String why, FailReason reason, long now) {
    Delivery f = d.attempted(n, status, why, Delivery.State.FAILED, d.nextAttemptAt(), now);
    remove(d);
    failed.get(reason).incrementAndGet();
    changed.put(f.id(), f);
    return f;
  }

  private void remove(Delivery d) {
    if (pending.remove(d.id()) != null) {
      pendingPerTenant.computeIfPresent(d.tenant(), (t, n) -> n <= 1 ? null : n - 1);
    }
    if (pending.isEmpty()) {
      oldestPendingCreated = Long.MAX_VALUE;
    }
  }

  private void reschedule(Delivery d, long at) {
    Delivery r = d.attempted(d.attempts(), d.lastStatus(), d.lastError(), Delivery.State.PENDING, at, d.updatedAt());
    pending.put(d.id(), r);
    queue.add(new Due(at, d.id()));
  }

  private String gaveUp(Delivery d, String last, long now) {
    Webhook w = webhook(d.tenant(), d.webhook());
    return "gave up after " + d.attempts() + " attempt" + (d.attempts() == 1 ? "" : "s") + " over "
        + (now - d.createdAt()) + " ms (notify.giveUpAfterMs " + cfg.giveUpAfterMs() + ")"
        + (w != null && !w.enabled() ? "; the webhook is disabled" : "") + (last == null ? "" : "; last: " + last);
  }
}
